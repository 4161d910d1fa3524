import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessEvent as event } from '../support/access-events.ts';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { eventColumns, type AccessEvent } from '../../src/audit/access-event.ts';
import { chainEvents, GENESIS } from '../../src/audit/chain.ts';
import { exportJsonl } from '../../src/audit/export.ts';
import { verifyStore, type StoreVerifyResult } from '../../src/audit/store-verify.ts';
import { verifyBothWays } from '../support/verify-both.ts';
import { verifyExportFile } from '../../src/audit/file-verify.ts';
import { lastSeal, readHead } from '../../src/audit/log-reader.ts';
import { GroupCommitLog, LogHaltedError } from '../../src/audit/log-writer.ts';
import { generateSigningKey, publicKeys, sealDigest, signCheckpoint, signSeal } from '../../src/audit/signing.ts';
import { readWitness, sealLine, WitnessFile } from '../../src/audit/witness.ts';
import type { Db } from '../../src/store/db.ts';
import { TEST_KEY } from '../support/app.ts';
import { STORES } from '../support/stores.ts';

// Issue 15: the log as evidence against the people who run its database. Each attack below was reproduced
// against the previous writer and verifier (which trusted the head, the keys table and the archive records);
// each test fails on that code and passes on this.

const KEYS = publicKeys([TEST_KEY.publicKeyPem]);
const ATTACKER = generateSigningKey();

/** The made-up event of the issue: demo-retail *served* holder name and phone of an R0002 customer. */
function framing(i: number): AccessEvent {
  return event(i, {
    requestId: 'req-framed',
    personId: 'p-demo-retail',
    userId: 'demo-retail',
    principalClass: 'affiliated_retail',
    side: 'retail',
    organizationId: 'org-a0001',
    purpose: 'own_customer_service',
    records: [
      { supplyPointId: '0200000000000000000042', relation: 'other', retailerCode: 'R0002', lastResort: false, shown: ['holder_name', 'phone'], masked: {} },
    ],
  });
}

/** Writes events `from`… through `log`, five per group commit. */
async function write(log: GroupCommitLog, from: number, n: number): Promise<void> {
  for (let k = 0; k < n; k += 5) await Promise.all(Array.from({ length: Math.min(5, n - k) }, (_, j) => log.append(event(from + k + j))));
}

/** Runs SQL with every trigger off, as only a database superuser could: the attacker's position. */
async function asSuperuser(db: Db, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(sql, params);
  });
}

const ROW = (c: ReturnType<typeof chainEvents>[number]) => ({ seq: c.seq, prev_hash: c.prevHash, hash: c.hash, ...eventColumns(c.event) });

/** Inserts an event row straight into the table (triggers off when `superuser`), bypassing the append path. */
async function insertRow(db: Db, c: ReturnType<typeof chainEvents>[number], superuser: boolean): Promise<void> {
  const r = ROW(c);
  const cols = Object.keys(r).join(', ');
  const sql = `INSERT INTO access_log (${cols}) SELECT ${cols} FROM jsonb_populate_record(NULL::access_log, $1::jsonb)`;
  if (superuser) await asSuperuser(db, sql, [JSON.stringify(r)]);
  else await db.query(sql, [JSON.stringify(r)]);
}

/**
 * Appends events through the database's own append path — all the application's role may do — chained
 * correctly (the chain function is public) but sealed with a key that is not the writer's.
 */
async function appendAsAppRole(db: Db, events: AccessEvent[], sealKey = ATTACKER): Promise<{ first: number; last: number }> {
  const head = await readHead(db);
  const chained = chainEvents(events, head.seq + 1, head.hash);
  const last = chained[chained.length - 1]!;
  // The seal chain is public too: the made-up seal names the last real one correctly; only its signature is wrong.
  const before = await lastSeal(db);
  const seal = signSeal(
    sealKey,
    { firstSeq: head.seq + 1, seq: last.seq, prevHash: head.hash, hash: last.hash, prevSeal: before === null ? GENESIS : sealDigest(before) },
    new Date(),
  );
  await db.query('SELECT * FROM access_log_append($1, $2, $3::jsonb, $4::jsonb)', [
    head.seq,
    head.hash,
    JSON.stringify(chained.map(ROW)),
    JSON.stringify(seal),
  ]);
  return { first: head.seq + 1, last: last.seq };
}

