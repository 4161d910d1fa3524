import { inputRefusal } from '../domain/refusal.ts';
import type { Db, Queryable, Statement } from './db.ts';
import { singleFlight, storeFailure, withinDeadline } from './failure.ts';
import { schemaStatus, type SchemaStatus } from './migrate.ts';
import { openPostgres, type StoreTimeouts } from './postgres.ts';

/**
 * A streaming replica of the PostgreSQL server for the reads that may lag (issue 21): searches' candidate IDs,
 * the analysis over the live log, the log's exports. Everything else — the record look-up, sessions, grants,
 * emergencies, governance, every write — is the primary's. The replica is read only through `query` and
 * `copyOut`; a read it cannot answer goes to the primary, so a replica that is down, too far behind, or of
 * another schema costs load on the primary, never an answer. A physical replica holds a prefix of the primary's history, so a read
 * that moves to the primary half-way (a paged export) sees all the replica had and more, never less.
 */

/** Why a read that could use the replica went to the primary (the metrics' label, readiness's `failure`). */
export const FALLBACK_REASONS = ['unreachable', 'timeout', 'conflict', 'lagging', 'schema', 'error'] as const;
export type FallbackReason = (typeof FALLBACK_REASONS)[number];

/** The replica's schema is not the primary's: it copies another database or is far behind (exit 2 at start). */
export class ReplicaSchemaError extends inputRefusal('replica_schema') {}

export interface ReplicaStatus {
  /** `ok`: reads go to the replica; `failing`: down, erring or of another schema; `lagging`: behind the limit. */
  readonly state: 'ok' | 'failing' | 'lagging';
  /** Why the replica is not read now (null while it is). */
  readonly reason: FallbackReason | null;
  /** How far the replica was behind at the last check, in seconds (0: caught up; null: not known). */
  readonly lagSeconds: number | null;
  readonly checkedAt: Date | null;
  /** Since when its reads go to the primary (null while the replica is read). */
  readonly since: Date | null;
  /** Reads sent to the primary instead of the replica since start, by reason. */
  readonly fallbacks: Readonly<Record<FallbackReason, number>>;
}

/** Told when the replica stops being read and when it is read again (the server log's warning and its line of relief). */
export interface ReplicaWatcher {
  fellBack(status: ReplicaStatus): void;
  recovered(status: ReplicaStatus): void;
}

export interface ReplicaOptions {
  /** A replica further behind than this is not read (GRIDWALL_REPLICA_MAX_LAG_SECONDS). */
  readonly maxLagSeconds: number;
  /** Longest a check waits for either server (readiness's own deadline by default). */
  readonly checkMs?: number;
  /** After a failed read, the replica is asked again (by a check) no sooner than this. */
  readonly retryMs?: number;
  readonly clock?: () => Date;
}

export const REPLICA_CHECK_MS = 2000;
export const REPLICA_RETRY_MS = 5000;
/** While the replica's schema matches the primary's, it is compared again after this. */
const SCHEMA_RECHECK_MS = 60_000;
/** A replica not yet at the primary's position is looked at again after this before it counts as behind. */
const CATCH_UP_GRACE_MS = 100;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Why a read on the replica should be served by the primary instead, or null when the error is the query's own
 * (the primary would fail it alike: a statement cancelled by `statement_timeout` there too, a syntax error).
 * 40001 and 40P01 on a standby are a replay conflict: the replica cancelled the read to apply the primary's
 * changes, which says nothing of its health.
 */
function readFailure(e: unknown): FallbackReason | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === '40001' || code === '40P01') return 'conflict';
  if (code === '57014') return null;
  return storeFailure(e);
}

/**
 * How the replica differs from the primary, or null when it is a caught-up standby of this database: `behind`
 * (its migrations a strict beginning of the primary's: replaying one) or `other` (not a standby, another
 * history of migrations, or another access log — a restored copy, a staging server, a failed-over old primary),
 * with a sentence for the operator (no customer data).
 */
