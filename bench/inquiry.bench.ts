/**
 * Inquiries (issue 18) through HTTP, each against a baseline in the same run on the same server:
 *  1. an inquiry answered at once, end to end (`POST /api/inquiries` with the customer's consent: consent
 *     checked against the holder, the firewall's decisions, the access-log event committed, the inquiry and its
 *     history stored, the stored inquiry read back) against a plain record look-up
 *     (`GET /api/supply-points/:id`) by the same person at the same concurrency — goal: the inquiry's latency
 *     within 1.5× the look-up's;
 *  2. a batch of 1,000 switching inquiries (`POST /api/inquiries/batch`, JSON) answered at once — goal under
 *     10 s on the embedded store — and the same as a CSV file (`POST /api/inquiries/batch.csv`).
 *
 *   npm run bench:inquiry                          # embedded PGlite
 *   DATABASE_URL=postgres://… npm run bench:inquiry  # PostgreSQL server (a scratch schema, dropped afterwards)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 BENCH_SERIAL_SECONDS=5 BENCH_SUPPLY_POINTS=20000 BENCH_BATCH=1000 BENCH_BATCH_RUNS=3
 */
import { cpus, totalmem } from 'node:os';
import { generateDemo } from '../src/demo/generate.ts';
import { migrate } from '../src/store/migrate.ts';
import { openBenchStore, startBenchServer } from './bench-store.ts';
import { load, type Load } from './load-client.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const SUPPLY_POINTS = Number(process.env['BENCH_SUPPLY_POINTS'] ?? 20000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 1000);
const BATCH_RUNS = Number(process.env['BENCH_BATCH_RUNS'] ?? 3);
const SERIAL_SECONDS = Number(process.env['BENCH_SERIAL_SECONDS'] ?? 5);
const url = process.env['DATABASE_URL'];

/** What a switching case gives at once with the customer's consent (domain/inquiry.ts: CASE_ALLOWANCES). */
const AT_ONCE_ITEMS = ['holder_name', 'contracted_capacity', 'meter', 'usage', 'customer_type'];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[(s.length - 1) / 2] ?? NaN) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};

