import { memberOf } from './closed-set.ts';
import { SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS, type SupplyPointField } from './classification.ts';

/**
 * Inquiries to the network operator (照会): the lawful way for a retailer to learn a non-public item of a supply
 * point that is not its customer's (issue 18). What each kind of case may give is data — the case allowances
 * below, beside the classification manifest — and is the same for every retailer: the allowance depends on
 * the case, the item and the customer's consent, never on who asks (the law forbids treating the group's
 * retailer better than its rivals; `gridwall verify` enumerates it and checks that).
 */
export const CASE_TYPES = ['switching', 'move_in', 'construction', 'outage_contact', 'other'] as const;
export type CaseType = (typeof CASE_TYPES)[number];
export const isCaseType = memberOf(CASE_TYPES);

export const CASE_TYPE_LABELS: Readonly<Record<CaseType, { ja: string; en: string }>> = {
  switching: { ja: 'スイッチング（契約切替）', en: 'Switching' },
  move_in: { ja: '再点（入居・使用開始）', en: 'Move-in (reconnection)' },
  construction: { ja: '工事・設備', en: 'Construction' },
  outage_contact: { ja: '停電時の連絡先', en: 'Outage contact' },
  other: { ja: 'その他', en: 'Other' },
};

/**
 * How an item of a case is answered: at once (through the firewall, logged like any read), by the network
 * service centre from its queue (whose answer can never exceed the allowance), or never.
 */
export const ANSWERINGS = ['at_once', 'queue', 'never'] as const;
export type Answering = (typeof ANSWERINGS)[number];

/**
 * The consent an allowance depends on: none given, or one that holds now for this customer. A consent that
 * has expired, is not yet given, or names another customer is refused when the inquiry is made (consentProblem),
 * so it never reaches an allowance.
 */
export const CONSENT_STATES = ['none', 'valid'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];

type Allowance = Readonly<Record<ConsentState, Answering>>;

const WITH_CONSENT_AT_ONCE: Allowance = { none: 'never', valid: 'at_once' };
const WITH_CONSENT_QUEUED: Allowance = { none: 'never', valid: 'queue' };

/**
 * Per case, the non-public items it may give; an item not listed is never given for that case. Public items
 * are shown to everybody and never asked for; network-only items never leave the network side.
 *
 * - Switching: what the switching support system gives a new retailer with the customer's consent — holder,
 *   capacity, meter and reading day, usage, individual or corporate — at once; night-time equipment and
 *   last-resort supply only after the service centre looks.
 * - Move-in (再点): capacity and meter from the queue with the new occupant's consent. Their consent cannot be
 *   matched to the contract holder (the holder is the previous occupant, or nobody), so the service centre
 *   checks the move-in before answering — at once would give any rival customer's capacity to whoever claims
 *   a move-in. Nothing of the previous occupant's contract.
 * - Construction, outage contact, other: only from the queue, and only with consent.
 */
export const CASE_ALLOWANCES: Readonly<Record<CaseType, Readonly<Partial<Record<SupplyPointField, Allowance>>>>> = {
  switching: {
    holder_name: WITH_CONSENT_AT_ONCE,
    contracted_capacity: WITH_CONSENT_AT_ONCE,
    meter: WITH_CONSENT_AT_ONCE,
    usage: WITH_CONSENT_AT_ONCE,
    customer_type: WITH_CONSENT_AT_ONCE,
    equipment: WITH_CONSENT_QUEUED,
    last_resort: WITH_CONSENT_QUEUED,
  },
  move_in: {
    contracted_capacity: WITH_CONSENT_QUEUED,
    meter: WITH_CONSENT_QUEUED,
  },
  construction: {
    contracted_capacity: WITH_CONSENT_QUEUED,
    equipment: WITH_CONSENT_QUEUED,
    meter: WITH_CONSENT_QUEUED,
  },
  outage_contact: {
    holder_name: WITH_CONSENT_QUEUED,
    phone: WITH_CONSENT_QUEUED,
  },
  other: {
    holder_name: WITH_CONSENT_QUEUED,
    phone: WITH_CONSENT_QUEUED,
    contracted_capacity: WITH_CONSENT_QUEUED,
    usage: WITH_CONSENT_QUEUED,
    equipment: WITH_CONSENT_QUEUED,
    meter: WITH_CONSENT_QUEUED,
    customer_type: WITH_CONSENT_QUEUED,
  },
};

