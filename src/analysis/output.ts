import writeXlsxFile, { type SheetData } from 'write-excel-file/node';

/** One sheet of a workbook, as write-excel-file takes it. */
export type Sheet = Parameters<typeof writeXlsxFile>[0][number];
import { csvRow, EXCEL_BOM, sheetValue, type CsvCellValue } from '../excel-csv.ts';
import type { Report, SystemCounts } from './report.ts';
import { RULES, type RuleId } from './rules.ts';

/**
 * The report as people read it: a table on a terminal, CSV for Excel (UTF-8 with BOM; sections one after
 * another), or an XLSX workbook with one sheet per table. JSON is the report object itself.
 */

const SYSTEM_COLUMNS: readonly (readonly [string, (s: Omit<SystemCounts, 'system'>) => number])[] = [
  ['閲覧件数（社員）', (s) => s.views.employee],
  ['閲覧件数（委託）', (s) => s.views.contractor],
  ['閲覧件数（計）', (s) => s.views.total],
  ['うち元自社需要家', (s) => s.formerCustomerViews],
  ['最終保障供給の閲覧件数', (s) => s.lastResortViews],
  ['契約のない地点の閲覧件数', (s) => s.noContractViews],
  ['非常災害時の支援としての閲覧件数', (s) => s.emergencyViews],
  ['照会への回答としての閲覧件数', (s) => s.inquiryViews],
  ['端末数', (s) => s.terminals],
  ['閲覧者数（社員）', (s) => s.people.employee],
  ['閲覧者数（委託）', (s) => s.people.contractor],
  ['閲覧者数（計）', (s) => s.people.total],
  ['事業所数', (s) => s.offices],
  ['委託先数', (s) => s.contractorOrganizations],
  ['供給地点数', (s) => s.supplyPoints],
  ['小売電気事業者数', (s) => s.retailers],
];

const SEVERITY_JA = { high: '高', medium: '中', low: '低' } as const;
const ruleName = (rule: string) => (rule in RULES ? RULES[rule as RuleId] : rule);

function systemRows(r: Report): (string | number)[][] {
  return [
    ...r.systems.map((s) => [s.system, ...SYSTEM_COLUMNS.map(([, f]) => f(s))]),
    ['合計（全システム・重複なし）', ...SYSTEM_COLUMNS.map(([, f]) => f(r.total))],
  ];
}

const VIEWER_HEAD = [
  '順位',
  'ログインID',
  '個人ID',
  '所属',
  '事業所',
  '雇用区分',
  '閲覧件数',
  '法人の閲覧件数',
  '法人の需要家数',
  '個人の閲覧件数',
  '個人の需要家数',
];
const viewerRows = (r: Report) =>
  r.viewers.map((v, i) => [
    i + 1,
    v.userId,
    v.personId ?? '',
    v.organization ?? '',
    v.office ?? '',
    v.employment === 'contractor' ? '委託' : '社員',
    v.views,
    v.corporate.views,
    v.corporate.customers,
    v.individual.views,
    v.individual.customers,
  ]);
const FINDING_HEAD = ['重大度', 'ルール', 'ルール名', '対象', '内容'];
const findingRows = (r: Report) => r.findings.map((f) => [SEVERITY_JA[f.severity], f.rule, ruleName(f.rule), f.subject, f.detail]);
const REJECTED_HEAD = ['ファイル', '行', '理由'];
const rejectedRows = (r: Report) => r.rejected.map((x) => [x.file, x.line, x.reason]);

function header(r: Report): string[] {
  return [
    `期間: ${r.period.from} 〜 ${r.period.to}（日本時間）  関係小売電気事業者: ${r.affiliate}`,
    `ログ行: 読込 ${r.rows.read} / 集計対象 ${r.rows.used} / 除外 ${r.rows.rejected} / 期間外 ${r.rows.outsidePeriod}`,
  ];
}

