import { statement, type Queryable } from '../store/db.ts';
import { LogUnavailableError, type AccessEvent, type AccessLog } from './access-event.ts';
import { chainEvents, type ChainedEvent } from './chain.ts';
import { readHead, type ChainHead } from './log-reader.ts';
import { ensurePartition, monthKey, monthOf } from './partitions.ts';
import { signCheckpoint, type SigningKey } from './signing.ts';

interface Pending {
  readonly event: AccessEvent;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** The columns of an event row, in the order `jsonb_to_recordset` reads them. */
export const EVENT_COLUMNS = `seq bigint, prev_hash text, hash text, occurred_at timestamptz, request_id text, person_id text, user_id text,
  session_id text, principal_class text, side text, organization_id text, employment text, office text, terminal_id text,
  route text, purpose text, outcome text, refusal text, query jsonb, supply_point_ids text[], records jsonb,
  policy_version text, emergency_id text`;
const NAMES = EVENT_COLUMNS.split(',').map((c) => c.trim().split(' ')[0]).join(', ');
/**
 * One group commit in one statement (so one round trip, atomic without an explicit transaction): move the
 * chain's head from the sequence number this writer last saw — if another writer moved it first, nothing
 * happens and the writer re-reads the head and re-links its batch — add the checkpoint when one is due,
 * and insert the batch.
 */
const APPEND = statement('gw_log_append', `
WITH moved AS (
  UPDATE access_log_head SET seq = $2, hash = $3, checkpoint_seq = $4, checkpoint_at = $5
   WHERE id = 1 AND seq = $1
  RETURNING 1),
signed AS (
  INSERT INTO access_log_checkpoints (seq, hash, signed_at, key_id, signature)
  SELECT $2, $3, $5, $6, $7 WHERE $6::text IS NOT NULL AND EXISTS (SELECT 1 FROM moved)
  RETURNING 1),
added AS (
  INSERT INTO access_log (${NAMES}) SELECT ${NAMES} FROM jsonb_to_recordset($8::jsonb) AS x(${EVENT_COLUMNS})
   WHERE EXISTS (SELECT 1 FROM moved)
  RETURNING 1)
SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM added)::int AS added, (SELECT count(*) FROM signed)::int AS signed`);

/** Appends that lost the race for the head this many times in a row fail (other writers keep winning). */
const MAX_RETRIES = 20;

function row(c: ChainedEvent): Record<string, unknown> {
  const e = c.event;
  return {
    seq: c.seq,
    prev_hash: c.prevHash,
    hash: c.hash,
    occurred_at: e.occurredAt.toISOString(),
    request_id: e.requestId,
    person_id: e.personId,
    user_id: e.userId,
    session_id: e.sessionId,
    principal_class: e.principalClass,
    side: e.side,
    organization_id: e.organizationId,
    employment: e.employment,
    office: e.office,
    terminal_id: e.terminalId,
    route: e.route,
    purpose: e.purpose,
    outcome: e.outcome,
    refusal: e.refusal,
    query: e.query,
    supply_point_ids: e.records.map((r) => r.supplyPointId),
    records: e.records,
    policy_version: e.policyVersion,
    emergency_id: e.emergencyId,
  };
}

export interface LogWriterOptions {
  readonly key: SigningKey;
  /** Largest group commit (events). */
  readonly maxBatch?: number;
  /** A signed checkpoint at least every this many events… */
  readonly checkpointEvery?: number;
  /** …and at least every this many seconds while events keep coming (also when idle, by a timer). */
  readonly checkpointSeconds?: number;
  /** Time of checkpoints (the events carry their own time). */
  readonly clock?: () => Date;
}

/** The head as this writer will move it. */
type Head = { -readonly [K in keyof ChainHead]: ChainHead[K] };

/**
 * The access-log writer: hash chain, signed checkpoints and group commit.
 *
 * Group commit: events that arrive while a batch is being committed wait and go together in the next
 * commit. Each caller's promise settles only when its batch is committed, so a response never leaves
 * before its event is durable; if the batch fails every caller in it is refused.
 *
 * A batch is numbered and linked after the head this writer last committed, and committed in one statement
 * that moves the head only if it is still where the writer saw it (see `APPEND`): writers in several
 * processes append in turn (the loser re-reads the head and re-links), a failed commit leaves no
 * half-linked events, and the common case costs one round trip.
 */
export class GroupCommitLog implements AccessLog {
  readonly #db: Queryable;
  readonly #key: SigningKey;
  readonly #maxBatch: number;
  readonly #checkpointEvery: number;
  readonly #checkpointMs: number;
  readonly #clock: () => Date;
  readonly #months = new Set<string>();
  readonly #timer: NodeJS.Timeout | null;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #keyRegistered = false;
  #batches = 0;
  /** The head as this writer last committed it; null: read it from the store first. */
  #head: Head | null = null;

