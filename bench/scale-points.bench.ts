/**
 * Supply points at a national operator's scale (issue 21): N generated supply points loaded with the COPY
 * loader into a fresh PostgreSQL schema, then, through HTTP, the record look-up and each kind of search —
 * address by prefix (the issue's 仙台市青葉区, a city and town of random points, a deep page by `after`), address
 * by an inner substring (a town), holder name (a current holder's full name; a common surname), phone — each
 * against its baseline in the same run: the same store query and record load behind a bare route, without
 * session, decisions, masking or log. What the firewall adds at this size is the difference; what the size
 * costs is the difference between two runs (1 M and 10 M). Then the plans of the searches' own statements
 * (EXPLAIN ANALYZE, BUFFERS), table and index sizes, and the access log's growth per event logged.
 *
 *   DATABASE_URL=postgres://…/db npm run bench:scale:points          # 1,000,000 supply points (a scratch schema, dropped)
 *   BENCH_POINTS=10000000 BENCH_SECONDS=10 BENCH_CONNECTIONS=4
 *   BENCH_SCHEMA=name     # load into (or reuse, when it holds supply points) this schema, and keep it
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { generateDemo } from '../src/demo/generate.ts';
import { recordValues } from '../src/domain/record.ts';
import { loadRecords, searchByAddress, searchByHolderName, searchByPhone, type Page } from '../src/store/customer-store.ts';
import type { Db, Queryable, Statement } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { openPostgres } from '../src/store/postgres.ts';
import { openBenchStore, startBenchServer } from './bench-store.ts';
import { load, type Load } from './load-client.ts';

const POINTS = Number(process.env['BENCH_POINTS'] ?? 1_000_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 4);
const SAMPLE = 300;
/** Look-ups logged to measure the log's growth (and a quarter as many searches). */
const LOG_SAMPLE = Number(process.env['BENCH_LOG_SAMPLE'] ?? 4000);
const url = process.env['DATABASE_URL'];
const keep = process.env['BENCH_SCHEMA'];
const load1 = () => loadavg()[0]?.toFixed(2) ?? '?';

async function one<R extends Record<string, unknown>>(db: Queryable, sql: string, params: readonly unknown[] = []): Promise<R> {
  const row = (await db.query<R>(sql, params)).rows[0];
  if (row === undefined) throw new Error(`no row: ${sql}`);
  return row;
}

/** The bench's store: a scratch schema (bench-store.ts), or the kept one named by BENCH_SCHEMA. */
async function openStore(dbUrl: string): Promise<{ db: Db; name: string; dispose: () => Promise<void> }> {
  if (keep === undefined) return openBenchStore(dbUrl);
  const admin = await openPostgres(dbUrl, { poolSize: 1 });
  await admin.exec(`CREATE SCHEMA IF NOT EXISTS ${keep}`);
  await admin.close();
  const db = await openPostgres(dbUrl, { schema: keep, poolSize: 16 });
  const version = (await one<{ v: string }>(db, `SELECT current_setting('server_version') AS v`)).v;
  return { db, name: `PostgreSQL server (${version}), schema ${keep} (kept)`, dispose: () => db.close() };
}

/** The supply points' and access log's relations with their sizes (bytes). */
async function sizes(db: Queryable): Promise<{ name: string; table: number; indexes: number; total: number; rows: number }[]> {
  const { rows } = await db.query<{ name: string; table: string; indexes: string; total: string; rows: string }>(
    `SELECT c.relname AS name, pg_table_size(c.oid)::text AS table, pg_indexes_size(c.oid)::text AS indexes,
            pg_total_relation_size(c.oid)::text AS total, c.reltuples::bigint::text AS rows
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname = ANY($1::text[])
      ORDER BY pg_total_relation_size(c.oid) DESC`,
    [['supply_points', 'customers', 'contracts']],
  );
  return rows.map((r) => ({ name: r.name, table: Number(r.table), indexes: Number(r.indexes), total: Number(r.total), rows: Number(r.rows) }));
}

async function indexSizes(db: Queryable): Promise<{ name: string; bytes: number }[]> {
  const { rows } = await db.query<{ name: string; bytes: string }>(
    `SELECT i.relname AS name, pg_relation_size(i.oid)::text AS bytes
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relnamespace = current_schema()::regnamespace AND t.relname IN ('supply_points', 'customers', 'contracts')
      ORDER BY pg_relation_size(i.oid) DESC`,
  );
  return rows.map((r) => ({ name: r.name, bytes: Number(r.bytes) }));
}

