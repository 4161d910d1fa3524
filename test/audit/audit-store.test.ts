import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessEvent, loggedRecord } from '../support/access-events.ts';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { exportCsv, exportJsonl } from '../../src/audit/export.ts';
import { verifyBothWays } from '../support/verify-both.ts';
import { verifyExportFile } from '../../src/audit/file-verify.ts';
import { readHead } from '../../src/audit/log-reader.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { archivePartitions } from '../../src/audit/archive.ts';
import { listPartitions } from '../../src/audit/partitions.ts';
import { grantAppRole, LOG_FUNCTIONS } from '../../src/audit/roles.ts';
import { generateSigningKey, publicKeys, SigningKeyError } from '../../src/audit/signing.ts';
import { registerSigningKey } from '../../src/audit/log-keys.ts';
import type { Db, Queryable } from '../../src/store/db.ts';
import { readWitness, WitnessFile } from '../../src/audit/witness.ts';
import { TEST_KEY } from '../support/app.ts';
import { STORES } from '../support/stores.ts';

const NOW_FOR_KEYS = new Date('2026-11-02T00:00:00Z');

const KEYS = publicKeys([TEST_KEY.publicKeyPem]);
const pick = (r: { firstBreak: { kind: string; seq: number } | null }) => ({ kind: r.firstBreak?.kind, seq: r.firstBreak?.seq });

function event(i: number, at: Date): AccessEvent {
  return accessEvent(i, {
    occurredAt: at,
    personId: i % 3 === 0 ? 'p-retail' : 'p-cc',
    userId: 'u',
    principalClass: 'affiliated_retail',
    side: 'retail',
    organizationId: 'org-a0001',
    employment: i % 2 === 0 ? 'employee' : 'contractor',
    office: '仙台営業所',
    purpose: 'own_customer_service',
    records: [loggedRecord(i, { relation: i % 2 === 0 ? 'own' : 'other', masked: { holder_name: 'other_retailer_customer' } })],
  });
}

/**
 * Writes `n` events through the real writer, five at a time (each five share a group commit), and closes
 * it, which seals the chain with a checkpoint.
 */
async function writeEvents(db: Db, n: number, opts: { at?: (i: number) => Date; every?: number } = {}): Promise<void> {
  const log = new GroupCommitLog(db, { key: TEST_KEY, checkpointEvery: opts.every ?? 10, checkpointSeconds: 3600 });
  for (let k = 0; k < n; k += 5) {
    await Promise.all(
      Array.from({ length: Math.min(5, n - k) }, (_, j) => log.append(event(k + j, opts.at?.(k + j) ?? new Date(Date.UTC(2026, 10, 1, 1, 0, k + j))))),
    );
  }
  await log.close();
}

/** Runs SQL with the append-only triggers off, as only a database superuser could: the attacker's position. */
async function asSuperuser(db: Db, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(sql, params);
  });
}

