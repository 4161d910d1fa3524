import { CONSENT_PROBLEM_LABELS } from './inquiry.ts';
import type { AssignmentProblem } from './organization.ts';

type Label = { readonly ja: string; readonly en: string };

/**
 * The rules that refuse or cause a governance action, in words (issue 20: the refusal names the rule in words;
 * no rule code on the governance log screen without its label): every rule of the refusal families (grant,
 * token, emergency, inquiry, terminal, account, review — their `kinds` tables), the login's refusals, the
 * enrolment code's, the dormant sweep's and the HR system's assignment problems. One label per code, whatever
 * the family (`not_pending` means the same everywhere). test/contract/console-labels.test.ts checks every
 * family's rules are here.
 */
const ASSIGNMENT_PROBLEM_LABELS: Readonly<Record<AssignmentProblem, Label>> = {
  employment_mismatch: { ja: '雇用区分と所属組織が合いません', en: 'Employment does not fit the organization' },
  employee_side_mismatch: { ja: '社員の所属区分が組織と合いません', en: "An employee's side differs from the organization's" },
  contractor_not_engaged: { ja: '委託先として契約されていない組織です', en: 'The organization is not engaged as a contractor' },
  contractor_side_mismatch: { ja: '委託先の所属区分が委託元と合いません', en: "A contractor's side differs from the engaging side" },
  retailer_mismatch: { ja: '小売電気事業者が所属組織と合いません', en: 'The retailer differs from the organization' },
  retailer_on_network_side: { ja: '送配電の所属に小売電気事業者が指定されています', en: 'A retailer given on the network side' },
  retailer_missing: { ja: '小売電気事業者の指定がありません', en: 'No retailer given' },
  side_retailer_mismatch: { ja: '所属区分と小売電気事業者が合いません', en: 'Side and retailer do not fit' },
  duty_side_mismatch: { ja: '業務と所属区分が合いません', en: 'The duty does not fit the side' },
  empty_period: { ja: '期間が空です（開始が終了以降）', en: 'An empty period (start not before end)' },
};

