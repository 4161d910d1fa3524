import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grantAppRole } from '../../src/audit/roles.ts';
import type { Db } from '../../src/store/db.ts';
import type { ReplicaReads } from '../../src/store/replica.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite, snapshotPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { setOwner } from './owner.ts';

export interface TestStore {
  /** The engine. */
  readonly name: 'pglite' | 'postgres';
  /** How a suite names the store where the engine alone does not say (PostgreSQL with a streaming replica: test/support/replica-pair.ts). */
  readonly label?: string;
  /**
   * A fresh, migrated, empty store; `dispose` removes it. On PostgreSQL `db` acts as a fresh application role
   * (grantAppRole), as the server does in production, and `owner` as the schema's owner (the one who migrates,
   * loads master data, archives — and the attacker with the owner's rights); on PGlite both are the same.
   * `replica`: the read replica the application is given (DATABASE_REPLICA_URL), where the store has one.
   */
  open(): Promise<{ db: Db; owner: Db; dispose: () => Promise<void>; server?: { schema: string; role: string }; replica?: ReplicaReads }>;
}

export { ownerOf } from './owner.ts';

const url = process.env['DATABASE_URL'];

/**
 * The backends every store suite runs on: embedded PGlite always, and the PostgreSQL server named by
 * DATABASE_URL when it is set (CI sets it). Each open gets its own schema on the server, migrated by the
 * owner, and its own application role (gw_app_…, NOLOGIN, dropped on dispose) that `db` acts as.
 */
let snapshot: Promise<Blob> | null = null;

/**
 * What a migrated empty store is made of: the store's code and migrations, the domain (the permission catalog
 * is written at migration), how this file makes it, and the PGlite version. A change to any of them makes a new snapshot.
 */
function snapshotKey(): string {
  const h = createHash('sha256');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  for (const f of [...walk('src/store'), ...walk('src/domain'), 'test/support/stores.ts'].sort()) h.update(f).update(readFileSync(f));
  h.update(readFileSync('node_modules/@electric-sql/pglite/package.json'));
  return h.digest('hex').slice(0, 24);
}

/**
 * A migrated empty store, made once per test process; every PGlite store opens as a copy of it (~4× faster
 * than migrating). The snapshot is also kept on disk between test processes (a fresh PGlite spends seconds in
 * initdb before it migrates; ~60 test processes paid that each), keyed by what it is made of.
 */
function migratedSnapshot(): Promise<Blob> {
  snapshot ??= (async () => {
    const dir = join(tmpdir(), 'gridwall-test-pglite');
    const file = join(dir, `${snapshotKey()}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await openPglite(null);
    try {
      await migrate(db);
      // Test stores hold a fixture, not a region: 16 MB of shared buffers rather than 128 MB, which each of the
      // ~64 stores a run opens would otherwise allocate and clear (~0.1 s each, measured).
      await db.exec(`ALTER SYSTEM SET shared_buffers = '16MB'`);
      const blob = await snapshotPglite(db);
      mkdirSync(dir, { recursive: true });
      // Written whole, then renamed: a process running beside this one reads a complete file or none.
      const partial = `${file}.${process.pid}.partial`;
      writeFileSync(partial, Buffer.from(await blob.arrayBuffer()));
      renameSync(partial, file);
      // Snapshots of older code are of no further use (each is ~40 MB).
      for (const other of readdirSync(dir)) if (other.endsWith('.tar') && join(dir, other) !== file) rmSync(join(dir, other), { force: true });
      return blob;
    } finally {
      await db.close();
    }
  })();
  return snapshot;
}

/**
 * An embedded store's data directory (as `gridwall start` keeps one), migrated and empty, for suites that run
 * the command line against it: laid down from the snapshot (~0.8 s) rather than by initdb and migration (~3 s).
 * Returns the store opened on it; close it before a command opens the directory.
 */
export async function openEmbeddedDir(dir: string): Promise<Db> {
  return openPglite(dir, { snapshot: await migratedSnapshot() });
}

export const STORES: readonly TestStore[] = [
  {
    name: 'pglite',
    async open() {
      const db = await openPglite(null, { snapshot: await migratedSnapshot() });
      return { db, owner: db, dispose: () => db.close() };
    },
  },
  ...(url === undefined
    ? []
    : [
        {
          name: 'postgres' as const,
          async open() {
            const hex = randomBytes(6).toString('hex');
            const schema = `gw_test_${hex}`;
            const role = `gw_app_${hex}`;
            const admin = await openPostgres(url, { poolSize: 1 });
            await admin.exec(`CREATE SCHEMA ${schema}`);
            const owner = await openPostgres(url, { schema, poolSize: 4 });
            await migrate(owner);
            await grantAppRole(owner, role, schema);
            const db = await openPostgres(url, { schema, role, poolSize: 8 });
            setOwner(db, owner);
            return {
              db,
              owner,
              server: { schema, role },
              dispose: async () => {
                await db.close();
                await owner.close();
                await admin.exec(`DROP SCHEMA ${schema} CASCADE; DROP OWNED BY ${role}; DROP ROLE ${role}`);
                await admin.close();
              },
            };
          },
        },
      ]),
];

if (url === undefined) process.stderr.write('note: DATABASE_URL is not set, so the PostgreSQL store suite is not registered (CI sets it)\n');
