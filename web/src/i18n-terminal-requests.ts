/**
 * The console's words for terminal registrations awaiting a second access administrator and for the login
 * rule on retail-side people at network-site terminals (issue 20, live rules). Merged into the dictionary in
 * i18n.tsx.
 */
export const terminalRequestsJa = {
  terminalRequestsTitle: '承認待ちの端末登録・変更',
  terminalRequestsLead:
    '送配電設定の端末を送配電の拠点、または小売側・共用の拠点に置く登録（またはその状態への変更）は、申請した管理者とは別のアクセス管理者が理由を付けて承認するまで反映されません。',
  terminalRequestsNone: '承認待ちの端末登録・変更はありません。',
  terminalRequestKind: '種別',
  terminalRequestNew: '新規登録',
  terminalRequestChange: '変更',
  terminalRequestAsked: '申請内容',
  terminalRequestBy: '申請者',
  terminalRequestAt: '申請日時',
  terminalRequestReason: '申請理由',
  terminalRequestDecisionReason: '承認・却下の理由',
  terminalRequestApprove: '承認して反映',
  terminalRequestReject: '却下',
  terminalRequestOwn: '自分の申請は承認できません（別のアクセス管理者が承認します）',
  terminalRequestApproved: '端末 {id} の登録・変更を承認し、反映しました。',
  terminalRequestRejected: '端末 {id} の登録・変更を却下しました。',
  rule_retail_on_network_terminal: '送配電の拠点にある端末には、小売側の担当者はログインできません',
  rule_self_confirmation: '自分が登録・申請したものは確認・承認できません（別のアクセス管理者が必要です）',
  rule_request_pending: 'この端末には承認待ちの申請がすでにあります',
  rule_not_pending: 'すでに決定済みです',
  rule_unknown_request: '該当する申請はありません',
  finding_retail_on_network_terminal: '送配電の拠点の端末への小売側担当者のログイン',
};

export const terminalRequestsEn: Readonly<Record<keyof typeof terminalRequestsJa, string>> = {
  terminalRequestsTitle: 'Terminal registrations and changes awaiting approval',
  terminalRequestsLead:
    'Registering a network-set terminal at a network site, or at a retail or shared site (or changing one into either state), takes effect only once an access administrator other than the one who asked approves it with a reason.',
  terminalRequestsNone: 'No terminal registration or change is awaiting approval.',
  terminalRequestKind: 'Kind',
  terminalRequestNew: 'New registration',
  terminalRequestChange: 'Change',
  terminalRequestAsked: 'Asked for',
  terminalRequestBy: 'Asked by',
  terminalRequestAt: 'Asked at',
  terminalRequestReason: 'Reason given',
  terminalRequestDecisionReason: 'Reason for approving or rejecting',
  terminalRequestApprove: 'Approve and apply',
  terminalRequestReject: 'Reject',
  terminalRequestOwn: 'You cannot approve your own request (another access administrator does)',
  terminalRequestApproved: 'The registration or change of terminal {id} is approved and applied.',
  terminalRequestRejected: 'The registration or change of terminal {id} is rejected.',
  rule_retail_on_network_terminal: "A retailer's person may not log in at a terminal standing at a network site",
  rule_self_confirmation: 'You cannot confirm or approve what you registered or asked for (another access administrator is needed)',
  rule_request_pending: 'This terminal already has a request awaiting approval',
  rule_not_pending: 'Already decided',
  rule_unknown_request: 'No such request',
  finding_retail_on_network_terminal: "A retailer's person logging in at a network-site terminal",
};
