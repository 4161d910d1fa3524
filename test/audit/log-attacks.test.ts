import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessEvent as event } from '../support/access-events.ts';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { archivePartitions } from '../../src/audit/archive.ts';
import { canonicalEvent, chainEvents, eventLine, GENESIS, LINE, linkHash } from '../../src/audit/chain.ts';
import { exportJsonl } from '../../src/audit/export.ts';
import { verifyStore, type StoreVerifyResult } from '../../src/audit/store-verify.ts';
import { verifyBothWays } from '../support/verify-both.ts';
import { verifyExportFile } from '../../src/audit/file-verify.ts';
import { lastSeal, readHead, readLinks } from '../../src/audit/log-reader.ts';
import { GroupCommitLog, LogHaltedError } from '../../src/audit/log-writer.ts';
import { generateSigningKey, publicKeys, sealDigest, signCheckpoint, signSeal, type Checkpoint, type Seal } from '../../src/audit/signing.ts';
import { readWitness, sealLine, WitnessFile } from '../../src/audit/witness.ts';
import type { ChainBreak } from '../../src/audit/chain-verify.ts';
import { feed, FeedStopped, type FeedLine } from '../../src/audit/feed.ts';
import type { Db } from '../../src/store/db.ts';
import { TEST_KEY } from '../support/app.ts';
import { STORES } from '../support/stores.ts';
import { asSuperuser, eventRow, feedAsExport, insertRow, rehashAndReseal } from '../support/log-tamper.ts';

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
    JSON.stringify(chained.map(eventRow)),
    JSON.stringify(seal),
  ]);
  return { first: head.seq + 1, last: last.seq };
}

/** Runs a feed to its end, keeping the lines forwarded and the break it stopped at (if it stopped). */
async function drain(lines: AsyncIterable<FeedLine>, seen: FeedLine[] = []): Promise<{ lines: FeedLine[]; stopped: ChainBreak | null }> {
  try {
    for await (const l of lines) seen.push(l);
    return { lines: seen, stopped: null };
  } catch (e) {
    if (e instanceof FeedStopped) return { lines: seen, stopped: e.brk };
    throw e;
  }
}

/** The lines of an export between its header and its closing line: what a feed over the same events forwards. */
async function exportedLines(db: Db, fromSeq: number, toSeq: number, path: string): Promise<string[]> {
  const out = createWriteStream(path);
  await exportJsonl(db, out, { from: null, to: null }, new Date(), { fromSeq, toSeq });
  out.end();
  await finished(out);
  return readFileSync(path, 'utf8').trim().split('\n').slice(1, -1);
}

/** The feed's lines as an export file, verified with the trusted key: what a SIEM's copy proves. */
async function verifyAsExport(lines: readonly FeedLine[], path: string): Promise<Awaited<ReturnType<typeof verifyExportFile>>> {
  feedAsExport(
    lines.map((l) => l.line),
    path,
  );
  return verifyExportFile(path, KEYS);
}

/** Waits until `ok` holds (polling), or aborts `stop` (the feed being waited on) and fails after `ms`. */
async function until(ok: () => boolean, what: string, stop: AbortController, ms = 10_000): Promise<void> {
  for (const start = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() - start > ms) {
      stop.abort();
      assert.fail(`timed out waiting for ${what}`);
    }
}

