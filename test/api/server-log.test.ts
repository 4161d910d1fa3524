import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { serverLogger } from '../../src/api/server-log.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { SP, USERS } from '../support/fixture.ts';
import { serviceToken } from '../support/tokens.ts';
import { STORES } from '../support/stores.ts';

/**
 * The server's own log (issue 17): a JSON line per request with its id, route pattern, status and duration —
 * and never what the firewall protects. The requests below carry a phone number and a name as search terms, a
 * session cookie, a CSRF token and an API token, and are answered with a customer's name and phone; none of
 * those strings may appear in any line.
 */
describe('the server log', () => {
  const lines: string[] = [];
  const w = seededApp(STORES[0]!, { logger: { level: 'info', stream: { write: (l: string) => void lines.push(l) } } });
  let cc: Session;
  let token: string;
  const secrets: string[] = [];
  const ids: string[] = [];

  before(async () => {
    cc = await login(w.app, USERS.callCentre);
    token = (await serviceToken(w.db, { userId: 'svc-log', organizationId: 'org-r0002', scopes: ['customer.read'] })).token;
    secrets.push(cc.cookie.split('=')[1] ?? '', cc.csrf, token);
    const get = async (url: string, headers: Record<string, string>) => {
      const res = await w.app.inject({ method: 'GET', url, headers });
      ids.push(String(res.headers['x-request-id']));
      return res;
    };
    const byPhone = await get('/api/supply-points?purpose=customer_inquiry&phone=090-1111-2222', { cookie: cc.cookie });
    assert.equal(byPhone.statusCode, 200, byPhone.body);
    const record = await get(`/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`, { cookie: cc.cookie });
    assert.equal(record.statusCode, 200, record.body);
    assert.match(record.body, /山田 太郎/, 'the control: the answer does carry the name the log must not');
    await get(`/api/supply-points?purpose=own_customer_service&name=${encodeURIComponent('佐藤')}`, { authorization: `Bearer ${token}` });
    await get('/api/no-such-route?phone=09011112222', { cookie: cc.cookie });
    const bad = await w.app.inject({ method: 'POST', url: '/api/session/logout-everywhere', headers: { cookie: cc.cookie, 'x-csrf-token': `${cc.csrf}x` } });
    ids.push(String(bad.headers['x-request-id']));
  });

  test('each request leaves one JSON line with its request id, route pattern, method, status and duration', () => {
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = parsed.filter((p) => p['msg'] === 'request');
    for (const id of ids) {
      const mine = requests.filter((r) => r['reqId'] === id);
      assert.equal(mine.length, 1, `one line for request ${id}`);
      const line = mine[0] ?? {};
      assert.equal(typeof line['status'], 'number');
      assert.equal(typeof line['ms'], 'number');
      assert.equal(typeof line['time'], 'number');
    }
    const statuses = Object.fromEntries(requests.filter((r) => ids.includes(String(r['reqId']))).map((r) => [r['reqId'], [r['route'], r['status']]]));
    assert.deepEqual(statuses[ids[0] ?? ''], ['/api/supply-points', 200]);
    assert.deepEqual(statuses[ids[1] ?? ''], ['/api/supply-points/:id', 200]);
    assert.deepEqual(statuses[ids[3] ?? ''], [null, 404], 'an unknown route is logged without its path');
    assert.deepEqual(statuses[ids[4] ?? ''], ['/api/session/logout-everywhere', 403]);
  });

  test('no line holds a search term, a customer value, a cookie, a CSRF token or an API token', () => {
    const all = lines.join('\n');
    assert.ok(lines.length >= ids.length, 'the log was written');
    for (const s of ['090-1111-2222', '09011112222', '佐藤', encodeURIComponent('佐藤'), '山田', 'ヤマダ', 'phone=', 'name=', ...secrets]) {
      assert.ok(s.length > 0);
      assert.ok(!all.includes(s), `the server log holds ${JSON.stringify(s)}`);
    }
  });
});

test("Fastify's warning for a second answer is logged without the URL it quotes", async () => {
  const lines: Record<string, unknown>[] = [];
  const app = Fastify({ logger: serverLogger({ stream: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } }) });
  // A handler that answers, then returns a value as well: what a handler ending after its answer time-out does.
  app.get('/x/:id', async (_req, reply) => {
    await reply.send({ first: true });
    return { second: true };
  });
  try {
    const res = await app.inject({ method: 'GET', url: `/x/${SP.OWN_A}?name=${encodeURIComponent('山田')}` });
    assert.equal(res.statusCode, 200);
    const warned = lines.filter((l) => l['level'] === 40);
    assert.deepEqual(
      warned.map((l) => [l['msg'], (l['error'] as { code?: string } | undefined)?.code]),
      [['a second answer to an answered request was not sent', 'FST_ERR_REP_ALREADY_SENT']],
    );
    const all = JSON.stringify(lines);
    for (const s of [SP.OWN_A, '山田', encodeURIComponent('山田'), 'name=']) assert.ok(!all.includes(s), `the server log holds ${s}`);
  } finally {
    await app.close();
  }
});