for (const store of STORES) {
  describe(`access log as evidence on ${store.name}`, () => {
    let db: Db;
    /** The schema's owner (on PGlite the same db): archiving detaches partitions, attackers hold its rights. */
    let owner: Db;
    let dispose: () => Promise<void>;
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'gridwall-audit-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    async function fresh(): Promise<void> {
      if (dispose !== undefined) await dispose();
      ({ db, owner, dispose } = await store.open());
    }
    after(async () => dispose?.());

    test('the writer numbers, links and seals every group commit; the stored chain verifies', async () => {
      await fresh();
      await writeEvents(db, 95, { every: 10 });
      const head = await readHead(db);
      assert.equal(head.seq, 95);
      const seqs = (await db.query<{ seq: string }>('SELECT seq::text AS seq FROM access_log ORDER BY access_log.seq')).rows.map((r) => Number(r.seq));
      assert.deepEqual(
        seqs,
        Array.from({ length: 95 }, (_, i) => i + 1),
      );
      const r = await verifyBothWays(db, { keys: KEYS });
      assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
      assert.equal(r.events, 95);
      // One seal per group commit (five events each): the batches tile the chain.
      const seals = (
        await db.query<{ first: string; seq: string }>('SELECT first_seq::text AS first, seq::text AS seq FROM access_log_seals ORDER BY access_log_seals.seq')
      ).rows.map((x) => [Number(x.first), Number(x.seq)]);
      assert.deepEqual(
        seals,
        Array.from({ length: 19 }, (_, i) => [i * 5 + 1, i * 5 + 5]),
      );
      assert.equal(r.seals, 19);
    });

    test('appends awaited one after another each commit (a woken caller never finds a finished flush)', { timeout: 20_000 }, async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      for (let i = 0; i < 6; i++) await log.append(event(i, new Date(Date.UTC(2026, 10, 3, 0, 0, i))));
      await log.close();
      assert.equal((await readHead(db)).seq, 6);
      assert.equal(log.batches, 6);
    });

    test('two writers (two server processes) append in turn to one chain', async () => {
      await fresh();
      const key2 = generateSigningKey();
      // Two processes with different keys: each trusts the other's (GRIDWALL_LOG_TRUSTED_KEYS), and the second
      // key is registered on purpose, as `gridwall audit key register` does (as the schema's owner) — after the
      // first writer made the log's first key, a writer with an unregistered key does not start.
      const a = new GroupCommitLog(db, { key: TEST_KEY, trusted: publicKeys([key2.publicKeyPem]) });
      await a.open();
      await assert.rejects(new GroupCommitLog(db, { key: key2 }).open(), (e: Error) => e instanceof SigningKeyError && /not registered/.test(e.message));
      assert.equal(await registerSigningKey(owner, key2, { kind: 'system', job: 'test' }, NOW_FOR_KEYS), 'registered');
      assert.equal(await registerSigningKey(owner, key2, { kind: 'system', job: 'test' }, NOW_FOR_KEYS), 'already');
      const { rows: events } = await db.query<{ action: string; subject_id: string }>(
        `SELECT action, subject_id FROM governance_events WHERE subject_type = 'log_key' ORDER BY id`,
      );
      assert.deepEqual(
        events.map((e) => [e.action, e.subject_id]),
        [
          ['log_key.register', TEST_KEY.keyId],
          ['log_key.register', key2.keyId],
        ],
        'the first key by the first writer, the second by the command, each on the record',
      );
      const b = new GroupCommitLog(db, { key: key2, trusted: publicKeys([TEST_KEY.publicKeyPem]) });
      await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).append(event(i, new Date(Date.UTC(2026, 10, 2, 0, 0, i))))));
      // The last batch is b's: its seal vouches for the whole chain of seals, a's included (b checked them).
      await b.append(event(60, new Date(Date.UTC(2026, 10, 2, 0, 1, 0))));
      await a.close();
      await b.close();
      assert.deepEqual([a.halted, b.halted], [null, null]);
      const r = await verifyBothWays(db, { keys: publicKeys([TEST_KEY.publicKeyPem, key2.publicKeyPem]) });
      assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
      assert.equal(r.lastSeq, 61);
      assert.equal((await verifyBothWays(db, { keys: publicKeys([key2.publicKeyPem]) })).ok, true);
      // Trusting only a's key, the last seal is not trusted.
      assert.deepEqual(pick(await verifyBothWays(db, { keys: KEYS })), { kind: 'bad_signature', seq: 61 });
    });

    test('writers racing for the head (server processes under load) never refuse a batch: the loser takes the head and links after the winner', async () => {
      await fresh();
      // Two writers over one store, 32 callers each appending 30 events at once: every commit after the first
      // finds the head moved by the other. Before migration 019 a batch could lose twenty times in a row and
      // be refused (issue 21: four processes under load); now the loser takes the head and cannot lose again.
      const a = new GroupCommitLog(db, { key: TEST_KEY });
      const b = new GroupCommitLog(db, { key: TEST_KEY });
      await a.open();
      await b.open();
      const t = new Date('2026-10-21T01:00:00Z');
      const results = await Promise.allSettled(
        Array.from({ length: 64 }, async (_, c) => {
          for (let i = 0; i < 30; i++) await (c % 2 === 0 ? a : b).append(event(c * 100 + i, t));
        }),
      );
      assert.deepEqual(
        results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).cause ?? r.reason)] : [])),
        [],
      );
      assert.ok(a.batches > 1 && b.batches > 1, 'both wrote');
      assert.equal((await readHead(db)).seq, 64 * 30);
      await a.close();
      await b.close();
      const r = await verifyBothWays(db, { keys: KEYS });
      assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
      assert.equal(r.events, 64 * 30);
    });

    test('an idle writer keeps up with another: it accounts for their events on its own turn, hands them to the read limits, and its next commit needs no take-over', async () => {
      await fresh();
      const t = new Date('2026-10-21T01:00:00Z');
      // B counts its transactions: a commit that finds the head moved takes it in one.
      let taken = 0;
      const counting: Db = Object.create(db, {
        transaction: {
          value: <T>(fn: (tx: Queryable) => Promise<T>) => {
            taken++;
            return db.transaction(fn);
          },
        },
      });
      const a = new GroupCommitLog(db, { key: TEST_KEY });
      const b = new GroupCommitLog(counting, { key: TEST_KEY, catchUpMs: 20 });
      const heard: number[] = [];
      b.onOthers((events) => heard.push(events.length));
      await a.open();
      await b.open();
      for (let i = 0; i < 12; i++) await a.append(event(i, t));
      // B's timer catches up within a few of its periods, without B writing anything.
      const until = Date.now() + 5000;
      while (heard.reduce((x, y) => x + y, 0) < 12 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal(
        heard.reduce((x, y) => x + y, 0),
        12,
        'the twelve events A wrote reached the listener while B was idle',
      );
      await b.append(event(100, t));
      assert.equal(taken, 0, 'B linked after A on its first try: it had accounted for A already');
      // Without catching up, the same step takes the head over.
      const c = new GroupCommitLog(counting, { key: TEST_KEY });
      await c.open();
      await a.append(event(101, t));
      await c.append(event(102, t));
      assert.equal(taken, 1, 'C, which did not keep up, took the head to link after A and B');
      await Promise.all([a.close(), b.close(), c.close()]);
      assert.equal((await verifyBothWays(db, { keys: KEYS })).events, 15);
    });

    test('catching up finds a made-up event at once: the idle writer stops the line before anyone reads through it', async () => {
      await fresh();
      const t = new Date('2026-10-21T01:00:00Z');
      const a = new GroupCommitLog(db, { key: TEST_KEY });
      const b = new GroupCommitLog(db, { key: TEST_KEY });
      await a.open();
      await b.open();
      await a.append(event(1, t));
      await b.catchUp();
      assert.equal(b.halted, null, 'what A wrote is accounted for');
      // A writer with a key B does not trust (it trusts B's) appends an event: for B, nobody it trusts wrote it.
      const rogue = generateSigningKey();
      await registerSigningKey(owner, rogue, { kind: 'system', job: 'test' }, NOW_FOR_KEYS);
      const other = new GroupCommitLog(db, { key: rogue, trusted: publicKeys([TEST_KEY.publicKeyPem]) });
      await other.append(event(2, t));
      assert.equal((await readHead(db)).seq, 2);
      await b.catchUp();
      assert.match(b.halted ?? '', /cannot be accounted for/);
      await assert.rejects(b.append(event(3, t)), /could not be written/);
    });

    test('a commit that fails after the writer took the head publishes no seal and halts nothing: the next batch links after what was committed', async () => {
      await fresh();
      const t = new Date('2026-10-21T01:00:00Z');
      const witness = join(dir, `witness-failed-commit-${store.name}.jsonl`);
      let failNext = false;
      // The transaction's work done, then its COMMIT lost (a reset connection, a failover): rolled back.
      const flaky: Db = Object.create(db, {
        transaction: {
          value: async <T>(fn: (tx: Queryable) => Promise<T>) =>
            db.transaction(async (tx) => {
              const r = await fn(tx);
              if (failNext) {
                failNext = false;
                throw new Error('the connection was lost at COMMIT');
              }
              return r;
            }),
        },
      });
      const a = new GroupCommitLog(db, { key: TEST_KEY });
      const b = new GroupCommitLog(flaky, { key: TEST_KEY, witness: new WitnessFile(witness), checkpointEvery: 1 });
      await b.append(event(1, t));
      await a.append(event(2, t)); // moves the head: b's next append loses the race and takes the head
      failNext = true;
      await assert.rejects(b.append(event(3, t)));
      assert.equal(b.halted, null, 'a failed commit is not a rewound log');
      const head = (await readHead(db)).seq;
      assert.equal(head, 2);
      assert.deepEqual(
        readWitness(witness).filter((s) => s.seq > head),
        [],
        'no seal published for events never committed',
      );
      await b.append(event(4, t));
      await a.close();
      await b.close();
      const r = await verifyBothWays(db, { keys: KEYS, witness: readWitness(witness) });
      assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
      assert.equal(r.events, 3);
    });

    test('events fall into monthly partitions in Japan time', async () => {
      await fresh();
      // 2026-10-31 15:30 UTC is 2026-11-01 00:30 in Japan.
      const times = [new Date('2026-10-31T14:30:00Z'), new Date('2026-10-31T15:30:00Z'), new Date('2026-12-15T03:00:00Z')];
      await writeEvents(db, 3, { at: (i) => times[i] ?? new Date() });
      const parts = await listPartitions(db);
      assert.deepEqual(
        parts.map((p) => [p.month, p.events]),
        [
          ['2026-10', 1],
          ['2026-11', 1],
          ['2026-12', 1],
        ],
      );
      assert.equal((await verifyBothWays(db, { keys: KEYS })).ok, true);
    });

    test('partitions past the retention period are archived to verified files, detached and kept; the rest still verifies', async () => {
      await fresh();
      // Events from 2020-03 to 2021-12 and now (2026-11): the first months are past five years.
      const times = [
        ...Array.from({ length: 20 }, (_, i) => new Date(Date.UTC(2020, 2 + (i % 22), 10, 3, 0, i))),
        new Date('2021-12-01T03:00:00Z'),
        new Date('2026-11-01T03:00:00Z'),
      ];
      const log = new GroupCommitLog(db, { key: TEST_KEY, checkpointEvery: 4 });
      for (let i = 0; i < times.length; i++) await log.append(event(i, times[i] ?? new Date()));
      await log.close();
      const now = new Date('2026-11-24T12:00:00+09:00');
      const adir = join(dir, `${store.name}-archive`);
      mkdirSync(adir);
      await assert.rejects(
        archivePartitions(owner, { before: '2022-01', dir: adir, now, retentionYears: 5, keys: KEYS }),
        /kept 5 years, so months from 2021-11 on may not be archived/,
      );
      const done = await archivePartitions(owner, { before: '2021-11', dir: adir, now, retentionYears: 5, keys: KEYS });
      assert.deepEqual(
        done.map((a) => a.month),
        [
          '2020-03',
          '2020-04',
          '2020-05',
          '2020-06',
          '2020-07',
          '2020-08',
          '2020-09',
          '2020-10',
          '2020-11',
          '2020-12',
          '2021-01',
          '2021-02',
          '2021-03',
          '2021-04',
          '2021-05',
          '2021-06',
          '2021-07',
          '2021-08',
          '2021-09',
          '2021-10',
        ],
      );
      assert.deepEqual([done[0]?.firstSeq, done[done.length - 1]?.lastSeq], [1, 20]);
      for (const a of done) assert.equal((await verifyExportFile(a.file, KEYS)).ok, true, a.file);
      assert.deepEqual(
        (await listPartitions(db)).map((p) => p.month),
        ['2021-12', '2026-11'],
      );
      const kept = await owner.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_log_y2020m03_archived`);
      assert.equal(kept.rows[0]?.n, 1, 'the detached partition is still in the database');
      const r = await verifyBothWays(db, { keys: KEYS });
      assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
      assert.deepEqual([r.firstSeq, r.lastSeq], [21, 22]);
      assert.deepEqual(r.archives, { files: 20, events: 20 });
      // An archive file changed after the fact is found by its SHA-256, and one moved away is missed.
      const third = done[2]!.file;
      const original = readFileSync(third);
      writeFileSync(third, Buffer.concat([original, Buffer.from('\n')]));
      assert.match((await verifyBothWays(db, { keys: KEYS })).firstBreak?.detail ?? '', /has SHA-256 .* not the recorded/);
      rmSync(third);
      assert.match((await verifyBothWays(db, { keys: KEYS })).firstBreak?.detail ?? '', /is not there/);
      writeFileSync(third, original);
      await asSuperuser(owner, `UPDATE access_log SET office = 'x' WHERE seq = 22`);
      assert.deepEqual((await verifyBothWays(db, { keys: KEYS })).firstBreak?.seq, 22);
    });

    test('a group commit that crosses into the next month is archived whole with the earlier month', async () => {
      await fresh();
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      // One batch: 23:00 on 31 March and 00:30 on 1 April, Japan time; then one event now.
      await Promise.all([log.append(event(0, new Date('2020-03-31T14:00:00Z'))), log.append(event(1, new Date('2020-03-31T15:30:00Z')))]);
      await log.append(event(2, new Date('2026-11-01T03:00:00Z')));
      await log.close();
      const adir = join(dir, `${store.name}-crossing`);
      mkdirSync(adir);
      const done = await archivePartitions(owner, { before: '2020-05', dir: adir, now: new Date('2026-11-24T12:00:00+09:00'), retentionYears: 5, keys: KEYS });
      assert.deepEqual(
        done.map((a) => [a.month, a.events, a.firstSeq, a.lastSeq]),
        [
          ['2020-03', 2, 1, 2],
          ['2020-04', 0, 3, 2],
        ],
      );
      const r = await verifyBothWays(db, { keys: KEYS });
      assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
      assert.deepEqual([r.firstSeq, r.lastSeq, r.archives.files], [3, 3, 2]);
    });

    test('UPDATE, DELETE and TRUNCATE are refused even to the owner, on the log, its partitions and its checkpoints', async () => {
      await fresh();
      await writeEvents(db, 3);
      await assert.rejects(owner.query(`UPDATE access_log SET purpose = 'x'`), /append-only/);
      await assert.rejects(owner.query(`DELETE FROM access_log WHERE seq = 1`), /append-only/);
      await assert.rejects(owner.query(`TRUNCATE access_log`), /append-only/);
      await assert.rejects(owner.query(`TRUNCATE access_log_y2026m11`), /append-only/);
      await assert.rejects(owner.query(`TRUNCATE access_log_checkpoints`), /append-only/);
      await assert.rejects(owner.query(`DELETE FROM access_log_seals`), /append-only/);
      await assert.rejects(owner.query(`UPDATE access_log_seals SET signature = 'x'`), /append-only/);
      await assert.rejects(owner.query(`TRUNCATE access_log_seals`), /append-only/);
      await assert.rejects(owner.query(`UPDATE access_log_keys SET public_key = 'x'`), /append-only/);
    });

    const tampering: readonly { name: string; sql: string; kind: string; seq: number }[] = [
      { name: 'a changed purpose', sql: `UPDATE access_log SET purpose = 'switching_support' WHERE seq = 17`, kind: 'modified', seq: 17 },
      {
        name: 'a changed supply point in the index column only',
        sql: `UPDATE access_log SET supply_point_ids = '{0299999999999999999999}' WHERE seq = 5`,
        kind: 'modified',
        seq: 5,
      },
      { name: 'a deleted event', sql: `DELETE FROM access_log WHERE seq = 23`, kind: 'missing', seq: 23 },
      { name: 'two events swapped', sql: `UPDATE access_log SET seq = CASE seq WHEN 8 THEN 9 ELSE 8 END WHERE seq IN (8, 9)`, kind: 'modified', seq: 8 },
      { name: 'an inserted copy', sql: `INSERT INTO access_log SELECT * FROM access_log WHERE seq = 12`, kind: 'inserted', seq: 12 },
      { name: 'the tail cut off, its seals left', sql: `DELETE FROM access_log WHERE seq > 26`, kind: 'truncated', seq: 27 },
      { name: 'a seal removed', sql: `DELETE FROM access_log_seals WHERE seq = 15`, kind: 'unsealed', seq: 11 },
    ];
    for (const t of tampering) {
      test(`verification names the first broken event: ${t.name}`, async () => {
        await fresh();
        await writeEvents(db, 30, { every: 10 });
        await asSuperuser(owner, t.sql);
        const r = await verifyBothWays(db, { keys: KEYS });
        assert.equal(r.ok, false);
        assert.deepEqual({ kind: r.firstBreak?.kind, seq: r.firstBreak?.seq }, { kind: t.kind, seq: t.seq }, r.firstBreak?.detail);
      });
    }

    test('an exported period verifies on its own; each kind of edit to the file is caught', async () => {
      await fresh();
      await writeEvents(db, 40, { every: 10 });
      const path = join(dir, `${store.name}-export.jsonl`);
      const out = createWriteStream(path);
      const res = await exportJsonl(db, out, { from: null, to: null }, new Date());
      out.end();
      await finished(out);
      assert.equal(res.events, 40);
      const good = await verifyExportFile(path);
      assert.equal(good.ok, true, JSON.stringify(good.firstBreak));
      assert.equal(good.seals, 8);
      assert.equal((await verifyExportFile(path, KEYS)).ok, true, 'with the key given by hand');
      const other = await verifyExportFile(path, publicKeys([generateSigningKey().publicKeyPem]));
      assert.equal(other.firstBreak?.kind, 'bad_signature');

      const lines = readFileSync(path, 'utf8').split('\n');
      const eventIdx = (seq: number) => lines.findIndex((l) => l.startsWith('{"hash"') && new RegExp(`"seq":${seq}[,}]`).test(l));
      const edits: [string, (ls: string[]) => string[], string, number][] = [
        ['a character changed', (ls) => ls.map((l, i) => (i === eventIdx(7) ? l.replace('仙台営業所', '仙台営業所X') : l)), 'modified', 7],
        ['a line deleted', (ls) => ls.filter((_, i) => i !== eventIdx(13)), 'missing', 13],
        ['the last line of a batch deleted: its seal is out of place', (ls) => ls.filter((_, i) => i !== eventIdx(15)), 'malformed', 15],
        [
          'two lines swapped',
          (ls) => {
            const c = [...ls];
            const a = eventIdx(3);
            const b = eventIdx(4);
            [c[a], c[b]] = [c[b] ?? '', c[a] ?? ''];
            return c;
          },
          'missing',
          3,
        ],
        ['the end cut off', (ls) => ls.slice(0, eventIdx(33) + 1), 'truncated', 34],
        ['a seal line removed', (ls) => ls.filter((_, i) => i !== eventIdx(20) + 1), 'unsealed', 16],
        ['the closing line rewritten after the last batch was cut', (ls) => [...ls.slice(0, eventIdx(35) + 2), ls[ls.length - 2] ?? ''], 'malformed', 36],
      ];
      // Whole file in one chunk, and cut into small chunks that are scanned apart and joined (as a large file is).
      for (const opts of [{}, { chunkBytes: 4096 }, { chunkBytes: 700 }]) {
        assert.equal((await verifyExportFile(path, null, opts)).ok, true, JSON.stringify(opts));
        for (const [name, edit, kind, seq] of edits) {
          const p = join(dir, `${store.name}-edited.jsonl`);
          writeFileSync(p, edit(lines).join('\n'));
          const r = await verifyExportFile(p, null, opts);
          assert.deepEqual({ kind: r.firstBreak?.kind, seq: r.firstBreak?.seq }, { kind, seq }, `${name} ${JSON.stringify(opts)}`);
        }
      }
    });

    test('the CSV export opens in Excel: BOM, CRLF, one row per supply point, Japan time', async () => {
      await fresh();
      await writeEvents(db, 3);
      const path = join(dir, `${store.name}.csv`);
      const out = createWriteStream(path);
      const res = await exportCsv(db, out, { from: null, to: null });
      out.end();
      await finished(out);
      const bytes = readFileSync(path);
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      const rows = bytes
        .toString('utf8')
        .slice(1)
        .split('\r\n')
        .filter((l) => l !== '');
      assert.equal(rows.length, 1 + res.rows);
      assert.match(rows[1] ?? '', /^1,2026-11-01T10:00:00\.000\+09:00,req-0,p-retail/);
      assert.match(rows[1] ?? '', /holder_name:other_retailer_customer/);
    });

    if (store.name === 'postgres') {
      test("the application role reads the log and writes it only through the writer's functions: never INSERT, UPDATE, DELETE or TRUNCATE on the log, a partition, its head, seals, checkpoints or keys", async () => {
        await fresh();
        // `db` acts as a fresh role from grantAppRole (test/support/stores.ts). One partition is made before the
        // grant is applied again (idempotent), one after: the role may read both and write neither.
        const role = (await db.query<{ r: string }>('SELECT current_user AS r')).rows[0]?.r ?? '';
        const schema = (await owner.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s ?? '';
        assert.match(role, /^gw_app_/);
        const before = (await owner.query<{ p: string }>(`SELECT access_log_ensure_partition('2026-11-10T00:00:00Z') AS p`)).rows[0]?.p ?? '';
        await grantAppRole(owner, role, schema);
        await grantAppRole(owner, role, schema);
        const after = (await owner.query<{ p: string }>(`SELECT access_log_ensure_partition('2027-03-10T00:00:00Z') AS p`)).rows[0]?.p ?? '';
        assert.deepEqual([before, after], ['access_log_y2026m11', 'access_log_y2027m03']);

        const SET: Record<string, string> = {
          schema_migrations: `version = 'x'`,
          access_log_keys: `key_id = 'x'`,
          access_log_archives: `file = 'x'`,
          access_log_unchained: `purpose = 'x'`,
        };
        const chain = [
          'access_log',
          before,
          after,
          'access_log_head',
          'access_log_seals',
          'access_log_checkpoints',
          'access_log_keys',
          'access_log_archives',
          'access_log_unchained',
          'schema_migrations',
        ];
        const refused: string[] = [
          ...['access_log', before, after].map(
            (t) => `INSERT INTO ${t} (seq, prev_hash, hash, occurred_at) VALUES (1, repeat('0', 64), repeat('1', 64), '2026-11-10T00:00:00Z')`,
          ),
          `INSERT INTO access_log_seals (seq, first_seq, prev_hash, hash, signed_at, key_id, signature) VALUES (1, 1, repeat('0', 64), repeat('1', 64), now(), '0123456789abcdef', 'x')`,
          `INSERT INTO access_log_checkpoints (seq, hash, signed_at, key_id, signature) VALUES (1, repeat('1', 64), now(), '0123456789abcdef', 'x')`,
          `INSERT INTO access_log_keys (key_id, public_key) VALUES ('0123456789abcdef', 'x')`,
          `INSERT INTO schema_migrations (version) VALUES ('999_mine')`,
          `UPDATE access_log_head SET seq = 0`,
          `SELECT seq FROM access_log_head WHERE id = 1 FOR UPDATE`,
          ...chain.flatMap((t) => [`UPDATE ${t} SET ${SET[t] ?? 'seq = 0'}`, `DELETE FROM ${t}`, `TRUNCATE ${t}`]),
          `ALTER TABLE access_log DISABLE TRIGGER access_log_no_update`,
          `ALTER TABLE ${before} DISABLE TRIGGER ALL`,
          `SET session_replication_role = replica`,
          `CREATE TABLE ${schema}.mine (x int)`,
          `SELECT nextval('access_log_id_seq')`,
          `UPDATE governance_events SET occurred_at = now()`,
          `DELETE FROM governance_events`,
          `INSERT INTO customers (id) VALUES ('c-mine')`,
        ];
        for (const sql of refused) await assert.rejects(db.query(sql), /permission denied|must be owner/, sql);

        // Reading is allowed, through the parent and the partitions the grant saw.
        for (const t of [
          'access_log',
          before,
          after,
          'access_log_head',
          'access_log_seals',
          'access_log_checkpoints',
          'access_log_keys',
          'access_log_archives',
          'access_log_unchained',
          'schema_migrations',
        ]) {
          await db.query(`SELECT count(*) FROM ${t}`);
        }
        // The writer's functions: the role may call them, PUBLIC may not; a call that does not link writes nothing.
        for (const f of LOG_FUNCTIONS) {
          const { rows } = await db.query<{ me: boolean; pub: boolean }>(
            `SELECT has_function_privilege(current_user, $1, 'EXECUTE') AS me, has_function_privilege('public', $1, 'EXECUTE') AS pub`,
            [`${schema}.${f}`],
          );
          assert.deepEqual(rows[0], { me: true, pub: false }, f);
        }
        const stale = await db.query<{ moved: boolean; head_seq: number }>(`SELECT * FROM access_log_append(5, repeat('a', 64), '[]'::jsonb, '{}'::jsonb)`);
        assert.deepEqual([stale.rows[0]?.moved, stale.rows[0]?.head_seq], [false, 0]);
        await assert.rejects(db.query(`SELECT access_log_add_first_key('0123456789abcdef', 'not a key', now())`), /not a PEM public key/);
        await assert.rejects(
          db.query(`SELECT access_log_add_key('0123456789abcdef', 'not a key')`),
          /permission denied/,
          "keys after the first are the owner's",
        );
        assert.equal((await db.query<{ p: string }>(`SELECT access_log_ensure_partition('2027-03-11T00:00:00Z') AS p`)).rows[0]?.p, after);
        assert.equal(
          (await db.query<{ seal: boolean }>(`SELECT access_log_seal_existing('{}'::jsonb) AS seal`)).rows[0]?.seal,
          false,
          'an empty log has nothing to seal',
        );
      });
    }
  });
}
