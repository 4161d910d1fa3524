import type { KeyObject } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Queryable } from '../store/db.ts';
import { eventLine, GENESIS } from './chain.ts';
import { ChainVerifier, type ChainBreak } from './chain-verify.ts';
import { SealCursor } from './export.ts';
import { readChainLinks, readLogEnd, readSeals, sealFrom } from './log-reader.ts';
import { sealDigest, type Seal } from './signing.ts';
import { sealLine } from './witness.ts';

/** One line of the feed: an event line or a seal line, as an export holds them, and the event it names. */
export interface FeedLine {
  readonly seq: number;
  readonly line: string;
}

/** The feed stopped: it met something in the log it cannot account for (the break names it); nothing from there on was forwarded. */
export class FeedStopped extends Error {
  readonly code = 'feed_stopped';
  constructor(readonly brk: ChainBreak) {
    super(`event ${brk.seq} (${brk.kind}): ${brk.detail}`);
  }
}

/** The feed cannot start where asked: the events there (or the batch before them) are archived out of the database. */
export class FeedStartError extends Error {
  readonly code = 'feed_start';
}

export interface FeedOptions {
  /** The first event to forward. The feed checks from the start of the batch before it (see `feed`). */
  readonly fromSeq: number;
  readonly follow: boolean;
  /** The trusted public keys: from outside the database (configured, or given), never the log's own table. */
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Told when events up to the head wait for a seal — only in a log written before seals, until the first
   * writer of this version seals it — and are held back: once per stretch held.
   */
  readonly onHeld?: (firstSeq: number, lastSeq: number) => void;
  /** The most events of one batch held in memory while its seal is awaited; a larger batch is read twice. */
  readonly holdLimit?: number;
}

/** A point of the chain the feed has accounted for: a sequence number, the hash there, the digest of the seal ending there. */
interface Point {
  readonly seq: number;
  readonly hash: string;
  readonly seal: string;
}

const HOLD_LIMIT = 10_000;

/**
 * The live feed for a SIEM: the log's events from `fromSeq` on, as the same verifiable lines an export holds,
 * each batch's seal after its last event (so the SIEM keeps a copy of the seals outside the database: a
 * witness of its own), and — with `follow` — every new batch as it is committed (polled), until `signal`
 * aborts.
 *
 * It forwards only what it has checked, as the writer links only after what it has checked (issue 15): from
 * an anchored point — the start of the log, or the start of the batch whose trusted seal covers the event
 * before `fromSeq` (that seal vouches for the hash and the seal it links after) — each event must follow the
 * one before (number, hash, link) and each batch's events are held until the batch's seal arrives, ends at
 * the last of them, chains to the seal before and is signed with a trusted key; only then are they and the
 * seal forwarded. Nothing past the chain's head is read. Anything it cannot account for — a changed or
 * missing event, a seal that does not verify, events no seal covers, events stored past the head, a head or
 * seals that went back — stops the feed with `FeedStopped` naming the first break; what came before it
 * was forwarded, nothing after. In a log written before seals (no seal at all yet) the events are held back
 * (`onHeld`) until the writer seals them.
 */
export async function* feed(q: Queryable, opts: FeedOptions): AsyncGenerator<FeedLine> {
  if (opts.keys.size === 0) throw new Error('the feed needs a trusted public key from outside the database');
  const limit = Math.max(1, opts.holdLimit ?? HOLD_LIMIT);
  let point = await anchor(q, opts.fromSeq);
  let heldTo = 0;
  const aborted = () => opts.signal?.aborted === true;
  for (;;) {
    const end = await readLogEnd(q);
    // Whole batches only, and never past the head: up to the last seal, or the head when that is earlier.
    const to = Math.min(end.head.seq, end.last?.seq ?? 0);
    let lastRead = point.seq;
    if (to > point.seq) point = yield* batches(q, point, to, opts.fromSeq, opts.keys, limit, (seq) => (lastRead = seq));
    const brk = endBreak(end, point, to, lastRead);
    if (brk !== null) throw new FeedStopped(brk);
    if (point.seq < end.head.seq && end.head.seq > heldTo) {
      // No seal at all (endBreak stops the feed otherwise): a log from before seals, which the writer seals at its start.
      heldTo = end.head.seq;
      opts.onHeld?.(point.seq + 1, end.head.seq);
    }
    if (!opts.follow || aborted()) return;
    await new Promise<void>((resolve) => {
      // One listener at a time: a feed that follows for months polls millions of times.
      const done = () => {
        clearTimeout(t);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, opts.intervalMs ?? 1000);
      opts.signal?.addEventListener('abort', done, { once: true });
    });
    if (aborted()) return;
  }
}

/**
 * Where checking starts for a feed from `fromSeq`: the start of the log, or the start of the batch covering
 * the event before `fromSeq` — the hash and seal digest its seal names (the seal's signature, checked with its
 * batch, vouches for both). Without a seal that early (a log written before seals), the start of the log.
 */
