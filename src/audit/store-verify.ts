import type { KeyObject } from 'node:crypto';
import type { Db, Queryable } from '../store/db.ts';
import { verifyArchives } from './archive.ts';
import { ChainVerifier, type VerifyResult } from './chain-verify.ts';
import { SealCursor } from './export.ts';
import { readChainLinks, readCheckpoints, readLogEnd, readSeals, sealCovering } from './log-reader.ts';
import type { Seal } from './signing.ts';

export interface StoreVerifyOptions {
  /** The trusted public keys: from outside the database (given, or configured), never the log's own table. */
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Seals published outside the database (a witness file), to hold the chain against. */
  readonly witness?: readonly Seal[];
  /** Where archive files are looked for by name, when not at their recorded path. */
  readonly archiveDir?: string;
  /** False only for a log from before seals (the writer's one-time check before sealing it). */
  readonly requireSeals?: boolean;
  /**
   * Only these events (a month's partition, a seq range): from `fromSeq`, anchored at the hash the first one
   * states, to `toSeq` rounded up to the end of the seal that covers it. Without a range, the whole log.
   */
  readonly range?: { readonly fromSeq: number; readonly toSeq: number };
  /** Stream the rows in one COPY (PostgreSQL): for a connection without a statement time-out (the command line). */
  readonly stream?: boolean;
}

/** A range of events that cannot be verified as asked (before the first event, past the end, archived, backwards). */
export class BadRangeError extends Error {}

export type StoreVerifyResult = VerifyResult & {
  readonly archives: { readonly files: number; readonly events: number };
  /**
   * The events checked, when a range was asked for (its end is where the covering seal ends), and the hash its
   * first event states for the one before: a range verified before it joins this one where its hash is this.
   */
  readonly range: { readonly fromSeq: number; readonly toSeq: number; readonly anchor: string } | null;
};

/**
 * Verifies the log the database holds: its archives (files present, as recorded, verifying, joining up from
 * event 1), then the stored chain from where the last archive ends to the head — links, hashes, checkpoints,
 * every event sealed by a trusted key — and, given a witness, the chain against it. With a range, only those
 * events (see verifyRange).
 */
export async function verifyStore(q: Queryable & Partial<Pick<Db, 'copyOut'>>, opts: StoreVerifyOptions): Promise<StoreVerifyResult> {
  if (opts.keys.size === 0) throw new Error('verifying the log needs a trusted public key from outside the database');
  if (opts.range !== undefined) return verifyRange(q, opts, opts.range);
  const requireSeals = opts.requireSeals ?? true;
  // The head first, with the highest number stored (one snapshot); everything is checked up to that head, so
  // events committed while verifying are left for the next run instead of looking like a cut or a gap.
  const { head, maxSeq } = await readLogEnd(q);
  // Checkpoints and witness seals that name archived events are held against the archives' files; the rest
  // against the stored chain.
  const checkpoints = await readCheckpoints(q);
  const archived = await verifyArchives(q, opts.keys, {
    ...(opts.archiveDir === undefined ? {} : { dir: opts.archiveDir }),
    check: requireSeals,
    checkpoints,
    ...(opts.witness === undefined ? {} : { witness: opts.witness }),
  });
  const verifier = new ChainVerifier({
    firstSeq: archived.next.seq,
    prevHash: archived.next.hash,
    checkpoints: checkpoints.filter((c) => c.seq >= archived.next.seq),
    keys: opts.keys,
    requireSeals,
    ...(opts.witness === undefined ? {} : { witness: opts.witness.filter((w) => w.seq >= archived.next.seq) }),
  });
  // Up to the head — or further, to what the same snapshot stored past it (a head moved back).
  const range = { fromSeq: archived.next.seq, toSeq: Math.max(head.seq, maxSeq, archived.next.seq - 1) };
  const result = await check(q, verifier, range, opts.stream === true, head.seq);
  const archives = { files: archived.files, events: archived.events };
  if (archived.brk !== null) return { ...result, ok: false, firstBreak: archived.brk, archives, range: null };
  return { ...result, witnessChecked: result.witnessChecked === null ? null : result.witnessChecked + archived.witnessChecked, archives, range: null };
}

