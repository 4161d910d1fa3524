import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { csvLine, ident, type Db, type Queryable, type Statement } from './db.ts';

/**
 * Connects to a PostgreSQL server. `schema` puts gridwall's tables in their own schema (tests use one per
 * run); `role` makes every connection act as that role (SET ROLE at connect: tests run the application as a
 * role from grantAppRole while logged in as the owner). Dates come back as Date, bigint as number.
 */
export async function openPostgres(url: string, opts: { poolSize?: number; schema?: string; role?: string } = {}): Promise<Db> {
  pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
  const options = [
    ...(opts.schema === undefined ? [] : [`-c search_path=${ident(opts.schema)},public`]),
    ...(opts.role === undefined ? [] : [`-c role=${ident(opts.role)}`]),
  ];
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(options.length === 0 ? {} : { options: options.join(' ') }),
  });
  pool.on('error', () => undefined); // an idle client's error surfaces on its next query instead
  const client = await pool.connect(); // fail now, with the server's message, if the URL is wrong
  client.release();
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
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(asQueryable(c));
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
    async copyRows(table, columns, rows) {
      const c = await pool.connect();
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
        c.release();
      }
    },
    close: () => pool.end(),
  };
}
