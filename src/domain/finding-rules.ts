import { memberOf } from './closed-set.ts';
import { READ_LIMIT_LABELS, READ_LIMIT_RULES, type ReadLimitRule } from './read-limits.ts';

/**
 * Every rule a finding can be raised under, and its name in words (issue 20: no rule code on a screen, in a
 * mail or in a spreadsheet without its Japanese label). The analysis rules (analysis/rules.ts) judge a period
 * of the log; the live rules are judged at the moment of the event (a read over a limit, emergency rights
 * used outside their cover, a retail-side login at a network-site terminal, consents that do not hold).
 * test/domain/finding-rules.test.ts finds every rule the sources raise in this set.
 */

export const ANALYSIS_RULES = [
  'bulk_reading',
  'other_customer_read',
  'emergency_outside_window',
  'probing',
  'misplaced_terminal',
  'account_without_person',
  'dormant_account_used',
  'off_hours',
] as const;
export type AnalysisRule = (typeof ANALYSIS_RULES)[number];

/** Raised by the firewall, the login and the inquiry desk as it happens (the read limits are READ_LIMIT_RULES). */
export const LIVE_RULES = [
  'emergency_outside_window',
  'emergency_not_registered',
  'retail_on_network_terminal',
  'retail_on_unknown_terminal',
  'inquiry_consent_refused',
  'bulk_reading_count_failing',
  ...READ_LIMIT_RULES,
] as const;
export type LiveRule = (typeof LIVE_RULES)[number];

/** Every finding rule once (`emergency_outside_window` is both a scan's and a live rule). */
export const FINDING_RULES = [
  ...ANALYSIS_RULES,
  'emergency_not_registered',
  'retail_on_network_terminal',
  'retail_on_unknown_terminal',
  'inquiry_consent_refused',
  'bulk_reading_count_failing',
  ...READ_LIMIT_RULES,
] as const;
export type FindingRule = (typeof FINDING_RULES)[number];
export const isFindingRule = memberOf(FINDING_RULES);

type Label = { readonly ja: string; readonly en: string };

const OWN_LABELS: Readonly<Record<Exclude<FindingRule, ReadLimitRule>, Label>> = {
  bulk_reading: { ja: '大量閲覧（本人の通常量・同僚と比べて突出）', en: "Bulk reading (far above the person's own usual volume and their peers')" },
  other_customer_read: {
    ja: '他の小売電気事業者の需要家（元自社需要家を含む）の非公開情報の閲覧',
    en: "Non-public data of another retailer's customer read (former own customers included)",
  },
  emergency_outside_window: { ja: '非常災害時の権限の期間外・地域外での使用', en: 'Emergency rights used outside their period or area' },
  emergency_not_registered: {
    ja: '非常災害時の支援者として登録されていない人による支援目的の照会',
    en: 'Emergency-support read by a person not registered as support staff',
  },
  probing: { ja: '拒否された照会の集中（探索的な照会）', en: 'Many refused reads in a short time (probing)' },
  misplaced_terminal: { ja: '小売側の拠点に設置された送配電設定の端末', en: 'Network-set terminal standing at a retail-side site' },
  account_without_person: { ja: '在籍していない（人に紐づかない）IDによる閲覧', en: 'Reads by an ID with no person behind it' },
  dormant_account_used: { ja: '長期間使われていなかったIDの再使用', en: 'An ID unused for a long time used again' },
  off_hours: { ja: '時間外（夜間・休日）の非公開情報の閲覧', en: 'Non-public data read off hours (night, weekend)' },
  retail_on_network_terminal: { ja: '小売側の人による送配電の拠点の端末でのログイン', en: "A retail-side person's login at a network-site terminal" },
  retail_on_unknown_terminal: {
    ja: '小売側の人による端末台帳にない端末でのログイン',
    en: "A retail-side person's login at a terminal the registry does not know",
  },
  inquiry_consent_refused: { ja: '同意が成立しない照会の集中', en: 'Many inquiries whose consent did not hold' },
  bulk_reading_count_failing: {
    ja: '大量閲覧の即時検知の停止（閲覧件数の集計が失敗し続けている）',
    en: 'Live bulk-reading detection off (the count of reads keeps failing)',
  },
};

/** A limit on reading exceeded, named from the limit's own label (domain/read-limits.ts), never a second copy. */
const overLimit = (r: ReadLimitRule): Label => ({ ja: `${READ_LIMIT_LABELS[r].ja}を超えた照会`, en: `Reads over the limit of ${READ_LIMIT_LABELS[r].en}` });

export const FINDING_RULE_LABELS: Readonly<Record<FindingRule, Label>> = {
  ...OWN_LABELS,
  ...(Object.fromEntries(READ_LIMIT_RULES.map((r) => [r, overLimit(r)])) as Record<ReadLimitRule, Label>),
};

/** The rule in words; a code from elsewhere (an older row, a legacy file) is named by its code. */
export function findingRuleLabel(rule: string): Label {
  return isFindingRule(rule) ? FINDING_RULE_LABELS[rule] : { ja: rule, en: rule };
}
