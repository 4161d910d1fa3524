/**
 * The access log's costs, each against a baseline measured in the same run:
 *  1. verification of an exported file (events/s) vs raw SHA-256 over the same bytes;
 *  2. reads with durable, hash-chained group-commit logging vs the same reads unlogged; pure appends/s;
 *  3. verification of the chain stored in the database (events/s).
 *
 *   npm run bench:audit                          # embedded PGlite for 2 and 3
 *   DATABASE_URL=postgres://… npm run bench:audit  # PostgreSQL server (a scratch schema, dropped afterwards)
 *   BENCH_EVENTS=1000000 BENCH_SECONDS=5 BENCH_CONCURRENCY=32
 */
import { createHash, hash as sha256 } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { sampleEvent } from './sample-event.ts';
import { canonicalEvent, eventLine, GENESIS, LINE, linkHash } from '../src/audit/chain.ts';
import { EXPORT_FORMAT } from '../src/audit/export.ts';
import { verifyStore } from '../src/audit/store-verify.ts';
import { verifyExportFile } from '../src/audit/file-verify.ts';
import { GroupCommitLog } from '../src/audit/log-writer.ts';
import { generateSigningKey, publicKeys, sealDigest, signSeal } from '../src/audit/signing.ts';
import { sealLine } from '../src/audit/witness.ts';
import { generateDemo } from '../src/demo/generate.ts';
import { loadRecords } from '../src/store/customer-store.ts';
import { migrate } from '../src/store/migrate.ts';
import { openBenchStore } from './bench-store.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const url = process.env['DATABASE_URL'];
const key = generateSigningKey();

const rate = (n: number, s: number) => `${(n / s / 1e6).toFixed(2)} M/s`;
function timed<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}
async function timedAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

/** Writes an export of EVENTS events with a seal after every `batch` events (one seal per group commit). */
async function writeExport(path: string, batch: number): Promise<void> {
  const out = createWriteStream(path);
  out.write(
    `${JSON.stringify({ format: EXPORT_FORMAT, version: 2, exportedAt: new Date().toISOString(), period: { from: null, to: null }, firstSeq: 1, anchor: GENESIS, keys: [key.publicKeyPem] })}\n`,
  );
  let prev = GENESIS;
  let batchPrev = GENESIS;
  let prevSeal = GENESIS;
  for (let i = 1; i <= EVENTS; i++) {
    const canonical = canonicalEvent(i, sampleEvent(i, new Date(Date.UTC(2026, 9, 1) + i * 1000)));
    const h = linkHash(prev, canonical);
    if (!out.write(`${eventLine(h, prev, canonical)}\n`)) await new Promise((r) => out.once('drain', () => r(undefined)));
    if (i % batch === 0 || i === EVENTS) {
      const seal = signSeal(key, { firstSeq: i - ((i - 1) % batch), seq: i, prevHash: batchPrev, hash: h, prevSeal }, new Date());
      out.write(`${sealLine(seal)}\n`);
      prevSeal = sealDigest(seal);
      batchPrev = h;
    }
    prev = h;
  }
  out.end(`${JSON.stringify({ end: { events: EVENTS, lastSeq: EVENTS, lastHash: prev } })}\n`);
  await finished(out);
}

