import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ANALYSIS_QUEUE, AnalysisBusy, AnalysisQueue } from '../../src/analysis/analysis-queue.ts';
import { MAX_LIVE_REPORT_DAYS } from '../../src/analysis/review.ts';
import { ANALYSIS_WAIT_MS } from '../../src/api/context.ts';
import { login, seededApp, testApp, type Session } from '../support/app.ts';
import { SP, TERMINALS, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/** Lets queued work move on: a few turns of the event loop, no clock involved. */
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), what);
}

/** Holds the process's analysis queue until `release` is called: what a long report does to the others. */
function holdQueue(): { release: () => void; done: Promise<void> } {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  return { release: () => release(), done: ANALYSIS_QUEUE.run(() => held) };
}

describe('the analysis queue', () => {
  test('runs one task at a time, in arrival order, each starting only when the one before has finished', async () => {
    const q = new AnalysisQueue();
    const log: string[] = [];
    const gates = [0, 1, 2].map(() => {
      let open = () => {};
      const p = new Promise<void>((r) => (open = r));
      return { open: () => open(), p };
    });
    const runs = gates.map((g, i) =>
      q.run(async () => {
        log.push(`start ${i} (running ${q.running}, waiting ${q.waiting})`);
        await g.p;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await until('the first runs, two wait', () => q.waiting === 2);
    assert.deepEqual(log, ['start 0 (running 1, waiting 0)'], 'the first started at once; the others have not');
    gates[0]?.open();
    await until('the second has started', () => log.includes('start 1 (running 1, waiting 1)'));
    assert.equal(log.includes('start 2 (running 1, waiting 0)'), false, 'the third waits for the second');
    gates[1]?.open();
    gates[2]?.open();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
    assert.deepEqual(log, ['start 0 (running 1, waiting 0)', 'end 0', 'start 1 (running 1, waiting 1)', 'end 1', 'start 2 (running 1, waiting 0)', 'end 2']);
    assert.equal(q.running, 0);
  });

  test('a task whose turn does not come within its wait gives up with AnalysisBusy and leaves the queue as it was', async () => {
    const q = new AnalysisQueue();
    let open = () => {};
    const first = q.run(() => new Promise<void>((r) => (open = r)));
    await assert.rejects(
      q.run(async () => 'never', 20),
      (e: unknown) => e instanceof AnalysisBusy && e.retryAfterSeconds >= 1,
    );
    assert.equal(q.waiting, 0, 'the one that gave up is no longer waiting');
    open();
    await first;
    assert.equal(await q.run(async () => 'next'), 'next', 'the queue still works');
  });
});

for (const store of STORES) {
  describe(`/api/analysis/report limits on ${store.name} (issue 14)`, () => {
    const w = seededApp(store);
    let compliance: Session;
    const get = (url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: compliance.cookie } });

    before(async () => {
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      assert.equal(
        (await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: retail.cookie } }))
          .statusCode,
        200,
      );
      compliance = await login(w.app, USERS.compliance);
    });

    test(`a period longer than ${MAX_LIVE_REPORT_DAYS} days is a 400 naming the limit, for the report and the scan; ${MAX_LIVE_REPORT_DAYS} days is a report`, async () => {
      for (const [from, to] of [
        ['1900-01-01', '2999-12-31'],
        ['2026-01-01', '2027-01-02'],
      ] as const) {
        const res = await get(`/api/analysis/report?from=${from}&to=${to}`);
        assert.equal(res.statusCode, 400, res.body);
        const e = res.json().error as { code: string; message: string; details: { rule: string; maxDays: number } };
        assert.equal(e.code, 'validation_failed');
        assert.equal(e.details.rule, 'period_too_long');
        assert.equal(e.details.maxDays, MAX_LIVE_REPORT_DAYS);
        assert.match(e.message, new RegExp(`at most ${MAX_LIVE_REPORT_DAYS} days`));
      }
      const scan = await w.app.inject({
        method: 'POST',
        url: '/api/analysis/scan',
        headers: { cookie: compliance.cookie, 'x-csrf-token': compliance.csrf },
        payload: { from: '1900-01-01', to: '2999-12-31' },
      });
      assert.equal(scan.statusCode, 400, scan.body);
      assert.equal(scan.json().error.details.rule, 'period_too_long');
      const year = await get('/api/analysis/report?from=2026-01-01&to=2027-01-01');
      assert.equal(year.statusCode, 200, year.body);
      assert.equal(year.json().rows.read, 1, 'the one look-up of the fixture');
    });

    test('concurrent reports wait their turn in the queue: none starts while another runs, and each then answers', async () => {
      const hold = holdQueue();
      const startedBefore = ANALYSIS_QUEUE.started;
      const reports = [0, 1, 2].map(() => get('/api/analysis/report?from=2026-11-01&to=2026-11-01'));
      await until('three reports wait behind the one holding the queue', () => ANALYSIS_QUEUE.waiting === 3);
      assert.equal(ANALYSIS_QUEUE.started, startedBefore, 'no report has started (no engine is open) while the queue is held');
      const seen = new Set<string>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          seen.add(`${ANALYSIS_QUEUE.running}/${ANALYSIS_QUEUE.waiting}`);
          await new Promise((r) => setImmediate(r));
        }
      })();
      hold.release();
      await hold.done;
      const answers = await Promise.all(reports);
      watching = false;
      await watch;
      for (const a of answers) assert.equal(a.statusCode, 200, a.body);
      assert.equal(ANALYSIS_QUEUE.started, startedBefore + 3);
      assert.ok(
        [...seen].every((s) => s.startsWith('1/') || s === '0/0'),
        `never more than one running: ${[...seen].join(' ')}`,
      );
      assert.ok(seen.has('1/2') || seen.has('1/1'), `the queue was seen working through the waiting reports: ${[...seen].join(' ')}`);
    });

    test('a report that cannot get its turn within the wait the server allows is a 503 analysis_busy with Retry-After', async () => {
      // The server waits 15 s (ANALYSIS_WAIT_MS); an app told to wait 2 s shows the same answer sooner.
      const waitMs = 2_000;
      const quick = await testApp(w.db, { analysisWaitMs: waitMs });
      const hold = holdQueue();
      try {
        const started = Date.now();
        const res = await quick.inject({ method: 'GET', url: '/api/analysis/report?from=2026-11-01&to=2026-11-01', headers: { cookie: compliance.cookie } });
        assert.equal(res.statusCode, 503, res.body);
        assert.ok(Date.now() - started >= waitMs, 'it waited its turn for as long as allowed');
        assert.equal(res.json().error.code, 'analysis_busy');
        assert.equal(res.json().error.details.rule, 'analysis_busy');
        assert.equal(typeof res.json().error.requestId, 'string');
        assert.equal(res.headers['retry-after'], String(waitMs / 1000));
        assert.equal(ANALYSIS_QUEUE.waiting, 0, 'it left the queue');
      } finally {
        hold.release();
        await hold.done;
        await quick.close();
      }
      assert.equal(ANALYSIS_WAIT_MS, 15_000, 'the server waits 15 s');
    });
  });
}
