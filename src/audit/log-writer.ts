import { statement, type Db, type Queryable } from '../store/db.ts';
import { LogUnavailableError, type AccessEvent, type AccessLog } from './access-event.ts';
import { chainEvents, type ChainedEvent } from './chain.ts';
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
const INSERT = statement('gw_log_append', `INSERT INTO access_log (${NAMES}) SELECT ${NAMES} FROM jsonb_to_recordset($1::jsonb) AS x(${EVENT_COLUMNS})`);
const LOCK_HEAD = statement('gw_log_head', `SELECT seq::text AS seq, hash, checkpoint_seq::text AS checkpoint_seq, checkpoint_at FROM access_log_head WHERE id = 1 FOR UPDATE`);
const SET_HEAD = statement('gw_log_set_head', `UPDATE access_log_head SET seq = $1, hash = $2, checkpoint_seq = $3, checkpoint_at = $4 WHERE id = 1`);

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

interface Head {
  seq: number;
  hash: string;
  checkpointSeq: number;
  checkpointAt: Date | null;
}

/**
 * The access-log writer: hash chain, signed checkpoints and group commit.
 *
 * Group commit: events that arrive while a batch is being committed wait and go together in the next
 * transaction. Each caller's promise settles only when its batch is committed, so a response never leaves
 * before its event is durable; if the batch fails every caller in it is refused.
 *
 * The batch is taken from the queue only once the store has given the writer its connection (inside the
 * transaction), so events produced while it waits join the batch. Inside, the writer locks the chain's head
 * row, numbers and links the batch after it, inserts it in one statement, signs a checkpoint when one is due
 * and moves the head — all in that one transaction, so writers in several processes append in turn and a
 * failed commit leaves no half-linked events.
 */
export class GroupCommitLog implements AccessLog {
  readonly #db: Db;
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

  constructor(db: Db, opts: LogWriterOptions) {
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
    try {
      await this.#db.transaction(async (tx) => {
        const head = await this.#lockHead(tx);
        if (head.seq <= head.checkpointSeq) return;
        if (!force && head.checkpointAt !== null && this.#clock().getTime() - head.checkpointAt.getTime() < this.#checkpointMs) return;
        await this.#sign(tx, head);
        await tx.query(SET_HEAD, [head.seq, head.hash, head.checkpointSeq, head.checkpointAt]);
      });
    } catch (e) {
      this.#keyRegistered = false;
      throw e;
    }
  }

  /** Stops the checkpoint timer after the queue has drained, and seals the chain with a last checkpoint. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    while (this.#flushing !== null) await this.#flushing;
    await this.checkpoint(true);
  }

  async #lockHead(tx: Queryable): Promise<Head> {
    if (!this.#keyRegistered) {
      await tx.query('INSERT INTO access_log_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING', [this.#key.keyId, this.#key.publicKeyPem]);
      this.#keyRegistered = true;
    }
    const { rows } = await tx.query<{ seq: string; hash: string; checkpoint_seq: string; checkpoint_at: Date | string | null }>(LOCK_HEAD);
    const r = rows[0];
    if (r === undefined) throw new Error('access_log_head has no row: the schema is not migrated');
    return { seq: Number(r.seq), hash: r.hash, checkpointSeq: Number(r.checkpoint_seq), checkpointAt: r.checkpoint_at === null ? null : new Date(r.checkpoint_at) };
  }

  async #sign(tx: Queryable, head: Head): Promise<void> {
    const at = this.#clock();
    const c = signCheckpoint(this.#key, head.seq, head.hash, at);
    await tx.query('INSERT INTO access_log_checkpoints (seq, hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)', [c.seq, c.hash, at, c.keyId, c.signature]);
    head.checkpointSeq = head.seq;
    head.checkpointAt = at;
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
          await new Promise<void>((r) => setImmediate(r));
          await this.#db.transaction(async (tx) => {
            batch = this.#queue.splice(0, this.#maxBatch);
            this.#batches++;
            const head = await this.#lockHead(tx);
            for (const p of batch) {
              const m = monthOf(p.event.occurredAt);
              if (!this.#months.has(monthKey(m))) {
                await ensurePartition(tx, m);
                this.#months.add(monthKey(m));
              }
            }
            const chained = chainEvents(batch.map((p) => p.event), head.seq + 1, head.hash);
            await tx.query(INSERT, [JSON.stringify(chained.map(row))]);
            const last = chained[chained.length - 1];
            if (last !== undefined) {
              head.seq = last.seq;
              head.hash = last.hash;
            }
            const due = head.seq - head.checkpointSeq >= this.#checkpointEvery || (head.checkpointAt !== null && this.#clock().getTime() - head.checkpointAt.getTime() >= this.#checkpointMs);
            if (due) await this.#sign(tx, head);
            await tx.query(SET_HEAD, [head.seq, head.hash, head.checkpointSeq, head.checkpointAt]);
          });
          for (const p of batch) p.resolve();
        } catch (e) {
          // A month or key recorded as present may have been rolled back with the failed transaction.
          this.#months.clear();
          this.#keyRegistered = false;
          const err = new LogUnavailableError(e);
          // A failure before the batch was taken (no connection) refuses everyone waiting.
          if (batch.length === 0) batch = this.#queue.splice(0, this.#queue.length);
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#flushing = null;
    }
  }
}
