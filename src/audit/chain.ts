import { createHash } from 'node:crypto';
import type { AccessEvent } from './access-event.ts';
import { canonicalJson } from './canonical.ts';

/** The hash before the first event of a chain. */
export const GENESIS = '0'.repeat(64);

/** An event with its place in the chain: what the log stores and exports. */
export interface ChainedEvent {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly event: AccessEvent;
}

/**
 * The canonical text of one event at its sequence number: every member of the event (the sequence number
 * included, so an event cannot be moved), with timestamps as ISO 8601 UTC.
 */
export function canonicalEvent(seq: number, e: AccessEvent): string {
  return canonicalJson({ ...e, seq, occurredAt: e.occurredAt.toISOString() });
}

/**
 * One link: SHA-256 (hex) over `"prev":"<previous hash>","event":<canonical text>` in UTF-8. The odd-looking
 * input is chosen so that an exported line — `{"hash":"<hash>",` + input + `}` — carries it as one
 * contiguous run of bytes: a file verifies by hashing slices of itself, without parsing or re-encoding.
 */
export function linkHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(`"prev":"${prevHash}","event":`, 'latin1').update(canonical, 'utf8').digest('hex');
}

/** The exported line of one event (without its line feed); see `linkHash`. */
export function eventLine(hash: string, prevHash: string, canonical: string): string {
  return `{"hash":"${hash}","prev":"${prevHash}","event":${canonical}}`;
}

/** Byte offsets in an event line: the hash, the hashed run, the previous hash. */
export const LINE = { hashStart: 9, hashEnd: 73, inputStart: 75, prevStart: 83, prevEnd: 147, eventStart: 157 } as const;

/** Chains events after `prev` (the last hash so far), numbering them from `firstSeq`. */
export function chainEvents(events: readonly AccessEvent[], firstSeq: number, prev: string): ChainedEvent[] {
  const out: ChainedEvent[] = [];
  let prevHash = prev;
  events.forEach((event, i) => {
    const seq = firstSeq + i;
    const hash = linkHash(prevHash, canonicalEvent(seq, event));
    out.push({ seq, prevHash, hash, event });
    prevHash = hash;
  });
  return out;
}
