import { number, table, text, day, type Column, type SpreadsheetDoc, type Table } from '../spreadsheet/table.ts';
import type { Counts, Report } from './report.ts';
import { findingRuleLabel } from '../domain/finding-rules.ts';

/**
 * The report as people read it: a table on a terminal, or a spreadsheet document (`reportDoc`) that the
 * spreadsheet writers make CSV (sections one after another) or an XLSX workbook (a sheet per table) of. JSON
 * is the report object itself.
 */

const SYSTEM_COLUMNS: readonly (readonly [string, (s: Counts) => number])[] = [
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
const ruleName = (rule: string) => findingRuleLabel(rule).ja;

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
/** The per-screen breakdown (formats.md `systems[].screens`): one row per system and screen, for the systems whose log names screens. */
interface ScreenRow {
  readonly system: string;
  readonly screen: string;
  readonly employee: number;
  readonly contractor: number;
  readonly total: number;
}
const screenRows = (r: Report): ScreenRow[] => r.systems.flatMap((s) => (s.screens ?? []).map((x) => ({ system: s.system, screen: x.screen, ...x.views })));
const SCREEN_HEAD = ['システム', '画面', '閲覧件数（社員）', '閲覧件数（委託）', '閲覧件数（計）'];
const hasScreens = (r: Report) => r.systems.some((s) => s.screens !== undefined);
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
    ...(hasScreens(r)
      ? [
          '',
          '■ 画面別（閲覧件数の多い順）',
          grid(
            SCREEN_HEAD,
            screenRows(r).map((x) => [x.system, x.screen, x.employee, x.contractor, x.total]),
          ),
        ]
      : []),
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

type SystemRow = { readonly system: string } & Counts;
type ViewerRow = Report['viewers'][number] & { readonly rank: number };

/** The report's tables as a spreadsheet document; `extra` tables (the compliance report's equal-treatment figures) come after the regulator's. */
export function reportDoc(r: Report, extra: readonly Table[] = []): SpreadsheetDoc {
  const systems: SystemRow[] = [...r.systems, { ...r.total, system: '合計（全システム・重複なし）' }];
  const viewerColumns: Column<ViewerRow>[] = [
    number('順位', (v) => v.rank),
    text('ログインID', (v) => v.userId),
    text('個人ID', (v) => v.personId),
    text('所属', (v) => v.organization),
    text('事業所', (v) => v.office),
    text('雇用区分', (v) => (v.employment === 'contractor' ? '委託' : '社員')),
    number('閲覧件数', (v) => v.views),
    number('法人の閲覧件数', (v) => v.corporate.views),
    number('法人の需要家数', (v) => v.corporate.customers),
    number('個人の閲覧件数', (v) => v.individual.views),
    number('個人の需要家数', (v) => v.individual.customers),
  ];
  const title = `閲覧状況の報告（${r.period.from} 〜 ${r.period.to}）`;
  return {
    title,
    tables: [
      table<SystemRow>({
        sheet: '集計',
        title: 'システム別（小売側による他社需要家の非公開情報の閲覧）',
        notes: header(r),
        columns: [text('システム', (x) => x.system, 30), ...SYSTEM_COLUMNS.map(([h, f]) => number<SystemRow>(h, f, 14))],
        rows: systems,
      }),
      ...(hasScreens(r)
        ? [
            table<ScreenRow>({
              sheet: '画面別',
              title: '画面別（小売側による他社需要家の非公開情報の閲覧）',
              columns: [
                text('システム', (x) => x.system, 30),
                text('画面', (x) => x.screen, 30),
                number('閲覧件数（社員）', (x) => x.employee, 14),
                number('閲覧件数（委託）', (x) => x.contractor, 14),
                number('閲覧件数（計）', (x) => x.total, 14),
              ],
              rows: screenRows(r),
            }),
          ]
        : []),
      table<ViewerRow>({
        sheet: '閲覧者',
        title: '閲覧者（閲覧件数の多い順）',
        columns: viewerColumns,
        rows: r.viewers.map((v, i) => ({ ...v, rank: i + 1 })),
      }),
      table<Report['daily'][number]>({
        sheet: '日別',
        title: '日別の閲覧件数',
        columns: [day('日付', (d) => d.day), number('閲覧件数', (d) => d.views), number('最終保障供給の閲覧件数', (d) => d.lastResortViews)],
        rows: r.daily,
      }),
      table<Report['findings'][number]>({
        sheet: '所見',
        title: `所見（${r.findings.length} 件）`,
        columns: [
          text('重大度', (f) => SEVERITY_JA[f.severity], 8),
          text('ルール', (f) => f.rule, 24),
          text('ルール名', (f) => ruleName(f.rule), 40),
          text('対象', (f) => f.subject, 24),
          text('内容', (f) => f.detail, 60),
        ],
        rows: r.findings,
      }),
      table<Report['rejected'][number]>({
        sheet: '除外した行',
        title: `除外した行（${r.rejected.length} 行）`,
        columns: [text('ファイル', (x) => x.file), number('行', (x) => x.line), text('理由', (x) => x.reason, 60)],
        rows: r.rejected,
      }),
      ...extra,
    ],
  };
}
