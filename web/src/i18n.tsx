import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { Labels } from './api.ts';
import { devicesEn, devicesJa } from './i18n-devices.ts';
import { governanceEn, governanceJa } from './i18n-governance.ts';
import { homeEn, homeJa } from './i18n-home.ts';
import { importEn, importJa } from './i18n-import.ts';
import { inquiryEn, inquiryJa } from './i18n-inquiry.ts';
import { opsEn, opsJa } from './i18n-ops.ts';
import { separationEn, separationJa } from './i18n-separation.ts';
import { terminalRequestsEn, terminalRequestsJa } from './i18n-terminal-requests.ts';

export const LANGS = ['ja', 'en'] as const;
export type Lang = (typeof LANGS)[number];

/** Every string of the console's own chrome. The domain's words (fields, reasons, purposes) come from the server. */
const ja = {
  appName: 'gridwall',
  appSubtitle: '送配電 非公開情報アクセス管理',
  skipToContent: '本文へ移動',
  language: '言語',
  switchLanguage: 'English',
  loginTitle: 'ログイン',
  loginLead: 'デモ環境では、利用者を選んでログインします（パスワードなし）。本番環境ではシングルサインオンを使います。',
  loginAs: 'この利用者でログイン',
  terminal: '端末',
  demoLoginDisabled: 'このサーバーではデモログインが無効です。シングルサインオンでログインしてください。',
  side: '所属区分',
  logout: 'ログアウト',
  loggedInAs: 'ログイン中',
  navSearch: '需要家照会',
  navChecklist: 'マスキング検証表',
  navAudit: 'アクセスログ',
  auditTitle: 'アクセスログ',
  chainStatus: '改ざん検知（ハッシュチェーン）',
  chainHead: '記録件数（最終番号）',
  lastSeal: '最後の封印（署名）',
  trustedKeys: '信頼する公開鍵（データベース外）',
  witness: '証人ファイル（封印の外部公開）',
  witnessEmpty: '{file}（まだ公開なし）',
  witnessLast: '{seq} まで公開済み（{at}）— {file}',
  writerHalted: 'アクセスログの書き込みを停止しています。データベース上のログに説明のつかない変更があるため、顧客データは提供されません。原因：{reason}',
  verifyNow: '今すぐ検証する',
  verifying: '検証中…',
  verifyOk: '検証合格：{n} 件の記録と {c} 個の封印（署名）に改ざんはありません。信頼した鍵：{keys}',
  verifyBroken: '改ざんを検知しました：記録 {seq} — {detail}',
  break_modified: '内容が改変されています',
  break_missing: '記録が欠落しています（削除または並べ替え）',
  break_inserted: '記録が挿入されています',
  break_out_of_order: '記録の順序が入れ替えられています',
  break_broken_link: '直前の記録とのつながりが切れています（改変後の再計算、挿入、削除または並べ替え）',
  break_checkpoint_mismatch: '署名（封印・チェックポイント）と一致しません（チェーンが書き換えられています）',
  break_bad_signature: '信頼する鍵による正しい署名ではありません',
  break_truncated: '末尾の記録が削除されています',
  break_malformed: '記録として読み取れない内容があります',
  break_unsealed: 'ログ書き込み機能が封印していない記録があります（外部から書き込まれた記録）',
  break_archive: 'アーカイブが記録と一致しないか、確認できません',
  filterPerson: '利用者（個人ID・ログインID）',
  filterRetailer: '小売電気事業者コード',
  filterFrom: '開始日',
  filterTo: '終了日',
  filterOutcome: '結果',
  all: 'すべて',
  outcome_served: '表示',
  outcome_refused: '拒否',
  downloadJsonl: 'JSON Lines をダウンロード（単独で検証可能）',
  logXlsxLimit: 'Excel は 20,000 行まで（それより長い期間は CSV か JSON Lines で）',
  noEvents: '該当する記録はありません。',
  when: '日時（日本時間）',
  who: '利用者',
  supplyPoints: '供給地点・関係・非表示項目数',
  contractor: '委託',
  maskedCount: '非表示 {n} 項目',
  purpose: '利用目的',
  purposeChoose: '利用目的を選択してください',
  purposeNote: '照会ごとに、利用目的がアクセスログに記録されます。',
  purposeRequired: '照会の前に利用目的を選んでください。選んだ目的は照会ごとにアクセスログへ記録されます。',
  purposeNone: 'あなたの業務で申告できる利用目的はありません。',
  searchTitle: '需要家照会',
  searchBy: '検索方法',
  byId: '供給地点特定番号',
  byAddress: '住所',
  byName: '契約名義',
  byPhone: '電話番号',
  searchTerm: '検索語',
  idHint: '22桁（ハイフン・空白は無視します）',
  addressHint: '2文字以上（例：青葉区一番町）',
  nameHint: '2文字以上。閲覧を許可された需要家のみが対象です',
  phoneHint: '10桁以上の数字',
  search: '検索',
  open: '開く',
  results: '検索結果',
  resultsCount: '{n}件を表示（{from}〜{to}件目）',
  noResults: '該当する供給地点はありません。',
  previous: '前へ',
  next: '次へ',
  loading: '読み込み中…',
  recordTitle: '供給地点の情報',
  backToSearch: '検索に戻る',
  field: '項目',
  value: '内容',
  classification: '区分',
  masked: '非表示',
  none: '該当なし',
  yes: 'はい',
  no: 'いいえ',
  individual: '個人',
  corporate: '法人',
  readingDay: '検針日 {d}日',
  current: '現在',
  lastResortSupply: '最終保障供給',
  loggedRead: 'この照会はアクセスログに記録されました（要求ID {id}）',
  checklistTitle: 'マスキング検証表',
  checklistLead:
    '全ての照会経路 × 利用者区分 × 需要家との関係 × 非常災害時 × 項目について、表示か非表示かを判定表から列挙したものです（gridwall verify と同じ内容）。',
  checklistPass: '検証合格：小売側の利用者が自社以外の需要家の非公開情報を見られる判定はありません。',
  checklistFail: '検証不合格：誤った側に非公開情報を見せる判定が {n} 件あります。',
  policyVersion: '判定表の版',
  route: '照会経路',
  principalClass: '利用者区分',
  emergency: '非常災害時',
  emergencyOff: '平常時',
  emergencyOn: '非常災害時',
  shown: '表示',
  shownFor: '表示される利用目的',
  reasons: '非表示の理由',
  downloadCsvUtf8: 'CSV（UTF-8）',
  downloadCsvCp932: 'CSV（Shift_JIS・古いExcel向け）',
  downloadMd: 'Markdownをダウンロード',
  relation_own: '自社の需要家',
  relation_former: '過去の自社需要家',
  relation_other: '他社の需要家',
  relation_none: '無契約・最終保障供給',
  err_invalid_supply_point_id: '供給地点特定番号は22桁の数字で、エリアコード（01〜10）で始まります。',
  err_not_found: '該当する供給地点はありません。',
  err_search_field_not_permitted: 'この利用目的では、その項目による検索は許可されていません（非公開情報の開示にあたるため）。',
  err_validation_failed: '入力内容に誤りがあります。',
  err_search_criteria: '検索条件を1つ指定してください。',
  err_not_authenticated: 'ログインしてください。',
  err_forbidden: 'この画面を利用する権限がありません。',
  err_log_unavailable: 'アクセスログに記録できないため、情報を表示できません。しばらくしてから再度お試しください。',
  err_store_unavailable: 'データベースに接続できないため、情報を表示できません。しばらくしてから再度お試しください。',
  err_rate_limited: '回数の上限に達しました。しばらく待ってから再度お試しください。',
  rule_read_rate_limit: '1分あたりの照会件数の上限に達しました。以後の照会は記録され、確認の対象になります',
  rule_daily_read_limit: '24時間あたりの照会件数の上限に達しました。以後の照会は記録され、確認の対象になります',
  rule_search_rate_limit: '1分あたりの検索結果件数の上限に達しました。検索条件を絞ってください',
  rule_consent_refusal_limit: '同意の確認が成立しなかった照会が24時間の上限に達しました。同意の確認はしばらく行えません',
  err_unknown_account: '利用できないアカウントです。',
  err_internal: 'システムエラーが発生しました。',
  ...opsJa,
  ...governanceJa,
  ...inquiryJa,
  ...devicesJa,
  ...separationJa,
  ...terminalRequestsJa,
  ...homeJa,
  ...importJa,
  errorRequestId: '要求ID',
} as const;

