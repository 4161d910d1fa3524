import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.ts';
import { ANALYSIS_WAIT_MS, LOGIN_ATTEMPTS_PER_MINUTE, type Clock } from './api/context.ts';
import { OidcLogin } from './identity/oidc.ts';
import { CONSOLE_DIR } from './api/console.ts';
import { terminalProxy } from './api/terminal-binding.ts';
import { GroupCommitLog } from './audit/log-writer.ts';
import { SearchTerms } from './audit/search-terms.ts';
import { warnIfPrivilegedRole } from './audit/roles.ts';
import { configuredTrust } from './audit/trust.ts';
import { WitnessFile } from './audit/witness.ts';
import { assignmentsBreakingRules } from './identity/assignments.ts';
import { loadSigningKey, SigningKeyError } from './audit/signing.ts';
import { logKeyOf, type Config } from './config.ts';
import { generateDemo, type Persona } from './demo/generate.ts';
import { seedDemoPast } from './demo/history.ts';
import { compileDecisionTable } from './domain/decision-table.ts';
import { ReadLimiter } from './domain/read-limits.ts';
import { Firewall } from './firewall/firewall.ts';
import { FAILING_ALERT_AFTER, ReadingTally } from './firewall/reading-tally.ts';
import { Sessions } from './identity/session-store.ts';
import { sweepAccounts } from './identity/lifecycle.ts';
import { unboundTerminalsWarning } from './identity/terminal-devices.ts';
import { dailyDigest } from './analysis/review.ts';
import { DAY_MS, JST_OFFSET_MS } from './domain/japan-time.ts';
import type { Db } from './store/db.ts';
import { openStore } from './store/open.ts';
import { openReplica, type ReplicaReads } from './store/replica.ts';
import { findingSink } from './analysis/findings.ts';
import { AlertDispatcher } from './analysis/alert-dispatcher.ts';
import { logAlert } from './analysis/alerts.ts';
import { Metrics, serveMetrics } from './api/metrics.ts';

/** How often a running server looks at its read replica (its lag decides where the reads that may lag go). */
const REPLICA_CHECK_EVERY_MS = 5000;
/** A witness that stays unwritable is alerted (syslog, webhook) at most this often; the server log says it every time. */
const WITNESS_ALERT_EVERY_MS = 10 * 60_000;

export interface Running {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly url: string;
  readonly personas: readonly Persona[];
  readonly seeded: boolean;
  stop(): Promise<void>;
}

/** Whether the store holds customer data yet (the first start seeds the demo area). */
export async function isEmpty(db: Db): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT 1 FROM supply_points LIMIT 1) s');
  return (rows[0]?.n ?? 0) === 0;
}

export async function readPersonas(db: Db): Promise<Persona[]> {
  const { rows } = await db.query<{ value: unknown }>(`SELECT value FROM settings WHERE key = 'demo_personas'`);
  const v = rows[0]?.value;
  return (typeof v === 'string' ? JSON.parse(v) : (v ?? [])) as Persona[];
}

/**
 * Starts the whole system: store (migrated), demo data on first start of the embedded store, the
 * decision table, the firewall with its group-commit log, and the HTTP server.
 */
