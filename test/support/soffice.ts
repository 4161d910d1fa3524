import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * LibreOffice Calc, headless (Debian's `libreoffice-calc-nogui`; `.ci/run` installs it), as a person's
 * spreadsheet: it opens a file gridwall wrote and saves it as flat ODF (`.fods`), whose XML states each
 * cell's type (`office:value-type`), value and formula, and each sheet's page layout. Never skipped: without
 * /usr/bin/soffice the tests that use it fail.
 */
export const SOFFICE = '/usr/bin/soffice';

/**
 * The CSV import filter's options as the Text Import dialog offers them to a person double-clicking a CSV:
 * comma-separated, `"` quoting, the character set (UTF-8, which the dialog picks for a file starting with a
 * byte-order mark; Japanese Windows-932 for a CP932 file on a Japanese desktop), from line 1, every column
 * "Standard" (type detection on), Japanese, quoted fields NOT forced to text, special numbers (dates, times,
 * scientific notation) detected, spaces not trimmed, and formulas evaluated: each the setting that would do
 * the most to a cell, so a file that survives this survives the dialog however it was left.
 * Tokens: https://help.libreoffice.org/latest/en-US/text/shared/guide/csv_params.html
 */
export function csvImportFilter(encoding: 'utf-8' | 'cp932'): string {
  const charset = encoding === 'utf-8' ? '76' : '60';
  return `Text - txt - csv (StarCalc):44,34,${charset},1,,1041,false,true,false,false,false,-1,true`;
}

export interface OdsCell {
  /** `string`, `float`, `date`, `time`, `percentage`, `boolean`, … */
  readonly type: string;
  /** `office:value` or `office:date-value` (absent for text). */
  readonly value: string | null;
  /** The text the cell shows (tabs as `\t`). */
  readonly text: string;
  readonly formula: string | null;
}

export interface OdsTable {
  readonly name: string;
  /** Rows with their cells; empty cells are `null`. */
  readonly rows: (OdsCell | null)[][];
  /** Rows LibreOffice repeats at the top of every printed page. */
  readonly headerRows: number;
  readonly pageLayout: { readonly orientation: string | null; readonly scaleToX: string | null; readonly header: string };
}

const run = promisify(execFile);

const unescape = (s: string) =>
  s
    .replace(/<text:tab\/>/g, '\t')
    .replace(/<text:s(?: text:c="(\d+)")?\/>/g, (_m, n: string | undefined) => ' '.repeat(Number(n ?? 1)))
    .replace(/<text:line-break\/>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

const attr = (attrs: string, name: string): string | null => new RegExp(`${name}="([^"]*)"`).exec(attrs)?.[1] ?? null;

function parseCell(attrs: string, inner: string): OdsCell | null {
  const type = attr(attrs, 'office:value-type');
  if (type === null) return null;
  const paragraphs = [...inner.matchAll(/<text:p(?:\s[^>]*?)?(?:\/>|>([\s\S]*?)<\/text:p>)/g)].map((m) => unescape(m[1] ?? ''));
  return { type, value: attr(attrs, 'office:value') ?? attr(attrs, 'office:date-value'), text: paragraphs.join('\n'), formula: attr(attrs, 'table:formula') };
}

function parseRow(xml: string): (OdsCell | null)[] {
  const cells: (OdsCell | null)[] = [];
  for (const m of xml.matchAll(/<table:(?:covered-)?table-cell(\s[^>]*?)?(?:\/>|>([\s\S]*?)<\/table:(?:covered-)?table-cell>)/g)) {
    const attrs = m[1] ?? '';
    const cell = parseCell(attrs, m[2] ?? '');
    const repeat = Number(attr(attrs, 'table:number-columns-repeated') ?? 1);
    for (let i = 0; i < (cell === null ? Math.min(repeat, 64) : repeat); i++) cells.push(cell);
  }
  while (cells.length > 0 && cells[cells.length - 1] === null) cells.pop();
  return cells;
}

/** The tables of a flat ODF spreadsheet, with each one's page layout. */
export function parseFods(xml: string): OdsTable[] {
  const layouts = new Map<string, { orientation: string | null; scaleToX: string | null; header: string }>();
  for (const m of xml.matchAll(/<style:page-layout style:name="([^"]+)"[^>]*>([\s\S]*?)<\/style:page-layout>/g)) {
    const props = /<style:page-layout-properties([^>]*)>/.exec(m[2] ?? '')?.[1] ?? '';
    layouts.set(m[1] ?? '', { orientation: attr(props, 'style:print-orientation'), scaleToX: attr(props, 'style:scale-to-X'), header: '' });
  }
  const masters = new Map<string, { orientation: string | null; scaleToX: string | null; header: string }>();
  for (const m of xml.matchAll(/<style:master-page style:name="([^"]+)"[^>]*style:page-layout-name="([^"]+)"[^>]*>([\s\S]*?)<\/style:master-page>/g)) {
    const layout = layouts.get(m[2] ?? '') ?? { orientation: null, scaleToX: null, header: '' };
    const header = /<style:header(?:\s[^>]*)?>([\s\S]*?)<\/style:header>/.exec(m[3] ?? '')?.[1] ?? '';
    masters.set(m[1] ?? '', { ...layout, header: unescape(header) });
  }
  const tableStyles = new Map<string, string>();
  for (const m of xml.matchAll(/<style:style style:name="([^"]+)" style:family="table" style:master-page-name="([^"]+)"/g))
    tableStyles.set(m[1] ?? '', m[2] ?? '');

  const tables: OdsTable[] = [];
  for (const t of xml.matchAll(/<table:table table:name="([^"]*)"([^>]*)>([\s\S]*?)<\/table:table>/g)) {
    const body = t[3] ?? '';
    const headerXml = /<table:table-header-rows>([\s\S]*?)<\/table:table-header-rows>/.exec(body)?.[1] ?? '';
    const rows: (OdsCell | null)[][] = [];
    for (const r of body.matchAll(/<table:table-row(\s[^>]*?)?(?:\/>|>([\s\S]*?)<\/table:table-row>)/g)) {
      const cells = parseRow(r[2] ?? '');
      const repeat = Number(attr(r[1] ?? '', 'table:number-rows-repeated') ?? 1);
      for (let i = 0; i < (cells.length === 0 ? Math.min(repeat, 4) : repeat); i++) rows.push(cells);
    }
    while (rows.length > 0 && rows[rows.length - 1]?.length === 0) rows.pop();
    const style = attr(t[2] ?? '', 'table:style-name') ?? '';
    tables.push({
      name: unescape(t[1] ?? ''),
      rows,
      headerRows: [...headerXml.matchAll(/<table:table-row[\s>]/g)].length,
      pageLayout: masters.get(tableStyles.get(style) ?? '') ?? { orientation: null, scaleToX: null, header: '' },
    });
  }
  return tables;
}

