/**
 * The one port the rest of gridwall uses to reach PostgreSQL, whether embedded (PGlite) or a server (pg).
 * Only the slice of each library that gridwall needs is typed here, so driver types never leak upward.
 */
export interface Queryable {
  query<R extends Record<string, unknown>>(sql: string | Statement, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * A hot-path query the server prepares once per connection (PostgreSQL parses and plans an unnamed query on
 * every call, which costs more than running a point look-up). Only fixed SQL text belongs here.
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** Declares a prepared statement; the name must be unique across gridwall. */
export function statement(name: string, text: string): Statement {
  return Object.freeze({ name, text });
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction on one connection; rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Bulk load rows (COPY on both backends). `columns` name the CSV columns in order. */
  copyRows(table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<number>;
  /**
   * Streams a query's rows out with `COPY (query) TO STDOUT`, each row its columns as text (null for NULL): for
   * reading millions of rows without paging (the verifier). PostgreSQL only: the embedded store would hold the
   * whole result in memory, so its callers page instead. COPY takes no parameters — only fixed SQL and
   * integers checked by the caller belong in `query`.
   */
  copyOut?(query: string): AsyncIterable<(string | null)[]>;
  close(): Promise<void>;
  /** The connection pool's state, for the metrics (PostgreSQL; the embedded store has no pool). */
  poolStats?(): { readonly total: number; readonly idle: number; readonly waiting: number };
}

/** A json/jsonb column's value: parsed already by the driver, or text to parse (a json column read as text). */
export function jsonColumn(v: unknown): unknown {
  return typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
}

/** Quotes one CSV value for COPY … (FORMAT csv). Null becomes an unquoted empty field. */
export function csvValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  // The common cases first, without a regex when there is no quote to double: the demo loader writes ~10^8
  // values for 10 million supply points, and this function was half of its time in Node (issue 21).
  if (typeof v === 'string') return v.includes('"') ? `"${v.replace(/"/g, '""')}"` : `"${v}"`;
  if (typeof v === 'number' || typeof v === 'boolean') return `"${String(v)}"`;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return `"{${v.join(',')}}"`;
  const s =
    v instanceof Date
      ? v.toISOString()
      : Array.isArray(v)
        ? `{${v.map((x) => JSON.stringify(String(x))).join(',')}}`
        : typeof v === 'string'
          ? v
          : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'
            ? String(v)
            : JSON.stringify(v);
  return `"${s.replace(/"/g, '""')}"`;
}

export function csvLine(row: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < row.length; i++) line += i === 0 ? csvValue(row[i]) : `,${csvValue(row[i])}`;
  return `${line}\n`;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Guards identifiers that are spliced into COPY statements (values always go as parameters). */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`bad identifier: ${name}`);
  return name;
}

/** A nullable timestamptz column's value (a Date from pg and PGlite, or its text) as a `Date`; null stays null. */
export function dateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : new Date(v as string | Date);
}