export type MessageKey = keyof typeof ja;

const en: Record<MessageKey, string> = {
  appName: 'gridwall',
  appSubtitle: 'Network operator — non-public information access control',
  skipToContent: 'Skip to content',
  language: 'Language',
  switchLanguage: '日本語',
  loginTitle: 'Log in',
  loginLead: 'In the demo, log in by choosing a person (no password). Production uses single sign-on.',
  loginAs: 'Log in as this person',
  terminal: 'terminal',
  demoLoginDisabled: 'Demo login is disabled on this server. Log in with single sign-on.',
  side: 'Side',
  logout: 'Log out',
  loggedInAs: 'Logged in as',
  navSearch: 'Customer look-up',
  navChecklist: 'Masking checklist',
  navAudit: 'Access log',
  auditTitle: 'Access log',
  chainStatus: 'Tamper evidence (hash chain)',
  chainHead: 'Events (last number)',
  lastSeal: 'Last seal (signed)',
  trustedKeys: 'Trusted public keys (outside the database)',
  witness: 'Witness file (seals published outside)',
  witnessEmpty: '{file} (nothing published yet)',
  witnessLast: 'published up to {seq} ({at}) — {file}',
  writerHalted:
    'The access log writer has stopped the line: the log in the database was changed in a way it cannot account for, so no customer data is served. Reason: {reason}',
  verifyNow: 'Verify now',
  verifying: 'Verifying…',
  verifyOk: 'Verified: {n} events and {c} seals, nothing altered. Trusted key(s): {keys}',
  verifyBroken: 'Tampering detected: event {seq} — {detail}',
  break_modified: 'its content was changed',
  break_missing: 'events are missing (deleted or reordered)',
  break_inserted: 'an event was inserted',
  break_out_of_order: 'events were reordered',
  break_broken_link: 'it does not link to the event before it (changed and re-hashed, inserted, removed or reordered)',
  break_checkpoint_mismatch: 'a signed seal or checkpoint names another hash (the chain was rewritten)',
  break_bad_signature: 'not validly signed by a trusted key',
  break_truncated: 'events were removed from the end',
  break_malformed: 'content that is not an event',
  break_unsealed: 'events no seal of the writer covers (written by someone else)',
  break_archive: 'an archive does not match its record, or cannot be checked',
  filterPerson: 'Person or user ID',
  filterRetailer: 'Retailer code',
  filterFrom: 'From',
  filterTo: 'To',
  filterOutcome: 'Outcome',
  all: 'All',
  outcome_served: 'Served',
  outcome_refused: 'Refused',
  downloadJsonl: 'Download JSON Lines (verifies on its own)',
  logXlsxLimit: 'Excel: at most 20,000 rows (a longer period: CSV or JSON Lines)',
  noEvents: 'No events match.',
  when: 'When (Japan time)',
  who: 'Who',
  supplyPoints: 'Supply points, relation, masked fields',
  contractor: 'contractor',
  maskedCount: '{n} masked',
  purpose: 'Purpose of use',
  purposeChoose: 'Choose a purpose of use',
  purposeNote: 'The purpose is recorded in the access log with every read.',
  purposeRequired: 'Choose a purpose of use before looking anything up. It is recorded in the access log with every read.',
  purposeNone: 'Your duty has no purpose of use you may declare.',
  searchTitle: 'Customer look-up',
  searchBy: 'Search by',
  byId: 'Supply point ID',
  byAddress: 'Address',
  byName: 'Contract holder',
  byPhone: 'Phone',
  searchTerm: 'Search term',
  idHint: '22 digits (hyphens and spaces are ignored)',
  addressHint: 'At least 2 characters (e.g. 青葉区一番町)',
  nameHint: 'At least 2 characters. Only customers you may see are searched',
  phoneHint: 'At least 10 digits',
  search: 'Search',
  open: 'Open',
  results: 'Results',
  resultsCount: 'Showing {n} (results {from}–{to})',
  noResults: 'No supply point matches.',
  previous: 'Previous',
  next: 'Next',
  loading: 'Loading…',
  recordTitle: 'Supply point',
  backToSearch: 'Back to search',
  field: 'Field',
  value: 'Value',
  classification: 'Class',
  masked: 'Masked',
  none: 'None',
  yes: 'Yes',
  no: 'No',
  individual: 'Individual',
  corporate: 'Corporate',
  readingDay: 'reading day {d}',
  current: 'current',
  lastResortSupply: 'Last-resort supply',
  loggedRead: 'This read was recorded in the access log (request id {id})',
  checklistTitle: 'Masking checklist',
  checklistLead:
    'Every data route × kind of user × relation to the customer × emergency × field, shown or masked, enumerated from the decision table (the same as gridwall verify).',
  checklistPass: 'Pass: no decision lets a retail-side person see non-public data of a customer that is not their own.',
  checklistFail: 'Fail: {n} decisions show non-public data to the wrong side.',
  policyVersion: 'Policy version',
  route: 'Route',
  principalClass: 'Kind of user',
  emergency: 'Emergency',
  emergencyOff: 'Normal',
  emergencyOn: 'Declared emergency',
  shown: 'Shown',
  shownFor: 'Shown for purposes',
  reasons: 'Masked because',
  downloadCsvUtf8: 'CSV (UTF-8)',
  downloadCsvCp932: 'CSV (Shift_JIS, for older Excel)',
  downloadMd: 'Download Markdown',
  relation_own: 'Own customer',
  relation_former: 'Former customer',
  relation_other: "Another retailer's customer",
  relation_none: 'Vacant / last-resort',
  err_invalid_supply_point_id: 'A supply point ID has 22 digits and starts with an area code 01–10.',
  err_not_found: 'No supply point with that ID.',
  err_search_field_not_permitted: 'Searching by that field is not permitted for this purpose: it would disclose non-public information.',
  err_validation_failed: 'Please check your input.',
  err_search_criteria: 'Give exactly one search criterion.',
  err_not_authenticated: 'Please log in.',
  err_forbidden: 'You may not use this screen.',
  err_log_unavailable: 'The access log cannot be written, so nothing can be shown. Please try again shortly.',
  err_store_unavailable: 'The database cannot be reached, so nothing can be shown. Please try again shortly.',
  err_rate_limited: 'A limit was reached. Wait a while and try again.',
  rule_read_rate_limit: 'The limit of records read per minute is reached; further reads are logged and reviewed',
  rule_daily_read_limit: 'The limit of records read per 24 hours is reached; further reads are logged and reviewed',
  rule_search_rate_limit: 'The limit of search result rows per minute is reached: narrow the search',
  rule_consent_refusal_limit: 'Too many inquiries whose consent did not hold in 24 hours: consent checks are paused for now',
  err_unknown_account: 'That account cannot be used.',
  err_internal: 'Something went wrong on the server.',
  errorRequestId: 'Request id',
  ...opsEn,
  ...governanceEn,
  ...inquiryEn,
  ...devicesEn,
  ...separationEn,
  ...terminalRequestsEn,
  ...homeEn,
  ...importEn,
};