/**
 * Opens every file with LibreOffice in one run (each run costs a second or more) and reads each back as
 * `.fods`; `infilter` (the CSV import's options) applies to every file of the run. A private profile per
 * run, so runs in parallel do not share one.
 */
export async function openInLibreOffice(files: readonly string[], infilter?: string): Promise<Map<string, OdsTable[]>> {
  if (!existsSync(SOFFICE)) throw new Error(`${SOFFICE} is missing: install Debian's libreoffice-calc-nogui (.ci/run does)`);
  const work = mkdtempSync(join(tmpdir(), 'gw-soffice-'));
  try {
    const out = join(work, 'out');
    await run(
      SOFFICE,
      [
        `-env:UserInstallation=file://${join(work, 'profile')}`,
        '--headless',
        '--norestore',
        ...(infilter === undefined ? [] : [`--infilter=${infilter}`]),
        '--convert-to',
        'fods',
        '--outdir',
        out,
        ...files,
      ],
      { timeout: 120_000 },
    );
    const result = new Map<string, OdsTable[]>();
    for (const f of files) {
      const fods = join(out, `${basename(f, extname(f))}.fods`);
      if (!existsSync(fods)) throw new Error(`LibreOffice did not convert ${f}`);
      result.set(f, parseFods(readFileSync(fods, 'utf8')));
    }
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
