import { statement, type Db, type Queryable } from '../store/db.ts';
import type { Outcome } from '../domain/decision.ts';
import type { AccessEvent, LoggedRecord } from './access-event.ts';
import { canonicalJson } from './canonical.ts';
import { canonicalEvent } from './chain.ts';
import type { Checkpoint, Seal } from './signing.ts';

/** An event row as the store returns it. */
export interface EventRow extends Record<string, unknown> {
  seq: string;
  id: string;
  prev_hash: string;
  hash: string;
  occurred_at: Date | string;
  request_id: string;
  person_id: string;
  user_id: string | null;
  session_id: string | null;
  principal_class: string;
  side: string | null;
  organization_id: string | null;
  employment: string | null;
  office: string | null;
  terminal_id: string | null;
  route: string;
  purpose: string;
  outcome: Outcome;
  refusal: string | null;
  query: unknown;
  supply_point_ids: string[];
  records: unknown;
  policy_version: string;
  emergency_id: string | null;
}

export const EVENT_SELECT = `seq::text AS seq, id::text AS id, prev_hash, hash, occurred_at, request_id, person_id, user_id, session_id,
  principal_class, side, organization_id, employment, office, terminal_id, route, purpose, outcome, refusal, query,
  supply_point_ids, records, policy_version, emergency_id`;

const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

export function rowToEvent(r: EventRow): AccessEvent {
  return {
    occurredAt: new Date(r.occurred_at),
    requestId: r.request_id,
    personId: r.person_id,
    userId: r.user_id,
    sessionId: r.session_id,
    principalClass: r.principal_class,
    side: r.side,
    organizationId: r.organization_id,
    employment: r.employment,
    office: r.office,
    terminalId: r.terminal_id,
    route: r.route,
    purpose: r.purpose,
    outcome: r.outcome,
    refusal: r.refusal,
    query: json(r.query) as Record<string, unknown>,
    records: json(r.records) as LoggedRecord[],
    policyVersion: r.policy_version,
    emergencyId: r.emergency_id,
  };
}

/** One link of the chain as read back: what the verifier needs, nothing else. */
export interface LinkRecord {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** The event's canonical text, re-encoded from what is stored (or as found in an exported file). */
  readonly canonical: string;
  /** False when a column derived from the event (the supply point index) disagrees with it. */
  readonly consistent: boolean;
}

/** `event`: the row's event, when the caller has it already (it is decoded once per row). */
export function rowToLink(r: EventRow, event: AccessEvent = rowToEvent(r)): LinkRecord {
  const seq = Number(r.seq);
  const ids = event.records.map((x) => x.supplyPointId);
  const consistent = ids.length === r.supply_point_ids.length && ids.every((id, i) => id === r.supply_point_ids[i]);
  return { seq, prevHash: r.prev_hash, hash: r.hash, canonical: canonicalEvent(seq, event), consistent };
}

/** The stored chain in sequence order (duplicates of a number included), page by page. */
export async function* readLinks(
  q: Queryable,
  opts: { fromSeq?: number; toSeq?: number; pageSize?: number } = {},
): AsyncGenerator<{ row: EventRow; event: AccessEvent; link: LinkRecord }> {
  const pageSize = opts.pageSize ?? 5000;
  // Start just after (fromSeq - 1, the largest id): every row of fromSeq onwards, duplicates included.
  let afterSeq = String((opts.fromSeq ?? 1) - 1);
  let afterId = '9223372036854775807';
  const toSeq = String(opts.toSeq ?? Number.MAX_SAFE_INTEGER);
  for (;;) {
    const { rows } = await q.query<EventRow>(
      `SELECT ${EVENT_SELECT} FROM access_log WHERE (seq, id) > ($1::bigint, $2::bigint) AND seq <= $3::bigint ORDER BY access_log.seq, access_log.id LIMIT $4`,
      [afterSeq, afterId, toSeq, pageSize],
    );
    for (const row of rows) {
      const event = rowToEvent(row);
      yield { row, event, link: rowToLink(row, event) };
    }
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || last === undefined) return;
    afterSeq = last.seq;
    afterId = last.id;
  }
}