/** How one item of one case is answered with that consent. Total: anything not allowed is `never`. */
export function answering(caseType: CaseType, item: SupplyPointField, consent: ConsentState): Answering {
  // Only non-public items are asked for: public ones are shown anyway, network-only ones never leave.
  if (SUPPLY_POINT_FIELDS[item].class !== 'non_public') return 'never';
  return CASE_ALLOWANCES[caseType][item]?.[consent] ?? 'never';
}

/** The items a case may give with that consent, by how: at once, and from the queue. */
export function allowedItems(caseType: CaseType, consent: ConsentState): { readonly atOnce: SupplyPointField[]; readonly queued: SupplyPointField[] } {
  const atOnce = SUPPLY_POINT_FIELD_KEYS.filter((f) => answering(caseType, f, consent) === 'at_once');
  const queued = SUPPLY_POINT_FIELD_KEYS.filter((f) => answering(caseType, f, consent) === 'queue');
  return { atOnce, queued };
}

/**
 * The inquiry rules `gridwall verify` checks (firewall/verify.ts): a case answers every retailer alike, never
 * shows an item beyond its allowance, and never promises an item the firewall would not serve.
 */
export const INQUIRY_RULES = ['unequal_treatment', 'beyond_allowance', 'allowance_not_served'] as const;
export type InquiryRule = (typeof INQUIRY_RULES)[number];

/** How the customer consented (同意の取得方法). */
export const CONSENT_METHODS = ['signed_form', 'recorded_call', 'web'] as const;
export type ConsentMethod = (typeof CONSENT_METHODS)[number];
export const isConsentMethod = memberOf(CONSENT_METHODS);

export const CONSENT_METHOD_LABELS: Readonly<Record<ConsentMethod, { ja: string; en: string }>> = {
  signed_form: { ja: '書面（署名）', en: 'Signed form' },
  recorded_call: { ja: '通話録音', en: 'Recorded call' },
  web: { ja: 'Web', en: 'Web' },
};

/** The customer's consent, kept with the inquiry as evidence. */
export interface Consent {
  /** The customer who consented, as they gave their name (the contract holder's). */
  readonly customerName: string;
  readonly method: ConsentMethod;
  readonly givenAt: Date;
  /** Where the evidence is: the form's number, the call recording's id, the web session's receipt. */
  readonly reference: string;
  /** Until when it holds (exclusive). */
  readonly validUntil: Date;
}

export const CONSENT_PROBLEMS = ['not_yet_given', 'expired', 'other_customer'] as const;
export type ConsentProblem = (typeof CONSENT_PROBLEMS)[number];

export const CONSENT_PROBLEM_LABELS: Readonly<Record<ConsentProblem, { ja: string; en: string }>> = {
  not_yet_given: { ja: '同意の取得日時が未来です', en: 'The consent is dated in the future' },
  expired: { ja: '同意の有効期限が切れています', en: 'The consent has expired' },
  other_customer: { ja: '同意した方が契約名義と一致しません', en: 'The consent names another customer than the contract holder' },
};

/**
 * A name as people write it: full-width and half-width alike (NFKC), without spaces of either width, so that
 * 「山田 太郎」 with a full-width space (U+3000) and 「山田太郎」 are one name.
 */
export function normalizedName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/g, '');
}

/**
 * Whose consent a case carries: the contract holder's, or — for a move-in — the incoming occupant's, who is not
 * the holder (the holder is the previous occupant, or nobody). A consent that cannot be matched to the holder
 * is never enough for an at-once answer: every item of such a case goes to the service centre (tested).
 */
export const CONSENT_FROM: Readonly<Record<CaseType, 'holder' | 'new_occupant'>> = {
  switching: 'holder',
  move_in: 'new_occupant',
  construction: 'holder',
  outage_contact: 'holder',
  other: 'holder',
};

/**
 * Why a consent does not hold for this record at `at`, or null when it does. `holderName` is the contract
 * holder's name as the store holds it (null when the point has no holder: nobody can have consented). A
 * move-in's consent is the incoming occupant's: its name is not the holder's, and is checked by the service
 * centre, which answers every item of that case.
 */
export function consentProblem(consent: Consent, holderName: string | null, at: Date, caseType: CaseType = 'switching'): ConsentProblem | null {
  if (consent.givenAt.getTime() > at.getTime()) return 'not_yet_given';
  if (consent.validUntil.getTime() <= at.getTime()) return 'expired';
  if (CONSENT_FROM[caseType] === 'new_occupant') return null;
  if (holderName === null || normalizedName(holderName) !== normalizedName(consent.customerName)) return 'other_customer';
  return null;
}

