/**
 * The analysis over gridwall's own log at scale (issue 21), on PostgreSQL (DATABASE_URL):
 *
 *  - a demo area (BENCH_POINTS supply points, default 200,000: staff, terminals, contracts) and BENCH_EVENTS
 *    access-log events (default 10,000,000) from 1 October to 20 November 2026 — October a closed month,
 *    November the open one. The events are written by `INSERT … SELECT` as the table's owner, not through the
 *    log writer (which seals every group commit and would take hours here): the analysis needs a realistic log,
 *    not a verifiable one; their hashes are well-formed but not a chain;
 *  - loading the period into the analysis engine as `liveReport` does (one thread, 1 GB), in the same run:
 *    the baseline — every event through the pg driver, page by page (the handle without COPY) —, every
 *    event streamed by one COPY per month, the Parquet archive cold (October exported first) and warm
 *    (October from its file, November from the database);
 *  - the report and the rules over what was loaded, once (the same tables whichever way they came).
 *
 *   DATABASE_URL=postgres://… npm run bench:scale:analysis
 *   BENCH_SCHEMA=gw_analysis npm run bench:scale:analysis  # keep the filled schema for another run (reused when filled)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../src/analysis/duck.ts';
import { loadLive } from '../src/analysis/live.ts';
import type { ArchiveUse } from '../src/analysis/log-archive.ts';
import { buildReport } from '../src/analysis/report.ts';
import { affiliateOf } from '../src/analysis/review.ts';
import { ensurePartition, monthOf } from '../src/audit/partitions.ts';
import { generateDemo } from '../src/demo/generate.ts';
import type { Queryable } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { openPostgres } from '../src/store/postgres.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 10_000_000);
const POINTS = Number(process.env['BENCH_POINTS'] ?? 200_000);
const url = process.env['DATABASE_URL'];
if (url === undefined) {
  process.stderr.write('bench:scale:analysis needs DATABASE_URL (a PostgreSQL server)\n');
  process.exit(2);
}
const FROM = new Date('2026-10-01T00:00:00+09:00');
const NOW = new Date('2026-11-20T00:00:00+09:00');
const PERIOD = { from: '2026-10-01', to: '2026-11-19' };
const BOUNDS = { start: FROM, end: NOW };
const CHUNK = 1_000_000;

const say = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

/**
 * The log: each event one read by a member of staff of the demo area at one of its terminals, of one of its
 * supply points; three in ten showing only the public fields, one in fifty refused (no record), one in a
 * hundred a name search that found nothing.
 */