/**
 * What each member of an event is re-encoded from, as a column of `LINK_TEXT` (`satisfies` makes the compiler
 * name a member of AccessEvent added without a column here).
 */
const LINK_COLUMN = {
  occurredAt: 4,
  requestId: 5,
  personId: 6,
  userId: 7,
  sessionId: 8,
  principalClass: 9,
  side: 10,
  organizationId: 11,
  employment: 12,
  office: 13,
  terminalId: 14,
  route: 15,
  purpose: 16,
  outcome: 17,
  refusal: 18,
  query: 19,
  records: 21,
  policyVersion: 22,
  emergencyId: 23,
} as const satisfies Record<keyof AccessEvent, number>;

/** The event's members and its sequence number, in the canonical (UTF-16) order. */
const CANONICAL_KEYS = [...Object.keys(LINK_COLUMN), 'seq'].sort() as (keyof typeof LINK_COLUMN | 'seq')[];

/** A link's columns as text, in one order for COPY rows and pages alike (the time as epoch milliseconds, as a Date holds it). */
export const LINK_TEXT = `seq::text, id::text, prev_hash, hash, floor(extract(epoch FROM occurred_at) * 1000)::bigint::text, request_id, person_id,
  user_id, session_id, principal_class, side, organization_id, employment, office, terminal_id, route, purpose, outcome, refusal,
  query::text, array_to_json(supply_point_ids)::text, records::text, policy_version, emergency_id`;

/** The canonical text of a parsed value, or null when it has none (a number beyond what JSON numbers hold). */
function encodable(v: unknown): string | null {
  try {
    return canonicalJson(v);
  } catch {
    return null;
  }
}

/**
 * A link from its columns as text, encoded straight to canonical text without building the event: the same
 * text `canonicalEvent(seq, rowToEvent(row))` gives (test/audit/verify-range.test.ts holds them equal), at a
 * fraction of the cost — verification at log scale is this, a hash and a comparison per event.
 */
export function linkFromText(cols: readonly (string | null)[]): LinkRecord {
  const seq = Number(cols[0]);
  const recordsText = cols[LINK_COLUMN.records] ?? null;
  const idsText = cols[20] ?? null;
  const queryText = cols[LINK_COLUMN.query] ?? null;
  const records: unknown = JSON.parse(recordsText ?? '[]');
  const ids: unknown = JSON.parse(idsText ?? '[]');
  const query: unknown = JSON.parse(queryText ?? '{}');
  const at = new Date(Number(cols[LINK_COLUMN.occurredAt]));
  const recordsCanonical = encodable(records);
  const queryCanonical = encodable(query);
  // What no writer stores is a changed event, never a reason to stop reading: NULL in a column that is never
  // NULL, an event list that is not a list, a time a Date cannot hold, a number JSON cannot (the generic reader
  // threw on these).
  const wellFormed =
    recordsText !== null &&
    idsText !== null &&
    queryText !== null &&
    Array.isArray(records) &&
    Array.isArray(ids) &&
    Number.isFinite(at.getTime()) &&
    recordsCanonical !== null &&
    queryCanonical !== null;
  const consistent =
    wellFormed &&
    ids.length === records.length &&
    records.every((r: unknown, i) => typeof r === 'object' && r !== null && (r as Partial<LoggedRecord>).supplyPointId === ids[i]);
  let canonical = '{';
  for (const k of CANONICAL_KEYS) {
    const v =
      k === 'seq'
        ? String(seq)
        : k === 'occurredAt'
          ? wellFormed
            ? `"${at.toISOString()}"`
            : 'null'
          : k === 'records'
            ? (recordsCanonical ?? 'null')
            : k === 'query'
              ? (queryCanonical ?? 'null')
              : canonicalJson(cols[LINK_COLUMN[k]] ?? null);
    canonical += `${canonical.length === 1 ? '' : ','}"${k}":${v}`;
  }
  return { seq, prevHash: cols[2] ?? '', hash: cols[3] ?? '', canonical: `${canonical}}`, consistent };
}

