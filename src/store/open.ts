import type { Config } from '../config.ts';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres, type StoreTimeouts } from './postgres.ts';

/**
 * Opens the configured store and brings its schema up to date. The server passes its time-outs; commands that
 * run long statements on purpose (a region's load, a year's export) wait only for the connection.
 */
export async function openStore(store: Config['store'], timeouts?: StoreTimeouts): Promise<Db> {
  const db = store.kind === 'postgres' ? await openPostgres(store.url, timeouts === undefined ? {} : { timeouts }) : await openPglite(store.dataDir);
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
