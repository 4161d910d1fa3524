import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { findingSink } from '../src/analysis/findings.ts';
import { buildApp } from '../src/api/app.ts';
import { ANALYSIS_WAIT_MS, LOGIN_ATTEMPTS_PER_MINUTE } from '../src/api/context.ts';
import { Metrics } from '../src/api/metrics.ts';
import { GroupCommitLog } from '../src/audit/log-writer.ts';
import { SearchTerms } from '../src/audit/search-terms.ts';
import { generateSigningKey, type SigningKey } from '../src/audit/signing.ts';
import { configuredTrust } from '../src/audit/trust.ts';
import { loadConfig } from '../src/config.ts';
import { compileDecisionTable } from '../src/domain/decision-table.ts';
import { Firewall } from '../src/firewall/firewall.ts';
import { ReadingTally } from '../src/firewall/reading-tally.ts';
import { ReadLimiter, type ReadLimits } from '../src/domain/read-limits.ts';
import { Sessions } from '../src/identity/session-store.ts';
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

export interface BenchServerOptions {
  /** The firewall counts reads against these limits (domain/read-limits.ts); none by default. */
  readonly readLimits?: ReadLimits;
  /**
   * Another bench server's log writer and key: two apps over one chain, so a bench can compare two firewalls
   * in the same run without two writers taking turns at the chain's head.
   */
  readonly shareLog?: { readonly log: GroupCommitLog; readonly key: SigningKey };
  /** Bulk reading judged live (firewall/reading-tally.ts) beside the reads, as the server runs it; off by default. */
  readonly bulkReading?: boolean;
}

/** How long a bench server keeps a session's actor (BENCH_SESSION_CACHE_MS; the server's default 1 s). */
const SESSION_CACHE_MS = Number(process.env['BENCH_SESSION_CACHE_MS'] ?? 1000);

/**
 * The application as in production, listening on a free local port: the firewall with its durable log, the
 * metrics kept (the writer counts every event and field decision), the server log at `info` (one JSON line
 * per request, written nowhere), a default configuration's HTTP time-outs (the answer time-out, a timer per
 * request, among them). `extend` mounts a bench's own routes (a baseline).
 */
export async function startBenchServer(
  db: Db,
  extend?: (app: FastifyInstance) => void,
  opts: BenchServerOptions = {},
): Promise<{ app: FastifyInstance; base: string; log: GroupCommitLog; key: SigningKey; tally: ReadingTally | null }> {
  const key = opts.shareLog?.key ?? generateSigningKey();
  const metrics = new Metrics();
  const log = opts.shareLog?.log ?? new GroupCommitLog(db, { key, observer: metrics });
  const limiter = opts.readLimits === undefined ? null : new ReadLimiter(opts.readLimits);
  const tally = opts.bulkReading === true ? new ReadingTally(db, findingSink(db), { clock: () => new Date() }) : null;
  const firewall = new Firewall(db, log, compileDecisionTable(), new SearchTerms(key), findingSink(db), limiter, tally);
  const app = await buildApp({
    db,
    firewall,
    evidence: { trust: configuredTrust(key, null), witnessFile: null, writer: log },
    clock: () => new Date(),
    demoLogin: true,
    secureCookies: false,
    sessionAbsoluteMs: 36_000_000,
    emergencyMaxHours: 72,
    dormantDays: 90,
    loginRateLimit: LOGIN_ATTEMPTS_PER_MINUTE,
    analysisWaitMs: ANALYSIS_WAIT_MS,
    sessions: new Sessions(db, { idleMs: 3_600_000, absoluteMs: 36_000_000, cacheMs: SESSION_CACHE_MS }),
    logger: { level: 'info', stream: { write: () => undefined } },
    metrics,
    httpTimeouts: loadConfig({}).httpTimeouts,
    ...(extend === undefined ? {} : { extend }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { app, log, key, tally, base: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}` };
}
