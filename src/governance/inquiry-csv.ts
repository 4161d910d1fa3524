import { parse } from 'csv-parse/sync';
import { isCaseType, isConsentMethod, type Consent } from '../domain/inquiry.ts';
import type { CsvEncoding } from '../domain/export-file.ts';
import { decodeLegacy } from '../legacy/csv-file.ts';
import type { InquiryInput } from './inquiries.ts';

/**
 * A batch of inquiries as a CSV file (a retailer's day of switching cases, exported from its own system):
 * UTF-8 (with or without a BOM) or CP932, a header row with the columns below in English or Japanese, items
 * separated by spaces, `;` or `|`. A line that cannot be read is listed with its number and why, never dropped.
 */
export const INQUIRY_CSV_COLUMNS = {
  case_type: '案件種別',
  supply_point_id: '供給地点特定番号',
  items: '照会項目',
  consent_customer_name: '同意者氏名',
  consent_method: '同意取得方法',
  consent_given_at: '同意取得日時',
  consent_reference: '同意記録番号',
  consent_valid_until: '同意有効期限',
  note: '備考',
} as const;
type Column = keyof typeof INQUIRY_CSV_COLUMNS;
const REQUIRED: readonly Column[] = ['case_type', 'supply_point_id', 'items'];

export interface CsvBatch {
  /** The encoding it was read in: the one asked for, or the one detected. */
  readonly encoding: CsvEncoding;
  /** Each readable line with its line number in the file (the header is line 1). */
  readonly inputs: readonly { readonly line: number; readonly input: InquiryInput }[];
  readonly rejected: readonly { readonly line: number; readonly message: string }[];
}

export class InquiryCsvError extends Error {}

function instant(v: string): Date | null {
  if (v === '') return null;
  // A time without an offset is Japan time, as people write it.
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v.replace(' ', 'T').replace(/\//g, '-')}+09:00`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Reads a batch in `encoding` (UTF-8 or CP932, the names the exports take), or in the one detected when none is given. */
export function parseInquiryCsv(bytes: Buffer, encoding?: CsvEncoding): CsvBatch {
  const decoded =
    encoding === undefined
      ? decodeLegacy(bytes)
      : { text: new TextDecoder(encoding === 'cp932' ? 'shift_jis' : 'utf-8').decode(bytes), encoding: encoding === 'cp932' ? 'shift_jis' : 'utf-8' };
  let records: unknown;
  try {
    records = parse(decoded.text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, trim: true });
  } catch (e) {
    throw new InquiryCsvError(`not a CSV file: ${(e as Error).message}`);
  }
  const [head, ...body] = records as string[][];
  if (head === undefined) throw new InquiryCsvError('the file is empty: a header row and one line per inquiry are expected');
  const byName = new Map<string, Column>();
  for (const [en, ja] of Object.entries(INQUIRY_CSV_COLUMNS) as [Column, string][]) {
    byName.set(en, en);
    byName.set(ja, en);
  }
  const index = new Map<Column, number>();
  head.forEach((h, i) => {
    const c = byName.get(h.trim());
    if (c !== undefined) index.set(c, i);
  });
  const missing = REQUIRED.filter((c) => !index.has(c));
  if (missing.length > 0)
    throw new InquiryCsvError(`columns missing: ${missing.map((c) => `${c} (${INQUIRY_CSV_COLUMNS[c]})`).join(', ')}; the header row names the columns`);
  const inputs: { line: number; input: InquiryInput }[] = [];
  const rejected: { line: number; message: string }[] = [];
  body.forEach((cells, k) => {
    const line = k + 2;
    const get = (c: Column) => (index.has(c) ? (cells[index.get(c) ?? 0] ?? '').trim() : '');
    const caseType = get('case_type');
    if (!isCaseType(caseType))
      return void rejected.push({ line, message: `case_type ${JSON.stringify(caseType)}: one of switching, move_in, construction, outage_contact, other` });
    const items = get('items')
      .split(/[\s;|]+/)
      .filter((x) => x !== '');
    if (items.length === 0) return void rejected.push({ line, message: 'items: name at least one item' });
    let consent: Consent | null = null;
    const name = get('consent_customer_name');
    if (name !== '') {
      const method = get('consent_method');
      const givenAt = instant(get('consent_given_at'));
      const validUntil = instant(get('consent_valid_until'));
      if (!isConsentMethod(method))
        return void rejected.push({ line, message: `consent_method ${JSON.stringify(method)}: one of signed_form, recorded_call, web` });
      if (givenAt === null || validUntil === null)
        return void rejected.push({
          line,
          message: 'consent_given_at and consent_valid_until: give instants such as 2026-11-20 10:00 (Japan time) or ISO 8601',
        });
      consent = { customerName: name, method, givenAt, reference: get('consent_reference'), validUntil };
    }
    const note = get('note');
    inputs.push({ line, input: { caseType, supplyPointId: get('supply_point_id'), items, consent, note: note === '' ? null : note } });
  });
  return { encoding: decoded.encoding === 'shift_jis' ? 'cp932' : 'utf-8', inputs, rejected };
}
