import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { accessEvent as event, loggedRecord } from '../support/access-events.ts';
import { eventColumns, type AccessEvent } from '../../src/audit/access-event.ts';
import { readChainLinks, readHead, readLinks, readSeals, type LinkRecord } from '../../src/audit/log-reader.ts';
import { chainEvents } from '../../src/audit/chain.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { publicKeys } from '../../src/audit/signing.ts';
import { BadRangeError, verifyStore } from '../../src/audit/store-verify.ts';
import type { Db } from '../../src/store/db.ts';
import { copyTextField, copyTextRows } from '../../src/store/copy-text.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { TEST_KEY } from '../support/app.ts';
import { STORES } from '../support/stores.ts';
import { verifyBothWays } from '../support/verify-both.ts';

/**
 * Verification at log scale (issue 21): the verifier reads the stored chain through its own reader — columns
 * as text, streamed in one COPY on PostgreSQL, encoded to canonical text without building events — and can
 * check a part of the log on its own (a seq range, a month's partition).
 */

const KEYS = publicKeys([TEST_KEY.publicKeyPem]);

/** Text as people and attackers type it: tabs, line feeds, backslashes, quotes, Japanese, emoji — never NUL (PostgreSQL text cannot hold it). */
const awkward = fc.string({
  unit: fc.constantFrom('a', '\t', '\n', '\r', '\\', '"', '\\N', 'é', '仙台', '😀', '\u0001', '\u007f', ' ', ',', '{', '}'),
  maxLength: 12,
});

const anyEvent: fc.Arbitrary<AccessEvent> = fc
  .record({
    i: fc.nat({ max: 10_000 }),
    ms: fc.integer({ min: 0, max: 86_400_000 }),
    text: awkward,
    nullable: fc.option(awkward, { nil: null }),
    query: fc.dictionary(fc.constantFrom('by', 'term', 'page', 'ネスト', 'a\tb'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    records: fc.array(
      fc.record({ n: fc.nat({ max: 99 }), masked: fc.dictionary(fc.constantFrom('phone', 'holder_name', 'usage'), fc.constant('other_retailer_customer')) }),
      {
        maxLength: 3,
      },
    ),
  })
  .map(({ i, ms, text, nullable, query, records }) =>
    event(i, {
      occurredAt: new Date(Date.UTC(2026, 10, 2) + ms),
      requestId: `req-${text}`,
      office: text,
      userId: nullable,
      terminalId: nullable,
      refusal: nullable,
      query: withoutNul(query),
      records: records.map((r) => loggedRecord(r.n, { masked: r.masked })),
    }),
  );

/** The value without NUL characters (PostgreSQL's jsonb cannot hold them). */
function withoutNul(v: Record<string, unknown>): Record<string, unknown> {
  const parsed: unknown = JSON.parse(JSON.stringify(v).replace(/\\u0000/g, ''));
  return parsed as Record<string, unknown>;
}

/** Writes `n` events through the real writer, `perCommit` to a group commit (one seal each). */
async function write(log: GroupCommitLog, events: readonly AccessEvent[], perCommit: number): Promise<void> {
  for (let k = 0; k < events.length; k += perCommit) await Promise.all(events.slice(k, k + perCommit).map((e) => log.append(e)));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Runs SQL with every trigger off, as only a database superuser could. */
async function asSuperuser(db: Db, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(sql, params);
  });
}

test('COPY text rows decode to what was encoded, however the bytes are cut into chunks', async () => {
  const encode = (v: string | null) =>
    v === null ? '\\N' : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\f/g, '\\f').replace(/\v/g, '\\v');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.option(awkward, { nil: null }), { minLength: 1, maxLength: 4 }), { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      async (rows, cuts) => {
        const bytes = Buffer.from(rows.map((r) => `${r.map(encode).join('\t')}\n`).join(''), 'utf8');
        const at = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, k) => bytes.subarray(from, [...at, bytes.length][k]));
        const decoded = await collect(
          copyTextRows(
            (async function* () {
              yield* chunks;
            })(),
          ),
        );
        assert.deepEqual(decoded, rows);
      },
    ),
    { numRuns: 300 },
  );
});

test('COPY text fields: NULL, named, octal and hex escapes', () => {
  assert.deepEqual(['\\N', '\\\\N', 'a\\tb', '\\101\\x42\\7', 'x\\\\y', '\\q'].map(copyTextField), [null, '\\N', 'a\tb', 'AB\u0007', 'x\\y', 'q']);
});