async function schemaDifference(primary: SchemaStatus, replica: Queryable, primaryDb: Queryable): Promise<{ kind: 'behind' | 'other'; detail: string } | null> {
  const r = await schemaStatus(replica);
  const last = (applied: readonly string[]) => applied.at(-1) ?? 'empty (no gridwall tables)';
  const fix =
    "DATABASE_REPLICA_URL must name a streaming replica of DATABASE_URL's database, caught up (check its replication, its database name and search_path)";
  const prefix = r.applied.length <= primary.applied.length && r.applied.every((v, i) => v === primary.applied[i]);
  if (!prefix || r.applied.length < primary.applied.length)
    return {
      kind: prefix ? 'behind' : 'other',
      detail: `the read replica's schema is at ${last(r.applied)} (schema ${r.schema ?? '(none)'}); the primary's is at ${last(primary.applied)} (schema ${primary.schema ?? '(none)'})${prefix ? ': it has a migration to replay yet' : ''}: ${fix}`,
    };
  const { rows } = await replica.query<{ standby: boolean; seq: string | null; hash: string | null }>(
    'SELECT pg_is_in_recovery() AS standby, (SELECT seq::text FROM access_log_head WHERE id = 1) AS seq, (SELECT hash FROM access_log_head WHERE id = 1) AS hash',
  );
  const id = rows[0];
  if (id?.standby !== true) return { kind: 'other', detail: `the server DATABASE_REPLICA_URL names is not a standby (pg_is_in_recovery() is false): ${fix}` };
  if (id.seq !== null && id.hash !== null && Number(id.seq) > 0) {
    const mine = await primaryDb.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = $1 ORDER BY id LIMIT 1', [id.seq]);
    if (mine.rows[0]?.hash !== id.hash)
      return {
        kind: 'other',
        detail: `the read replica's access log (event ${id.seq}) is not this database's: it is a copy of another database, or of another history: ${fix}`,
      };
  }
  return null;
}

/**
 * The reads that may lag, routed: to the replica while it answers, is within the lag limit and carries the
 * primary's schema; to the primary otherwise. A read the replica fails for its own reasons (unreachable, a
 * client time-out) is answered by the primary at once, and the replica is left alone until a check (readiness,
 * the server's timer, or a read after `retryMs`) finds it fit again.
 */
export class ReplicaReads implements Queryable {
  readonly #primary: Queryable;
  readonly #replica: Db;
  readonly #opts: Required<Omit<ReplicaOptions, 'clock'>>;
  readonly #clock: () => Date;
  readonly #watchers = new Set<ReplicaWatcher>();
  readonly #fallbacks: Record<FallbackReason, number> = { unreachable: 0, timeout: 0, conflict: 0, lagging: 0, schema: 0, error: 0 };
  #state: Omit<ReplicaStatus, 'fallbacks'>;
  #retryAt = 0;
  /** Why the schema was found wanting, in words (no customer data), while it is. */
  #detail: string | null = null;
  /** Whether the schema found wanting is only behind the primary's (a migration being replayed), not another. */
  #behind = false;
  /** When the replica's schema last matched the primary's (0: not yet). */
  #schemaMatchedAt = 0;
  readonly #check: () => Promise<void>;

  /**
   * `COPY (query) TO STDOUT` (db.ts#copyOut), where both servers stream so: from the replica while it is in use,
   * else from the primary. A replica that fails before its first row leaves the stream to the primary; one that
   * breaks off later fails the caller (a stream is never stitched from two servers).
   */
  readonly copyOut?: (query: string) => AsyncIterable<(string | null)[]>;

  constructor(primary: Queryable & Pick<Db, 'copyOut'>, replica: Db, opts: ReplicaOptions) {
    this.#primary = primary;
    this.#replica = replica;
    const fromReplica = replica.copyOut?.bind(replica);
    const fromPrimary = primary.copyOut?.bind(primary);
    if (fromReplica !== undefined && fromPrimary !== undefined) this.copyOut = (query) => this.#copyOut(query, fromReplica, fromPrimary);
    this.#opts = { maxLagSeconds: opts.maxLagSeconds, checkMs: opts.checkMs ?? REPLICA_CHECK_MS, retryMs: opts.retryMs ?? REPLICA_RETRY_MS };
    this.#clock = opts.clock ?? (() => new Date());
    // Not read until a check has seen it answer with the primary's schema.
    this.#state = { state: 'failing', reason: 'unreachable', lagSeconds: null, checkedAt: null, since: this.#clock() };
    this.#check = singleFlight(() => this.#measure());
  }

