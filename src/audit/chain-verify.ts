import type { KeyObject } from 'node:crypto';
import { linkHash } from './chain.ts';
import type { LinkRecord } from './log-reader.ts';
import { checkpointSignatureValid, type Checkpoint } from './signing.ts';

/** The first thing found wrong with a chain, naming the event (by sequence number) where it shows. */
export type ChainBreak =
  | { readonly kind: 'modified'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'missing'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'inserted'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'out_of_order'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'broken_link'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'checkpoint_mismatch'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'bad_signature'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'truncated'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'malformed'; readonly seq: number; readonly detail: string };

/**
 * The break for an event stating sequence number `stated` where `expected` was due (they differ): a gap is
 * a deletion (or a move), a repeat an insertion, anything else a reordering.
 */
export function sequenceBreak(stated: number, expected: number): ChainBreak {
  if (stated > expected) return { kind: 'missing', seq: expected, detail: `events ${expected}–${stated - 1} are missing here: deleted, or moved (reordered)` };
  if (stated === expected - 1) return { kind: 'inserted', seq: stated, detail: `a second event with sequence number ${stated}: an event was inserted` };
  return { kind: 'out_of_order', seq: stated, detail: `event ${stated} comes after event ${expected - 1}: events were reordered` };
}

export function modifiedBreak(seq: number): ChainBreak {
  return { kind: 'modified', seq, detail: `event ${seq} does not match its hash: its content was changed` };
}

export function brokenLinkBreak(seq: number): ChainBreak {
  return { kind: 'broken_link', seq, detail: `event ${seq} does not link to the hash of event ${seq - 1}: events before it were changed and re-hashed, inserted, removed or reordered` };
}

/** A checkpoint checked against the hash of the event it names: null when it holds. */
export function checkpointBreak(cp: Checkpoint, hashAtSeq: string, keys: ReadonlyMap<string, KeyObject>, lastGood: number): ChainBreak | null {
  if (cp.hash !== hashAtSeq) return { kind: 'checkpoint_mismatch', seq: cp.seq, detail: `the checkpoint signed ${cp.signedAt} for event ${cp.seq} names another hash: the chain was rewritten after event ${lastGood} (the last checkpoint that matched)` };
  if (!checkpointSignatureValid(cp, keys)) return { kind: 'bad_signature', seq: cp.seq, detail: `the checkpoint for event ${cp.seq} is not validly signed by a trusted key (key ${cp.keyId})` };
  return null;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly events: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly lastHash: string;
  readonly checkpoints: { readonly verified: number; readonly inRange: number };
  /** The first break; verification of links stops there (events are still counted). */
  readonly firstBreak: ChainBreak | null;
}

export interface VerifierStart {
  /** The sequence number the chain (or the exported part of it) starts at. */
  readonly firstSeq: number;
  /** The hash before it: genesis, or the anchor an export or archive gives. */
  readonly prevHash: string;
  /** Signed checkpoints, any order; those outside the verified range are ignored, except past its end. */
  readonly checkpoints: readonly Checkpoint[];
  readonly keys: ReadonlyMap<string, KeyObject>;
}

/**
 * Checks a chain link by link, in one pass, with constant memory: sequence numbers contiguous, each event's
 * content matching its hash, each link pointing at the hash before it, each checkpoint in range matching
 * the event it names and carrying a valid signature, and no checkpoint (or head) beyond the last event.
 */
export class ChainVerifier {
  readonly #checkpoints: Map<number, Checkpoint>;
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #firstSeq: number;
  #expected: number;
  #prev: string;
  #events = 0;
  #lastSeq: number | null = null;
  #verifiedCheckpoints = 0;
  #lastGoodCheckpoint = 0;
  #break: ChainBreak | null = null;

  constructor(start: VerifierStart) {
    this.#checkpoints = new Map(start.checkpoints.map((c) => [c.seq, c]));
    this.#keys = start.keys;
    this.#firstSeq = start.firstSeq;
    this.#expected = start.firstSeq;
    this.#prev = start.prevHash;
  }

  push(r: LinkRecord): void {
    this.#events++;
    if (this.#break !== null) return;
    if (r.seq !== this.#expected) {
      this.#break = sequenceBreak(r.seq, this.#expected);
      return;
    }
    if (!r.consistent || linkHash(r.prevHash, r.canonical) !== r.hash) {
      this.#break = modifiedBreak(r.seq);
      return;
    }
    if (r.prevHash !== this.#prev) {
      this.#break = brokenLinkBreak(r.seq);
      return;
    }
    const cp = this.#checkpoints.get(r.seq);
    if (cp !== undefined) {
      this.#break = checkpointBreak(cp, r.hash, this.#keys, this.#lastGoodCheckpoint);
      if (this.#break !== null) return;
      this.#verifiedCheckpoints++;
      this.#lastGoodCheckpoint = r.seq;
    }
    this.#prev = r.hash;
    this.#lastSeq = r.seq;
    this.#expected = r.seq + 1;
  }

  /** Ends the pass. `headSeq` is where the store says the chain ends (omit for an exported file). */
  finish(headSeq?: number): VerifyResult {
    const last = this.#lastSeq ?? this.#firstSeq - 1;
    if (this.#break === null) {
      const beyond = [...this.#checkpoints.keys()].filter((s) => s > last).sort((a, b) => a - b)[0];
      if (beyond !== undefined) this.#break = { kind: 'truncated', seq: last + 1, detail: `a signed checkpoint names event ${beyond}, but the chain ends at ${last}: events were removed from its end` };
      else if (headSeq !== undefined && headSeq > last) this.#break = { kind: 'truncated', seq: last + 1, detail: `the chain's head is at event ${headSeq}, but the stored events end at ${last}` };
      else if (headSeq !== undefined && headSeq < last) this.#break = { kind: 'inserted', seq: headSeq + 1, detail: `events after the chain's head (${headSeq}) were added outside the writer` };
    }
    const inRange = [...this.#checkpoints.keys()].filter((s) => s >= this.#firstSeq && s <= last).length;
    return {
      ok: this.#break === null,
      events: this.#events,
      firstSeq: this.#lastSeq === null ? null : this.#firstSeq,
      lastSeq: this.#lastSeq,
      lastHash: this.#prev,
      checkpoints: { verified: this.#verifiedCheckpoints, inRange },
      firstBreak: this.#break,
    };
  }
}
