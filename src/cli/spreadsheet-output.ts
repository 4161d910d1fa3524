import { writeFileSync } from 'node:fs';
import type { CsvEncoding } from '../domain/export-file.ts';
import { csvFile } from '../spreadsheet/csv-file.ts';
import type { SpreadsheetDoc } from '../spreadsheet/table.ts';
import { xlsxFile } from '../spreadsheet/xlsx-file.ts';
import { UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/** `--encoding` is a CSV's: with another format it is a usage error, not a setting silently ignored. */
export function csvEncodingOption(format: string, encoding: CsvEncoding | undefined): CsvEncoding {
  if (encoding !== undefined && format !== 'csv') throw new UsageError(`--encoding applies to --format csv only, not --format ${format}`);
  return encoding ?? 'utf-8';
}

/** `--format xlsx` writes a workbook, which is not for a terminal: it needs `--out`. */
export function xlsxNeedsOut(format: string, out: string | undefined): void {
  if (format === 'xlsx' && out === undefined) throw new UsageError('--format xlsx writes a workbook: give --out FILE.xlsx');
}

/**
 * A spreadsheet document as CSV (in the encoding asked for) or XLSX, to `--out` or stdout. Characters CP932
 * cannot hold are written as 〓; the file's last line and a message on stderr say how many.
 */
export async function writeSpreadsheet(io: CliIo, doc: SpreadsheetDoc, format: 'csv' | 'xlsx', encoding: CsvEncoding, out: string | undefined): Promise<void> {
  xlsxNeedsOut(format, out);
  if (format === 'xlsx') {
    writeFileSync(out ?? '', await xlsxFile(doc));
    return;
  }
  const { body, replaced } = csvFile(doc, encoding);
  if (out === undefined) io.stdout.write(body);
  else writeFileSync(out, body);
  if (replaced > 0)
    io.stderr.write(`${replaced} character(s) CP932 cannot hold were written as 〓 (the last line of the file says so; --encoding utf-8 keeps them)\n`);
}