/**
 * The stored chain's links in sequence order (duplicates of a number included), for the verifier: with
 * `stream`, in one COPY where the store can (PostgreSQL; one statement, so only for a connection without a
 * statement time-out — the command line's), else page by page with the next page asked for while this one is
 * checked. Only integers are spliced into the COPY's text.
 */
export async function* readChainLinks(
  q: Queryable & Partial<Pick<Db, 'copyOut'>>,
  opts: { fromSeq?: number; toSeq?: number; pageSize?: number; stream?: boolean } = {},
): AsyncGenerator<LinkRecord> {
  const fromSeq = opts.fromSeq ?? 1;
  const toSeq = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq)) throw new RangeError(`sequence numbers out of range: ${fromSeq}–${toSeq}`);
  if (opts.stream === true && q.copyOut !== undefined) {
    for await (const cols of q.copyOut(
      `SELECT ${LINK_TEXT} FROM access_log WHERE seq >= ${fromSeq} AND seq <= ${toSeq} ORDER BY access_log.seq, access_log.id`,
    ))
      yield linkFromText(cols);
    return;
  }
  const pageSize = opts.pageSize ?? 5000;
  const page = (afterSeq: string, afterId: string) =>
    q.query<Record<string, string | null>>(
      `SELECT ${LINK_TEXT} FROM access_log WHERE (seq, id) > ($1::bigint, $2::bigint) AND seq <= $3::bigint ORDER BY access_log.seq, access_log.id LIMIT $4`,
      [afterSeq, afterId, String(toSeq), pageSize],
    );
  // Start just after (fromSeq - 1, the largest id): every row of fromSeq onwards, duplicates included.
  let next = page(String(fromSeq - 1), '9223372036854775807');
  for (;;) {
    const rows = (await next).rows.map((r) => Object.values(r));
    const last = rows[rows.length - 1];
    if (rows.length === pageSize && last !== undefined) {
      next = page(last[0] ?? '', last[1] ?? '');
      // Awaited at the top of the loop; a reader that stops early must not leave it rejecting unhandled.
      next.catch(() => undefined);
    }
    for (const cols of rows) yield linkFromText(cols);
    if (rows.length < pageSize) return;
  }
}

export async function readCheckpoints(q: Queryable, fromSeq = 0): Promise<Checkpoint[]> {
  const { rows } = await q.query<{ seq: string; hash: string; signed_at: Date | string; key_id: string; signature: string }>(
    'SELECT seq::text AS seq, hash, signed_at, key_id, signature FROM access_log_checkpoints WHERE seq >= $1 ORDER BY access_log_checkpoints.seq',
    [fromSeq],
  );
  return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, signedAt: new Date(r.signed_at).toISOString(), keyId: r.key_id, signature: r.signature }));
}

export async function readKeys(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ public_key: string }>('SELECT public_key FROM access_log_keys ORDER BY added_at, key_id');
  return rows.map((r) => r.public_key);
}

interface SealRow extends Record<string, unknown> {
  seq: string;
  first_seq: string;
  prev_hash: string;
  hash: string;
  prev_seal: string;
  signed_at: Date | string;
  key_id: string;
  signature: string;
}

const SEAL_SELECT = 'seq::text AS seq, first_seq::text AS first_seq, prev_hash, hash, prev_seal, signed_at, key_id, signature';

function rowToSeal(r: SealRow): Seal {
  return {
    firstSeq: Number(r.first_seq),
    seq: Number(r.seq),
    prevHash: r.prev_hash,
    hash: r.hash,
    prevSeal: r.prev_seal,
    signedAt: new Date(r.signed_at).toISOString(),
    keyId: r.key_id,
    signature: r.signature,
  };
}

