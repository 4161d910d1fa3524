/**
 * CSV that Excel opens cleanly: UTF-8 with a byte-order mark, CRLF line ends, RFC 4180 quoting only where a
 * value needs it. (Bulk loads into PostgreSQL use `csvLine` in store/db.ts, which quotes every value.)
 */
export const EXCEL_BOM = '\uFEFF';

export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row, with its CRLF. */
export function csvRow(cells: readonly unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
