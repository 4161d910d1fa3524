import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../src/domain/anomaly-thresholds.ts';
import { DAY_MS } from '../../src/domain/japan-time.ts';
import { findingSink } from '../../src/analysis/findings.ts';
import { ReadingTally } from '../../src/firewall/reading-tally.ts';
import { login, seededApp, tallyOf, testApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

// Issue 20: demo-nw-cc read 400 corporate records in 1.7 s and nothing was raised, because bulk reading was
// judged only by a scan. Now each person's non-public reads per day are counted from the log and judged
// against their own running baseline as they happen: a live `bulk_reading` finding, one per person while open.

/** Small numbers, so a test reads a handful of records: a day of 4 is the floor, 3 × the usual day the factor. */
const T: Thresholds = { ...DEFAULT_THRESHOLDS, bulkMinDaily: 4, bulkOwnFactor: 3 };

interface BulkFinding {
  subjectPersonId: string | null;
  severity: string;
  source: string;
  summary: string;
  occurrences: number;
  evidence: { reads: number; baseline: number; baselineKind: string; baselineDays: number; threshold: number; level: number; day: string };
}

for (const store of STORES) {
  describe(`bulk reading judged live against the person's own baseline, on ${store.name}`, () => {
    let now = NOW;
    const clock = () => now;
    const w = seededApp(store, { now: clock, bulkReading: { thresholds: T }, sessionCacheMs: 0 });
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

    /** `n` look-ups by the call-centre agent (network side: holder name and phone shown, non-public) at the clock's instant. */
    const readAs = async (app: FastifyInstance, user: string, n: number) => {
      const s = await login(app, user);
      for (let i = 0; i < n; i++) {
        const res = await app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`, headers: { cookie: s.cookie } });
        assert.equal(res.statusCode, 200, res.body);
      }
    };
    const bulkFindings = async (person: string): Promise<BulkFinding[]> => {
      const res = await get(await login(w.app, USERS.compliance), '/api/findings?rule=bulk_reading&open=true&limit=100');
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ findings: BulkFinding[] }>().findings.filter((f) => f.subjectPersonId === person);
    };

    test('a person with five days of history: today passes at 3 × their median day, not one read before; twice that makes it high', async () => {
      // Five earlier days of 2 reads each (days before NOW, Japan time): the median day is 2, so the threshold is max(4, 3 × 2) = 6.
      for (let d = 5; d >= 1; d--) {
        now = new Date(NOW.getTime() - d * DAY_MS);
        await readAs(w.app, USERS.callCentre, 2);
      }
      now = NOW;
      await readAs(w.app, USERS.callCentre, 5);
      await tallyOf(w.app).drain();
      assert.deepEqual(await bulkFindings('p-cc'), [], 'five reads today: under 6');
      await readAs(w.app, USERS.callCentre, 1);
      await tallyOf(w.app).drain();
      const [first, ...rest] = await bulkFindings('p-cc');
      assert.deepEqual(rest, []);
      assert.ok(first !== undefined, 'the sixth read raised it at once');
      assert.deepEqual(
        [
          first.source,
          first.severity,
          first.occurrences,
          first.evidence.reads,
          first.evidence.baseline,
          first.evidence.baselineKind,
          first.evidence.baselineDays,
          first.evidence.threshold,
        ],
        ['live', 'medium', 1, 6, 2, 'own', 5, 6],
      );
      assert.match(first.summary, /非公開情報を 6 件閲覧/);
      // More reads below twice the threshold add nothing; at 12 the finding is updated and becomes high.
      await readAs(w.app, USERS.callCentre, 5);
      await tallyOf(w.app).drain();
      assert.equal((await bulkFindings('p-cc'))[0]?.occurrences, 1, '11 reads: still level 1');
      await readAs(w.app, USERS.callCentre, 1);
      await tallyOf(w.app).drain();
      const [updated, ...others] = await bulkFindings('p-cc');
      assert.deepEqual(others, [], 'one open finding per person and rule');
      assert.deepEqual([updated?.occurrences, updated?.severity, updated?.evidence.reads, updated?.evidence.level], [2, 'high', 12, 2]);
    });

    test('a new person has no baseline: judged against bulkMinDaily as their usual day (threshold 3 × 4 = 12), so a first busy day is not bulk', async () => {
      now = new Date(NOW.getTime() + 2 * 3_600_000);
      await readAs(w.app, USERS.serviceCentre, 11);
      await tallyOf(w.app).drain();
      assert.deepEqual(await bulkFindings('p-nsc'), [], 'eleven reads on a first day');
      await readAs(w.app, USERS.serviceCentre, 1);
      await tallyOf(w.app).drain();
      const found = await bulkFindings('p-nsc');
      assert.deepEqual(
        found.map((f) => [f.evidence.reads, f.evidence.baselineKind, f.evidence.baselineDays, f.evidence.threshold]),
        [[12, 'provisional', 0, 12]],
      );
      now = NOW;
    });

    test('the count survives a restart and is one count for several processes: each read counted once, the finding raised once', async () => {
      // Two more server processes over the same store (each its own log writer and tally), reading on a new day for p-cc.
      now = new Date(NOW.getTime() + DAY_MS);
      const second = await testApp(w.db, { now: clock, bulkReading: { thresholds: T } });
      const third = await testApp(w.db, { now: clock, bulkReading: { thresholds: T } });
      try {
        // p-cc's days now: 2, 2, 2, 2, 2 and 12 → the last 6 days' median is 2: threshold 6. Reads split over the processes.
        await Promise.all([readAs(w.app, USERS.callCentre, 2), readAs(second, USERS.callCentre, 2), readAs(third, USERS.callCentre, 1)]);
        await Promise.all([tallyOf(w.app).drain(), tallyOf(second).drain(), tallyOf(third).drain()]);
        const before = await bulkFindings('p-cc');
        assert.equal(before[0]?.occurrences, 2, 'five reads today: nothing new');
        await readAs(third, USERS.callCentre, 1);
        await Promise.all([tallyOf(second).drain(), tallyOf(third).drain(), tallyOf(w.app).drain()]);
        const after = await bulkFindings('p-cc');
        assert.equal(after.length, 1);
        assert.deepEqual([after[0]?.occurrences, after[0]?.evidence.reads, after[0]?.evidence.threshold], [3, 6, 6], 'raised once for the day, by one process');
      } finally {
        for (const app of [second, third]) {
          await tallyOf(app).close();
          await app.close();
        }
      }
      // A restarted process (a new tally) finds the counts in the store: one more read is the seventh, not the first.
      const restarted = new ReadingTally(w.db, findingSink(w.db), { clock, thresholds: T, delayMs: 0 });
      try {
        await readAs(w.app, USERS.callCentre, 1);
        await restarted.drain();
        const { rows } = await w.db.query<{ reads: number }>(`SELECT reads FROM reading_days WHERE person_id = 'p-cc' ORDER BY day DESC LIMIT 1`);
        assert.equal(Number(rows[0]?.reads), 7);
      } finally {
        await restarted.close();
      }
      now = NOW;
    });

    test('refused reads and public-only views are not counted', async () => {
      now = new Date(NOW.getTime() + 3 * DAY_MS);
      const other = await login(w.app, USERS.otherRetailer);
      // Another retailer's agent on a customer of the affiliated retailer: nothing non-public shown.
      for (let i = 0; i < 3; i++) await get(other, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`);
      await tallyOf(w.app).drain();
      const { rows } = await w.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM reading_days WHERE person_id = 'p-other'`);
      assert.equal(rows[0]?.n, 0);
      now = NOW;
    });
  });
}
