import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/**
 * The analysis engine: an in-process DuckDB with bounded memory (it spills to a temporary directory beyond
 * the limit), Japan time as its time zone (timestamps without an offset are Japan time), and no extension
 * ever downloaded. One per analysis run; `close` removes its spill directory.
 */
export interface Engine {
  readonly conn: DuckDBConnection;
  /** Runs a statement. */
  run(sql: string, params?: readonly unknown[]): Promise<void>;
  /** Runs a statement and returns the number of rows it inserted, updated or deleted. */
  exec(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs a query and returns its rows as plain objects (BIGINT as number, timestamps as Date). */
  rows<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  close(): void;
}

export interface EngineOptions {
  /** DuckDB's memory limit, e.g. '4GB' (default: a quarter of the machine's memory, at least 1 GB). */
  readonly memoryLimit?: string;
  readonly threads?: number;
}

export async function openEngine(opts: EngineOptions = {}): Promise<Engine> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const spill = mkdtempSync(join(tmpdir(), 'gridwall-analysis-'));
  const instance: DuckDBInstance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    memory_limit: opts.memoryLimit ?? `${Math.max(1, Math.floor(totalmem() / 4 / 2 ** 30))}GB`,
    threads: String(opts.threads ?? 2),
    temp_directory: spill,
    preserve_insertion_order: 'true',
  });
  const conn = await instance.connect();
  await conn.run(`SET TimeZone = 'Asia/Tokyo'`);
  // Dates travel as ISO text; the SQL casts them (`$1::TIMESTAMPTZ`).
  const values = (params: readonly unknown[] | undefined) =>
    params === undefined ? undefined : (params.map((p) => (p instanceof Date ? p.toISOString() : p)) as never[]);
  return {
    conn,
    run: async (sql, params) => {
      await conn.run(sql, values(params));
    },
    exec: async (sql, params) => (await conn.run(sql, values(params))).rowsChanged,
    rows: async <T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
      const reader = await conn.runAndReadAll(sql, values(params));
      return reader.getRowObjectsJS().map((r) => plain(r as Record<string, unknown>)) as T[];
    },
    close: () => {
      conn.closeSync();
      instance.closeSync();
      rmSync(spill, { recursive: true, force: true });
    },
  };
}

/** BIGINT → number (counts here are far below 2^53), nested values likewise. */
function plain(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = convert(x);
  return out;
}

function convert(x: unknown): unknown {
  if (typeof x === 'bigint') return Number(x);
  if (Array.isArray(x)) return x.map(convert);
  if (x !== null && typeof x === 'object' && !(x instanceof Date)) return plain(x as Record<string, unknown>);
  return x;
}

/** A SQL string literal (for file paths, which DuckDB's table functions take as constants). */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
