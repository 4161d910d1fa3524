import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { ANALYSIS_WAIT_MS, type AppDeps, type HttpTimeouts } from '../../src/api/context.ts';
import type { ServerLogOptions } from '../../src/api/server-log.ts';
import type { Metrics } from '../../src/api/metrics.ts';
import type { TerminalProxy } from '../../src/api/context.ts';
import type { MailSettings } from '../../src/governance/mailer.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { configuredTrust } from '../../src/audit/trust.ts';
import { SearchTerms } from '../../src/audit/search-terms.ts';
import { generateSigningKey } from '../../src/audit/signing.ts';
import { WitnessFile } from '../../src/audit/witness.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import { Firewall } from '../../src/firewall/firewall.ts';
import { ReadLimiter, type ReadLimits } from '../../src/domain/read-limits.ts';
import { ReadingTally } from '../../src/firewall/reading-tally.ts';
import type { Thresholds } from '../../src/domain/anomaly-thresholds.ts';
import { DEFAULT_DORMANT_DAYS } from '../../src/identity/lifecycle.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import type { OidcLogin } from '../../src/identity/oidc.ts';
import type { Db } from '../../src/store/db.ts';
import type { ReplicaReads } from '../../src/store/replica.ts';
import { NOW, seedFixture } from './fixture.ts';
import type { TestStore } from './stores.ts';
import { assertHonestView } from './honest-view.ts';
import { findingSink } from '../../src/analysis/findings.ts';
import type { SodPolicy } from '../../src/domain/separation-of-duties.ts';

/** One checkpoint key for the whole test run (generating Ed25519 keys is cheap, but one is enough). */
export const TEST_KEY = generateSigningKey();

export interface TestAppOptions {
  readonly now?: () => Date;
  readonly loginRateLimit?: number;
  /** How long a report waits for the analysis queue (the server's 15 s by default). */
  readonly analysisWaitMs?: number;
  /** How long a workbook of the log waits for its turn (the server's 15 s by default). */
  readonly exportWaitMs?: number;
  readonly sessionCacheMs?: number;
  /** What a login from an unregistered terminal (or none) gets; default `limit`. */
  readonly unknownTerminal?: 'refuse' | 'limit';
  /** A retailer's person at a network-site terminal (GRIDWALL_RETAIL_ON_NETWORK_TERMINAL); default `refuse`, as the server's. */
  readonly retailOnNetworkTerminal?: 'refuse' | 'limit';
  /** Serve the built console too (browser tests). */
  readonly consoleDir?: string;
  /** Local-account login (`POST /api/session/password`); default on. */
  readonly passwordLogin?: boolean;
  /** Single sign-on through an OpenID Connect provider (test/support/identity-provider.ts). */
  readonly oidc?: OidcLogin;
  /** The server log, e.g. into an array the test reads (none by default). */
  readonly logger?: ServerLogOptions;
  /** The HTTP server's time-outs (Node's and Fastify's defaults otherwise). */
  readonly httpTimeouts?: HttpTimeouts;
  /** Metrics kept by the writer and the app (api/metrics.ts). */
  readonly metrics?: Metrics;
  /** Whose X-Forwarded-For gives the client's address (GRIDWALL_TRUST_PROXY). */
  readonly trustProxy?: boolean | number | string;
  /** Where the writer publishes its seals (none by default). */
  readonly witnessFile?: string;
  /** The disks readiness watches (none by default). */
  readonly health?: NonNullable<AppDeps['health']>;
  /** Notifications mailed through SMTP too (test/governance/inquiry-mail.test.ts); none by default. */
  readonly mail?: MailSettings;
  /** The server's external base URL (GRIDWALL_PUBLIC_URL), for absolute links; none by default. */
  readonly publicUrl?: string;
  /** A typed terminal ID where no device binding names one (GRIDWALL_TERMINAL_CLAIMS); default `accept`. */
  readonly terminalClaims?: 'accept' | 'ignore';
  /** A terminal asserted by a trusted reverse proxy (GRIDWALL_TERMINAL_HEADER); none by default. */
  readonly terminalProxy?: TerminalProxy;
  /** Separation of duties on grants (GRIDWALL_SOD_*); the defaults otherwise. */
  readonly separationOfDuties?: SodPolicy;
  /** Rate and volume limits on reading (GRIDWALL_READ_* …); none by default, as the tests read with a frozen clock. */
  readonly readLimits?: ReadLimits;
  /** Bulk reading judged live against each person's baseline (firewall/reading-tally.ts); off by default. Drain it with `tallyOf`. */
  readonly bulkReading?: { readonly thresholds?: Thresholds };
  /** A read replica for searches, the live analysis and the log's exports (DATABASE_REPLICA_URL); none by default. */
  readonly replica?: ReplicaReads;
}

