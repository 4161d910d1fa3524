import { statement, type Db, type Queryable } from '../store/db.ts';
import { eventColumns, LogUnavailableError, type AccessEvent, type AccessLog } from './access-event.ts';
import type { KeyObject } from 'node:crypto';
import { chainEvents, GENESIS, type ChainedEvent } from './chain.ts';
import { ChainVerifier } from './chain-verify.ts';
import { SealCursor } from './export.ts';
import { verifyStore } from './store-verify.ts';
import { lastSeal, readHead, readLinks, readLogEnd, readSeals } from './log-reader.ts';
import { DAY_MS } from '../domain/japan-time.ts';
import { storeFailure } from '../store/failure.ts';
import { requireRegisteredKey } from './log-keys.ts';
import { ensurePartition, monthKey, monthOf } from './partitions.ts';
import { publicKeys, sealDigest, sealSignatureValid, signSeal, type Seal, type SigningKey } from './signing.ts';
import type { WitnessSink } from './witness.ts';

interface Pending {
  readonly event: AccessEvent;
  /** When the event was handed to the writer (ms since the epoch, the writer's clock). */
  readonly queuedAt: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** One group commit in one call (one round trip): see `access_log_append` in migration 010. */
const APPEND = statement(
  'gw_log_append',
  'SELECT moved, head_seq::text AS head_seq, head_hash FROM access_log_append($1::bigint, $2::text, $3::jsonb, $4::jsonb)',
);

/** A writer that lost the race for the head takes it (migration 019): locked until its transaction ends. */
const TAKE_HEAD = statement('gw_log_take_head', 'SELECT head_seq::text AS head_seq, head_hash FROM access_log_take_head()');

function row(c: ChainedEvent): Record<string, unknown> {
  return { seq: c.seq, prev_hash: c.prevHash, hash: c.hash, ...eventColumns(c.event) };
}

export interface LogWriterOptions {
  readonly key: SigningKey;
  /** Keys of other writers whose seals this writer accepts besides its own: earlier, rotated keys. */
  readonly trusted?: ReadonlyMap<string, KeyObject>;
  /** Where seals are published outside the database; null: nowhere (tests). */
  readonly witness?: WitnessSink | null;
  /** Told once when the writer stops the line (an alert). */
  readonly onHalt?: (reason: string) => void;
  /** Told when a seal could not be published to the witness (the log goes on). */
  readonly onWitnessError?: (message: string) => void;
  /** Largest group commit (events). */
  readonly maxBatch?: number;
  /** A seal is published to the witness at least every this many events… */
  readonly checkpointEvery?: number;
  /** …and at least every this many seconds while events keep coming (and by a timer when idle). */
  readonly checkpointSeconds?: number;
  /** Time of seals (the events carry their own time). */
  readonly clock?: () => Date;
  /** Told of every event handed to the writer and every group commit (the metrics). */
  readonly observer?: WriterObserver;
  /**
   * While idle, account every this many milliseconds for what other writers (server processes) appended, so
   * the next commit does not first read a long stretch back, and the read limits hear of the others' reads
   * within this time rather than at this writer's next read. 0 (the default): only when committing.
   */
  readonly catchUpMs?: number;
}

/** What the writer reports as it works, for the metrics (api/metrics.ts). */
export interface WriterObserver {
  event(e: AccessEvent): void;
  commit(seconds: number, events: number): void;
}

/**
 * Who else is told when the writer stops the line or cannot publish a seal: the server log (api/app.ts). The
 * messages name sequence numbers and the witness's path — for operators, never for the public readiness answer.
 */
export interface WriterAlerts {
  halted(reason: string): void;
  witnessFailed(message: string): void;
}

/** A point of the chain: a sequence number, the hash there, and the digest of the seal that ends there. */
interface Point {
  readonly seq: number;
  readonly hash: string;
  readonly seal: string;
}

/** The writer stopped the line: it found the chain in a state it cannot account for. */
export class LogHaltedError extends Error {
  readonly code = 'log_halted';
}

/** The SQLSTATE of the append function's refusals: the batch or the chain is not as it must be. */
const REFUSED = 'GWL01';

/**
 * The access-log writer: hash chain, a signed seal on every group commit, group commit, and the witness.
 *
 * Group commit: events that arrive while a batch is being committed wait and go together in the next
 * commit. Each caller's promise settles only when its batch is committed, so a response never leaves
 * before its event is durable; if the batch fails every caller in it is refused.
 *
 * The writer trusts nobody (issue 15): it links a batch after the point of the chain it has accounted for —
 * its own last commit, or at start the last seal it published to the witness — never simply after whatever
 * head the database shows. When the head moved (another process's writer), it reads the events in between
 * and their seals and checks them (links, hashes, seals signed by a trusted key, no gap) before linking after
 * them. A head that went backwards, an event no trusted seal covers, or a store that refuses a batch as not
 * linking, stops the line: every append fails (no data is served), `halted` says why, and `onHalt` raises the
 * alert. Nothing unaccounted for is ever sealed over.
 */
/** The writer's state, as readiness and the metrics show it. */
export interface WriterStatus {
  readonly queued: number;
  readonly oldestQueuedMs: number;
  readonly batches: number;
  readonly lastCommitAt: Date | null;
  /** The last failed group commit, until one succeeds: what failed (the store, or the commit itself), not the message. */
  readonly lastError: { readonly at: Date; readonly kind: 'unreachable' | 'timeout' | 'refused' } | null;
  readonly lastSealAt: Date | null;
  readonly lastSealSeq: number | null;
  readonly halted: string | null;
  readonly witnessError: string | null;
}

export class GroupCommitLog implements AccessLog {
  readonly #db: Db;
  readonly #key: SigningKey;
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #witness: WitnessSink | null;
  readonly #onHalt: (reason: string) => void;
  readonly #onWitnessError: (message: string) => void;
  readonly #maxBatch: number;
  readonly #publishEvery: number;
  readonly #publishMs: number;
  readonly #clock: () => Date;
  readonly #months = new Set<string>();
  readonly #timer: NodeJS.Timeout | null;
  readonly #catchUpTimer: NodeJS.Timeout | null;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #batches = 0;
  /** The point this writer has accounted for; null: establish it from the store and the witness first. */
  #known: Point | null = null;
  #halted: string | null = null;
  /** The last seal this writer made, and the last it published to the witness. */
  #lastSeal: Seal | null = null;
  #published: { seq: number; at: number } | null = null;
  #witnessError: string | null = null;
  #lastCommitAt: Date | null = null;
  readonly #observer: WriterObserver | null;
  #lastError: WriterStatus['lastError'] = null;
  readonly #watchers = new Set<WriterAlerts>();
  readonly #others = new Set<(events: readonly AccessEvent[]) => void>();

