import { open } from 'node:fs/promises';
import { brokenLinkBreak, checkpointBreak, sequenceBreak, type ChainBreak, type VerifyResult } from './chain-verify.ts';
import { EXPORT_FORMAT, type ExportHeader } from './export.ts';
import { NL, scanSegment, type SegmentResult } from './file-scan.ts';
import { publicKeys, type Checkpoint } from './signing.ts';

export interface FileVerifyResult extends VerifyResult {
  readonly header: ExportHeader | null;
  readonly signaturesCheckedWith: 'given_keys' | 'keys_in_file';
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Reads the file in chunks cut at line ends, into buffers given back through `free` once scanned: fresh
 * large allocations cost more in page faults than the reading itself.
 */
async function* chunks(path: string, size: number, free: ArrayBuffer[]): AsyncGenerator<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const cap = Math.max(size, carry.length * 2);
      let ab = free.pop();
      if (ab === undefined || ab.byteLength < cap) ab = new ArrayBuffer(cap);
      const buf = Buffer.from(ab);
      carry.copy(buf, 0);
      const { bytesRead } = await fh.read(buf, carry.length, ab.byteLength - carry.length, null);
      const filled = carry.length + bytesRead;
      if (bytesRead === 0) {
        if (filled > 0) yield new Uint8Array(ab, 0, filled);
        return;
      }
      const cut = buf.lastIndexOf(NL, filled - 1);
      if (cut === -1) {
        carry = Buffer.from(buf.subarray(0, filled));
        free.push(ab);
        continue;
      }
      // Copied before the chunk is handed over (a worker takes the whole buffer).
      carry = Buffer.from(buf.subarray(cut + 1, filled));
      yield new Uint8Array(ab, 0, cut + 1);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Verifies an exported JSON Lines file on its own: every event line is hashed as the bytes it holds (no
 * re-encoding), sequence numbers and links checked across the whole file, each checkpoint matched with the
 * event it follows and its signature checked with the given public keys — or, failing those, the keys in
 * the file's header (which proves integrity against accident and against anyone without the signing key,
 * but not against someone who replaced the header too). The file is read in chunks, each scanned on its own
 * and joined to the one before, so memory stays at two chunks whatever the file's size.
 *
 * (Worker threads were tried: on this machine class (2 cores) they gave no speed-up — reading, hashing and
 * the loader each threads need share the same two cores — so the scan stays on one thread.)
 */
export async function verifyExportFile(path: string, trustedKeys: readonly string[] = [], opts: { chunkBytes?: number } = {}): Promise<FileVerifyResult> {
  const free: ArrayBuffer[] = [];
  let header: ExportHeader | null = null;
  let keys = publicKeys(trustedKeys);
  let expected = 0;
  let prev = '';
  let lastSeq: number | null = null;
  let events = 0;
  let verified = 0;
  let lastGood = 0;
  let brk: ChainBreak | null = null;
  let ended = false;
  const pendingCheckpoints = new Map<number, Checkpoint>();
  let first = true;

  const checkpoint = (cp: Checkpoint, hashAtSeq: string | null): ChainBreak | null => {
    if (hashAtSeq === null) {
      pendingCheckpoints.set(cp.seq, cp);
      return null;
    }
    const b = checkpointBreak(cp, hashAtSeq, keys, lastGood);
    if (b !== null) return b;
    verified++;
    lastGood = cp.seq;
    return null;
  };

  const absorb = (s: SegmentResult) => {
    if (s.header !== null) {
      const h = JSON.parse(s.header) as ExportHeader;
      if (h.format !== EXPORT_FORMAT || h.version !== 1 || !/^[0-9a-f]{64}$/.test(h.anchor)) throw new Error(`${path}: line 1 is not a gridwall access-log export header`);
      header = h;
      if (trustedKeys.length === 0) keys = publicKeys(h.keys);
      expected = h.firstSeq;
      prev = h.anchor;
    }
    events += s.events;
    if (brk !== null) return;
    if (ended && s.lines > 0) {
      brk = { kind: 'malformed', seq: expected, detail: 'content after the closing line: lines were appended' };
      return;
    }
    // Where this segment joins the one before.
    if (s.firstSeq !== null && s.firstSeq !== expected) {
      brk = sequenceBreak(s.firstSeq, expected);
      return;
    }
    if (s.firstSeq !== null && s.firstPrev !== prev) {
      brk = brokenLinkBreak(s.firstSeq);
      return;
    }
    // In line order: checkpoints before the segment's first problem count, the problem itself, then stop.
    for (const c of s.checkpoints) {
      if (s.problem !== null && c.at > s.problem.at) break;
      let b: ChainBreak | null;
      if (c.after !== null) b = c.after.seq === c.cp.seq ? checkpoint(c.cp, c.after.hash) : checkpointMisplaced(c.cp, c.after.seq);
      // A checkpoint line opening the segment names the last event of the segment before.
      else b = checkpoint(c.cp, lastSeq === c.cp.seq ? prev : null);
      if (b !== null) {
        brk = b;
        return;
      }
    }
    if (s.problem !== null) {
      brk = s.problem.brk;
      return;
    }
    if (s.lastSeq !== null && s.lastHash !== null) {
      for (const [seq, cp] of pendingCheckpoints) {
        if (seq <= s.lastSeq) {
          // A checkpoint for an event that came later than the checkpoint line: the file was rearranged.
          brk = checkpointMisplaced(cp, s.lastSeq);
          return;
        }
      }
      lastSeq = s.lastSeq;
      prev = s.lastHash;
      expected = s.lastSeq + 1;
    }
    if (s.endAt !== null) ended = true;
    if (s.afterEndAt !== null) brk = { kind: 'malformed', seq: expected, detail: 'content after the closing line: lines were appended' };
  };

  for await (const chunk of chunks(path, opts.chunkBytes ?? CHUNK, free)) {
    absorb(scanSegment(chunk, first));
    free.push(chunk.buffer as ArrayBuffer);
    first = false;
  }
  if (header === null) throw new Error(`${path}: empty file, not a gridwall access-log export`);
  const h: ExportHeader = header;
  const last = lastSeq ?? h.firstSeq - 1;
  if (brk === null) {
    const beyond = [...pendingCheckpoints.keys()].sort((a, b) => a - b)[0];
    if (beyond !== undefined) brk = { kind: 'truncated', seq: last + 1, detail: `a signed checkpoint names event ${beyond}, but the chain ends at ${last}: events were removed from its end` };
    else if (!ended) brk = { kind: 'truncated', seq: last + 1, detail: 'the file ends without its closing line: it was cut off' };
  }
  return {
    ok: brk === null,
    events,
    firstSeq: lastSeq === null ? null : h.firstSeq,
    lastSeq,
    lastHash: prev,
    checkpoints: { verified, inRange: verified },
    firstBreak: brk,
    header: h,
    signaturesCheckedWith: trustedKeys.length > 0 ? 'given_keys' : 'keys_in_file',
  };
}

function checkpointMisplaced(cp: Checkpoint, after: number): ChainBreak {
  return { kind: 'malformed', seq: cp.seq, detail: `the checkpoint for event ${cp.seq} stands after event ${after}: the file was rearranged` };
}