const writers = new WeakMap<FastifyInstance, GroupCommitLog>();
const tallies = new WeakMap<FastifyInstance, ReadingTally>();

/** The bulk-reading tally of an app made by `testApp` with `bulkReading` (seededApp closes it; close it yourself before the store otherwise). */
export function tallyOf(app: FastifyInstance): ReadingTally {
  return tallies.get(app) ?? assert.fail('not an app made by testApp with bulkReading');
}

/** The access-log writer of an app made by `testApp`. */
export function writerOf(app: FastifyInstance): GroupCommitLog {
  return writers.get(app) ?? assert.fail('not an app made by testApp');
}

/** The real application over a test store, with the clock frozen at the fixture's NOW unless told otherwise. */
export async function testApp(db: Db, opts: TestAppOptions = {}): Promise<FastifyInstance> {
  const writer = new GroupCommitLog(db, {
    key: TEST_KEY,
    ...(opts.metrics === undefined ? {} : { observer: opts.metrics }),
    ...(opts.witnessFile === undefined ? {} : { witness: new WitnessFile(opts.witnessFile) }),
  });
  const tally =
    opts.bulkReading === undefined
      ? null
      : new ReadingTally(db, findingSink(db), {
          clock: opts.now ?? (() => NOW),
          delayMs: 0,
          ...(opts.bulkReading.thresholds === undefined ? {} : { thresholds: opts.bulkReading.thresholds }),
        });
  const firewall = new Firewall(
    db,
    writer,
    compileDecisionTable(),
    new SearchTerms(TEST_KEY),
    findingSink(db),
    opts.readLimits === undefined ? null : new ReadLimiter(opts.readLimits),
    tally,
    opts.replica ?? db,
  );
  const sessionAbsoluteMs = 10 * 3_600_000;
  const sessions = new Sessions(db, {
    idleMs: 30 * 60_000,
    absoluteMs: sessionAbsoluteMs,
    cacheMs: opts.sessionCacheMs ?? 1000,
    unknownTerminal: opts.unknownTerminal ?? 'limit',
    ...(opts.retailOnNetworkTerminal === undefined ? {} : { retailOnNetworkTerminal: opts.retailOnNetworkTerminal }),
    dormantDays: DEFAULT_DORMANT_DAYS,
  });
  const app = await buildApp({
    db,
    ...(opts.replica === undefined ? {} : { replica: opts.replica }),
    firewall,
    clock: opts.now ?? (() => NOW),
    sessions,
    evidence: { trust: configuredTrust(TEST_KEY, null), witnessFile: opts.witnessFile ?? null, writer },
    demoLogin: true,
    secureCookies: true,
    sessionAbsoluteMs,
    emergencyMaxHours: 72,
    dormantDays: DEFAULT_DORMANT_DAYS,
    loginRateLimit: opts.loginRateLimit ?? 1000,
    analysisWaitMs: opts.analysisWaitMs ?? ANALYSIS_WAIT_MS,
    consoleDir: opts.consoleDir ?? null,
    passwordLogin: opts.passwordLogin ?? true,
    oidc: opts.oidc ?? null,
    ...(opts.exportWaitMs === undefined ? {} : { exportWaitMs: opts.exportWaitMs }),
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
    ...(opts.httpTimeouts === undefined ? {} : { httpTimeouts: opts.httpTimeouts }),
    ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }),
    ...(opts.trustProxy === undefined ? {} : { trustProxy: opts.trustProxy }),
    ...(opts.health === undefined ? {} : { health: opts.health }),
    ...(opts.mail === undefined ? {} : { mail: opts.mail }),
    ...(opts.publicUrl === undefined ? {} : { publicUrl: opts.publicUrl }),
    ...(opts.terminalClaims === undefined ? {} : { terminalClaims: opts.terminalClaims }),
    ...(opts.terminalProxy === undefined ? {} : { terminalProxy: opts.terminalProxy }),
    ...(opts.separationOfDuties === undefined ? {} : { separationOfDuties: opts.separationOfDuties }),
    ...(tally === null ? {} : { detection: { bulkReading: tally } }),
  });
  writers.set(app, writer);
  if (tally !== null) tallies.set(app, tally);
  return app;
}

export interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

export async function login(app: FastifyInstance, userId: string, terminalId?: string): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/session', payload: terminalId === undefined ? { userId } : { userId, terminalId } });
  if (res.statusCode !== 201) throw new Error(`login ${userId}: ${res.statusCode} ${res.body}`);
  const set = res.cookies.find((c) => c.name === 'gw_session');
  if (set === undefined) throw new Error('no session cookie');
  return { cookie: `gw_session=${set.value}`, csrf: res.json<{ csrfToken: string }>().csrfToken };
}

/**
 * Logs in, or returns null when the server refuses this person a session (401 / 403, e.g. nobody is assigned
 * behind the account now); anything else still throws. For tables over every fixture person.
 */
export async function tryLogin(app: FastifyInstance, userId: string, terminalId?: string): Promise<Session | null> {
  try {
    return await login(app, userId, terminalId);
  } catch (e) {
    if (e instanceof Error && new RegExp(`^login ${userId}: (401|403) `).test(e.message)) return null;
    throw e;
  }
}

/**
 * Field name → 'shown' or the masked reason, for compact assertions. It first runs the shared honesty check
 * (test/support/honest-view.ts), so every suite comparing outcomes also fails on a masked field that still
 * carries a value or any key beyond its reason.
 */
export function outcomes(view: { fields: Record<string, { shown: boolean; reason?: string }> }): Record<string, string> {
  assert.equal(assertHonestView(view).views, 1, 'outcomes() is given one record view');
  return Object.fromEntries(Object.entries(view.fields).map(([k, v]) => [k, v.shown ? 'shown' : `masked:${v.reason ?? '?'}`]));
}

/** A suite's store and the application over it (see `seededApp`). */
export interface SeededApp {
  readonly db: Db;
  /** The schema owner's handle (the same as `db` on PGlite). */
  readonly owner: Db;
  readonly app: FastifyInstance;
}

/**
 * The usual suite's world, opened before its first test and closed after its last: a fresh store with the
 * fixture, `prepare` run on it (accounts made long ago, a setting…), then the real application over it. Call
 * it inside `describe`; read its fields inside tests and hooks (they exist once the suite has started).
 */
export function seededApp(store: TestStore, opts: TestAppOptions = {}, prepare?: (db: Db, owner: Db) => Promise<void>): SeededApp {
  let opened: { db: Db; owner: Db; app: FastifyInstance; dispose: () => Promise<void> } | null = null;
  before(async () => {
    const { db, owner, dispose, replica } = await store.open();
    try {
      await seedFixture(db);
      await prepare?.(db, owner);
      opened = { db, owner, dispose, app: await testApp(db, replica === undefined ? opts : { replica, ...opts }) };
    } catch (e) {
      await dispose();
      throw e;
    }
  });
  after(async () => {
    if (opened !== null) await tallies.get(opened.app)?.close();
    await opened?.app.close();
    await opened?.dispose();
  });
  const get = (): NonNullable<typeof opened> => {
    if (opened === null) throw new Error('seededApp: the suite has not started (read its fields inside tests and hooks)');
    return opened;
  };
  return {
    get db() {
      return get().db;
    },
    get owner() {
      return get().owner;
    },
    get app() {
      return get().app;
    },
  };
}

/** A session for each person, by user id. */
export async function loginAll(app: FastifyInstance, userIds: readonly string[]): Promise<Record<string, Session>> {
  const out: Record<string, Session> = {};
  for (const u of userIds) out[u] = await login(app, u);
  return out;
}
