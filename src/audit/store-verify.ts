import type { KeyObject } from 'node:crypto';
import type { Queryable } from '../store/db.ts';
import { verifyArchives } from './archive.ts';
import { ChainVerifier, type VerifyResult } from './chain-verify.ts';
import { SealCursor } from './export.ts';
import { readCheckpoints, readHeadAndEnd, readLinks, readSeals } from './log-reader.ts';
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
}

/**
 * Verifies the log the database holds: its archives (files present, as recorded, verifying, joining up from
 * event 1), then the stored chain from where the last archive ends to the head — links, hashes, checkpoints,
 * every event sealed by a trusted key — and, given a witness, the chain against it.
 */
export async function verifyStore(q: Queryable, opts: StoreVerifyOptions): Promise<VerifyResult & { archives: { files: number; events: number } }> {
  if (opts.keys.size === 0) throw new Error('verifying the log needs a trusted public key from outside the database');
  const requireSeals = opts.requireSeals ?? true;
  // The head first, with the highest number stored (one snapshot); everything is checked up to that head, so
  // events committed while verifying are left for the next run instead of looking like a cut or a gap.
  const { head, maxSeq } = await readHeadAndEnd(q);
  const archived = await verifyArchives(q, opts.keys, { ...(opts.archiveDir === undefined ? {} : { dir: opts.archiveDir }), check: requireSeals });
  const verifier = new ChainVerifier({
    firstSeq: archived.next.seq,
    prevHash: archived.next.hash,
    checkpoints: await readCheckpoints(q, archived.next.seq),
    keys: opts.keys,
    requireSeals,
    ...(opts.witness === undefined ? {} : { witness: opts.witness.filter((w) => w.seq >= archived.next.seq) }),
  });
  // Up to the head — or further, to what the same snapshot stored past it (a head moved back).
  const range = { fromSeq: archived.next.seq, toSeq: Math.max(head.seq, maxSeq, archived.next.seq - 1) };
  const seals = new SealCursor(readSeals(q, range));
  const stray = (s: Seal) => verifier.straySeal(s);
  for await (const { link } of readLinks(q, range)) {
    verifier.push(link, await seals.at(link.seq, stray));
  }
  for await (const s of seals.rest()) stray(s);
  const result = verifier.finish(head.seq);
  const archives = { files: archived.files, events: archived.events };
  if (archived.brk !== null) return { ...result, ok: false, firstBreak: archived.brk, archives };
  return { ...result, archives };
}