/** The writer's seals naming events from `fromSeq` to `toSeq`, in sequence order, page by page. */
export async function* readSeals(q: Queryable, opts: { fromSeq?: number; toSeq?: number; pageSize?: number } = {}): AsyncGenerator<Seal> {
  const pageSize = opts.pageSize ?? 5000;
  let after = String((opts.fromSeq ?? 1) - 1);
  const toSeq = String(opts.toSeq ?? Number.MAX_SAFE_INTEGER);
  for (;;) {
    const { rows } = await q.query<SealRow>(
      `SELECT ${SEAL_SELECT} FROM access_log_seals WHERE seq > $1::bigint AND seq <= $2::bigint ORDER BY access_log_seals.seq LIMIT $3`,
      [after, toSeq, pageSize],
    );
    for (const r of rows) yield rowToSeal(r);
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || last === undefined) return;
    after = last.seq;
  }
}

/** The seal covering event `seq` (the first seal at or after it), or null when none does. */
export async function sealCovering(q: Queryable, seq: number): Promise<Seal | null> {
  const { rows } = await q.query<SealRow>(`SELECT ${SEAL_SELECT} FROM access_log_seals WHERE seq >= $1 ORDER BY access_log_seals.seq LIMIT 1`, [seq]);
  const r = rows[0];
  return r === undefined || Number(r.first_seq) > seq ? null : rowToSeal(r);
}

/**
 * The last seal that begins at or before `seq` — the one covering it, or the last before it when none does —
 * or null when no seal begins that early.
 */
export async function sealFrom(q: Queryable, seq: number): Promise<Seal | null> {
  const { rows } = await q.query<SealRow>(`SELECT ${SEAL_SELECT} FROM access_log_seals WHERE first_seq <= $1 ORDER BY access_log_seals.seq DESC LIMIT 1`, [
    seq,
  ]);
  return rows[0] === undefined ? null : rowToSeal(rows[0]);
}

/** The last seal, or null when none was made yet. */
export async function lastSeal(q: Queryable): Promise<Seal | null> {
  const { rows } = await q.query<SealRow>(`SELECT ${SEAL_SELECT} FROM access_log_seals ORDER BY access_log_seals.seq DESC LIMIT 1`);
  return rows[0] === undefined ? null : rowToSeal(rows[0]);
}

/** The end of the chain as the store records it (moved by every commit of the writer). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

const READ_HEAD = statement('gw_log_head', 'SELECT seq::text AS seq, hash FROM access_log_head WHERE id = 1');

/**
 * The head, the last seal and the highest sequence number stored, read in one statement (one snapshot): the
 * writer commits a batch, its seal and the head together, so in one snapshot the last seal ends at the head
 * and nothing is stored past it — unless someone other than the writer changed the log. A writer starting
 * while another commits sees all three before that commit or all after it, never a head older than the last
 * seal; a verifier checks up to the head it read, so commits made while it works are not mistaken for
 * tampering.
 */
export async function readLogEnd(q: Queryable): Promise<{ head: ChainHead; last: Seal | null; maxSeq: number }> {
  const s = SEAL_SELECT.split(', ')
    .map((c) => `s.${c}`)
    .join(', ');
  const { rows } = await q.query<{ head_seq: string; head_hash: string; max_seq: string | null } & Partial<SealRow>>(
    `SELECT h.seq::text AS head_seq, h.hash AS head_hash, (SELECT max(l.seq) FROM access_log l)::text AS max_seq, ${s}
       FROM access_log_head h LEFT JOIN LATERAL (SELECT * FROM access_log_seals ORDER BY access_log_seals.seq DESC LIMIT 1) s ON true
      WHERE h.id = 1`,
  );
  const r = rows[0];
  if (r === undefined) throw new Error('access_log_head has no row: the schema is not migrated');
  return {
    head: { seq: Number(r.head_seq), hash: r.head_hash },
    last: r.seq === undefined || r.seq === null ? null : rowToSeal(r as SealRow),
    maxSeq: Number(r.max_seq ?? 0),
  };
}

export async function readHead(q: Queryable): Promise<ChainHead> {
  const { rows } = await q.query<{ seq: string; hash: string }>(READ_HEAD);
  const r = rows[0];
  if (r === undefined) throw new Error('access_log_head has no row: the schema is not migrated');
  return { seq: Number(r.seq), hash: r.hash };
}
