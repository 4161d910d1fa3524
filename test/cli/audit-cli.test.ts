import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessEvent, loggedRecord } from '../support/access-events.ts';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { loadSigningKey } from '../../src/audit/signing.ts';
import { WitnessFile } from '../../src/audit/witness.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { runCli } from '../support/cli.ts';
import { openEmbeddedDir } from '../support/stores.ts';

/** The environment of a user of the embedded store in `dir` (no DATABASE_URL, even when CI sets one). */
function env(dir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, GRIDWALL_DATA_DIR: dir };
}

function gridwall(dir: string, args: string[]) {
  return runCli(args, { env: env(dir) });
}

function event(i: number): AccessEvent {
  return accessEvent(i, {
    occurredAt: new Date(Date.UTC(2026, 9, 20 + (i % 3), 3, 0, i)),
    personId: 'p-retail',
    userId: 'u-retail',
    sessionId: null,
    principalClass: 'affiliated_retail',
    side: 'retail',
    organizationId: 'org-a0001',
    office: '仙台営業所',
    terminalId: null,
    purpose: 'own_customer_service',
    records: [loggedRecord(i, { shown: ['address'], masked: { phone: 'other_retailer_customer' } })],
    policyVersion: 'v',
  });
}

describe('gridwall audit (command line, embedded store)', () => {
  let dir: string;
  const N = 25;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridwall-audit-cli-'));
    // The key where `gridwall start` keeps it, and events written by the real writer.
    const { key } = loadSigningKey(join(dir, 'log-signing-key.pem'), true);
    const db = await openEmbeddedDir(dir);
    const log = new GroupCommitLog(db, { key, checkpointEvery: 10, witness: new WitnessFile(join(dir, 'log-witness.jsonl')) });
    for (let i = 0; i < N; i++) await log.append(event(i));
    await log.close();
    await db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('verify: the database chain is intact (exit 0); an exported file verifies with the published key', async () => {
    const r = await gridwall(dir, ['audit', 'verify']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /OK — .*25 events \(events 1–25\), 25 seals and 0 checkpoints verified/);
    // It trusts the configured key, never the database's, and holds the log against the witness by default.
    assert.match(r.stdout, /trusted key [0-9a-f]{16} from the signing key/);
    // Published: the first commit's seal, then one at least 10 events after the last, and the last at close (1, 11, 21, 25).
    assert.match(r.stdout, /held against the witness .*log-witness\.jsonl \(4 seals checked\)/);
    const notSeals = join(dir, 'not-a-witness.jsonl');
    writeFileSync(notSeals, '{"hello":1}\n');
    const w = await gridwall(dir, ['audit', 'verify', '--witness', notSeals]);
    assert.equal(w.status, 2);
    assert.match(w.stderr, /not-a-witness\.jsonl line 1: not a seal line/);

    const file = join(dir, 'export.jsonl');
    const e = await gridwall(dir, ['audit', 'export', '--from', '2026-10-20', '--to', '2026/10/22', '--out', file]);
    assert.equal(e.status, 0, e.stderr);
    const pub = join(dir, 'public.pem');
    const k = await gridwall(dir, ['audit', 'public-key']);
    assert.equal(k.status, 0, k.stderr);
    writeFileSync(pub, k.stdout);
    const v = await gridwall(dir, ['audit', 'verify', '--file', file, '--public-key', pub, '--format', 'json']);
    assert.equal(v.status, 0, v.stdout);
    const json = JSON.parse(v.stdout) as { ok: boolean; events: number; signaturesCheckedWith: string };
    assert.deepEqual([json.ok, json.events, json.signaturesCheckedWith], [true, N, 'given_keys']);

    const lines = readFileSync(file, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"seq":13,'));
    lines[i] = (lines[i] ?? '').replace('own_customer_service', 'switching_support');
    writeFileSync(file, lines.join('\n'));
    const bad = await gridwall(dir, ['audit', 'verify', '--file', file]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /BROKEN — .*first broken event 13 \(modified\)/);
  });

  test('verify: a part of the database on its own — a seq range, a month’s partition', async () => {
    const r = await gridwall(dir, ['audit', 'verify', '--from-seq', '5', '--to-seq', '12']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // One event to a commit here, so the range ends where asked.
    assert.match(r.stdout, /OK — .*8 events \(events 5–12\), 8 seals/);
    assert.match(r.stdout, /a part of the log on its own: events 5–12, anchored at the hash event 5 states/);
    const p = await gridwall(dir, ['audit', 'verify', '--partition', '2026-10', '--format', 'json']);
    assert.equal(p.status, 0, p.stdout + p.stderr);
    const json = JSON.parse(p.stdout) as { ok: boolean; events: number; range: { fromSeq: number; toSeq: number; anchor: string } };
    assert.deepEqual([json.ok, json.events, json.range], [true, N, { fromSeq: 1, toSeq: N, anchor: '0'.repeat(64) }]);
  });

  test('verify: a database changed behind the log’s back exits 1 and names the event', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'gridwall-audit-cli-tampered-'));
    try {
      spawnSync('cp', ['-a', `${dir}/.`, copy]);
      const db = await openPglite(copy);
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`UPDATE access_log SET person_id = 'p-someone-else' WHERE seq = 9`);
      });
      await db.close();
      const r = await gridwall(copy, ['audit', 'verify']);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /first broken event 9 \(modified\)/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('export: CSV for Excel and Parquet for DuckDB hold every event', async () => {
    const csv = await gridwall(dir, ['audit', 'export', '--format', 'csv']);
    assert.equal(csv.status, 0, csv.stderr);
    assert.ok(csv.stdout.startsWith('\uFEFF通番,日時（日本時間）,'));
    assert.equal(csv.stdout.trim().split('\r\n').length, N + 1);

    const parquet = join(dir, 'log.parquet');
    const p = await gridwall(dir, ['audit', 'export', '--format', 'parquet', '--out', parquet]);
    assert.equal(p.status, 0, p.stderr);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
    const c = await inst.connect();
    const rows = (
      await c.runAndReadAll(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT hash)::INTEGER AS h, min(seq)::INTEGER AS lo, max(seq)::INTEGER AS hi FROM read_parquet('${parquet}')`,
      )
    ).getRowObjects();
    c.closeSync();
    inst.closeSync();
    assert.deepEqual(rows[0], { n: N, h: N, lo: 1, hi: N });
  });

  test('tail: the SIEM feed prints verifiable lines, or sends them as RFC 5424 syslog over UDP', async () => {
    const t = await gridwall(dir, ['audit', 'tail', '--from-seq', '20']);
    assert.equal(t.status, 0, t.stderr);
    const lines = t.stdout.trim().split('\n');
    // Each event was its own group commit: each line of an event is followed by its batch's seal, so the
    // SIEM holds the writer's seals outside the database too.
    assert.equal(lines.length, 2 * (N - 19));
    assert.ok(
      lines.every((l, i) => (i % 2 === 0 ? /^\{"hash":"[0-9a-f]{64}","prev":"[0-9a-f]{64}","event":\{/ : /^\{"seal":\{"firstSeq":\d+,"seq":\d+,/).test(l)),
      lines.join('\n'),
    );

    const sock = createSocket('udp4');
    const got: string[] = [];
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.on('message', (m) => got.push(m.toString('utf8')));
    try {
      const port = sock.address().port;
      const sent = await gridwall(dir, ['audit', 'tail', '--from-seq', '1', '--syslog', `udp://127.0.0.1:${port}`]);
      assert.equal(sent.status, 0, sent.stderr);
      for (let k = 0; k < 50 && got.length < 2 * N; k++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(got.length, 2 * N);
      assert.match(got[0] ?? '', /^<110>1 \S+ \S+ gridwall \d+ access - \{"hash":"/);
    } finally {
      sock.close();
    }
  });

  test('bad arguments exit 2 and say which', async () => {
    const cases: [string[], RegExp][] = [
      [['audit', 'export', '--from', '2026-13-01'], /--from .* must be a calendar day/],
      [['audit', 'export', '--format', 'parquet'], /needs --out/],
      [['audit', 'verify', '--file', join(dir, 'nope.jsonl')], /nope\.jsonl/],
      [['audit', 'verify', '--public-key', join(dir, 'nope.pem')], /--public-key .*nope\.pem/],
      [['audit', 'tail', '--syslog', 'http://x'], /udp:\/\/host:port/],
      [['audit', 'archive', '--before', '2026-10', '--dir', dir], /kept 5 years, so months from \d{4}-\d{2} on may not be archived/],
      [['audit', 'archive', '--before', '2020-13', '--dir', dir], /must be a month YYYY-MM/],
      [['audit', 'verify', '--partition', '2025-01'], /--partition 2025-01: the log has no partition for that month \(it has 2026-10/],
      [['audit', 'verify', '--partition', '2025-1'], /must be a month YYYY-MM/],
      [['audit', 'verify', '--partition', '2026-10', '--from-seq', '3'], /--partition.* cannot be used with option '--from-seq/],
      [['audit', 'verify', '--from-seq', '0'], /--from-seq.*positive whole number/],
      [['audit', 'verify', '--from-seq', '9', '--to-seq', '3'], /--to-seq is before --from-seq/],
      [['audit', 'verify', '--from-seq', '99'], /the log ends at event 25: there is nothing from 99/],
      [['audit', 'verify', '--file', join(dir, 'x.jsonl'), '--to-seq', '3'], /verify a part of the database, not a file/],
    ];
    for (const [args, message] of cases) {
      const r = await gridwall(dir, args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});
