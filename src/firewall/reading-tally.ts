import { DEFAULT_THRESHOLDS, type Thresholds } from '../domain/anomaly-thresholds.ts';
import type { FindingSink, NewFinding } from '../domain/finding.ts';
import { DAY_MS, japanDay } from '../domain/japan-time.ts';
import {
  BASELINE_DAYS,
  BASELINE_LOOKBACK_DAYS,
  baselineOf,
  bulkLevel,
  bulkSeverity,
  bulkThreshold,
  showsNonPublic,
  type Baseline,
} from '../domain/reading-baseline.ts';
import type { Db, Queryable } from '../store/db.ts';
import { storeFailure } from '../store/failure.ts';

/**
 * Bulk reading judged live (issue 20): counts each person's non-public reads per Japan day from the access
 * log into `reading_days` (migration 017) and, as a day's count passes the person's threshold against their
 * own running baseline (domain/reading-baseline.ts), raises the live finding `bulk_reading` — once per level,
 * folded into the person's open finding with the new evidence.
 *
 * Off the read path: the firewall only nudges it after a served read; it runs beside the reads, a moment
 * later (at most one run per process at a time, coalescing every nudge that arrives meanwhile), and reads
 * the events the log has committed since the last counted one. Counting from the log rather than from this
 * process's reads makes the count right across server processes (one row, `reading_tally`, locked by the
 * process that counts, says how far the log is counted: each event is counted once), after a restart (the
 * counts are in the store) and for events any writer put in the log (the demo's history included). The first
 * run counts the last BASELINE_LOOKBACK_DAYS of the log, so an upgraded deployment starts with baselines.
 *
 * A process never waits for another's count: the cursor row is taken with SKIP LOCKED, and a process that
 * finds it taken tries again a moment later (the other is counting the same log). A count that keeps failing
 * switches live bulk detection off without stopping a read, so it is reported, never only retried:
 * `status()` (readiness says `degraded`, the metrics `gridwall_bulk_reading_failing`) and `onFailing`, told
 * at the first failure, at FAILING_ALERT_AFTER in a row (when it also raises `bulk_reading_count_failing`) and at
 * recovery.
 */

/** Failed runs in a row after which the failure is alerted (a finding), not only logged. */
export const FAILING_ALERT_AFTER = 5;

/** How long a process that found the cursor taken waits before it looks again. */
const BUSY_RETRY_MS = 100;

/** What readiness and the metrics say of the count; never customer data. */
export interface ReadingTallyStatus {
  /** `failing` from a failed run until the next run that succeeds. */
  readonly state: 'ok' | 'failing';
  readonly consecutiveFailures: number;
  readonly failuresTotal: number;
  /** The last failure: when, and its kind (a SQLSTATE such as 42501, `timeout`, `unreachable`, or `error`). */
  readonly lastError: { readonly at: Date; readonly kind: string } | null;
  /** The end of the last run that succeeded (null: none yet). */
  readonly lastCountAt: Date | null;
}

/** A change in the count's health, for the server log and the alert; `consecutiveFailures` 0 is a recovery. */
export interface TallyFailing {
  readonly consecutiveFailures: number;
  readonly kind: string;
  readonly message: string;
}

/** What the firewall sees of it: a nudge after each served read. */
export interface ReadingWatch {
  nudge(): void;
}

export interface ReadingTallyOptions {
  readonly clock: () => Date;
  readonly thresholds?: Thresholds;
  /** Events counted per transaction (a long backlog is counted in several). */
  readonly pageEvents?: number;
  /** How long a nudge waits for others to join it (default 50 ms; 0 runs at once). */
  readonly delayMs?: number;
  /** A run every this many ms besides the nudges (reads logged by other processes); null: none. */
  readonly everyMs?: number | null;
  /** A run that failed (it is retried at the next nudge); never carries customer data. */
  readonly onError?: (e: unknown) => void;
  /**
   * The first failure, the FAILING_ALERT_AFTER-th in a row, every 100th after it, and the recovery
   * (`consecutiveFailures` 0): what the server logs and alerts, without a line per read of a failing count.
   */
  readonly onFailing?: (f: TallyFailing) => void;
}

