import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Queryable } from '../store/db.ts';
import { csvRow, EXCEL_BOM } from '../excel-csv.ts';
import { japanIso } from '../domain/japan-time.ts';
import { eventLine, GENESIS } from './chain.ts';
import { readCheckpoints, readKeys, readLinks, readSeals, rowToEvent, sealCovering } from './log-reader.ts';
import type { Seal } from './signing.ts';
import { sealLine } from './witness.ts';

export const EXPORT_FORMAT = 'gridwall-access-log';

/** First line of a JSON Lines export: what it covers and the keys its checkpoints are signed with. */
export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: 2;
  readonly exportedAt: string;
  readonly period: { readonly from: string | null; readonly to: string | null };
  readonly firstSeq: number;
  /** The hash before the first exported event (the genesis hash when the export starts the chain). */
  readonly anchor: string;
  readonly keys: readonly string[];
}

/** Sequence numbers of the events of a period: the contiguous run from its first event to its last. */
export async function seqRange(q: Queryable, from: Date | null, to: Date | null): Promise<{ fromSeq: number; toSeq: number } | null> {
  const { rows } = await q.query<{ lo: string | null; hi: string | null }>(
    `SELECT min(seq)::text AS lo, max(seq)::text AS hi FROM access_log WHERE ($1::timestamptz IS NULL OR occurred_at >= $1) AND ($2::timestamptz IS NULL OR occurred_at < $2)`,
    [from, to],
  );
  const r = rows[0];
  return r?.lo == null || r.hi == null ? null : { fromSeq: Number(r.lo), toSeq: Number(r.hi) };
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Merges a seal stream into the chain's order: the seal naming `seq`, if there is one. */
export class SealCursor {
  readonly #it: AsyncIterator<Seal>;
  #next: IteratorResult<Seal> | null = null;

  constructor(seals: AsyncIterable<Seal>) {
    this.#it = seals[Symbol.asyncIterator]();
  }

  /** The seal naming event `seq`; seals naming earlier events (not in the chain) go to `stray`. */
  async at(seq: number, stray?: (s: Seal) => void): Promise<Seal | null> {
    this.#next ??= await this.#it.next();
    while (!this.#next.done && this.#next.value.seq < seq) {
      stray?.(this.#next.value);
      this.#next = await this.#it.next();
    }
    if (this.#next.done || this.#next.value.seq !== seq) return null;
    const s = this.#next.value;
    this.#next = await this.#it.next();
    return s;
  }

  /** The seals left after the last event (naming events the chain does not hold). */
  async *rest(): AsyncGenerator<Seal> {
    this.#next ??= await this.#it.next();
    while (!this.#next.done) {
      yield this.#next.value;
      this.#next = await this.#it.next();
    }
  }
}

/**
 * Writes a period of the log as JSON Lines that verify on their own (docs/LOG-FORMAT.md): a header (anchor
 * and public keys), one line per event in chain order (`{"hash","prev","event"}`), each version-1 checkpoint
 * and each seal right after the event it names, and a closing line with the count and last hash (its
 * absence shows a cut-off file). The file always ends at the end of a batch: the period is extended to the
 * seal of the batch its last event belongs to, so its last event is sealed.
 */
export async function exportJsonl(
  q: Queryable,
  out: Writable,
  period: { from: Date | null; to: Date | null },
  now: Date,
  seqs?: { fromSeq: number; toSeq: number },
): Promise<{ events: number; firstSeq: number | null; lastSeq: number | null; lastHash: string | null; anchor: string | null }> {
  let range = seqs ?? (await seqRange(q, period.from, period.to));
  if (range !== null) {
    const covering = await sealCovering(q, range.toSeq);
    if (covering !== null) range = { fromSeq: range.fromSeq, toSeq: covering.seq };
  }
  let anchor: string | null = null;
  const checkpoints = new Map((await readCheckpoints(q, range?.fromSeq ?? 0)).map((c) => [c.seq, c]));
  let events = 0;
  let lastSeq: number | null = null;
  let lastHash: string | null = null;
  let headerWritten = false;
  const header = async (anchor: string, firstSeq: number) => {
    const h: ExportHeader = {
      format: EXPORT_FORMAT,
      version: 2,
      exportedAt: now.toISOString(),
      period: { from: period.from?.toISOString() ?? null, to: period.to?.toISOString() ?? null },
      firstSeq,
      anchor,
      keys: await readKeys(q),
    };
    await write(out, `${JSON.stringify(h)}\n`);
    headerWritten = true;
  };
  if (range !== null) {
    const seals = new SealCursor(readSeals(q, range));
    for await (const { link } of readLinks(q, range)) {
      if (!headerWritten) {
        anchor = link.prevHash;
        await header(link.prevHash, link.seq);
      }
      await write(out, `${eventLine(link.hash, link.prevHash, link.canonical)}\n`);
      const cp = checkpoints.get(link.seq);
      if (cp !== undefined) await write(out, `${JSON.stringify({ checkpoint: cp })}\n`);
      const seal = await seals.at(link.seq);
      if (seal !== null) await write(out, `${sealLine(seal)}\n`);
      events++;
      lastSeq = link.seq;
      lastHash = link.hash;
    }
  }
  if (!headerWritten) await header(GENESIS, 1);
  await write(out, `${JSON.stringify({ end: { events, lastSeq, lastHash } })}\n`);
  return { events, firstSeq: range?.fromSeq ?? null, lastSeq, lastHash, anchor };
}

const CSV_COLUMNS = [
  'seq',
  'occurred_at',
  'request_id',
  'person_id',
  'user_id',
  'principal_class',
  'side',
  'organization_id',
  'employment',
  'office',
  'terminal_id',
  'route',
  'purpose',
  'outcome',
  'refusal',
  'emergency_id',
  'supply_point_id',
  'relation',
  'retailer_code',
  'last_resort',
  'fields_shown',
  'fields_masked',
  'policy_version',
  'hash',
];

/**
 * A period of the log as CSV for Excel (UTF-8 with BOM, CRLF): one row per supply point per event (an event
 * without supply points has one row), fields shown and masked with their reasons. Carries each event's
 * sequence number and hash, so a row can be matched with the verified chain.
 */
export async function exportCsv(q: Queryable, out: Writable, period: { from: Date | null; to: Date | null }): Promise<{ events: number; rows: number }> {
  await write(out, `${EXCEL_BOM}${csvRow(CSV_COLUMNS)}`);
  const range = await seqRange(q, period.from, period.to);
  let events = 0;
  let rows = 0;
  if (range === null) return { events, rows };
  for await (const { row, link } of readLinks(q, range)) {
    const e = rowToEvent(row);
    const base = [
      link.seq,
      japanIso(e.occurredAt),
      e.requestId,
      e.personId,
      e.userId,
      e.principalClass,
      e.side,
      e.organizationId,
      e.employment,
      e.office,
      e.terminalId,
      e.route,
      e.purpose,
      e.outcome,
      e.refusal,
      e.emergencyId,
    ];
    const recs = e.records.length > 0 ? e.records : [null];
    for (const r of recs) {
      const cells = [
        ...base,
        r?.supplyPointId,
        r?.relation,
        r?.retailerCode,
        r === null ? '' : String(r.lastResort),
        r?.shown.join(';'),
        r === null
          ? ''
          : Object.entries(r.masked)
              .map(([f, why]) => `${f}:${why}`)
              .join(';'),
        e.policyVersion,
        link.hash,
      ];
      await write(out, csvRow(cells));
      rows++;
    }
    events++;
  }
  return { events, rows };
}