async function check(
  q: Queryable & Partial<Pick<Db, 'copyOut'>>,
  verifier: ChainVerifier,
  range: { fromSeq: number; toSeq: number },
  stream: boolean,
  headSeq?: number,
): Promise<VerifyResult> {
  const seals = new SealCursor(readSeals(q, range));
  const stray = (s: Seal) => verifier.straySeal(s);
  for await (const link of readChainLinks(q, { ...range, stream })) {
    verifier.push(link, await seals.at(link.seq, stray));
  }
  for await (const s of seals.rest()) stray(s);
  return verifier.finish(headSeq);
}

/**
 * A part of the log on its own. The first event's stated previous hash is the anchor (as for an export); the
 * seals from the one covering `fromSeq` to the one covering `toSeq` must chain and the last be validly
 * signed, so every event in between is the writer's as it wrote it. What lies before and after is not looked
 * at: two ranges verified apart join where the first's last hash is the second's anchor (both are reported).
 */
async function verifyRange(
  q: Queryable & Partial<Pick<Db, 'copyOut'>>,
  opts: StoreVerifyOptions,
  asked: { fromSeq: number; toSeq: number },
): Promise<StoreVerifyResult> {
  const { fromSeq } = asked;
  if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(asked.toSeq) || fromSeq < 1)
    throw new BadRangeError(`a range of events runs from a first to a last sequence number, 1 or more: ${fromSeq}–${asked.toSeq}`);
  const { head, maxSeq } = await readLogEnd(q);
  // What is stored counts, not only what the head says: events past a head moved back are part of the log.
  const end = Math.max(head.seq, maxSeq);
  if (fromSeq > end) throw new BadRangeError(`the log ends at event ${end}: there is nothing from ${fromSeq} to verify`);
  if (asked.toSeq < fromSeq) throw new BadRangeError(`a range of events runs forwards: ${fromSeq}–${asked.toSeq}`);
  const archived = await q.query<{ last: string | null }>('SELECT max(last_seq)::text AS last FROM access_log_archives');
  const archivedTo = Number(archived.rows[0]?.last ?? 0);
  if (fromSeq <= archivedTo)
    throw new BadRangeError(
      `events 1–${archivedTo} are archived out of the database: verify their archive files (gridwall audit verify --file), or start after ${archivedTo}`,
    );
  // A range that reaches the head (or whose end no seal covers) is the log's end, and is checked as the whole
  // log's end is: every event stored past the head, and every checkpoint and witness seal past it — so a tail
  // cut, rewound or forged shows. One that ends before the head ends where the seal covering its end ends.
  const covering = asked.toSeq >= head.seq ? null : await sealCovering(q, asked.toSeq);
  const toEnd = covering === null || covering.seq >= head.seq;
  const toSeq = toEnd ? end : Math.max(asked.toSeq, covering.seq);
  const first = await q.query<{ prev_hash: string }>('SELECT prev_hash FROM access_log WHERE seq = $1 ORDER BY id LIMIT 1', [fromSeq]);
  const anchor = first.rows[0]?.prev_hash;
  if (anchor === undefined) {
    const result = new ChainVerifier({ firstSeq: fromSeq, prevHash: '', checkpoints: [], keys: opts.keys }).finish();
    return {
      ...result,
      ok: false,
      firstBreak: { kind: 'missing', seq: fromSeq, detail: `event ${fromSeq} is not stored, though the log's head is at ${head.seq}: deleted, or moved` },
      archives: { files: 0, events: 0 },
      range: { fromSeq, toSeq, anchor: '' },
    };
  }
  const verifier = new ChainVerifier({
    firstSeq: fromSeq,
    prevHash: anchor,
    checkpoints: (await readCheckpoints(q, fromSeq)).filter((c) => toEnd || c.seq <= toSeq),
    keys: opts.keys,
    requireSeals: opts.requireSeals ?? true,
    ...(opts.witness === undefined ? {} : { witness: opts.witness.filter((w) => w.seq >= fromSeq && (toEnd || w.seq <= toSeq)) }),
  });
  const result = await check(q, verifier, { fromSeq, toSeq }, opts.stream === true, toEnd ? head.seq : undefined);
  return { ...result, archives: { files: 0, events: 0 }, range: { fromSeq, toSeq, anchor } };
}