  constructor(db: Db, opts: LogWriterOptions) {
    this.#db = db;
    this.#key = opts.key;
    this.#keys = new Map([...publicKeys([opts.key.publicKeyPem]), ...(opts.trusted ?? [])]);
    this.#witness = opts.witness ?? null;
    this.#onHalt = opts.onHalt ?? (() => undefined);
    this.#onWitnessError = opts.onWitnessError ?? (() => undefined);
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#publishEvery = opts.checkpointEvery ?? 1000;
    this.#publishMs = (opts.checkpointSeconds ?? 60) * 1000;
    this.#clock = opts.clock ?? (() => new Date());
    this.#observer = opts.observer ?? null;
    this.#timer = this.#witness !== null && this.#publishMs > 0 ? setInterval(() => this.#publish(false), this.#publishMs) : null;
    this.#timer?.unref();
    const catchUpMs = opts.catchUpMs ?? 0;
    this.#catchUpTimer = catchUpMs > 0 ? setInterval(() => void this.catchUp(), catchUpMs) : null;
    this.#catchUpTimer?.unref();
  }

  /** Number of group commits so far (for benchmarks and tests). */
  get batches(): number {
    return this.#batches;
  }

  /** Why the writer stopped the line, or null while it writes. */
  get halted(): string | null {
    return this.#halted;
  }

