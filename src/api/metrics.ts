import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccessEvent } from '../audit/access-event.ts';
import type { WriterObserver, WriterStatus } from '../audit/log-writer.ts';
import type { ReadingTallyStatus } from '../firewall/reading-tally.ts';
import type { Db } from '../store/db.ts';
import { singleFlight, withinDeadline } from '../store/failure.ts';
import { FALLBACK_REASONS, type FallbackReason, type ReplicaStatus } from '../store/replica.ts';

/** Longest a scrape waits for the store (the open findings); on PostgreSQL the server gives the count no longer. */
export const SCRAPE_STORE_MS = 2000;

interface FindingCount extends Record<string, unknown> {
  readonly rule: string;
  readonly severity: string;
  readonly n: number;
}

const OPEN_FINDINGS = `SELECT rule, severity, count(*)::int AS n FROM findings WHERE status <> 'resolved' GROUP BY rule, severity`;

/**
 * The open findings by rule and severity. On PostgreSQL the statement carries its own time-out, so that the
 * server itself ends a count the scrape gave up on (one waiting on a lock, a findings table grown large)
 * rather than the pool's 15 s statement_timeout; the embedded store runs in this process and cannot be
 * left behind that way.
 */
async function openFindings(db: Db): Promise<FindingCount[]> {
  if (db.kind !== 'postgres') return (await db.query<FindingCount>(OPEN_FINDINGS)).rows;
  return db.transaction(async (tx) => {
    await tx.exec(`SET LOCAL statement_timeout = ${SCRAPE_STORE_MS}`);
    return (await tx.query<FindingCount>(OPEN_FINDINGS)).rows;
  });
}

/**
 * The server's metrics in Prometheus's text format (issue 17), on a port of their own that only the
 * monitoring network should reach (GRIDWALL_METRICS_PORT, bound to GRIDWALL_METRICS_HOST, 127.0.0.1 by
 * default): never on the API's port, where every caller could read them. Labels are route patterns, codes and
 * rules — never a user, a supply point or a search term (a label's values are unbounded otherwise, and
 * metrics leave the firewall).
 */
