import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '../../src/audit/signing.ts';
import { openPostgres } from '../../src/store/postgres.ts';

/**
 * Issue 21: several server processes on one PostgreSQL (`gridwall start --workers 4`), each with its own
 * group-commit writer linking after the others' events. Under a load spread over all four (a new connection per
 * request, which the cluster hands round), every look-up answered is in the log once, the sequence has no gap
 * and no repeat, a session opened through one process is honoured and ended through all, the processes stop
 * cleanly together, and `gridwall audit verify` holds the chain against the key and the witness they shared.
 */

const url = process.env['DATABASE_URL'];
const { DATABASE_URL: _unset, ...baseEnv } = process.env;

function gridwall(args: readonly string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['bin/gridwall.js', ...args], { env, encoding: 'utf8', timeout: 120_000 });
}

/** One request on a connection of its own (no keep-alive), so the cluster may hand it to any process. */
function call(base: string, path: string, opts: { method?: string; cookie?: string; csrf?: string; body?: unknown } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      `${base}${path}`,
      {
        method: opts.method ?? 'GET',
        agent: false,
        timeout: 30_000,
        headers: {
          ...(opts.cookie === undefined ? {} : { cookie: opts.cookie }),
          ...(opts.csrf === undefined ? {} : { 'x-csrf-token': opts.csrf }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} in 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The access events each process counted, from its own metrics port. */
async function eventsCounted(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('gridwall_access_events_total'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test(
  'four server processes on one PostgreSQL: one chain under load, sessions shared, one killed is started again, a clean stop, and the log verifies',
  { timeout: 300_000, skip: url === undefined ? 'needs a PostgreSQL server (DATABASE_URL; CI sets it)' : false },
  async () => {
    if (url === undefined) return;
    const schema = `gw_workers_${randomBytes(5).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'gridwall-workers-'));
    const admin = await openPostgres(url, { poolSize: 1 });
    await admin.exec(`CREATE SCHEMA ${schema}`);
    const ownerUrl = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
    const keyFile = join(dir, 'key.pem');
    const witness = join(dir, 'witness.jsonl');
    const signing = generateSigningKey();
    writeFileSync(keyFile, signing.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const env = {
      ...baseEnv,
      DATABASE_URL: ownerUrl,
      GRIDWALL_LOG_KEY_FILE: keyFile,
      GRIDWALL_LOG_WITNESS_FILE: witness,
      GRIDWALL_DEMO_LOGIN: 'true',
      // A session ended through one process is refused by the others at once (the default re-reads it within 1 s).
      GRIDWALL_SESSION_CACHE_MS: '0',
      GRIDWALL_METRICS_PORT: '0',
      // The load is one agent's 600 look-ups in seconds: above the read limits, which are not what this test is about.
      GRIDWALL_READ_RECORDS_PER_MINUTE: '100000',
      PORT: '0',
    };
    try {
      assert.equal(gridwall(['db', 'migrate'], env).status, 0);
      // The demo area without its history (no key is configured for `demo`): the log starts empty, and four
      // first writers register the one key together.
      const demo = gridwall(['demo', '--supply-points', '300'], { ...env, GRIDWALL_LOG_KEY_FILE: undefined });
      assert.equal(demo.status, 0, demo.stderr);

      const child = spawn(process.execPath, ['bin/gridwall.js', 'start', '--workers', '4'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        const base = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /gridwall is running: (http:\/\/\S+) \(4 server processes/.exec(out);
            if (m?.[1] !== undefined) resolve(m[1]);
          });
          child.once('exit', (code) => reject(new Error(`gridwall start exited ${code}: ${out}${err}`)));
        });
        const metrics = [...out.matchAll(/^\[worker (\d)\] metrics: (http:\S+)$/gm)].map((m) => m[2] ?? '');
        assert.equal(new Set(metrics).size, 4, `each process has its own metrics port: ${out}`);

        // Sessions are the store's: opened through one process, used through all.
        const login = await call(base, '/api/session', { method: 'POST', body: { userId: 'demo-nw-cc' } });
        assert.equal(login.status, 201, login.body);
        const cookie = String(login.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
        const { csrfToken } = JSON.parse(login.body) as { csrfToken: string };
        const found = await call(base, `/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('丁目')}&limit=50`, { cookie });
        assert.equal(found.status, 200, found.body);
        const ids = (JSON.parse(found.body) as { items: { supplyPointId: string }[] }).items.map((i) => i.supplyPointId);
        assert.ok(ids.length >= 20, `found ${ids.length}`);

        // The load: 600 look-ups, 24 at a time, each on a new connection.
        const served: string[] = [];
        const statuses = new Map<number, number>();
        let next = 0;
        await Promise.all(
          Array.from({ length: 24 }, async () => {
            while (next < 600) {
              const id = ids[next++ % ids.length] ?? '';
              const r = await call(base, `/api/supply-points/${id}?purpose=customer_inquiry`, { cookie });
              statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
              if (r.status === 200) served.push(String(r.headers['x-request-id']));
            }
          }),
        );
        assert.deepEqual([...statuses], [[200, 600]], 'every look-up answered');
        const perProcess = await Promise.all(metrics.map(eventsCounted));
        assert.ok(
          perProcess.every((n) => n > 0),
          `every process served and logged look-ups: ${perProcess.join(', ')}`,
        );

        // Ended through one process, the session is refused by every process from then on.
        const logout = await call(base, '/api/session', { method: 'DELETE', cookie, csrf: csrfToken });
        assert.equal(logout.status, 204, logout.body);
        const after = await Promise.all(Array.from({ length: 12 }, () => call(base, '/api/me', { cookie })));
        assert.deepEqual(
          after.map((r) => r.status),
          Array<number>(12).fill(401),
        );

        // A process killed outright is started again by the primary, and the service goes on meanwhile.
        assert.doesNotMatch(out, /server process \d ended/, 'no process died under the load');
        const pids = [...new Set([...out.matchAll(/"pid":(\d+),[^\n]*"msg":"Server listening/g)].map((m) => Number(m[1])))];
        assert.equal(pids.length, 4, out);
        process.kill(pids[0] ?? 0, 'SIGKILL');
        // Until the new process says it serves (its metrics port comes after its start).
        for (let i = 0; i < 300 && !/starting server process \d again[\s\S]*\[worker \d\] metrics:/.test(out); i++)
          await new Promise((r) => setTimeout(r, 100));
        assert.match(out, /gridwall: server process \d ended \(SIGKILL\)\ngridwall: starting server process \d again/);
        const again = await call(base, '/api/session', { method: 'POST', body: { userId: 'demo-nw-cc' } });
        assert.equal(again.status, 201, again.body);

        // The new process may still be finishing its start: it hears the stop from its first line and stops
        // cleanly once started (a full run once stopped it there, and the signal's default ended it silently).
        child.kill('SIGTERM');
        assert.equal(await exited, 0, `a clean stop of all four: ${out}${err}`);
        assert.equal([...out.matchAll(/server process \d ended/g)].length, 1, 'only the process killed died');
        assert.match(out, /(\[worker \d\] stopping…[\s\S]*){4}/);

        // One chain: every answered look-up once, no gap and no repeat in the sequence.
        const { rows } = await admin.query<{ request_id: string; n: number }>(
          `SELECT request_id, count(*)::int AS n FROM ${schema}.access_log WHERE request_id = ANY($1::text[]) GROUP BY request_id`,
          [served],
        );
        assert.equal(rows.length, 600, 'every answered look-up is in the log');
        assert.ok(rows.every((r) => r.n === 1));
        const { rows: seqs } = await admin.query<{ n: number; distinct: number; max: number }>(
          `SELECT count(*)::int AS n, count(DISTINCT seq)::int AS distinct, max(seq)::int AS max FROM ${schema}.access_log`,
        );
        assert.deepEqual(seqs[0], { n: seqs[0]?.max, distinct: seqs[0]?.max, max: seqs[0]?.max });

        const pub = join(dir, 'public.pem');
        writeFileSync(pub, signing.publicKeyPem);
        const verified = gridwall(['audit', 'verify', '--public-key', pub, '--witness', witness], env);
        assert.equal(verified.status, 0, verified.stdout + verified.stderr);
        // The search and the 600 look-ups: 601 events, one chain.
        assert.match(verified.stdout, /^audit verify: OK — PostgreSQL \(DATABASE_URL\): 601 events \(events 1–601\), \d+ seals/m);
        const sealsInWitness = readFileSync(witness, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '').length;
        assert.ok(sealsInWitness >= 4, `each process published its last seal at the stop: ${sealsInWitness}`);
        assert.match(verified.stdout, new RegExp(`held against the witness .* \\(${sealsInWitness} seals checked\\)`));
      } finally {
        if (child.exitCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
    } finally {
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('several server processes need a PostgreSQL server: on the embedded store `start --workers 2` exits 2 and says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-workers-embedded-'));
  try {
    for (const [args, env] of [
      [['start', '--workers', '2'], {}],
      [['start'], { GRIDWALL_WORKERS: '3' }],
    ] as const) {
      const r = gridwall(args, { ...baseEnv, ...env, GRIDWALL_DATA_DIR: dir, PORT: '0' });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /\d server processes \(--workers \/ GRIDWALL_WORKERS\) need a PostgreSQL server \(DATABASE_URL\): the embedded store belongs to one process/,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
