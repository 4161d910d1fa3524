import { memberOf } from './closed-set.ts';

/** Purposes of use a person declares before a look-up (利用目的). Logged with every read. */
export const PURPOSES = [
  'customer_inquiry',
  'outage_response',
  'network_construction',
  'meter_reading',
  'wheeling_billing',
  'switching_support',
  'own_customer_service',
  'emergency_support',
  'audit_review',
  'inquiry_answer',
] as const;
export type Purpose = (typeof PURPOSES)[number];

/** The purposes a person declares; `inquiry_answer` is the inquiry service's own, never declared (issue 18). */
export const DECLARABLE_PURPOSES = PURPOSES.filter((p): p is Exclude<Purpose, 'inquiry_answer'> => p !== 'inquiry_answer');
export const isPurpose = memberOf(PURPOSES);

export const PURPOSE_LABELS: Readonly<Record<Purpose, { ja: string; en: string }>> = {
  customer_inquiry: { ja: 'お客さま問い合わせ対応', en: 'Customer inquiry' },
  outage_response: { ja: '停電・故障対応', en: 'Outage response' },
  network_construction: { ja: '工事・設備対応', en: 'Network construction' },
  meter_reading: { ja: '検針・計量', en: 'Meter reading' },
  wheeling_billing: { ja: '託送料金・精算', en: 'Wheeling billing' },
  switching_support: { ja: 'スイッチング・再点対応', en: 'Switching support' },
  own_customer_service: { ja: '自社お客さま対応', en: 'Own customer service' },
  emergency_support: { ja: '非常災害時の支援', en: 'Emergency support' },
  audit_review: { ja: '監査・調査', en: 'Audit review' },
  inquiry_answer: { ja: '照会への回答', en: 'Inquiry answer' },
};
