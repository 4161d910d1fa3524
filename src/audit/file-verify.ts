import type { KeyObject } from 'node:crypto';
import { hash as sha256 } from 'node:crypto';
import { open } from 'node:fs/promises';
import {
  brokenLinkBreak,
  markBreak,
  modifiedBreak,
  SealCoverage,
  sequenceBreak,
  TIMESTAMP,
  WitnessCheck,
  type ChainBreak,
  type VerifyResult,
} from './chain-verify.ts';
import { LINE } from './chain.ts';
import { EXPORT_FORMAT, type ExportHeader } from './export.ts';
import { parsePublicKeys, type Checkpoint, type Seal } from './signing.ts';

export interface FileVerifyResult extends VerifyResult {
  readonly header: ExportHeader | null;
  readonly signaturesCheckedWith: 'given_keys' | 'keys_in_file';
  /** Keys in the header that are not Ed25519 public keys (only read when no key was given). */
  readonly rejectedKeys: readonly string[];
  /** The hashes of the events asked for in `collect` that the file holds, verified. */
  readonly collected: ReadonlyMap<number, string>;
  /** The first break, when it is the witness's (the file has none of its own): null otherwise. */
  readonly witnessBreak: ChainBreak | null;
}

export class ExportFileError extends Error {
  readonly code = 'not_an_export';
}

const CHUNK = 4 * 1024 * 1024;
const NL = 0x0a;
const PREFIX = Buffer.from('{"hash":"');
const MIDDLE = Buffer.from('","prev":"');
const EVENT = Buffer.from('","event":');
const SEQ = Buffer.from('"seq":');

/**
 * A seal signed this long before the end of what an export claims must be in it (docs/LOG-FORMAT.md, step 7):
 * the margin covers a seal signed but not yet committed when the export read the log, a read replica's lag
 * and the clocks of two hosts.
 */
export const WITNESS_EXPORT_MARGIN_MS = 2 * 3600_000;

/** A timestamp of the writer's one form that is a real instant (not 2026-02-30) from which the margin stays in year 1; else null. */
function instant(v: unknown): number | null {
  if (typeof v !== 'string' || !TIMESTAMP.test(v) || v < '0001-01-01T02:00:00.000Z') return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) && new Date(ms).toISOString() === v ? ms : null;
}

/**
 * What the file claims up to when (docs/LOG-FORMAT.md, "Line 1, the header" and step 7): every event written
 * before its period's end (`to`), or before `exportedAt` for the log up to its head (`"to":null`) — the earlier
 * of the two — and so every seal signed before that instant less the margin (`sealedBefore`, in the same form).
 * Null when the header does not say it in timestamps of that form: seals past the end are then left unchecked.
 */
function claimedUntil(h: ExportHeader): { readonly until: string; readonly sealedBefore: string } | null {
  const period: unknown = h.period;
  if (period === null || typeof period !== 'object' || Array.isArray(period) || !('to' in period)) return null;
  const at = instant(h.exportedAt);
  const to = period.to === null ? at : instant(period.to);
  if (at === null || to === null) return null;
  const until = Math.min(at, to);
  return { until: new Date(until).toISOString(), sealedBefore: new Date(until - WITNESS_EXPORT_MARGIN_MS).toISOString() };
}

