import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Db, Queryable } from '../store/db.ts';
import { exportJsonl } from './export.ts';
import { verifyExportFile } from './file-verify.ts';
import { GENESIS, linkHash } from './chain.ts';
import { readChainLinks, type LinkRecord } from './log-reader.ts';
import type { ChainBreak } from './chain-verify.ts';
import { listPartitions, monthOf, monthStart, nextMonth, type PartitionInfo } from './partitions.ts';
import { checkpointSignatureValid, type Checkpoint, type Seal } from './signing.ts';
import { inputRefusal } from '../domain/refusal.ts';

export class ArchiveRefusedError extends inputRefusal('archive_refused') {}

export interface Archived {
  readonly partition: string;
  readonly month: string;
  readonly file: string;
  readonly events: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly fileSha256: string;
}

/** The first month still kept: `years` before the month of `now` (Japan time). */
export function retentionStart(now: Date, years: number): string {
  const m = monthOf(now);
  return `${m.year - years}-${String(m.month).padStart(2, '0')}`;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Archives the oldest partitions of months before `before`, oldest first, each only if it is past the
 * retention period: its events (from the first not yet archived, so the archives join up as one chain)
 * are exported to a JSON Lines file in `dir`, the file is verified, recorded with its SHA-256 and the
 * chain's hashes at both ends, and the partition is detached and renamed `…_archived` — kept in the
 * database until someone drops it on purpose. Never a silent drop.
 */
export async function archivePartitions(
  db: Db,
  opts: { before: string; dir: string; now: Date; retentionYears: number; keys: ReadonlyMap<string, KeyObject> },
): Promise<Archived[]> {
  const keepFrom = retentionStart(opts.now, opts.retentionYears);
  if (opts.before > keepFrom) {
    throw new ArchiveRefusedError(`--before ${opts.before}: the log is kept ${opts.retentionYears} years, so months from ${keepFrom} on may not be archived`);
  }
  if (!existsSync(opts.dir)) throw new ArchiveRefusedError(`--dir ${opts.dir}: no such directory`);
  const parts: PartitionInfo[] = (await listPartitions(db)).filter((p) => p.month < opts.before);
  const done: Archived[] = [];
  for (const part of parts) {
    const last = await db.query<{ last_seq: string; last_hash: string }>(
      'SELECT last_seq::text AS last_seq, last_hash FROM access_log_archives ORDER BY access_log_archives.last_seq DESC LIMIT 1',
    );
    const prevLast = Number(last.rows[0]?.last_seq ?? 0);
    const prevHash = last.rows[0]?.last_hash ?? GENESIS;
    const file = join(opts.dir, `${part.name}.jsonl`);
    if (existsSync(file)) throw new ArchiveRefusedError(`${file} exists already: move it away or choose another --dir`);
    let result = { events: 0, firstSeq: null as number | null, lastSeq: null as number | null, lastHash: null as string | null, anchor: null as string | null };
    // A batch that crossed into this month was archived whole with the month before: only what is left counts.
    if (part.lastSeq !== null && part.lastSeq > prevLast) {
      const out = createWriteStream(file, { flags: 'wx' });
      // The header names the month (a bounded period): the file is not the log up to its head, so the witness's
      // later seals are not its to explain (docs/LOG-FORMAT.md, step 7).
      const [year, month] = part.month.split('-').map(Number) as [number, number];
      const period = { from: monthStart({ year, month }), to: monthStart(nextMonth({ year, month })) };
      result = await exportJsonl(db, out, period, opts.now, { fromSeq: prevLast + 1, toSeq: part.lastSeq });
      out.end();
      await finished(out);
      const check = await verifyExportFile(file, opts.keys);
      if (!check.ok)
        throw new ArchiveRefusedError(
          `${file}: the exported events do not verify (${check.firstBreak?.kind} at event ${check.firstBreak?.seq}); nothing was detached`,
        );
      if (result.anchor !== prevHash || check.firstSeq !== prevLast + 1) {
        throw new ArchiveRefusedError(
          `${file}: the export does not join the previous archive (starts at ${check.firstSeq}, expected ${prevLast + 1}); nothing was detached`,
        );
      }
    } else {
      // An empty month (or one whose events all went with the batch before): nothing to keep but the record.
      await finished(createWriteStream(file, { flags: 'wx' }).end(''));
    }
    const fileSha256 = await sha256File(file);
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO access_log_archives (partition_name, first_seq, last_seq, first_prev_hash, last_hash, events, file, file_sha256, archived_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          part.name,
          result.firstSeq ?? prevLast + 1,
          result.lastSeq ?? prevLast,
          result.anchor ?? prevHash,
          result.lastHash ?? prevHash,
          result.events,
          file,
          fileSha256,
          opts.now,
        ],
      );
      await tx.exec(`ALTER TABLE access_log DETACH PARTITION ${part.name}; ALTER TABLE ${part.name} RENAME TO ${part.name}_archived;`);
    });
    done.push({
      partition: part.name,
      month: part.month,
      file,
      events: result.events,
      firstSeq: result.firstSeq ?? prevLast + 1,
      lastSeq: result.lastSeq ?? prevLast,
      fileSha256,
    });
  }
  return done;
}