/** The access log on disk: every partition with its indexes and TOAST, and how many events it holds. */
async function logSize(db: Queryable): Promise<{ bytes: number; events: number }> {
  const r = await one<{ bytes: string; events: string }>(
    db,
    `SELECT (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('access_log'))::text AS bytes,
            (SELECT count(*) FROM access_log)::text AS events`,
  );
  return { bytes: Number(r.bytes), events: Number(r.events) };
}

/** A Queryable that runs each statement as EXPLAIN (ANALYZE, BUFFERS) first and keeps the plan: the store's own SQL, planned with its parameters. */
function explaining(db: Queryable, plans: string[]): Queryable {
  return {
    async query<R extends Record<string, unknown>>(sql: string | Statement, params: readonly unknown[] = []) {
      const text = typeof sql === 'string' ? sql : sql.text;
      const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, params);
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
      return db.query<R>(sql, params);
    },
    exec: (sql) => db.exec(sql),
  };
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
const enc = encodeURIComponent;

/** The bare routes: the store's search (or look-up) and the record load, as the firewall calls them, and nothing else. */
function bareRoutes(db: Db): (app: FastifyInstance) => void {
  return (app) => {
    app.get<{ Params: { id: string } }>('/bench/bare/:id', async (req) => {
      const [rec] = await loadRecords(db, [req.params.id]);
      return rec === undefined ? null : { supplyPointId: rec.id, fields: recordValues(rec, new Date()) };
    });
    app.get<{ Querystring: Record<string, string | undefined> }>('/bench/bare-search', async (req) => {
      const q = req.query;
      const page: Page = { limit: 21, offset: 0, ...(q['after'] === undefined ? {} : { after: q['after'] }) };
      const at = new Date();
      const ids =
        q['address'] !== undefined
          ? await searchByAddress(db, q['address'], page)
          : q['name'] !== undefined
            ? await searchByHolderName(db, q['name'], at, null, page)
            : await searchByPhone(db, q['phone'] ?? '', at, null, page);
      const recs = await loadRecords(db, ids.slice(0, 20));
      return { items: recs.map((r) => ({ supplyPointId: r.id, fields: recordValues(r, at) })), hasMore: ids.length > 20 };
    });
  };
}