/** A byte loop: for prefixes this short it is faster than a call into Buffer.compare. */
function startsWith(buf: Buffer, at: number, prefix: Buffer): boolean {
  if (at + prefix.length > buf.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** The sequence number an event line states (the last `"seq":` — only string members follow it, and a string cannot hold `"seq":` unescaped). */
function statedSeq(b: Buffer, start: number, stop: number): number {
  const at = b.lastIndexOf(SEQ, stop);
  if (at < start + LINE.eventStart) return -1;
  let seq = 0;
  for (let i = at + SEQ.length; i < stop && b[i]! >= 0x30 && b[i]! <= 0x39; i++) seq = seq * 10 + (b[i]! - 0x30);
  return seq;
}

const SEAL_MEMBERS = {
  firstSeq: 'int',
  seq: 'int',
  prevHash: 'string',
  hash: 'string',
  prevSeal: 'string',
  signedAt: 'string',
  keyId: 'string',
  signature: 'string',
} as const;
const CHECKPOINT_MEMBERS = { seq: 'int', hash: 'string', signedAt: 'string', keyId: 'string', signature: 'string' } as const;

/** Whether a seal's or checkpoint's members are all there with their types. */
function typedMark(kind: 'seal' | 'checkpoint', body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  const o = body as Record<string, unknown>;
  return Object.entries(kind === 'seal' ? SEAL_MEMBERS : CHECKPOINT_MEMBERS).every(([k, t]) =>
    t === 'int' ? Number.isSafeInteger(o[k]) : typeof o[k] === 'string',
  );
}

function sameHex(hex: string, b: Buffer, at: number): boolean {
  for (let i = 0; i < 64; i++) if (hex.charCodeAt(i) !== b[at + i]) return false;
  return true;
}

/**
 * Reads the file in chunks cut at line ends, into buffers reused once processed: fresh large allocations
 * cost more in page faults than the reading itself.
 */
async function* chunks(path: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  const spare: ArrayBuffer[] = [];
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const cap = Math.max(size, carry.length * 2);
      let ab = spare.pop();
      if (ab === undefined || ab.byteLength < cap) ab = new ArrayBuffer(cap);
      const buf = Buffer.from(ab);
      carry.copy(buf, 0);
      const { bytesRead } = await fh.read(buf, carry.length, ab.byteLength - carry.length, null);
      const filled = carry.length + bytesRead;
      if (bytesRead === 0) {
        if (filled > 0) yield buf.subarray(0, filled);
        return;
      }
      const cut = buf.lastIndexOf(NL, filled - 1);
      if (cut === -1) {
        carry = Buffer.from(buf.subarray(0, filled));
        spare.push(ab);
        continue;
      }
      carry = Buffer.from(buf.subarray(cut + 1, filled));
      yield buf.subarray(0, cut + 1);
      spare.push(ab);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Verifies an exported JSON Lines file on its own, by the steps of docs/LOG-FORMAT.md (which
 * `tools/verify-log.py` implements independently): every event line hashed as the bytes it holds (no
 * re-encoding), links and sequence numbers, each checkpoint and seal matched with the event it follows and
 * its signature checked, every event covered by a seal, the closing line — and, given a witness, the file
 * against the seals published outside the database. Signatures are checked with the given keys or, failing
 * those, the keys in the file's header (which proves integrity against accident and against anyone without
 * the signing key, but not against someone who replaced the header too — the result says which).
 * Memory stays at one chunk whatever the file's size; the work per event is one SHA-256 and byte compares.
 */
export async function verifyExportFile(
  path: string,
  trusted: ReadonlyMap<string, KeyObject> | null = null,
  opts: { chunkBytes?: number; witness?: readonly Seal[]; collect?: ReadonlySet<number> } = {},
): Promise<FileVerifyResult> {
  let header: ExportHeader | null = null;
  let keys: ReadonlyMap<string, KeyObject> = trusted ?? new Map();
  let rejectedKeys: string[] = [];
  let expected = 0;
  /**
   * The hash of the last good event (or the anchor), as 64 ASCII hex bytes at `lastOff` in `lastBuf`: the
   * chunk it was read from while that chunk is being scanned (no copy per event), copied into `kept` when the
   * chunk is done (its buffer is reused).
   */
  const kept = Buffer.alloc(64);
  let lastBuf: Buffer = kept;
  let lastOff = 0;
  let lastSeq: number | null = null;
  let events = 0;
  let verified = 0;
  let lastGood = 0;
  let brk: ChainBreak | null = null;
  let ended = false;
  let coverage: SealCoverage | null = null;
  let witness: WitnessCheck | null = null;
  let wanted: ReadonlySet<number> = new Set();
  let lineNo = 0;
  const collect = opts.collect !== undefined && opts.collect.size > 0 ? opts.collect : null;
  const collected = new Map<number, string>();

  const lastHash = () => lastBuf.toString('latin1', lastOff, lastOff + 64);

  const mark = (m: Checkpoint | Seal): ChainBreak | null => {
    if (lastSeq === null || m.seq !== lastSeq)
      return {
        kind: 'malformed',
        seq: m.seq,
        detail: `the ${'firstSeq' in m ? 'seal' : 'checkpoint'} for event ${m.seq} stands after ${lastSeq === null ? 'no event' : `event ${lastSeq}`}: the file was rearranged`,
      };
    const b = markBreak(m, lastHash(), keys, lastGood);
    if (b !== null) return b;
    if ('firstSeq' in m) {
      const c = coverage?.seal(m) ?? null;
      if (c !== null) return c;
    } else verified++;
    lastGood = m.seq;
    return null;
  };

  const line = (b: Buffer, start: number, stop: number): void => {
    if (lineNo++ === 0) {
      let h: ExportHeader;
      try {
        h = JSON.parse(b.toString('utf8', start, stop)) as ExportHeader;
      } catch {
        throw new ExportFileError(`${path}: line 1 is not a gridwall access-log export header`);
      }
      if (
        h?.format !== EXPORT_FORMAT ||
        h.version !== 2 ||
        !Number.isSafeInteger(h.firstSeq) ||
        h.firstSeq < 1 ||
        typeof h.anchor !== 'string' ||
        !/^[0-9a-f]{64}$/.test(h.anchor)
      ) {
        throw new ExportFileError(`${path}: line 1 is not a gridwall access-log export header (format ${EXPORT_FORMAT}, version 2)`);
      }
      header = h;
      if (trusted === null) ({ keys, rejected: rejectedKeys } = parsePublicKeys(Array.isArray(h.keys) ? h.keys : []));
      expected = h.firstSeq;
      kept.write(h.anchor, 'latin1');
      coverage = new SealCoverage(h.firstSeq, h.anchor, keys);
      if (opts.witness !== undefined) {
        witness = new WitnessCheck(opts.witness, keys);
        wanted = witness.wanted;
      }
      return;
    }
    const isEvent = startsWith(b, start, PREFIX);
    if (isEvent) events++;
    if (brk !== null) return;
    if (ended) {
      brk = { kind: 'malformed', seq: expected, detail: 'content after the closing line: lines were appended' };
      return;
    }
    if (isEvent) {
      const wellFormed =
        stop - start > LINE.eventStart + 1 && b[stop - 1] === 0x7d && startsWith(b, start + LINE.hashEnd, MIDDLE) && startsWith(b, start + LINE.prevEnd, EVENT);
      if (!wellFormed) {
        brk = { kind: 'malformed', seq: expected, detail: 'an event line that is not of this format' };
        return;
      }
      const linked = b.compare(lastBuf, lastOff, lastOff + 64, start + LINE.prevStart, start + LINE.prevEnd) === 0;
      if (lastSeq === null) {
        const stated = statedSeq(b, start, stop);
        if (stated !== expected) brk = sequenceBreak(stated, expected);
        else if (!linked) brk = brokenLinkBreak(expected);
      } else if (!linked) {
        const stated = statedSeq(b, start, stop);
        brk = stated === expected ? brokenLinkBreak(expected) : sequenceBreak(stated, expected);
      }
      if (brk !== null) return;
      const digest = sha256('sha256', b.subarray(start + LINE.inputStart, stop - 1), 'hex');
      if (!sameHex(digest, b, start + LINE.hashStart)) {
        brk = modifiedBreak(expected);
        return;
      }
      lastBuf = b;
      lastOff = start + LINE.hashStart;
      lastSeq = expected;
      if (witness !== null && wanted.has(expected)) witness.see(expected, digest);
      if (collect !== null && collect.has(expected)) collected.set(expected, digest);
      expected++;
      return;
    }
    // Any other line is one JSON object with one member — a seal, a checkpoint or the closing line — whose
    // members have their types (docs/LOG-FORMAT.md, "Notes for implementers"); anything else is malformed.
    let v: unknown;
    try {
      v = JSON.parse(b.toString('utf8', start, stop));
    } catch {
      v = undefined;
    }
    const only =
      v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 ? Object.entries(v as Record<string, unknown>)[0] : undefined;
    const [kind, body] = only ?? ['', undefined];
    if ((kind === 'seal' || kind === 'checkpoint') && typedMark(kind, body)) {
      brk = mark(body as Checkpoint | Seal);
      return;
    }
    if (kind === 'end' && body !== null && typeof body === 'object') {
      ended = true;
      const end = body as { events?: unknown; lastSeq?: unknown; lastHash?: unknown };
      const hash = lastSeq === null ? null : lastHash();
      if (end.events !== events || end.lastSeq !== lastSeq || end.lastHash !== hash) {
        brk = {
          kind: 'malformed',
          seq: expected,
          detail: `the closing line does not match the file (${events} events, last ${lastSeq ?? 'none'}): lines were removed or added`,
        };
      }
      return;
    }
    brk = { kind: 'malformed', seq: expected, detail: 'a line that is not part of a gridwall access-log export' };
  };

  for await (const b of chunks(path, opts.chunkBytes ?? CHUNK)) {
    let start = 0;
    while (start < b.length) {
      let end = b.indexOf(NL, start);
      if (end === -1) end = b.length;
      let stop = end;
      if (stop > start && b[stop - 1] === 0x0d) stop--;
      if (stop > start) line(b, start, stop);
      else if (lineNo === 0) throw new ExportFileError(`${path}: line 1 is empty, not a gridwall access-log export header`);
      start = end + 1;
    }
    if (lastBuf !== kept) {
      lastBuf.copy(kept, 0, lastOff, lastOff + 64);
      lastBuf = kept;
      lastOff = 0;
    }
  }
  if (header === null) throw new ExportFileError(`${path}: empty file, not a gridwall access-log export`);
  const h: ExportHeader = header;
  if (brk === null && !ended) brk = { kind: 'truncated', seq: expected, detail: 'the file ends without its closing line: it was cut off' };
  if (brk === null) brk = (coverage as SealCoverage | null)?.finish(lastSeq) ?? null;
  // Seals past the file's end: written after a bounded period, or — for a file of the log up to its head — a
  // cut when signed before it was exported (checked here, once: nothing per event).
  const claimed = claimedUntil(h);
  const w = (witness as WitnessCheck | null)?.finish(h.firstSeq, lastSeq, claimed ?? 'unchecked') ?? null;
  const witnessBreak = brk === null ? (w?.brk ?? null) : null;
  if (brk === null) brk = witnessBreak;
  return {
    ok: brk === null,
    events,
    firstSeq: lastSeq === null ? null : h.firstSeq,
    lastSeq,
    lastHash: lastHash(),
    checkpoints: { verified, inRange: verified },
    seals: (coverage as SealCoverage | null)?.seals ?? 0,
    witnessChecked: w?.checked ?? null,
    firstBreak: brk,
    header: h,
    signaturesCheckedWith: trusted !== null ? 'given_keys' : 'keys_in_file',
    rejectedKeys,
    collected,
    witnessBreak,
  };
}
