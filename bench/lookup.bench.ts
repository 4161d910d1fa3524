/**
 * Record look-up throughput through HTTP: the firewall route (session → principal → decisions → masking →
 * durable group-commit log) against a bare route that runs the same record query and returns the raw
 * record, in the same run, on the same store; and the firewall route counting every read against the rate and
 * volume limits (issue 20). Also: decision-table look-ups vs calling the policy function.
 *
 *   npm run bench                      # embedded PGlite
 *   DATABASE_URL=postgres://… npm run bench   # PostgreSQL server (a scratch schema, dropped afterwards)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_SUPPLY_POINTS=20000
 */
import { cpus, totalmem } from 'node:os';
import { generateDemo } from '../src/demo/generate.ts';
import { SUPPLY_POINT_FIELDS, SUPPLY_POINT_FIELD_KEYS } from '../src/domain/classification.ts';
import { decide } from '../src/domain/decision.ts';
import { compileDecisionTable, keySpace } from '../src/domain/decision-table.ts';
import { recordValues } from '../src/domain/record.ts';
import { ReadLimiter } from '../src/domain/read-limits.ts';
import { loadRecords } from '../src/store/customer-store.ts';
import { migrate } from '../src/store/migrate.ts';
import { openBenchStore, startBenchServer } from './bench-store.ts';
import { load, type Load } from './load-client.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const SUPPLY_POINTS = Number(process.env['BENCH_SUPPLY_POINTS'] ?? 20000);
const url = process.env['DATABASE_URL'];

function tableBench(): { tablePerSec: number; decidePerSec: number } {
  const table = compileDecisionTable();
  const keys = [...keySpace()];
  const rounds = 200;
  let sink = 0;
  let t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++)
    for (const k of keys) sink += table.lookup(k.principalClass, k.relation, k.fieldIndex, k.emergency, k.purpose, k.inquiry).kind === 'allow' ? 1 : 0;
  const tTable = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds / 10; r++)
    for (const k of keys) {
      const field = SUPPLY_POINT_FIELDS[SUPPLY_POINT_FIELD_KEYS[k.fieldIndex] ?? 'network_notes'];
      sink +=
        decide({ principalClass: k.principalClass, relation: k.relation, field, emergency: k.emergency, purpose: k.purpose, inquiry: k.inquiry }).kind ===
        'allow'
          ? 1
          : 0;
    }
  const tDecide = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink < 0) console.log(sink);
  return { tablePerSec: (keys.length * rounds) / tTable, decidePerSec: (keys.length * rounds) / 10 / tDecide };
}

/**
 * The read limiter alone (issue 20): a look-up admitted and counted, per call, for one busy person (a read
 * every 0.1 ms of simulated time: 600,000 in a minute's window) and spread over 1,000 people.
 */
function limiterBench(): { onePersonNs: number; manyPeopleNs: number } {
  const huge = { recordsPerMinute: 1e9, recordsPerDay: 1e9, searchRowsPerMinute: 1e9 };
  const run = (people: number) => {
    const limiter = new ReadLimiter({ normal: huge, emergency: huge, personRecordsPerDay: 1e9, consentRefusalsPerDay: 1e9, inquiryAnswersPerDay: 1e9 });
    const n = 2_000_000;
    const ids = Array.from({ length: people }, (_, i) => `p-${i}`);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) limiter.admitRecord(ids[i % people] ?? 'p-0', 'customer_inquiry', new Date(1e12 + i / 10));
    return Number(process.hrtime.bigint() - t0) / n;
  };
  return { onePersonNs: run(1), manyPeopleNs: run(1000) };
}

