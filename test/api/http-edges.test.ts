import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Metrics } from '../../src/api/metrics.ts';
import { seededApp } from '../support/app.ts';
import { STORES } from '../support/stores.ts';

/**
 * What a client can get before a route runs (issue 17): a request line with raw UTF-8 (as a person types a
 * place name into curl), a broken %-escape, an over-long path segment, a header block too large, headers sent
 * too slowly. Each is answered in the one error shape `{error: {code, message, requestId}}` — or, for the slow
 * client, the connection is closed — over a real socket, since Node's HTTP parser answers some of them itself.
 */
describe('HTTP edges over a real socket', () => {
  const lines: string[] = [];
  const metrics = new Metrics();
  const w = seededApp(STORES[0]!, {
    httpTimeouts: { requestMs: 3000, headersMs: 1500, keepAliveMs: 1000, answerMs: 10_000 },
    logger: { stream: { write: (l: string) => void lines.push(l) } },
    metrics,
  });
  let port: number;
  let app: FastifyInstance;
  before(async () => {
    app = w.app;
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as net.AddressInfo).port;
  });
  after(() => app.server.closeAllConnections());

  /** Writes `request` and reads until the server closes the connection or `waitMs` passes. */
  function exchange(request: string | Buffer, waitMs = 3000, halfOpen = false): Promise<{ text: string; closedByServer: boolean }> {
    return new Promise((resolve) => {
      // halfOpen: this side never closes on its own, as a slow-header attacker would not; only the server's
      // destroying the connection ends it.
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: halfOpen });
      let text = '';
      const timer = setTimeout(() => {
        s.destroy();
        resolve({ text, closedByServer: false });
      }, waitMs);
      s.on('data', (d) => (text += d.toString('utf8')));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closedByServer: true });
      });
      s.write(request);
    });
  }

  /** Status, headers and the error body of a raw response. */
  function parse(text: string): { status: number; headers: Record<string, string>; error: { code: string; message: string; requestId: string } } {
    const [head = '', body = ''] = text.split('\r\n\r\n', 2);
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const json = JSON.parse(body) as { error: { code: string; message: string; requestId: string } };
    assert.deepEqual(Object.keys(json), ['error']);
    assert.match(json.error.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(headers['x-request-id'], json.error.requestId);
    assert.match(headers['content-type'] ?? '', /^application\/json/);
    return { status: Number(statusLine.split(' ')[1]), headers, error: json.error };
  }

  test('raw UTF-8 in the request line: 400 in the one shape, saying to percent-encode (and how, with curl)', async () => {
    const r = parse((await exchange(Buffer.from('GET /api/supply-points?purpose=own_customer_service&address=仙台市 HTTP/1.1\r\nHost: x\r\n\r\n'))).text);
    assert.equal(r.status, 400);
    assert.equal(r.error.code, 'validation_failed');
    assert.match(r.error.message, /percent-encoded/);
    assert.match(r.error.message, /--data-urlencode/);
  });

  test('a broken %-escape in the path (%00%ff, %zz): 400 in the one shape', async () => {
    for (const path of ['/api/supply-points/%00%ff', '/api/supply-points/%zz']) {
      const r = parse((await exchange(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).text);
      assert.equal(r.status, 400, path);
      assert.equal(r.error.code, 'validation_failed');
    }
  });

  test('a path segment longer than the router reads: 414 uri_too_long in the one shape', async () => {
    const r = parse((await exchange(`GET /api/supply-points/${'1'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).text);
    assert.equal(r.status, 414);
    assert.equal(r.error.code, 'uri_too_long');
  });

  test('a header block or request line over 16 KB: 431 headers_too_large in the one shape', async () => {
    for (const req of [
      `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET /api/health?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]) {
      const r = parse((await exchange(req)).text);
      assert.equal(r.status, 431);
      assert.equal(r.error.code, 'headers_too_large');
    }
  });

  /** Requests counted in the metrics with this status (any method and route). */
  async function counted(status: number): Promise<number> {
    const text = await metrics.registry.getSingleMetricAsString('gridwall_http_requests_total');
    let n = 0;
    for (const m of text.matchAll(/^gridwall_http_requests_total\{([^}]*)\} (\d+)$/gm)) if ((m[1] ?? '').includes(`status="${status}"`)) n += Number(m[2]);
    return n;
  }

  test('an answer given before a route runs leaves one server-log line and a count, without its path, query or headers', async () => {
    const cases: [string | Buffer, number, string[]][] = [
      [`GET /api/supply-points/${'1'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 414, ['1'.repeat(40)]],
      ['GET /api/supply-points/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, ['%zz', 'supply-points']],
      [
        `GET /api/health HTTP/1.1\r\nHost: x\r\nCookie: gw_session=s3cret\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        ['a'.repeat(16), 'X-Big', 's3cret', 'health'],
      ],
      [`GET /api/health?phone=09011112222${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, ['09011112222', 'phone']],
      [Buffer.from('GET /api/supply-points?address=仙台市 HTTP/1.1\r\nHost: x\r\n\r\n'), 400, ['仙台', 'address']],
    ];
    for (const [request, status, secrets] of cases) {
      const before = await counted(status);
      const r = parse((await exchange(request)).text);
      assert.equal(r.status, status);
      const mine = lines.filter((l) => l.includes(r.error.requestId));
      assert.equal(mine.length, 1, `one line for the ${status} ${r.error.requestId}: ${JSON.stringify(mine)}`);
      const line = JSON.parse(mine[0] ?? '{}') as Record<string, unknown>;
      assert.deepEqual([line['msg'], line['reqId'], line['status'], line['route'], line['error']], ['request', r.error.requestId, status, null, r.error.code]);
      for (const s of secrets) assert.ok(!(mine[0] ?? '').includes(s), `the ${status} line holds ${s}: ${mine[0]}`);
      assert.equal((await counted(status)) - before, 1, `the ${status} is counted in gridwall_http_requests_total`);
    }
  });

  test('headers sent slowly are cut off after the headers time-out (1.5 s here), not held open', { timeout: 10_000 }, async () => {
    // The client keeps its side open (as an attacker would): the server must still let go of the connection.
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => undefined);
    let text = '';
    client.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const ended = new Promise<boolean>((resolve) => {
      client.on('end', () => resolve(true));
      setTimeout(() => resolve(false), 6000);
    });
    client.write('GET /api/health HTTP/1.1\r\nHost: x\r\n');
    assert.equal(await ended, true, 'the server ended the connection');
    const open = () => new Promise<number>((resolve, reject) => app.server.getConnections((e, n) => (e === null ? resolve(n) : reject(e))));
    let n = await open();
    for (let i = 0; i < 20 && n > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      n = await open();
    }
    assert.equal(n, 0, 'no connection left open on the server while the client holds its side');
    client.destroy();
    const slow = { text, closedByServer: true };
    if (slow.text !== '') {
      const r = parse(slow.text);
      assert.equal(r.status, 408);
      assert.equal(r.error.code, 'request_timeout');
    }
    // The control: the same request completed in time is answered.
    const whole = await exchange('GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(whole.text, /^HTTP\/1\.1 200 /);
  });
});
