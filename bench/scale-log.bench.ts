/**
 * Verification of the stored access log at scale (issue 21), on PostgreSQL (DATABASE_URL):
 *
 *  - BENCH_EVENTS events (default 1,000,000, over two months) written by the real writer (group commits, one
 *    seal each), then `ANALYZE`d as autovacuum would;
 *  - the baseline, measured in the same run: the generic reader the verifier used before issue 21 (pages of
 *    parsed rows, each event rebuilt and re-encoded: `readLinks`), feeding the same ChainVerifier;
 *  - `verifyStore` paged (the console's way) and streamed in one COPY (`gridwall audit verify`);
 *  - the floors: the server sending the same columns by COPY with nothing done to them, and one SHA-256 per
 *    event over the canonical texts (one core);
 *  - one month's partition on its own (`--partition`).
 * Each verification is run twice, alternating; the better of the two counts (this machine is shared). CPU
 * seconds of this process per event are printed too: what a core of the verifier costs, whatever the machine.
 *
 *   DATABASE_URL=postgres://… npm run bench:scale:log
 */
import { createHash } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { ChainVerifier } from '../src/audit/chain-verify.ts';
import { SealCursor } from '../src/audit/export.ts';
import { LINK_TEXT, readChainLinks, readLinks, readSeals } from '../src/audit/log-reader.ts';
import { GroupCommitLog } from '../src/audit/log-writer.ts';
import { listPartitions } from '../src/audit/partitions.ts';
import { generateSigningKey, publicKeys, type Seal } from '../src/audit/signing.ts';
import { verifyStore } from '../src/audit/store-verify.ts';
import type { Db } from '../src/store/db.ts';
import { migrate } from '../src/store/migrate.ts';
import { openBenchStore } from './bench-store.ts';
import { sampleEvent } from './sample-event.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const url = process.env['DATABASE_URL'];
if (url === undefined) {
  process.stderr.write('bench:scale:log needs DATABASE_URL (a PostgreSQL server): it measures streaming the log out of one\n');
  process.exit(2);
}
const key = generateSigningKey();
const keys = publicKeys([key.publicKeyPem]);

interface Timing {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, Timing]> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await f();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return [r, { seconds, cpuSeconds: (c.user + c.system) / 1e6 }];
}

/** The verifier's loop as it was before issue 21: the generic reader, each event rebuilt and re-encoded. */
async function verifyGeneric(db: Db): Promise<number> {
  const verifier = new ChainVerifier({ firstSeq: 1, prevHash: '0'.repeat(64), checkpoints: [], keys });
  const seals = new SealCursor(readSeals(db));
  const stray = (s: Seal) => verifier.straySeal(s);
  for await (const { link } of readLinks(db)) verifier.push(link, await seals.at(link.seq, stray));
  const r = verifier.finish();
  if (!r.ok) throw new Error(`generic reader: ${JSON.stringify(r.firstBreak)}`);
  return r.events;
}

async function fill(db: Db): Promise<void> {
  const log = new GroupCommitLog(db, { key, checkpointSeconds: 3600 });
  // Two months of events (October and November, Japan time: two partitions) in sequence order, 64 requests
  // at a time as a busy server has them.
  const start = Date.UTC(2026, 8, 30, 15);
  const span = Date.UTC(2026, 10, 30, 15) - start - 60_000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < EVENTS) {
        const i = next++;
        await log.append(sampleEvent(i, new Date(start + Math.floor((i / EVENTS) * span))));
      }
    }),
  );
  await log.close();
  await db.exec('ANALYZE access_log');
}

const rate = (n: number, t: Timing) => `${Math.round(n / t.seconds).toLocaleString('en')} events/s`;
const cpu = (n: number, t: Timing) => `${((t.cpuSeconds / n) * 1e6).toFixed(1)} µs CPU/event`;
const best = (a: Timing, b: Timing): Timing => (a.seconds <= b.seconds ? a : b);