async function main(): Promise<void> {
  const { db, name, dispose } = await openBenchStore(url);
  try {
    await migrate(db);
    const now = new Date();
    process.stderr.write(`seeding ${SUPPLY_POINTS} supply points…\n`);
    const summary = await generateDemo(db, { supplyPoints: SUPPLY_POINTS, seed: 7, areaCode: '02', now });
    const ids = (await db.query<{ id: string }>('SELECT id FROM supply_points ORDER BY md5(id) LIMIT 5000')).rows.map((r) => r.id);
    // As in production (bench-store.ts), with the baseline beside it.
    const { app, base, log, key } = await startBenchServer(db, (a) => {
      // The baseline: the same record query, no session, no decisions, no masking, no log.
      a.get<{ Params: { id: string } }>('/bench/bare/:id', async (req) => {
        const [rec] = await loadRecords(db, [req.params.id]);
        return rec === undefined ? null : { supplyPointId: rec.id, fields: recordValues(rec, new Date()) };
      });
    });
    // The same application whose firewall counts every read against the rate and volume limits (issue 20), set
    // so high that none is refused: what counting costs. Over the same log writer, so the two never take turns.
    const unlimited = { recordsPerMinute: 1e9, recordsPerDay: 1e9, searchRowsPerMinute: 1e9 };
    const limitedServer = await startBenchServer(db, undefined, {
      // BENCH_LIMITS=off: the second server without limits too (an A/A run: what two servers alone differ by).
      ...(process.env['BENCH_LIMITS'] === 'off'
        ? {}
        : { readLimits: { normal: unlimited, emergency: unlimited, personRecordsPerDay: 1e9, consentRefusalsPerDay: 1e9, inquiryAnswersPerDay: 1e9 } }),
      shareLog: { log, key },
      // BENCH_BULK=on: the third route also judges bulk reading live (the count from the log, beside the reads).
      bulkReading: process.env['BENCH_BULK'] === 'on',
    });
    const persona = summary.personas.find((p) => p.principalClass === 'network_call_centre');
    if (persona === undefined) throw new Error('no call-centre persona');
    const loginRes = await app.inject({ method: 'POST', url: '/api/session', payload: { userId: persona.userId } });
    const cookie = loginRes.headers['set-cookie']?.toString().split(';')[0] ?? '';
    const bare = { url: base, path: '/bench/bare/:id', ids, connections: CONNECTIONS };
    const fw = { url: base, path: '/api/supply-points/:id?purpose=customer_inquiry', ids, connections: CONNECTIONS, cookie };
    const limited = { ...fw, url: limitedServer.base };

    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log')).rows[0]?.n ?? 0;
    await load({ ...bare, seconds: 2 });
    await load({ ...fw, seconds: 2 });
    await load({ ...limited, seconds: 2 });
    const warm = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log')).rows[0]?.n ?? 0;
    const runs: { bare: Load[]; fw: Load[]; limited: Load[] } = { bare: [], fw: [], limited: [] };
    const batchesBefore = log.batches;
    for (let round = 0; round < 2; round++) {
      runs.bare.push(await load({ ...bare, seconds: SECONDS }));
      runs.fw.push(await load({ ...fw, seconds: SECONDS }));
      runs.limited.push(await load({ ...limited, seconds: SECONDS }));
    }
    const logged = ((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log')).rows[0]?.n ?? 0) - warm;
    const fwOk = runs.fw.reduce((n, r) => n + r.ok, 0) + runs.limited.reduce((n, r) => n + r.ok, 0);
    const mean = (xs: Load[], k: 'rps' | 'p50' | 'p99') => xs.reduce((n, x) => n + x[k], 0) / xs.length;
    const cpuOf = (xs: Load[], k: keyof Load['cpu']) => xs.reduce((n, x) => n + x.cpu[k], 0) / xs.length;
    const cpuLine = (what: string, xs: Load[]) =>
      `  CPU per response, ${what}: server ${(cpuOf(xs, 'server') * 1000).toFixed(0)} µs, PostgreSQL ${(cpuOf(xs, 'database') * 1000).toFixed(0)} µs, load generator ${(cpuOf(xs, 'client') * 1000).toFixed(0)} µs`;
    const bareRps = mean(runs.bare, 'rps');
    const fwRps = mean(runs.fw, 'rps');
    const t = tableBench();
    const lim = limiterBench();
    const limitedRps = mean(runs.limited, 'rps');
    await limitedServer.tally?.close();
    await limitedServer.app.close();
    await app.close();
    const lines = [
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      `store: ${name}; ${SUPPLY_POINTS} supply points; ${CONNECTIONS} connections; 2 × ${SECONDS} s per route, the three alternating`,
      `bare route (same query, no firewall, no log):  ${bareRps.toFixed(0)} req/s  p50 ${mean(runs.bare, 'p50').toFixed(1)} ms  p99 ${mean(runs.bare, 'p99').toFixed(1)} ms`,
      `firewall + durable log:                         ${fwRps.toFixed(0)} req/s  p50 ${mean(runs.fw, 'p50').toFixed(1)} ms  p99 ${mean(runs.fw, 'p99').toFixed(1)} ms`,
      `${process.env['BENCH_LIMITS'] === 'off' ? 'second firewall server, no limits (A/A):' : 'firewall + read limits counted (none hit):'}${process.env['BENCH_BULK'] === 'on' ? ' + bulk reading judged live' : ''}     ${limitedRps.toFixed(0)} req/s  p50 ${mean(runs.limited, 'p50').toFixed(1)} ms  p99 ${mean(runs.limited, 'p99').toFixed(1)} ms`,
      cpuLine('bare', runs.bare),
      cpuLine('firewall', runs.fw),
      cpuLine('firewall + limits', runs.limited),
      `ratio firewall / bare: ${((fwRps / bareRps) * 100).toFixed(1)} %  (goal ≥ 80 %); with read limits: ${((limitedRps / bareRps) * 100).toFixed(1)} %`,
      `log: ${logged} events for ${fwOk} firewall 2xx responses, both firewalls (non-2xx: ${[...runs.fw, ...runs.limited].reduce((n, r) => n + r.non2xx, 0)}); ${log.batches - batchesBefore} group commits, ${(logged / Math.max(1, log.batches - batchesBefore)).toFixed(1)} events per commit; ${before} events before warm-up`,
      `read limiter alone: ${(lim.onePersonNs / 1000).toFixed(2)} µs per look-up counted (one person), ${(lim.manyPeopleNs / 1000).toFixed(2)} µs (1,000 people)`,
      `decision table: ${(t.tablePerSec / 1e6).toFixed(1)} M look-ups/s vs policy function ${(t.decidePerSec / 1e6).toFixed(2)} M/s (${(t.tablePerSec / t.decidePerSec).toFixed(1)}×)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await dispose();
  }
}

await main();
