import { memberOf } from './closed-set.ts';
import { ASSIGNMENT_PROBLEMS, type AssignmentProblem } from './organization.ts';
import { GRANT_RULES } from './permissions.ts';
import { REFUSAL_RULE_LABELS } from './refusal-labels.ts';

/**
 * `gridwall import` (issue 20, "rollout from the legacy registers"): what a row of a legacy register
 * (formats.md: staff, terminals, permissions, grants) became in a live gridwall, and the rules that refused a
 * row — one closed set each, shared by the service, the HTTP contract and the console, with each rule's words in
 * Japanese and English (the CLI prints both; the console shows the Japanese first).
 */

/** The four registers, in the order they are imported (staff before the grants that name them). */
export const REGISTER_FILES = ['staff', 'terminals', 'permissions', 'grants'] as const;
export type RegisterFile = (typeof REGISTER_FILES)[number];
export const isRegisterFile = memberOf(REGISTER_FILES);

/**
 * What a row became: written (`created`, `updated`), already so (`unchanged`), kept as a request for a second
 * person (`requested`: a grant, or a terminal that widens), not in force so nothing to import (`skipped`),
 * refused by a rule (`refused`), or unreadable / naming the unknown (`rejected`).
 */
export const IMPORT_OUTCOMES = ['created', 'updated', 'unchanged', 'requested', 'skipped', 'refused', 'rejected'] as const;
export type ImportOutcome = (typeof IMPORT_OUTCOMES)[number];

/** The grant rules of `gridwall grants check` (GRANT_RULES) and of the live request, which also needs a scope. */
const GRANT_IMPORT_RULES = [...GRANT_RULES, 'scope_required'] as const;
type GrantImportRule = (typeof GRANT_IMPORT_RULES)[number];

/** Why a row was refused, rejected or skipped. */
export const IMPORT_RULES = [
  'bad_value',
  'duplicate_row',
  'unknown_organization',
  'account_of_another_person',
  'service_account',
  'overlapping_assignment',
  'transfer_needs_new_row',
  'widens_reading',
  'own_person',
  'scim_managed',
  ...ASSIGNMENT_PROBLEMS,
  'retired_terminal',
  'request_pending',
  ...GRANT_IMPORT_RULES,
  'not_in_force',
] as const;
export type ImportRule = (typeof IMPORT_RULES)[number];
export const isImportRule = memberOf(IMPORT_RULES);

/** The rules whose words are the refusals' (refusal-labels.ts). */
type SharedRule = AssignmentProblem | GrantImportRule | 'not_in_force';

/** The rules only the import has, in words (Japanese first). */
const IMPORT_ONLY_LABELS: Readonly<Record<Exclude<ImportRule, SharedRule>, { ja: string; en: string }>> = {
  bad_value: { ja: '値が読めません', en: 'a value cannot be read' },
  duplicate_row: { ja: '同じ行がファイル内で重複しています（最初の行を使います）', en: 'the same key appears earlier in the file (the first row is used)' },
  unknown_organization: { ja: 'gridwall に登録されていない組織です', en: 'the organization is not known to gridwall' },
  account_of_another_person: { ja: 'このユーザーIDは gridwall では別の人のものです', en: 'this user ID belongs to another person in gridwall' },
  service_account: { ja: 'このユーザーIDはシステム用アカウントです', en: 'this user ID is a service account' },
  overlapping_assignment: { ja: '在籍期間が、この人の別の所属期間と重なります', en: "the period overlaps another of this person's assignments" },
  transfer_needs_new_row: {
    ja: '同じ開始日の所属で組織・区分が変わっています（異動は新しい行で登録します）',
    en: 'organization or side changed for the same start (a transfer is a new row)',
  },
  widens_reading: {
    ja: '閲覧範囲を広げる変更です（業務の変更、期間の延長・再開、在籍者の新しい期間）：人事連携（SCIM）で行うか、二人目の管理者が行います',
    en: "a change that widens reading (duty, a period extended or reopened, a new period for an existing person) is HR's (SCIM) or needs a second person",
  },
  own_person: { ja: '取り込みを行う本人の所属です（自分の所属は変更できません）', en: "the operator's own person: nobody imports their own assignment" },
  scim_managed: {
    ja: '人事連携（SCIM）で管理されている人です（人事システムで変更します）',
    en: 'a person HR manages through SCIM: change them in the HR system',
  },
  retired_terminal: { ja: 'gridwall で廃止済みの端末です', en: 'the terminal is retired in gridwall' },
  request_pending: { ja: 'この端末には別の変更申請が第二の管理者の承認待ちです', en: 'another change of this terminal awaits a second administrator' },
};

/** The one wording of a rule shared with the refusals (refusal-labels.ts); a missing one is a programming error. */
function sharedLabel(rule: string): { ja: string; en: string } {
  const l = REFUSAL_RULE_LABELS[rule];
  if (l === undefined) throw new Error(`no label for ${rule} in REFUSAL_RULE_LABELS`);
  return l;
}

/**
 * Each rule in words, Japanese first: the HR assignment problems and the grant rules in the words every refusal
 * uses (refusal-labels.ts), the import's own rules beside them.
 */
export const IMPORT_RULE_LABELS: Readonly<Record<ImportRule, { ja: string; en: string }>> = {
  ...IMPORT_ONLY_LABELS,
  ...(Object.fromEntries([...ASSIGNMENT_PROBLEMS, ...GRANT_IMPORT_RULES, 'not_in_force'].map((r) => [r, sharedLabel(r)])) as Record<
    SharedRule,
    { ja: string; en: string }
  >),
};
