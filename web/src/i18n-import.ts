/**
 * The console's words for the import of the legacy registers (issue 20, "rollout from the legacy registers":
 * the people page's 台帳の取り込み). The rules' words come from the server with each row. Merged into the
 * dictionary in i18n.tsx.
 */
export const importJa = {
  importTitle: '既存台帳の取り込み',
  importLead:
    '現在お使いの職員台帳・端末台帳・権限一覧・権限付与台帳（CSV、UTF-8 または Shift_JIS）を取り込みます。「権限の点検」と同じルールで確認し、ルールに反する行や読めない行は取り込まず、ファイルと行番号で示します。',
  importSecondPerson:
    '権限の付与は、取り込んだ人とは別の承認者が承認するまで有効になりません（承認待ちに入ります）。送配電の情報を開く端末、小売側の拠点にある送配電設定の端末も、別のアクセス管理者の承認待ちになります。',
  importFileStaff: '職員台帳（staff.csv）',
  importFileTerminals: '端末台帳（terminals.csv）',
  importFilePermissions: '権限一覧（permissions.csv）',
  importFileGrants: '権限付与台帳（grants.csv）',
  importDryRun: '試しに確認する（変更しません）',
  importApply: 'この内容で取り込む',
  importNoFile: '取り込むファイルを1つ以上選んでください。',
  importPlanTitle: '確認結果（まだ何も変更していません）',
  importDoneTitle: '取り込み結果',
  importFile: 'ファイル',
  importRead: '行数',
  importResult_created: '新規',
  importResult_updated: '更新',
  importResult_unchanged: '変更なし',
  importResult_requested: '承認待ち',
  importResult_skipped: '対象外',
  importResult_refused: 'ルールにより拒否',
  importResult_rejected: '不正な行',
  importTotal: '合計',
  importNotImportedTitle: '取り込まない行（{n} 行）',
  importChangesTitle: '変更される行',
  importChangedTitle: '変更した行',
  importLine: '行',
  importSubject: '対象',
  importOutcome: '結果',
  importReason: '理由',
  importNothingChanges: '変更はありません（新規 0、更新 0、承認待ち 0）。',
  importWouldChange: '新規 {created}、更新 {updated}、承認待ち {requested} の予定です。',
  importChanged: '取り込みました：新規 {created}、更新 {updated}、承認待ち {requested}。承認待ちの権限は「承認待ち」の画面で別の承認者が承認します。',
};

export const importEn: Readonly<Record<keyof typeof importJa, string>> = {
  importTitle: 'Import the legacy registers',
  importLead:
    'Loads the staff, terminal, permission and grant registers you have today (CSV, UTF-8 or Shift_JIS). Rows are judged by the same rules as the grants check; a row that breaks one or cannot be read is not imported and is shown with its file and line.',
  importSecondPerson:
    'An imported grant counts only once an approver other than you approves it (it enters the approval queue). A terminal that opens network-only data, or a network-set terminal at a retail site, awaits another access administrator too.',
  importFileStaff: 'Staff register (staff.csv)',
  importFileTerminals: 'Terminal register (terminals.csv)',
  importFilePermissions: 'Permission list (permissions.csv)',
  importFileGrants: 'Grant register (grants.csv)',
  importDryRun: 'Check first (changes nothing)',
  importApply: 'Import as shown',
  importNoFile: 'Choose at least one file to import.',
  importPlanTitle: 'What would happen (nothing changed yet)',
  importDoneTitle: 'What the import did',
  importFile: 'File',
  importRead: 'Rows',
  importResult_created: 'New',
  importResult_updated: 'Updated',
  importResult_unchanged: 'Unchanged',
  importResult_requested: 'Awaiting approval',
  importResult_skipped: 'Not in force',
  importResult_refused: 'Refused by a rule',
  importResult_rejected: 'Unreadable',
  importTotal: 'Total',
  importNotImportedTitle: 'Rows not imported ({n})',
  importChangesTitle: 'Rows that would change',
  importChangedTitle: 'Rows changed',
  importLine: 'Line',
  importSubject: 'Row',
  importOutcome: 'Outcome',
  importReason: 'Why',
  importNothingChanges: 'Nothing changes (0 new, 0 updated, 0 awaiting approval).',
  importWouldChange: '{created} new, {updated} updated, {requested} awaiting approval.',
  importChanged:
    'Imported: {created} new, {updated} updated, {requested} awaiting approval. An approver other than you approves the grants in the approval queue.',
};
