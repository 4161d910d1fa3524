import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment of a user running the embedded default (no DATABASE_URL, even when CI sets one). */
function embeddedEnv(dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, GRIDWALL_DATA_DIR: dataDir, PORT: '0', GRIDWALL_DEMO_SUPPLY_POINTS: '300', GRIDWALL_METRICS_PORT: '0' };
}

/** Starts `gridwall start` as a user would and resolves with the URL it prints. */
function start(dataDir: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['bin/gridwall.js', 'start'], { env: { ...embeddedEnv(dataDir), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // The banner ends with the stop hint; wait for it so the persona lines are in `out`.
      const m = /gridwall is running: (http:\/\/\S+)[\s\S]*Press Ctrl\+C to stop/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, ready, output: () => out };
}

test('`gridwall start` seeds the embedded store, prints where to go and how to log in, and locks its data directory', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-start-'));
  const first = start(dir);
  try {
    const url = await first.ready;
    assert.match(first.output(), /demo-retail\s+.*関係小売/);
    assert.match(first.output(), /does not fsync/);
    // The dormant sweep runs at start, not only a day later (issue 14): the demo's legacy IDs are disabled now.
    assert.match(first.output(), /dormant-account sweep: [1-9]\d* disabled/);
    assert.doesNotMatch(first.output(), /break the assignment rules/, 'the demo area follows the assignment rules');
    const health = await fetch(`${url}/api/health/ready`);
    assert.equal(health.status, 200);
    const ready = (await health.json()) as {
      status: string;
      store: string;
      checks: {
        store: { state: string };
        log: { state: string; halted: boolean; witness: string; queued: number };
        disk: { state: string; freeBytes: Record<string, number> };
        detection?: { state: string };
      };
    };
    assert.deepEqual([ready.status, ready.store, ready.checks.log.halted, ready.checks.log.witness], ['ok', 'pglite', false, 'ok']);
    assert.deepEqual(
      [ready.checks.store.state, ready.checks.log.state, ready.checks.disk.state, ready.checks.detection?.state],
      ['ok', 'ok', 'ok', 'ok'],
      'the live bulk-reading count is watched too',
    );
    // Readiness watches the disks of the data directory and of the witness (beside the key in it), each named
    // by its label: the answer is public, and holds no path.
    assert.deepEqual(Object.keys(ready.checks.disk.freeBytes), ['data', 'witness']);
    assert.ok((ready.checks.disk.freeBytes['data'] ?? 0) > 0);
    assert.ok(!JSON.stringify(ready).includes('/'), JSON.stringify(ready));
    assert.equal((await fetch(`${url}/api/health/live`)).status, 200);
    // Metrics on a port of their own, announced at start; the API's port does not serve them.
    const metricsUrl = /metrics: (http:\/\/\S+\/metrics)/.exec(first.output())?.[1] ?? assert.fail(first.output());
    const scraped = await fetch(metricsUrl);
    assert.equal(scraped.status, 200);
    const metricsText = await scraped.text();
    assert.match(metricsText, /^gridwall_http_requests_total\{method="GET",route="\/api\/health\/ready",status="200"\} 1$/m);
    assert.match(metricsText, /^gridwall_bulk_reading_failing 0$/m);
    assert.equal((await fetch(`${url}/metrics`)).status, 404);
    const login = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'demo-nw-cc' }),
    });
    assert.equal(login.status, 201);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const search = await fetch(`${url}/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('丁目')}&limit=3`, { headers: { cookie } });
    const body = (await search.json()) as { items: { supplyPointId: string; fields: Record<string, { shown: boolean }> }[] };
    assert.equal(body.items.length, 3);
    assert.ok(body.items.every((i) => /^02\d{20}$/.test(i.supplyPointId) && i.fields['holder_name'] !== undefined));

    const second = spawnSync(process.execPath, ['bin/gridwall.js', 'start'], { env: embeddedEnv(dir), encoding: 'utf8', timeout: 60_000 });
    assert.equal(second.status, 2, second.stderr);
    assert.match(second.stderr, /in use by process \d+/);
  } finally {
    first.child.kill('SIGTERM');
    await new Promise((r) => first.child.once('exit', r));
  }
  assert.equal(existsSync(join(dir, 'gridwall.lock')), false, 'lock released on stop');
  // A restart finds the data and does not seed again. Its witness cannot be written (its directory is a file):
  // the reads go on, and the alert goes at once to syslog — without the database (issue 15).
  const syslog = createSocket('udp4');
  const messages: string[] = [];
  syslog.on('message', (m) => messages.push(m.toString('utf8')));
  syslog.bind(0, '127.0.0.1');
  await once(syslog, 'listening');
  writeFileSync(join(dir, 'not-a-dir'), 'x');
  const again = start(dir, {
    GRIDWALL_LOG_WITNESS_FILE: join(dir, 'not-a-dir', 'witness.jsonl'),
    GRIDWALL_ALERT_SYSLOG: `udp://127.0.0.1:${syslog.address().port}`,
  });
  try {
    const url = await again.ready;
    assert.doesNotMatch(again.output(), /First start/);
    const login = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'demo-nw-cc' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const read = await fetch(`${url}/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('丁目')}&limit=1`, { headers: { cookie } });
    assert.equal(read.status, 200, 'the reads go on without the witness');
    for (let i = 0; i < 100 && messages.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const alert = messages.find((m) => m.includes('"type":"gridwall.log"'));
    assert.ok(alert !== undefined, `an alert reached syslog: ${JSON.stringify(messages)}`);
    assert.match(alert, /^<105>1 /, 'facility 13 (log audit), severity 1 (alert)');
    assert.match(alert, /"event":"witness_failed".*could not be published to the witness/);
  } finally {
    syslog.close();
    again.child.kill('SIGTERM');
    await new Promise((r) => again.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
