/**
 * The console's words for terminals bound to browsers (device bindings, enrolment codes) and for single
 * sign-on's logout at the identity provider (issue 19). Merged into the dictionary in i18n.tsx.
 */
export const devicesJa = {
  deviceThisBrowser: 'この端末：{id}',
  deviceShared: '共用端末',
  deviceNone: 'このブラウザは端末として登録されていません。',
  deviceRetired: 'このブラウザの端末は廃止されています。',
  devicePending:
    'このブラウザは端末 {id} として登録されましたが、別のアクセス管理者の確認待ちです。確認されるまでは端末として扱われません（送配電専用の情報は表示されません）。',
  deviceEnrollTitle: '端末の登録コードを入力',
  deviceEnrollLead: 'アクセス管理者から受け取った登録コードを、この端末で一度だけ入力してください。',
  deviceEnrollCode: '登録コード',
  deviceEnrollSubmit: 'この端末を登録',
  deviceEnrolled: 'このブラウザを端末 {id} として登録しました。',
  terminalShared: '共用',
  enrollThisBrowser: 'この端末をこのブラウザに登録',
  enrollThisBrowserDone: 'このブラウザを端末 {id} として登録しました。',
  issueEnrollmentCode: '登録コードを発行',
  enrollmentCodeIssued: '端末 {id} の登録コード：{code}（{until} まで有効、1回限り）。この画面を閉じると二度と表示されません。',
  devicesTitle: '登録済みのブラウザ',
  deviceLabel: '名称',
  deviceMethod: '登録方法',
  deviceMethod_browser: '管理者のブラウザで登録',
  deviceMethod_code: '登録コード',
  deviceEnrolledAt: '登録日時',
  deviceRevoke: '登録を取り消す',
  deviceRevokeReason: '取り消しの理由',
  deviceRevoked: '取消済み',
  devicesPendingTitle: '確認待ちの端末登録',
  devicesPendingLead:
    '送配電専用の情報を開ける端末（送配電設定・送配電拠点）へのブラウザ登録は、登録した（またはコードを発行した）管理者とは別のアクセス管理者が確認するまで有効になりません。',
  devicesPendingNone: '確認待ちの登録はありません。',
  deviceIssuedBy: '登録した管理者',
  deviceConfirm: '確認して有効にする',
  deviceReject: '却下',
  deviceRejectReason: '却下の理由',
  devicePendingState: '確認待ち',
  deviceRejected: '却下',
  enrollPendingNotice: 'このブラウザを端末 {id} として登録しました。別のアクセス管理者が確認するまで有効になりません。',
  ssoLoggedOut: 'gridwall とシングルサインオンの両方からログアウトしました。',
  ssoLogoutUnsupported:
    'gridwall からはログアウトしましたが、シングルサインオンのプロバイダーはログアウトに対応していません。共用の端末では、ブラウザーをすべて閉じるか、プロバイダーの画面でサインアウトしてください。',
  ssoLogoutUnavailable:
    'gridwall からはログアウトしましたが、シングルサインオンのプロバイダーに接続できず、プロバイダーからはログアウトしていません。ブラウザーをすべて閉じてください。',
  err_oidc_reauth_missing:
    'この端末では毎回の本人確認が必要ですが、シングルサインオンのプロバイダーが本人確認をやり直しませんでした。もう一度お試しいただき、解決しない場合は管理者に連絡してください。',
  err_enrollment_code_rejected: '登録コードが正しくないか、有効期限切れか、すでに使われています。アクセス管理者に新しいコードを依頼してください。',
};

export const devicesEn: Readonly<Record<keyof typeof devicesJa, string>> = {
  deviceThisBrowser: 'This terminal: {id}',
  deviceShared: 'shared terminal',
  deviceNone: 'This browser is not registered as a terminal.',
  deviceRetired: "This browser's terminal is retired.",
  devicePending:
    'This browser is registered as terminal {id}, awaiting confirmation by a second access administrator. Until then it is not treated as that terminal (network-only data stays masked).',
  deviceEnrollTitle: 'Enter a terminal enrolment code',
  deviceEnrollLead: 'Enter the enrolment code access administration gave you, once, on this PC.',
  deviceEnrollCode: 'Enrolment code',
  deviceEnrollSubmit: 'Register this terminal',
  deviceEnrolled: 'This browser is now registered as terminal {id}.',
  terminalShared: 'Shared',
  enrollThisBrowser: 'Register this browser as this terminal',
  enrollThisBrowserDone: 'This browser is now registered as terminal {id}.',
  issueEnrollmentCode: 'Issue enrolment code',
  enrollmentCodeIssued: 'Enrolment code for terminal {id}: {code} (valid until {until}, once). It is not shown again once you leave this screen.',
  devicesTitle: 'Registered browsers',
  deviceLabel: 'Name',
  deviceMethod: 'Registered by',
  deviceMethod_browser: "an administrator's browser",
  deviceMethod_code: 'enrolment code',
  deviceEnrolledAt: 'Registered at',
  deviceRevoke: 'Revoke',
  deviceRevokeReason: 'Reason for revoking',
  deviceRevoked: 'Revoked',
  devicesPendingTitle: 'Registrations awaiting confirmation',
  devicesPendingLead:
    'A browser registered to a terminal that opens network-only data (network-set, at a network site) counts only once an access administrator other than the one who registered it (or issued its code) confirms it.',
  devicesPendingNone: 'No registration is awaiting confirmation.',
  deviceIssuedBy: 'Registered by',
  deviceConfirm: 'Confirm',
  deviceReject: 'Reject',
  deviceRejectReason: 'Reason for rejecting',
  devicePendingState: 'Awaiting confirmation',
  deviceRejected: 'Rejected',
  enrollPendingNotice: 'This browser is registered as terminal {id}. It counts only once a second access administrator confirms it.',
  ssoLoggedOut: 'You are logged out of gridwall and of single sign-on.',
  ssoLogoutUnsupported:
    'You are logged out of gridwall, but the single sign-on provider does not support logging out from here. On a shared PC, close every browser window or sign out at the provider.',
  ssoLogoutUnavailable:
    'You are logged out of gridwall, but the single sign-on provider could not be reached, so you are still signed in there. Close every browser window.',
  err_oidc_reauth_missing:
    'This terminal needs you to sign in again each time, but the single sign-on provider did not ask you to. Try again; if it keeps happening, contact the administrator.',
  err_enrollment_code_rejected: 'The enrolment code is wrong, expired or already used. Ask access administration for a new one.',
};
