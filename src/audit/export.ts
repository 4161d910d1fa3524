import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Queryable } from '../store/db.ts';
import { csvRow, EXCEL_BOM } from '../excel-csv.ts';
import { japanIso } from '../domain/japan-time.ts';
import { eventLine, GENESIS } from './chain.ts';
import { ChainVerifier, type VerifyResult } from './chain-verify.ts';
import { readCheckpoints, readHead, readKeys, readLinks, rowToEvent } from './log-reader.ts';
import { publicKeys } from './signing.ts';

export const EXPORT_FORMAT = 'gridwall-access-log';

/** First line of a JSON Lines export: what it covers and the keys its checkpoints are signed with. */
export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: 1;
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

/**
 * Writes a period of the log as JSON Lines that verify on their own: a header (anchor and public keys),
 * one line per event in chain order (`{"hash","prev","event"}`), each checkpoint right after the event it
 * names, and a closing line with the count and last hash (its absence shows a cut-off file).
 */
export async function exportJsonl(
  q: Queryable,
  out: Writable,
  period: { from: Date | null; to: Date | null },
  now: Date,
  seqs?: { fromSeq: number; toSeq: number },
): Promise<{ events: number; firstSeq: number | null; lastSeq: number | null; lastHash: string | null; anchor: string | null }> {
  const range = seqs ?? (await seqRange(q, period.from, period.to));
  let anchor: string | null = null;
  const checkpoints = new Map((await readCheckpoints(q, range?.fromSeq ?? 0)).map((c) => [c.seq, c]));
  let events = 0;
  let lastSeq: number | null = null;
  let lastHash: string | null = null;
  let headerWritten = false;
  const header = async (anchor: string, firstSeq: number) => {
    const h: ExportHeader = {
      format: EXPORT_FORMAT, version: 1, exportedAt: now.toISOString(),
      period: { from: period.from?.toISOString() ?? null, to: period.to?.toISOString() ?? null },
      firstSeq, anchor, keys: await readKeys(q),
    };
    await write(out, `${JSON.stringify(h)}\n`);
    headerWritten = true;
  };
  if (range !== null) {
    for await (const { link } of readLinks(q, range)) {
      if (!headerWritten) {
        anchor = link.prevHash;
        await header(link.prevHash, link.seq);
      }
      await write(out, `${eventLine(link.hash, link.prevHash, link.canonical)}\n`);
      const cp = checkpoints.get(link.seq);
      if (cp !== undefined) await write(out, `${JSON.stringify({ checkpoint: cp })}\n`);
      events++;
      lastSeq = link.seq;
      lastHash = link.hash;
    }
  }
  if (!headerWritten) await header(GENESIS, 1);
  await write(out, `${JSON.stringify({ end: { events, lastSeq, lastHash } })}\n`);
  return { events, firstSeq: range?.fromSeq ?? null, lastSeq, lastHash, anchor };
}

const CSV_COLUMNS = ['seq', 'occurred_at', 'request_id', 'person_id', 'user_id', 'principal_class', 'side', 'organization_id', 'employment', 'office', 'terminal_id', 'route', 'purpose', 'outcome', 'refusal', 'emergency_id', 'supply_point_id', 'relation', 'retailer_code', 'last_resort', 'fields_shown', 'fields_masked', 'policy_version', 'hash'];


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
    const base = [link.seq, japanIso(e.occurredAt), e.requestId, e.personId, e.userId, e.principalClass, e.side, e.organizationId, e.employment, e.office, e.terminalId, e.route, e.purpose, e.outcome, e.refusal, e.emergencyId];
    const recs = e.records.length > 0 ? e.records : [null];
    for (const r of recs) {
      const cells = [...base, r?.supplyPointId, r?.relation, r?.retailerCode, r === null ? '' : String(r.lastResort), r?.shown.join(';'), r === null ? '' : Object.entries(r.masked).map(([f, why]) => `${f}:${why}`).join(';'), e.policyVersion, link.hash];
      await write(out, csvRow(cells));
      rows++;
    }
    events++;
  }
  return { events, rows };
}

/** Verifies the chain stored in the database, from the first event not archived to the head. */
export async function verifyStore(q: Queryable, trustedKeys: readonly string[] = []): Promise<VerifyResult & { signaturesCheckedWith: 'given_keys' | 'keys_in_log' }> {
  const { rows } = await q.query<{ last_seq: string; last_hash: string }>('SELECT last_seq::text AS last_seq, last_hash FROM access_log_archives ORDER BY access_log_archives.last_seq DESC LIMIT 1');
  const archived = rows[0];
  const firstSeq = archived === undefined ? 1 : Number(archived.last_seq) + 1;
  const prevHash = archived === undefined ? GENESIS : archived.last_hash;
  const keys = publicKeys(trustedKeys.length > 0 ? trustedKeys : await readKeys(q));
  const verifier = new ChainVerifier({ firstSeq, prevHash, checkpoints: await readCheckpoints(q, firstSeq), keys });
  for await (const { link } of readLinks(q, { fromSeq: firstSeq })) {
    verifier.push(link);
  }
  return { ...verifier.finish((await readHead(q)).seq), signaturesCheckedWith: trustedKeys.length > 0 ? 'given_keys' : 'keys_in_log' };
}