async function anchor(q: Queryable, fromSeq: number): Promise<Point> {
  const start: Point = { seq: 0, hash: GENESIS, seal: GENESIS };
  const s = fromSeq <= 1 ? null : await sealFrom(q, fromSeq - 1);
  const at = s === null ? start : { seq: s.firstSeq - 1, hash: s.prevHash, seal: s.prevSeal };
  const { rows } = await q.query<{ last: string | null }>('SELECT max(last_seq)::text AS last FROM access_log_archives');
  const archivedTo = Number(rows[0]?.last ?? 0);
  if (at.seq < archivedTo)
    throw new FeedStartError(
      fromSeq <= archivedTo
        ? `events 1–${archivedTo} are archived out of the database (verify their files with gridwall audit verify --file): start the feed after ${archivedTo}`
        : `the feed from event ${fromSeq} checks from event ${at.seq + 1}, the start of its batch, but events 1–${archivedTo} are archived out of the database: start it at a later event`,
    );
  return at;
}

function verifierAt(p: Point, keys: ReadonlyMap<string, KeyObject>): ChainVerifier {
  return new ChainVerifier({ firstSeq: p.seq + 1, prevHash: p.hash, prevSeal: p.seal, checkpoints: [], keys });
}

/**
 * The sealed batches after `from` up to event `to` (the end of a seal), checked batch by batch: each batch's
 * events are held until its seal has verified, then forwarded with the seal (those from `fromSeq` on).
 * Returns the point after the last batch forwarded; `read` hears of every event read.
 */
async function* batches(
  q: Queryable,
  from: Point,
  to: number,
  fromSeq: number,
  keys: ReadonlyMap<string, KeyObject>,
  limit: number,
  read: (seq: number) => void,
): AsyncGenerator<FeedLine, Point> {
  let point = from;
  let verifier = verifierAt(point, keys);
  let held: FeedLine[] = [];
  // A batch larger than `limit` is not held whole: its hash every `limit` events is kept instead, and once its
  // seal has verified the batch is read again and forwarded in steps, each when it ends at the hash kept.
  let overflow = false;
  const marks = new Map<number, string>();
  const seals = new SealCursor(readSeals(q, { fromSeq: point.seq + 1, toSeq: to }));
  for await (const link of readChainLinks(q, { fromSeq: point.seq + 1, toSeq: to })) {
    read(link.seq);
    const seal = await seals.at(link.seq, (s) => verifier.straySeal(s));
    verifier.push(link, seal);
    const brk = verifier.firstBreak;
    if (brk !== null) throw new FeedStopped(brk);
    if ((link.seq - point.seq) % limit === 0) marks.set(link.seq, link.hash);
    if (!overflow && link.seq >= fromSeq) {
      held.push({ seq: link.seq, line: eventLine(link.hash, link.prevHash, link.canonical) });
      if (held.length > limit) {
        overflow = true;
        held = [];
      }
    }
    if (seal === null) continue;
    // The batch's seal: it ends at this event (checked by push); now its place in the seal chain and its signature.
    const r = verifier.finish();
    if (r.firstBreak !== null) throw new FeedStopped(r.firstBreak);
    if (overflow) {
      marks.set(seal.seq, seal.hash);
      yield* reread(q, point, seal, marks, fromSeq, keys);
    } else yield* held;
    if (seal.seq >= fromSeq) yield { seq: seal.seq, line: sealLine(seal) };
    point = { seq: seal.seq, hash: seal.hash, seal: sealDigest(seal) };
    verifier = verifierAt(point, keys);
    held = [];
    overflow = false;
    marks.clear();
  }
  return point;
}

/** A large batch, verified already, read again and forwarded a step at a time: each step only when it ends at the hash the first reading found. */
async function* reread(
  q: Queryable,
  from: Point,
  seal: Seal,
  marks: ReadonlyMap<number, string>,
  fromSeq: number,
  keys: ReadonlyMap<string, KeyObject>,
): AsyncGenerator<FeedLine> {
  const verifier = verifierAt(from, keys);
  let held: FeedLine[] = [];
  let stepFrom = from.seq + 1;
  let last = from.seq;
  const changed = (): ChainBreak => ({
    kind: 'modified',
    seq: stepFrom,
    detail: `events ${stepFrom}–${seal.seq} changed while the feed read them: they are not the events the seal for event ${seal.seq} covers`,
  });
  for await (const link of readChainLinks(q, { fromSeq: from.seq + 1, toSeq: seal.seq })) {
    verifier.push(link, link.seq === seal.seq ? seal : null);
    const brk = verifier.firstBreak;
    if (brk !== null) throw new FeedStopped(brk);
    last = link.seq;
    if (link.seq >= fromSeq) held.push({ seq: link.seq, line: eventLine(link.hash, link.prevHash, link.canonical) });
    const mark = marks.get(link.seq);
    if (mark === undefined) continue;
    if (mark !== link.hash) throw new FeedStopped(changed());
    yield* held;
    held = [];
    stepFrom = link.seq + 1;
  }
  if (last !== seal.seq) throw new FeedStopped(changed());
}

