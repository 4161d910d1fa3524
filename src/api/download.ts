import type { FastifyReply } from 'fastify';
import type { CsvEncoding } from '../domain/export-file.ts';
import { csvFile } from '../spreadsheet/csv-file.ts';
import type { SpreadsheetDoc } from '../spreadsheet/table.ts';
import { xlsxFile } from '../spreadsheet/xlsx-file.ts';
import { ApiError } from './errors.ts';

/**
 * A file instead of the JSON answer (`?format=csv|xlsx|md`): sent with its own content type, and named for
 * saving when `filename` is given. The route's contract declares the JSON shape only; a body with a non-JSON
 * content type bypasses the response schema's serializer (Fastify sends it as it is), so this takes the reply
 * untyped by the route's `Reply`.
 */
export function download(reply: FastifyReply, contentType: string, body: string | Buffer, filename?: string): FastifyReply {
  const r = reply.type(contentType);
  return (filename === undefined ? r : r.header('content-disposition', `attachment; filename="${filename}"`)).send(body);
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The content type of a CSV in an encoding (CP932 is registered as Windows-31J). */
export function csvType(encoding: CsvEncoding): string {
  return encoding === 'cp932' ? 'text/csv; charset=windows-31j' : 'text/csv; charset=utf-8';
}

/**
 * The CSV encoding a query asks for: `encoding` names one only beside `format=csv` (a workbook or JSON has
 * none), so anything else is a 400 naming it rather than a setting silently ignored.
 */
export function csvEncodingOf(query: { readonly format?: string | undefined; readonly encoding?: CsvEncoding | undefined }): CsvEncoding {
  if (query.encoding !== undefined && query.format !== 'csv')
    throw new ApiError('validation_failed', `querystring/encoding applies to format=csv only, not format=${query.format ?? 'json'}`);
  return query.encoding ?? 'utf-8';
}

/**
 * A spreadsheet document as the file asked for: CSV in the encoding asked for (with `x-replaced-characters`,
 * how many characters CP932 could not hold and were written as 〓; the file says so in its last line too), or
 * an XLSX workbook. Every export a person opens goes through here or through the same writers.
 */
export async function spreadsheetDownload(
  reply: FastifyReply,
  doc: SpreadsheetDoc,
  format: 'csv' | 'xlsx',
  encoding: CsvEncoding,
  name: string,
): Promise<FastifyReply> {
  if (format === 'xlsx') return download(reply, XLSX_TYPE, await xlsxFile(doc), `${name}.xlsx`);
  const { body, replaced } = csvFile(doc, encoding);
  return download(reply.header('x-replaced-characters', String(replaced)), csvType(encoding), body, `${name}.csv`);
}