/** Who asks: a retailer (a person, or its system with an API token), or a customer or contractor through the network side. */
export const INQUIRY_CHANNELS = ['retailer', 'customer', 'contractor'] as const;
export type InquiryChannel = (typeof INQUIRY_CHANNELS)[number];

export const INQUIRY_CHANNEL_LABELS: Readonly<Record<InquiryChannel, { ja: string; en: string }>> = {
  retailer: { ja: '小売電気事業者', en: 'Retailer' },
  customer: { ja: 'お客さま（直接）', en: 'Customer (directly)' },
  contractor: { ja: '工事店・委託先（直接）', en: 'Contractor (directly)' },
};

/**
 * How the service centre made sure of a caller who asks without a retailer in between (misuse patterns 1 and
 * 3 in docs: the contractor or the customer is sent to the network operator): the supply point ID and holder
 * name from their bill, an identity document, or a call back on the number on file.
 */
export const IDENTITY_CHECKS = ['bill_details', 'id_document', 'callback'] as const;
export type IdentityCheck = (typeof IDENTITY_CHECKS)[number];

export const IDENTITY_CHECK_LABELS: Readonly<Record<IdentityCheck, { ja: string; en: string }>> = {
  bill_details: { ja: '検針票・請求書の供給地点特定番号と名義', en: 'Supply point ID and holder name from the bill' },
  id_document: { ja: '本人確認書類', en: 'Identity document' },
  callback: { ja: '登録電話番号への折り返し', en: 'Call back on the number on file' },
};

/**
 * Where an inquiry stands: answered (at once or by the service centre), open in the queue, asked back (waiting
 * on the requester; the service level's clock stops), refused (by the service centre in words, or at intake
 * for a consent that does not hold), withdrawn by the requester.
 */
export const INQUIRY_STATUSES = ['answered', 'open', 'asked_back', 'refused', 'withdrawn'] as const;
export type InquiryStatus = (typeof INQUIRY_STATUSES)[number];

export const INQUIRY_STATUS_LABELS: Readonly<Record<InquiryStatus, { ja: string; en: string }>> = {
  answered: { ja: '回答済み', en: 'Answered' },
  open: { ja: '回答待ち', en: 'In the queue' },
  asked_back: { ja: '確認依頼中', en: 'Asked back' },
  refused: { ja: '回答不可', en: 'Refused' },
  withdrawn: { ja: '取り下げ', en: 'Withdrawn' },
};

/**
 * The service level per case type: hours from the inquiry to the service centre's answer, the time asked back
 * not counted. Outage contact is the most urgent; a move-in blocks a customer's supply, so it comes next.
 */
export const SERVICE_LEVEL_HOURS: Readonly<Record<CaseType, number>> = {
  outage_contact: 2,
  move_in: 8,
  switching: 24,
  construction: 120,
  other: 72,
};

/** When an inquiry asked at `createdAt` is due, given how long it has waited on its requester. */
export function dueAt(caseType: CaseType, createdAt: Date, waitingMs: number): Date {
  return new Date(createdAt.getTime() + SERVICE_LEVEL_HOURS[caseType] * 3_600_000 + waitingMs);
}

/** Within this share of its service level an open inquiry is about to be late (shown first after the late ones). */
export const DUE_SOON_SHARE = 0.25;

export type Timeliness = 'late' | 'due_soon' | 'on_time';

/** Where an open inquiry stands against its service level at `at`. */
export function timeliness(caseType: CaseType, due: Date, at: Date): Timeliness {
  const left = due.getTime() - at.getTime();
  if (left < 0) return 'late';
  return left <= SERVICE_LEVEL_HOURS[caseType] * 3_600_000 * DUE_SOON_SHARE ? 'due_soon' : 'on_time';
}

/**
 * What to do instead of looking (the misuse patterns the regulator listed, docs: domain.md): the proper flow
 * for each. A masked field tells the agent, in words, which applies to what they were trying to do — chosen by
 * the purpose they declared and why the field is masked. Not always an inquiry by the retailer: a caller about
 * another retailer's customer, or a move-in blocked by an old contract, is sent to the network operator; a
 * switching applicant's details come from the customer's own bill; unpaid bills of a former customer are
 * never looked up; market analysis uses public statistics.
 */
export const PROPER_FLOW_ACTIONS = ['send_to_network', 'ask_customer', 'inquiry', 'no_lookup', 'public_statistics'] as const;
export type ProperFlowAction = (typeof PROPER_FLOW_ACTIONS)[number];

