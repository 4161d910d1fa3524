import assert from 'node:assert/strict';
import { verifyStore, type StoreVerifyOptions, type StoreVerifyResult } from '../../src/audit/store-verify.ts';
import type { Db } from '../../src/store/db.ts';

/**
 * Verifies the stored log both ways the store can be read — page by page (the console's way), and streamed in
 * one COPY (the command line's way, on PostgreSQL) — and holds the two findings equal: a tampering that one
 * reader catches and the other misses fails here.
 */
export async function verifyBothWays(db: Db, opts: StoreVerifyOptions): Promise<StoreVerifyResult> {
  const paged = await verifyStore(db, { ...opts, stream: false });
  if (db.copyOut === undefined) return paged;
  const streamed = await verifyStore(db, { ...opts, stream: true });
  assert.deepEqual(streamed, paged, 'the streamed verification finds what the paged one finds');
  return paged;
}
