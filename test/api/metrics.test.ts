import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics, serveMetrics } from '../../src/api/metrics.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { login, seededApp, TEST_KEY, writerOf, type Session } from '../support/app.ts';
import { NOW, SP, USERS, raiseBulkReadingFinding } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/** One sample's value from Prometheus's text format (0 when the series is absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter((x) => x !== '');
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return 0;
}

/** Whether the text holds a sample of `name` at all (a series may be left out on purpose). */
function hasSample(text: string, name: string): boolean {
  return text.split('\n').some((line) => new RegExp(`^${name}(\\{[^}]*\\})? \\S+$`).test(line));
}

/**
 * Metrics on a port of their own (issue 17): requests by route and status, the firewall's decisions, the
 * log's queue, commits and head, open findings — counted from what actually happened in the run, and with
 * no user, supply point or search term in any label.
 */
describe('metrics', () => {
  const metrics = new Metrics();
  const w = seededApp(STORES[0]!, { metrics });
  let server: Server;
  let base: string;
  let cc: Session;
  let retail: Session;
  before(async () => {
    cc = await login(w.app, USERS.callCentre);
    retail = await login(w.app, USERS.retail);
    server = await serveMetrics(() => metrics.scrape({ writer: () => writerOf(w.app).status(), db: w.db, now: () => NOW }), metrics.registry.contentType, {
      host: '127.0.0.1',
      port: 0,
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const read = (s: Session, sp: string, purpose: string) =>
    w.app.inject({ method: 'GET', url: `/api/supply-points/${sp}?purpose=${purpose}`, headers: { cookie: s.cookie } });

  test('counts what happened: requests by route pattern and status, events by outcome, field decisions, commits, open findings', async () => {
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    const before = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await read(cc, SP.OWN_A, 'customer_inquiry')).statusCode, 200);
    // The retail agent on another retailer's customer: served with its non-public fields masked.
    assert.equal((await read(retail, SP.R3, 'own_customer_service')).statusCode, 200);
    assert.equal(
      (await w.app.inject({ method: 'GET', url: `/api/supply-points/123?purpose=customer_inquiry`, headers: { cookie: cc.cookie } })).statusCode,
      400,
    );
    await raiseBulkReadingFinding(w.db);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);

    assert.equal(delta('gridwall_http_requests_total', { method: 'GET', route: '/api/supply-points/:id', status: '200' }), 4);
    assert.equal(delta('gridwall_http_requests_total', { method: 'GET', route: '/api/supply-points/:id', status: '400' }), 1);
    assert.equal(delta('gridwall_http_request_duration_seconds_count', { method: 'GET', route: '/api/supply-points/:id' }), 5);
    assert.equal(delta('gridwall_access_events_total', { outcome: 'served', refusal: '' }), 4);
    assert.ok(delta('gridwall_field_decisions_total', { decision: 'shown' }) > 0);
    assert.ok(
      delta('gridwall_field_decisions_total', { decision: 'other_retailer_customer' }) > 0,
      'the masked fields of the rival customer, by reason (as the log records it)',
    );
    assert.ok(delta('gridwall_log_commit_seconds_count') >= 1);
    assert.equal(
      delta('gridwall_log_events_per_commit_sum'),
      delta('gridwall_access_events_total', { outcome: 'served', refusal: '' }) +
        delta('gridwall_access_events_total', { outcome: 'refused', refusal: 'invalid_supply_point_id' }),
    );
    const { rows } = await w.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM findings WHERE rule = 'bulk_reading' AND severity = 'high' AND status <> 'resolved'`,
    );
    assert.equal(sample(after, 'gridwall_findings_open', { rule: 'bulk_reading', severity: 'high' }), rows[0]?.n);
    assert.equal(sample(after, 'gridwall_store_up'), 1);
    assert.equal(sample(after, 'gridwall_log_halted'), 0);
    assert.ok(sample(after, 'gridwall_log_chain_head') > 0);
    assert.equal(sample(after, 'gridwall_log_queue_length'), 0);

    // No label carries a person, a supply point or what was searched.
    for (const s of [USERS.callCentre, USERS.retail, SP.OWN_A, SP.R3, '山田']) assert.ok(!after.includes(s), `the metrics hold ${s}`);
  });

  test("the seal's age and the chain head have no sample before the writer's first seal (0 would read as just sealed); after it, they do", async () => {
    const m = new Metrics();
    // A writer that has not committed yet: no seal of its own.
    const unsealed = new GroupCommitLog(w.db, { key: TEST_KEY });
    assert.equal(unsealed.status().lastSealAt, null);
    const before = await m.scrape({ writer: () => unsealed.status(), db: w.db, now: () => NOW });
    assert.ok(before.includes('# TYPE gridwall_log_seal_age_seconds gauge'), 'the gauge is declared');
    assert.equal(hasSample(before, 'gridwall_log_seal_age_seconds'), false, before);
    assert.equal(hasSample(before, 'gridwall_log_chain_head'), false, before);
    assert.equal((await read(cc, SP.OWN_A, 'customer_inquiry')).statusCode, 200);
    const sealedAt = writerOf(w.app).status().lastSealAt ?? assert.fail('the read was sealed');
    const after = await m.scrape({ writer: () => writerOf(w.app).status(), db: w.db, now: () => new Date(sealedAt.getTime() + 5000) });
    assert.equal(hasSample(after, 'gridwall_log_seal_age_seconds'), true);
    assert.equal(sample(after, 'gridwall_log_seal_age_seconds'), 5);
    assert.equal(sample(after, 'gridwall_log_chain_head'), writerOf(w.app).status().lastSealSeq);
  });

  test('only GET /metrics is served on the metrics port', async () => {
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
  });
});