  /** Why the last seal could not be published to the witness, or null (the log goes on either way). */
  get witnessError(): string | null {
    return this.#witnessError;
  }

  /**
   * What readiness and the metrics report of the writer: events waiting and the age of the oldest, the last
   * group commit and the last failed one, the last seal's time, and why the line stopped if it did.
   */
  status(): WriterStatus {
    const now = this.#clock().getTime();
    const oldest = this.#queue[0]?.queuedAt;
    return {
      queued: this.#queue.length,
      oldestQueuedMs: oldest === undefined ? 0 : Math.max(0, now - oldest),
      batches: this.#batches,
      lastCommitAt: this.#lastCommitAt,
      lastError: this.#lastError,
      lastSealAt: this.#lastSeal === null ? null : new Date(this.#lastSeal.signedAt),
      lastSealSeq: this.#lastSeal?.seq ?? null,
      halted: this.#halted,
      witnessError: this.#witnessError,
    };
  }

  /**
   * Tells `alerts` too of a halt and of each seal not published, from now on — and at once of a halt or a
   * witness failure already met (the writer checks the chain at start, before the server's log exists).
   * Returns how to stop telling it.
   */
  watch(alerts: WriterAlerts): () => void {
    this.#watchers.add(alerts);
    if (this.#halted !== null) alerts.halted(this.#halted);
    if (this.#witnessError !== null) alerts.witnessFailed(this.#witnessError);
    return () => void this.#watchers.delete(alerts);
  }

  onOthers(listener: (events: readonly AccessEvent[]) => void): () => void {
    this.#others.add(listener);
    return () => void this.#others.delete(listener);
  }

  append(event: AccessEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, queuedAt: this.#clock().getTime(), resolve, reject });
      this.#observer?.event(event);
      this.#flushing ??= this.#flush();
    });
  }

