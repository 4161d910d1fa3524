import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { STORE_CHECK_MS } from '../../src/api/health-routes.ts';
import { Metrics } from '../../src/api/metrics.ts';
import type { Db } from '../../src/store/db.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { login, testApp, writerOf, type Session } from '../support/app.ts';
import { SP, USERS, raiseBulkReadingFinding, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/**
 * The database fails under a running server (issue 17): PostgreSQL reached through a relay that the test cuts
 * and freezes. A store that cannot answer is a 503 `store_unavailable` with Retry-After and a line in the
 * server log — not a 500, not a hang — and the server serves again once it is back, without a restart.
 * PostgreSQL only: the embedded store runs inside the process and cannot be cut off from it.
 */
const pg = STORES.find((s) => s.name === 'postgres');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The open findings of one rule and severity in a scrape, or null when the series is absent. */
function openFindings(text: string): number | null {
  const m = /^gridwall_findings_open\{rule="bulk_reading",severity="high"\} (\S+)$/m.exec(text);
  return m === null ? null : Number(m[1]);
}
if (pg !== undefined) {
  describe('the store fails under a running server (PostgreSQL through a relay)', () => {
    let dispose: () => Promise<void>;
    let relay: TcpProxy;
    let viaRelay: Db;
    let app: FastifyInstance;
    let cc: Session;
    let owner: Db;
    let appDb: Db;
    // A pool that waits longer for an answer than readiness and a scrape do: what they gave up on runs on.
    let patient: Db;
    let patientApp: FastifyInstance;
    /** Opens another pool through the relay, as the application's role, with these time-outs. */
    let viaRelayWith: (timeouts: { connectMs: number; statementMs: number; queryMs: number; idleInTransactionMs: number }) => Promise<Db>;
    const metrics = new Metrics();
    const lines: Record<string, unknown>[] = [];

    before(async () => {
      const opened = await pg.open();
      dispose = opened.dispose;
      owner = opened.owner;
      appDb = opened.db;
      await seedFixture(opened.db);
      const server = opened.server ?? assert.fail('a PostgreSQL store names its schema and role');
      const url = new URL(process.env['DATABASE_URL'] ?? '');
      relay = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.hostname = '127.0.0.1';
      url.port = String(relay.port);
      viaRelayWith = (timeouts) => openPostgres(url.href, { schema: server.schema, role: server.role, poolSize: 4, timeouts });
      viaRelay = await openPostgres(url.href, {
        schema: server.schema,
        role: server.role,
        poolSize: 4,
        timeouts: { connectMs: 500, statementMs: 1000, queryMs: 1500, idleInTransactionMs: 5000 },
      });
      app = await testApp(viaRelay, {
        sessionCacheMs: 0,
        logger: { stream: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } },
      });
      cc = await login(app, USERS.callCentre);
      patient = await openPostgres(url.href, {
        schema: server.schema,
        role: server.role,
        poolSize: 4,
        timeouts: { connectMs: 500, statementMs: 10_000, queryMs: 10_000, idleInTransactionMs: 10_000 },
      });
      patientApp = await testApp(patient, { metrics });
    });
    after(async () => {
      await patientApp?.close();
      await patient?.close();
      await app?.close();
      await viaRelay?.close();
      await relay?.close();
      await dispose?.();
    });

    const lookUp = () => app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`, headers: { cookie: cc.cookie } });

    /** The 503 a client gets, and the server log's line for the same request id. */
    function assertUnavailable(res: Awaited<ReturnType<typeof lookUp>>, failure: 'unreachable' | 'timeout'): void {
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.headers['retry-after'], '5');
      const body = res.json<{ error: { code: string; message: string; requestId: string; details?: { store?: string } } }>();
      assert.equal(body.error.code, 'store_unavailable');
      assert.equal(body.error.details?.store, failure);
      assert.equal(body.error.requestId, res.headers['x-request-id']);
      assert.doesNotMatch(res.body, /山田|090-1111-2222|09011112222/);
      const logged = lines.filter((l) => l['reqId'] === body.error.requestId);
      assert.ok(
        logged.some((l) => l['level'] === 40 && l['store'] === failure),
        `a warning in the server log for ${body.error.requestId}: ${JSON.stringify(logged)}`,
      );
      assert.ok(logged.some((l) => l['msg'] === 'request' && l['status'] === 503));
    }

    const health = async (path: string) => {
      const res = await app.inject({ method: 'GET', url: path });
      return { status: res.statusCode, body: res.json<{ status: string; checks?: { store: { state: string; failure?: string } } }>() };
    };

    test('the store cut off, then back: 503 store_unavailable (unreachable) with Retry-After, then served without a restart; readiness says so, liveness does not', async (t) => {
      assert.equal((await lookUp()).statusCode, 200, 'the control: served through the relay');
      assert.deepEqual((await health('/api/health/ready')).status, 200);
      t.after(() => relay.heal());
      await relay.cut();
      assertUnavailable(await lookUp(), 'unreachable');
      assertUnavailable(await lookUp(), 'unreachable');
      const ready = await health('/api/health/ready');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.status, 'store_unavailable');
      assert.deepEqual(ready.body.checks?.store.state, 'failing');
      assert.equal((await health('/api/health')).status, 503, 'the old path answers as readiness');
      assert.equal((await health('/api/health/live')).status, 200, 'the process itself is alive');
      await relay.heal();
      const back = await lookUp();
      assert.equal(back.statusCode, 200, back.body);
      assert.equal((await health('/api/health/ready')).status, 200);
    });

    test(
      'the store frozen (it accepts, then answers nothing): a 503 store_unavailable (timeout) instead of a hang, then served when it thaws',
      { timeout: 15_000 },
      async (t) => {
        assert.equal((await lookUp()).statusCode, 200, 'the control');
        t.after(() => relay.heal());
        relay.freeze();
        assertUnavailable(await lookUp(), 'timeout');
        const ready = await health('/api/health/ready');
        assert.equal(ready.status, 503, 'readiness answers within its own time limit while the store is frozen');
        assert.equal(ready.body.checks?.store.failure, 'timeout');
        await relay.heal();
        // Connections that timed out are dropped; the next request opens new ones.
        let back = await lookUp();
        if (back.statusCode !== 200) back = await lookUp();
        assert.equal(back.statusCode, 200, back.body);
      },
    );

    test(
      'the store frozen: readiness probes and metrics scrapes each share one query in flight — no pile-up of pool connections — and each answers within its deadline',
      { timeout: 30_000 },
      async (t) => {
        await raiseBulkReadingFinding(patient);
        const scrape = async () => {
          const t0 = performance.now();
          const text = await metrics.scrape({ writer: () => writerOf(patientApp).status(), db: patient, now: () => new Date() });
          return { text, ms: performance.now() - t0 };
        };
        const probe = async () => {
          const t0 = performance.now();
          const res = await patientApp.inject({ method: 'GET', url: '/api/health/ready' });
          return { status: res.statusCode, failure: res.json<{ checks: { store: { failure?: string } } }>().checks.store.failure, ms: performance.now() - t0 };
        };
        /** Connections taken from the pool (running a query, or being opened) and requests waiting for one. */
        const busy = () => {
          const s = patient.poolStats?.() ?? assert.fail('a PostgreSQL store reports its pool');
          return { taken: s.total - s.idle, waiting: s.waiting };
        };
        assert.equal((await probe()).status, 200, 'the control');
        assert.equal(openFindings((await scrape()).text), 1, 'the control');
        t.after(() => relay.heal());
        relay.freeze();
        // Two rounds: the second comes after the first gave up, while the first round's query still waits.
        for (const round of [1, 2]) {
          const probes = Array.from({ length: 6 }, probe);
          await sleep(200);
          assert.deepEqual(busy(), { taken: 1, waiting: 0 }, `round ${round}: six probes, one query`);
          for (const p of await Promise.all(probes)) {
            assert.deepEqual([p.status, p.failure], [503, 'timeout']);
            assert.ok(p.ms < STORE_CHECK_MS + 1000, `a probe answered in ${Math.round(p.ms)} ms`);
          }
        }
        const scrapes = Array.from({ length: 4 }, scrape);
        await sleep(200);
        const during = busy();
        assert.ok(
          during.taken <= 2 && during.waiting === 0,
          `four scrapes beside the probes' query take at most one more connection: ${JSON.stringify(during)}`,
        );
        for (const s of await Promise.all(scrapes)) {
          assert.ok(s.ms < 3000, `a scrape answered in ${Math.round(s.ms)} ms`);
          assert.match(s.text, /^gridwall_store_up 0$/m);
          assert.equal(openFindings(s.text), 1, 'the open findings keep the value last read');
        }
        await relay.heal();
        let ready = await probe();
        for (let i = 0; i < 20 && ready.status !== 200; i++) ready = await probe();
        assert.equal(ready.status, 200, 'ready again once the store thaws');
      },
    );

    test(
      'the store frozen while each wait on it may take 10 s: the request is answered 503 answer_timeout at the answer time-out, nothing served (a change: look it up), then served when it thaws',
      { timeout: 30_000 },
      async (t) => {
        const answerLines: Record<string, unknown>[] = [];
        // Every wait on the store may take 10 s, a new connection included.
        const waits = await viaRelayWith({ connectMs: 10_000, statementMs: 10_000, queryMs: 10_000, idleInTransactionMs: 10_000 });
        t.after(() => waits.close());
        // The session is cached (the control read puts it there), so the freeze meets the handler's own waits.
        const bounded = await testApp(waits, {
          sessionCacheMs: 60_000,
          httpTimeouts: { requestMs: 30_000, headersMs: 10_000, keepAliveMs: 5000, answerMs: 1500 },
          logger: { stream: { write: (l: string) => void answerLines.push(JSON.parse(l) as Record<string, unknown>) } },
        });
        t.after(() => bounded.close());
        const session = await login(bounded, USERS.callCentre);
        // A second session, to be ended while the store is frozen (a change whose handler runs on).
        const leaving = await login(bounded, USERS.retail);
        const read = () =>
          bounded.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`, headers: { cookie: session.cookie } });
        assert.equal((await read()).statusCode, 200, 'the control');
        t.after(() => relay.heal());
        relay.freeze();
        const t0 = performance.now();
        const res = await read();
        const ms = performance.now() - t0;
        assert.equal(res.statusCode, 503, res.body);
        assert.ok(ms >= 1400 && ms < 4000, `answered after ${Math.round(ms)} ms (the answer time-out is 1.5 s, each store wait 10 s)`);
        assert.equal(res.headers['retry-after'], '5');
        const body = res.json<{ error: { code: string; message: string; requestId: string } }>();
        assert.equal(body.error.code, 'answer_timeout');
        assert.match(body.error.message, /no answer within 1\.5 s/);
        assert.doesNotMatch(res.body, /山田|090-1111-2222|09011112222/);
        const logged = answerLines.filter((l) => l['reqId'] === body.error.requestId);
        assert.ok(
          logged.some((l) => l['level'] === 40 && l['msg'] === 'no answer in time: nothing served'),
          JSON.stringify(logged),
        );
        assert.ok(logged.some((l) => l['msg'] === 'request' && l['status'] === 503));
        // A change (here a logout) may still be made by the handler that runs on: no Retry-After, look it up first.
        // (A login no longer serves: its first wait is the login limit's count in the store, before the handler,
        // and a request answered by then goes no further.)
        const change = await bounded.inject({
          method: 'DELETE',
          url: '/api/session',
          headers: { cookie: leaving.cookie, 'x-csrf-token': leaving.csrf },
        });
        assert.equal(change.statusCode, 503, change.body);
        assert.equal(change.json<{ error: { code: string } }>().error.code, 'answer_timeout');
        assert.equal(change.headers['retry-after'], undefined);
        assert.match(change.json<{ error: { message: string } }>().error.message, /whether the change was made is not known yet; look it up/);
        await relay.heal();
        let back = await read();
        for (let i = 0; i < 20 && back.statusCode !== 200; i++) back = await read();
        assert.equal(back.statusCode, 200, back.body);
        // The handler ends later (its waits ran on): one line says how, at info; Fastify's "already sent" never.
        const late = () => answerLines.find((l) => l['reqId'] === body.error.requestId && l['msg'] === 'request ended after its answer time-out');
        for (let i = 0; i < 120 && late() === undefined; i++) await sleep(100);
        assert.equal(late()?.['level'], 30, JSON.stringify(answerLines.filter((l) => l['reqId'] === body.error.requestId)));
        assert.deepEqual(
          answerLines.filter((l) => /already sent|reply\.sent/i.test(String(l['msg']))),
          [],
          "Fastify's own lines for an answer sent twice",
        );
        // The logout ends late too and sends its answer itself: said without the URL Fastify's warning quotes.
        const second = () => answerLines.find((l) => l['msg'] === 'a second answer to an answered request was not sent');
        for (let i = 0; i < 120 && second() === undefined; i++) await sleep(100);
        assert.notEqual(second(), undefined, 'the late logout answered a second time');
        // The route's pattern is logged on purpose; Fastify's warning put the request's URL in its message.
        const urls = answerLines.filter((l) => JSON.stringify({ ...l, route: null }).includes('/api/session'));
        assert.deepEqual(urls, [], 'a URL in the server log');
      },
    );

    test(
      'a scrape while the findings are locked: the server itself cancels the count at the deadline, no query is left waiting',
      { timeout: 15_000 },
      async () => {
        const m = new Metrics();
        const count = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND wait_event_type = 'Lock' AND query LIKE '%FROM findings%'`;
        const waiting = async () => (await owner.query<{ n: number }>(count)).rows[0]?.n ?? 0;
        // The application's own pool here has no time-outs of its own: only the scrape's bound the count.
        await owner.transaction(async (tx) => {
          await tx.query('LOCK TABLE findings IN ACCESS EXCLUSIVE MODE');
          const text = await m.scrape({ writer: () => writerOf(app).status(), db: appDb, now: () => new Date() });
          assert.match(text, /^gridwall_store_up 0$/m);
          let n = await waiting();
          for (let i = 0; i < 20 && n > 0; i++) {
            await sleep(50);
            n = await waiting();
          }
          assert.equal(n, 0, 'the count still waits for the lock after the scrape gave up');
        });
      },
    );
  });
}