async function fileBench(lines: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-bench-'));
  try {
    // Verification checks one Ed25519 signature per group commit, so its rate depends on the batch size the
    // writer saw: measured at the sizes the look-up and append loads above produce, and at one event per commit.
    const keys = publicKeys([key.publicKeyPem]);
    for (const batch of [500, 100, 30, 14, 1]) {
      const path = join(dir, `export-${batch}.jsonl`);
      await writeExport(path, batch);
      const bytes = statSync(path).size;
      const buf = readFileSync(path);
      // Baseline 1: SHA-256 over the whole file, one stream (the least any integrity check can cost).
      const [, tStream] = timed(() => createHash('sha256').update(buf).digest('hex'));
      // Baseline 2: one SHA-256 per event over the same bytes the chain hashes, nothing else (one core).
      const [, tRaw] = timed(() => {
        let start = buf.indexOf(0x0a) + 1;
        let sink = 0;
        while (start < buf.length) {
          const end = buf.indexOf(0x0a, start);
          if (buf[start + 2] === 0x68) sink += sha256('sha256', buf.subarray(start + LINE.inputStart, end - 1), 'hex').length;
          start = end + 1;
        }
        return sink;
      });
      const [r1, t1] = await timedAsync(() => verifyExportFile(path, keys));
      if (!r1.ok) throw new Error(`verification failed: ${JSON.stringify(r1.firstBreak)}`);
      lines.push(
        `export file: ${EVENTS.toLocaleString('en')} events, ${(bytes / 2 ** 20).toFixed(0)} MiB, a seal every ${batch} event(s) (${r1.seals.toLocaleString('en')} seals)`,
        `  raw SHA-256, whole file as one stream:          ${(bytes / tStream / 2 ** 30).toFixed(2)} GiB/s = ${rate(EVENTS, tStream)} events`,
        `  raw SHA-256, one per event, same bytes, 1 core: ${rate(EVENTS, tRaw)}`,
        `  gridwall audit verify --file:                   ${rate(EVENTS, t1)}  (${((tRaw / t1) * 100).toFixed(0)} % of per-event raw SHA-256; goal ≥ 50 %)`,
      );
      rmSync(path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `CONCURRENCY` loops doing `op` for `SECONDS`; operations per second. */
async function loops(op: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, c) => {
      for (let i = c; Date.now() < until; i += CONCURRENCY) {
        await op(i);
        n++;
      }
    }),
  );
  return n / SECONDS;
}

async function dbBench(lines: string[]): Promise<void> {
  const { db, name, dispose } = await openBenchStore(url);
  try {
    await migrate(db);
    await generateDemo(db, { supplyPoints: 20_000, seed: 7, areaCode: '02', now: new Date() });
    const ids = (await db.query<{ id: string }>('SELECT id FROM supply_points ORDER BY md5(id) LIMIT 5000')).rows.map((r) => r.id);
    const log = new GroupCommitLog(db, { key, checkpointSeconds: 3600 });
    const read = (i: number) => loadRecords(db, [ids[i % ids.length] ?? '']);
    await loops(read); // warm-up
    const unlogged = await loops(read);
    const b0 = log.batches;
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log')).rows[0]?.n ?? 0;
    const logged = await loops(async (i) => {
      await read(i);
      await log.append(sampleEvent(i, new Date()));
    });
    const appends = await loops((i) => log.append(sampleEvent(i, new Date())));
    const total = ((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log')).rows[0]?.n ?? 0) - before;
    await log.close();
    const [v, tv] = await timedAsync(() => verifyStore(db, { keys: publicKeys([key.publicKeyPem]) }));
    if (!v.ok) throw new Error(`stored chain does not verify: ${JSON.stringify(v.firstBreak)}`);
    lines.push(
      `store: ${name}; ${CONCURRENCY} concurrent loops, ${SECONDS} s each`,
      `  record reads, unlogged:                          ${unlogged.toFixed(0)} /s`,
      `  record reads + durable chained log (group commit): ${logged.toFixed(0)} /s  (${((logged / unlogged) * 100).toFixed(1)} % of unlogged; goal: the log costs ≤ 20 %)`,
      `  appends only:                                    ${appends.toFixed(0)} /s; ${(total / Math.max(1, log.batches - b0)).toFixed(1)} events per commit`,
      `  verification of the stored chain:                ${(v.events / tv).toFixed(0)} events/s (${v.events.toLocaleString('en')} events, ${v.seals.toLocaleString('en')} seals)`,
    );
  } finally {
    await dispose();
  }
}

const lines = [`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`];
await fileBench(lines);
if (process.env['BENCH_SKIP_DB'] === undefined) await dbBench(lines);
process.stdout.write(`${lines.join('\n')}\n`);
