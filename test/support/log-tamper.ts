import { eventColumns, type AccessEvent } from '../../src/audit/access-event.ts';
import { chainEvents, GENESIS, type ChainedEvent } from '../../src/audit/chain.ts';
import { readLinks } from '../../src/audit/log-reader.ts';
import { writeFileSync } from 'node:fs';
import { signSeal, type SigningKey } from '../../src/audit/signing.ts';
import type { Db } from '../../src/store/db.ts';

// The attacks of issue 15 on a stored log, as a database superuser (or the tables' owner) makes them: shared by
// the suites that hold the log, the command line and the API against them.

/** Runs SQL with every trigger off, as only a database superuser could: the attacker's position. */
export async function asSuperuser(db: Db, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(sql, params);
  });
}

export const eventRow = (c: ChainedEvent) => ({ seq: c.seq, prev_hash: c.prevHash, hash: c.hash, ...eventColumns(c.event) });

/** Inserts an event row straight into the table (triggers off when `superuser`), bypassing the append path. */
export async function insertRow(db: Db, c: ChainedEvent, superuser: boolean): Promise<void> {
  const r = eventRow(c);
  const cols = Object.keys(r).join(', ');
  const sql = `INSERT INTO access_log (${cols}) SELECT ${cols} FROM jsonb_populate_record(NULL::access_log, $1::jsonb)`;
  if (superuser) await asSuperuser(db, sql, [JSON.stringify(r)]);
  else await db.query(sql, [JSON.stringify(r)]);
}

/**
 * The planted-key attack: the superuser changes event `seq` (`change` gives the new event), re-chains every
 * event after it, replaces all seals by one signed with `attacker` over the whole chain, moves the head and
 * registers the attacker's public key in the log's key table — a chain that verifies with the attacker's key.
 * Returns the last sequence number (where the forged seal is).
 */
export async function rehashAndReseal(owner: Db, attacker: SigningKey, seq: number, change: (e: AccessEvent) => AccessEvent): Promise<number> {
  const events: AccessEvent[] = [];
  for await (const { link, event } of readLinks(owner)) events.push(link.seq === seq ? change(event) : event);
  const chained = chainEvents(events, 1, GENESIS);
  const last = chained[chained.length - 1];
  if (last === undefined) throw new Error('rehashAndReseal: the log is empty');
  await asSuperuser(owner, 'DELETE FROM access_log');
  await asSuperuser(owner, 'DELETE FROM access_log_seals');
  for (const c of chained) await insertRow(owner, c, true);
  const seal = signSeal(attacker, { firstSeq: 1, seq: last.seq, prevHash: GENESIS, hash: last.hash, prevSeal: GENESIS }, new Date());
  await asSuperuser(
    owner,
    'INSERT INTO access_log_seals (seq, first_seq, prev_hash, hash, prev_seal, signed_at, key_id, signature) VALUES ($1, 1, $2, $3, $2, $4, $5, $6)',
    [last.seq, GENESIS, last.hash, seal.signedAt, seal.keyId, seal.signature],
  );
  await asSuperuser(owner, 'UPDATE access_log_head SET seq = $1, hash = $2', [last.seq, last.hash]);
  await owner.query('SELECT access_log_add_key($1, $2)', [attacker.keyId, attacker.publicKeyPem]);
  return last.seq;
}

/**
 * Feed lines (`audit tail`'s output: event and seal lines) written as an export file — a header with the hash
 * the first event links to, and the closing line — so that a SIEM's copy can be verified as an export.
 */
export function feedAsExport(lines: readonly string[], path: string): void {
  const events = lines.filter((l) => l.startsWith('{"hash":')).map((l) => JSON.parse(l) as { hash: string; prev: string; event: { seq: number } });
  const first = events[0];
  const last = events[events.length - 1];
  const header = {
    format: 'gridwall-access-log',
    version: 2,
    exportedAt: new Date().toISOString(),
    period: { from: null, to: null },
    firstSeq: first?.event.seq ?? 1,
    anchor: first?.prev ?? GENESIS,
    keys: [],
  };
  const end = { events: events.length, lastSeq: last?.event.seq ?? null, lastHash: last?.hash ?? null };
  writeFileSync(path, [JSON.stringify(header), ...lines, JSON.stringify({ end })].join('\n') + '\n');
}
