import type { Config } from '../config.ts';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

/** Opens the configured store and brings its schema up to date. */
export async function openStore(store: Config['store']): Promise<Db> {
  const db = store.kind === 'postgres' ? await openPostgres(store.url) : await openPglite(store.dataDir);
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
