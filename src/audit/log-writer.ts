import { statement, type Db } from '../store/db.ts';
import { LogUnavailableError, type AccessEvent, type AccessLog } from './access-event.ts';

interface Pending {
  readonly event: AccessEvent;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

const COLUMNS = `occurred_at timestamptz, request_id text, person_id text, user_id text, session_id text,
  principal_class text, side text, organization_id text, employment text, office text, terminal_id text,
  route text, purpose text, outcome text, refusal text, query jsonb, supply_point_ids text[], records jsonb,
  policy_version text, emergency_id text`;
const NAMES = COLUMNS.split(',').map((c) => c.trim().split(' ')[0]).join(', ');
const INSERT = statement('gw_log_append', `INSERT INTO access_log (${NAMES}) SELECT ${NAMES} FROM jsonb_to_recordset($1::jsonb) AS x(${COLUMNS})`);

function row(e: AccessEvent): Record<string, unknown> {
  return {
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

/**
 * Group commit: events that arrive while a batch is being committed wait and go together in the next
 * one-statement insert. Each caller's promise settles only when its batch is committed, so a response
 * never leaves before its event is durable; if the batch fails every caller in it is refused.
 *
 * The batch is taken from the queue only once the store has given the writer its connection (inside the
 * transaction), not when the flush is scheduled: events that arrive while the writer waits for the store —
 * on embedded PGlite, behind the very reads that produce them — join the batch instead of each paying for
 * a commit of its own.
 */
export class GroupCommitLog implements AccessLog {
  readonly #db: Db;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #flushing = false;
  #batches = 0;

  constructor(db: Db, maxBatch = 500) {
    this.#db = db;
    this.#maxBatch = maxBatch;
  }

  /** Number of insert statements issued so far (for benchmarks and tests). */
  get batches(): number {
    return this.#batches;
  }

  append(event: AccessEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        let batch: Pending[] = [];
        try {
          await new Promise<void>((r) => setImmediate(r));
          await this.#db.transaction(async (tx) => {
            batch = this.#queue.splice(0, this.#maxBatch);
            this.#batches++;
            await tx.query(INSERT, [JSON.stringify(batch.map((p) => row(p.event)))]);
          });
          for (const p of batch) p.resolve();
        } catch (e) {
          const err = new LogUnavailableError(e);
          // A failure before the batch was taken (no connection) refuses everyone waiting.
          if (batch.length === 0) batch = this.#queue.splice(0, this.#queue.length);
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