export interface ProperFlow {
  /** The misuse pattern it answers (1–6, as the regulator numbered them), or 0 for the inquiry itself. */
  readonly pattern: number;
  readonly action: ProperFlowAction;
  /** The declared purposes under which it applies (empty: any). */
  readonly purposes: readonly string[];
  /** Why the field is masked for it to apply (relation reasons). */
  readonly reasons: readonly ('not_own_customer' | 'former_customer' | 'no_retailer')[];
  /** The case an inquiry would take (action `inquiry`). */
  readonly caseType: CaseType | null;
  readonly ja: string;
  readonly en: string;
}

export const PROPER_FLOWS: readonly ProperFlow[] = [
  {
    pattern: 4,
    action: 'inquiry',
    purposes: ['switching_support'],
    reasons: ['not_own_customer'],
    caseType: 'switching',
    ja: 'スイッチングの申込みなら、お客さまの同意を得て「送配電へ照会」してください。同意の範囲の項目はすぐに回答されます。',
    en: "For a switching application, get the customer's consent and ask the network operator: what the consent covers is answered at once.",
  },
  {
    pattern: 4,
    action: 'ask_customer',
    purposes: ['switching_support', 'own_customer_service', 'customer_inquiry'],
    reasons: ['not_own_customer', 'former_customer'],
    caseType: null,
    ja: '申込者の情報の確認は、お客さまご本人に伺ってください（検針票・請求書に供給地点特定番号と契約名義が記載されています）。',
    en: "To check an applicant's details, ask the customer: their bill shows the supply point ID and the holder's name.",
  },
  {
    pattern: 1,
    action: 'send_to_network',
    purposes: ['customer_inquiry', 'own_customer_service'],
    // A new entrant's customer is as often one who left us (the point shows as a former customer's): same flow.
    reasons: ['not_own_customer', 'former_customer', 'no_retailer'],
    caseType: null,
    ja: '工事店・委託先やお客さまからの問い合わせで自社のお客さまでない場合は、一般送配電事業者の窓口へご案内ください（こちらで調べることはできません）。',
    en: 'A contractor or caller asking about someone who is not our customer: direct them to the network operator (we cannot look it up).',
  },
  {
    pattern: 3,
    action: 'send_to_network',
    purposes: ['switching_support', 'customer_inquiry'],
    // The previous occupant's open contract may be with a retailer that took the premises from us: same flow.
    reasons: ['not_own_customer', 'former_customer', 'no_retailer'],
    caseType: 'move_in',
    ja: '前の入居者の契約が残っていて再点できない場合は、お客さまから一般送配電事業者へご連絡いただくようご案内ください。新しい入居者の同意があれば「再点」として照会もでき、送配電が確認のうえ回答します。',
    en: "A move-in blocked by the previous occupant's contract: ask the customer to contact the network operator. With the new occupant's consent you may also ask as a move-in case; the service centre checks it and answers.",
  },
  {
    pattern: 2,
    action: 'no_lookup',
    purposes: ['own_customer_service', 'wheeling_billing', 'customer_inquiry'],
    reasons: ['former_customer'],
    caseType: null,
    ja: '以前のお客さまの未収金の回収のために、供給の有無や現在の小売電気事業者を調べることはできません。自社の記録に基づく通常の回収手段をとってください。',
    en: 'Unpaid bills of a former customer are never a reason to look up whether or by whom the premises are supplied now: use the ordinary collection means on our own records.',
  },
  {
    pattern: 5,
    action: 'ask_customer',
    purposes: ['own_customer_service', 'switching_support'],
    reasons: ['former_customer'],
    caseType: null,
    ja: '以前のお客さまへの営業で連絡先や契約内容を確かめることはできません。お客さまご本人に伺ってください。',
    en: 'Sales to former customers: their details are not ours to check; ask the customer.',
  },
  {
    pattern: 6,
    action: 'public_statistics',
    purposes: [],
    reasons: ['not_own_customer', 'former_customer', 'no_retailer'],
    caseType: null,
    ja: '他の小売電気事業者のお客さまの分析・営業先の選定には、公表統計（電力調査統計、電力・ガス取引監視等委員会の公表資料）をお使いください。',
    en: "Analysing other retailers' customers to choose sales targets: use public statistics only (the electricity survey statistics, the market surveillance commission's publications).",
  },
];

/** The proper flows for a field masked for `reason` under `purpose`, most specific first. */
export function properFlowsFor(purpose: string, reason: string): ProperFlow[] {
  return PROPER_FLOWS.filter((f) => (f.reasons as readonly string[]).includes(reason) && (f.purposes.length === 0 || f.purposes.includes(purpose)));
}