interface ArchiveRow extends Record<string, unknown> {
  partition_name: string;
  first_seq: string;
  last_seq: string;
  first_prev_hash: string;
  last_hash: string;
  events: string;
  file: string;
  file_sha256: string;
}

function archiveBreak(seq: number, detail: string): ChainBreak {
  return { kind: 'archive', seq, detail };
}

/**
 * Checks the archives the database records (docs/LOG-FORMAT.md, "The database"): they join up from event 1,
 * and each file is present (at its recorded path, or by name in `dir`), has the recorded SHA-256, verifies
 * on its own with the trusted keys and holds exactly the recorded range. A record that cannot be checked is a
 * break — never a reason to start verifying later. Signed points from before the stored chain still count:
 * the version-1 checkpoints kept in the database and the witness's seals that name an archived event are held
 * against the archive that holds it, so an archive rewritten and re-sealed with the signing key shows
 * (`checkpoint_mismatch`). Returns where the stored chain must continue.
 * With `check` off (the writer's one-time check of a log from before seals) the records are only followed.
 */
export async function verifyArchives(
  q: Queryable,
  keys: ReadonlyMap<string, KeyObject>,
  opts: { dir?: string; check: boolean; witness?: readonly Seal[]; checkpoints?: readonly Checkpoint[] },
): Promise<{ brk: ChainBreak | null; next: { seq: number; hash: string }; files: number; events: number; witnessChecked: number }> {
  const { rows } = await q.query<ArchiveRow>(
    `SELECT partition_name, first_seq::text AS first_seq, last_seq::text AS last_seq, first_prev_hash, last_hash, events::text AS events, file, file_sha256
       FROM access_log_archives ORDER BY access_log_archives.first_seq, access_log_archives.last_seq`,
  );
  let next = { seq: 1, hash: GENESIS };
  let events = 0;
  let files = 0;
  let witnessChecked = 0;
  // Rows still in the live table below the archives' end: normally the rest of a batch that crossed a month
  // end (archived whole). Each must be the archived event itself — else a forged record could hide edits.
  const end = rows.reduce((m, r) => Math.max(m, Number(r.last_seq)), 0);
  const live = new Map<number, LinkRecord>();
  if (opts.check && end > 0) for await (const link of readChainLinks(q, { fromSeq: 1, toSeq: end })) live.set(link.seq, link);
  for (const r of rows) {
    const first = Number(r.first_seq);
    const last = Number(r.last_seq);
    const n = Number(r.events);
    if (!opts.check) {
      next = { seq: last + 1, hash: r.last_hash };
      continue;
    }
    const named = `archive ${r.partition_name} (events ${first}–${last})`;
    const stop = (brk: ChainBreak) => ({ brk, next, files, events, witnessChecked });
    const fail = (detail: string) => stop(archiveBreak(next.seq, `${named}: ${detail}`));
    if (first !== next.seq || r.first_prev_hash !== next.hash)
      return fail(`it does not start where the log before it ends (event ${next.seq}): an archive record was forged, or one is missing`);
    if (last !== first + n - 1) return fail('its range and its count of events disagree');
    const path = opts.dir === undefined ? r.file : join(opts.dir, basename(r.file));
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return fail(`its file ${path} is not there: give --archive-dir with the archived files`);
    }
    if (!stat.isFile()) return fail(`${path} is not a regular file`);
    let sha: string;
    try {
      sha = await sha256File(path);
    } catch (e) {
      return fail(`its file ${path} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (sha !== r.file_sha256) return fail(`its file ${path} has SHA-256 ${sha}, not the recorded ${r.file_sha256}: the file was changed or replaced`);
    const here = new Set([...live.keys()].filter((s) => s >= first && s <= last));
    const inside = <T extends { seq: number }>(marks: readonly T[] | undefined) => (marks ?? []).filter((m) => m.seq >= first && m.seq <= last);
    const checkpoints = inside(opts.checkpoints);
    if (n > 0) {
      let v: Awaited<ReturnType<typeof verifyExportFile>>;
      try {
        v = await verifyExportFile(path, keys, {
          collect: new Set([...here, ...checkpoints.map((c) => c.seq)]),
          ...(opts.witness === undefined ? {} : { witness: inside(opts.witness) }),
        });
      } catch (e) {
        return fail(`its file ${path} is not an export: ${e instanceof Error ? e.message : String(e)}`);
      }
      const own = v.witnessBreak === null ? v.firstBreak : null;
      if (own !== null) return fail(`its file does not verify: ${own.kind} at event ${own.seq}: ${own.detail}`);
      if (v.header?.anchor !== r.first_prev_hash || v.firstSeq !== first || v.lastSeq !== last || v.lastHash !== r.last_hash)
        return fail('its file holds another range than the record says');
      for (const seq of here) {
        const l = live.get(seq);
        if (l === undefined || !l.consistent || linkHash(l.prevHash, l.canonical) !== l.hash || v.collected.get(seq) !== l.hash) {
          return stop(
            archiveBreak(
              seq,
              `event ${seq}, still in the live table, is not the event archived in ${path}: it was changed after archiving, or the archive record was forged over it`,
            ),
          );
        }
      }
      // The checkpoints the database keeps for archived events, as the stored chain's own are checked.
      for (const c of checkpoints) {
        if (v.collected.get(c.seq) !== c.hash)
          return stop({
            kind: 'checkpoint_mismatch',
            seq: c.seq,
            detail: `${named}: the checkpoint signed ${c.signedAt} for event ${c.seq}, kept in the database, names another hash than the archived event: the archive was rewritten after it was signed`,
          });
        if (!checkpointSignatureValid(c, keys))
          return stop({
            kind: 'bad_signature',
            seq: c.seq,
            detail: `${named}: the checkpoint for event ${c.seq}, kept in the database, is not validly signed by a trusted key (key ${c.keyId}${keys.has(c.keyId) ? '' : ', not trusted'})`,
          });
      }
      // The witness's seals for archived events: a seal published before the archive was rewritten names another hash.
      if (v.witnessBreak !== null) return stop({ ...v.witnessBreak, detail: `${named}: ${v.witnessBreak.detail}` });
      witnessChecked += v.witnessChecked ?? 0;
    } else if (here.size > 0) {
      return fail(`events ${[...here].join(', ')} are in the live table but the record says the archive is empty`);
    }
    files++;
    events += n;
    next = { seq: last + 1, hash: r.last_hash };
  }
  return { brk: null, next, files, events, witnessChecked };
}
