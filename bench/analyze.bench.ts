/**
 * `gridwall analyze` on large legacy logs: the whole run (CSV → checks → joins at the moment of each read →
 * tables → anomaly rules) against the main aggregation written as raw DuckDB SQL over the same files (no
 * row checks, no rejected-row list, no rules), in the same run.
 *
 *   npm run bench:analyze                       # 1 M and 10 M log rows
 *   BENCH_ROWS=1000000 npm run bench:analyze    # one size
 *   BENCH_DIR=/var/tmp/gw npm run bench:analyze # where the generated files go (about 110 bytes a row)
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../src/analysis/duck.ts';
import { loadLegacy } from '../src/analysis/legacy-load.ts';
import { buildReport } from '../src/analysis/report.ts';

const SIZES = (process.env['BENCH_ROWS'] ?? '1000000,10000000').split(',').map(Number);
const DIR = process.env['BENCH_DIR'] ?? join(tmpdir(), 'gridwall-analyze-bench');
const USERS = 5000;
const POINTS = 1_000_000;
const RETAILERS = 150;

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function writeLines(path: string, header: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += line(i);
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

const pid = (n: number) => `03${String(n).padStart(20, '0')}`;

async function generate(rows: number): Promise<{ staff: string; terminals: string; contracts: string; log: string }> {
  mkdirSync(DIR, { recursive: true });
  const r = rng(rows);
  const sides = (i: number) => (i % 10 < 6 ? 'retail' : i % 10 < 9 ? 'network' : 'other_retailer');
  const files = {
    staff: join(DIR, 'staff.csv'),
    terminals: join(DIR, 'terminals.csv'),
    contracts: join(DIR, 'contracts.csv'),
    log: join(DIR, `log-${rows}.csv`),
  };
  await writeLines(
    files.staff,
    'user_id,person_id,organization,side,employment,office,valid_from,valid_to',
    USERS,
    (i) =>
      `u${i},p${i},${sides(i) === 'network' ? 'NW' : i % 3 === 0 ? `委託${i % 7}` : 'A0001'},${sides(i)},${i % 3 === 0 ? 'contractor' : 'employee'},営業所${i % 40},2015-04-01,\n`,
  );
  await writeLines(
    files.terminals,
    'terminal_id,setting,kind,organization,office',
    2000,
    (i) => `T${i},${i % 50 === 0 ? 'network' : 'retail'},dedicated,A0001,営業所${i % 40}\n`,
  );
  // Every point has a contract; a fifth switched retailer inside the period.
  await writeLines(
    files.contracts,
    'supply_point_id,customer_id,customer_type,retailer_code,retailer_name,last_resort,valid_from,valid_to',
    POINTS * 1.2,
    (i) => {
      const p = i % POINTS;
      const second = i >= POINTS;
      const retailer = p % 3 === 0 ? 'A0001' : `R${String(1 + (p % RETAILERS)).padStart(4, '0')}`;
      if (!second)
        return `${pid(p)},c${p},${p % 9 === 0 ? 'corporate' : 'individual'},${retailer},x,${p % 97 === 0},2016-04-01,${p % 5 === 0 ? '2022-11-30' : ''}\n`;
      return `${pid(p)},c${p},individual,R0002,x,false,2022-12-01,\n`;
    },
  );
  const start = Date.parse('2022-10-05T00:00:00+09:00');
  await writeLines(files.log, 'accessed_at,system,user_id,terminal_id,supply_point_id,screen,fields', rows, (i) => {
    const t = new Date(start + Math.floor(r() * 92 * 86_400_000) + 9 * 3_600_000);
    const ts = t.toISOString().slice(0, 19).replace('T', ' ').replace(/-/g, '/');
    const u = Math.floor(r() * USERS);
    const p = Math.floor(r() * (POINTS / 5)) * 5 + (i % 5);
    return `${ts},${i % 2 === 0 ? '託送コールセンターシステム' : 'NWオンラインシステム'},u${u},T${u % 2000},${pid(p)},照会,${i % 4 === 0 ? 'supply_point_id;address' : ''}\n`;
  });
  return files;
}

async function gridwallRun(files: { staff: string; terminals: string; contracts: string; log: string }): Promise<{ seconds: number; views: number }> {
  const t0 = process.hrtime.bigint();
  const e = await openEngine({ memoryLimit: '2GB' });
  try {
    await loadLegacy(e, { staff: files.staff, terminals: files.terminals, contracts: files.contracts, logs: [files.log] });
    const report = await buildReport(e, { affiliate: 'A0001', from: '2022-10-05', to: '2023-01-05' });
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, views: report.total.views.total };
  } finally {
    e.close();
  }
}

/** The main aggregation as one raw DuckDB query: views per system by employment, at the moment of each read. */
async function rawRun(files: { staff: string; terminals: string; contracts: string; log: string }): Promise<{ seconds: number; views: number }> {
  const t0 = process.hrtime.bigint();
  const e = await openEngine({ memoryLimit: '2GB' });
  try {
    const csv = (p: string) => `read_csv('${p}', header = true, all_varchar = true)`;
    const rows = await e.rows<{ views: number }>(`
      WITH l AS (SELECT system, user_id, supply_point_id, strptime(accessed_at, '%Y/%m/%d %H:%M:%S')::TIMESTAMPTZ AS at, fields FROM ${csv(files.log)}),
           s AS (SELECT user_id, side, employment, valid_from::TIMESTAMPTZ AS f, nullif(valid_to, '')::TIMESTAMPTZ AS t FROM ${csv(files.staff)}),
           c AS (SELECT supply_point_id, retailer_code, last_resort::BOOLEAN AS lr, valid_from::TIMESTAMPTZ AS f, nullif(valid_to, '')::TIMESTAMPTZ + INTERVAL 1 DAY AS t FROM ${csv(files.contracts)})
      SELECT sum(n) AS views FROM (
        SELECT l.system, s.employment, count(*) AS n FROM l
          ASOF JOIN s ON l.user_id = s.user_id AND l.at >= s.f
          ASOF JOIN c ON l.supply_point_id = c.supply_point_id AND l.at >= c.f
         WHERE (s.t IS NULL OR l.at < s.t) AND (c.t IS NULL OR l.at < c.t) AND s.side = 'retail' AND NOT c.lr AND c.retailer_code <> 'A0001'
           AND coalesce(l.fields, '') <> 'supply_point_id;address' AND l.at >= '2022-10-05'::TIMESTAMPTZ AND l.at < '2023-01-06'::TIMESTAMPTZ
         GROUP BY 1, 2)`);
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, views: rows[0]?.views ?? 0 };
  } finally {
    e.close();
  }
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}`);
console.log('| log rows | generate | gridwall analyze | raw DuckDB aggregation | ratio | views (same in both) | peak RSS |');
console.log('|---|---|---|---|---|---|---|');
for (const n of SIZES) {
  const g0 = Date.now();
  const files = await generate(n);
  const gen = (Date.now() - g0) / 1000;
  const raw = await rawRun(files);
  const ours = await gridwallRun(files);
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `| ${n.toLocaleString('en')} | ${gen.toFixed(1)} s | ${ours.seconds.toFixed(1)} s | ${raw.seconds.toFixed(1)} s | ${(ours.seconds / raw.seconds).toFixed(2)}× | ${ours.views.toLocaleString('en')}${ours.views === raw.views ? '' : ` ≠ ${raw.views.toLocaleString('en')}`} | ${rss.toFixed(0)} MB |`,
  );
  if (process.env['BENCH_KEEP'] === undefined) rmSync(files.log, { force: true });
}
if (process.env['BENCH_KEEP'] === undefined) rmSync(DIR, { recursive: true, force: true });
