import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { japanDayStart } from '../domain/japan-time.ts';
import { inputRefusal } from '../domain/refusal.ts';

/** A file that cannot be used at all (missing, not CSV, required columns absent): exit 2, naming why. */
export class CsvFileError extends inputRefusal('bad_input_file') {}

/** A row that was read but cannot be used: reported with file, line and reason, never dropped silently. */
export interface RejectedRow {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

export interface CsvRow {
  readonly line: number;
  readonly get: (column: string) => string;
}

export interface CsvFile {
  readonly path: string;
  readonly encoding: 'utf-8' | 'shift_jis';
  readonly rows: readonly CsvRow[];
}

/**
 * Decodes a legacy export: UTF-8 (with or without BOM) when it is valid UTF-8, otherwise Shift_JIS/CP932
 * (the usual encoding of Japanese enterprise exports; WHATWG's shift_jis decoder is CP932).
 */
export function decodeLegacy(bytes: Buffer): { text: string; encoding: 'utf-8' | 'shift_jis' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('shift_jis').decode(bytes), encoding: 'shift_jis' };
  }
}

/** A file on disk (its path), or a file's bytes with the name it is reported under (an upload). */
export type CsvSource = string | { readonly name: string; readonly bytes: Buffer };

/**
 * Reads a CSV with a header row (RFC 4180), checking that the required columns are there. Extra columns
 * are accepted. Column names are matched without surrounding spaces and case.
 */
export function readCsvFile(source: CsvSource, required: readonly string[]): CsvFile {
  let bytes: Buffer;
  const path = typeof source === 'string' ? source : source.name;
  if (typeof source !== 'string') bytes = source.bytes;
  else {
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw new CsvFileError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  const { text, encoding } = decodeLegacy(bytes);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (e) {
    throw new CsvFileError(`${path}: not a readable CSV file (${e instanceof Error ? e.message : String(e)})`);
  }
  const [head, ...body] = records;
  if (head === undefined) throw new CsvFileError(`${path}: empty file (a header row is required)`);
  const index = new Map(head.record.map((name, i) => [name.trim().toLowerCase(), i]));
  const missing = required.filter((c) => !index.has(c));
  if (missing.length > 0)
    throw new CsvFileError(`${path}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${head.record.join(', ')})`);
  return {
    path,
    encoding,
    rows: body.map(({ record, info }) => ({
      line: info.lines,
      get: (column: string) => {
        const i = index.get(column);
        return i === undefined ? '' : (record[i] ?? '').trim();
      },
    })),
  };
}

/** Dates and timestamps of the legacy formats; no offset means Japan time. Null when not one of them. */
export function parseLegacyTime(v: string): { at: Date; dateOnly: boolean } | null {
  const d = /^(\d{4})[-/](\d{2})[-/](\d{2})$/.exec(v);
  if (d !== null) {
    const at = japanDayStart(`${d[1]}-${d[2]}-${d[3]}`);
    return at === null ? null : { at, dateOnly: true };
  }
  const t = /^(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (t === null) return null;
  // The calendar day must exist: JavaScript would roll 2022-02-30 over into March.
  const [y, mo, da] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (mo < 1 || mo > 12 || da < 1 || da > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
  const zone = t[8] === undefined ? '+09:00' : t[8] === 'Z' ? 'Z' : t[8].includes(':') ? t[8] : `${t[8].slice(0, 3)}:${t[8].slice(3)}`;
  const at = new Date(`${t[1]}-${t[2]}-${t[3]}T${t[4]}:${t[5]}:${t[6] ?? '00'}${t[7] ?? ''}${zone}`);
  return Number.isNaN(at.getTime()) ? null : { at, dateOnly: false };
}