  constructor(db: Queryable, opts: LogWriterOptions) {
    this.#db = db;
    this.#key = opts.key;
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#checkpointEvery = opts.checkpointEvery ?? 1000;
    this.#checkpointMs = (opts.checkpointSeconds ?? 60) * 1000;
    this.#clock = opts.clock ?? (() => new Date());
    this.#timer = this.#checkpointMs > 0 ? setInterval(() => void this.checkpoint(false).catch(() => undefined), this.#checkpointMs) : null;
    this.#timer?.unref();
  }

  /** Number of group commits so far (for benchmarks and tests). */
  get batches(): number {
    return this.#batches;
  }

  append(event: AccessEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /**
   * Signs a checkpoint of the chain's end now if events were added since the last one (and, unless `force`,
   * the last one is older than the checkpoint interval). The timer calls it; `close` forces it.
   */
  async checkpoint(force: boolean): Promise<void> {
    await this.#commit([], force ? 'force' : 'if_due_by_time');
  }

  /** Stops the checkpoint timer after the queue has drained, and seals the chain with a last checkpoint. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    while (this.#flushing !== null) await this.#flushing;
    await this.checkpoint(true);
  }

  async #readHead(): Promise<Head> {
    if (!this.#keyRegistered) {
      await this.#db.query('INSERT INTO access_log_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING', [this.#key.keyId, this.#key.publicKeyPem]);
      this.#keyRegistered = true;
    }
    return readHead(this.#db);
  }

  /**
   * Links `events` after the head and commits them, with a checkpoint when one is due (`mode`), retrying
   * with a fresh head when another writer got there first.
   */
  async #commit(events: readonly AccessEvent[], mode: 'batch' | 'force' | 'if_due_by_time'): Promise<void> {
    for (const e of events) {
      const m = monthOf(e.occurredAt);
      if (!this.#months.has(monthKey(m))) {
        await ensurePartition(this.#db, m);
        this.#months.add(monthKey(m));
      }
    }
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const head = this.#head ?? (await this.#readHead());
      const chained = chainEvents(events, head.seq + 1, head.hash);
      const last = chained[chained.length - 1];
      const next: Head = { ...head, seq: last?.seq ?? head.seq, hash: last?.hash ?? head.hash };
      const now = this.#clock();
      // By time: the last checkpoint is older than the interval (the timer also signs the very first one).
      const byTime = head.checkpointAt === null ? mode === 'if_due_by_time' : now.getTime() - head.checkpointAt.getTime() >= this.#checkpointMs;
      const due = next.seq > head.checkpointSeq && (mode === 'force' || byTime || (mode === 'batch' && next.seq - head.checkpointSeq >= this.#checkpointEvery));
      if (events.length === 0 && !due) return;
      const cp = due ? signCheckpoint(this.#key, next.seq, next.hash, now) : null;
      if (cp !== null) {
        next.checkpointSeq = next.seq;
        next.checkpointAt = now;
      }
      const { rows } = await this.#db.query<{ moved: number; added: number }>(APPEND, [
        head.seq, next.seq, next.hash, next.checkpointSeq, next.checkpointAt, cp?.keyId ?? null, cp?.signature ?? null, JSON.stringify(chained.map(row)),
      ]);
      if (rows[0]?.moved === 1) {
        this.#head = next;
        return;
      }
      this.#head = null; // another writer moved the head: read it again and re-link
    }
    throw new Error(`could not append to the access log: ${MAX_RETRIES} attempts lost the race for the chain's head`);
  }

  /**
   * Drains the queue. `#flushing` is cleared in the same synchronous step as the last look at the queue, so
   * an event appended by a caller woken by this flush always finds either a running flush or none.
   */
  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        let batch: Pending[] = [];
        try {
          // Let the events of requests already in flight join this batch.
          await new Promise<void>((r) => setImmediate(r));
          batch = this.#queue.splice(0, this.#maxBatch);
          this.#batches++;
          await this.#commit(batch.map((p) => p.event), 'batch');
          for (const p of batch) p.resolve();
        } catch (e) {
          // What this writer believed about the store may be wrong after a failure: read it again.
          this.#head = null;
          this.#months.clear();
          this.#keyRegistered = false;
          const err = new LogUnavailableError(e);
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#flushing = null;
    }
  }
}
