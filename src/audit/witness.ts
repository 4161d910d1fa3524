import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Seal } from './signing.ts';
import { inputRefusal } from '../domain/refusal.ts';

// The witness: seals the writer publishes outside the database as it goes, one `{"seal":{…}}` line each
// (docs/LOG-FORMAT.md), in an append-only file the operator ships to write-once storage.

export class WitnessFileError extends inputRefusal('bad_witness_file') {}

const HEX64 = /^[0-9a-f]{64}$/;

function parseSeal(line: string, where: string): Seal {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new WitnessFileError(`${where}: not JSON`);
  }
  const s = (v as { seal?: Record<string, unknown> } | null)?.seal;
  if (
    s === undefined ||
    s === null ||
    typeof s !== 'object' ||
    !Number.isSafeInteger(s['seq']) ||
    !Number.isSafeInteger(s['firstSeq']) ||
    typeof s['prevHash'] !== 'string' ||
    !HEX64.test(s['prevHash']) ||
    typeof s['prevSeal'] !== 'string' ||
    !HEX64.test(s['prevSeal']) ||
    typeof s['hash'] !== 'string' ||
    !HEX64.test(s['hash']) ||
    typeof s['signedAt'] !== 'string' ||
    typeof s['keyId'] !== 'string' ||
    typeof s['signature'] !== 'string'
  ) {
    throw new WitnessFileError(`${where}: not a seal line ({"seal":{"firstSeq","seq","prevHash","hash","prevSeal","signedAt","keyId","signature"}})`);
  }
  return {
    firstSeq: s['firstSeq'] as number,
    seq: s['seq'] as number,
    prevHash: s['prevHash'],
    hash: s['hash'],
    prevSeal: s['prevSeal'],
    signedAt: s['signedAt'],
    keyId: s['keyId'],
    signature: s['signature'],
  };
}

export function sealLine(s: Seal): string {
  return JSON.stringify({
    seal: {
      firstSeq: s.firstSeq,
      seq: s.seq,
      prevHash: s.prevHash,
      hash: s.hash,
      prevSeal: s.prevSeal,
      signedAt: s.signedAt,
      keyId: s.keyId,
      signature: s.signature,
    },
  });
}

/** Every seal of a witness file, in its order; a line that is not a seal is an error naming it. */
export function readWitness(path: string): Seal[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new WitnessFileError(`--witness ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return text.split('\n').flatMap((line, i) => (line.trim() === '' ? [] : [parseSeal(line, `${path} line ${i + 1}`)]));
}

/** Where the writer publishes seals. */
export interface WitnessSink {
  /** The last seal published here before (read once, at start), or null. */
  last(): Seal | null;
  publish(seal: Seal): void;
  readonly path: string;
}

/** The witness as a local append-only file (created on first use). */
export class WitnessFile implements WitnessSink {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  last(): Seal | null {
    if (!existsSync(this.path)) return null;
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      // A line is short (≈ 330 bytes); read the tail only.
      const len = Math.min(size, 8192);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      const text = buf.toString('utf8');
      // A line not ended by a line feed was torn by a crash or a full disk while it was written: the last
      // complete line is the last seal published.
      const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
      // Several server processes publish to one file, each after its own commit, so the newest seal need not
      // be the last line: the highest sequence number among the tail's complete lines is (the first line of a
      // window that starts mid-line is not one of them).
      const lines = complete.split('\n').filter((l) => l.trim() !== '');
      if (len < size) lines.shift();
      // A line torn by one process's crash has the next process's seal glued to it: it is passed over here (a
      // verifier reading the whole file reports it), as long as some line of the tail is a seal.
      let newest: Seal | null = null;
      let unreadable: WitnessFileError | null = null;
      for (const [i, line] of lines.entries()) {
        let s: Seal;
        try {
          s = parseSeal(line, `${this.path} (line ${i + 1} of its last ${len} bytes)`);
        } catch (e) {
          if (!(e instanceof WitnessFileError)) throw e;
          unreadable ??= e;
          continue;
        }
        if (newest === null || s.seq > newest.seq) newest = s;
      }
      if (newest === null && unreadable !== null) throw unreadable;
      return newest;
    } finally {
      closeSync(fd);
    }
  }

  publish(seal: Seal): void {
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, `${sealLine(seal)}\n`, { mode: 0o600 });
  }
}