/**
 * What the end of the log, read in one snapshot, says after the feed has checked up to `point` (having read
 * up to event `lastRead` of the `to` it set out for): null when the feed may go on (or wait).
 */
function endBreak(
  end: { head: { seq: number; hash: string }; last: Seal | null; maxSeq: number },
  point: Point,
  to: number,
  lastRead: number,
): ChainBreak | null {
  const { head, maxSeq } = end;
  const sealed = end.last?.seq ?? 0;
  if (maxSeq > head.seq)
    return {
      kind: 'unsealed',
      seq: head.seq + 1,
      detail: `events ${head.seq + 1}–${maxSeq} are stored past the chain's head (event ${head.seq}): they were added outside the writer, or the head was moved back`,
    };
  if (sealed > head.seq)
    return {
      kind: 'truncated',
      seq: head.seq + 1,
      detail: `a seal names event ${sealed}, but the chain's head is at event ${head.seq}: events were removed from its end, or the head was moved back`,
    };
  if (head.seq < point.seq)
    return {
      kind: 'truncated',
      seq: head.seq + 1,
      detail: `the chain's head went back to event ${head.seq}, though the feed had checked the chain up to event ${point.seq}: the log was cut or rewound outside the writer`,
    };
  if (sealed < point.seq)
    return {
      kind: 'unsealed',
      seq: sealed + 1,
      detail: `the log's last seal is now for event ${sealed}, though the feed had checked seals up to event ${point.seq}: seals were removed outside the writer`,
    };
  if (point.seq < to)
    return {
      kind: 'truncated',
      seq: lastRead + 1,
      detail: `events ${lastRead + 1}–${to} are not stored, though the log's seals reach event ${to}: they were removed outside the writer`,
    };
  if (point.seq === head.seq && head.hash !== point.hash)
    return {
      kind: 'checkpoint_mismatch',
      seq: head.seq,
      detail: `the chain's head names another hash for event ${head.seq} than the event its seal covers: the head was moved outside the writer`,
    };
  if (point.seq < head.seq && end.last !== null)
    return {
      kind: 'unsealed',
      seq: point.seq + 1,
      detail: `events ${point.seq + 1}–${head.seq} stand at the chain's head but no seal of the writer covers them (it writes each batch's seal with the batch): they were written by someone else`,
    };
  return null;
}

export class SyslogTargetError extends Error {
  readonly code = 'bad_syslog_target';
}

/** A syslog destination: RFC 5424 messages, over UDP (one datagram each) or TCP (octet-counted, RFC 6587). */
export interface SyslogSink {
  send(line: string): Promise<void>;
  close(): Promise<void>;
}

/** How messages are framed: RFC 5424's MSGID and severity (the facility is always 13, log audit). */
export interface SyslogFraming {
  /** `access` for the log's events (the default); `alert` for gridwall's alerts (issue 20). */
  readonly msgid?: string;
  /** 0–7; default 6, informational. */
  readonly severity?: number;
}

export async function openSyslog(target: string, framing: SyslogFraming = {}): Promise<SyslogSink> {
  const m = /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(target);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined)
    throw new SyslogTargetError(`syslog target ${JSON.stringify(target)}: use udp://host:port or tcp://host:port`);
  const host = m[2].replace(/^\[|\]$/g, '');
  const port = Number(m[3]);
  // Facility 13 (log audit), severity 6 (informational) unless said otherwise.
  const pri = 13 * 8 + Math.min(7, Math.max(0, Math.trunc(framing.severity ?? 6)));
  const msgid = framing.msgid ?? 'access';
  const frame = (line: string) => `<${pri}>1 ${new Date().toISOString()} ${hostname()} gridwall ${process.pid} ${msgid} - ${line}`;
  if (m[1] === 'udp') {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    return {
      send: (line) => new Promise((resolve, reject) => sock.send(frame(line), port, host, (e) => (e ? reject(e) : resolve()))),
      close: () => new Promise((resolve) => sock.close(() => resolve())),
    };
  }
  const sock: Socket = connect({ host, port });
  await once(sock, 'connect');
  // A receiver that resets the connection later must fail the next send, not end the process (an 'error'
  // event with no listener would): the alerts of a halted log go this way.
  let failed: Error | null = null;
  sock.on('error', (e) => (failed ??= e));
  return {
    async send(line) {
      if (failed !== null) throw failed;
      const msg = Buffer.from(frame(line), 'utf8');
      if (!sock.write(`${msg.length} `) || !sock.write(msg)) await once(sock, 'drain');
    },
    close: () => new Promise((resolve) => sock.end(() => resolve())),
  };
}