  /**
   * Checks the chain as the store holds it against what this writer can account for, without writing: at
   * start, so that a server refuses to serve (and says why) before its first read rather than at it.
   */
  async open(): Promise<void> {
    if (this.#halted !== null) throw new LogHaltedError(this.#halted);
    this.#known ??= await this.#establish();
  }

  /**
   * Accounts for the events other writers appended since this one's point, on the writer's own turn (never
   * beside a commit; a commit that comes meanwhile waits for it): the same checks as before a commit, so a
   * made-up event stops the line now rather than at the next read. Nothing to do when the head has not moved,
   * which costs one read of the head. A store that cannot be reached is left for the next commit to report.
   */
  async catchUp(): Promise<void> {
    const known = this.#known;
    if (this.#halted !== null || this.#flushing !== null || known === null) return;
    const run = (async () => {
      try {
        const head = await readHead(this.#db);
        if (head.seq !== known.seq || head.hash !== known.hash) this.#known = await this.#accountFor(known, head);
      } catch {
        // A halt is recorded and alerted by #halt itself; anything else, the next commit meets and reports.
      } finally {
        // As #flush: cleared in the same step as the look at the queue, then the queue drained if it filled.
        this.#flushing = null;
        if (this.#queue.length > 0) this.#flushing = this.#flush();
      }
    })();
    this.#flushing = run;
    await run;
  }

  /** Stops the publishing timer after the queue has drained, and publishes the last seal to the witness. */
  async close(): Promise<void> {
    if (this.#catchUpTimer !== null) clearInterval(this.#catchUpTimer);
    if (this.#timer !== null) clearInterval(this.#timer);
    while (this.#flushing !== null) await this.#flushing;
    this.#publish(true);
  }

  #halt(reason: string): never {
    if (this.#halted === null) {
      this.#halted = reason;
      this.#onHalt(reason);
      for (const w of this.#watchers) w.halted(reason);
    }
    throw new LogHaltedError(reason);
  }

  /** Publishes the last seal to the witness when one is due (or `force`, when it is not yet published). */
  #publish(force: boolean): void {
    const s = this.#lastSeal;
    if (this.#witness === null || s === null || (this.#published !== null && this.#published.seq >= s.seq)) return;
    const now = this.#clock().getTime();
    const due = force || this.#published === null || s.seq - this.#published.seq >= this.#publishEvery || now - this.#published.at >= this.#publishMs;
    if (!due) return;
    try {
      this.#witness.publish(s);
      this.#published = { seq: s.seq, at: now };
      this.#witnessError = null;
    } catch (e) {
      this.#witnessError = `the seal for event ${s.seq} could not be published to the witness ${this.#witness.path}: ${e instanceof Error ? e.message : String(e)}`;
      this.#onWitnessError(this.#witnessError);
      for (const w of this.#watchers) w.witnessFailed(this.#witnessError);
    }
  }

  /**
   * Checks the events after `from` up to `to` — as the store holds them — before this writer links after
   * them: contiguous, unchanged, linked, every one covered by a seal, the seals chained from this writer's
   * own last one, and the last signed with a trusted key. Returns the point to link after.
   */
  async #accountFor(from: Point, to: { seq: number; hash: string }, q: Queryable = this.#db): Promise<Point> {
    if (to.seq < from.seq || (to.seq === from.seq && to.hash !== from.hash)) {
      this.#halt(
        `the chain's head went back to event ${to.seq} (this writer has accounted for the chain up to event ${from.seq}): the log was rewound outside the writer`,
      );
    }
    if (to.seq === from.seq) return from;
    const verifier = new ChainVerifier({ firstSeq: from.seq + 1, prevHash: from.hash, prevSeal: from.seal, checkpoints: [], keys: this.#keys });
    const seals = new SealCursor(readSeals(q, { fromSeq: from.seq + 1, toSeq: to.seq }));
    // What the others wrote, for those who count it (the read limits): once checked, and only the last day of
    // it — by the events' own time (the newest read back), as the limits count them.
    let theirs: AccessEvent[] | null = this.#others.size > 0 ? [] : null;
    for await (const { event: e, link } of readLinks(q, { fromSeq: from.seq + 1, toSeq: to.seq })) {
      verifier.push(link, await seals.at(link.seq));
      if (theirs === null) continue;
      theirs.push(e);
      // A long stretch (a writer started after hours of others' writing) keeps no more than a day of it.
      if (theirs.length % 10_000 === 0) theirs = theirs.filter((x) => x.occurredAt.getTime() > e.occurredAt.getTime() - DAY_MS);
    }
    const r = verifier.finish(to.seq);
    const last = verifier.lastSeal;
    if (!r.ok || r.lastHash !== to.hash || last === null) {
      const b = r.firstBreak;
      this.#halt(
        `events ${from.seq + 1}–${to.seq}, written since event ${from.seq}, cannot be accounted for: ${b === null ? 'the chain ends at another hash than the head' : `${b.kind} at event ${b.seq}: ${b.detail}`}`,
      );
    }
    const newest = theirs?.at(-1)?.occurredAt.getTime();
    if (theirs !== null && newest !== undefined) theirs = theirs.filter((x) => x.occurredAt.getTime() > newest - DAY_MS);
    if (theirs !== null && theirs.length > 0)
      for (const tell of this.#others) {
        try {
          tell(theirs);
        } catch {
          // A listener's failure is its own: the chain is accounted for either way.
        }
      }
    return { seq: to.seq, hash: to.hash, seal: last.digest };
  }

  /**
   * The point to link after, at start: the head the store shows, accounted for from the last seal published
   * to the witness (which the store must still hold), or — without a witness yet — from the head's own seal.
   * A log written before seals existed is verified whole and sealed once.
   */
  async #establish(): Promise<Point> {
    await requireRegisteredKey(this.#db, this.#key, this.#clock());
    // The witness first, then the head and last seal in one snapshot: another writer (another server process)
    // publishes only after its commit, so neither can be found ahead of the head read after it.
    let witnessed: Seal | null = null;
    try {
      witnessed = this.#witness?.last() ?? null;
    } catch (e) {
      this.#halt(`the witness ${this.#witness?.path} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    const seen = await readLogEnd(this.#db);
    const head = seen.head;
    let last = seen.last;
    // Events past the head: the head was moved back over them (the store's append function refuses to number on
    // from it, which would repeat their numbers), or they were put there outside the writer.
    if (seen.maxSeq > head.seq)
      this.#halt(
        `events are stored past the chain's head (event ${head.seq}) up to event ${seen.maxSeq}: the head was moved back, or events were added outside the writer`,
      );
    if (head.seq === 0 && last !== null) this.#halt("the chain's head is at its start, but seals exist: the log was rewound outside the writer");
    if (last === null && head.seq > 0) {
      // Events and no seal: a log from before seals — or seals removed to make this writer sign over a
      // rewritten log. Never the latter: the witness must not know of seals.
      if (witnessed !== null)
        this.#halt(`the log holds no seal, but the witness ${this.#witness?.path} holds one for event ${witnessed.seq}: seals were removed from the log`);
      last = await this.#sealExisting(head);
    }
    if (witnessed !== null) {
      if (!sealSignatureValid(witnessed, this.#keys))
        this.#halt(`the last seal in the witness ${this.#witness?.path} (event ${witnessed.seq}) is not signed by a trusted key`);
      const there = await this.#hashAt(witnessed.seq);
      if (there !== witnessed.hash) {
        this.#halt(
          there === null
            ? `the witness ${this.#witness?.path} holds a seal for event ${witnessed.seq}, but the log does not reach it (head ${head.seq}): the log was cut or rewound`
            : `the witness ${this.#witness?.path} holds a seal for event ${witnessed.seq} with another hash than the log's: the log was rewritten after it was published`,
        );
      }
      this.#published = { seq: witnessed.seq, at: this.#clock().getTime() };
      return this.#accountFor({ seq: witnessed.seq, hash: witnessed.hash, seal: sealDigest(witnessed) }, head);
    }
    if (last !== null) return this.#accountFor({ seq: last.firstSeq - 1, hash: last.prevHash, seal: last.prevSeal }, head);
    return { seq: head.seq, hash: head.hash, seal: GENESIS };
  }

  async #hashAt(seq: number): Promise<string | null> {
    const { rows } = await this.#db.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = $1 ORDER BY access_log.id LIMIT 1', [seq]);
    return rows[0]?.hash ?? null;
  }

  /**
   * A log from before seals: sealed once, and only if the old writer vouched for all of it — it verifies as it
   * stands and a version-1 checkpoint signed with a trusted key names its head (the old writer signed one at
   * every clean stop). Anything else (seals removed, events added after the last checkpoint) is not signed over.
   */
  async #sealExisting(head: { seq: number; hash: string }): Promise<Seal> {
    const r = await verifyStore(this.#db, { keys: this.#keys, requireSeals: false });
    if (!r.ok || r.lastSeq !== head.seq || r.lastHash !== head.hash) {
      this.#halt(
        `the log written before batch seals does not verify (${r.firstBreak?.kind ?? 'its end is not the head'} at event ${r.firstBreak?.seq ?? head.seq}): it is not sealed over`,
      );
    }
    const { rows } = await this.#db.query<{ hash: string }>('SELECT hash FROM access_log_checkpoints WHERE seq = $1', [head.seq]);
    if (rows[0]?.hash !== head.hash) {
      this.#halt(
        `the log holds events but no seal, and no signed checkpoint names its head (event ${head.seq}): seals were removed, or events were added after the old writer's last checkpoint; it is not sealed over (see gridwall audit verify)`,
      );
    }
    const seal = signSeal(this.#key, { firstSeq: 1, seq: head.seq, prevHash: GENESIS, hash: head.hash, prevSeal: GENESIS }, this.#clock());
    await this.#db.query('SELECT access_log_seal_existing($1::jsonb)', [JSON.stringify(seal)]);
    const last = await lastSeal(this.#db);
    if (last === null) this.#halt('the log written before batch seals could not be sealed');
    return last;
  }

  /** Links `events` after the point accounted for, seals and commits them; re-links after another writer. */
  async #commit(events: readonly AccessEvent[]): Promise<void> {
    if (this.#halted !== null) throw new LogHaltedError(this.#halted);
    if (events.length === 0) return;
    for (const e of events) {
      const m = monthOf(e.occurredAt);
      if (!this.#months.has(monthKey(m))) {
        await ensurePartition(this.#db, m);
        this.#months.add(monthKey(m));
      }
    }
    // First the one-statement append after the point accounted for: one round trip, and all it takes while no
    // other writer (another server process) moved the head since this one's last commit.
    const known = (this.#known ??= await this.#establish());
    const first = await this.#append(this.#db, known, events);
    if (first !== null) return this.#linked(first);
    // Another writer moved it: take the head for a transaction (the others' appends wait), account for what
    // they wrote, and append after it — this cannot lose again (issue 21: four processes under load made a
    // batch lose twenty times in a row and be refused).
    const mine = await this.#db.transaction(async (tx) => {
      const {
        rows: [head],
      } = await tx.query<{ head_seq: string; head_hash: string }>(TAKE_HEAD);
      if (head === undefined) throw new Error('access_log_take_head returned nothing');
      // The others' events are committed: the point after them is real, whatever becomes of this transaction.
      this.#known = await this.#accountFor(known, { seq: Number(head.head_seq), hash: head.head_hash }, tx);
      const appended = await this.#append(tx, this.#known, events);
      if (appended === null)
        this.#halt(`the chain's head moved while this writer held it (after event ${this.#known.seq}): the log was changed outside the writers`);
      return appended;
    });
    // Only once committed does the point move past this batch, and may its seal be published: a seal in the
    // witness for events a failed commit never wrote would read as a cut log to every writer that starts.
    this.#linked(mine);
  }

  /** A batch committed: the point moves past it, and its seal is the last made (published when due). */
  #linked(done: { readonly point: Point; readonly seal: Seal }): void {
    this.#known = done.point;
    this.#lastSeal = done.seal;
    this.#publish(false);
  }

  /**
   * Links `events` after `known`, seals them and appends them in one statement: the new point and its seal —
   * applied by the caller once the statement is committed — or null when the head is not at `known` any more
   * (another writer moved it).
   */
  async #append(q: Queryable, known: Point, events: readonly AccessEvent[]): Promise<{ point: Point; seal: Seal } | null> {
    const chained = chainEvents(events, known.seq + 1, known.hash);
    const last = chained[chained.length - 1];
    if (last === undefined) throw new Error('an empty batch is never appended');
    const seal = signSeal(this.#key, { firstSeq: known.seq + 1, seq: last.seq, prevHash: known.hash, hash: last.hash, prevSeal: known.seal }, this.#clock());
    let res: { moved: boolean; head_seq: string; head_hash: string } | undefined;
    try {
      ({
        rows: [res],
      } = await q.query<{ moved: boolean; head_seq: string; head_hash: string }>(APPEND, [
        known.seq,
        known.hash,
        JSON.stringify(chained.map(row)),
        JSON.stringify(seal),
      ]));
    } catch (e) {
      if ((e as { code?: unknown }).code === REFUSED)
        this.#halt(`the store refused a batch after event ${known.seq}: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    if (res === undefined) throw new Error('access_log_append returned nothing');
    return res.moved ? { point: { seq: last.seq, hash: last.hash, seal: sealDigest(seal) }, seal } : null;
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
          const t0 = performance.now();
          await this.#commit(batch.map((p) => p.event));
          this.#observer?.commit((performance.now() - t0) / 1000, batch.length);
          this.#lastCommitAt = this.#clock();
          this.#lastError = null;
          for (const p of batch) p.resolve();
        } catch (e) {
          // Partitions may be gone after a failure; the point accounted for stays (a commit that did land
          // is found, sealed by this writer, on the next attempt).
          this.#months.clear();
          this.#lastError = { at: this.#clock(), kind: storeFailure(e) ?? 'refused' };
          const err = new LogUnavailableError(e);
          for (const p of batch) p.reject(err);
          if (this.#halted !== null) for (const p of this.#queue.splice(0)) p.reject(err);
        }
      }
    } finally {
      this.#flushing = null;
    }
  }
}