/** The kind of a failure, for readiness and the log: the store's SQLSTATE when it has one (42501: no privilege). */
export function failureKind(e: unknown): string {
  const store = storeFailure(e);
  if (store !== null) return store;
  for (let cur: unknown = e, depth = 0; typeof cur === 'object' && cur !== null && depth < 8; depth++) {
    const { code } = cur as { code?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return 'error';
}

interface Tallied {
  reads: number;
  userIds: Set<string>;
  lastAt: Date;
}

interface DayRow extends Record<string, unknown> {
  person_id: string;
  day: string;
  reads: number | string;
  raised_level: number | string;
  history: (number | string)[] | null;
}

export class ReadingTally implements ReadingWatch {
  readonly #db: Db;
  readonly #findings: FindingSink;
  readonly #clock: () => Date;
  readonly #t: Thresholds;
  readonly #page: number;
  readonly #delayMs: number;
  readonly #onError: (e: unknown) => void;
  readonly #onFailing: (f: TallyFailing) => void;
  readonly #every: ReturnType<typeof setInterval> | null;
  #waiting: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  #lastError: unknown = null;
  /** The last run found the cursor taken by another process (drain waits for it; the background run retries). */
  #busy = false;
  #busyRetry: ReturnType<typeof setTimeout> | null = null;
  #prunedDay = '';
  #consecutiveFailures = 0;
  #failuresTotal = 0;
  #failedAt: { at: Date; kind: string } | null = null;
  #lastCountAt: Date | null = null;

  constructor(db: Db, findings: FindingSink, opts: ReadingTallyOptions) {
    this.#db = db;
    this.#findings = findings;
    this.#clock = opts.clock;
    this.#t = opts.thresholds ?? DEFAULT_THRESHOLDS;
    this.#page = opts.pageEvents ?? 2000;
    this.#delayMs = opts.delayMs ?? 50;
    this.#onError = opts.onError ?? (() => undefined);
    this.#onFailing = opts.onFailing ?? (() => undefined);
    const every = opts.everyMs ?? null;
    this.#every = every === null ? null : setInterval(() => this.nudge(), every);
    this.#every?.unref();
  }

  nudge(): void {
    if (this.#closed) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    if (this.#waiting !== null) return;
    if (this.#delayMs <= 0) this.#start();
    else {
      this.#waiting = setTimeout(() => this.#start(), this.#delayMs);
      this.#waiting.unref();
    }
  }

  status(): ReadingTallyStatus {
    return {
      state: this.#consecutiveFailures > 0 ? 'failing' : 'ok',
      consecutiveFailures: this.#consecutiveFailures,
      failuresTotal: this.#failuresTotal,
      lastError: this.#failedAt,
      lastCountAt: this.#lastCountAt,
    };
  }

  /**
   * Counts everything the log holds now and raises what it finds, waiting for another process that holds the
   * cursor; rethrows a failure of that run (tests, the CLI).
   */
  async drain(): Promise<void> {
    await this.#idle();
    this.#lastError = null;
    do {
      if (this.#busy) await new Promise((resolve) => setTimeout(resolve, 10));
      this.#start();
      await this.#idle();
    } while (this.#busy && this.#lastError === null && !this.#closed);
    const e = this.#lastError;
    this.#lastError = null;
    if (e !== null) throw e instanceof Error ? e : new Error('the bulk-reading count failed', { cause: e });
  }

  async #idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#every !== null) clearInterval(this.#every);
    if (this.#busyRetry !== null) clearTimeout(this.#busyRetry);
    if (this.#waiting !== null) clearTimeout(this.#waiting);
    this.#waiting = null;
    await this.#idle();
  }

  #start(): void {
    if (this.#waiting !== null) clearTimeout(this.#waiting);
    this.#waiting = null;
    if (this.#running !== null || this.#closed) return;
    this.#running = (async () => {
      this.#busy = false;
      const failures: unknown[] = [];
      try {
        run: do {
          this.#again = false;
          let step: Step;
          while (!this.#closed && (step = await this.#step(failures)) !== 'done') {
            if (step === 'busy') {
              // Another process counts the log now: it counts what is committed; what comes after, a moment later.
              this.#busy = true;
              break run;
            }
          }
        } while (this.#again && !this.#closed);
        if (failures.length > 0)
          throw failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} bulk-reading findings could not be raised`);
        // A run that found the cursor taken counted nothing: it neither clears a failure nor dates a count.
        if (!this.#busy) this.#succeeded();
      } catch (e) {
        this.#lastError = e;
        this.#failed(e);
        this.#onError(e);
        await this.#alertFailing();
      } finally {
        this.#running = null;
      }
      if (this.#busy && !this.#closed && this.#busyRetry === null) {
        this.#busyRetry = setTimeout(
          () => {
            this.#busyRetry = null;
            this.nudge();
          },
          Math.max(this.#delayMs, BUSY_RETRY_MS),
        );
        this.#busyRetry.unref();
      }
    })();
  }

  #succeeded(): void {
    this.#lastCountAt = this.#clock();
    if (this.#consecutiveFailures === 0) return;
    const kind = this.#failedAt?.kind ?? 'error';
    this.#consecutiveFailures = 0;
    this.#onFailing({ consecutiveFailures: 0, kind, message: 'the bulk-reading count works again' });
  }

  #failed(e: unknown): void {
    const kind = failureKind(e);
    this.#consecutiveFailures++;
    this.#failuresTotal++;
    this.#failedAt = { at: this.#clock(), kind };
    const n = this.#consecutiveFailures;
    if (n === 1 || n === FAILING_ALERT_AFTER || (n > FAILING_ALERT_AFTER && n % 100 === 0))
      this.#onFailing({ consecutiveFailures: n, kind, message: e instanceof Error ? e.message : String(e) });
  }

  /** The alert of a count failing FAILING_ALERT_AFTER times in a row (folded while open, every 100th again). */
  async #alertFailing(): Promise<void> {
    const n = this.#consecutiveFailures;
    const failed = this.#failedAt;
    if (failed === null || n < FAILING_ALERT_AFTER || (n !== FAILING_ALERT_AFTER && n % 100 !== 0)) return;
    try {
      await this.#findings.raise(tallyFailingFinding({ consecutiveFailures: n, kind: failed.kind }, this.#clock()));
    } catch (e) {
      // The store that fails the count may fail this too: the log line and readiness still say it.
      this.#onError(e);
    }
  }

  /**
   * One page of the log counted in one transaction, then its findings raised: `full` if the page was full,
   * `busy` if another process holds the cursor. A finding that cannot be raised is put in `failures` and the
   * others are raised all the same.
   */
  async #step(failures: unknown[]): Promise<Step> {
    const now = this.#clock();
    const raise: NewFinding[] = [];
    const step = await this.#db.transaction(async (tx): Promise<Step> => {
      const mark = await takeCursor(tx, now);
      if (mark === null) return 'busy';
      const { rows } = await tx.query<{ seq: string | number; occurred_at: Date | string; person_id: string; user_id: string | null; records: unknown }>(
        `SELECT seq, occurred_at, person_id, user_id, CASE WHEN outcome = 'served' THEN records END AS records
           FROM access_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [mark, this.#page],
      );
      const last = rows.at(-1);
      if (last === undefined) return 'done';
      const days = new Map<string, Tallied & { personId: string; day: string }>();
      for (const ev of rows) {
        const records = (typeof ev.records === 'string' ? JSON.parse(ev.records) : ev.records) as { shown?: string[] }[] | null;
        if (records === null) continue;
        const n = records.filter((r) => showsNonPublic(r.shown ?? [])).length;
        if (n === 0) continue;
        const at = new Date(ev.occurred_at);
        const day = japanDay(at);
        const key = `${ev.person_id}\u0000${day}`;
        const d = days.get(key) ?? { personId: ev.person_id, day, reads: 0, userIds: new Set<string>(), lastAt: at };
        d.reads += n;
        if (ev.user_id !== null) d.userIds.add(ev.user_id);
        if (at > d.lastAt) d.lastAt = at;
        days.set(key, d);
      }
      if (days.size > 0) {
        const counted = await countDays(tx, [...days.values()]);
        const judgedFrom = japanDay(new Date(now.getTime() - DAY_MS));
        for (const row of counted) {
          if (row.day < judgedFrom) continue; // catching up on history: counted, not raised
          const baseline = baselineOf((row.history ?? []).map(Number), this.#t);
          const threshold = bulkThreshold(baseline, this.#t);
          const reads = Number(row.reads);
          const level = bulkLevel(reads, threshold);
          if (level <= Number(row.raised_level)) continue;
          await tx.query('UPDATE reading_days SET raised_level = $3 WHERE person_id = $1 AND day = $2::date', [row.person_id, row.day, level]);
          const seen = days.get(`${row.person_id}\u0000${row.day}`);
          raise.push(this.#finding(row.person_id, row.day, reads, baseline, threshold, level, now, seen));
        }
      }
      const today = japanDay(now);
      if (this.#prunedDay !== today) {
        await tx.query(`DELETE FROM reading_days WHERE day < $1::date - $2::int`, [today, BASELINE_LOOKBACK_DAYS + 1]);
        this.#prunedDay = today;
      }
      await tx.query('UPDATE reading_tally SET seq = $1, counted_at = $2 WHERE id = 1', [Number(last.seq), now]);
      return rows.length >= this.#page ? 'full' : 'done';
    });
    // After the commit (the findings queue folds in its own transaction), each on its own: one that fails has
    // lost the raising of that person's level only (the next level, and the scan, still raise it); the others
    // are raised, and the failure is reported with the run's.
    for (const f of raise) {
      try {
        await this.#findings.raise(f);
      } catch (e) {
        failures.push(e);
      }
    }
    return step;
  }

  #finding(
    personId: string,
    day: string,
    reads: number,
    baseline: Baseline,
    threshold: number,
    level: number,
    now: Date,
    seen: Tallied | undefined,
  ): NewFinding {
    const t = this.#t;
    const userIds = [...(seen?.userIds ?? [])].sort();
    const usual =
      baseline.kind === 'own'
        ? `本人の通常の日（直近 ${baseline.days} 日の中央値）${baseline.reads} 件`
        : `閲覧の履歴が少ないため通常の日を ${baseline.reads} 件とみなして（履歴 ${baseline.days} 日）`;
    return {
      rule: 'bulk_reading',
      severity: bulkSeverity(level),
      occurredAt: seen?.lastAt ?? now,
      detectedAt: now,
      source: 'live',
      subjectPersonId: personId,
      subjectUserId: null,
      summary: `${userIds.length > 0 ? `${userIds.join('・')}（${personId}）` : personId} が ${day} に非公開情報を ${reads} 件閲覧しています：${usual}の ${t.bulkOwnFactor} 倍（${threshold} 件）を超えました`,
      evidence: {
        personId,
        userIds,
        day,
        reads,
        baseline: baseline.reads,
        baselineKind: baseline.kind,
        baselineDays: baseline.days,
        threshold,
        level,
        bulkMinDaily: t.bulkMinDaily,
        bulkOwnFactor: t.bulkOwnFactor,
      },
    };
  }
}

type Step = 'full' | 'done' | 'busy';

/**
 * The live finding that says live bulk detection is off: high (so it alerts), about the control rather than
 * a person (one open finding while it fails). Its evidence is the failure's kind, never a message.
 */
export function tallyFailingFinding(f: { readonly consecutiveFailures: number; readonly kind: string }, now: Date): NewFinding {
  return {
    rule: 'bulk_reading_count_failing',
    severity: 'high',
    occurredAt: now,
    detectedAt: now,
    source: 'live',
    subjectPersonId: null,
    subjectUserId: null,
    subjectKey: 'control:bulk_reading',
    summary: `閲覧件数の集計が ${f.consecutiveFailures} 回続けて失敗しています（${f.kind}）：回復するまで大量閲覧は即時には検知されません（閲覧は止まりません）。権限（gridwall db grant-app）とサーバーログを確認してください`,
    evidence: { control: 'bulk_reading', consecutiveFailures: f.consecutiveFailures, kind: f.kind },
  };
}

/**
 * The counted-to sequence number, its row locked for this transaction; null when another process holds it
 * (SKIP LOCKED: nobody waits, holding a pooled connection, for a count another is making). The first run
 * ever makes the row, from the last BASELINE_LOOKBACK_DAYS of the log: that scan runs only while the row is
 * missing, never on the steps after it.
 */
async function takeCursor(tx: Queryable, now: Date): Promise<number | null> {
  const taken = await tx.query<{ seq: string | number }>('SELECT seq FROM reading_tally WHERE id = 1 FOR UPDATE SKIP LOCKED');
  const row = taken.rows[0];
  if (row !== undefined) return Number(row.seq);
  const exists = await tx.query('SELECT 1 FROM reading_tally WHERE id = 1');
  if (exists.rows.length > 0) return null;
  const made = await tx.query<{ seq: string | number }>(
    `INSERT INTO reading_tally (id, seq, counted_at)
     SELECT 1, coalesce((SELECT min(seq) - 1 FROM access_log WHERE occurred_at >= $1), (SELECT seq FROM access_log_head WHERE id = 1), 0), $2
     ON CONFLICT (id) DO NOTHING RETURNING seq`,
    [new Date(now.getTime() - BASELINE_LOOKBACK_DAYS * DAY_MS), now],
  );
  const first = made.rows[0];
  return first === undefined ? null : Number(first.seq);
}

/** Adds the counts and returns each day's total with the person's earlier days (for the baseline). */
async function countDays(tx: Queryable, days: readonly { personId: string; day: string; reads: number }[]): Promise<DayRow[]> {
  const json = JSON.stringify(days.map((d) => ({ person_id: d.personId, day: d.day, reads: d.reads })));
  await tx.query(
    `INSERT INTO reading_days (person_id, day, reads)
     SELECT person_id, day, reads FROM jsonb_to_recordset($1::jsonb) AS x(person_id text, day date, reads integer) ORDER BY person_id, day
     ON CONFLICT (person_id, day) DO UPDATE SET reads = reading_days.reads + EXCLUDED.reads`,
    [json],
  );
  const { rows } = await tx.query<DayRow>(
    `SELECT x.person_id, x.day::text AS day, r.reads, r.raised_level,
            array(SELECT d.reads FROM reading_days d
                   WHERE d.person_id = x.person_id AND d.day < x.day AND d.day >= x.day - $2::int AND d.reads > 0
                   ORDER BY d.day DESC LIMIT $3) AS history
       FROM jsonb_to_recordset($1::jsonb) AS x(person_id text, day date)
       JOIN reading_days r ON r.person_id = x.person_id AND r.day = x.day
      ORDER BY x.person_id, x.day`,
    [json, BASELINE_LOOKBACK_DAYS, BASELINE_DAYS],
  );
  return rows;
}
