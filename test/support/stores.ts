import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';

export interface TestStore {
  readonly name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty store; `dispose` removes it. */
  open(): Promise<{ db: Db; dispose: () => Promise<void> }>;
}

const url = process.env['DATABASE_URL'];

/**
 * The backends every store suite runs on: embedded PGlite always, and the PostgreSQL server named by
 * DATABASE_URL when it is set (CI sets it). Each open gets its own schema on the server.
 */
export const STORES: readonly TestStore[] = [
  {
    name: 'pglite',
    async open() {
      const db = await openPglite(null);
      await migrate(db);
      return { db, dispose: () => db.close() };
    },
  },
  ...(url === undefined
    ? []
    : [
        {
          name: 'postgres' as const,
          async open() {
            const schema = `gw_test_${randomBytes(6).toString('hex')}`;
            const admin = await openPostgres(url, { poolSize: 1 });
            await admin.exec(`CREATE SCHEMA ${schema}`);
            const db = await openPostgres(url, { schema, poolSize: 8 });
            await migrate(db);
            return {
              db,
              dispose: async () => {
                await db.close();
                await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
                await admin.close();
              },
            };
          },
        },
      ]),
];

if (url === undefined) process.stderr.write('note: DATABASE_URL is not set, so the PostgreSQL store suite is not registered (CI sets it)\n');
