import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Queryable } from '../store/db.ts';
import type { CsvEncoding } from '../domain/export-file.ts';
import { Refusal } from '../domain/refusal.ts';
import { TurnQueue } from '../domain/turn-queue.ts';
import { CsvEncoder, csvHeadLine, csvLine } from '../spreadsheet/csv-file.ts';
import { cellsOf, headsOf, instant, number, text, type Column, type SpreadsheetDoc } from '../spreadsheet/table.ts';
import { xlsxFile } from '../spreadsheet/xlsx-file.ts';
import { eventLine } from './chain.ts';
import type { AccessEvent, LoggedRecord } from './access-event.ts';
import { readChainLinks, readCheckpoints, readHead, readKeys, readLinks, readSeals, sealCovering } from './log-reader.ts';
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

async function write(out: Writable, chunk: string | Buffer): Promise<void> {
  if (chunk.length > 0 && !out.write(chunk)) await once(out, 'drain');
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
    for await (const link of readChainLinks(q, range)) {
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
  // Nothing in the period: the file starts after the head (anchored to it), not at event 1 — a file that said
  // it holds the log from event 1 would be a cut log to anyone holding it to the witness (step 7).
  if (!headerWritten) {
    const head = await readHead(q);
    await header(head.hash, head.seq + 1);
  }
  await write(out, `${JSON.stringify({ end: { events, lastSeq, lastHash } })}\n`);
  return { events, firstSeq: range?.fromSeq ?? null, lastSeq, lastHash, anchor };
}

/** One row of the spreadsheet forms: an event with one of its supply points (or none). */
interface LogRow {
  readonly seq: number;
  readonly hash: string;
  readonly e: AccessEvent;
  readonly r: LoggedRecord | null;
}

/**
 * The access log's spreadsheet columns, headed in Japanese (issue 20: CSV headers in Japanese); the code each
 * stands for is its key here and in docs/LOG-FORMAT.md. The cells keep the log's codes (`served`, `GET
 * /api/supply-points/:id`, field names), so a row still matches the JSON Lines export and the verified chain.
 */
export const LOG_HEADS = {
  seq: '通番',
  occurred_at: '日時（日本時間）',
  request_id: '要求ID',
  person_id: '個人ID',
  user_id: 'ログインID',
  principal_class: '利用者区分',
  side: '所属区分',
  organization_id: '組織ID',
  employment: '雇用区分',
  office: '事業所',
  terminal_id: '端末ID',
  route: '照会経路',
  purpose: '利用目的',
  outcome: '結果',
  refusal: '拒否の理由',
  emergency_id: '非常災害宣言ID',
  supply_point_id: '供給地点特定番号',
  relation: '需要家との関係',
  retailer_code: '小売電気事業者コード',
  last_resort: '最終保障供給',
  fields_shown: '表示した項目',
  fields_masked: '非表示の項目（理由）',
  policy_version: '判定表の版',
  hash: 'ハッシュ',
} as const;

const LOG_COLUMNS: readonly Column<LogRow>[] = [
  number(LOG_HEADS.seq, (x) => x.seq),
  instant(LOG_HEADS.occurred_at, (x) => x.e.occurredAt),
  text(LOG_HEADS.request_id, (x) => x.e.requestId),
  text(LOG_HEADS.person_id, (x) => x.e.personId),
  text(LOG_HEADS.user_id, (x) => x.e.userId),
  text(LOG_HEADS.principal_class, (x) => x.e.principalClass),
  text(LOG_HEADS.side, (x) => x.e.side),
  text(LOG_HEADS.organization_id, (x) => x.e.organizationId),
  text(LOG_HEADS.employment, (x) => x.e.employment),
  text(LOG_HEADS.office, (x) => x.e.office),
  text(LOG_HEADS.terminal_id, (x) => x.e.terminalId),
  text(LOG_HEADS.route, (x) => x.e.route),
  text(LOG_HEADS.purpose, (x) => x.e.purpose),
  text(LOG_HEADS.outcome, (x) => x.e.outcome),
  text(LOG_HEADS.refusal, (x) => x.e.refusal),
  text(LOG_HEADS.emergency_id, (x) => x.e.emergencyId),
  text(LOG_HEADS.supply_point_id, (x) => x.r?.supplyPointId),
  text(LOG_HEADS.relation, (x) => x.r?.relation),
  text(LOG_HEADS.retailer_code, (x) => x.r?.retailerCode),
  text(LOG_HEADS.last_resort, (x) => (x.r === null ? null : String(x.r.lastResort))),
  text(LOG_HEADS.fields_shown, (x) => x.r?.shown.join(';')),
  text(LOG_HEADS.fields_masked, (x) =>
    x.r === null
      ? null
      : Object.entries(x.r.masked)
          .map(([f, why]) => `${f}:${why}`)
          .join(';'),
  ),
  text(LOG_HEADS.policy_version, (x) => x.e.policyVersion),
  text(LOG_HEADS.hash, (x) => x.hash),
];

/** The rows of a period: one per supply point per event (an event without supply points has one row). */
async function* logRows(q: Queryable, period: { from: Date | null; to: Date | null }): AsyncGenerator<LogRow, { events: number }> {
  const range = await seqRange(q, period.from, period.to);
  let events = 0;
  if (range === null) return { events };
  for await (const { event: e, link } of readLinks(q, range)) {
    for (const r of e.records.length > 0 ? e.records : [null]) yield { seq: link.seq, hash: link.hash, e, r };
    events++;
  }
  return { events };
}

/**
 * A period of the log as CSV for a spreadsheet (UTF-8 with BOM or CP932, CRLF; `spreadsheet/csv-file.ts`):
 * one row per supply point per event, fields shown and masked with their reasons, times in Japan time.
 * Carries each event's sequence number and hash, so a row can be matched with the verified chain. Streamed:
 * a period of any length is written without holding it.
 */
export async function exportCsv(
  q: Queryable,
  out: Writable,
  period: { from: Date | null; to: Date | null },
  encoding: CsvEncoding = 'utf-8',
): Promise<{ events: number; rows: number; replaced: number }> {
  const enc = new CsvEncoder(encoding);
  await write(out, Buffer.concat([enc.start(), enc.encode(csvHeadLine(headsOf(LOG_COLUMNS)))]));
  let rows = 0;
  const it = logRows(q, period);
  for (;;) {
    const n = await it.next();
    if (n.done === true) {
      await write(out, enc.finish());
      return { events: n.value.events, rows, replaced: enc.replaced };
    }
    await write(out, enc.encode(csvLine(cellsOf(LOG_COLUMNS, n.value))));
    rows++;
  }
}

/** The title of a period's spreadsheet: its first and last day in Japan (inclusive), or open ends. */
export function logTitle(from: string | undefined, to: string | undefined): string {
  return `アクセスログ（${from ?? '最初'} 〜 ${to ?? '現在'}） / access log`;
}

/**
 * Rows an XLSX of the log holds at most: a workbook is built in memory (20,000 rows of 24 columns: ~4 s and
 * ~0.5 GB at peak; 100,000: ~20 s and ~1.8 GB), and a person reads no more. Longer periods: CSV (streamed) or JSON Lines.
 */
export const LOG_XLSX_MAX_ROWS = 20_000;

/** A period too long for a workbook: the rows it would have, and the limit. */
export class LogTooLargeForXlsx extends Error {
  readonly code = 'log_too_large_for_xlsx';
  constructor(readonly limit: number) {
    super(`the period has more than ${limit} rows, more than a workbook of the log holds: choose a shorter period, or CSV or JSON Lines`);
  }
}

/** A workbook of the log that could not start within the wait its caller allows (503 `export_busy` with Retry-After). */
export class ExportBusy extends Refusal<'export_busy'> {
  constructor(
    readonly waitedMs: number,
    /** When to try again: the wait already given up on, in whole seconds (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(
      'export',
      'export_busy',
      'busy',
      `another workbook of the log is being built and this one waited ${Math.round(waitedMs / 1000)} s; try again in ${retryAfterSeconds} s, or take CSV or JSON Lines (streamed)`,
      { retryAfterSeconds },
    );
  }
}

/**
 * Workbooks of the log are built one at a time in a process, the others waiting their turn: each holds up to
 * ~0.5 GB while it is built, and nothing else bounds how many people download one at once — three at a time
 * could take the server, and the log writer with it, out of memory. The analysis's queue mechanism
 * (`domain/turn-queue.ts`), a queue of its own: a workbook does not wait behind an analysis, nor the reverse.
 */
export const LOG_XLSX_QUEUE = new TurnQueue((waitedMs, retryAfterSeconds) => new ExportBusy(waitedMs, retryAfterSeconds));

/**
 * A period of the log as an XLSX workbook (the CSV's columns, typed: times as dates, IDs as text), built in its
 * turn on `LOG_XLSX_QUEUE`; throws `LogTooLargeForXlsx` past the limit, and `ExportBusy` when its turn has not
 * come within `maxWaitMs` (default: waits as long as it takes — the command line has nobody else to wait for).
 */
export async function exportXlsx(
  q: Queryable,
  period: { from: Date | null; to: Date | null },
  title: string,
  opts: { readonly limit?: number; readonly maxWaitMs?: number } = {},
): Promise<{ body: Buffer; events: number; rows: number }> {
  const limit = opts.limit ?? LOG_XLSX_MAX_ROWS;
  return LOG_XLSX_QUEUE.run(async () => {
    const rows: LogRow[] = [];
    const it = logRows(q, period);
    let n = await it.next();
    for (; n.done !== true; n = await it.next()) {
      if (rows.length >= limit) throw new LogTooLargeForXlsx(limit);
      rows.push(n.value);
    }
    const events = n.value.events;
    const doc: SpreadsheetDoc = {
      title,
      tables: [{ sheet: 'access_log', title, notes: [], columns: headsOf(LOG_COLUMNS), rows: rows.map((r) => cellsOf(LOG_COLUMNS, r)) }],
    };
    return { body: await xlsxFile(doc), events, rows: rows.length };
  }, opts.maxWaitMs);
}
