import { randomBytes } from 'node:crypto';
import { clusterUnavailable, startCluster, startStandby, type Cluster } from '../../scripts/reliability/cluster.ts';
import { grantAppRole } from '../../src/audit/roles.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { ReplicaReads, type ReplicaOptions } from '../../src/store/replica.ts';
import { setOwner } from './owner.ts';
import type { TestStore } from './stores.ts';

// Issue 21's read replicas, tested on a PostgreSQL primary and a streaming replica of the test's own: two
// clusters on ports of their own (scripts/reliability/cluster.ts: initdb, then pg_basebackup -R), never the
// shared server. Only where DATABASE_URL is set (CI sets it: the PostgreSQL suite is on) and this machine has
// PostgreSQL's server programs.

/** Why the replica suites do not run here, or null when they do (a skip says this reason; it is never a pass). */
export function replicaPairUnavailable(): string | null {
  if (process.env['DATABASE_URL'] === undefined) return 'needs the PostgreSQL suite (DATABASE_URL; CI sets it) and a primary and replica of its own';
  return clusterUnavailable();
}

export interface ReplicaPair {
  readonly primary: Cluster;
  readonly standby: Cluster;
  /** Waits until the standby has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Stops replaying on the standby (it keeps answering, with what it had): replication lag, made on purpose. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops both clusters and removes their directories. */
  destroy(): void;
}

async function one<R extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<R | undefined> {
  const db = await openPostgres(url, { poolSize: 1 });
  try {
    return (await db.query<R>(sql, params)).rows[0];
  } finally {
    await db.close();
  }
}

/**
 * A primary and a hot standby streaming from it. `synchronous`: every commit on the primary returns only once the
 * standby has applied it (synchronous_commit = remote_apply), so that a suite written for one database — a write,
 * then a search — reads its own writes on the replica as on the primary; the replica is then the only standby
 * the primary waits for, so do not stop it.
 */
export async function startReplicaPair(opts: { synchronous?: boolean } = {}): Promise<ReplicaPair> {
  const primary = await startCluster();
  let standby: Cluster | null = null;
  try {
    standby = await startStandby(primary);
    const replica = standby;
    if (opts.synchronous === true) {
      await one(primary.url, `ALTER SYSTEM SET synchronous_standby_names = '*'`);
      await one(primary.url, `ALTER SYSTEM SET synchronous_commit = 'remote_apply'`);
      await one(primary.url, 'SELECT pg_reload_conf()');
    }
    const pair: ReplicaPair = {
      primary,
      standby: replica,
      async caughtUp(timeoutMs = 20_000) {
        const target = (await one<{ lsn: string }>(primary.url, 'SELECT pg_current_wal_lsn()::text AS lsn'))?.lsn;
        const until = Date.now() + timeoutMs;
        for (;;) {
          const r = await one<{ ok: boolean }>(replica.url, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [target]);
          if (r?.ok === true) return;
          if (Date.now() > until) throw new Error(`the standby did not replay up to ${target ?? '?'} within ${timeoutMs} ms`);
          await new Promise((res) => setTimeout(res, 50));
        }
      },
      pauseReplay: async () => void (await one(replica.url, 'SELECT pg_wal_replay_pause()')),
      resumeReplay: async () => void (await one(replica.url, 'SELECT pg_wal_replay_resume()')),
      destroy() {
        try {
          replica.destroy();
        } finally {
          primary.destroy();
        }
      },
    };
    // The standby answers once it has replayed to a consistent point; wait for that before anyone reads it.
    await pair.caughtUp();
    return pair;
  } catch (e) {
    standby?.destroy();
    primary.destroy();
    throw e;
  }
}

/**
 * A store on `pair` as the server uses it: a schema of its own on the primary, migrated by the owner, the
 * application role `db` acts as, and the same schema and role read on the standby through ReplicaReads (the
 * routing the server uses), checked once so that it is in use.
 */
export async function openReplicaStore(
  pair: ReplicaPair,
  opts: Partial<ReplicaOptions> = {},
): Promise<{ db: Db; owner: Db; replica: ReplicaReads; server: { schema: string; role: string }; dispose: () => Promise<void> }> {
  const hex = randomBytes(6).toString('hex');
  const schema = `gw_test_${hex}`;
  const role = `gw_app_${hex}`;
  const admin = await openPostgres(pair.primary.url, { poolSize: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const owner = await openPostgres(pair.primary.url, { schema, poolSize: 4 });
  await migrate(owner);
  await grantAppRole(owner, role, schema);
  const db = await openPostgres(pair.primary.url, { schema, role, poolSize: 8 });
  setOwner(db, owner);
  // The role and schema reach the standby by replication: nothing is made there.
  await pair.caughtUp();
  const standbyDb = await openPostgres(pair.standby.url, { schema, role, poolSize: 4, readOnly: true, connectNow: false });
  // A check may take its time on a loaded CI machine: a deadline missed would be a failure the test did not make.
  const replica = new ReplicaReads(db, standbyDb, { maxLagSeconds: 30, checkMs: 10_000, ...opts });
  await replica.check();
  return {
    db,
    owner,
    replica,
    server: { schema, role },
    dispose: async () => {
      await replica.close();
      await db.close();
      await owner.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE; DROP OWNED BY ${role}; DROP ROLE ${role}`);
      await admin.close();
    },
  };
}

/**
 * The HTTP suites' third store (test/api/http.test.ts): PostgreSQL with a streaming replica, the replica's
 * commits synchronous so that the suite's writes are on it before its reads. Each open starts a pair of its
 * own and its dispose stops it. Empty where the pair cannot run (replicaPairUnavailable says why).
 */
const pairUnavailable = replicaPairUnavailable();
// Where DATABASE_URL is set (CI) but no pair can start, say so: the suites using REPLICA_STORES run one store fewer.
if (pairUnavailable !== null && process.env['DATABASE_URL'] !== undefined)
  process.stderr.write(`note: the suites on PostgreSQL with a streaming replica are not registered: ${pairUnavailable}\n`);

export const REPLICA_STORES: readonly TestStore[] =
  pairUnavailable !== null
    ? []
    : [
        {
          name: 'postgres',
          label: 'postgres with a streaming replica',
          async open() {
            const pair = await startReplicaPair({ synchronous: true });
            try {
              const store = await openReplicaStore(pair);
              return {
                ...store,
                dispose: async () => {
                  try {
                    await store.dispose();
                  } finally {
                    pair.destroy();
                  }
                },
              };
            } catch (e) {
              pair.destroy();
              throw e;
            }
          },
        },
      ];
