import { randomBytes } from 'node:crypto';
import type { Db } from '../src/store/db.ts';
import { openPglite } from '../src/store/pglite.ts';
import { openPostgres } from '../src/store/postgres.ts';

/**
 * The store a benchmark runs on: embedded PGlite in memory, or — with DATABASE_URL — a scratch schema on the
 * PostgreSQL server, dropped by `dispose`.
 */
export async function openBenchStore(url: string | undefined): Promise<{ db: Db; name: string; dispose: () => Promise<void> }> {
  if (url === undefined) {
    const db = await openPglite(null);
    return { db, name: 'PGlite (in memory)', dispose: () => db.close() };
  }
  const schema = `gw_bench_${randomBytes(4).toString('hex')}`;
  const admin = await openPostgres(url, { poolSize: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const db = await openPostgres(url, { schema, poolSize: 16 });
  const version = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
  return {
    db,
    name: `PostgreSQL server (${version})`,
    dispose: async () => {
      await db.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}
