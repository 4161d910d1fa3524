import { hash as sha256 } from 'node:crypto';
import { brokenLinkBreak, modifiedBreak, sequenceBreak, type ChainBreak } from './chain-verify.ts';
import { LINE } from './chain.ts';
import type { Checkpoint } from './signing.ts';

// The scanning half of export-file verification: one chunk of whole lines at a time, no I/O. The joining of
// chunks, checkpoints and signatures is in file-verify.ts.

/** What one contiguous run of lines of an export holds, checked as far as it can be on its own. */
export interface SegmentResult {
  readonly events: number;
  readonly firstSeq: number | null;
  readonly firstPrev: string | null;
  readonly lastSeq: number | null;
  readonly lastHash: string | null;
  /** First problem inside the segment, with the line index (within the segment) where it shows. */
  readonly problem: { readonly at: number; readonly brk: ChainBreak } | null;
  /** Checkpoint lines, with the event they follow when it is in this segment. */
  readonly checkpoints: readonly { readonly at: number; readonly cp: Checkpoint; readonly after: { seq: number; hash: string } | null }[];
  readonly header: string | null;
  /** Line index of the closing line, if the segment holds it. */
  readonly endAt: number | null;
  /** Line index of the first line after the closing line, if any. */
  readonly afterEndAt: number | null;
  readonly lines: number;
}

export const NL = 0x0a;
const PREFIX = Buffer.from('{"hash":"');
const MIDDLE = Buffer.from('","prev":"');
const EVENT = Buffer.from('","event":');
const SEQ = Buffer.from('"seq":');
const CHECKPOINT = Buffer.from('{"checkpoint":');
const END = Buffer.from('{"end":');

function startsWith(buf: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > buf.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** The sequence number an event line states (the last top-level `"seq":` — only string members follow it). */
function statedSeq(b: Buffer, start: number, stop: number): number {
  const at = b.lastIndexOf(SEQ, stop);
  if (at < start + LINE.eventStart) return -1;
  let seq = 0;
  for (let i = at + SEQ.length; i < stop && b[i]! >= 0x30 && b[i]! <= 0x39; i++) seq = seq * 10 + (b[i]! - 0x30);
  return seq;
}

function sameHex(hex: string, b: Buffer, at: number): boolean {
  for (let i = 0; i < 64; i++) if (hex.charCodeAt(i) !== b[at + i]) return false;
  return true;
}

/**
 * Checks the event lines of a buffer of whole lines: each event's bytes against its hash, and each link
 * against the hash of the line before — comparing bytes in place, so the only work per event is one SHA-256.
 * Events are numbered by position from the first one's stated number; since every hash covers the stated
 * number, and signed checkpoints bind numbers to hashes, a line whose number was changed cannot verify.
 * The stated number is read again only to name what a break is (a gap, a repeat, a reordering).
 */
export function scanSegment(buf: Uint8Array, isFirst: boolean): SegmentResult {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let events = 0;
  let firstSeq: number | null = null;
  let firstPrev: string | null = null;
  let seq = 0;
  let lastAt = -1; // start of the last good event line
  let problem: SegmentResult['problem'] = null;
  const checkpoints: { at: number; cp: Checkpoint; after: { seq: number; hash: string } | null }[] = [];
  let header: string | null = null;
  let endAt: number | null = null;
  let afterEndAt: number | null = null;
  let line = 0;
  let start = 0;
  const lastHashText = () => (lastAt < 0 ? null : b.toString('latin1', lastAt + LINE.hashStart, lastAt + LINE.hashEnd));
  while (start < b.length) {
    let end = b.indexOf(NL, start);
    if (end === -1) end = b.length;
    let stop = end;
    if (stop > start && b[stop - 1] === 0x0d) stop--;
    if (stop > start) {
      if (isFirst && line === 0) header = b.toString('utf8', start, stop);
      else if (endAt !== null) afterEndAt ??= line;
      else if (startsWith(b, start, PREFIX)) {
        events++;
        if (problem === null) {
          const expected = seq + 1;
          const wellFormed = stop - start > LINE.eventStart + 1 && b[stop - 1] === 0x7d && startsWith(b, start + LINE.hashEnd, MIDDLE) && startsWith(b, start + LINE.prevEnd, EVENT);
          if (!wellFormed) {
            problem = { at: line, brk: { kind: 'malformed', seq: expected, detail: 'an event line that is not of this format' } };
          } else if (lastAt < 0) {
            // The segment's first event: its stated number anchors the numbering; its link is checked where segments join.
            firstSeq = statedSeq(b, start, stop);
            firstPrev = b.toString('latin1', start + LINE.prevStart, start + LINE.prevEnd);
            seq = firstSeq - 1;
          } else if (b.compare(b, lastAt + LINE.hashStart, lastAt + LINE.hashEnd, start + LINE.prevStart, start + LINE.prevEnd) !== 0) {
            const stated = statedSeq(b, start, stop);
            problem = { at: line, brk: stated === expected ? brokenLinkBreak(expected) : sequenceBreak(stated, expected) };
          }
          if (problem === null) {
            const digest = sha256('sha256', b.subarray(start + LINE.inputStart, stop - 1), 'hex');
            if (!sameHex(digest, b, start + LINE.hashStart)) {
              problem = { at: line, brk: modifiedBreak(seq + 1) };
            } else {
              seq++;
              lastAt = start;
            }
          }
        }
      } else if (startsWith(b, start, CHECKPOINT)) {
        const cp = (JSON.parse(b.toString('utf8', start, stop)) as { checkpoint: Checkpoint }).checkpoint;
        const h = lastHashText();
        checkpoints.push({ at: line, cp, after: h === null ? null : { seq, hash: h } });
      } else if (startsWith(b, start, END)) endAt = line;
      else problem ??= { at: line, brk: { kind: 'malformed', seq: seq + 1, detail: 'a line that is not part of a gridwall access-log export' } };
    }
    line++;
    start = end + 1;
  }
  return { events, firstSeq, firstPrev, lastSeq: lastAt < 0 ? null : seq, lastHash: lastHashText(), problem, checkpoints, header, endAt, afterEndAt, lines: line };
}