const { db, name, dispose } = await openBenchStore(url);
const lines = [`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${name}`];
try {
  await migrate(db);
  const [, tFill] = await timed(() => fill(db));
  lines.push(`log: ${EVENTS.toLocaleString('en')} events written by the writer in ${tFill.seconds.toFixed(0)} s (${rate(EVENTS, tFill)})`);
  const sizes = (
    await db.query<{ heap: string; total: string }>(
      `SELECT sum(pg_relation_size(c.oid))::text AS heap, sum(pg_total_relation_size(c.oid))::text AS total
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'access_log' AND p.relnamespace = current_schema()::regnamespace`,
    )
  ).rows[0];
  lines.push(
    `  stored: ${(Number(sizes?.heap) / 2 ** 20).toFixed(0)} MiB of rows, ${(Number(sizes?.total) / 2 ** 20).toFixed(0)} MiB with indexes (${Math.round(Number(sizes?.total) / EVENTS)} bytes per event)`,
  );

  const runs: Record<string, Timing[]> = { generic: [], paged: [], streamed: [], copyOnly: [] };
  const copyOut = db.copyOut?.bind(db);
  if (copyOut === undefined) throw new Error('the PostgreSQL store streams by COPY');
  for (let round = 0; round < 2; round++) {
    const [n1, g] = await timed(() => verifyGeneric(db));
    runs['generic']?.push(g);
    const [p, tp] = await timed(() => verifyStore(db, { keys }));
    runs['paged']?.push(tp);
    const [s, ts] = await timed(() => verifyStore(db, { keys, stream: true }));
    runs['streamed']?.push(ts);
    if (n1 !== EVENTS || !p.ok || !s.ok || p.events !== EVENTS || s.events !== EVENTS) throw new Error('a verification did not read every event, or failed');
    // The server's floor: the reader's columns streamed out, nothing done with them.
    const [, tc] = await timed(async () => {
      let n = 0;
      for await (const _ of readChainLinksRaw(copyOut)) n++;
      return n;
    });
    runs['copyOnly']?.push(tc);
  }
  // The CPU floor: one SHA-256 per event over its canonical text's bytes, one core (the first 100,000 texts
  // gathered first as bytes, so that neither reading nor building the strings counts).
  const texts: Buffer[] = [];
  for await (const l of readChainLinks(db, { stream: true })) {
    texts.push(Buffer.from(l.canonical, 'utf8'));
    if (texts.length === 100_000) break;
  }
  const [, tHashSample] = await timed(async () => {
    let sink = 0;
    for (const t of texts) sink += createHash('sha256').update(t).digest('hex').length;
    return sink;
  });
  const tHash: Timing = { seconds: (tHashSample.seconds * EVENTS) / texts.length, cpuSeconds: (tHashSample.cpuSeconds * EVENTS) / texts.length };
  texts.length = 0;
  const [g, p, s, c] = (['generic', 'paged', 'streamed', 'copyOnly'] as const).map((k) => {
    const [a, b] = runs[k] ?? [];
    if (a === undefined || b === undefined) throw new Error(k);
    return best(a, b);
  }) as [Timing, Timing, Timing, Timing];
  lines.push(
    `verification of the stored chain (${EVENTS.toLocaleString('en')} events; the better of two runs each; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}):`,
    `  baseline — the generic reader (before issue 21):  ${rate(EVENTS, g)}  ${cpu(EVENTS, g)}`,
    `  verifyStore, paged (the console):                 ${rate(EVENTS, p)}  ${cpu(EVENTS, p)}  ${(g.seconds / p.seconds).toFixed(2)}× the baseline`,
    `  verifyStore, one COPY (gridwall audit verify):    ${rate(EVENTS, s)}  ${cpu(EVENTS, s)}  ${(g.seconds / s.seconds).toFixed(2)}× the baseline`,
    `  floor: the same columns by COPY, decoded only:    ${rate(EVENTS, c)}`,
    `  floor: one SHA-256 per event, canonical text:     ${rate(EVENTS, tHash)}`,
  );
  const parts = (await listPartitions(db)).filter((x) => x.firstSeq !== null && x.lastSeq !== null);
  for (const part of parts) {
    const [r, t] = await timed(() => verifyStore(db, { keys, stream: true, range: { fromSeq: part.firstSeq ?? 1, toSeq: part.lastSeq ?? 1 } }));
    if (!r.ok) throw new Error(`partition ${part.month}: ${JSON.stringify(r.firstBreak)}`);
    lines.push(`  one partition on its own (${part.month}, ${r.events.toLocaleString('en')} events): ${t.seconds.toFixed(1)} s, ${rate(r.events, t)}`);
  }
} finally {
  await dispose();
}
process.stdout.write(`${lines.join('\n')}\n`);

/** The verifier's COPY with its rows only decoded: what the server, the wire and the decoding cost on their own. */
function readChainLinksRaw(copyOut: NonNullable<Db['copyOut']>): AsyncIterable<unknown> {
  return copyOut(`SELECT ${LINK_TEXT} FROM access_log ORDER BY access_log.seq, access_log.id`);
}
