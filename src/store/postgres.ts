import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { copyTextRows } from './copy-text.ts';
import { csvLine, ident, type Db, type Queryable, type Statement } from './db.ts';
import { StoreDeadlineError, storeFailure } from './failure.ts';

/**
 * How long a connection to the server waits, in milliseconds. Without them a frozen or unreachable server held
 * every request for as long as it stalled (issue 17). `queryMs` is the client's own limit, which ends a wait
 * on a server that cannot even cancel (stopped, partitioned); `statementMs` is the server's, which cancels the
 * work; `idleInTransactionMs` ends a transaction its client abandoned, releasing its locks.
 */
export interface StoreTimeouts {
  readonly connectMs: number;
  readonly statementMs: number;
  readonly queryMs: number;
  readonly idleInTransactionMs: number;
}

/** For commands that run long statements on purpose (loading a region, exporting a year): connect time-out only. */
export const CONNECT_ONLY_MS = 10_000;

/**
 * `url` with `options` added to its own `options` parameter: node-postgres lets a URL's `?options=` (a
 * search_path, say) replace the ones given beside it, so a setting that must hold whatever the URL says goes in.
 */
function withOptions(url: string, options: readonly string[]): string {
  if (options.length === 0) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // A form node-postgres reads but URL does not (no host: a socket directory in `?host=`): the options are
    // appended as one more parameter. Never rethrown: the error would carry the URL, password included.
    return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(options.join(' '))}`;
  }
  const own = u.searchParams.get('options');
  u.searchParams.set('options', [...(own === null ? [] : [own]), ...options].join(' '));
  return u.toString();
}

/**
 * The chunks of a stream, failing it when none arrives for `ms`: the bound on a long COPY's wait, which has no
 * statement time-out of its own.
 */
async function* stallGuarded(stream: Readable, ms: number): AsyncGenerator<Buffer> {
  const timer = setTimeout(() => stream.destroy(new StoreDeadlineError(ms)), ms);
  try {
    for await (const chunk of stream) {
      timer.refresh();
      yield chunk as Buffer;
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The longest a COPY waits for its next chunk (or its first: a sort before the first row) when the connection's
 * own query time-out is shorter: the server sends rows in 8 KB buffers, not row by row.
 */
const COPY_STALL_MS = 120_000;

/**
 * Connects to a PostgreSQL server. `schema` puts gridwall's tables in their own schema (tests use one per
 * run); `role` makes every connection act as that role (SET ROLE at connect: tests run the application as a
 * role from grantAppRole while logged in as the owner). Dates come back as Date, bigint as number.
 * `readOnly` makes every transaction read-only (a read replica's pool: nothing written through it even when
 * its URL names a writable server); `connectNow: false` opens the pool without connecting (a replica that is
 * down at start is waited for, not fatal).
 */
export async function openPostgres(
  url: string,
  opts: { poolSize?: number; schema?: string; role?: string; timeouts?: StoreTimeouts; readOnly?: boolean; connectNow?: boolean } = {},
): Promise<Db> {
  pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
  const options = [
    ...(opts.schema === undefined ? [] : [`-c search_path=${ident(opts.schema)},public`]),
    ...(opts.role === undefined ? [] : [`-c role=${ident(opts.role)}`]),
  ];
  // Always through the URL's own `options`: given beside a URL that has `?options=` (a statement_timeout, say),
  // node-postgres would drop these, and the pool would run in `public` as the login role — not as the
  // application role the operator set.
  const pool = new pg.Pool({
    connectionString: withOptions(url, opts.readOnly === true ? [...options, '-c default_transaction_read_only=on'] : options),
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.timeouts?.connectMs ?? CONNECT_ONLY_MS,
    ...(opts.timeouts === undefined
      ? {}
      : {
          statement_timeout: opts.timeouts.statementMs,
          query_timeout: opts.timeouts.queryMs,
          idle_in_transaction_session_timeout: opts.timeouts.idleInTransactionMs,
        }),
  });
  pool.on('error', () => undefined); // an idle client's error surfaces on its next query instead
  if (opts.connectNow !== false) {
    const client = await pool.connect(); // fail now, with the server's message, if the URL is wrong
    client.release();
  }
  // A client checked out of the pool has no 'error' listener (pg-pool removes its idle one while it is lent): a
  // connection lost between two of its queries — inside a transaction — was an unhandled 'error' event that ended
  // the process (seen in the fault suite). Lent clients ignore it too; their next query fails, as an idle one's.
  const ignore = () => undefined;
  const checkout = async (): Promise<pg.PoolClient> => {
    const c = await pool.connect();
    c.on('error', ignore);
    return c;
  };
  const giveBack = (c: pg.PoolClient, destroy = false): void => {
    c.removeListener('error', ignore);
    c.release(destroy);
  };
  const asQueryable = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends Record<string, unknown>>(sql: string | Statement, params: readonly unknown[] = []) {
      const res = typeof sql === 'string' ? await q.query<R>(sql, [...params]) : await q.query<R>({ name: sql.name, text: sql.text, values: [...params] });
      return { rows: res.rows };
    },
    async exec(sql: string) {
      await q.query(sql);
    },
  });
  return {
    kind: 'postgres',
    ...asQueryable(pool),
    async transaction(fn) {
      const c = await checkout();
      let failed = false;
      try {
        await c.query('BEGIN');
        const out = await fn(asQueryable(c));
        await c.query('COMMIT');
        return out;
      } catch (e) {
        // A connection that failed or timed out is not given back to the pool in an unknown state, nor asked
        // to roll back (that would wait out the query time-out a second time): the server ends the transaction.
        failed = storeFailure(e) !== null;
        if (!failed) await c.query('ROLLBACK').catch(() => (failed = true));
        throw e;
      } finally {
        giveBack(c, failed);
      }
    },
    async copyRows(table, columns, rows) {
      const c = await checkout();
      try {
        const stream = c.query(copyFrom(`COPY ${ident(table)} (${columns.map(ident).join(', ')}) FROM STDIN WITH (FORMAT csv)`));
        let n = 0;
        let chunk = '';
        for (const row of rows) {
          chunk += csvLine(row);
          n++;
          if (chunk.length > 1 << 20) {
            if (!stream.write(chunk)) await once(stream, 'drain');
            chunk = '';
          }
        }
        stream.end(chunk);
        await finished(stream);
        return n;
      } finally {
        giveBack(c);
      }
    },
    async *copyOut(query) {
      // Its own connection, without the pool's time-outs: COPY is one statement that runs as long as its rows last
      // (a month of the log), which a statement or query time-out would cut. What is bounded instead is the wait
      // for each next chunk (a server that froze), and the connection is closed whatever happens.
      const c = new pg.Client({
        connectionString: withOptions(url, options),
        connectionTimeoutMillis: opts.timeouts?.connectMs ?? CONNECT_ONLY_MS,
      });
      c.on('error', () => undefined);
      await c.connect();
      try {
        await c.query('SET statement_timeout = 0');
        if (opts.readOnly === true) await c.query('SET default_transaction_read_only = on');
        yield* copyTextRows(stallGuarded(c.query(copyTo(`COPY (${query}) TO STDOUT`)), Math.max(opts.timeouts?.queryMs ?? 0, COPY_STALL_MS)));
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    close: () => pool.end(),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}
