import writeXlsxFile, { type SheetData } from 'write-excel-file/node';
import { EQUALITY_MEASURE_LABELS, type EqualityFlag, type RetailerFigures } from '../domain/equal-treatment.ts';
import { CASE_TYPE_LABELS } from '../domain/inquiry.ts';
import type { EqualTreatmentReport } from './inquiries.ts';
import { csvRow, EXCEL_BOM, sheetValue, type CsvCellValue } from '../excel-csv.ts';

/**
 * The equal-treatment figures as compliance files them: CSV for Excel (UTF-8 with a BOM; the retailers, then
 * the flags) or an XLSX workbook with a sheet each. The JSON answer is the figures themselves.
 */
export type EqualTreatmentFile = Pick<EqualTreatmentReport, 'from' | 'to' | 'retailers' | 'others' | 'flags'>;

const round = (n: number | null, digits = 1): number | string => (n === null ? '' : Math.round(n * 10 ** digits) / 10 ** digits);
const percent = (n: number | null): number | string => (n === null ? '' : Math.round(n * 1000) / 10);

export const FIGURE_HEAD = [
  '小売電気事業者コード',
  '小売電気事業者',
  '関係小売',
  '照会件数',
  '即時回答',
  '即時回答の割合（%）',
  '回答待ちへ',
  '回答済み（回答待ちから）',
  '回答時間 中央値（時間）',
  '回答時間 95パーセンタイル（時間）',
  '回答不可',
  '同意不備で受付不可',
  '未回答',
  '期限超過',
] as const;

function figureRow(f: RetailerFigures, name: string | null): (string | number)[] {
  return [
    f.retailerCode,
    name ?? '',
    f.affiliated ? '○' : '',
    f.inquiries,
    f.answeredAtOnce,
    percent(f.shareAtOnce),
    f.queued,
    f.answeredFromQueue,
    round(f.queueHours.median),
    round(f.queueHours.p95),
    f.refused,
    f.refusedAtIntake,
    f.open,
    f.late,
  ];
}

export const FLAG_HEAD = ['案件種別', '指標', '関係小売', '他の小売（合算）', '関係小売の件数', '他の小売の件数'] as const;

function flagRow(f: EqualityFlag): (string | number)[] {
  const share = f.measure === 'refusal_share' || f.measure === 'at_once_share';
  return [
    CASE_TYPE_LABELS[f.caseType].ja,
    EQUALITY_MEASURE_LABELS[f.measure].ja,
    share ? percent(f.affiliated) : round(f.affiliated),
    share ? percent(f.others) : round(f.others),
    f.affiliatedCount,
    f.othersCount,
  ];
}

function rows(t: EqualTreatmentFile): { figures: (string | number)[][]; flags: (string | number)[][] } {
  return {
    figures: [...t.retailers.map((r) => figureRow(r, r.retailerName)), figureRow(t.others, '関係小売以外の合計')],
    flags: t.flags.map(flagRow),
  };
}

export function equalTreatmentCsv(t: EqualTreatmentFile): string {
  return EXCEL_BOM + equalTreatmentCsvSection(t);
}

/** The figures as a section of a longer CSV (the compliance report appends it to the regulator's tables). */
export function equalTreatmentCsvSection(t: EqualTreatmentFile): string {
  const { figures, flags } = rows(t);
  const lines = (rs: readonly (readonly CsvCellValue[])[]) => rs.map((r) => csvRow(r)).join('');
  return (
    csvRow([`照会対応の公平性（${t.from}〜${t.to}）`]) +
    '\r\n' +
    csvRow(['小売電気事業者別']) +
    csvRow(FIGURE_HEAD) +
    lines(figures) +
    '\r\n' +
    csvRow([`関係小売が有利に扱われている兆候（${t.flags.length} 件）`]) +
    csvRow(FLAG_HEAD) +
    lines(flags)
  );
}

const cellRow = (row: readonly (string | number)[]) => row.map((v) => ({ value: sheetValue(v) }));
const headRow = (row: readonly string[]) => row.map((v) => ({ value: sheetValue(v), fontWeight: 'bold' as const }));

export async function equalTreatmentXlsx(t: EqualTreatmentFile): Promise<Buffer> {
  return writeXlsxFile([...equalTreatmentSheets(t)]).toBuffer();
}

/** The figures as two sheets of a workbook (the compliance report adds them to the regulator's tables). */
export function equalTreatmentSheets(t: EqualTreatmentFile) {
  const { figures, flags } = rows(t);
  const sheetOf = (head: readonly string[], body: (string | number)[][]): SheetData => [headRow(head), ...body.map(cellRow)];
  return [
    {
      sheet: '照会の公平性',
      data: sheetOf(FIGURE_HEAD, figures),
      stickyRowsCount: 1,
      columns: [{ width: 14 }, { width: 30 }, ...FIGURE_HEAD.slice(2).map(() => ({ width: 14 }))],
    },
    {
      sheet: '有利な扱いの兆候',
      data: sheetOf(FLAG_HEAD, flags),
      stickyRowsCount: 1,
      columns: [{ width: 24 }, { width: 36 }, ...FLAG_HEAD.slice(2).map(() => ({ width: 16 }))],
    },
  ];
}