async function main(): Promise<void> {
  const { db, name, dispose } = await openBenchStore(url);
  try {
    await migrate(db);
    const now = new Date();
    process.stderr.write(`seeding ${SUPPLY_POINTS} supply points…\n`);
    const summary = await generateDemo(db, { supplyPoints: SUPPLY_POINTS, seed: 7, areaCode: '02', now });
    const persona = summary.personas.find((p) => p.key === 'other-retailer');
    if (persona === undefined) throw new Error('no other-retailer persona');
    const code = (
      await db.query<{ code: string }>(
        `SELECT s.retailer_code AS code FROM staff_assignments s WHERE s.person_id = $1 AND s.valid_from <= $2 AND (s.valid_to IS NULL OR s.valid_to > $2)`,
        [persona.personId, now],
      )
    ).rows[0]?.code;
    // Rivals' customers with their holder's name as stored: what a retailer asks about with the customer's consent.
    const targets = (
      await db.query<{ id: string; name: string }>(
        `SELECT sp.id, cu.name FROM supply_points sp
           JOIN contracts c ON c.supply_point_id = sp.id AND c.valid_from <= $1 AND c.valid_to IS NULL
           JOIN customers cu ON cu.id = c.customer_id
          WHERE c.retailer_code <> $2
          ORDER BY md5(sp.id) LIMIT 5000`,
        [now, code],
      )
    ).rows;
    if (targets.length < BATCH) throw new Error(`only ${targets.length} rivals' customers for a batch of ${BATCH}`);
    const ids = targets.map((t) => t.id);
    const consentGiven = new Date(now.getTime() - 3_600_000).toISOString();
    const consentUntil = new Date(now.getTime() + 90 * 86_400_000).toISOString();
    const inquiryOf = (t: { id: string; name: string }, k: number) => ({
      caseType: 'switching',
      supplyPointId: t.id,
      items: AT_ONCE_ITEMS,
      consent: { customerName: t.name, method: 'web', givenAt: consentGiven, reference: `Web受付 W${String(k).padStart(14, '0')}`, validUntil: consentUntil },
    });
    const bodies = targets.map((t, k) => JSON.stringify(inquiryOf(t, k)));

    // As the look-up bench and production (bench-store.ts).
    const { app, base } = await startBenchServer(db);
    const loginRes = await app.inject({ method: 'POST', url: '/api/session', payload: { userId: persona.userId } });
    if (loginRes.statusCode !== 201) throw new Error(`login ${persona.userId}: ${loginRes.statusCode} ${loginRes.body}`);
    const cookie = loginRes.headers['set-cookie']?.toString().split(';')[0] ?? '';
    const csrf = loginRes.json<{ csrfToken: string }>().csrfToken;
    const post = { 'content-type': 'application/json', 'x-csrf-token': csrf };

    // 1. One inquiry answered at once against a record look-up, same person, same points, same concurrency.
    const lookup = { url: base, path: '/api/supply-points/:id?purpose=switching_support', ids, connections: CONNECTIONS, cookie };
    const inquiry = { url: base, path: '/api/inquiries', method: 'POST', bodies, headers: post, connections: CONNECTIONS, cookie };
    const count = async (sql: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]?.n ?? 0;
    await load({ ...lookup, seconds: 2 });
    await load({ ...inquiry, seconds: 2 });
    const storedBefore = await count('inquiries');
    const runs: { lookup: Load[]; inquiry: Load[] } = { lookup: [], inquiry: [] };
    for (let round = 0; round < 2; round++) {
      runs.lookup.push(await load({ ...lookup, seconds: SECONDS }));
      runs.inquiry.push(await load({ ...inquiry, seconds: SECONDS }));
    }
    const stored = (await count('inquiries')) - storedBefore;
    // The same one request at a time: what the extra work costs without queueing behind other requests.
    const serial = {
      lookup: await load({ ...lookup, connections: 1, seconds: SERIAL_SECONDS }),
      inquiry: await load({ ...inquiry, connections: 1, seconds: SERIAL_SECONDS }),
    };
    const notAtOnce = await count(`inquiries WHERE created_at > '${now.toISOString()}' AND status <> 'answered'`);
    const mean = (xs: Load[], k: 'rps' | 'mean' | 'p50' | 'p99') => xs.reduce((n, x) => n + x[k], 0) / xs.length;
    const sum = (xs: Load[], k: 'ok' | 'non2xx' | 'errors') => xs.reduce((n, x) => n + x[k], 0);

    // 2. Batches of switching inquiries: the same 1,000 points each time (a retailer sending its day's file again).
    const batchTimes: number[] = [];
    const csvTimes: number[] = [];
    let batchAnswered = 0;
    let csvAnswered = 0;
    const csvCell = (v: string) => `"${v.replace(/"/g, '""')}"`;
    for (let run = 0; run < BATCH_RUNS; run++) {
      const slice = targets.slice(0, BATCH).map((t, k) => inquiryOf(t, 100_000 + run * BATCH + k));
      const t0 = performance.now();
      const res = await fetch(`${base}/api/inquiries/batch`, { method: 'POST', headers: { cookie, ...post }, body: JSON.stringify({ inquiries: slice }) });
      const out = (await res.json()) as { summary?: { answeredAtOnce: number } };
      batchTimes.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`batch: ${res.status} ${JSON.stringify(out).slice(0, 300)}`);
      batchAnswered = out.summary?.answeredAtOnce ?? 0;

      const csv = [
        'case_type,supply_point_id,items,consent_customer_name,consent_method,consent_given_at,consent_reference,consent_valid_until',
        ...slice.map((i) =>
          [
            i.caseType,
            i.supplyPointId,
            i.items.join(' '),
            i.consent.customerName,
            i.consent.method,
            i.consent.givenAt,
            i.consent.reference,
            i.consent.validUntil,
          ]
            .map(csvCell)
            .join(','),
        ),
      ].join('\r\n');
      const c0 = performance.now();
      const csvRes = await fetch(`${base}/api/inquiries/batch.csv`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'text/csv' },
        body: csv,
      });
      const csvOut = (await csvRes.json()) as { summary?: { answeredAtOnce: number } };
      csvTimes.push(performance.now() - c0);
      if (csvRes.status !== 200) throw new Error(`batch.csv: ${csvRes.status} ${JSON.stringify(csvOut).slice(0, 300)}`);
      csvAnswered = csvOut.summary?.answeredAtOnce ?? 0;
    }
    const logged = await count(`access_log WHERE purpose = 'inquiry_answer'`);
    await app.close();

    const stats = (xs: Load[]) => ({ rps: mean(xs, 'rps'), mean: mean(xs, 'mean'), p50: mean(xs, 'p50'), p99: mean(xs, 'p99') });
    const lk = stats(runs.lookup);
    const iq = stats(runs.inquiry);
    const figures = (x: typeof lk) => `${x.rps.toFixed(0)} req/s  p50 ${x.p50.toFixed(1)} ms  p99 ${x.p99.toFixed(1)} ms  mean ${x.mean.toFixed(1)} ms`;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      `store: ${name}; ${SUPPLY_POINTS} supply points (${summary.inquiries} demo inquiries); ${CONNECTIONS} connections; 2 × ${SECONDS} s per route, alternating; as ${persona.userId} (${code})`,
      `record look-up (GET /api/supply-points/:id):      ${figures(lk)}`,
      `inquiry answered at once (POST /api/inquiries):   ${figures(iq)}`,
      `ratio inquiry / look-up: latency p50 ${(iq.p50 / lk.p50).toFixed(2)}×, p99 ${(iq.p99 / lk.p99).toFixed(2)}×, mean ${(iq.mean / lk.mean).toFixed(2)}× (goal ≤ 1.5×); throughput ${((iq.rps / lk.rps) * 100).toFixed(1)} %`,
      `one at a time (1 connection, ${SERIAL_SECONDS} s each): look-up ${figures(stats([serial.lookup]))}; inquiry ${figures(stats([serial.inquiry]))}; p50 ratio ${(serial.inquiry.p50 / serial.lookup.p50).toFixed(2)}×`,
      `inquiries: ${sum(runs.inquiry, 'ok')} 2xx (non-2xx ${sum(runs.inquiry, 'non2xx')}, errors ${sum(runs.inquiry, 'errors')}), ${stored} stored in the measured rounds, ${notAtOnce} not answered at once; look-ups non-2xx ${sum(runs.lookup, 'non2xx')}`,
      `batch of ${BATCH} switching inquiries (POST /api/inquiries/batch): ${batchTimes.map(s).join(', ')} (median ${s(median(batchTimes))}; goal < 10 s on PGlite); ${batchAnswered} answered at once in the last`,
      `the same as CSV (POST /api/inquiries/batch.csv):                ${csvTimes.map(s).join(', ')} (median ${s(median(csvTimes))}); ${csvAnswered} answered at once in the last`,
      `access log: ${logged} inquiry_answer events in all`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await dispose();
  }
}

await main();
