import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessEvent, loggedRecord } from '../support/access-events.ts';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { chainEvents } from '../../src/audit/chain.ts';
import { verifyExportFile } from '../../src/audit/file-verify.ts';
import { readHead } from '../../src/audit/log-reader.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { generateSigningKey, loadSigningKey, publicKeys } from '../../src/audit/signing.ts';
import { WitnessFile } from '../../src/audit/witness.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { runCli } from '../support/cli.ts';
import { asSuperuser, feedAsExport, insertRow, rehashAndReseal } from '../support/log-tamper.ts';
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

/** A key nobody configured: the attacker's. */
const ATTACKER = generateSigningKey();

/**
 * The data directory `dir` copied, changed by `tamper` on the copy (opened as the embedded store's owner, who
 * is its superuser), for `check` to run commands against; the copy is removed afterwards.
 */
async function onACopy(
  dir: string,
  tamper: (db: Awaited<ReturnType<typeof openPglite>>, copy: string) => Promise<void>,
  check: (copy: string) => Promise<void>,
) {
  const copy = mkdtempSync(join(tmpdir(), 'gridwall-audit-cli-tampered-'));
  try {
    spawnSync('cp', ['-a', `${dir}/.`, copy]);
    const db = await openPglite(copy);
    try {
      await tamper(db, copy);
    } finally {
      await db.close();
    }
    await check(copy);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

describe('gridwall audit (command line, embedded store)', () => {
  let dir: string;
  let keyId: string;
  let publicKeyPem: string;
  const N = 25;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridwall-audit-cli-'));
    // The key where `gridwall start` keeps it, and events written by the real writer.
    const { key } = loadSigningKey(join(dir, 'log-signing-key.pem'), true);
    keyId = key.keyId;
    publicKeyPem = key.publicKeyPem;
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

  test('tail forwards only what verifies: an untouched log whole (a copy that verifies with the published key); a made-up event past the head stops it, unforwarded', async () => {
    const whole = await gridwall(dir, ['audit', 'tail', '--from-seq', '1']);
    assert.equal(whole.status, 0, whole.stderr);
    assert.equal(whole.stderr, '');
    assert.equal(whole.stdout.trim().split('\n').length, 2 * N);
    const copy = join(dir, 'siem-copy.jsonl');
    feedAsExport(whole.stdout.trim().split('\n'), copy);
    const v = await verifyExportFile(copy, publicKeys([publicKeyPem]));
    assert.deepEqual([v.ok, v.events, v.seals], [true, N, N], JSON.stringify(v.firstBreak));

    // Checked with the trusted key: with another key given, nothing is forwarded.
    const attackerPem = join(dir, 'attacker.pem');
    writeFileSync(attackerPem, ATTACKER.publicKeyPem);
    const other = await gridwall(dir, ['audit', 'tail', '--from-seq', '1', '--public-key', attackerPem]);
    assert.equal(other.status, 1, other.stdout + other.stderr);
    assert.equal(other.stdout, '');
    assert.match(other.stderr, /^audit tail: STOPPED at event 1 \(bad_signature\): .*not trusted.*nothing from there on was forwarded\n$/);

    // The superuser stores the framing event past the head.
    await onACopy(
      dir,
      async (db) => {
        const head = await readHead(db);
        const [fake] = chainEvents([{ ...event(99), requestId: 'req-framed' }], head.seq + 1, head.hash);
        await insertRow(db, fake!, true);
      },
      async (copy) => {
        for (const from of ['1', '20']) {
          const t = await gridwall(copy, ['audit', 'tail', '--from-seq', from]);
          assert.equal(t.status, 1, t.stdout + t.stderr);
          assert.doesNotMatch(t.stdout, /req-framed/);
          assert.equal(t.stdout.trim().split('\n').length, 2 * (N - Number(from) + 1), "the writer's events are forwarded, with their seals");
          // One line on stderr, naming the event.
          assert.match(
            t.stderr,
            /^audit tail: STOPPED at event 26 \(unsealed\): events 26–26 are stored past the chain's head \(event 25\).*\(the last line forwarded was for event 25\)\n$/,
          );
        }
        // By default (new events only) it stops too, having forwarded nothing.
        const d = await gridwall(copy, ['audit', 'tail']);
        assert.deepEqual([d.status, d.stdout], [1, '']);
        assert.match(d.stderr, /STOPPED at event 26 \(unsealed\)/);
      },
    );
  });

  test('verify after the chain was re-hashed and re-sealed with a key planted in the database: BROKEN (bad_signature), naming the key it trusted', async () => {
    await onACopy(
      dir,
      async (db, copy) => {
        await rehashAndReseal(db, ATTACKER, 3, (e) => ({ ...e, purpose: 'switching_support' }));
        // Without the witness: it is the trusted key alone that tells the forged chain from the writer's.
        rmSync(join(copy, 'log-witness.jsonl'));
      },
      async (copy) => {
        const r = await gridwall(copy, ['audit', 'verify']);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`BROKEN — .*first broken event ${N} \\(bad_signature\\): .*key ${ATTACKER.keyId}, not trusted`));
        assert.match(r.stdout, new RegExp(`trusted key ${keyId} from the signing key \\(GRIDWALL_LOG_KEY_FILE\\)`));
        assert.doesNotMatch(r.stdout, new RegExp(`trusted key ${ATTACKER.keyId}`));
        const json = JSON.parse((await gridwall(copy, ['audit', 'verify', '--format', 'json'])).stdout) as { ok: boolean; trustedKeys: { keyId: string }[] };
        assert.deepEqual([json.ok, json.trustedKeys.map((k) => k.keyId)], [false, [keyId]]);
        // The forgery is complete: with the attacker's key trusted, the chain verifies.
        const attackerPem = join(copy, 'attacker.pem');
        writeFileSync(attackerPem, ATTACKER.publicKeyPem);
        const trusting = await gridwall(copy, ['audit', 'verify', '--public-key', attackerPem]);
        assert.equal(trusting.status, 0, trusting.stdout);
        assert.match(trusting.stdout, new RegExp(`OK — .*trusted key ${ATTACKER.keyId} from .*attacker\\.pem`, 's'));
        // And the feed forwards none of it.
        const t = await gridwall(copy, ['audit', 'tail', '--from-seq', '1']);
        assert.deepEqual([t.status, t.stdout], [1, '']);
        assert.match(t.stderr, new RegExp(`STOPPED at event ${N} \\(bad_signature\\)`));
      },
    );
  });

  test('a key row no one could register, planted by the superuser: verify gives its verdict, never a crash', async () => {
    await onACopy(
      dir,
      async (db) => asSuperuser(db, "INSERT INTO access_log_keys VALUES ('evil', 'x')"),
      async (copy) => {
        const r = await gridwall(copy, ['audit', 'verify']);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /OK — .*25 events/);
        assert.doesNotMatch(r.stdout + r.stderr, /ERR_OSSL|DECODER/);
        const t = await gridwall(copy, ['audit', 'tail', '--from-seq', '1']);
        assert.deepEqual([t.status, t.stdout.trim().split('\n').length, t.stderr], [0, 2 * N, '']);
        // An export carries the keys the log records, 'x' among them; checked with those (no key configured or
        // given), 'x' is reported.
        const file = join(copy, 'export.jsonl');
        assert.equal((await gridwall(copy, ['audit', 'export', '--out', file])).status, 0);
        const f = await runCli(['audit', 'verify', '--file', file], { env: { ...env(copy), GRIDWALL_LOG_KEY_FILE: join(copy, 'absent.pem') } });
        assert.equal(f.status, 0, f.stdout + f.stderr);
        assert.match(f.stdout, /a key in the file's header is unusable: key \d+: /);
        assert.doesNotMatch(f.stdout + f.stderr, /ERR_OSSL/);
      },
    );
  });

  test('verify and tail on a store with no trusted key (none configured, none given) exit 2 saying so', async () => {
    const absent = join(dir, 'absent-key.pem');
    for (const command of ['verify', 'tail']) {
      const r = await runCli(['audit', command], { env: { ...env(dir), GRIDWALL_LOG_KEY_FILE: absent } });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^gridwall: no trusted key: the signing key .*absent-key\.pem is not here; give --public-key KEY\.pem \(the output of `gridwall audit public-key`, kept apart from the database\)\n$/,
      );
    }
    // On a PostgreSQL server the key's place is explicit: not set, nothing is trusted (and the database is not asked).
    const { GRIDWALL_DATA_DIR: _dir, GRIDWALL_LOG_KEY_FILE: _key, ...rest } = env(dir);
    const pg = await runCli(['audit', 'verify'], { env: { ...rest, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    assert.equal(pg.status, 2, pg.stdout + pg.stderr);
    assert.match(pg.stderr, /^gridwall: no trusted key: GRIDWALL_LOG_KEY_FILE is not set; give --public-key KEY\.pem/);
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