for (const store of STORES) {
  describe(`the log against its own operators on ${store.name}`, () => {
    let db: Db;
    let owner: Db;
    let dispose: () => Promise<void>;
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'gridwall-attacks-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    after(async () => dispose?.());

    /** A fresh store: `db` as the application connects, `owner` as the tables' owner (the superuser here). */
    async function fresh(): Promise<void> {
      if (dispose !== undefined) await dispose();
      const opened = (await store.open()) as { db: Db; owner?: Db; dispose: () => Promise<void> };
      db = opened.db;
      owner = opened.owner ?? opened.db;
      dispose = opened.dispose;
    }

    test('a made-up event appended through the append path: the running writer stops the line instead of sealing over it; verify names it', async () => {
      await fresh();
      const halts: string[] = [];
      const log = new GroupCommitLog(db, { key: TEST_KEY, onHalt: (r) => halts.push(r) });
      await write(log, 0, 10);
      const { first } = await appendAsAppRole(db, [framing(100)]);
      // The next two reads: refused (no data without its event), and the writer says why, once.
      await assert.rejects(
        log.append(event(10)),
        (e: Error) => e.name === 'Error' && /could not be written/.test(e.message) && e.cause instanceof LogHaltedError,
      );
      await assert.rejects(log.append(event(11)), /could not be written/);
      assert.equal(halts.length, 1);
      assert.match(halts[0] ?? '', new RegExp(`events ${first}–${first}.*cannot be accounted for.*bad_signature`));
      assert.match(log.halted ?? '', /cannot be accounted for/);
      // Nothing was linked after the made-up event.
      assert.equal((await readHead(db)).seq, first);
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.equal(v.ok, false);
      assert.deepEqual([v.firstBreak?.kind, v.firstBreak?.seq], ['bad_signature', first]);
      // A writer started afterwards (a restart) refuses too.
      const restarted = new GroupCommitLog(db, { key: TEST_KEY });
      await assert.rejects(restarted.open(), LogHaltedError);
    });

    test('a made-up event inserted by the superuser with the head moved onto it: unsealed, and the writer stops', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 10);
      const head = await readHead(db);
      const [fake] = chainEvents([framing(100)], head.seq + 1, head.hash);
      await insertRow(owner, fake!, true);
      await asSuperuser(owner, 'UPDATE access_log_head SET seq = $1, hash = $2 WHERE id = 1', [fake!.seq, fake!.hash]);
      await assert.rejects(log.append(event(10)), /could not be written/);
      assert.match(log.halted ?? '', /unsealed at event 11/);
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'unsealed', 11]);
    });

    test('the head rewound: the writer refuses to fork the chain; verify says the head was moved back', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 20);
      const back = (await db.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = 12')).rows[0]!.hash;
      await asSuperuser(owner, 'UPDATE access_log_head SET seq = 12, hash = $1 WHERE id = 1', [back]);
      await assert.rejects(log.append(event(20)), /could not be written/);
      assert.match(log.halted ?? '', /went back to event 12/);
      const seqs = (await db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM access_log')).rows[0];
      assert.deepEqual(seqs, { n: 20, d: 20 }, 'no second event with the same sequence number');
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'unsealed', 13]);
      assert.match(v.firstBreak?.detail ?? '', /head was moved back/);
      // The append path itself refuses to link after a head that is not the last sealed event.
      await assert.rejects(appendAsAppRole(db, [event(99)], TEST_KEY), /not the last sealed event/);
    });

    test('a forged archive record does not hide deleted events, with or without its file', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 40);
      const at30 = (await db.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = 30')).rows[0]!.hash;
      await asSuperuser(owner, 'DELETE FROM access_log WHERE seq <= 30');
      const record = `INSERT INTO access_log_archives (partition_name, first_seq, last_seq, first_prev_hash, last_hash, events, file, file_sha256, archived_at)
                      VALUES ('access_log_y2026m10', 1, 30, $1, $2, 30, $3, $4, now())`;
      await asSuperuser(owner, record, [GENESIS, at30, join(dir, 'nowhere.jsonl'), '0'.repeat(64)]);
      let v = await verifyBothWays(db, { keys: KEYS });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'archive', 1]);
      assert.match(v.firstBreak?.detail ?? '', /not there/);
      // A file is put there, with its SHA-256 recorded: it does not verify with the trusted key.
      const file = join(dir, 'forged.jsonl');
      writeFileSync(file, '{"format":"gridwall-access-log","version":2}\n');
      const sha = (await import('node:crypto')).createHash('sha256').update(readFileSync(file)).digest('hex');
      await asSuperuser(owner, 'DELETE FROM access_log_archives');
      await asSuperuser(owner, record, [GENESIS, at30, file, sha]);
      v = await verifyBothWays(db, { keys: KEYS });
      assert.deepEqual([v.ok, v.firstBreak?.kind], [false, 'archive']);
      assert.match(v.firstBreak?.detail ?? '', /not an export|does not verify/);
    });

    test('a forged archive record over a real export does not hide edits to the rows still in the table', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 40);
      // A genuine export of events 1–30 (anyone with read access can make one)…
      const file = join(dir, `real-${store.name}.jsonl`);
      const out = createWriteStream(file);
      const exported = await exportJsonl(db, out, { from: null, to: null }, new Date(), { fromSeq: 1, toSeq: 30 });
      out.end();
      await finished(out);
      assert.equal(exported.lastSeq, 30);
      // …then event 5 is changed in the table, and a record claims 1–30 were archived to that file.
      await asSuperuser(owner, `UPDATE access_log SET purpose = 'switching_support' WHERE seq = 5`);
      const sha = (await import('node:crypto')).createHash('sha256').update(readFileSync(file)).digest('hex');
      await asSuperuser(
        owner,
        `INSERT INTO access_log_archives (partition_name, first_seq, last_seq, first_prev_hash, last_hash, events, file, file_sha256, archived_at)
                                VALUES ('access_log_y2026m11', 1, 30, $1, $2, 30, $3, $4, now())`,
        [GENESIS, exported.lastHash, file, sha],
      );
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'archive', 5]);
      assert.match(v.firstBreak?.detail ?? '', /still in the live table, is not the event archived/);
    });

    test('verifying while the writer commits: no false alarm', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 20);
      let done = false;
      const more = (async () => {
        for (let i = 20; i < 220; i += 5) await write(log, i, 5);
        done = true;
      })();
      const results: StoreVerifyResult[] = [];
      while (!done) {
        // Each way of reading by turns (the two would see different heads, so they are not compared here).
        results.push(await verifyStore(db, { keys: KEYS, stream: results.length % 2 === 1 }));
        await new Promise((r) => setTimeout(r, 5)); // as separate requests would: the writer gets its turn
      }
      await more;
      assert.ok(results.length >= 2, 'verified more than once while the writer committed');
      assert.deepEqual(
        results.filter((r) => r.firstBreak !== null).map((r) => r.firstBreak),
        [],
      );
      assert.ok(new Set(results.map((r) => r.lastSeq)).size >= 2, 'events were committed between verifications');
    });

    test('a chain re-hashed and re-sealed with a key planted in the database: only trusted keys count', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 10);
      // The superuser rewrites event 3, re-chains everything after it and re-seals it all with their own key,
      // registered in the log's key table.
      const { rows } = await db.query<{ seq: string }>('SELECT seq::text AS seq FROM access_log ORDER BY seq');
      const events = rows.map((r) => Number(r.seq)).map((s) => (s === 3 ? framing(2) : event(s - 1)));
      const chained = chainEvents(events, 1, GENESIS);
      await asSuperuser(owner, 'DELETE FROM access_log');
      await asSuperuser(owner, 'DELETE FROM access_log_seals');
      for (const c of chained) await insertRow(owner, c, true);
      const last = chained[chained.length - 1]!;
      const seal = signSeal(ATTACKER, { firstSeq: 1, seq: last.seq, prevHash: GENESIS, hash: last.hash, prevSeal: GENESIS }, new Date());
      await asSuperuser(
        owner,
        'INSERT INTO access_log_seals (seq, first_seq, prev_hash, hash, prev_seal, signed_at, key_id, signature) VALUES ($1, 1, $2, $3, $2, $4, $5, $6)',
        [last.seq, GENESIS, last.hash, seal.signedAt, seal.keyId, seal.signature],
      );
      await asSuperuser(owner, 'UPDATE access_log_head SET seq = $1, hash = $2', [last.seq, last.hash]);
      await owner.query('SELECT access_log_add_key($1, $2)', [ATTACKER.keyId, ATTACKER.publicKeyPem]);
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'bad_signature', 10]);
      assert.match(v.firstBreak?.detail ?? '', /not trusted/);
      // With the attacker's key trusted (what trusting the database's key table amounted to) it would pass.
      assert.equal((await verifyBothWays(db, { keys: publicKeys([ATTACKER.publicKeyPem]) })).ok, true);
    });

    test('an unusable key in the key table: refused on the way in; planted anyway, it is reported, never a crash', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 5);
      // Keys after the first are registered by the owner (the application's role may not call it at all).
      await assert.rejects(owner.query("SELECT access_log_add_key('evil', 'x')"), /not a PEM public key/);
      await assert.rejects(owner.query('SELECT access_log_add_key($1, $2)', ['0123456789abcdef', ATTACKER.publicKeyPem]), /key id is not the key's/);
      await asSuperuser(owner, "INSERT INTO access_log_keys (key_id, public_key) VALUES ('evil', 'x')");
      assert.equal((await verifyBothWays(db, { keys: KEYS })).ok, true);
      const file = join(dir, `keys-${store.name}.jsonl`);
      const out = createWriteStream(file);
      await exportJsonl(db, out, { from: null, to: null }, new Date());
      out.end();
      await finished(out);
      const fromHeader = await verifyExportFile(file);
      assert.equal(fromHeader.signaturesCheckedWith, 'keys_in_file');
      assert.equal(fromHeader.rejectedKeys.length, 1);
      assert.equal(fromHeader.ok, true);
    });

    test('the tail cut with its seals and the head rewound: the witness shows it, to verify and to a restarting writer', async () => {
      await fresh();
      const witnessPath = join(dir, `witness-${store.name}.jsonl`);
      rmSync(witnessPath, { force: true });
      const log = new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(witnessPath), checkpointEvery: 10 });
      await write(log, 0, 30);
      await log.close();
      const published = readWitness(witnessPath);
      assert.ok(published.length >= 2, 'seals were published as the writer went');
      assert.equal(published[published.length - 1]?.seq, 30, 'the last seal is published at close');
      // Cut events 21–30 with their seals and rewind the head: the stored log is a valid prefix.
      await asSuperuser(owner, 'DELETE FROM access_log WHERE seq > 20');
      await asSuperuser(owner, 'DELETE FROM access_log_seals WHERE seq > 20');
      const at20 = (await db.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = 20')).rows[0]!.hash;
      await asSuperuser(owner, 'UPDATE access_log_head SET seq = 20, hash = $1', [at20]);
      assert.equal((await verifyBothWays(db, { keys: KEYS })).ok, true, 'without the witness the prefix verifies');
      const v = await verifyBothWays(db, { keys: KEYS, witness: published });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'truncated', 21]);
      const halts: string[] = [];
      const restarted = new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(witnessPath), onHalt: (r) => halts.push(r) });
      await assert.rejects(restarted.open(), LogHaltedError);
      assert.match(halts[0] ?? '', /does not reach it/);
    });

    test('a witness that cannot be read stops the line; one that cannot be written is reported and the log goes on', async () => {
      await fresh();
      const garbled = join(dir, `garbled-${store.name}.jsonl`);
      writeFileSync(garbled, '{"seal":{"seq":"not a number"}}\n');
      const halts: string[] = [];
      await assert.rejects(new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(garbled), onHalt: (r) => halts.push(r) }).open(), LogHaltedError);
      assert.match(halts[0] ?? '', /cannot be read: .*not a seal line/);
      // A witness under a path whose parent is a file: publishing fails, the reads go on, the failure is visible.
      const notADir = join(dir, `not-a-dir-${store.name}`);
      writeFileSync(notADir, 'x');
      const alerts: string[] = [];
      const log = new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(join(notADir, 'witness.jsonl')), onWitnessError: (m) => alerts.push(m) });
      await write(log, 0, 5);
      assert.equal(log.halted, null);
      assert.match(log.witnessError ?? '', /could not be published to the witness/);
      assert.equal(alerts.length, 1);
    });

    test('a witness line torn by a crash is not a seal: the last complete line is', async () => {
      await fresh();
      const path = join(dir, `torn-${store.name}.jsonl`);
      rmSync(path, { force: true });
      const log = new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(path) });
      await write(log, 0, 5);
      await log.close();
      (await import('node:fs')).appendFileSync(path, '{"seal":{"firstSeq":6,"seq"');
      const again = new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(path) });
      await again.open();
      assert.equal(again.halted, null);
      await write(again, 5, 5);
      assert.equal(again.halted, null);
    });

    test('two writers (two server processes) append in turn, account for each other, and stop together without a clash', async () => {
      await fresh();
      const a = new GroupCommitLog(db, { key: TEST_KEY });
      const b = new GroupCommitLog(db, { key: TEST_KEY });
      await Promise.all([write(a, 0, 30), write(b, 100, 30)]);
      await Promise.all([a.close(), b.close()]);
      assert.equal(a.halted, null);
      assert.equal(b.halted, null);
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.equal(v.ok, true, JSON.stringify(v.firstBreak));
      assert.equal(v.events, 60);
      // Each batch is its writer's: seals tile the chain.
      assert.ok(v.seals >= 12);
    });

    test('a writer that starts while another commits, between its reads of the store, is not misled into a halt', async () => {
      // Found by CI: the starting writer read the head, the other committed, then the seals — a head at its
      // start with seals beside it looked like a rewound log. Here the other writer commits right after the
      // starter's first read of the head, every time.
      await fresh();
      const a = new GroupCommitLog(db, { key: TEST_KEY });
      for (const start of [0, 10]) {
        let interleaved = 0;
        const between: Db = Object.create(db, {
          query: {
            value: async (sql: Parameters<Db['query']>[0], params?: readonly unknown[]) => {
              const r = await db.query(sql, params);
              const text = typeof sql === 'string' ? sql : sql.text;
              if (interleaved === 0 && /access_log_head/.test(text) && !/access_log_append/.test(text)) {
                interleaved++;
                await write(a, 100 + start, 5);
              }
              return r as never;
            },
          },
        });
        const halts: string[] = [];
        const b = new GroupCommitLog(between, { key: TEST_KEY, onHalt: (h) => halts.push(h) });
        await write(b, start, 10);
        await b.close();
        assert.equal(interleaved, 1, "the other writer committed between the starter's reads");
        assert.deepEqual(halts, []);
      }
      await a.close();
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.equal(v.ok, true, JSON.stringify(v.firstBreak));
      assert.equal(v.events, 30);
    });

    test('seals removed to pass a rewritten log off as one from before seals: the writer signs nothing', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 10);
      // The superuser changes event 3, re-chains the rest, removes every seal and moves the head.
      const events = Array.from({ length: 10 }, (_, i) => (i === 2 ? framing(2) : event(i)));
      const chained = chainEvents(events, 1, GENESIS);
      await asSuperuser(owner, 'DELETE FROM access_log');
      await asSuperuser(owner, 'DELETE FROM access_log_seals');
      for (const c of chained) await insertRow(owner, c, true);
      await asSuperuser(owner, 'UPDATE access_log_head SET seq = $1, hash = $2', [10, chained[9]!.hash]);
      const halts: string[] = [];
      const restarted = new GroupCommitLog(db, { key: TEST_KEY, onHalt: (r) => halts.push(r) });
      await assert.rejects(restarted.open(), LogHaltedError);
      assert.match(halts[0] ?? '', /no signed checkpoint names its head/);
      const seals = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log_seals')).rows[0]?.n;
      assert.equal(seals, 0, 'no seal was signed over the rewritten log');
      assert.equal((await verifyBothWays(db, { keys: KEYS })).firstBreak?.kind, 'unsealed');
      // With a witness that knows of seals, the writer says so before anything else.
      const witnessPath = join(dir, `removed-${store.name}.jsonl`);
      writeFileSync(
        witnessPath,
        `${sealLine(signSeal(TEST_KEY, { firstSeq: 1, seq: 5, prevHash: GENESIS, hash: chained[4]!.hash, prevSeal: GENESIS }, new Date()))}\n`,
      );
      const withWitness: string[] = [];
      await assert.rejects(
        new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(witnessPath), onHalt: (r) => withWitness.push(r) }).open(),
        LogHaltedError,
      );
      assert.match(withWitness[0] ?? '', /seals were removed from the log/);
    });

    test('a log written before seals is verified whole and sealed once by the first writer that opens it', async () => {
      await fresh();
      // Write a version-1 log as the owner: events only, the head moved, no seals.
      const chained = chainEvents(
        Array.from({ length: 7 }, (_, i) => event(i)),
        1,
        GENESIS,
      );
      await owner.query('SELECT access_log_ensure_partition($1)', [chained[0]!.event.occurredAt]);
      for (const c of chained) await insertRow(owner, c, false);
      await owner.query('UPDATE access_log_head SET seq = 7, hash = $1', [chained[6]!.hash]);
      // The old writer signed a checkpoint at every clean stop.
      const cp = signCheckpoint(TEST_KEY, 7, chained[6]!.hash, new Date('2026-11-02T02:00:00Z'));
      await owner.query('SELECT access_log_add_key($1, $2)', [TEST_KEY.keyId, TEST_KEY.publicKeyPem]);
      await owner.query('INSERT INTO access_log_checkpoints (seq, hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)', [
        cp.seq,
        cp.hash,
        cp.signedAt,
        cp.keyId,
        cp.signature,
      ]);
      assert.equal((await verifyBothWays(db, { keys: KEYS })).firstBreak?.kind, 'unsealed');
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 7, 3);
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.equal(v.ok, true, JSON.stringify(v.firstBreak));
      assert.equal(v.seals, 2);
      const seals = (
        await db.query<{ first_seq: string; seq: string }>(
          'SELECT first_seq::text AS first_seq, seq::text AS seq FROM access_log_seals ORDER BY access_log_seals.seq',
        )
      ).rows;
      assert.deepEqual(
        seals.map((s) => [Number(s.first_seq), Number(s.seq)]),
        [
          [1, 7],
          [8, 10],
        ],
      );
    });
  });
}
