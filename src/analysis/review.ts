import { DAY_MS, japanDay } from '../domain/japan-time.ts';
import { Refusal, refusalFamily } from '../domain/refusal.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import type { Db, Queryable } from '../store/db.ts';
import { ANALYSIS_QUEUE } from './analysis-queue.ts';
import { openEngine, type Engine } from './duck.ts';
import { loadLive } from './live.ts';
import { liveExposure, type LiveExposure } from './live-exposure.ts';
import type { DecisionTable } from '../domain/decision-table.ts';
import type { SodPolicy } from '../domain/separation-of-duties.ts';
import { buildReport, enrich, periodBounds, type Report } from './report.ts';
import type { Thresholds } from './rules.ts';
import { foldFinding } from './findings.ts';
import { digestAlert } from './alerts.ts';
import type { Digest } from './digest.ts';

/**
 * The live side of the analytics: the regulator's report for any period of gridwall's own log, scans that
 * put the anomaly findings in the review queue (each once), reviews (acknowledge / resolve, each logged),
 * and the daily digest.
 */

export async function affiliateOf(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ value: unknown }>(`SELECT value FROM settings WHERE key = 'affiliated_retailer'`);
  const v = rows[0]?.value;
  const code = typeof v === 'string' ? (v.startsWith('"') ? (JSON.parse(v) as string) : v) : null;
  if (code === null || code === '') throw new Error('settings.affiliated_retailer is not set');
  return code;
}

/** Longest period one report over the live log may cover: a year, leap day included (issue 14). */
export const MAX_LIVE_REPORT_DAYS = 366;

/** A period longer than a report over the live log may cover; `maxDays` is the limit it broke. */
export class PeriodTooLong extends Refusal<'period_too_long'> {
  constructor(
    readonly days: number,
    readonly maxDays: number,
  ) {
    super('analysis', 'period_too_long', 'invalid', `the period covers ${days} days; a report covers at most ${maxDays} days (ask for several periods)`, {
      days,
      maxDays,
    });
  }
}

/** The bounds of [from, to] (inclusive Japan days), refused beyond `maxDays` (PeriodTooLong) or malformed (RangeError). */
export function livePeriodBounds(from: string, to: string, maxDays = MAX_LIVE_REPORT_DAYS): { start: Date; end: Date } {
  const bounds = periodBounds(from, to);
  const days = Math.round((bounds.end.getTime() - bounds.start.getTime()) / DAY_MS);
  if (days > maxDays) throw new PeriodTooLong(days, maxDays);
  return bounds;
}

export interface LiveReportOptions {
  readonly thresholds?: Partial<Thresholds>;
  /** How long to wait for the analysis queue before giving up with AnalysisBusy (default: as long as it takes). */
  readonly maxWaitMs?: number;
  /**
   * Where a scan reads the log and the registers: the read replica (DATABASE_REPLICA_URL), or `db`. The
   * findings it raises are written to `db`, the primary.
   */
  readonly readDb?: Queryable;
  /**
   * The Parquet archive of closed months (GRIDWALL_ANALYSIS_ARCHIVE_DIR; log-archive.ts): each closed month is
   * exported there once and read from the file by every later report. Unset: every month from the database.
   */
  readonly archiveDir?: string;
}

/**
 * Runs `work` over gridwall's own log for [from, to] (inclusive Japan days), one run at a time per process:
 * the engine is opened only when the queue gives this run its turn, with one thread so that look-ups keep a
 * core, and the live log is loaded into it: closed months from the Parquet archive, the open month streamed
 * from the database (log-archive.ts). It only reads: give it the read replica where there is one (its last
 * seconds of log may not be there yet).
 */
async function onLiveLog<T>(
  db: Queryable,
  period: { from: string; to: string },
  opts: LiveReportOptions,
  work: (engine: Engine, bounds: { start: Date; end: Date }) => Promise<T>,
): Promise<T> {
  const bounds = livePeriodBounds(period.from, period.to);
  return ANALYSIS_QUEUE.run(async () => {
    const engine = await openEngine({ memoryLimit: '1GB', threads: 1 });
    try {
      await loadLive(engine, db, bounds, opts.archiveDir === undefined ? {} : { archiveDir: opts.archiveDir });
      return await work(engine, bounds);
    } finally {
      engine.close();
    }
  }, opts.maxWaitMs);
}

