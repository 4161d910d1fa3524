import type { KeyObject } from 'node:crypto';
import { linkHash } from './chain.ts';
import type { LinkRecord } from './log-reader.ts';
import { checkpointSignatureValid, sealDigest, sealSignatureValid, type Checkpoint, type Seal } from './signing.ts';

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
  | { readonly kind: 'unsealed'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'malformed'; readonly seq: number; readonly detail: string }
  | { readonly kind: 'archive'; readonly seq: number; readonly detail: string };

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
  return {
    kind: 'broken_link',
    seq,
    detail: `event ${seq} does not link to the hash of event ${seq - 1}: events before it were changed and re-hashed, inserted, removed or reordered`,
  };
}

/**
 * A signed mark — a version-1 checkpoint or a seal — checked against the hash of the event it names: null when
 * it holds. A checkpoint's signature is checked here; a seal's is vouched for by the seal chain and checked at
 * the end of the range (SealCoverage).
 */
export function markBreak(m: Checkpoint | Seal, hashAtSeq: string, keys: ReadonlyMap<string, KeyObject>, lastGood: number): ChainBreak | null {
  const isSeal = 'firstSeq' in m;
  if (m.hash !== hashAtSeq)
    return {
      kind: 'checkpoint_mismatch',
      seq: m.seq,
      detail: `the ${isSeal ? 'seal' : 'checkpoint'} signed ${m.signedAt} for event ${m.seq} names another hash: the chain was rewritten after event ${lastGood} (the last signed point that matched)`,
    };
  if (!isSeal && !checkpointSignatureValid(m, keys)) return signatureBreak('checkpoint', m.seq, m.keyId, keys);
  return null;
}

function signatureBreak(what: string, seq: number, keyId: string, keys: ReadonlyMap<string, KeyObject>): ChainBreak {
  return {
    kind: 'bad_signature',
    seq,
    detail: `the ${what} for event ${seq} is not validly signed by a trusted key (key ${keyId}${keys.has(keyId) ? '' : ', not trusted'})`,
  };
}

/**
 * Which events the writer's seals cover, and that the seals are the writer's (docs/LOG-FORMAT.md, step 3.4):
 * seals follow one another without gap or overlap from the start of the verified range, each linking to the
 * hash where the one before ended and naming the one before by its digest; only the first may begin before
 * the range (a batch that began before an export). The last seal's signature, checked at the end, vouches
 * for the chain of seals before it. Events no seal covers were written by someone else.
 */
export class SealCoverage {
  readonly #start: number;
  readonly #keys: ReadonlyMap<string, KeyObject>;
  /** The last sequence number covered, and the hash there. */
  #covered: number;
  #hash: string;
  /** The digest of the last seal (null while unknown: no seal yet, and none known before the range). */
  #prevSeal: string | null;
  #last: Seal | null = null;
  #seals = 0;

  constructor(firstSeq: number, anchor: string, keys: ReadonlyMap<string, KeyObject>, prevSeal: string | null = null) {
    this.#start = firstSeq;
    this.#covered = firstSeq - 1;
    this.#hash = anchor;
    this.#keys = keys;
    this.#prevSeal = prevSeal;
  }

  get seals(): number {
    return this.#seals;
  }

  /** The last seal seen, and its digest (what the next seal must name). */
  get last(): { seal: Seal; digest: string } | null {
    return this.#last === null || this.#prevSeal === null ? null : { seal: this.#last, digest: this.#prevSeal };
  }

