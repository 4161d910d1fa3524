// Several server processes on one PostgreSQL (issue 21): record look-ups per second with `gridwall start
// --workers N` for N = 1, 2, 4 in one run, each the real binary over the same schema, with the same load
// (bench/load.mjs in its own process, 32 keep-alive connections handed round the processes by the cluster).
// Usage: DATABASE_URL=postgres://… npm run bench:workers   (BENCH_SECONDS, BENCH_WORKERS=1,2,4 to change)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '../src/audit/signing.ts';
import { load, type Load } from './load-client.ts';
import { openPostgres } from '../src/store/postgres.ts';

const url = process.env['DATABASE_URL'];
if (url === undefined) {
  process.stderr.write('bench:workers needs a PostgreSQL server: set DATABASE_URL (several processes cannot share the embedded store)\n');
  process.exit(2);
}
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const WORKERS = (process.env['BENCH_WORKERS'] ?? '1,2,4').split(',').map(Number);
const SUPPLY_POINTS = 20_000;
const CONNECTIONS = 32;

/** What the processes said besides their banner: warnings and errors (the log level is `warn`). */
const said: string[] = [];

async function start(n: number, env: NodeJS.ProcessEnv): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/gridwall.js', 'start', '--workers', String(n)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of d.toString().split('\n')) if (/"level":(40|50|60)|ALERT/.test(line)) said.push(`[${n}] ${line.slice(0, 400)}`);
      const m = /gridwall is running: (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`gridwall start exited ${code}: ${out}`)));
  });
  return { base, child };
}

async function main(): Promise<void> {
  const schema = `gw_bench_workers_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-bench-workers-'));
  const admin = await openPostgres(url as string, { poolSize: 1 });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const ownerUrl = `${url}${(url as string).includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, generateSigningKey().privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const { DATABASE_URL: _u, ...base } = process.env;
  const env = {
    ...base,
    DATABASE_URL: ownerUrl,
    GRIDWALL_LOG_KEY_FILE: keyFile,
    GRIDWALL_LOG_WITNESS_FILE: join(dir, 'witness.jsonl'),
    GRIDWALL_DEMO_LOGIN: 'true',
    GRIDWALL_SERVER_LOG_LEVEL: 'warn',
    // One agent's load is far above the read limits; the limits are not what is measured here.
    GRIDWALL_READ_RECORDS_PER_MINUTE: '1000000',
    GRIDWALL_READ_RECORDS_PER_DAY: '1000000',
    GRIDWALL_READ_PERSON_RECORDS_PER_DAY: '1000000',
    PORT: '0',
  };
  try {
    for (const args of [
      ['db', 'migrate'],
      ['demo', '--supply-points', String(SUPPLY_POINTS), '--seed', '7'],
    ]) {
      process.stderr.write(`gridwall ${args.join(' ')}…\n`);
      const r = spawnSync(process.execPath, ['bin/gridwall.js', ...args], { env: { ...env, GRIDWALL_LOG_KEY_FILE: undefined }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`gridwall ${args.join(' ')}: ${r.stderr}`);
    }
    const ids = (await admin.query<{ id: string }>(`SELECT id FROM ${schema}.supply_points ORDER BY md5(id) LIMIT 5000`)).rows.map((r) => r.id);
    const results: { n: number; load: Load; events: number; commits: number }[] = [];
    for (const n of WORKERS) {
      const { base: at, child } = await start(n, env);
      try {
        const login = await fetch(`${at}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"demo-nw-cc"}' });
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
        const cfg = { url: at, path: '/api/supply-points/:id?purpose=customer_inquiry', ids, connections: CONNECTIONS, cookie };
        await load({ ...cfg, seconds: 2 });
        const count = async () =>
          (
            await admin.query<{ events: number; seals: number }>(
              `SELECT (SELECT count(*)::int FROM ${schema}.access_log) AS events, (SELECT count(*)::int FROM ${schema}.access_log_seals) AS seals`,
            )
          ).rows[0] ?? { events: 0, seals: 0 };
        const before = await count();
        const r = await load({ ...cfg, seconds: SECONDS });
        const after = await count();
        results.push({ n, load: r, events: after.events - before.events, commits: after.seals - before.seals });
        process.stderr.write(`  ${n} process(es): ${r.rps.toFixed(0)} req/s\n`);
      } finally {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
    const one = results.find((r) => r.n === 1)?.load.rps ?? results[0]?.load.rps ?? 1;
    const pgVersion = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
    process.stdout.write(
      `\nRecord look-ups, gridwall start --workers N on one PostgreSQL ${pgVersion}; ${SUPPLY_POINTS.toLocaleString('en')} supply points; ${CONNECTIONS} connections, ${SECONDS} s each; ${cpus().length} cores (the load generator and PostgreSQL share them)\n\n`,
    );
    process.stdout.write('| processes | req/s | vs 1 | p50 | p99 | events logged | events per group commit | non-2xx |\n|---|---|---|---|---|---|---|---|\n');
    for (const r of results)
      process.stdout.write(
        `| ${r.n} | ${r.load.rps.toFixed(0)} | ${(r.load.rps / one).toFixed(2)}× | ${r.load.p50} ms | ${r.load.p99} ms | ${r.events} | ${(r.events / Math.max(1, r.commits)).toFixed(1)} | ${r.load.non2xx + r.load.errors} |\n`,
      );
    if (said.length > 0) process.stdout.write(`\n${said.length} warnings and errors from the servers; the first:\n${said.slice(0, 5).join('\n')}\n`);
  } finally {
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