const DICTIONARIES: Readonly<Record<Lang, Readonly<Record<MessageKey, string>>>> = { ja, en };

/**
 * The language and its words. The functions are properties, not methods: pages destructure them
 * (`const { t } = useI18n()`) and none of them uses `this`.
 */
export interface I18n {
  readonly lang: Lang;
  readonly setLang: (lang: Lang) => void;
  /** A console string, with `{name}` placeholders filled in. */
  readonly t: (key: MessageKey, vars?: Readonly<Record<string, string | number>>) => string;
  /** A label served by the server in both languages. */
  readonly l: (labels: Labels | undefined, fallback: string) => string;
}

const STORAGE_KEY = 'gridwall.lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved === 'en' ? 'en' : 'ja';
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value: I18n = {
    lang,
    setLang: (next) => {
      localStorage.setItem(STORAGE_KEY, next);
      setLangState(next);
    },
    t: (key, vars) => {
      const text = DICTIONARIES[lang][key];
      return vars === undefined ? text : text.replace(/\{(\w+)\}/g, (m, name: string) => String(vars[name] ?? m));
    },
    l: (labels, fallback) => (labels === undefined ? fallback : labels[lang]),
  };
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (ctx === null) throw new Error('useI18n outside I18nProvider');
  return ctx;
}

/** A message key built at run time (e.g. from a code the server sent), when the console has words for it. */
export function messageKey(key: string): MessageKey | null {
  return Object.hasOwn(ja, key) ? (key as MessageKey) : null;
}

/** Message key of an API error code, when the console has words for it. */
export function errorKey(code: string): MessageKey | null {
  return messageKey(`err_${code}`);
}