  /** A seal whose hash has been checked against the event it names. */
  seal(s: Seal): ChainBreak | null {
    if (s.firstSeq !== this.#covered + 1) {
      if (this.#last !== null || s.firstSeq >= this.#start) {
        return s.firstSeq > this.#covered + 1
          ? {
              kind: 'unsealed',
              seq: this.#covered + 1,
              detail: `events ${this.#covered + 1}–${s.firstSeq - 1} are covered by no seal of the writer: they were written by someone else`,
            }
          : {
              kind: 'unsealed',
              seq: s.firstSeq,
              detail: `the seal for events ${s.firstSeq}–${s.seq} overlaps the one before (ending at ${this.#covered}): seals were forged or moved`,
            };
      }
    } else if (s.prevHash !== this.#hash) {
      return brokenLinkBreak(s.firstSeq);
    }
    if (this.#prevSeal !== null && s.prevSeal !== this.#prevSeal) {
      // The two do not chain: the one whose signature fails was changed; when both verify (or there is no seal
      // before in the range), the later one names another seal than the one before it.
      const before = this.#last;
      if (before !== null && !sealSignatureValid(before, this.#keys))
        return {
          kind: 'bad_signature',
          seq: before.seq,
          detail: `the seal for event ${before.seq} was changed: it is not validly signed, and the writer's next seal (for event ${s.seq}) names another`,
        };
      return { kind: 'bad_signature', seq: s.seq, detail: `the seal for event ${s.seq} does not name the seal before it: it was forged or changed` };
    }
    this.#covered = s.seq;
    this.#hash = s.hash;
    this.#prevSeal = sealDigest(s);
    this.#last = s;
    this.#seals++;
    return null;
  }

  /** At the end of the range: every event up to `lastSeq` covered, and the last seal validly signed. */
  finish(lastSeq: number | null): ChainBreak | null {
    if (lastSeq !== null && this.#covered < lastSeq) {
      return {
        kind: 'unsealed',
        seq: this.#covered + 1,
        detail: `events ${this.#covered + 1}–${lastSeq} are covered by no seal of the writer: they were written by someone else (or the writer was stopped between writing and sealing, which it never is)`,
      };
    }
    if (this.#last !== null && !sealSignatureValid(this.#last, this.#keys)) return signatureBreak('last seal', this.#last.seq, this.#last.keyId, this.#keys);
    return null;
  }
}

/**
 * A timestamp as the writer writes them (ISO 8601 in UTC with milliseconds): for two of these, their order as
 * strings is their order in time (docs/LOG-FORMAT.md, step 7).
 */
export const TIMESTAMP = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

/**
 * Holds a chain against a witness: the seals the writer published outside the database (docs/LOG-FORMAT.md,
 * step 7). Feed it the hash of every event (`see`); `finish` names the first witness line, in its file's
 * order, that the chain contradicts.
 */
export class WitnessCheck {
  readonly #seals: readonly Seal[];
  readonly #want: Map<number, string | null>;
  readonly #keys: ReadonlyMap<string, KeyObject>;

  constructor(seals: readonly Seal[], keys: ReadonlyMap<string, KeyObject>) {
    this.#seals = seals;
    this.#keys = keys;
    this.#want = new Map(seals.map((s) => [s.seq, null]));
  }

  /** Sequence numbers whose hashes are wanted (for scanners that collect them). */
  get wanted(): ReadonlySet<number> {
    return new Set(this.#want.keys());
  }

  see(seq: number, hash: string): void {
    if (this.#want.has(seq)) this.#want.set(seq, hash);
  }

  /**
   * `firstSeq`/`lastSeq`: the events checked (the range a file or the store holds). `pastEnd` says what a
   * witness seal past the end means (docs/LOG-FORMAT.md, step 7): for the stored log a cut (`'truncated'`); for
   * an export, a cut when the seal was signed before `sealedBefore` — the end of what the file claims (its
   * period's end, or when it was taken for the log up to its head: `until`) less the margin — and nothing when
   * later (written since, or still being committed when the export read the log); `'unchecked'` when the
   * header does not say (nothing past the end is checked).
   */
  finish(
    firstSeq: number,
    lastSeq: number | null,
    pastEnd: 'truncated' | 'unchecked' | { readonly until: string; readonly sealedBefore: string } = 'truncated',
  ): { brk: ChainBreak | null; checked: number } {
    let checked = 0;
    const last = lastSeq ?? firstSeq - 1;
    const cut = (s: Seal): boolean =>
      pastEnd === 'truncated' || (typeof pastEnd === 'object' && TIMESTAMP.test(s.signedAt) && s.signedAt < pastEnd.sealedBefore);
    for (const s of this.#seals) {
      // Seals before the range are not this check's (an export of a later period; a key rotated since).
      if (s.seq < firstSeq || (s.seq > last && !cut(s))) continue;
      if (!sealSignatureValid(s, this.#keys))
        return {
          brk: { kind: 'bad_signature', seq: s.seq, detail: `the witness's seal for event ${s.seq} is not validly signed by a trusted key (key ${s.keyId})` },
          checked,
        };
      if (s.seq > last)
        return {
          brk: {
            kind: 'truncated',
            seq: last + 1,
            detail:
              typeof pastEnd === 'object'
                ? `the witness holds a seal for event ${s.seq}, signed ${s.signedAt}, well before the end of what this export claims (${pastEnd.until}, less the margin), but the export ends at ${last}: the log was cut, or rewound and rewritten, before it was exported`
                : `the witness holds a seal for event ${s.seq}, published ${s.signedAt}, but the chain ends at ${last}: the log was cut, or rewound and rewritten`,
          },
          checked,
        };
      if (this.#want.get(s.seq) !== s.hash)
        return {
          brk: {
            kind: 'checkpoint_mismatch',
            seq: s.seq,
            detail: `the witness's seal for event ${s.seq}, published ${s.signedAt}, names another hash: the chain was rewritten after it was published`,
          },
          checked,
        };
      checked++;
    }
    return { brk: null, checked };
  }
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly events: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly lastHash: string;
  /** Version-1 checkpoints verified, and how many fell in the range. */
  readonly checkpoints: { readonly verified: number; readonly inRange: number };
  /** Seals verified (each a group commit of the writer). */
  readonly seals: number;
  /** Witness seals held against the chain, when a witness was given. */
  readonly witnessChecked: number | null;
  /** The first break; verification of links stops there (events are still counted). */
  readonly firstBreak: ChainBreak | null;
}

export interface VerifierStart {
  /** The sequence number the chain (or the exported part of it) starts at. */
  readonly firstSeq: number;
  /** The hash before it: genesis, or the anchor an export or archive gives. */
  readonly prevHash: string;
  /** Version-1 checkpoints, any order; those outside the verified range are ignored, except past its end. */
  readonly checkpoints: readonly Checkpoint[];
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Seals published outside the database, to hold the chain against. */
  readonly witness?: readonly Seal[];
  /** False only to verify a log written before seals existed, before it is sealed. */
  readonly requireSeals?: boolean;
  /** The digest of the seal just before the range, when known (the writer's own last seal). */
  readonly prevSeal?: string;
}

/**
 * Checks a stored chain link by link, in one pass, with constant memory: sequence numbers contiguous, each
 * event's content matching its hash, each link pointing at the hash before it, each checkpoint and seal
 * matching the event it names and validly signed, every event covered by a seal of the writer, no
 * checkpoint, seal (or head) beyond the last event, and the witness's seals on the chain.
 */
export class ChainVerifier {
  readonly #checkpoints: Map<number, Checkpoint>;
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #firstSeq: number;
  readonly #coverage: SealCoverage;
  readonly #witness: WitnessCheck | null;
  #expected: number;
  #prev: string;
  #events = 0;
  #lastSeq: number | null = null;
  #verifiedCheckpoints = 0;
  #lastGood = 0;
  #sealBeyond: number | null = null;
  #break: ChainBreak | null = null;
  readonly #requireSeals: boolean;

  constructor(start: VerifierStart) {
    this.#requireSeals = start.requireSeals ?? true;
    this.#checkpoints = new Map(start.checkpoints.map((c) => [c.seq, c]));
    this.#keys = start.keys;
    this.#firstSeq = start.firstSeq;
    this.#expected = start.firstSeq;
    this.#prev = start.prevHash;
    this.#coverage = new SealCoverage(start.firstSeq, start.prevHash, start.keys, start.prevSeal ?? null);
    this.#witness = start.witness === undefined ? null : new WitnessCheck(start.witness, start.keys);
  }

  /** The next event, with the seal that names it if there is one. */
  push(r: LinkRecord, seal: Seal | null): void {
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
      this.#break = markBreak(cp, r.hash, this.#keys, this.#lastGood);
      if (this.#break !== null) return;
      this.#verifiedCheckpoints++;
      this.#lastGood = r.seq;
    }
    if (seal !== null) {
      this.#break = markBreak(seal, r.hash, this.#keys, this.#lastGood) ?? (this.#requireSeals ? this.#coverage.seal(seal) : null);
      if (this.#break !== null) return;
      this.#lastGood = r.seq;
    }
    this.#witness?.see(r.seq, r.hash);
    this.#prev = r.hash;
    this.#lastSeq = r.seq;
    this.#expected = r.seq + 1;
  }

  /** The first break found so far (null while the chain holds): for a reader that stops at it, as the feed does. */
  get firstBreak(): ChainBreak | null {
    return this.#break;
  }

  /** The last seal of the range and its digest (for a writer that links after it). */
  get lastSeal(): { seal: Seal; digest: string } | null {
    return this.#coverage.last;
  }

  /** A seal naming an event the chain does not hold (past its end, or one that is missing). */
  straySeal(s: Seal): void {
    this.#sealBeyond ??= s.seq;
  }

  /** Ends the pass. `headSeq` is where the store says the chain ends. */
  finish(headSeq?: number): VerifyResult {
    const last = this.#lastSeq ?? this.#firstSeq - 1;
    if (this.#break === null) {
      const beyond = [...this.#checkpoints.keys(), ...(this.#sealBeyond === null ? [] : [this.#sealBeyond])].filter((s) => s > last).sort((a, b) => a - b)[0];
      if (beyond !== undefined)
        this.#break = {
          kind: 'truncated',
          seq: last + 1,
          detail: `a signed checkpoint or seal names event ${beyond}, but the chain ends at ${last}: events were removed from its end`,
        };
      else if (headSeq !== undefined && headSeq > last)
        this.#break = { kind: 'truncated', seq: last + 1, detail: `the chain's head is at event ${headSeq}, but the stored events end at ${last}` };
      else if (this.#requireSeals) this.#break = this.#coverage.finish(this.#lastSeq);
      if (this.#break === null && headSeq !== undefined && headSeq < last)
        this.#break = {
          kind: 'unsealed',
          seq: headSeq + 1,
          detail: `events after the chain's head (${headSeq}) are stored: they were added outside the writer, or the head was moved back`,
        };
    }
    const witness = this.#witness?.finish(this.#firstSeq, this.#lastSeq) ?? null;
    if (this.#break === null && witness !== null) this.#break = witness.brk;
    const inRange = [...this.#checkpoints.keys()].filter((s) => s >= this.#firstSeq && s <= last).length;
    return {
      ok: this.#break === null,
      events: this.#events,
      firstSeq: this.#lastSeq === null ? null : this.#firstSeq,
      lastSeq: this.#lastSeq,
      lastHash: this.#prev,
      checkpoints: { verified: this.#verifiedCheckpoints, inRange },
      seals: this.#coverage.seals,
      witnessChecked: witness?.checked ?? null,
      firstBreak: this.#break,
    };
  }
}
