import { memberOf } from './closed-set.ts';
import { EMERGENCY_REFUSAL_LABELS, EMERGENCY_REFUSALS } from './emergency.ts';
import { CONSENT_PROBLEM_LABELS } from './inquiry.ts';
import { READ_LIMIT_LABELS, READ_LIMIT_RULES } from './read-limits.ts';

/**
 * Why the firewall refused a read: the `refusal` of a refused access-log event, each named in words for the
 * access log screen and its exports (issue 20: no code on a screen without its label). The firewall's event
 * builder takes only these, so a new refusal cannot reach the log unnamed.
 */
export const ACCESS_REFUSALS = [
  'permission_not_granted',
  'not_found',
  'search_field_not_permitted',
  'read_failed',
  'reason_required',
  ...EMERGENCY_REFUSALS,
  ...READ_LIMIT_RULES,
  'consent_not_yet_given',
  'consent_expired',
  'consent_other_customer',
] as const;
export type AccessRefusal = (typeof ACCESS_REFUSALS)[number];
export const isAccessRefusal = memberOf(ACCESS_REFUSALS);

type Label = { readonly ja: string; readonly en: string };

/** Each from the place its rule is defined (emergency cover, read limits, consent), the firewall's own here. */
export const ACCESS_REFUSAL_LABELS: Readonly<Record<AccessRefusal, Label>> = {
  permission_not_granted: { ja: '照会の権限がありません', en: 'No permission to read' },
  not_found: { ja: '該当する供給地点がありません', en: 'No such supply point' },
  search_field_not_permitted: { ja: 'この利用目的では許されない項目による検索', en: 'A search by a field this purpose does not allow' },
  read_failed: { ja: '照会の処理に失敗しました', en: 'The read failed' },
  reason_required: { ja: '非常災害時の照会理由が未記入です', en: 'No reason given for an emergency read' },
  ...EMERGENCY_REFUSAL_LABELS,
  ...(Object.fromEntries(
    READ_LIMIT_RULES.map((r) => [r, { ja: `${READ_LIMIT_LABELS[r].ja}に達しました`, en: `Limit reached: ${READ_LIMIT_LABELS[r].en}` }]),
  ) as Record<(typeof READ_LIMIT_RULES)[number], Label>),
  consent_not_yet_given: CONSENT_PROBLEM_LABELS.not_yet_given,
  consent_expired: CONSENT_PROBLEM_LABELS.expired,
  consent_other_customer: CONSENT_PROBLEM_LABELS.other_customer,
};