async function main(): Promise<void> {
  if (url === undefined) throw new Error('set DATABASE_URL to a PostgreSQL database: this bench loads millions of supply points into a scratch schema there');
  const { db, name, dispose } = await openStore(url);
  const out: string[] = [];
  const say = (line: string) => {
    out.push(line);
    process.stderr.write(`${line}\n`);
  };
  try {
    await migrate(db);
    const held = Number((await one<{ n: string }>(db, 'SELECT count(*)::text AS n FROM supply_points')).n);
    say(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; store: ${name}`);
    if (held === 0) {
      const l0 = load1();
      const t0 = performance.now();
      const s = await generateDemo(db, {
        supplyPoints: POINTS,
        seed: 7,
        now: new Date(),
        onProgress: (m) => {
          if (!m.startsWith('supply points') || m.includes(',000,000 /')) process.stderr.write(`  ${((performance.now() - t0) / 1000).toFixed(0)} s ${m}\n`);
        },
      });
      say(
        `load: ${s.supplyPoints.toLocaleString('en')} supply points, ${s.customers.toLocaleString('en')} customers, ${s.contracts.toLocaleString('en')} contracts in ${((performance.now() - t0) / 1000).toFixed(0)} s (COPY loader, indexes built after; load average ${l0} → ${load1()})`,
      );
    } else say(`reusing ${held.toLocaleString('en')} supply points in the kept schema`);
    const points = Number((await one<{ n: string }>(db, 'SELECT count(*)::text AS n FROM supply_points')).n);

    say('\nsizes (table = heap + TOAST; indexes; total):');
    for (const s of await sizes(db))
      say(`  ${s.name}: ${s.rows.toLocaleString('en')} rows, table ${mb(s.table)}, indexes ${mb(s.indexes)}, total ${mb(s.total)}`);
    for (const i of await indexSizes(db)) say(`    ${i.name}: ${mb(i.bytes)}`);

    // Terms drawn from the store: random supply points, their addresses and their current holders.
    const sample = (
      await db.query<{ id: string; prefecture: string; city: string; town: string; street: string; name: string; phone: string }>(
        `SELECT sp.id, sp.prefecture, sp.city, sp.town, sp.street, cu.name, cu.phone_digits AS phone
           FROM (SELECT * FROM supply_points TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT ${SAMPLE}) sp
           JOIN contracts c ON c.supply_point_id = sp.id AND c.valid_to IS NULL
           JOIN customers cu ON cu.id = c.customer_id`,
      )
    ).rows;
    const ids = (await db.query<{ id: string }>(`SELECT id FROM supply_points TABLESAMPLE SYSTEM (1) REPEATABLE (8) LIMIT 5000`)).rows.map((r) => r.id);
    const deep: string[] = [];
    for (const city of ['仙台市青葉区', ...new Set(sample.slice(0, 4).map((s) => s.city))]) {
      const [cursor] = await searchByAddress(db, city, { limit: 1, offset: 9_999 });
      if (cursor !== undefined) deep.push(`address=${enc(city)}&after=${cursor}`);
    }
    const kinds: { kind: string; queries: string[] }[] = [
      { kind: 'address prefix: 仙台市青葉区', queries: [`address=${enc('仙台市青葉区')}`] },
      { kind: 'address prefix: city + town', queries: sample.map((s) => `address=${enc(s.city + s.town)}`) },
      { kind: 'address prefix: page 501 by `after`', queries: deep },
      { kind: 'address inner substring: town', queries: sample.map((s) => `address=${enc(s.town)}`) },
      { kind: 'address inner substring: town + street', queries: sample.map((s) => `address=${enc(s.town + s.street)}`) },
      { kind: 'holder name: full name', queries: sample.map((s) => `name=${enc(s.name)}`) },
      {
        kind: 'holder name: surname alone',
        queries: sample.flatMap((s) => ((s.name.split(' ')[0] ?? '').length >= 2 ? [`name=${enc(s.name.split(' ')[0] ?? '')}`] : [])),
      },
      { kind: 'phone', queries: sample.map((s) => `phone=${s.phone}`) },
    ];

    const { app, base, log } = await startBenchServer(db, bareRoutes(db));
    try {
      const persona = (
        await one<{ value: { userId: string; principalClass: string }[] }>(db, `SELECT value FROM settings WHERE key = 'demo_personas'`)
      ).value.find((p) => p.principalClass === 'network_call_centre');
      if (persona === undefined) throw new Error('no call-centre persona');
      const login = await app.inject({ method: 'POST', url: '/api/session', payload: { userId: persona.userId } });
      const cookie = login.headers['set-cookie']?.toString().split(';')[0] ?? '';
      const run = (path: string, list: string[], seconds: number) => load({ url: base, path, ids: list, connections: CONNECTIONS, cookie, seconds });
      const row = (label: string, bare: Load, fw: Load, l: string) =>
        `| ${label} | ${bare.p50.toFixed(1)} / ${bare.p99.toFixed(1)} ms | ${fw.p50.toFixed(1)} / ${fw.p99.toFixed(1)} ms | ${fw.rps.toFixed(0)} | ${fw.non2xx + bare.non2xx + fw.errors + bare.errors} | ${l} |`;

      say(`\n${points.toLocaleString('en')} supply points; ${CONNECTIONS} connections, ${SECONDS} s per route, bare then firewall, after 1 s of each to warm:`);
      say('| read | bare p50 / p99 | firewall + log p50 / p99 | firewall req/s | non-2xx | load avg |');
      say('|---|---|---|---|---|---|');
      const logBefore = await logSize(db);
      await run('/bench/bare/:id', ids, 1);
      await run('/api/supply-points/:id?purpose=customer_inquiry', ids, 1);
      const lookupStart = await logSize(db);
      const bareLookup = await run('/bench/bare/:id', ids, SECONDS);
      const fwLookup = await run('/api/supply-points/:id?purpose=customer_inquiry', ids, SECONDS);
      const lookupEnd = await logSize(db);
      say(row('record look-up', bareLookup, fwLookup, load1()));
      const searchStart = lookupEnd;
      let searchEnd = searchStart;
      for (const k of kinds) {
        if (k.queries.length === 0) continue;
        await run('/bench/bare-search?:id', k.queries, 1);
        await run('/api/supply-points?purpose=customer_inquiry&:id', k.queries, 1);
        const bare = await run('/bench/bare-search?:id', k.queries, SECONDS);
        const fw = await run('/api/supply-points?purpose=customer_inquiry&:id', k.queries, SECONDS);
        say(row(k.kind, bare, fw, load1()));
      }
      searchEnd = await logSize(db);
      // The log's growth from a fixed sample of reads through the real route, firewall and log writer (16 at a
      // time, in process), counted rather than timed so that a loaded machine does not shrink the sample.
      const inject = async (paths: string[]) => {
        for (let i = 0; i < paths.length; i += 16)
          await Promise.all(paths.slice(i, i + 16).map((u) => app.inject({ method: 'GET', url: u, headers: { cookie } })));
      };
      const grown = async (paths: string[]) => {
        const a = await logSize(db);
        await inject(paths);
        const b = await logSize(db);
        return { events: b.events - a.events, bytes: (b.bytes - a.bytes) / Math.max(1, b.events - a.events) };
      };
      const lookups = await grown(ids.slice(0, LOG_SAMPLE).map((id) => `/api/supply-points/${id}?purpose=customer_inquiry`));
      const searches = await grown(
        Array.from(
          { length: LOG_SAMPLE / 4 },
          (_, i) => `/api/supply-points?purpose=customer_inquiry&${kinds[1]?.queries[i % (kinds[1]?.queries.length ?? 1)] ?? ''}`,
        ),
      );
      const gib = (bytes: number) => ((bytes * 1e6) / 2 ** 30).toFixed(2);
      say(
        `\naccess log on disk (partitions + their indexes + TOAST), per event: ${lookups.events.toLocaleString('en')} look-ups, ${lookups.bytes.toFixed(0)} bytes each → ${gib(lookups.bytes)} GiB per million look-ups; ` +
          `${searches.events.toLocaleString('en')} address searches (20 records each), ${searches.bytes.toFixed(0)} bytes each → ${gib(searches.bytes)} GiB per million searches ` +
          `(during the timed runs: ${(lookupEnd.events - lookupStart.events).toLocaleString('en')} look-ups at ${(((lookupEnd.bytes - lookupStart.bytes) / Math.max(1, lookupEnd.events - lookupStart.events)) | 0).toLocaleString('en')} bytes, ` +
          `${(searchEnd.events - searchStart.events).toLocaleString('en')} searches of every kind; ${(searchEnd.events - logBefore.events).toLocaleString('en')} events in ${log.batches} group commits)`,
      );
    } finally {
      await app.close();
    }

    say('\nplans (the store functions’ own statements, EXPLAIN (ANALYZE, BUFFERS) with their parameters):');
    const at = new Date();
    const first = sample[0];
    const planned: { label: string; run: (q: Queryable) => Promise<unknown> }[] = [
      { label: 'record look-up', run: (q) => loadRecords(q, ids.slice(0, 1)) },
      { label: 'address prefix 仙台市青葉区, first page', run: (q) => searchByAddress(q, '仙台市青葉区', { limit: 21, offset: 0 }) },
      {
        label: 'address prefix 仙台市青葉区, page 501 by `after`',
        run: async (q) => {
          const [cursor] = await searchByAddress(db, '仙台市青葉区', { limit: 1, offset: 9_999 });
          return cursor === undefined ? [] : searchByAddress(q, '仙台市青葉区', { limit: 21, offset: 0, after: cursor });
        },
      },
      {
        label: `address with prefecture ${first?.prefecture ?? ''}${first?.city ?? ''}${first?.town ?? ''}`,
        run: (q) => searchByAddress(q, `${first?.prefecture ?? ''}${first?.city ?? ''}${first?.town ?? ''}`, { limit: 21, offset: 0 }),
      },
      { label: `address inner substring ${first?.town ?? ''}`, run: (q) => searchByAddress(q, first?.town ?? '', { limit: 21, offset: 0 }) },
      { label: 'address inner substring 丁目 (nearly every address)', run: (q) => searchByAddress(q, '丁目', { limit: 21, offset: 0 }) },
      { label: `holder name ${first?.name ?? ''}`, run: (q) => searchByHolderName(q, first?.name ?? '', at, null, { limit: 21, offset: 0 }) },
      { label: 'holder name 佐藤 (a common surname)', run: (q) => searchByHolderName(q, '佐藤', at, null, { limit: 21, offset: 0 }) },
      { label: 'phone', run: (q) => searchByPhone(q, first?.phone ?? '', at, null, { limit: 21, offset: 0 }) },
    ];
    for (const p of planned) {
      const plans: string[] = [];
      await p.run(explaining(db, plans));
      say(`\n### ${p.label}\n\n\`\`\`\n${plans.join('\n---\n')}\n\`\`\``);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await dispose();
  }
}

await main();
