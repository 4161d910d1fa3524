import { createWriteStream, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { existsSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { archivePartitions, retentionStart } from '../audit/archive.ts';
import type { VerifyResult } from '../audit/chain-verify.ts';
import { exportCsv, exportJsonl, exportXlsx, logTitle, LogTooLargeForXlsx } from '../audit/export.ts';
import type { CsvEncoding } from '../domain/export-file.ts';
import { csvEncodingOption, xlsxNeedsOut } from './spreadsheet-output.ts';
import { BadRangeError, verifyStore } from '../audit/store-verify.ts';
import { verifyExportFile, type FileVerifyResult } from '../audit/file-verify.ts';
import { configuredTrust, givenTrust, type TrustAnchors } from '../audit/trust.ts';
import { readWitness } from '../audit/witness.ts';
import type { Seal } from '../audit/signing.ts';
import { feed, FeedStartError, FeedStopped, openSyslog } from '../audit/feed.ts';
import { readHead } from '../audit/log-reader.ts';
import { listPartitions, monthOf, monthKey } from '../audit/partitions.ts';
import { exportParquet } from '../audit/parquet-export.ts';
import { loadSigningKey } from '../audit/signing.ts';
import { registerSigningKey } from '../audit/log-keys.ts';
import { logKeyOf, type Config } from '../config.ts';
import { japanDay, japanPeriod } from '../domain/japan-time.ts';
import type { Db } from '../store/db.ts';
import { openStore } from '../store/open.ts';
import { EXIT, UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/**
 * What verification trusts: keys given by hand, or else the configured signing key (and earlier keys) —
 * never the keys the log records. For an exported file with neither, the keys in its header (said so).
 */
function trustFor(config: Config, given: readonly string[], forFile: boolean): TrustAnchors | null {
  try {
    if (given.length > 0) return givenTrust(given);
    if (config.logKey !== null && existsSync(config.logKey.path)) return configuredTrust(loadSigningKey(config.logKey.path, false).key, config.logTrustedKeys);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (forFile) return null;
  throw new UsageError(
    `no trusted key: ${config.logKey === null ? 'GRIDWALL_LOG_KEY_FILE is not set' : `the signing key ${config.logKey.path} is not here`}; give --public-key KEY.pem (the output of \`gridwall audit public-key\`, kept apart from the database)`,
  );
}

function describe(r: VerifyResult, source: string, notes: readonly string[]): string {
  const range = r.lastSeq === null ? 'no events' : `events ${r.firstSeq}–${r.lastSeq}`;
  const tail = notes.map((n) => `  ${n}\n`).join('');
  if (r.ok)
    return `audit verify: OK — ${source}: ${r.events.toLocaleString('en')} events (${range}), ${r.seals.toLocaleString('en')} seals and ${r.checkpoints.verified} checkpoints verified\n${tail}`;
  const b = r.firstBreak;
  return `audit verify: BROKEN — ${source}: first broken event ${b?.seq} (${b?.kind}): ${b?.detail}\n  read ${r.events.toLocaleString('en')} events; the chain verified up to event ${r.lastSeq ?? 'none'}\n${tail}`;
}

/** The part of the log asked for: a month's partition, or a seq range (its end defaulting to the head). */
async function rangeToVerify(db: Db, opts: { fromSeq?: number; toSeq?: number; partition?: string }): Promise<{ fromSeq: number; toSeq: number } | undefined> {
  if (opts.partition !== undefined) {
    const parts = await listPartitions(db);
    const p = parts.find((x) => x.month === opts.partition);
    if (p === undefined)
      throw new UsageError(
        `--partition ${opts.partition}: the log has no partition for that month (it has ${parts.map((x) => x.month).join(', ') || 'none'}; archived months verify as files)`,
      );
    if (p.firstSeq === null || p.lastSeq === null) throw new UsageError(`--partition ${opts.partition}: the partition holds no events`);
    return { fromSeq: p.firstSeq, toSeq: p.lastSeq };
  }
  if (opts.fromSeq === undefined && opts.toSeq === undefined) return undefined;
  return { fromSeq: opts.fromSeq ?? 1, toSeq: opts.toSeq ?? (await readHead(db)).seq };
}

function readWitnessOrExit(path: string): Seal[] {
  try {
    return readWitness(path);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** The options of `gridwall audit verify`, as the command line parses them. */
export interface VerifyOptions {
  readonly file?: string;
  readonly publicKey: string[];
  readonly witness?: string;
  readonly archiveDir?: string;
  readonly fromSeq?: number;
  readonly toSeq?: number;
  readonly partition?: string;
  readonly format: 'text' | 'json';
}

/** `gridwall audit verify`: the database's log (with its archives), or an exported file. Exit 0 intact, 1 broken. */
export async function runVerify(config: Config, opts: VerifyOptions, io: CliIo): Promise<number> {
  const trust = trustFor(config, opts.publicKey, opts.file !== undefined);
  const witnessPath = opts.witness ?? (opts.file === undefined && existsSync(config.logWitnessFile) ? config.logWitnessFile : undefined);
  const witness = witnessPath === undefined ? undefined : readWitnessOrExit(witnessPath);
  const notes: string[] = [];
  let result: VerifyResult;
  let source: string;
  if (opts.file !== undefined) {
    source = opts.file;
    let r: FileVerifyResult;
    try {
      r = await verifyExportFile(opts.file, trust?.keys ?? null, witness === undefined ? {} : { witness });
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    result = r;
    if (trust === null) {
      notes.push(
        'signatures checked with the keys in the file itself — this proves nothing against whoever could replace the file; give --public-key with a copy kept elsewhere',
      );
      for (const k of r.rejectedKeys) notes.push(`a key in the file's header is unusable: ${k}`);
    }
  } else {
    const db = await openStore(config.store);
    try {
      source = config.store.kind === 'pglite' ? `embedded store ${config.store.dataDir}` : 'PostgreSQL (DATABASE_URL)';
      const range = await rangeToVerify(db, opts);
      let r;
      try {
        r = await verifyStore(db, {
          keys: trust?.keys ?? new Map(),
          // One COPY instead of pages: the command line's connection has no statement time-out.
          stream: true,
          ...(range === undefined ? {} : { range }),
          ...(witness === undefined ? {} : { witness }),
          ...(opts.archiveDir === undefined ? {} : { archiveDir: opts.archiveDir }),
        });
      } catch (e) {
        if (e instanceof BadRangeError) throw new UsageError(e.message);
        throw e;
      }
      result = r;
      if (r.archives.files > 0) notes.push(`${r.archives.files} archive file(s) with ${r.archives.events.toLocaleString('en')} events checked`);
      if (r.range !== null)
        notes.push(
          `a part of the log on its own: events ${r.range.fromSeq}–${r.range.toSeq}${opts.partition === undefined ? '' : ` (partition ${opts.partition})`}, anchored at the hash event ${r.range.fromSeq} states (${r.range.anchor.slice(0, 16)}…): a part verified before it joins this one if its last hash is that`,
        );
    } finally {
      await db.close();
    }
  }
  for (const k of trust?.described ?? []) notes.push(`trusted key ${k.keyId} from ${k.source}`);
  notes.push(
    witnessPath === undefined
      ? 'no witness: a cut or rewound tail past the last published seal would not show; give --witness FILE'
      : `held against the witness ${witnessPath} (${result.witnessChecked ?? 0} seals checked)`,
  );
  const out =
    opts.format === 'json'
      ? `${JSON.stringify({ source, ...result, trustedKeys: trust?.described ?? 'keys_in_file', witness: witnessPath ?? null }, null, 2)}\n`
      : describe(result, source, notes);
  io.stdout.write(out);
  return result.ok ? EXIT.ok : EXIT.failed;
}

async function toOut(io: CliIo, out: string | undefined, fn: (w: Writable) => Promise<unknown>): Promise<void> {
  if (out === undefined) {
    await fn(io.stdout);
    return;
  }
  const w = createWriteStream(out);
  await fn(w);
  w.end();
  await finished(w);
}

/** `gridwall audit export`. */
export async function runExport(
  config: Config,
  opts: { from?: Date; to?: Date; format: 'jsonl' | 'csv' | 'xlsx' | 'parquet'; encoding?: CsvEncoding; out?: string },
  io: CliIo,
): Promise<number> {
  if (opts.format === 'parquet' && opts.out === undefined) throw new UsageError('--format parquet needs --out FILE');
  xlsxNeedsOut(opts.format, opts.out);
  const encoding = csvEncodingOption(opts.format, opts.encoding);
  const db = await openStore(config.store);
  try {
    const p = japanPeriod(opts.from, opts.to);
    let summary: string;
    if (opts.format === 'parquet') summary = `${(await exportParquet(db, opts.out ?? '', p)).events} events`;
    else if (opts.format === 'csv') {
      let r = { events: 0, rows: 0, replaced: 0 };
      await toOut(io, opts.out, async (w) => (r = await exportCsv(db, w, p, encoding)));
      summary = `${r.events} events in ${r.rows} rows${r.replaced > 0 ? `; ${r.replaced} character(s) CP932 cannot hold written as 〓 (the file's last line says so)` : ''}`;
    } else if (opts.format === 'xlsx') {
      try {
        const r = await exportXlsx(db, p, logTitle(opts.from && japanDay(opts.from), opts.to && japanDay(opts.to)));
        writeFileSync(opts.out ?? '', r.body);
        summary = `${r.events} events in ${r.rows} rows`;
      } catch (e) {
        if (e instanceof LogTooLargeForXlsx) throw new UsageError(e.message);
        throw e;
      }
    } else {
      let r = { events: 0 };
      await toOut(io, opts.out, async (w) => (r = await exportJsonl(db, w, p, new Date())));
      summary = `${r.events} events`;
    }
    io.stderr.write(`audit export: ${summary}${opts.out === undefined ? '' : ` → ${opts.out}`}\n`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/**
 * `gridwall audit tail`: the SIEM feed, to stdout or syslog. It forwards only what it has checked with the
 * trusted keys (as `audit verify` trusts them); on anything it cannot account for it stops, says so in one line
 * on stderr and exits 1, as verify does on a broken chain.
 */
export async function runTail(
  config: Config,
  opts: { fromSeq?: number; follow: boolean; interval: number; syslog?: string; publicKey?: string[] },
  io: CliIo,
): Promise<number> {
  const trust = trustFor(config, opts.publicKey ?? [], false) as TrustAnchors;
  const sink =
    opts.syslog === undefined
      ? null
      : await openSyslog(opts.syslog).catch((e: unknown) => {
          throw new UsageError(e instanceof Error ? e.message : String(e));
        });
  const db = await openStore(config.store);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let forwarded: number | null = null;
  try {
    const fromSeq = opts.fromSeq ?? (await readHead(db)).seq + 1;
    const lines = feed(db, {
      fromSeq,
      follow: opts.follow,
      keys: trust.keys,
      intervalMs: opts.interval * 1000,
      signal: stop.signal,
      onHeld: (first, last) =>
        io.stderr.write(
          `audit tail: events ${first}–${last} are held back: no seal covers them yet (a log written before seals, which the writer seals when it starts)\n`,
        ),
    });
    for await (const { seq, line } of lines) {
      if (sink === null) {
        if (!io.stdout.write(`${line}\n`)) await new Promise<void>((r) => io.stdout.once('drain', () => r()));
      } else await sink.send(line);
      forwarded = seq;
    }
    return EXIT.ok;
  } catch (e) {
    if (e instanceof FeedStartError) throw new UsageError(e.message);
    if (!(e instanceof FeedStopped)) throw e;
    io.stderr.write(
      `audit tail: STOPPED at event ${e.brk.seq} (${e.brk.kind}): ${e.brk.detail} — nothing from there on was forwarded${forwarded === null ? '' : ` (the last line forwarded was for event ${forwarded})`}\n`,
    );
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sink?.close();
    await db.close();
  }
}

/** `gridwall audit partitions`: months, counts, and which are past the retention period. */
export async function runPartitions(config: Config, now: Date, io: CliIo): Promise<number> {
  const db = await openStore(config.store);
  try {
    const cutoff = monthOf(now);
    const keep = retentionStart(now, config.logRetentionYears);
    const parts = await listPartitions(db);
    io.stdout.write(`month     events        sequence numbers      retention (${config.logRetentionYears} years: kept from ${keep})\n`);
    for (const p of parts) {
      const range = p.firstSeq === null ? '—' : `${p.firstSeq}–${p.lastSeq}`;
      io.stdout.write(`${p.month}   ${String(p.events).padStart(10)}    ${range.padEnd(20)}  ${p.month < keep ? 'past retention: may be archived' : 'kept'}\n`);
    }
    if (parts.length === 0) io.stdout.write(`(no partitions yet; the current month is ${monthKey(cutoff)})\n`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** `gridwall audit archive`. */
export async function runArchive(config: Config, opts: { before: string; dir: string }, now: Date, io: CliIo): Promise<number> {
  const db = await openStore(config.store);
  try {
    const trust = trustFor(config, [], false) as TrustAnchors;
    const done = await archivePartitions(db, { before: opts.before, dir: opts.dir, now, retentionYears: config.logRetentionYears, keys: trust.keys });
    for (const a of done)
      io.stdout.write(
        `${a.month}  ${a.events} events (${a.firstSeq}–${a.lastSeq}) → ${a.file}  sha256 ${a.fileSha256}; partition detached as ${a.partition}_archived\n`,
      );
    if (done.length === 0) io.stdout.write(`nothing to archive before ${opts.before}\n`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** `gridwall audit public-key`: the public half of the checkpoint key, to keep where the log's keepers cannot reach. */
/**
 * Registers the configured signing key (GRIDWALL_LOG_KEY_FILE) for the log, on purpose and on the record: a
 * governance event names the key and the operating-system user who ran the command. `--generate` makes the
 * key file first when it does not exist (a new server's first key, or the next key of a rotation).
 */
export async function runRegisterKey(config: Config, opts: { generate?: boolean }, at: Date, io: CliIo): Promise<number> {
  const place = logKeyOf(config);
  const { key, created } = loadSigningKey(place.path, opts.generate === true);
  if (created) io.stderr.write(`generated ${place.path} (key ${key.keyId}); keep it safe and back it up\n`);
  const db = await openStore(config.store);
  try {
    const r = await registerSigningKey(db, key, { kind: 'system', job: `cli audit key register (${userInfo().username})` }, at).catch((e: unknown) => {
      // 42501 insufficient_privilege: the application's role, which may register no key but the log's first.
      if ((e as { code?: unknown }).code === '42501')
        throw new UsageError(
          `the connected role may not register signing keys (${(e as Error).message}): run \`gridwall audit key register\` as the schema's owner, with the schema owner's DATABASE_URL (the one \`gridwall db migrate\` runs with), not the application role's`,
        );
      throw e;
    });
    io.stdout.write(
      r === 'registered'
        ? `registered key ${key.keyId} for the log (a governance event records it); publish its public key: gridwall audit public-key\n`
        : `key ${key.keyId} was already registered for the log\n`,
    );
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

export function runPublicKey(config: Config, io: CliIo): number {
  const place = logKeyOf(config);
  const { key } = loadSigningKey(place.path, false);
  io.stdout.write(key.publicKeyPem);
  io.stderr.write(`key ${key.keyId} (${place.path})\n`);
  return EXIT.ok;
}