/** The regulator's report over gridwall's own log for a period (see `onLiveLog`). */
export async function liveReport(db: Queryable, period: { from: string; to: string }, opts: LiveReportOptions = {}): Promise<Report> {
  return onLiveLog(db, period, opts, async (engine) =>
    buildReport(engine, { affiliate: await affiliateOf(db), from: period.from, to: period.to, thresholds: opts.thresholds ?? {} }),
  );
}

/** What the exposure report needs beyond the report's options: the server's decision table and policy, and now. */
export type ExposureOptions = LiveReportOptions & { readonly table: DecisionTable; readonly sod?: SodPolicy; readonly now: Date };

/**
 * The exposure report (live-exposure.ts) over the reads the engine holds, classified (`enriched`). The grants
 * are judged up to the period's end (or `now`, if sooner), by the server's separation-of-duties policy.
 */
function exposureOver(engine: Engine, db: Queryable, bounds: { start: Date; end: Date }, opts: ExposureOptions): Promise<LiveExposure> {
  const at = new Date(Math.min(bounds.end.getTime() - 1, opts.now.getTime()));
  return liveExposure(engine, db, { ...bounds, at, table: opts.table, ...(opts.sod === undefined ? {} : { sod: opts.sod }) });
}

/** The exposure report of a period alone (the console's exposure screen): the reads classified, no report or rules. */
export async function liveExposureReport(db: Queryable, period: { from: string; to: string }, opts: ExposureOptions): Promise<LiveExposure> {
  return onLiveLog(db, period, opts, async (engine, bounds) => {
    await enrich(engine, { affiliate: await affiliateOf(db), ...bounds });
    return exposureOver(engine, db, bounds, opts);
  });
}

/** The report and the exposure report of a period in one load of the log: the compliance report download. */
export async function liveReportAndExposure(
  db: Queryable,
  period: { from: string; to: string },
  opts: ExposureOptions,
): Promise<{ report: Report; exposure: LiveExposure }> {
  return onLiveLog(db, period, opts, async (engine, bounds) => {
    const report = await buildReport(engine, { affiliate: await affiliateOf(db), from: period.from, to: period.to, thresholds: opts.thresholds ?? {} });
    return { report, exposure: await exposureOver(engine, db, bounds, opts) };
  });
}

/**
 * Runs the rules over a period and queues what they find, each through the findings queue (findings.ts#
 * foldFinding): a finding about a rule and subject already open is updated with the scan's evidence (the 1428
 * of an earlier scan becomes the 1448 of this one), not queued beside it. The same period scanned again
 * refreshes its finding while it is open (not counted as a new occurrence) and adds nothing once it is
 * resolved. `queued` counts the new findings, `updated` the open ones this scan updated.
 */
export async function scanLive(
  db: Db,
  period: { from: string; to: string },
  at: Date,
  opts: LiveReportOptions = {},
): Promise<{ report: Report; queued: number; updated: number }> {
  const report = await liveReport(opts.readDb ?? db, period, opts);
  let queued = 0;
  let updated = 0;
  const periodStart = periodBounds(period.from, period.to).start;
  for (const f of report.findings) {
    const userId = f.subject.startsWith('user:') ? f.subject.slice(5) : null;
    const personId = typeof f.evidence['personId'] === 'string' ? f.evidence['personId'] : null;
    const first = instantOf(f.evidence['first'] ?? f.evidence['at']) ?? periodStart;
    const last = instantOf(f.evidence['last'] ?? f.evidence['at']) ?? first;
    const folded = await foldFinding(
      db,
      {
        rule: f.rule,
        severity: f.severity,
        occurredAt: first,
        detectedAt: at,
        source: 'analysis',
        subjectPersonId: personId,
        subjectUserId: userId,
        summary: f.detail,
        evidence: { ...f.evidence, subject: f.subject, period },
        // A subject the rules name other than by account (a terminal) keeps its own key.
        ...(userId === null && personId === null ? { subjectKey: f.subject } : {}),
      },
      { fingerprint: `${f.rule}|${f.subject}|${period.from}|${period.to}`, lastSeenAt: last < first ? first : last },
    );
    if (folded.outcome === 'new') queued++;
    else if (folded.outcome === 'updated' || folded.outcome === 'refreshed') updated++;
  }
  return { report, queued, updated };
}

