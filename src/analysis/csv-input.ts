import { closeSync, createReadStream, createWriteStream, openSync, readSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CsvFileError } from '../legacy/csv-file.ts';

/**
 * A legacy export made ready for DuckDB: its columns (from the header row), its encoding, and a path to a
 * UTF-8 copy when it was CP932 (DuckDB reads UTF-8 only; its encodings extension is never downloaded).
 */
export interface PreparedCsv {
  /** As the user named it (for messages and rejected rows). */
  readonly file: string;
  /** What DuckDB reads: the file itself, or its UTF-8 copy. */
  readonly path: string;
  readonly encoding: 'utf-8' | 'shift_jis';
  /** Header names, trimmed and lower-cased, in file order. */
  readonly columns: readonly string[];
  readonly bytes: number;
}

const PROBE_BYTES = 1 << 20;

/** UTF-8 if the first megabyte decodes as UTF-8 (a split character at the end is fine), else Shift_JIS/CP932. */
function sniff(head: Buffer): 'utf-8' | 'shift_jis' {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return 'shift_jis';
  }
}

/**
 * Checks a file is there and has the required columns, and decides its encoding. A CP932 file is converted
 * to UTF-8 in `workDir`, streaming, so a large log never sits in memory.
 */
export async function prepareCsv(file: string, required: readonly string[], workDir: string, forceEncoding?: 'utf-8' | 'shift_jis'): Promise<PreparedCsv> {
  let bytes: number;
  let head: Buffer;
  try {
    bytes = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      head = Buffer.alloc(Math.min(PROBE_BYTES, bytes));
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new CsvFileError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const encoding = forceEncoding ?? sniff(head);
  const text = new TextDecoder(encoding).decode(head, { stream: true }).replace(/^\uFEFF/, '');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  if (firstLine.trim() === '') throw new CsvFileError(`${file}: empty file (a header row is required)`);
  let header: string[];
  try {
    const rows: string[][] = parse(firstLine, { relax_column_count: true });
    header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  } catch (e) {
    throw new CsvFileError(`${file}: the header row is not CSV (${e instanceof Error ? e.message : String(e)})`);
  }
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new CsvFileError(`${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${header.join(', ')})`);
  if (encoding === 'utf-8') return { file, path: file, encoding, columns: header, bytes };
  return { file, path: await toUtf8(file, workDir), encoding, columns: header, bytes };
}

let copies = 0;

/** Streams a CP932 file into a UTF-8 copy (WHATWG's shift_jis decoder is CP932). */
async function toUtf8(file: string, workDir: string): Promise<string> {
  const out = join(workDir, `utf8-${++copies}.csv`);
  const decoder = new TextDecoder('shift_jis');
  const w = createWriteStream(out);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    if (!w.write(decoder.decode(chunk, { stream: true }))) await once(w, 'drain');
  }
  w.end(decoder.decode());
  await once(w, 'finish');
  return out;
}

/**
 * The `read_csv` call for a prepared file: every column as text, in header order, rows with fewer fields
 * padded with NULL. Parsing and checking the values is SQL's job, so a bad value rejects its row, not the run.
 */
export function readCsvSql(f: PreparedCsv): string {
  const columns = f.columns.map((c, i) => `'${(c === '' ? `column${i}` : c).replace(/'/g, "''")}': 'VARCHAR'`).join(', ');
  return `read_csv('${f.path.replace(/'/g, "''")}', header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${columns}}, null_padding = true, strict_mode = false, parallel = true)`;
}