  status(): ReplicaStatus {
    return { ...this.#state, fallbacks: { ...this.#fallbacks } };
  }

  /** Whether reads go to the replica now. */
  get inUse(): boolean {
    return this.#state.state === 'ok';
  }

  watch(w: ReplicaWatcher): () => void {
    this.#watchers.add(w);
    return () => void this.#watchers.delete(w);
  }

  async query<R extends Record<string, unknown>>(sql: string | Statement, params?: readonly unknown[]): Promise<{ rows: R[] }> {
    if (this.#state.state === 'ok') {
      try {
        return await this.#replica.query<R>(sql, params);
      } catch (e) {
        const reason = readFailure(e);
        if (reason === null) throw e;
        // A replay conflict is this read's bad luck, not the replica's state: only that read moves.
        if (reason !== 'conflict') this.#set({ state: 'failing', reason, lagSeconds: this.#state.lagSeconds });
        this.#fallbacks[reason]++;
        return this.#primary.query<R>(sql, params);
      }
    }
    this.#fallbacks[this.#state.reason ?? 'error']++;
    if (this.#clock().getTime() >= this.#retryAt) void this.check().catch(() => undefined);
    return this.#primary.query<R>(sql, params);
  }

  async *#copyOut(query: string, fromReplica: (q: string) => AsyncIterable<(string | null)[]>, fromPrimary: (q: string) => AsyncIterable<(string | null)[]>) {
    if (this.#state.state === 'ok') {
      let rows = 0;
      try {
        for await (const row of fromReplica(query)) {
          rows++;
          yield row;
        }
        return;
      } catch (e) {
        const reason = readFailure(e);
        if (reason === null || rows > 0) throw e;
        if (reason !== 'conflict') this.#set({ state: 'failing', reason, lagSeconds: this.#state.lagSeconds });
        this.#fallbacks[reason]++;
      }
    } else {
      this.#fallbacks[this.#state.reason ?? 'error']++;
      if (this.#clock().getTime() >= this.#retryAt) void this.check().catch(() => undefined);
    }
    yield* fromPrimary(query);
  }

  exec(): Promise<void> {
    return Promise.reject(new Error('the read replica runs no scripts: migrations and writes go to the primary'));
  }

  /**
   * Looks at the replica now (one check at a time; callers meanwhile share it): that it answers, carries the
   * primary's schema and is within the lag limit. Resolves within `checkMs` with the status, even when a server
   * does not answer (the check runs on until the pools' own time-outs end it).
   */
  async check(): Promise<ReplicaStatus> {
    try {
      await withinDeadline(this.#check(), this.#opts.checkMs);
    } catch (e) {
      this.#set({ state: 'failing', reason: storeFailure(e) ?? 'error', lagSeconds: null });
    }
    return this.status();
  }

  async #measure(): Promise<void> {
    // The schema is compared again once a minute while it matched (a probe every second would otherwise ask
    // both servers for their migrations every second), at every check while it does not.
    const compareSchema = this.#state.reason === 'schema' || this.#clock().getTime() - this.#schemaMatchedAt >= SCHEMA_RECHECK_MS;
    // The primary's part first: a primary that does not answer is readiness's `store_unavailable`, not the
    // replica's failure, and leaves the replica's state as it was.
    let primary: { schema: SchemaStatus | null; lsn: string | undefined };
    try {
      const [schema, { rows }] = await Promise.all([
        compareSchema ? schemaStatus(this.#primary) : null,
        this.#primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'),
      ]);
      primary = { schema, lsn: rows[0]?.lsn };
    } catch {
      return;
    }
    if (primary.schema !== null) {
      const difference = await schemaDifference(primary.schema, this.#replica, this.#primary);
      if (difference !== null) {
        this.#schemaMatchedAt = 0;
        this.#behind = difference.kind === 'behind';
        this.#set({ state: 'failing', reason: 'schema', lagSeconds: null }, difference.detail);
        return;
      }
      this.#schemaMatchedAt = this.#clock().getTime();
    }
    const lag = await this.#lagSeconds(primary.lsn);
    if (lag === null || lag > this.#opts.maxLagSeconds) this.#set({ state: 'lagging', reason: 'lagging', lagSeconds: lag });
    else this.#set({ state: 'ok', reason: null, lagSeconds: lag });
  }

  /**
   * Seconds the replica is behind: 0 when it has replayed all the primary had written when asked (looked at
   * again after CATCH_UP_GRACE_MS, so that a replica a few milliseconds behind a busy primary is caught up);
   * otherwise the age of the last transaction it replayed (null before it has replayed one). A server that is
   * not a standby (the URL names a primary) is never behind.
   */
  async #lagSeconds(at: string | undefined): Promise<number | null> {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await this.#replica.query<{ standby: boolean; caught_up: boolean | null; age: number | null }>(
        `SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up,
                extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS age`,
        [at],
      );
      const r = rows[0];
      if (r === undefined || !r.standby || r.caught_up === true) return 0;
      if (attempt >= 1) return r.age === null ? null : Math.max(0, Math.round(r.age * 10) / 10);
      await sleep(CATCH_UP_GRACE_MS);
    }
  }

  #set(next: Pick<ReplicaStatus, 'state' | 'reason' | 'lagSeconds'>, detail?: string): void {
    const now = this.#clock();
    const was = this.#state.state;
    if (next.state !== 'ok') this.#retryAt = now.getTime() + this.#opts.retryMs;
    this.#state = { ...next, checkedAt: now, since: next.state === 'ok' ? null : was === 'ok' || this.#state.since === null ? now : this.#state.since };
    this.#detail = detail ?? null;
    const status = this.status();
    if (was === 'ok' && next.state !== 'ok') for (const w of this.#watchers) w.fellBack(status);
    if (was !== 'ok' && next.state === 'ok') for (const w of this.#watchers) w.recovered(status);
  }

  /** Why the replica's schema was found wanting, in words (for the operator: no customer data), or null. */
  get schemaProblem(): string | null {
    return this.#state.reason === 'schema' ? this.#detail : null;
  }

  /** The replica is another database than the primary's standby (not only behind it by a migration). */
  get foreign(): boolean {
    return this.#state.reason === 'schema' && !this.#behind;
  }

  close(): Promise<void> {
    this.#watchers.clear();
    return this.#replica.close();
  }
}

/**
 * Opens the replica's read-only pool beside the primary and looks at it once. A server that is not a standby of
 * this database (not in recovery, another history of migrations, another access log) is refused
 * (ReplicaSchemaError); one still replaying a migration after `settleMs` is opened with its reads going to the
 * primary until it has; one that does not answer is not fatal either.
 */
export async function openReplica(
  primary: Queryable,
  url: string,
  opts: ReplicaOptions & { readonly timeouts?: StoreTimeouts; readonly settleMs?: number },
): Promise<ReplicaReads> {
  const db = await openPostgres(url, { readOnly: true, connectNow: false, ...(opts.timeouts === undefined ? {} : { timeouts: opts.timeouts }) });
  const reads = new ReplicaReads(primary, db, opts);
  const until = Date.now() + (opts.settleMs ?? opts.timeouts?.connectMs ?? 5000);
  for (;;) {
    const s = await reads.check();
    if (s.reason !== 'schema') return reads;
    if (Date.now() >= until) {
      // A standby still replaying a migration is capacity coming: its reads go to the primary until it has.
      if (!reads.foreign) return reads;
      const problem = reads.schemaProblem ?? "the read replica's schema is not the primary's";
      await reads.close();
      throw new ReplicaSchemaError(problem);
    }
    await sleep(250);
  }
}
