import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { findingSink } from '../../src/analysis/findings.ts';
import { Metrics } from '../../src/api/metrics.ts';
import { grantAppRole } from '../../src/audit/roles.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../src/domain/anomaly-thresholds.ts';
import { DAY_MS } from '../../src/domain/japan-time.ts';
import { FAILING_ALERT_AFTER, ReadingTally } from '../../src/firewall/reading-tally.ts';
import type { Db } from '../../src/store/db.ts';
import { login, seededApp, tallyOf, testApp, writerOf } from '../support/app.ts';
import { NOW, SP, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

// Review of issue 20's live bulk-reading count: a count that fails must not switch live detection off
// silently (readiness, metrics and an alert say so, while reads go on), one finding that cannot be raised
// must not lose the others', and a process must never wait for another's count.

/** A new person's threshold is 3 × 4 = 12 reads a day (no baseline of their own yet). */
const T: Thresholds = { ...DEFAULT_THRESHOLDS, bulkMinDaily: 4, bulkOwnFactor: 3 };

interface Found {
  rule: string;
  severity: string;
  subjectPersonId: string | null;
  evidence: Record<string, unknown>;
}

for (const store of STORES) {
  describe(`the live bulk-reading count's failures, on ${store.name}`, () => {
    let now = NOW;
    const clock = () => now;
    // The reads go through an app without a tally of its own: each test counts with a tally it drains, so
    // that no run a read nudged races the test's.
    const w = seededApp(store, { now: clock, sessionCacheMs: 0 });
    const newTally = () => new ReadingTally(w.db, findingSink(w.db), { clock, thresholds: T, delayMs: 0 });

    const readAs = async (app: FastifyInstance, user: string, n: number) => {
      const s = await login(app, user);
      for (let i = 0; i < n; i++) {
        const res = await app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`, headers: { cookie: s.cookie } });
        assert.equal(res.statusCode, 200, res.body);
      }
    };
    const findings = async (rule: string): Promise<Found[]> => {
      const s = await login(w.app, USERS.compliance);
      const res = await w.app.inject({ method: 'GET', url: `/api/findings?rule=${rule}&open=true&limit=100`, headers: { cookie: s.cookie } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ findings: Found[] }>().findings;
    };
    const ready = async (app: FastifyInstance) => {
      const res = await app.inject({ method: 'GET', url: '/api/health/ready' });
      return { code: res.statusCode, body: res.json<{ status: string; checks: { detection?: { state: string; bulkReading: Record<string, unknown> } } }>() };
    };

    test('a finding that cannot be raised loses only that person’s level: the others in the same run are raised, and the run is reported failed', async () => {
      const tally = newTally();
      try {
        // The store refuses the call-centre agent's finding (a real refusal: a constraint the owner adds).
        await w.owner.exec(
          `ALTER TABLE findings ADD CONSTRAINT test_refuse_p_cc CHECK (rule <> 'bulk_reading' OR subject_person_id IS DISTINCT FROM 'p-cc') NOT VALID`,
        );
        // Both over a new person's 12 in one page; the agent ('p-cc') is raised first.
        await readAs(w.app, USERS.callCentre, 12);
        await readAs(w.app, USERS.serviceCentre, 12);
        await assert.rejects(tally.drain(), /test_refuse_p_cc/);
        assert.deepEqual(
          (await findings('bulk_reading')).map((f) => [f.subjectPersonId, f.evidence['reads']]),
          [['p-nsc', 12]],
          'the service-centre agent’s finding is raised after the call-centre agent’s failed',
        );
        assert.deepEqual([tally.status().state, tally.status().consecutiveFailures], ['failing', 1]);

        await w.owner.exec('ALTER TABLE findings DROP CONSTRAINT test_refuse_p_cc');
        await tally.drain();
        assert.equal(tally.status().state, 'ok', 'the next run that succeeds clears it');
        assert.deepEqual(
          (await findings('bulk_reading')).map((f) => f.subjectPersonId),
          ['p-nsc'],
          'the agent’s first level is lost (its count was committed), as documented',
        );
        // The next level (twice the threshold) still raises it.
        await readAs(w.app, USERS.callCentre, 12);
        await tally.drain();
        const agent = (await findings('bulk_reading')).find((f) => f.subjectPersonId === 'p-cc');
        assert.deepEqual([agent?.severity, agent?.evidence['reads'], agent?.evidence['level']], ['high', 24, 2]);
      } finally {
        await tally.close();
      }
    });

    test('a count the store refuses leaves reads served, says degraded in readiness and the metrics, alerts after FAILING_ALERT_AFTER runs, and recovers', async () => {
      now = new Date(NOW.getTime() + DAY_MS);
      // A second server process whose tally counts only when drained (its own reads would nudge it; none are made through it).
      const app = await testApp(w.db, { now: clock, bulkReading: { thresholds: T } });
      const tally = tallyOf(app);
      const role = String((await w.db.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u);
      const schema = String((await w.db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s);
      // On the server as it happens: `db grant-app` not run again after a migration (no privilege on the table).
      // The embedded store runs as its owner, who has every privilege: there the table goes missing instead.
      const kind = store.name === 'postgres' ? '42501' : '42P01';
      await w.owner.exec(store.name === 'postgres' ? `REVOKE ALL ON reading_days FROM ${role}` : 'ALTER TABLE reading_days RENAME TO reading_days_gone');
      const metrics = new Metrics();
      const scrape = () => metrics.scrape({ writer: () => writerOf(app).status(), db: w.db, now: clock, tally: () => tally.status() });
      try {
        await readAs(w.app, USERS.serviceCentre, 1); // served all the same
        for (let n = 1; n <= FAILING_ALERT_AFTER; n++) {
          await assert.rejects(tally.drain());
          assert.equal(tally.status().consecutiveFailures, n);
          if (n === FAILING_ALERT_AFTER - 1)
            assert.deepEqual(await findings('bulk_reading_count_failing'), [], 'not alerted before FAILING_ALERT_AFTER failures');
        }
        const status = tally.status();
        assert.deepEqual([status.state, status.lastError?.kind], ['failing', kind]);

        const r = await ready(app);
        assert.equal(r.code, 200, 'reads go on: a detection control failing is no reason to take the instance out of service');
        assert.equal(r.body.status, 'degraded');
        assert.deepEqual(
          [r.body.checks.detection?.state, r.body.checks.detection?.bulkReading['consecutiveFailures'], r.body.checks.detection?.bulkReading['lastError']],
          ['failing', FAILING_ALERT_AFTER, { kind, ageSeconds: 0 }],
        );

        const text = await scrape();
        assert.match(text, /^gridwall_bulk_reading_failing 1$/m);
        assert.match(text, new RegExp(`^gridwall_bulk_reading_failures_total ${FAILING_ALERT_AFTER}$`, 'm'));

        const [alert, ...more] = await findings('bulk_reading_count_failing');
        assert.deepEqual(more, []);
        assert.deepEqual(
          [alert?.severity, alert?.subjectPersonId, alert?.evidence['consecutiveFailures'], alert?.evidence['kind']],
          ['high', null, FAILING_ALERT_AFTER, kind],
        );
      } finally {
        // The remedy: `db grant-app` again (or the table back).
        if (store.name === 'postgres') await grantAppRole(w.owner, role, schema);
        else await w.owner.exec('ALTER TABLE reading_days_gone RENAME TO reading_days');
      }
      try {
        await tally.drain();
        const r = await ready(app);
        assert.deepEqual([tally.status().state, r.code, r.body.status, r.body.checks.detection?.state], ['ok', 200, 'ok', 'ok']);
        assert.match(await scrape(), /^gridwall_bulk_reading_failing 0$/m);
        assert.equal(await readsOn(w.db, 'p-nsc', now), 1, 'the read made while it failed is counted once it recovers');
      } finally {
        await tally.close();
        await app.close();
        now = NOW;
      }
    });

    test('a process that finds the cursor taken by another does not wait for it: its run ends at once, and it counts later', async () => {
      now = new Date(NOW.getTime() + 2 * DAY_MS);
      // The cursor row exists once a first count has run.
      const first = newTally();
      await first.drain();
      await first.close();
      await readAs(w.app, USERS.serviceCentre, 3);
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding = () => {};
      const taken = new Promise<void>((resolve) => (holding = resolve));
      // Another process's count holds the cursor row until released.
      const holder = w.db.transaction(async (tx) => {
        await tx.query('SELECT seq FROM reading_tally WHERE id = 1 FOR UPDATE');
        holding();
        await held;
      });
      try {
        await taken;
        // The embedded store has one connection: a count waits for it there whatever it does, so only the server shows this.
        if (store.name === 'postgres') {
          const busy = newTally();
          busy.nudge();
          // close() waits for the run under way: a run waiting on the lock would never end while the holder holds it.
          await busy.close();
          assert.deepEqual([busy.status().state, await readsOn(w.db, 'p-nsc', now)], ['ok', 0], 'ended without counting, and without a failure');
        }
      } finally {
        release();
        await holder;
      }
      const tally = newTally();
      try {
        await tally.drain();
        assert.equal(await readsOn(w.db, 'p-nsc', now), 3, 'counted once the cursor is free');
      } finally {
        await tally.close();
        now = NOW;
      }
    });
  });
}

async function readsOn(db: Db, person: string, at: Date): Promise<number> {
  const { rows } = await db.query<{ reads: number }>('SELECT reads FROM reading_days WHERE person_id = $1 AND day = $2::date', [
    person,
    new Date(at.getTime() + 9 * 3_600_000).toISOString().slice(0, 10),
  ]);
  return Number(rows[0]?.reads ?? 0);
}