/** Pads for a fixed-width terminal, counting East Asian wide characters as two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}
const pad = (s: string, n: number, right: boolean) => (right ? ' '.repeat(Math.max(0, n - width(s))) + s : s + ' '.repeat(Math.max(0, n - width(s))));

function grid(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [head.map(String), ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  return cells.map((r, ri) => r.map((c, i) => pad(c, widths[i] ?? 0, ri > 0 && typeof rows[ri - 1]?.[i] === 'number')).join('  ')).join('\n');
}

export function toTable(r: Report, opts: { maxRows?: number } = {}): string {
  const max = opts.maxRows ?? 20;
  const more = (n: number) => (n > max ? `\n… 他 ${n - max} 件（--format json / csv / xlsx で全件）` : '');
  const out = [
    ...header(r),
    '',
    '■ システム別（小売側による他社需要家の非公開情報の閲覧）',
    grid(['システム', ...SYSTEM_COLUMNS.map(([h]) => h)], systemRows(r)),
    '',
    `■ 閲覧者（閲覧件数の多い順、${r.viewers.length} 人）`,
    grid(VIEWER_HEAD, viewerRows(r).slice(0, max)) + more(r.viewers.length),
    '',
    `■ 所見（${r.findings.length} 件）`,
    r.findings.length === 0 ? 'なし' : grid(FINDING_HEAD, findingRows(r).slice(0, max)) + more(r.findings.length),
  ];
  if (r.rejected.length > 0)
    out.push('', `■ 除外した行（${r.rejected.length} 行）`, grid(REJECTED_HEAD, rejectedRows(r).slice(0, max)) + more(r.rejected.length));
  return `${out.join('\n')}\n`;
}

export function toCsv(r: Report): string {
  const section = (title: string, head: readonly string[], rows: readonly (readonly CsvCellValue[])[]) =>
    csvRow([title]) + csvRow(head) + rows.map((x) => csvRow(x)).join('') + '\r\n';
  return (
    EXCEL_BOM +
    header(r)
      .map((h) => csvRow([h]))
      .join('') +
    '\r\n' +
    section('システム別', ['システム', ...SYSTEM_COLUMNS.map(([h]) => h)], systemRows(r)) +
    section('閲覧者', VIEWER_HEAD, viewerRows(r)) +
    section('所見', FINDING_HEAD, findingRows(r)) +
    section('除外した行', REJECTED_HEAD, rejectedRows(r))
  );
}

/** Every cell of the workbook is made here, its value through `sheetValue` (text never read as a formula). */
const cellRow = (row: readonly (string | number)[]) => row.map((v) => ({ value: sheetValue(v) }));
const headRow = (row: readonly string[]) => row.map((v) => ({ value: sheetValue(v), fontWeight: 'bold' as const }));

/** The workbook; `extra` sheets (the compliance report's equal-treatment figures) come after the regulator's tables. */
export async function toXlsx(r: Report, extra: readonly Sheet[] = []): Promise<Buffer> {
  const summary: SheetData = [
    ...header(r).map((h) => cellRow([h])),
    [],
    headRow(['システム', ...SYSTEM_COLUMNS.map(([h]) => h)]),
    ...systemRows(r).map(cellRow),
  ];
  const daily: SheetData = [headRow(['日付', '閲覧件数', '最終保障供給の閲覧件数']), ...r.daily.map((d) => cellRow([d.day, d.views, d.lastResortViews]))];
  return writeXlsxFile([
    { sheet: '集計', data: summary, columns: [{ width: 30 }, ...SYSTEM_COLUMNS.map(() => ({ width: 14 }))] },
    { sheet: '閲覧者', data: [headRow(VIEWER_HEAD), ...viewerRows(r).map(cellRow)], stickyRowsCount: 1 },
    { sheet: '日別', data: daily, stickyRowsCount: 1 },
    {
      sheet: '所見',
      data: [headRow(FINDING_HEAD), ...findingRows(r).map(cellRow)],
      columns: [{ width: 8 }, { width: 24 }, { width: 40 }, { width: 24 }, { width: 100 }],
      stickyRowsCount: 1,
    },
    { sheet: '除外した行', data: [headRow(REJECTED_HEAD), ...rejectedRows(r).map(cellRow)], stickyRowsCount: 1 },
    ...extra,
  ]).toBuffer();
}