export const REFUSAL_RULE_LABELS: Readonly<Record<string, Label>> = {
  ...ASSIGNMENT_PROBLEM_LABELS,
  // Grants and separation of duties
  side_not_allowed: { ja: 'この所属区分には与えられない権限', en: 'Not allowed for this side' },
  self_grant: { ja: '自分自身への権限付与', en: 'A grant to oneself' },
  self_approval: { ja: '自分の申請の承認', en: 'Approving one’s own request' },
  not_an_approver: { ja: '承認の権限がありません', en: 'Not an approver' },
  approval_outside_scope: { ja: '承認できる範囲の外です', en: 'Outside the approver’s scope' },
  not_permitted: { ja: '権限がありません', en: 'Not permitted' },
  left_organization: { ja: '所属組織を離れた人です', en: 'The person has left the organization' },
  unknown_user: { ja: '存在しない利用者', en: 'Unknown user' },
  unknown_permission: { ja: '存在しない権限', en: 'Unknown permission' },
  scope_required: { ja: '対象組織の指定が必要です', en: 'A scope is required' },
  scope_not_allowed: { ja: '対象範囲を指定できません', en: 'No scope allowed' },
  expiry_invalid: { ja: '有効期限が正しくありません', en: 'Invalid expiry' },
  not_pending: { ja: 'すでに処理済みです', en: 'No longer pending' },
  not_in_force: { ja: '有効ではありません', en: 'Not in force' },
  duplicate: { ja: '同じ申請・権限がすでにあります', en: 'A duplicate' },
  incompatible_permissions: { ja: '職務分離：両立しない権限', en: 'Separation of duties: incompatible permissions' },
  reciprocal_approval: { ja: '職務分離：相互承認', en: 'Separation of duties: reciprocal approval' },
  retailer_changed: { ja: '所属する小売電気事業者の変更', en: 'Moved to another retailer' },
  // API tokens
  invalid_request: { ja: '申請内容に誤りがあります', en: 'Invalid request' },
  not_a_service_account: { ja: 'サービスアカウントではありません', en: 'Not a service account' },
  unknown_account: { ja: '存在しない・利用できないアカウント', en: 'Unknown or unusable account' },
  owner_not_in_force: { ja: '責任者の所属が有効ではありません', en: 'The owner is not in force' },
  not_a_retailer_organization: { ja: '小売電気事業者の組織ではありません', en: 'Not a retailer organization' },
  unknown_token: { ja: '存在しないAPIトークン', en: 'Unknown token' },
  // Emergencies
  not_a_declarer: { ja: '非常災害を宣言する権限がありません', en: 'Not a declarer' },
  self_confirmation: { ja: '自分の操作の確認（2人目が必要）', en: 'Confirming one’s own act (a second person is needed)' },
  not_the_declarer: { ja: '宣言した本人ではありません', en: 'Not the declarer' },
  not_an_administrator: { ja: 'アクセス管理者ではありません', en: 'Not an access administrator' },
  self_registration: { ja: '自分自身の登録', en: 'Registering oneself' },
  field_not_emergency_contact: { ja: '非常災害時に開示できない項目', en: 'Not an emergency-contact field' },
  not_compliance: { ja: '行為規制管理者ではありません', en: 'Not compliance' },
  not_independent: { ja: '独立した確認者ではありません', en: 'Not independent' },
  window_passed: { ja: '期限を過ぎています', en: 'The window has passed' },
  parent_not_confirmed: { ja: '元の宣言が確認されていません', en: 'The declaration is not confirmed' },
  not_registered: { ja: '登録されていません', en: 'Not registered' },
  not_over: { ja: 'まだ終了していません', en: 'Not over yet' },
  already_signed_off: { ja: 'すでに確認完了しています', en: 'Already signed off' },
  nothing_to_review: { ja: '確認する照会がありません', en: 'Nothing to review' },
  unknown_emergency: { ja: '存在しない非常災害宣言', en: 'Unknown emergency' },
  unknown_person: { ja: '存在しない利用者', en: 'Unknown person' },
  no_area: { ja: '対象地域の指定がありません', en: 'No area given' },
  end_before_start: { ja: '終了予定が開始より前です', en: 'Ends before it starts' },
  too_long: { ja: '期間が長すぎます', en: 'Too long' },
  end_in_past: { ja: '終了予定が過去です', en: 'Ends in the past' },
  // Inquiries
  not_a_retailer: { ja: '小売電気事業者の利用者ではありません', en: 'Not a retailer’s person' },
  not_an_answerer: { ja: '照会に回答する権限がありません', en: 'Not an answerer' },
  nothing_allowed: { ja: 'この案件で開示できる項目がありません', en: 'Nothing this case allows' },
  unknown_item: { ja: '存在しない項目', en: 'Unknown item' },
  consent_incomplete: { ja: '同意の記録が不足しています', en: 'The consent is incomplete' },
  consent_not_yet_given: CONSENT_PROBLEM_LABELS.not_yet_given,
  consent_expired: CONSENT_PROBLEM_LABELS.expired,
  consent_other_customer: CONSENT_PROBLEM_LABELS.other_customer,
  beyond_allowance: { ja: 'この案件で開示できる範囲を超えています', en: 'Beyond what the case allows' },
  not_open: { ja: '受付中ではありません', en: 'Not open' },
  not_asked_back: { ja: '問い返し中ではありません', en: 'Not asked back' },
  not_answerable: { ja: '回答できる状態ではありません', en: 'Not answerable' },
  unknown_inquiry: { ja: '存在しない照会', en: 'Unknown inquiry' },
  unknown_supply_point: { ja: '存在しない供給地点', en: 'Unknown supply point' },
  batch_too_large: { ja: '一括照会の件数が多すぎます', en: 'Batch too large' },
  invalid_supply_point_id: { ja: '供給地点特定番号の誤り', en: 'Invalid supply point ID' },
  not_yours: { ja: '自社の照会ではありません', en: 'Not yours' },
  permission_not_granted: { ja: '権限が与えられていません', en: 'Permission not granted' },
  invalid_period: { ja: '期間の指定が正しくありません', en: 'Invalid period' },
  // Terminals and browsers bound to them
  unknown_organization: { ja: '存在しない組織', en: 'Unknown organization' },
  unknown_terminal: { ja: '登録されていない端末', en: 'Unregistered terminal' },
  request_pending: { ja: '2人目の確認待ちの申請があります', en: 'A request awaits a second administrator' },
  unknown_request: { ja: '存在しない申請', en: 'Unknown request' },
  retired_terminal: { ja: '廃止された端末', en: 'Retired terminal' },
  unknown_device: { ja: '登録されていないブラウザ', en: 'Unknown browser binding' },
  device_revoked: { ja: '取り消されたブラウザの登録', en: 'Browser binding revoked' },
  enrollment_code_rejected: { ja: '端末登録コードが無効', en: 'Enrolment code rejected' },
  code_unknown: { ja: '存在しない端末登録コード', en: 'Unknown enrolment code' },
  code_used: { ja: '使用済みの端末登録コード', en: 'Enrolment code already used' },
  code_expired: { ja: '期限切れの端末登録コード', en: 'Enrolment code expired' },
  // Accounts and logins
  disabled_account: { ja: '無効化されたアカウント', en: 'Disabled account' },
  weak_password: { ja: '弱いパスワード', en: 'Weak password' },
  subject_taken: { ja: 'シングルサインオンのIDが別のアカウントに紐づいています', en: 'Single sign-on subject taken' },
  dormant_account: { ja: '長期間使われていないアカウント', en: 'Dormant account' },
  account_without_person: { ja: '人に紐づかないアカウント', en: 'Account without a person' },
  retail_on_network_terminal: { ja: '小売側の人による送配電の拠点の端末でのログイン', en: "A retail-side person's login at a network-site terminal" },
  dormant: { ja: '長期間未使用（休眠）', en: 'Dormant' },
  orphan: { ja: '人に紐づかない', en: 'No person behind it' },
  // Findings
  unknown_finding: { ja: '存在しない要確認事項', en: 'Unknown finding' },
  already_resolved: { ja: 'すでに解決済みです', en: 'Already resolved' },
  comment_required: { ja: 'コメントが必要です', en: 'A comment is required' },
  // The HR system (SCIM)
  unknown_retailer: { ja: '存在しない小売電気事業者', en: 'Unknown retailer' },
  uniqueness: { ja: 'ログインIDまたは外部IDの重複', en: 'User name or external ID taken' },
  invalidValue: { ja: '値の誤り', en: 'Invalid value' },
  invalidPath: { ja: '項目の指定の誤り', en: 'Invalid path' },
  invalidSyntax: { ja: '書式の誤り', en: 'Invalid syntax' },
  invalidFilter: { ja: '検索条件の誤り', en: 'Invalid filter' },
  mutability: { ja: '変更できない項目', en: 'Not changeable' },
  noTarget: { ja: '対象が見つかりません', en: 'No target' },
  http_404: { ja: '対象が見つかりません', en: 'Not found' },
};

/** The rule in words, when gridwall has words for it. */
export function refusalRuleLabel(rule: string): Label | undefined {
  return Object.hasOwn(REFUSAL_RULE_LABELS, rule) ? REFUSAL_RULE_LABELS[rule] : undefined;
}