test(
  'a COPY runs as long as its rows last, past the pool’s statement and query time-outs (a month of the log streamed out)',
  { skip: process.env['DATABASE_URL'] === undefined ? 'needs DATABASE_URL (PostgreSQL)' : false },
  async () => {
    const db = await openPostgres(process.env['DATABASE_URL'] ?? '', {
      poolSize: 1,
      timeouts: { connectMs: 5000, statementMs: 300, queryMs: 300, idleInTransactionMs: 1000 },
    });
    try {
      await assert.rejects(db.query('SELECT pg_sleep(0.6)'), 'the pool itself keeps its time-outs');
      if (db.copyOut === undefined) return assert.fail('a PostgreSQL store streams by COPY');
      const rows = await collect(db.copyOut('SELECT g FROM generate_series(1, 3) g, LATERAL (SELECT pg_sleep(0.3)) s'));
      assert.deepEqual(rows, [['1'], ['2'], ['3']]);
      assert.deepEqual((await db.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await db.close();
    }
  },
);

for (const store of STORES) {
  describe(`verifying the stored log at scale on ${store.name}`, () => {
    let db: Db;
    let owner: Db;
    let dispose: () => Promise<void>;

    async function fresh(): Promise<void> {
      if (dispose !== undefined) await dispose();
      const opened = await store.open();
      db = opened.db;
      owner = opened.owner;
      dispose = opened.dispose;
    }
    before(fresh);
    after(async () => dispose?.());

    test("the verifier's reader gives, for any stored event, the canonical text the event itself gives — paged and streamed", async () => {
      await fresh();
      const events = fc.sample(anyEvent, { numRuns: 120, seed: 21 });
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      await write(log, events, 7);
      await log.close();
      const generic = (await collect(readLinks(db))).map((x) => x.link);
      assert.equal(generic.length, 120);
      const paged = await collect(readChainLinks(db, { pageSize: 13 }));
      assert.deepEqual(paged, generic);
      const streamed = await collect(readChainLinks(db, { stream: true }));
      assert.deepEqual(streamed, generic);
      assert.equal((await verifyBothWays(db, { keys: KEYS })).ok, true);
      // A derived column changed alone (the supply point index) shows as an inconsistent link on both readers.
      await asSuperuser(
        owner,
        `UPDATE access_log SET supply_point_ids = '{0299999999999999999999}' WHERE seq = (SELECT min(seq) FROM access_log WHERE cardinality(supply_point_ids) = 1)`,
      );
      const bad = (await collect(readChainLinks(db, { stream: true }))).filter((l: LinkRecord) => !l.consistent);
      assert.equal(bad.length, 1);
      assert.equal((await verifyBothWays(db, { keys: KEYS })).firstBreak?.kind, 'modified');
    });

    describe('a part of the log on its own', () => {
      before(async () => {
        await fresh();
        const log = new GroupCommitLog(db, { key: TEST_KEY });
        // 60 events, 4 to a group commit: seals end at 4, 8, …, 60.
        await write(
          log,
          Array.from({ length: 60 }, (_, i) => event(i)),
          4,
        );
        await log.close();
      });

      test('a range verifies from its first event to the end of the seal covering its last; the whole log too', async () => {
        const r = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 10, toSeq: 21 } });
        assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
        const anchor = (await db.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = 9')).rows[0]?.hash;
        assert.deepEqual(r.range, { fromSeq: 10, toSeq: 24, anchor });
        assert.deepEqual([r.firstSeq, r.lastSeq, r.events], [10, 24, 15]);
        const exact = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 1, toSeq: 60 } });
        assert.deepEqual([exact.ok, exact.events, exact.range?.toSeq], [true, 60, 60]);
        const whole = await verifyBothWays(db, { keys: KEYS });
        assert.deepEqual([whole.ok, whole.events, whole.range], [true, 60, null]);
      });

      test('ranges verified apart join: the first one’s last hash is the second one’s anchor', async () => {
        const a = await verifyStore(db, { keys: KEYS, range: { fromSeq: 1, toSeq: 30 } });
        const b = await verifyStore(db, { keys: KEYS, range: { fromSeq: (a.lastSeq ?? 0) + 1, toSeq: 60 } });
        const anchor = (await db.query<{ prev_hash: string }>('SELECT prev_hash FROM access_log WHERE seq = $1', [(a.lastSeq ?? 0) + 1])).rows[0]?.prev_hash;
        assert.equal(a.lastHash, anchor);
        assert.equal(b.range?.anchor, anchor);
        assert.deepEqual([a.ok, b.ok, (a.lastSeq ?? 0) + b.events], [true, true, 60]);
      });

      test('a change inside the range is found there; outside it, the range does not look', async () => {
        await asSuperuser(owner, `UPDATE access_log SET purpose = 'forged' WHERE seq = 37`);
        try {
          const inside = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 33, toSeq: 40 } });
          assert.deepEqual([inside.ok, inside.firstBreak?.kind, inside.firstBreak?.seq], [false, 'modified', 37]);
          const edge = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 37, toSeq: 37 } });
          assert.deepEqual([edge.ok, edge.firstBreak?.seq], [false, 37]);
          const before37 = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 1, toSeq: 36 } });
          assert.deepEqual([before37.ok, before37.lastSeq], [true, 36]);
          // Events 38–40 share 37's seal, which names the hash of 40: they are as written, whatever became of 37.
          const after37 = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 38, toSeq: 60 } });
          assert.deepEqual([after37.ok, after37.firstSeq], [true, 38]);
          assert.equal((await verifyBothWays(db, { keys: KEYS })).firstBreak?.seq, 37);
        } finally {
          await asSuperuser(owner, `UPDATE access_log SET purpose = 'customer_inquiry' WHERE seq = 37`);
        }
        assert.equal((await verifyStore(db, { keys: KEYS })).ok, true, 'restored');
      });

      test('an event deleted at the start of a range, or a re-chained range with a forged last seal, is found', async () => {
        const row = (await owner.query<Record<string, unknown>>('SELECT * FROM access_log WHERE seq = 45')).rows[0]!;
        await asSuperuser(owner, 'DELETE FROM access_log WHERE seq = 45');
        try {
          const gone = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 45, toSeq: 50 } });
          assert.deepEqual([gone.ok, gone.firstBreak?.kind, gone.firstBreak?.seq], [false, 'missing', 45]);
          const across = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 41, toSeq: 50 } });
          assert.deepEqual([across.ok, across.firstBreak?.kind, across.firstBreak?.seq], [false, 'missing', 45]);
        } finally {
          const cols = Object.keys(row).join(', ');
          await asSuperuser(owner, `INSERT INTO access_log (${cols}) SELECT ${cols} FROM jsonb_populate_record(NULL::access_log, $1::jsonb)`, [
            JSON.stringify(row),
          ]);
        }
        // The last seal of a range with another seal's signature: the range's seals no longer vouch for it.
        const last = (await owner.query<{ signature: string }>('SELECT signature FROM access_log_seals WHERE seq = 52')).rows[0]!;
        await asSuperuser(owner, 'UPDATE access_log_seals SET signature = (SELECT signature FROM access_log_seals WHERE seq = 48) WHERE seq = 52');
        try {
          const r = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 41, toSeq: 50 } });
          assert.deepEqual([r.ok, r.firstBreak?.kind], [false, 'bad_signature']);
        } finally {
          await asSuperuser(owner, 'UPDATE access_log_seals SET signature = $1 WHERE seq = 52', [last.signature]);
        }
        assert.equal((await verifyStore(db, { keys: KEYS })).ok, true, 'restored');
      });

      test('a range that reaches the head is checked as the log’s end: events stored past the head, or a tail cut with its seals, show', async () => {
        const head = await readHead(db);
        const forged = chainEvents([event(900), event(901)], head.seq + 1, head.hash);
        for (const c of forged) {
          const row = { seq: c.seq, prev_hash: c.prevHash, hash: c.hash, ...eventColumns(c.event) };
          const cols = Object.keys(row).join(', ');
          await asSuperuser(owner, `INSERT INTO access_log (${cols}) SELECT ${cols} FROM jsonb_populate_record(NULL::access_log, $1::jsonb)`, [
            JSON.stringify(row),
          ]);
        }
        try {
          // Asked up to the head, past it, or from past it: the two stored after the head are found.
          for (const range of [
            { fromSeq: 50, toSeq: 60 },
            { fromSeq: 50, toSeq: 62 },
            { fromSeq: 61, toSeq: 62 },
          ]) {
            const r = await verifyBothWays(db, { keys: KEYS, range });
            assert.deepEqual([r.ok, r.firstBreak?.kind, r.firstBreak?.seq], [false, 'unsealed', 61], JSON.stringify(range));
          }
          // A range in the middle is not about the tail.
          assert.equal((await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 10, toSeq: 21 } })).ok, true);
        } finally {
          await asSuperuser(owner, 'DELETE FROM access_log WHERE seq > $1', [head.seq]);
        }
        // The last two commits cut with their seals and the head rewound: the witness still holds their seals.
        const seals = (await collect(readSeals(db))).filter((x) => x.seq >= 40);
        const back = (await db.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = 52')).rows[0]!.hash;
        const cut = async (sql: string, params: unknown[] = []) => asSuperuser(owner, sql, params);
        const saved = (await owner.query<Record<string, unknown>>('SELECT * FROM access_log WHERE seq > 52 ORDER BY seq')).rows;
        const savedSeals = (await owner.query<Record<string, unknown>>('SELECT * FROM access_log_seals WHERE seq > 52 ORDER BY seq')).rows;
        await cut('DELETE FROM access_log WHERE seq > 52');
        await cut('DELETE FROM access_log_seals WHERE seq > 52');
        await cut('UPDATE access_log_head SET seq = 52, hash = $1 WHERE id = 1', [back]);
        try {
          assert.equal((await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 41, toSeq: 52 } })).ok, true, 'without the witness, nothing tells');
          const r = await verifyBothWays(db, { keys: KEYS, witness: seals, range: { fromSeq: 41, toSeq: 52 } });
          assert.deepEqual([r.ok, r.firstBreak?.kind], [false, 'truncated']);
          assert.equal((await verifyBothWays(db, { keys: KEYS, witness: seals, range: { fromSeq: 41, toSeq: 44 } })).ok, true, 'a range before the cut');
        } finally {
          const restore = async (table: string, rows: Record<string, unknown>[]) => {
            for (const row of rows) {
              const cols = Object.keys(row).join(', ');
              await cut(`INSERT INTO ${table} (${cols}) SELECT ${cols} FROM jsonb_populate_record(NULL::${table}, $1::jsonb)`, [JSON.stringify(row)]);
            }
          };
          await restore('access_log', saved);
          await restore('access_log_seals', savedSeals);
          const last = (await owner.query<{ hash: string }>('SELECT hash FROM access_log WHERE seq = 60')).rows[0]!.hash;
          await cut('UPDATE access_log_head SET seq = 60, hash = $1 WHERE id = 1', [last]);
        }
        assert.equal((await verifyStore(db, { keys: KEYS })).ok, true, 'restored');
      });

      test('what no writer stores reads as a changed event, never as an error: NULL lists, a time a Date cannot hold', async () => {
        await asSuperuser(owner, 'ALTER TABLE access_log ALTER COLUMN records DROP NOT NULL');
        await asSuperuser(owner, 'UPDATE access_log SET records = NULL WHERE seq = 30');
        try {
          const r = await verifyBothWays(db, { keys: KEYS });
          assert.deepEqual([r.ok, r.firstBreak?.kind, r.firstBreak?.seq], [false, 'modified', 30]);
        } finally {
          await asSuperuser(owner, `UPDATE access_log SET records = $1::jsonb WHERE seq = 30`, [JSON.stringify([loggedRecord(29)])]);
          await asSuperuser(owner, 'ALTER TABLE access_log ALTER COLUMN records SET NOT NULL');
        }
        await owner.query(`SELECT access_log_ensure_partition('280000-06-01T00:00:00Z')`);
        const when = (await owner.query<{ t: string }>('SELECT occurred_at::text AS t FROM access_log WHERE seq = 31')).rows[0]!.t;
        await asSuperuser(owner, `UPDATE access_log SET occurred_at = '280000-06-02T00:00:00Z' WHERE seq = 31`);
        try {
          const r = await verifyBothWays(db, { keys: KEYS, range: { fromSeq: 31, toSeq: 32 } });
          assert.deepEqual([r.ok, r.firstBreak?.kind, r.firstBreak?.seq], [false, 'modified', 31]);
        } finally {
          await asSuperuser(owner, `UPDATE access_log SET occurred_at = $1::timestamptz WHERE seq = 31`, [when]);
        }
        assert.equal((await verifyStore(db, { keys: KEYS })).ok, true, 'restored');
      });

      test('a range that starts past the head, runs backwards or starts in archived events is refused with the reason', async () => {
        await assert.rejects(verifyStore(db, { keys: KEYS, range: { fromSeq: 61, toSeq: 70 } }), /ends at event 60/);
        await assert.rejects(verifyStore(db, { keys: KEYS, range: { fromSeq: 20, toSeq: 10 } }), BadRangeError);
        await assert.rejects(verifyStore(db, { keys: KEYS, range: { fromSeq: 0, toSeq: 10 } }), BadRangeError);
        await asSuperuser(
          owner,
          `INSERT INTO access_log_archives (partition_name, first_seq, last_seq, first_prev_hash, last_hash, events, file, file_sha256, archived_at)
           VALUES ('access_log_y2026m01', 1, 8, repeat('0', 64), repeat('0', 64), 8, 'x.jsonl', repeat('0', 64), now())`,
        );
        try {
          await assert.rejects(verifyStore(db, { keys: KEYS, range: { fromSeq: 5, toSeq: 20 } }), /events 1–8 are archived/);
          assert.equal((await verifyStore(db, { keys: KEYS, range: { fromSeq: 9, toSeq: 20 } })).ok, true);
        } finally {
          await asSuperuser(owner, `DELETE FROM access_log_archives WHERE partition_name = 'access_log_y2026m01'`);
        }
      });
    });
  });
}