export async function startServer(config: Config, clock: Clock = () => new Date(), say: (line: string) => void = () => undefined): Promise<Running> {
  const db = await openStore(config.store, config.dbTimeouts);
  let replica: ReplicaReads | null = null;
  try {
    await warnIfPrivilegedRole(db, say);
    // The read replica (issue 21): no migrations there; one whose schema is not the primary's is refused (exit 2),
    // one that does not answer now is waited for while its reads go to the primary.
    if (config.replica !== null) {
      replica = await openReplica(db, config.replica.url, { maxLagSeconds: config.replica.maxLagSeconds, timeouts: config.dbTimeouts });
      const s = replica.status();
      say(
        s.state === 'ok'
          ? `read replica: in use for searches, the live analysis and log exports (${s.lagSeconds ?? 0} s behind)`
          : `warning: the read replica is not used (${s.reason ?? 'unknown'}${s.lagSeconds === null ? '' : `, ${s.lagSeconds} s behind`}): its reads go to the primary until it is fit (readiness says degraded)`,
      );
    }
    const readDb = replica ?? db;
    let seeded = false;
    if (config.store.kind === 'pglite' && (await isEmpty(db))) {
      say(`First start: generating the demo area (${config.demoSupplyPoints.toLocaleString('en')} supply points)…`);
      const t0 = Date.now();
      await generateDemo(db, { supplyPoints: config.demoSupplyPoints, seed: 2016, areaCode: '02', now: clock(), onProgress: (m) => say(`  ${m}`) });
      say(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      seeded = true;
    }
    const place = logKeyOf(config);
    const { key, created } = loadSigningKey(place.path, place.create);
    if (created) say(`Generated the access-log signing key ${place.path} (key ${key.keyId}); keep it safe and back it up.`);
    const table = compileDecisionTable();
    const metrics = config.metrics === null ? null : new Metrics();
    const trust = configuredTrust(key, config.logTrustedKeys);
    // Alerts (issue 20): high findings and the daily digest leave through the outbox, sent outside every request.
    const alerts = new AlertDispatcher(db, config.alerts, {
      mail: config.mail,
      clock,
      publicUrl: config.publicUrl,
      log: { warn: (fields, message) => say(`${message}: ${JSON.stringify(fields)}`) },
    });
    let witnessAlertedAt = -Infinity;
    const log = new GroupCommitLog(db, {
      key,
      trusted: trust.keys,
      witness: new WitnessFile(config.logWitnessFile),
      // Said in the server log and sent at once to syslog and the webhook, without the database (issue 15).
      onHalt: (reason) => {
        say(`ALERT: the access log writer stopped the line; no customer data is served until this is investigated: ${reason}`);
        void alerts.sendNow(logAlert('halted', reason, clock()));
      },
      onWitnessError: (message) => {
        say(`ALERT: ${message}`);
        // A witness that stays unwritable fails at every seal due: sent on the first, then at most every ten minutes.
        const now = clock().getTime();
        if (now - witnessAlertedAt < WITNESS_ALERT_EVERY_MS) return;
        witnessAlertedAt = now;
        void alerts.sendNow(logAlert('witness_failed', message, clock()));
      },
      maxBatch: config.logBatch,
      checkpointEvery: config.logCheckpointEvents,
      checkpointSeconds: config.logCheckpointSeconds,
      // Other server processes may write to the same chain (issue 21): an idle writer keeps up with them once a second.
      catchUpMs: config.store.kind === 'postgres' ? 1000 : 0,
      ...(metrics === null ? {} : { observer: metrics }),
    });
    // The writer accounts for the chain before the first read: a log changed outside it is reported now
    // (readiness false, the alert above), not at a customer's look-up.
    await log.open().catch((e: unknown) => {
      // A key nobody registered for this log: the server does not start (gridwall audit key register).
      if (e instanceof SigningKeyError) throw e;
      if (log.halted === null) say(`the access log could not be opened: ${e instanceof Error ? e.message : String(e)}`);
    });
    // The demo's past (issue 20): a quarter of access history written through the writer, and the scan over it.
    if (seeded && log.halted === null) await seedDemoPast(db, log, table, { seed: 2016, now: clock(), onProgress: (m) => say(`  ${m}`) });
    const findings = findingSink(db, () => alerts.nudge());
    // Bulk reading judged against each person's own running baseline (issue 20), counted from the log beside the reads.
    // A count that keeps failing (e.g. `db grant-app` not run again after a migration) switches live bulk
    // detection off while reads go on: it is logged here, in readiness (`degraded`) and the metrics, and the
    // tally raises the finding `bulk_reading_count_failing` (high: it alerts) after FAILING_ALERT_AFTER in a row.
    const tally = new ReadingTally(db, findings, {
      clock,
      everyMs: 60_000,
      onFailing: (f) => {
        const fields = JSON.stringify({ control: 'bulk_reading', consecutiveFailures: f.consecutiveFailures, kind: f.kind });
        if (f.consecutiveFailures === 0) say(`bulk-reading count works again: ${fields}`);
        else
          say(
            `${f.consecutiveFailures >= FAILING_ALERT_AFTER ? 'ALERT: ' : ''}bulk-reading count failed, live bulk detection is off until it recovers (retried at the next read): ${fields} ${f.message}`,
          );
      },
    });
    const firewall = new Firewall(db, log, table, new SearchTerms(key), findings, new ReadLimiter(config.readLimits), tally, readDb);
    tally.nudge();
    const sessions = new Sessions(db, {
      idleMs: config.sessionIdleMs,
      absoluteMs: config.sessionAbsoluteMs,
      cacheMs: config.sessionCacheMs,
      unknownTerminal: config.unknownTerminal,
      retailOnNetworkTerminal: config.retailOnNetworkTerminal,
      dormantDays: config.dormantDays,
    });
    const app = await buildApp({
      db,
      replica,
      firewall,
      evidence: { trust, witnessFile: config.logWitnessFile, writer: log },
      clock,
      sessions,
      demoLogin: config.demoLogin,
      passwordLogin: config.passwordLogin,
      oidc: config.oidc === null ? null : new OidcLogin(config.oidc, db),
      totpKey: config.totpKey,
      dormantDays: config.dormantDays,
      emergencyMaxHours: config.emergencyMaxHours,
      separationOfDuties: config.separationOfDuties,
      loginRateLimit: LOGIN_ATTEMPTS_PER_MINUTE,
      analysisWaitMs: ANALYSIS_WAIT_MS,
      analysisArchiveDir: config.analysisArchiveDir,
      ...(config.publicUrl === null ? {} : { publicUrl: config.publicUrl }),
      mail: config.mail,
      secureCookies: config.secureCookies,
      sessionAbsoluteMs: config.sessionAbsoluteMs,
      consoleDir: CONSOLE_DIR,
      logger: config.logLevel === 'silent' ? null : { level: config.logLevel },
      httpTimeouts: config.httpTimeouts,
      trustProxy: config.trustProxy,
      terminalClaims: config.terminalClaims,
      terminalProxy: config.terminalHeader === null ? null : terminalProxy(config.terminalHeader.header, config.terminalHeader.proxies),
      ...(metrics === null ? {} : { metrics }),
      detection: { bulkReading: tally },
      health: {
        // Each under its label: readiness is public and names a disk by what it holds, never by its path.
        disks: [
          ...(config.store.kind === 'pglite' ? [{ label: 'data' as const, path: config.store.dataDir }] : []),
          { label: 'witness', path: dirname(config.logWitnessFile) },
        ],
        minFreeDiskBytes: config.minFreeDiskMb * 1024 * 1024,
      },
    });
    // The metrics port first: if it cannot listen, the server does not start half-way (API up, store closed).
    const metricsServer =
      metrics === null || config.metrics === null
        ? null
        : await serveMetrics(
            () =>
              metrics.scrape({
                writer: () => log.status(),
                db,
                now: clock,
                tally: () => tally.status(),
                ...(replica === null ? {} : { replica: replica.status.bind(replica) }),
              }),
            metrics.registry.contentType,
            config.metrics,
          ).catch(async (e: unknown) => {
            await app.close();
            throw e;
          });
    const closeMetrics = () => new Promise<void>((resolve) => (metricsServer === null ? resolve() : metricsServer.close(() => resolve())));
    await app.listen({ host: config.host, port: config.port }).catch(async (e: unknown) => {
      await closeMetrics();
      await app.close();
      throw e;
    });
    if (metricsServer !== null) {
      const a = metricsServer.address();
      say(`metrics: http://${config.metrics?.host ?? ''}:${typeof a === 'object' && a !== null ? a.port : ''}/metrics`);
    }
    // Dormant accounts are disabled at start and then once a day (F2): a server restarted every day must sweep
    // too (issue 14). Logins are refused by the same test in the meantime (lifecycle.ts loginStanding).
    // The same daily run forgets the single sign-on ID tokens of sessions that timed out unread.
    const runSweep = () =>
      sweepAccounts(db, { kind: 'system', job: 'daily-dormant-sweep' }, clock(), { dormantDays: config.dormantDays, orphans: false }, (tx, personId, at) =>
        sessions.endAllOf(personId, at, tx),
      )
        .then(async (r) => ({ r, tokens: await sessions.forgetStaleIdTokens(clock()) }))
        .then(
          ({ r, tokens }) =>
            say(`dormant-account sweep: ${r.disabled.length} disabled${tokens > 0 ? `; ID tokens of ${tokens} ended session(s) forgotten` : ''}`),
          (e: unknown) => say(`dormant-account sweep failed: ${e instanceof Error ? e.message : String(e)}`),
        );
    await runSweep();
    // Assignments stored before the assignment rules (or past them) act until someone looks: say so at start.
    const breaking = await assignmentsBreakingRules(db, clock());
    if (breaking.length > 0)
      say(
        `warning: ${breaking.length} staff assignment(s) in force break the assignment rules (side or retailer not following from the organization); list them with \`gridwall accounts check-assignments\``,
      );
    // Upgrading a PostgreSQL deployment makes typed terminal IDs ignored (issue 19): say so when nothing else names terminals.
    const unbound = await unboundTerminalsWarning(db, config.terminalClaims, config.terminalHeader !== null);
    if (unbound !== null) say(unbound);
    const sweep = setInterval(() => void runSweep(), 86_400_000);
    sweep.unref();
    // The replica is looked at every few seconds besides readiness's probes: its lag decides where reads go.
    const replicaWatch = replica === null ? null : setInterval(() => void replica?.check(), REPLICA_CHECK_EVERY_MS);
    replicaWatch?.unref();
    // The daily digest (issue #7): at 00:30 Japan time, yesterday's log is scanned and its findings queued.
    const untilDigest = () => {
      const now = clock().getTime();
      const next = Math.ceil((now + JST_OFFSET_MS - 30 * 60_000) / DAY_MS) * DAY_MS - JST_OFFSET_MS + 30 * 60_000;
      return Math.max(60_000, next - now);
    };
    let digestTimer: NodeJS.Timeout;
    const digest = () => {
      dailyDigest(db, clock(), readDb, { archiveDir: config.analysisArchiveDir }).then(
        (d) =>
          say(`daily digest ${d.day}: ${d.views} views, ${d.queued} findings queued, open ${d.open.high} high / ${d.open.medium} medium / ${d.open.low} low`),
        (e: unknown) => say(`daily digest failed: ${e instanceof Error ? e.message : String(e)}`),
      );
      digestTimer = setTimeout(digest, untilDigest());
      digestTimer.unref();
    };
    digestTimer = setTimeout(digest, untilDigest());
    digestTimer.unref();
    alerts.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    return {
      app,
      db,
      url,
      personas: config.demoLogin ? await readPersonas(db) : [],
      seeded,
      async stop() {
        clearInterval(sweep);
        if (replicaWatch !== null) clearInterval(replicaWatch);
        clearTimeout(digestTimer);
        await app.close();
        await tally.close();
        await alerts.close();
        await closeMetrics();
        await log.close(); // publishes the last seal to the witness
        await replica?.close();
        await db.close();
      },
    };
  } catch (e) {
    await replica?.close();
    await db.close();
    throw e;
  }
}
