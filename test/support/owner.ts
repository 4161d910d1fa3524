import type { Db } from '../../src/store/db.ts';

const owners = new WeakMap<Db, Db>();

/** Records that `owner` is the schema owner's handle of the application-role store `db` (test/support/stores.ts). */
export function setOwner(db: Db, owner: Db): void {
  owners.set(db, owner);
}

/** The owner's handle of a test store's `db` (the same db on PGlite, or for a db not from STORES). */
export function ownerOf(db: Db): Db {
  return owners.get(db) ?? db;
}
