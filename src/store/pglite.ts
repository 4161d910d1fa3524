import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { csvLine, ident, type Db, type Queryable, type Statement } from './db.ts';
import { inputRefusal } from '../domain/refusal.ts';

export class DataDirLockedError extends inputRefusal('data_dir_locked') {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the data directory ${dataDir} is in use by process ${pid}; stop it first (two processes on one PGlite directory corrupt it)`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock on the data directory: a lock file created with O_EXCL holding our pid. A lock
 * left by a dead process is taken over. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'gridwall.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) throw new DataDirLockedError(dataDir, pid);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

const engines = new WeakMap<Db, PGlite>();

/** A snapshot of an in-memory store (a tarball of its data directory), to open copies of it from. */
export async function snapshotPglite(db: Db): Promise<Blob> {
  const pg = engines.get(db);
  if (pg === undefined) throw new Error('not an embedded store');
  return pg.dumpDataDir('none');
}

/**
 * Opens embedded PostgreSQL. `dataDir` null keeps everything in memory (tests), optionally starting from a
 * snapshot (`snapshotPglite`): a migrated store opens in a fraction of the time migrating takes.
 */
export async function openPglite(dataDir: string | null, opts: { snapshot?: Blob } = {}): Promise<Db> {
  const release = dataDir === null ? () => undefined : lockDataDir(dataDir);
  let pg: PGlite;
  try {
    pg = await PGlite.create({
      ...(dataDir === null ? {} : { dataDir: join(dataDir, 'pgdata') }),
      ...(opts.snapshot === undefined ? {} : { loadDataDir: opts.snapshot }),
      extensions: { pg_trgm },
    });
  } catch (e) {
    release();
    throw e;
  }
  const asQueryable = (q: { query: PGlite['query']; exec: PGlite['exec'] }): Queryable => ({
    async query<R extends Record<string, unknown>>(sql: string | Statement, params: readonly unknown[] = []) {
      // PGlite runs in this process: there is no per-connection statement cache to gain from a name.
      const res = await q.query<R>(typeof sql === 'string' ? sql : sql.text, [...params]);
      return { rows: res.rows };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  const db: Db = {
    kind: 'pglite',
    ...asQueryable(pg),
    transaction: (fn) => pg.transaction((tx) => fn(asQueryable(tx))),
    async copyRows(table, columns, rows) {
      let text = '';
      let n = 0;
      for (const row of rows) {
        text += csvLine(row);
        n++;
      }
      if (n === 0) return 0;
      await pg.query(`COPY ${ident(table)} (${columns.map(ident).join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`, [], {
        blob: new Blob([text]),
      });
      return n;
    },
    async close() {
      try {
        await pg.close();
      } finally {
        release();
      }
    },
  };
  engines.set(db, pg);
  return db;
}
