import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/store/db.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { login, testApp, type Session } from '../support/app.ts';
import { SP, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/**
 * The database fails under a running server (issue 17): PostgreSQL reached through a relay that the test cuts
 * and freezes. A store that cannot answer is a 503 `store_unavailable` with Retry-After and a line in the
 * server log — not a 500, not a hang — and the server serves again once it is back, without a restart.
 * PostgreSQL only: the embedded store runs inside the process and cannot be cut off from it.
 */
const pg = STORES.find((s) => s.name === 'postgres');
if (pg !== undefined) {
  describe('the store fails under a running server (PostgreSQL through a relay)', () => {
    let dispose: () => Promise<void>;
    let relay: TcpProxy;
    let viaRelay: Db;
    let app: FastifyInstance;
    let cc: Session;
    const lines: Record<string, unknown>[] = [];

    before(async () => {
      const opened = await pg.open();
      dispose = opened.dispose;
      await seedFixture(opened.db);
      const server = opened.server ?? assert.fail('a PostgreSQL store names its schema and role');
      const url = new URL(process.env['DATABASE_URL'] ?? '');
      relay = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.hostname = '127.0.0.1';
      url.port = String(relay.port);
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
    });
    after(async () => {
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
  });
}
