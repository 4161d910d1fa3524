import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ExportBusy, LOG_XLSX_QUEUE } from '../../src/audit/export.ts';
import { AnalysisBusy, ANALYSIS_QUEUE } from '../../src/analysis/analysis-queue.ts';
import { EXPORT_WAIT_MS } from '../../src/api/context.ts';
import { TurnQueue } from '../../src/domain/turn-queue.ts';
import { login, seededApp, testApp, type Session } from '../support/app.ts';
import { USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

// Review of issue 19: a workbook of the log is built in memory (~0.5 GB for its 20,000 rows) and nothing
// bounded how many were built at once. They now take their turn, one at a time, on a queue of their own —
// the analysis's mechanism (domain/turn-queue.ts) — and one that cannot start in time is told to come back.

/** Lets queued work move on: a few turns of the event loop, no clock involved. */
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), what);
}

/** Holds a queue until `release` is called: what a long workbook does to the others. */
function hold(queue: TurnQueue): { release: () => void; done: Promise<void> } {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  return { release: () => release(), done: queue.run(() => held) };
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

test('a turn queue gives up with the refusal it was made with: the log workbook queue with export_busy, the analysis queue with analysis_busy', async () => {
  for (const [queue, expected] of [
    [new TurnQueue((w, r) => new ExportBusy(w, r)), ExportBusy],
    [new TurnQueue((w, r) => new AnalysisBusy(w, r)), AnalysisBusy],
  ] as const) {
    const h = hold(queue);
    await assert.rejects(
      queue.run(async () => 'never', 5),
      (e: unknown) => {
        assert.ok(e instanceof expected);
        assert.deepEqual([e.kind, e.details], ['busy', { retryAfterSeconds: 1 }]);
        return true;
      },
    );
    assert.equal(queue.waiting, 0);
    h.release();
    await h.done;
  }
  const busy = new ExportBusy(15_000, 15);
  assert.deepEqual([busy.family, busy.rule, busy.kind], ['export', 'export_busy', 'busy']);
  assert.notEqual(LOG_XLSX_QUEUE, ANALYSIS_QUEUE, 'a workbook does not wait behind an analysis');
});

for (const store of STORES) {
  describe(`workbooks of the log on ${store.name}: one at a time`, () => {
    const w = seededApp(store);
    let compliance: Session;
    const get = (url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: compliance.cookie } });
    const WORKBOOK = '/api/audit/export?format=xlsx&from=2026-10-01&to=2026-11-30';

    before(async () => {
      compliance = await login(w.app, USERS.compliance);
    });

    test('concurrent workbook downloads wait their turn: none is built while another is, and each then answers', async () => {
      const h = hold(LOG_XLSX_QUEUE);
      const startedBefore = LOG_XLSX_QUEUE.started;
      const downloads = [0, 1, 2].map(() => get(WORKBOOK));
      await until('three workbooks wait behind the one being built', () => LOG_XLSX_QUEUE.waiting === 3);
      assert.equal(LOG_XLSX_QUEUE.started, startedBefore, 'none has started while the queue is held');
      const csv = await get('/api/audit/export?format=csv&from=2026-10-01&to=2026-11-30');
      assert.equal(csv.statusCode, 200, 'the streamed CSV does not wait for a workbook');
      const seen = new Set<string>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          seen.add(`${LOG_XLSX_QUEUE.running}/${LOG_XLSX_QUEUE.waiting}`);
          await new Promise((r) => setImmediate(r));
        }
      })();
      h.release();
      await h.done;
      const answers = await Promise.all(downloads);
      watching = false;
      await watch;
      for (const a of answers) {
        assert.equal(a.statusCode, 200, a.body);
        assert.equal(a.headers['content-type'], XLSX);
        assert.equal(a.rawPayload.subarray(0, 2).toString('latin1'), 'PK', 'a workbook (a zip)');
      }
      assert.equal(LOG_XLSX_QUEUE.started, startedBefore + 3);
      assert.ok(
        [...seen].every((s) => s.startsWith('1/') || s === '0/0'),
        `never more than one built at once: ${[...seen].join(' ')}`,
      );
    });

    test('a workbook that cannot start within the wait the server allows is a 503 export_busy with Retry-After', async () => {
      // The server waits 15 s (EXPORT_WAIT_MS); an app told to wait 1 s gives the same answer sooner.
      const quick = await testApp(w.db, { exportWaitMs: 1_000 });
      const h = hold(LOG_XLSX_QUEUE);
      try {
        const res = await quick.inject({ method: 'GET', url: WORKBOOK, headers: { cookie: compliance.cookie } });
        assert.equal(res.statusCode, 503, res.body);
        const e = res.json().error;
        assert.equal(e.code, 'export_busy');
        assert.equal(e.details.rule, 'export_busy');
        assert.match(e.message, /take CSV or JSON Lines/);
        assert.equal(typeof e.requestId, 'string');
        assert.equal(res.headers['retry-after'], '1');
        assert.equal(LOG_XLSX_QUEUE.waiting, 0, 'it left the queue');
      } finally {
        h.release();
        await h.done;
      }
      try {
        const after = await quick.inject({ method: 'GET', url: WORKBOOK, headers: { cookie: compliance.cookie } });
        assert.equal(after.statusCode, 200, 'once the queue is free, the same request is answered');
      } finally {
        await quick.close();
      }
      assert.equal(EXPORT_WAIT_MS, 15_000, 'the server waits 15 s');
    });
  });
}
