import { EQUALITY_MEASURE_LABELS, type EqualityFlag, type RetailerFigures } from '../domain/equal-treatment.ts';
import { CASE_TYPE_LABELS } from '../domain/inquiry.ts';
import type { EqualTreatmentReport } from './inquiries.ts';
import { number, table, text, type SpreadsheetDoc, type Table } from '../spreadsheet/table.ts';

/**
 * The equal-treatment figures as compliance files them: a spreadsheet document (the retailers, then the
 * flags) that the spreadsheet writers make CSV or an XLSX workbook of. The JSON answer is the figures themselves.
 */
export type EqualTreatmentFile = Pick<EqualTreatmentReport, 'from' | 'to' | 'retailers' | 'others' | 'flags'>;

const round = (n: number | null, digits = 1): number | null => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);
const percent = (n: number | null): number | null => (n === null ? null : Math.round(n * 1000) / 10);

type FigureRow = { readonly f: RetailerFigures; readonly name: string | null };

const figureColumns = [
  text<FigureRow>('小売電気事業者コード', (r) => r.f.retailerCode, 14),
  text<FigureRow>('小売電気事業者', (r) => r.name, 30),
  text<FigureRow>('関係小売', (r) => (r.f.affiliated ? '○' : '')),
  number<FigureRow>('照会件数', (r) => r.f.inquiries),
  number<FigureRow>('即時回答', (r) => r.f.answeredAtOnce),
  number<FigureRow>('即時回答の割合（%）', (r) => percent(r.f.shareAtOnce)),
  number<FigureRow>('回答待ちへ', (r) => r.f.queued),
  number<FigureRow>('回答済み（回答待ちから）', (r) => r.f.answeredFromQueue),
  number<FigureRow>('回答時間 中央値（時間）', (r) => round(r.f.queueHours.median)),
  number<FigureRow>('回答時間 95パーセンタイル（時間）', (r) => round(r.f.queueHours.p95)),
  number<FigureRow>('回答不可', (r) => r.f.refused),
  number<FigureRow>('同意不備で受付不可', (r) => r.f.refusedAtIntake),
  number<FigureRow>('未回答', (r) => r.f.open),
  number<FigureRow>('期限超過', (r) => r.f.late),
];

const share = (f: EqualityFlag) => f.measure === 'refusal_share' || f.measure === 'at_once_share';
const flagColumns = [
  text<EqualityFlag>('案件種別', (f) => CASE_TYPE_LABELS[f.caseType].ja, 24),
  text<EqualityFlag>('指標', (f) => EQUALITY_MEASURE_LABELS[f.measure].ja, 36),
  number<EqualityFlag>('関係小売', (f) => (share(f) ? percent(f.affiliated) : round(f.affiliated))),
  number<EqualityFlag>('他の小売（合算）', (f) => (share(f) ? percent(f.others) : round(f.others))),
  number<EqualityFlag>('関係小売の件数', (f) => f.affiliatedCount),
  number<EqualityFlag>('他の小売の件数', (f) => f.othersCount),
];

/** The figures as two tables (the compliance report adds them to the regulator's tables). */
export function equalTreatmentTables(t: EqualTreatmentFile): Table[] {
  const title = `照会対応の公平性（${t.from}〜${t.to}）`;
  return [
    table<FigureRow>({
      sheet: '照会の公平性',
      title: '小売電気事業者別',
      notes: [title],
      columns: figureColumns,
      rows: [...t.retailers.map((r) => ({ f: r, name: r.retailerName })), { f: t.others, name: '関係小売以外の合計' }],
    }),
    table<EqualityFlag>({ sheet: '有利な扱いの兆候', title: `関係小売が有利に扱われている兆候（${t.flags.length} 件）`, columns: flagColumns, rows: t.flags }),
  ];
}

/** The figures as a document of their own. */
export function equalTreatmentDoc(t: EqualTreatmentFile): SpreadsheetDoc {
  return { title: `照会対応の公平性（${t.from}〜${t.to}）`, tables: equalTreatmentTables(t) };
}