function instantOf(v: unknown): Date | null {
  if (v instanceof Date) return v;
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A refused review of a finding. */
export class ReviewRefused extends refusalFamily('review', { unknown_finding: 'not_found', already_resolved: 'conflict', comment_required: 'invalid' }) {}

/** Acknowledges (seen, being looked at) or resolves (closed, with what was found) a finding; logged. */
export async function reviewFinding(
  db: Db,
  by: GovernanceActor & { userId: string },
  id: number,
  decision: 'acknowledged' | 'resolved',
  comment: string | null,
  at: Date,
): Promise<void> {
  if (decision === 'resolved' && (comment === null || comment.trim() === ''))
    throw new ReviewRefused('comment_required', 'resolving a finding needs a comment saying what was found and done');
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ status: string }>('SELECT status FROM findings WHERE id = $1 FOR UPDATE', [id]);
    const cur = rows[0];
    if (cur === undefined) throw new ReviewRefused('unknown_finding', `no finding ${id}`);
    if (cur.status === 'resolved') throw new ReviewRefused('already_resolved', `finding ${id} is already resolved`);
    await tx.query('UPDATE findings SET status = $2, reviewed_by = $3, reviewed_at = $4, review_comment = $5 WHERE id = $1', [
      id,
      decision,
      by.userId,
      at,
      comment,
    ]);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: decision === 'resolved' ? 'finding.resolve' : 'finding.acknowledge',
      subjectType: 'finding',
      subjectId: String(id),
      outcome: 'done',
      details: { comment },
    });
  });
}

export type { Digest };

/**
 * The daily digest: yesterday's log (Japan time) scanned, its findings queued, and what is still open. The scan
 * reads `readDb` (the read replica, where there is one: yesterday is long replicated at 00:30).
 */
export async function dailyDigest(db: Db, at: Date, readDb: Queryable = db, opts: { readonly archiveDir?: string } = {}): Promise<Digest> {
  const day = japanDay(new Date(at.getTime() - DAY_MS));
  const { report, queued } = await scanLive(db, { from: day, to: day }, at, { readDb, ...opts });
  const { rows } = await db.query<{ severity: string; n: number }>(
    `SELECT severity, count(*)::int AS n FROM findings WHERE status <> 'resolved' GROUP BY severity`,
  );
  const open = { high: 0, medium: 0, low: 0 };
  for (const r of rows) if (r.severity === 'high' || r.severity === 'medium' || r.severity === 'low') open[r.severity] = r.n;
  const { start, end } = periodBounds(day, day);
  const refused =
    (
      await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_log WHERE outcome = 'refused' AND occurred_at >= $1 AND occurred_at < $2`, [
        start,
        end,
      ])
    ).rows[0]?.n ?? 0;
  const digest: Digest = { day, views: report.total.views.total, emergencyViews: report.total.emergencyViews, refused, queued, open };
  await db.transaction(async (tx) => {
    // Every server process runs the digest (issue 21: several on one store); one at a time per day here, so
    // the mail's "not yet queued" below is never seen by two at once.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gridwall:digest:' || $1::text))`, [day]);
    await tx.query(
      `INSERT INTO analysis_digests (day, created_at, summary) VALUES ($1, $2, $3) ON CONFLICT (day) DO UPDATE SET created_at = EXCLUDED.created_at, summary = EXCLUDED.summary`,
      [day, at, JSON.stringify(digest)],
    );
    // Mailed to compliance by the alert dispatcher (issue 20): once a day, whatever reruns the digest.
    await tx.query(
      `INSERT INTO alert_outbox (created_at, kind, digest_day, payload)
       SELECT $1, 'digest', $2::date, $3 WHERE NOT EXISTS (SELECT 1 FROM alert_outbox WHERE kind = 'digest' AND digest_day = $2::date)`,
      [at, day, JSON.stringify(digestAlert(digest))],
    );
  });
  return digest;
}

export async function listDigests(db: Db, limit: number): Promise<Digest[]> {
  const { rows } = await db.query<{ summary: unknown }>('SELECT summary FROM analysis_digests ORDER BY day DESC LIMIT $1', [limit]);
  return rows.map((r) => (typeof r.summary === 'string' ? JSON.parse(r.summary) : r.summary) as Digest);
}
