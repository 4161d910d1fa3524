import { createWriteStream } from 'node:fs';
import { readFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { ArchiveRefusedError, archivePartitions, retentionStart } from '../audit/archive.ts';
import type { VerifyResult } from '../audit/chain-verify.ts';
import { exportCsv, exportJsonl, verifyStore } from '../audit/export.ts';
import { verifyExportFile } from '../audit/file-verify.ts';
import { feed, openSyslog } from '../audit/feed.ts';
import { readHead } from '../audit/log-reader.ts';
import { listPartitions, monthOf, monthKey } from '../audit/partitions.ts';
import { exportParquet } from '../audit/parquet-export.ts';
import { loadSigningKey } from '../audit/signing.ts';
import type { Config } from '../config.ts';
import { japanPeriod } from '../domain/japan-time.ts';
import { openStore } from '../store/open.ts';
import { EXIT, UsageError } from './exit.ts';

function readKeyFiles(paths: readonly string[]): string[] {
  return paths.map((p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      throw new UsageError(`--public-key ${p}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

function describe(r: VerifyResult, source: string, keysNote: string): string {
  const range = r.lastSeq === null ? 'no events' : `events ${r.firstSeq}–${r.lastSeq}`;
  if (r.ok) return `audit verify: OK — ${source}: ${r.events.toLocaleString('en')} events (${range}), ${r.checkpoints.verified} signed checkpoints verified; ${keysNote}\n`;
  const b = r.firstBreak;
  return `audit verify: BROKEN — ${source}: first broken event ${b?.seq} (${b?.kind}): ${b?.detail}\n  read ${r.events.toLocaleString('en')} events; the chain verified up to event ${r.lastSeq ?? 'none'}\n`;
}

/** `gridwall audit verify`: the database's chain, or an exported file. Exit 0 intact, 1 broken. */
export async function runVerify(config: Config, opts: { file?: string; publicKey: string[]; format: 'text' | 'json' }): Promise<number> {
  const keys = readKeyFiles(opts.publicKey);
  let result: VerifyResult & { signaturesCheckedWith: string };
  let source: string;
  if (opts.file !== undefined) {
    source = opts.file;
    try {
      result = await verifyExportFile(opts.file, keys);
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
  } else {
    const db = await openStore(config.store);
    try {
      source = config.store.kind === 'pglite' ? `embedded store ${config.store.dataDir}` : 'PostgreSQL (DATABASE_URL)';
      result = await verifyStore(db, keys);
    } finally {
      await db.close();
    }
  }
  const keysNote =
    result.signaturesCheckedWith === 'given_keys'
      ? 'signatures checked with the public key(s) given'
      : 'signatures checked with the keys recorded in the log itself — give --public-key with a copy kept elsewhere for independent assurance';
  process.stdout.write(opts.format === 'json' ? `${JSON.stringify({ source, ...result }, null, 2)}\n` : describe(result, source, keysNote));
  return result.ok ? EXIT.ok : EXIT.failed;
}

async function toOut(out: string | undefined, fn: (w: Writable) => Promise<unknown>): Promise<void> {
  if (out === undefined) {
    await fn(process.stdout);
    return;
  }
  const w = createWriteStream(out);
  await fn(w);
  w.end();
  await finished(w);
}

/** `gridwall audit export`. */
export async function runExport(config: Config, opts: { from?: Date; to?: Date; format: 'jsonl' | 'csv' | 'parquet'; out?: string }): Promise<number> {
  if (opts.format === 'parquet' && opts.out === undefined) throw new UsageError('--format parquet needs --out FILE');
  const db = await openStore(config.store);
  try {
    const p = japanPeriod(opts.from, opts.to);
    let summary: string;
    if (opts.format === 'parquet') summary = `${(await exportParquet(db, opts.out ?? '', p)).events} events`;
    else if (opts.format === 'csv') {
      let r = { events: 0, rows: 0 };
      await toOut(opts.out, async (w) => (r = await exportCsv(db, w, p)));
      summary = `${r.events} events in ${r.rows} rows`;
    } else {
      let r = { events: 0 };
      await toOut(opts.out, async (w) => (r = await exportJsonl(db, w, p, new Date())));
      summary = `${r.events} events`;
    }
    process.stderr.write(`audit export: ${summary}${opts.out === undefined ? '' : ` → ${opts.out}`}\n`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** `gridwall audit tail`: the SIEM feed, to stdout or syslog. */
export async function runTail(config: Config, opts: { fromSeq?: number; follow: boolean; interval: number; syslog?: string }): Promise<number> {
  const sink = opts.syslog === undefined ? null : await openSyslog(opts.syslog).catch((e: unknown) => {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  });
  const db = await openStore(config.store);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const fromSeq = opts.fromSeq ?? (await readHead(db)).seq + 1;
    for await (const { line } of feed(db, { fromSeq, follow: opts.follow, intervalMs: opts.interval * 1000, signal: stop.signal })) {
      if (sink === null) {
        if (!process.stdout.write(`${line}\n`)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
      } else await sink.send(line);
    }
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sink?.close();
    await db.close();
  }
}

/** `gridwall audit partitions`: months, counts, and which are past the retention period. */
export async function runPartitions(config: Config, now: Date): Promise<number> {
  const db = await openStore(config.store);
  try {
    const cutoff = monthOf(now);
    const keep = retentionStart(now, config.logRetentionYears);
    const parts = await listPartitions(db);
    process.stdout.write(`month     events        sequence numbers      retention (${config.logRetentionYears} years: kept from ${keep})\n`);
    for (const p of parts) {
      const range = p.firstSeq === null ? '—' : `${p.firstSeq}–${p.lastSeq}`;
      process.stdout.write(`${p.month}   ${String(p.events).padStart(10)}    ${range.padEnd(20)}  ${p.month < keep ? 'past retention: may be archived' : 'kept'}\n`);
    }
    if (parts.length === 0) process.stdout.write(`(no partitions yet; the current month is ${monthKey(cutoff)})\n`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** `gridwall audit archive`. */
export async function runArchive(config: Config, opts: { before: string; dir: string }, now: Date): Promise<number> {
  const db = await openStore(config.store);
  try {
    const done = await archivePartitions(db, { before: opts.before, dir: opts.dir, now, retentionYears: config.logRetentionYears }).catch((e: unknown) => {
      throw e instanceof ArchiveRefusedError ? new UsageError(e.message) : e;
    });
    for (const a of done) process.stdout.write(`${a.month}  ${a.events} events (${a.firstSeq}–${a.lastSeq}) → ${a.file}  sha256 ${a.fileSha256}; partition detached as ${a.partition}_archived\n`);
    if (done.length === 0) process.stdout.write(`nothing to archive before ${opts.before}\n`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** `gridwall audit public-key`: the public half of the checkpoint key, to keep where the log's keepers cannot reach. */
export function runPublicKey(config: Config): number {
  const { key } = loadSigningKey(config.logKey.path, false);
  process.stdout.write(key.publicKeyPem);
  process.stderr.write(`key ${key.keyId} (${config.logKey.path})\n`);
  return EXIT.ok;
}