export class Metrics implements WriterObserver {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: 'gridwall_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'gridwall_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #events = new Counter({
    name: 'gridwall_access_events_total',
    help: 'Access-log events handed to the writer, by outcome and refusal code',
    labelNames: ['outcome', 'refusal'] as const,
    registers: [this.registry],
  });
  readonly #fields = new Counter({
    name: 'gridwall_field_decisions_total',
    help: "The firewall's field decisions in logged reads: shown, or the reason a field was masked",
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });
  readonly #commitSeconds = new Histogram({
    name: 'gridwall_log_commit_seconds',
    help: 'Time of a group commit of the access log',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly #eventsPerCommit = new Histogram({
    name: 'gridwall_log_events_per_commit',
    help: 'Events in a group commit of the access log',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly #gauge = (name: string, help: string, labelNames: readonly string[] = []) => new Gauge({ name, help, labelNames, registers: [this.registry] });
  readonly #queued = this.#gauge('gridwall_log_queue_length', 'Access-log events waiting for a group commit');
  readonly #oldest = this.#gauge('gridwall_log_oldest_queued_seconds', 'Age of the oldest access-log event not yet committed');
  readonly #head = this.#gauge('gridwall_log_chain_head', 'Sequence number of the last event this writer sealed');
  readonly #sealAge = this.#gauge('gridwall_log_seal_age_seconds', "Age of this writer's last seal");
  readonly #halted = this.#gauge('gridwall_log_halted', '1 when the writer stopped the line (no customer data is served)');
  readonly #failing = this.#gauge('gridwall_log_commit_failing', '1 while the last group commit failed');
  readonly #findings = this.#gauge('gridwall_findings_open', 'Findings not yet resolved, by rule and severity', ['rule', 'severity']);
  readonly #pool = this.#gauge('gridwall_store_pool_connections', "The store's connection pool, by state (PostgreSQL)", ['state']);
  readonly #up = this.#gauge('gridwall_store_up', '1 when the store answered the scrape, 0 when it did not');
  readonly #tallyFailing = this.#gauge(
    'gridwall_bulk_reading_failing',
    '1 while the live bulk-reading count fails (reads go on; live bulk detection is off until it recovers)',
  );
  readonly #tallyFailures = new Counter({
    name: 'gridwall_bulk_reading_failures_total',
    help: 'Runs of the live bulk-reading count that failed',
    registers: [this.registry],
  });
  #tallyFailuresSeen = 0;
  readonly #tallyAge = this.#gauge('gridwall_bulk_reading_last_count_age_seconds', 'Age of the last run of the live bulk-reading count that succeeded');
  readonly #replicaInUse = this.#gauge(
    'gridwall_replica_in_use',
    '1 while the read replica serves the reads that may lag (searches, the live analysis, log exports); 0 while they go to the primary',
  );
  readonly #replicaLag = this.#gauge('gridwall_replica_lag_seconds', 'How far the read replica was behind the primary at its last check');
  readonly #replicaFallbacks = new Counter({
    name: 'gridwall_replica_fallbacks_total',
    help: 'Reads that could use the read replica and were served by the primary, by reason (unreachable, timeout, conflict, lagging, schema, error)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #replicaFallbacksSeen: Record<FallbackReason, number> = { unreachable: 0, timeout: 0, conflict: 0, lagging: 0, schema: 0, error: 0 };

  /**
   * An answer: `method` and `route` null for a request answered before a route (`(none)` in the labels),
   * `seconds` null when its start is not known (the HTTP parser's answers: counted, not timed).
   */
  request(method: string | null, route: string | null, status: number, seconds: number | null): void {
    const labels = { method: method ?? '(none)', route: route ?? '(none)' };
    this.#requests.inc({ ...labels, status: String(status) });
    if (seconds !== null) this.#duration.observe(labels, seconds);
  }

  // Labelled children kept by their labels: every logged read passes here, and prom-client hashes a label
  // object on each call otherwise (the look-up bench measured it).
  readonly #eventChild = new Map<string, { inc(n?: number): void }>();
  readonly #fieldChild = new Map<string, { inc(n?: number): void }>();

  event(e: AccessEvent): void {
    const key = `${e.outcome}\u0000${e.refusal ?? ''}`;
    let child = this.#eventChild.get(key);
    if (child === undefined) this.#eventChild.set(key, (child = this.#events.labels({ outcome: e.outcome, refusal: e.refusal ?? '' })));
    child.inc();
    const counts = new Map<string, number>();
    for (const r of e.records) {
      if (r.shown.length > 0) counts.set('shown', (counts.get('shown') ?? 0) + r.shown.length);
      for (const reason of Object.values(r.masked)) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    for (const [decision, n] of counts) {
      let field = this.#fieldChild.get(decision);
      if (field === undefined) this.#fieldChild.set(decision, (field = this.#fields.labels({ decision })));
      field.inc(n);
    }
  }

  commit(seconds: number, events: number): void {
    this.#commitSeconds.observe(seconds);
    this.#eventsPerCommit.observe(events);
  }

  /**
   * The store's part of a scrape, one at a time: scrapes while a count is in flight wait for that one (each
   * within SCRAPE_STORE_MS), so that a frozen store holds one pool connection for them, not one per scrape.
   */
  #findingsQuery: { readonly db: Db; readonly run: () => Promise<FindingCount[]> } | null = null;

  /**
   * The text a scrape gets: the counters, and the gauges read now. The open findings come from the store
   * within SCRAPE_STORE_MS; when it does not answer, `gridwall_store_up` is 0 and the findings keep the values
   * last read. The chain head and the seal's age have no sample before the writer's first seal (a 0 would read as
   * "just sealed"). The bulk-reading count's state, when `tally` is given (its failures counted from the tally's
   * own total, so a scrape never counts one twice).
   */
  async scrape(sources: {
    writer: () => WriterStatus;
    db: Db;
    now: () => Date;
    tally?: () => ReadingTallyStatus;
    replica?: () => ReplicaStatus;
  }): Promise<string> {
    const w = sources.writer();
    const r = sources.replica?.();
    if (r !== undefined) {
      this.#replicaInUse.set(r.state === 'ok' ? 1 : 0);
      if (r.lagSeconds === null) this.#replicaLag.remove();
      else this.#replicaLag.set(r.lagSeconds);
      // Counted from the replica's own totals, so that a scrape never counts a read twice.
      for (const reason of FALLBACK_REASONS) {
        const total = r.fallbacks[reason];
        if (total > this.#replicaFallbacksSeen[reason]) this.#replicaFallbacks.inc({ reason }, total - this.#replicaFallbacksSeen[reason]);
        this.#replicaFallbacksSeen[reason] = total;
      }
    }
    const t = sources.tally?.();
    if (t !== undefined) {
      this.#tallyFailing.set(t.state === 'failing' ? 1 : 0);
      if (t.failuresTotal > this.#tallyFailuresSeen) this.#tallyFailures.inc(t.failuresTotal - this.#tallyFailuresSeen);
      this.#tallyFailuresSeen = t.failuresTotal;
      if (t.lastCountAt === null) this.#tallyAge.remove();
      else this.#tallyAge.set((sources.now().getTime() - t.lastCountAt.getTime()) / 1000);
    }
    this.#queued.set(w.queued);
    this.#oldest.set(w.oldestQueuedMs / 1000);
    // Neither the head nor the seal's age has a sample before the writer's first seal.
    if (w.lastSealSeq === null) this.#head.remove();
    else this.#head.set(w.lastSealSeq);
    if (w.lastSealAt === null) this.#sealAge.remove();
    else this.#sealAge.set((sources.now().getTime() - w.lastSealAt.getTime()) / 1000);
    this.#halted.set(w.halted === null ? 0 : 1);
    this.#failing.set(w.lastError === null ? 0 : 1);
    const pool = sources.db.poolStats?.();
    if (pool !== undefined) for (const [state, n] of Object.entries(pool)) this.#pool.set({ state }, n);
    if (this.#findingsQuery?.db !== sources.db) {
      const db = sources.db;
      this.#findingsQuery = { db, run: singleFlight(() => openFindings(db)) };
    }
    try {
      const rows = await withinDeadline(this.#findingsQuery.run(), SCRAPE_STORE_MS);
      this.#findings.reset();
      for (const r of rows) this.#findings.set({ rule: r.rule, severity: r.severity }, r.n);
      this.#up.set(1);
    } catch {
      this.#up.set(0);
    }
    return this.registry.metrics();
  }
}

/** Serves `GET /metrics` on its own port; anything else is a 404. */
export async function serveMetrics(scrape: () => Promise<string>, contentType: string, at: { host: string; port: number }): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    scrape().then(
      (text) => res.writeHead(200, { 'content-type': contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('the metrics could not be collected\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Exclusive: under `gridwall start --workers N` each process has a port of its own (the cluster would
    // otherwise share one among them, and a scrape would reach any process).
    server.listen({ port: at.port, host: at.host, exclusive: true }, () => resolve());
  });
  return server;
}