/** `p`, or — when it has not settled within `ms` — `stop` aborted and a failure naming `what`. */
async function within<T>(p: Promise<T>, what: string, stop: AbortController, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const framedLine = (l: FeedLine) => l.line.includes('req-framed');

/** An instant in March 2020: a month past the five years kept, so it may be archived. */
const march2020 = (i: number) => new Date(Date.UTC(2020, 2, 10, 3, 0, i));

/**
 * Rewrites an archive file as the holder of the signing key could: event `seq` replaced by `canonical`, every
 * event after it re-linked, every checkpoint and seal re-signed with the real key at the time it bore (the
 * chain of seals recomputed), the closing line rewritten — a file that verifies on its own with the trusted
 * key. Returns its new last hash and seals.
 */
function rewriteArchive(file: string, seq: number, canonical: string): { lastHash: string; seals: Seal[] } {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  let hash = (JSON.parse(lines[0]!) as { anchor: string }).anchor;
  let sealedTo = hash;
  let prevSeal: string | null = null;
  let events = 0;
  let lastSeq: number | null = null;
  const seals: Seal[] = [];
  const out = lines.map((l) => {
    if (l.startsWith('{"hash"')) {
      const at = (JSON.parse(l) as { event: { seq: number } }).event.seq;
      const text = at === seq ? canonical : l.slice(LINE.eventStart, -1);
      const h = linkHash(hash, text);
      const line = eventLine(h, hash, text);
      hash = h;
      events++;
      lastSeq = at;
      return line;
    }
    if (l.startsWith('{"checkpoint"')) {
      const c = (JSON.parse(l) as { checkpoint: Checkpoint }).checkpoint;
      return JSON.stringify({ checkpoint: signCheckpoint(TEST_KEY, c.seq, hash, new Date(c.signedAt)) });
    }
    if (l.startsWith('{"seal"')) {
      const s = (JSON.parse(l) as { seal: Seal }).seal;
      const again = signSeal(TEST_KEY, { firstSeq: s.firstSeq, seq: s.seq, prevHash: sealedTo, hash, prevSeal: prevSeal ?? s.prevSeal }, new Date(s.signedAt));
      prevSeal = sealDigest(again);
      sealedTo = hash;
      seals.push(again);
      return sealLine(again);
    }
    if (l.startsWith('{"end"')) return JSON.stringify({ end: { events, lastSeq, lastHash: hash } });
    return l;
  });
  writeFileSync(file, `${out.join('\n')}\n`);
  return { lastHash: hash, seals };
}

/**
 * What else the superuser changes so that nothing in the database contradicts a rewritten archive: its
 * record (the file's SHA-256 and last hash), the head's hash, and the stored seals of the archived events.
 */
async function passOffArchive(owner: Db, file: string, rewritten: { lastHash: string; seals: readonly Seal[] }): Promise<void> {
  const sha = (await import('node:crypto')).createHash('sha256').update(readFileSync(file)).digest('hex');
  await asSuperuser(owner, 'UPDATE access_log_archives SET file_sha256 = $1, last_hash = $2 WHERE file = $3', [sha, rewritten.lastHash, file]);
  await asSuperuser(owner, 'UPDATE access_log_head SET hash = $1 WHERE id = 1', [rewritten.lastHash]);
  await asSuperuser(owner, 'DELETE FROM access_log_seals WHERE seq <= $1', [rewritten.seals.at(-1)?.seq ?? 0]);
  for (const s of rewritten.seals)
    await asSuperuser(
      owner,
      'INSERT INTO access_log_seals (seq, first_seq, prev_hash, hash, prev_seal, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [s.seq, s.firstSeq, s.prevHash, s.hash, s.prevSeal, s.signedAt, s.keyId, s.signature],
    );
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

    /**
     * A version-1 log of seven events, written as the owner: events only, the head moved, no seals — and the
     * checkpoint the old writer signed at every clean stop.
     */
    async function versionOneLog(occurredAt?: (i: number) => Date, checkpointAt = new Date('2026-11-02T02:00:00Z')): Promise<ReturnType<typeof chainEvents>> {
      const chained = chainEvents(
        Array.from({ length: 7 }, (_, i) => event(i, occurredAt === undefined ? {} : { occurredAt: occurredAt(i) })),
        1,
        GENESIS,
      );
      await owner.query('SELECT access_log_ensure_partition($1)', [chained[0]!.event.occurredAt]);
      for (const c of chained) await insertRow(owner, c, false);
      await owner.query('UPDATE access_log_head SET seq = 7, hash = $1', [chained[6]!.hash]);
      const cp = signCheckpoint(TEST_KEY, 7, chained[6]!.hash, checkpointAt);
      await owner.query('SELECT access_log_add_key($1, $2)', [TEST_KEY.keyId, TEST_KEY.publicKeyPem]);
      await owner.query('INSERT INTO access_log_checkpoints (seq, hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)', [
        cp.seq,
        cp.hash,
        cp.signedAt,
        cp.keyId,
        cp.signature,
      ]);
      return chained;
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

    test('the head rewound with its seals removed and its events left: no writer numbers on from it (no sequence number twice)', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 20);
      await log.close();
      // The head and the last seal agree at event 10, as if nothing followed; events 11–20 still stand.
      const at10 = (await db.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = 10')).rows[0]!.hash;
      await asSuperuser(owner, 'DELETE FROM access_log_seals WHERE seq > 10');
      await asSuperuser(owner, 'UPDATE access_log_head SET seq = 10, hash = $1 WHERE id = 1', [at10]);
      // A writer starting without a witness (nothing outside the database to hold it to) refuses at start.
      const halts: string[] = [];
      const restarted = new GroupCommitLog(db, { key: TEST_KEY, onHalt: (r) => halts.push(r) });
      await assert.rejects(restarted.open(), LogHaltedError);
      assert.match(halts[0] ?? '', /events are stored past the chain's head \(event 10\) up to event 20/);
      // The append path refuses on its own, whoever calls it with a well-sealed batch.
      await assert.rejects(appendAsAppRole(db, [event(99)], TEST_KEY), /events are stored past the head \(event 10\)/);
      const seqs = (await db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM access_log')).rows[0];
      assert.deepEqual(seqs, { n: 20, d: 20 }, 'no second event with the same sequence number');
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.equal(v.ok, false);
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

    test('an archived month rewritten and re-sealed with the signing key, its SHA-256 re-recorded: the witness shows it (without the witness it verifies)', async () => {
      await fresh();
      const witnessPath = join(dir, `archived-witness-${store.name}.jsonl`);
      rmSync(witnessPath, { force: true });
      const log = new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(witnessPath), checkpointEvery: 10 });
      // 30 events in March 2020, five per group commit; the month is then archived, and with it the whole log.
      for (let k = 0; k < 30; k += 5) await Promise.all(Array.from({ length: 5 }, (_, j) => log.append(event(k + j, { occurredAt: march2020(k + j) }))));
      await log.close();
      const published = readWitness(witnessPath);
      assert.ok(published.length >= 2, 'seals were published as the writer went');
      const shows = published.find((s) => s.seq >= 5)!.seq;
      const adir = join(dir, `archived-${store.name}`);
      mkdirSync(adir);
      const done = await archivePartitions(owner, { before: '2020-04', dir: adir, now: new Date('2026-11-24T12:00:00+09:00'), retentionYears: 5, keys: KEYS });
      assert.deepEqual(
        done.map((a) => [a.month, a.firstSeq, a.lastSeq]),
        [['2020-03', 1, 30]],
      );
      const before = await verifyBothWays(db, { keys: KEYS, witness: published });
      assert.equal(before.ok, true, JSON.stringify(before.firstBreak));
      assert.equal(before.witnessChecked, published.length, "the witness's seals for archived events are held against the archive");
      // The superuser, holding the signing key, turns event 5 into the framing event in the archive file,
      // re-links and re-seals it, and makes the database agree with the file.
      const file = done[0]!.file;
      await passOffArchive(owner, file, rewriteArchive(file, 5, canonicalEvent(5, { ...framing(4), occurredAt: march2020(4) })));
      assert.equal((await verifyExportFile(file, KEYS)).ok, true, 'the rewritten archive verifies on its own with the trusted key');
      const without = await verifyBothWays(db, { keys: KEYS });
      assert.equal(without.ok, true, 'without the witness nothing tells: the key holder rewrote it');
      const v = await verifyBothWays(db, { keys: KEYS, witness: published });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'checkpoint_mismatch', shows]);
      assert.match(v.firstBreak?.detail ?? '', new RegExp(`archive access_log_y2020m03 .*witness's seal for event ${shows}, .*names another hash`));
    });

    test('an archived month rewritten and re-sealed with the signing key: a checkpoint the database keeps for an archived event still counts (unless the key holder re-signs it too: then only the witness shows it)', async () => {
      await fresh();
      // A version-1 log in March 2020 with its checkpoint at event 7, sealed once by the first writer that opens it.
      await versionOneLog(march2020, new Date('2020-03-31T02:00:00Z'));
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await log.open();
      await log.close();
      const adir = join(dir, `archived-v1-${store.name}`);
      mkdirSync(adir);
      const done = await archivePartitions(owner, { before: '2020-04', dir: adir, now: new Date('2026-11-24T12:00:00+09:00'), retentionYears: 5, keys: KEYS });
      assert.deepEqual(
        done.map((a) => [a.firstSeq, a.lastSeq]),
        [[1, 7]],
      );
      assert.equal((await verifyBothWays(db, { keys: KEYS })).ok, true);
      // Event 3 rewritten in the file, its checkpoint line and seal re-signed; the database's checkpoint is missed.
      const file = done[0]!.file;
      await passOffArchive(owner, file, rewriteArchive(file, 3, canonicalEvent(3, { ...framing(2), occurredAt: march2020(2) })));
      assert.equal((await verifyExportFile(file, KEYS)).ok, true, 'the rewritten archive verifies on its own with the trusted key');
      const v = await verifyBothWays(db, { keys: KEYS });
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'checkpoint_mismatch', 7]);
      assert.match(v.firstBreak?.detail ?? '', /archive access_log_y2020m03 .*checkpoint signed 2020-03-31T02:00:00.000Z for event 7, kept in the database/);
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
      assert.equal(await rehashAndReseal(owner, ATTACKER, 3, () => framing(2)), 10);
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

    test('a witness several processes publish to: the newest seal is the highest sequence number, not the last line', async () => {
      await fresh();
      const path = join(dir, `shared-${store.name}.jsonl`);
      rmSync(path, { force: true });
      const log = new GroupCommitLog(db, { key: TEST_KEY, witness: new WitnessFile(path), checkpointEvery: 5 });
      await write(log, 0, 20);
      await log.close();
      const seals = readWitness(path);
      assert.ok(seals.length >= 3, 'seals were published as the writer went');
      const newest = Math.max(...seals.map((s) => s.seq));
      // Another process's older seal landed after the newest one.
      const reordered = join(dir, `reordered-${store.name}.jsonl`);
      writeFileSync(
        reordered,
        [...seals]
          .reverse()
          .map((s) => `${sealLine(s)}\n`)
          .join(''),
      );
      assert.notEqual(readWitness(reordered).at(-1)?.seq, newest);
      assert.equal(new WitnessFile(reordered).last()?.seq, newest);
      // One process crashed mid-line and the next one's seal was glued to the torn line: the seals around it count.
      const glued = join(dir, `glued-${store.name}.jsonl`);
      const [a, b, ...rest] = seals.map(sealLine);
      writeFileSync(glued, `${a}\n${b!.slice(0, 40)}${rest.join('\n')}\n`);
      assert.equal(new WitnessFile(glued).last()?.seq, Math.max(seals[0]!.seq, ...seals.slice(3).map((s) => s.seq)));
      writeFileSync(glued, '{"seal":{"seq":"not a number"}}\n');
      assert.throws(() => new WitnessFile(glued).last(), /not a seal line/, 'a tail with no seal at all is not passed over');
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
      await versionOneLog();
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
    test('the SIEM feed forwards an untouched log whole, each batch after its seal verified; its lines verify as an export', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 23);
      const seals = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log_seals')).rows[0]?.n ?? 0;
      assert.ok(seals >= 5, 'several batches');
      const whole = await drain(feed(db, { fromSeq: 1, follow: false, keys: KEYS }));
      assert.equal(whole.stopped, null);
      // The very lines an export of the same events holds (v2: events and seals, in chain order).
      assert.deepEqual(
        whole.lines.map((l) => l.line),
        await exportedLines(db, 1, 23, join(dir, `feed-export-${store.name}.jsonl`)),
      );
      assert.equal(whole.lines.length, 23 + seals);
      const v = await verifyAsExport(whole.lines, join(dir, `feed-${store.name}.jsonl`));
      assert.deepEqual([v.ok, v.events, v.seals, v.signaturesCheckedWith], [true, 23, seals, 'given_keys'], JSON.stringify(v.firstBreak));
      // Batches larger than what the feed holds in memory are checked, then read again and forwarded in steps.
      assert.deepEqual(await drain(feed(db, { fromSeq: 1, follow: false, keys: KEYS, holdLimit: 2 })), whole);
      // From an event inside a batch: checked from the batch's start (its seal vouches for where it links), forwarded from there.
      const part = await drain(feed(db, { fromSeq: 8, follow: false, keys: KEYS }));
      assert.equal(part.stopped, null);
      assert.deepEqual(
        part.lines.map((l) => l.line),
        await exportedLines(db, 8, 23, join(dir, `feed-export8-${store.name}.jsonl`)),
      );
      assert.equal((await verifyAsExport(part.lines, join(dir, `feed8-${store.name}.jsonl`))).ok, true);
      // New events only, by default: nothing yet.
      assert.deepEqual((await drain(feed(db, { fromSeq: 24, follow: false, keys: KEYS }))).lines, []);
      // With a key the seals were not signed with, nothing is forwarded.
      const untrusted = await drain(feed(db, { fromSeq: 1, follow: false, keys: publicKeys([ATTACKER.publicKeyPem]) }));
      assert.deepEqual(
        [untrusted.lines.length, untrusted.stopped?.kind, untrusted.stopped?.seq],
        [0, 'bad_signature', whole.lines.find((l) => l.line.startsWith('{"seal":'))?.seq],
      );
    });

    test('a batch too large to hold, changed between the feed’s two readings of it: the changed event is not forwarded', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 10);
      // Held one event at a time, every batch of two or more is read twice; the first of them is changed in between.
      const { rows } = await db.query<{ first: number; last: number }>(
        'SELECT first_seq::int AS first, seq::int AS last FROM access_log_seals WHERE seq > first_seq ORDER BY access_log_seals.seq LIMIT 1',
      );
      const batch = rows[0];
      assert.ok(batch !== undefined && batch.last - batch.first >= 2, `a batch of three or more events: ${JSON.stringify(rows)}`);
      const changedSeq = batch.first + 1;
      const tamper = async () => {
        const events: AccessEvent[] = [];
        let anchor = '';
        for await (const { link, event: e } of readLinks(owner, { fromSeq: changedSeq, toSeq: batch.last })) {
          if (anchor === '') anchor = link.prevHash;
          events.push(link.seq === changedSeq ? { ...e, purpose: 'switching_support' } : e);
        }
        await asSuperuser(owner, 'DELETE FROM access_log WHERE seq >= $1 AND seq <= $2', [changedSeq, batch.last]);
        for (const c of chainEvents(events, changedSeq, anchor)) await insertRow(owner, c, true);
      };
      let reads = 0;
      const racing: Db = Object.create(db, {
        query: {
          value: async (sql: Parameters<Db['query']>[0], params?: readonly unknown[]) => {
            const text = typeof sql === 'string' ? sql : sql.text;
            if (/FROM access_log WHERE \(seq, id\) >/.test(text) && /extract\(epoch/.test(text) && ++reads === 2) await tamper();
            return db.query(sql, params);
          },
        },
      });
      const r = await drain(feed(racing, { fromSeq: 1, follow: false, keys: KEYS, holdLimit: 1 }));
      assert.equal(reads, 2, 'the batch was read a second time');
      assert.deepEqual([r.stopped?.kind, r.stopped?.seq], ['modified', changedSeq]);
      assert.match(r.stopped?.detail ?? '', /changed while the feed read them/);
      assert.equal(r.lines.filter((l) => l.line.includes('switching_support')).length, 0, 'the changed event is not forwarded');
      assert.equal(Math.max(...r.lines.map((l) => l.seq)), changedSeq - 1, 'what came before it in its batch (checked twice) is');
    });

    test('a made-up event the superuser stores past the head, or at the head moved onto it: the feed forwards the writer’s events and stops naming it', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 10);
      const head = await readHead(db);
      const [fake] = chainEvents([framing(100)], head.seq + 1, head.hash);
      await insertRow(owner, fake!, true);
      let r = await drain(feed(db, { fromSeq: 1, follow: false, keys: KEYS }));
      assert.deepEqual([r.stopped?.kind, r.stopped?.seq], ['unsealed', 11]);
      assert.match(r.stopped?.detail ?? '', /stored past the chain's head/);
      assert.equal(r.lines.filter(framedLine).length, 0, 'the made-up event is not forwarded');
      assert.equal(r.lines.filter((l) => l.line.startsWith('{"hash":')).length, 10, "the writer's events are");
      assert.equal(Math.max(...r.lines.map((l) => l.seq)), 10);
      // The feed from the head on (what `audit tail` does by default) stops as well.
      r = await drain(feed(db, { fromSeq: 11, follow: false, keys: KEYS }));
      assert.deepEqual([r.lines, r.stopped?.kind, r.stopped?.seq], [[], 'unsealed', 11]);
      // The head moved onto it: no seal covers it, and the writer seals every batch as it writes it.
      await asSuperuser(owner, 'UPDATE access_log_head SET seq = $1, hash = $2 WHERE id = 1', [fake!.seq, fake!.hash]);
      r = await drain(feed(db, { fromSeq: 1, follow: false, keys: KEYS }));
      assert.deepEqual([r.stopped?.kind, r.stopped?.seq], ['unsealed', 11]);
      assert.match(r.stopped?.detail ?? '', /no seal of the writer covers them/);
      assert.equal(r.lines.filter(framedLine).length, 0);
    });

    test('a following feed: a made-up event appended with a seal the writer did not sign stops it at that seal, unforwarded', async (t) => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 10);
      const seen: FeedLine[] = [];
      const stop = new AbortController();
      t.after(() => stop.abort());
      const following = drain(feed(db, { fromSeq: 1, follow: true, intervalMs: 10, signal: stop.signal, keys: KEYS }), seen);
      await until(() => seen.some((l) => l.seq === 10 && l.line.startsWith('{"seal":')), 'the feed to reach event 10', stop);
      const { first } = await appendAsAppRole(db, [framing(100)]);
      const r = await within(following, 'the feed to stop', stop);
      stop.abort();
      assert.deepEqual([r.stopped?.kind, r.stopped?.seq], ['bad_signature', first]);
      assert.equal(r.lines.filter(framedLine).length, 0);
      assert.equal(Math.max(...r.lines.map((l) => l.seq)), 10);
    });

    test('the feed remembers what it forwarded: the tail cut with its seals and the head rewound stops it', async (t) => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 0, 30);
      const seen: FeedLine[] = [];
      const stop = new AbortController();
      t.after(() => stop.abort());
      const following = drain(feed(db, { fromSeq: 1, follow: true, intervalMs: 10, signal: stop.signal, keys: KEYS }), seen);
      await until(() => seen.some((l) => l.seq === 30 && l.line.startsWith('{"seal":')), 'the feed to reach event 30', stop);
      // In one transaction, so that the feed sees the log before or after, not half-cut.
      await owner.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query('DELETE FROM access_log WHERE seq > 20');
        await tx.query('DELETE FROM access_log_seals WHERE seq > 20');
        await tx.query('UPDATE access_log_head SET seq = 20, hash = (SELECT hash FROM access_log WHERE seq = 20)');
      });
      const r = await within(following, 'the feed to stop', stop);
      stop.abort();
      // The stored log is a valid prefix (verify without a witness says OK); the feed had forwarded past it.
      assert.deepEqual([r.stopped?.kind, r.stopped?.seq], ['truncated', 21]);
      assert.match(r.stopped?.detail ?? '', /head went back to event 20/);
    });

    test('an unsealed tail (a log written before seals) is held back, and forwarded once the writer has sealed it', async (t) => {
      await fresh();
      await versionOneLog();
      const held: [number, number][] = [];
      const once = await drain(feed(db, { fromSeq: 1, follow: false, keys: KEYS, onHeld: (a, b) => held.push([a, b]) }));
      assert.deepEqual([once.lines, once.stopped, held], [[], null, [[1, 7]]]);
      // Following: held until a writer starts (it verifies the old log and seals it once), then forwarded with its seal.
      const seen: FeedLine[] = [];
      const stop = new AbortController();
      t.after(() => stop.abort());
      const following = drain(feed(db, { fromSeq: 1, follow: true, intervalMs: 10, signal: stop.signal, keys: KEYS, holdLimit: 3 }), seen);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(seen.length, 0, 'nothing forwarded before it is sealed');
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, 7, 3);
      await until(() => seen.some((l) => l.seq === 10 && l.line.startsWith('{"seal":')), 'the feed to reach event 10', stop);
      stop.abort();
      const r = await following;
      assert.equal(r.stopped, null);
      assert.deepEqual(
        r.lines.map((l) => l.line),
        await exportedLines(db, 1, 10, join(dir, `feed-v1-${store.name}.jsonl`)).then((ls) => ls.filter((l) => !l.startsWith('{"checkpoint":'))),
      );
      assert.equal((await verifyAsExport(r.lines, join(dir, `feed-v1-check-${store.name}.jsonl`))).ok, true);
    });
  });
}