async function fill(db: Queryable, say: (s: string) => void): Promise<void> {
  await ensurePartition(db, monthOf(FROM));
  await ensurePartition(db, monthOf(new Date(NOW.getTime() - 1)));
  const span = (NOW.getTime() - FROM.getTime()) / 1000;
  const all = `'["supply_point_id","address","holder_name","phone","contracted_capacity","retailer","usage","equipment","meter","contract_history","customer_type","last_resort"]'::jsonb`;
  // The staff, terminals and points numbered once, so each event finds its own by a join on the number.
  await db.exec(`CREATE TABLE bench_users AS SELECT row_number() OVER (ORDER BY user_id) - 1 AS n, user_id, person_id FROM accounts;
    CREATE TABLE bench_terminals AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM terminals;
    CREATE TABLE bench_points AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM supply_points;
    ANALYZE bench_users; ANALYZE bench_terminals; ANALYZE bench_points`);
  const count = async (t: string) => Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t}`)).rows[0]?.n ?? 0);
  const [users, terminals, points] = [await count('bench_users'), await count('bench_terminals'), await count('bench_points')];
  for (let lo = 0; lo < EVENTS; lo += CHUNK) {
    const hi = Math.min(EVENTS, lo + CHUNK);
    await db.query(
      `WITH ev AS (SELECT i, (hashint4(i::int) & 2147483647) % ${users} AS who, (hashint4(i::int + 7) & 2147483647) % ${points} AS what,
                          (hashint4(i::int + 13) & 2147483647) % 100 AS kind FROM generate_series($1::bigint, $2::bigint) i)
       INSERT INTO access_log (seq, prev_hash, hash, occurred_at, request_id, person_id, user_id, session_id, principal_class, side, organization_id,
                               employment, office, terminal_id, route, purpose, outcome, refusal, query, supply_point_ids, records, policy_version, emergency_id)
       SELECT i, CASE WHEN i = 1 THEN repeat('0', 64) ELSE md5((i - 1)::text) || md5((i - 1)::text || 'x') END, md5(i::text) || md5(i::text || 'x'),
              $3::timestamptz + (i - 1) * ($4::double precision / $5::bigint) * interval '1 second', md5(i::text || 'r'),
              u.person_id, u.user_id, 'bench', 'network_call_centre', 'network', 'org-bench', 'employee', '仙台コールセンター',
              t.id, 'GET /api/supply-points/:id',
              CASE WHEN kind < 99 THEN 'customer_inquiry' ELSE 'own_customer_service' END,
              CASE WHEN kind < 2 THEN 'refused' ELSE 'served' END, CASE WHEN kind < 2 THEN 'not_permitted' END,
              CASE WHEN kind = 99 THEN '{"by":"holder_name"}'::jsonb ELSE '{"by":"id"}'::jsonb END,
              CASE WHEN kind < 2 OR kind = 99 THEN '{}'::text[] ELSE ARRAY[p.id] END,
              CASE WHEN kind < 2 OR kind = 99 THEN '[]'::jsonb
                   ELSE jsonb_build_array(jsonb_build_object('supplyPointId', p.id, 'relation', 'other', 'retailerCode', 'R0002', 'lastResort', false,
                          'shown', CASE WHEN kind < 32 THEN '["supply_point_id","address"]'::jsonb ELSE ${all} END, 'masked', '{}'::jsonb)) END,
              'bench-policy', NULL
         FROM ev JOIN bench_users u ON u.n = ev.who JOIN bench_terminals t ON t.n = ev.who % ${terminals} JOIN bench_points p ON p.n = ev.what`,
      [lo + 1, hi, FROM, span, EVENTS],
    );
    say(`  ${hi.toLocaleString('en')} events`);
  }
  await db.exec('DROP TABLE bench_users; DROP TABLE bench_terminals; DROP TABLE bench_points');
  await db.exec('ANALYZE');
}

/** The handle without COPY: every read through the pg driver, page by page (the way before issue 21). */
const paged = (db: Queryable): Queryable => ({ query: (sql, params) => db.query(sql, params), exec: (sql) => db.exec(sql) });

async function loadOnce(db: Queryable, archiveDir: string | null): Promise<{ use: ArchiveUse; seconds: number; reads: number }> {
  const e = await openEngine({ memoryLimit: '1GB', threads: 1 });
  try {
    const [use, seconds] = await timed(() => loadLive(e, db, BOUNDS, archiveDir === null ? {} : { archiveDir }));
    const [r] = await e.rows<{ n: number }>('SELECT count(*) AS n FROM reads');
    return { use, seconds, reads: r?.n ?? 0 };
  } finally {
    e.close();
  }
}

const schema = process.env['BENCH_SCHEMA'] ?? `gw_bench_${randomBytes(4).toString('hex')}`;
const admin = await openPostgres(url, { poolSize: 1 });
await admin.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
const db = await openPostgres(url, { schema, poolSize: 4 });
const archive = mkdtempSync(join(tmpdir(), 'gridwall-archive-bench-'));
const version = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
const lines = [
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; PostgreSQL ${version}`,
];
try {
  await migrate(db);
  const have = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM access_log')).rows[0]?.n ?? 0);
  if (have === 0) {
    const [, tDemo] = await timed(() => generateDemo(db, { supplyPoints: POINTS, seed: 21, now: NOW }));
    say(`demo area: ${tDemo.toFixed(0)} s`);
    const [, tFill] = await timed(() => fill(db, say));
    lines.push(
      `demo area of ${POINTS.toLocaleString('en')} supply points in ${tDemo.toFixed(0)} s; ${EVENTS.toLocaleString('en')} events by INSERT … SELECT in ${tFill.toFixed(0)} s`,
    );
  } else lines.push(`schema ${schema} reused: ${have.toLocaleString('en')} events`);
  const size = (await db.query<{ total: string }>(`SELECT pg_total_relation_size('access_log_y2026m10')::text AS total`)).rows[0]?.total;
  lines.push(`October's partition: ${(Number(size) / 2 ** 30).toFixed(2)} GiB with its indexes`);

  const rows: string[] = [];
  const row = (what: string, r: { seconds: number; reads: number; use: ArchiveUse }, base: number | null) => {
    rows.push(
      `| ${what} | ${r.seconds.toFixed(1)} s | ${base === null ? '—' : `${(base / r.seconds).toFixed(2)}×`} | ${r.reads.toLocaleString('en')} | ${load()} |`,
    );
    say(`${what}: ${r.seconds.toFixed(1)} s (${JSON.stringify(r.use)})`);
  };
  const base = await loadOnce(paged(db), null);
  row('baseline: every event through the pg driver, page by page', base, base.seconds);
  const streamed = await loadOnce(db, null);
  row('every event streamed from the database (one COPY per month)', streamed, base.seconds);
  const cold = await loadOnce(db, archive);
  row('Parquet archive, cold: October exported, then read; November from the database', cold, base.seconds);
  const warm = await loadOnce(db, archive);
  row('Parquet archive, warm: October from its file; November from the database', warm, base.seconds);
  const onlyClosed = await (async () => {
    const e = await openEngine({ memoryLimit: '1GB', threads: 1 });
    try {
      const bounds = { start: FROM, end: new Date('2026-11-01T00:00:00+09:00') };
      const [use, seconds] = await timed(() => loadLive(e, db, bounds, { archiveDir: archive }));
      const [r] = await e.rows<{ n: number }>('SELECT count(*) AS n FROM reads');
      const affiliate = await affiliateOf(db);
      const [, report] = await timed(() => buildReport(e, { affiliate, from: '2026-10-01', to: '2026-10-31' }));
      return { use, seconds, reads: r?.n ?? 0, report };
    } finally {
      e.close();
    }
  })();
  row('October alone (a closed month), from its file', onlyClosed, null);
  if (base.reads !== streamed.reads || base.reads !== cold.reads || base.reads !== warm.reads) throw new Error('the loads differ in their reads');
  const files = readdirSync(archive).map((f) => statSync(join(archive, f)).size);

  const e = await openEngine({ memoryLimit: '1GB', threads: 1 });
  let report = 0;
  try {
    await loadLive(e, db, BOUNDS, { archiveDir: archive });
    const affiliate = await affiliateOf(db);
    const [r, seconds] = await timed(() => buildReport(e, { affiliate, ...PERIOD }));
    report = seconds;
    say(`report: ${seconds.toFixed(1)} s, ${r.total.views.total} views, ${r.findings.length} findings`);
  } finally {
    e.close();
  }
  lines.push(
    `loading ${PERIOD.from} – ${PERIOD.to} into the analysis engine (one thread, 1 GB, as liveReport runs it), in one run:`,
    '| load | time | speed-up over the baseline | reads | load average |',
    '|---|---|---|---|---|',
    ...rows,
    `the archive: ${files.length} file of ${(files.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(0)} MiB; October's report from it: ${onlyClosed.report.toFixed(1)} s`,
    `the report and rules over the whole period once loaded: ${report.toFixed(1)} s (load average ${load()})`,
  );
} finally {
  await db.close();
  if (process.env['BENCH_SCHEMA'] === undefined) await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
  await admin.close();
  rmSync(archive, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
