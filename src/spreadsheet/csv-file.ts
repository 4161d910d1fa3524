import type { CsvEncoding } from '../domain/export-file.ts';
import { japanIso } from '../domain/japan-time.ts';
import { unreachable } from '../domain/closed-set.ts';
import { CP932_REPLACEMENT, encodeCp932 } from './cp932.ts';
import { inertText, type Cell, type ColumnHead, type SpreadsheetDoc } from './table.ts';

/**
 * CSV for people (issue 19): RFC 4180, CRLF, quoted only where a value needs it, opened by a double click in
 * Excel or LibreOffice without losing anything. Those read every unquoted-looking field and turn what looks
 * like a number into one: the supply point ID `0217800042931015223320` became `2.17800042931015E+20`, its
 * leading zero and last seven digits gone for good once saved. So a text cell that a spreadsheet would read as
 * a number or a date is written with one leading tab: the cell stays text in both (LibreOffice keeps the tab
 * in the cell, Excel likewise), the digits intact. The trade-off: the tab is in the data — copied out of the
 * cell, it comes along (gridwall's own search ignores it). `="…"` would hide it but is a formula, which
 * gridwall never writes. Programs read the JSON forms, which carry every value as it is.
 */

/**
 * Text that Excel or LibreOffice would turn into a number, a date, a time, a truth value or an error value on
 * opening. Error values (`#N/A`, `#DIV/0!`, …, any case): Excel reads such a field as the error itself, not
 * as text (LibreOffice 7.4 keeps them as text — tested — but a person may open the file in either).
 */
const NUMBER_OR_DATE_LIKE = [
  /^\s*[(（]?[−$¥￥€£]?\s*[0-9０-９.．]/u,
  /^\s*(true|false)\s*$/iu,
  /^\s*(明治|大正|昭和|平成|令和|[MTSHRmtshr]\s*[0-9０-９])/u,
  /^\s*(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[\s\-/,]*[0-9]/iu,
  /^\s*#(N\/A|NULL!|DIV\/0!|VALUE!|REF!|NAME\?|NUM!|GETTING_DATA|SPILL!|CALC!|FIELD!|BLOCKED!|CONNECT!|BUSY!|UNKNOWN!|EXTERNAL!|PYTHON!)\s*$/iu,
];

/** Text as it goes into a CSV cell: inert, and with a leading tab when it would otherwise stop being text. */
export function csvText(s: string): string {
  const inert = inertText(s);
  return NUMBER_OR_DATE_LIKE.some((re) => re.test(inert)) ? `\t${inert}` : inert;
}

function field(s: string): string {
  return /[",\t\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function cellText(c: Cell): string {
  if (c.value === null) return '';
  switch (c.kind) {
    case 'text':
      return field(csvText(c.value));
    case 'number':
      return Number.isFinite(c.value) ? String(c.value) : '';
    case 'day':
      // A day is read as a date by both, which is what it is.
      return field(inertText(c.value));
    case 'instant':
      return japanIso(c.value);
    default:
      return unreachable(c);
  }
}

/** One row, with its CRLF. */
export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(cellText).join(',')}\r\n`;
}

/** The header row of a table. */
export function csvHeadLine(columns: readonly ColumnHead[]): string {
  return csvLine(columns.map((c) => ({ kind: 'text', value: c.head })));
}

/** A line of one text cell (a title or a note above a table). */
export function csvNoteLine(text: string): string {
  return csvLine([{ kind: 'text', value: text }]);
}

/**
 * Turns the CSV's text into bytes in the chosen encoding: UTF-8 after a byte-order mark (so Excel and
 * LibreOffice read it as Unicode), or CP932 without one. CP932 cannot hold every character (𠮷, emoji, most
 * non-Japanese scripts): each is written as 〓 and counted, never dropped silently — the file then ends with
 * a line saying how many were replaced, and the UTF-8 form holds them all.
 */
export class CsvEncoder {
  #replaced = 0;

  constructor(readonly encoding: CsvEncoding) {}

  /** What the file starts with. */
  start(): Buffer {
    return this.encoding === 'utf-8' ? Buffer.from('\uFEFF', 'utf8') : Buffer.alloc(0);
  }

  encode(s: string): Buffer {
    if (this.encoding === 'utf-8') return Buffer.from(s, 'utf8');
    const { bytes, replaced } = encodeCp932(s);
    this.#replaced += replaced;
    return bytes;
  }

  /** Characters written as 〓 so far. */
  get replaced(): number {
    return this.#replaced;
  }

  /** What the file ends with: nothing, or the line saying how many characters CP932 could not hold. */
  finish(): Buffer {
    if (this.#replaced === 0) return Buffer.alloc(0);
    const n = this.#replaced;
    return this.encode(
      `\r\n${csvNoteLine(`# CP932で表せない文字 ${n} 字を${CP932_REPLACEMENT}に置き換えました（UTF-8 版にはすべて入っています） / ${n} character(s) CP932 cannot hold were written as ${CP932_REPLACEMENT}; the UTF-8 file holds them all`)}`,
    );
  }
}

/** The text of a document: one table as its header and rows; several, each after its notes and title. */
export function* csvTextOf(doc: SpreadsheetDoc): Generator<string> {
  const plain = doc.tables.length === 1 && doc.tables.every((t) => t.notes.length === 0);
  for (const [i, t] of doc.tables.entries()) {
    if (!plain) {
      if (i > 0) yield '\r\n';
      for (const n of t.notes) yield csvNoteLine(n);
      if (t.notes.length > 0) yield '\r\n';
      yield csvNoteLine(t.title);
    }
    yield csvHeadLine(t.columns);
    for (const r of t.rows) yield csvLine(r);
  }
}

/** A document as a CSV file in the encoding asked for, and how many characters it had to replace. */
export function csvFile(doc: SpreadsheetDoc, encoding: CsvEncoding): { body: Buffer; replaced: number } {
  const enc = new CsvEncoder(encoding);
  const parts = [enc.start()];
  for (const s of csvTextOf(doc)) parts.push(enc.encode(s));
  parts.push(enc.finish());
  return { body: Buffer.concat(parts), replaced: enc.replaced };
}
