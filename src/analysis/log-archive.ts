import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { monthOf, monthStart, nextMonth, partitionName, type Month } from '../audit/partitions.ts';
import { SUPPLY_POINT_FIELDS } from '../domain/classification.ts';
import type { Queryable } from '../store/db.ts';
import { sqlString, type Engine } from './duck.ts';

/**
 * The access log as the analysis reads it (issue 21): one row per supply point of each event (a refused event
 * with none is one row without a point), with whether it showed non-public items. A closed month's partition does not
 * change, so it is exported once to a Parquet file in the archive directory and read from there by every later
 * report; the open month is read from the database. An export is keyed by what identifies the partition's
 * content — its sequence range, its event count and the chain's hashes at both ends — so a partition that
 * received a late event, or was detached and another attached under its name, is exported again: a file is
 * never served for content it was not made from.
 *
 * The files are a cache, not evidence: the log in the database (and its verified archives) stays the record.
 * Whether a read showed non-public items is decided by the database on export, from the fields it logged as
 * shown and the public fields of the classification, which are part of the key: a change of which fields are
 * public makes every file stale.
 */

/** Changes when the columns of an export change: every older file is then exported again. */
const FORMAT = 3;

/** The columns of an export, as DuckDB reads them. */
const COLUMNS = {
  seq: 'BIGINT',
  occurred_at: 'TIMESTAMPTZ',
  user_id: 'VARCHAR',
  terminal_id: 'VARCHAR',
  outcome: 'VARCHAR',
  refusal: 'VARCHAR',
  purpose: 'VARCHAR',
  emergency_id: 'VARCHAR',
  searched_by: 'VARCHAR',
  records: 'INTEGER',
  supply_point_id: 'VARCHAR',
  non_public: 'BOOLEAN',
  // The decision table the read was decided by, and the side the firewall took its reader to be on then (the
  // exposure report, issue 22).
  policy_version: 'VARCHAR',
  side: 'VARCHAR',
} as const;

/** The fields whose class is public: a read that showed only these (or nothing) is not a view of non-public items. */
const PUBLIC_FIELDS = Object.entries(SUPPLY_POINT_FIELDS)
  .filter(([, f]) => f.class === 'public')
  .map(([k]) => k)
  .sort();

/**
 * One row per read, as text, in COLUMNS' order (the instant in UTC, ISO 8601). A field the manifest does not
 * know is never public (domain/reading-baseline.ts#showsNonPublic).
 */
const READ_COLUMNS = `e.seq::text, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), coalesce(e.user_id, e.person_id), e.terminal_id,
  e.outcome, e.refusal, e.purpose, e.emergency_id, e.query->>'by', jsonb_array_length(e.records)::text, r.value->>'supplyPointId',
  CASE WHEN r.value IS NOT NULL THEN EXISTS (SELECT 1 FROM jsonb_array_elements_text(coalesce(r.value->'shown', '[]'::jsonb)) f
    WHERE f NOT IN (${PUBLIC_FIELDS.map((f) => `'${f}'`).join(', ')}))::text END, e.policy_version, e.side`;

/** What a partition holds, as far as an export's key needs to know. */
export interface PartitionState {
  readonly name: string;
  readonly month: Month;
  readonly events: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The chain's hash before the first event and of the last one. */
  readonly anchor: string;
  readonly lastHash: string;
}

/** A source of reads: a partition whole, or the events of a period (the open month). */
type Source =
  { readonly kind: 'partition'; readonly name: string } | { readonly kind: 'period'; readonly name: string; readonly start: Date; readonly end: Date };

/** Queryable, and the PostgreSQL server's COPY out when the handle has it (pg: yes; the embedded store: pages). */
export type LogSource = Queryable & { copyOut?(query: string): AsyncIterable<(string | null)[]> };

const PAGE = 20_000;

/** The monthly partitions a period touches, oldest first: attached ones only (an archived month is not in the log). */
async function attachedPartitions(q: Queryable, period: { start: Date; end: Date }): Promise<{ name: string; month: Month }[]> {
  const { rows } = await q.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace ns ON ns.oid = p.relnamespace WHERE p.relname = 'access_log' AND ns.nspname = current_schema()`,
  );
  const attached = new Set(rows.map((r) => r.name));
  const out: { name: string; month: Month }[] = [];
  const last = monthOf(new Date(period.end.getTime() - 1));
  for (let m = monthOf(period.start); monthStart(m) <= monthStart(last); m = nextMonth(m)) {
    const name = partitionName(m);
    if (attached.has(name)) out.push({ name, month: m });
  }
  return out;
}

/** The partition's key facts, by its sequence index (two index look-ups and a count), or null when it is empty. */
export async function partitionState(q: Queryable, name: string, month: Month): Promise<PartitionState | null> {
  const { rows } = await q.query<{ events: string; first_seq: string | null; last_seq: string | null; anchor: string | null; last_hash: string | null }>(
    `SELECT (SELECT count(*) FROM ${name})::text AS events,
            f.seq::text AS first_seq, f.prev_hash AS anchor, l.seq::text AS last_seq, l.hash AS last_hash
       FROM (SELECT seq, prev_hash FROM ${name} ORDER BY seq, id LIMIT 1) f, (SELECT seq, hash FROM ${name} ORDER BY seq DESC, id DESC LIMIT 1) l`,
  );
  const r = rows[0];
  if (r === undefined || r.first_seq === null || r.last_seq === null || r.anchor === null || r.last_hash === null) return null;
  return { name, month, events: Number(r.events), firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), anchor: r.anchor, lastHash: r.last_hash };
}

/** The export's key: everything that identifies the partition's content, and the export's format. */
export function archiveKey(p: PartitionState): string {
  return createHash('sha256')
    .update(`${FORMAT}|${PUBLIC_FIELDS.join(',')}|${p.name}|${p.events}|${p.firstSeq}|${p.lastSeq}|${p.anchor}|${p.lastHash}`)
    .digest('hex');
}

/** A CSV value: NULL as nothing, every string quoted (so an empty string stays one). */
const csv = (v: string | null | undefined) => (v === null || v === undefined ? '' : `"${v.includes('"') ? v.replace(/"/g, '""') : v}"`);

/** Streams a source's reads into `path` as CSV (COLUMNS, no header); returns the number of reads. */
async function writeReads(q: LogSource, source: Source, path: string): Promise<number> {
  const out = createWriteStream(path);
  let n = 0;
  let buf = '';
  const write = async (row: readonly (string | null | undefined)[]) => {
    n++;
    buf += `${row.map(csv).join(',')}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  };
  // Only the partition's name (checked: partitionName) and ISO instants enter the SQL text: COPY takes no parameters.
  const where = source.kind === 'period' ? `e.occurred_at >= '${source.start.toISOString()}' AND e.occurred_at < '${source.end.toISOString()}'` : 'true';
  if (q.copyOut !== undefined) {
    for await (const row of q.copyOut(
      `SELECT ${READ_COLUMNS} FROM ${source.name} e LEFT JOIN LATERAL jsonb_array_elements(e.records) r ON true WHERE ${where}`,
    ))
      await write(row);
  } else {
    let after: [string, string] = ['0', '0'];
    for (;;) {
      const { rows } = await q.query<{ k: string; id: string; row: (string | null)[] }>(
        `SELECT e.seq::text AS k, e.id::text AS id, ARRAY[${READ_COLUMNS}] AS row
           FROM (SELECT * FROM ${source.name} e WHERE ${where} AND (e.seq, e.id) > ($1::bigint, $2::bigint) ORDER BY e.seq, e.id LIMIT ${PAGE}) e
           LEFT JOIN LATERAL jsonb_array_elements(e.records) r ON true ORDER BY e.seq, e.id`,
        after,
      );
      for (const r of rows) await write(r.row);
      const last = rows[rows.length - 1];
      if (last === undefined) break;
      after = [last.k, last.id];
    }
  }
  out.end(buf);
  await finished(out);
  return n;
}

const readCsvSql = (path: string) =>
  `read_csv(${sqlString(path)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = {${Object.entries(
    COLUMNS,
  )
    .map(([k, t]) => `'${k}': '${t}'`)
    .join(', ')}})`;

/** What a load from the archive did: for the bench and the tests. */
export interface ArchiveUse {
  /** Closed partitions read from a file exported earlier. */
  readonly reused: readonly string[];
  /** Closed partitions exported now (first use, or their content changed). */
  readonly exported: readonly string[];
  /** Partitions read from the database (the open month, or every one without an archive). */
  readonly fromDatabase: readonly string[];
}

/**
 * The reads of a period into the DuckDB view `log_reads` (the columns of COLUMNS): closed partitions from the
 * archive in `dir` (exported first when their file is missing or stale), the open one — the latest partition
 * with events, which the writers may still append to — from the database. Without `dir`, every partition is
 * read from the database. `work` is a scratch directory of the caller's.
 */
export async function loadLogReads(e: Engine, q: LogSource, period: { start: Date; end: Date }, dir: string | null, work: string): Promise<ArchiveUse> {
  const parts = await attachedPartitions(q, period);
  const states = await Promise.all(parts.map((p) => partitionState(q, p.name, p.month)));
  const withEvents = states.filter((s): s is PartitionState => s !== null);
  // The newest partition with events is open: the writers may still append to it. A later partition that
  // already holds events (the log has moved on) closes every one before it.
  const newest = await q.query<{ at: Date | string | null }>(`SELECT max(occurred_at) AS at FROM access_log`);
  const latest = newest.rows[0]?.at ?? null;
  const openMonth = latest === null ? null : partitionName(monthOf(new Date(latest)));
  const sources: string[] = [];
  const use = { reused: [] as string[], exported: [] as string[], fromDatabase: [] as string[] };
  // The files hold who read which supply point: a directory made here is its owner's alone (an existing one keeps
  // the permissions its operator gave it).
  if (dir !== null) mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const s of withEvents) {
    if (dir !== null && s.name !== openMonth) {
      const { path, exported } = await archived(e, q, dir, s, work);
      (exported ? use.exported : use.reused).push(s.name);
      sources.push(`SELECT * FROM read_parquet(${sqlString(path)})`);
    } else {
      const path = join(work, `${s.name}.csv`);
      await writeReads(q, { kind: 'period', name: s.name, start: period.start, end: period.end }, path);
      use.fromDatabase.push(s.name);
      sources.push(`SELECT * FROM ${readCsvSql(path)}`);
    }
  }
  const empty = `SELECT ${Object.entries(COLUMNS)
    .map(([k, t]) => `NULL::${t} AS ${k}`)
    .join(', ')} WHERE false`;
  await e.run(
    `CREATE OR REPLACE TEMP VIEW log_reads AS SELECT * FROM (${[empty, ...sources].join(' UNION ALL ')})
      WHERE occurred_at >= '${period.start.toISOString()}'::TIMESTAMPTZ AND occurred_at < '${period.end.toISOString()}'::TIMESTAMPTZ`,
  );
  return use;
}

/**
 * The Parquet file of a closed partition: the one made for its current key when it is there and says so
 * inside (its key is in the file's metadata), else exported now — into a scratch name, renamed into place,
 * and the partition's files for older keys removed.
 */
async function archived(e: Engine, q: LogSource, dir: string, s: PartitionState, work: string): Promise<{ path: string; exported: boolean }> {
  const key = archiveKey(s);
  const path = join(dir, `${s.name}.${key.slice(0, 32)}.parquet`);
  if (existsSync(path)) {
    const meta = await e
      .rows<{ value: string }>(`SELECT value::VARCHAR AS value FROM parquet_kv_metadata(${sqlString(path)}) WHERE key::VARCHAR = 'gridwall_archive_key'`)
      .catch(() => []);
    if (meta[0]?.value === key) return { path, exported: false };
  }
  const csvFile = join(work, `${s.name}.export.csv`);
  await writeReads(q, { kind: 'partition', name: s.name }, csvFile);
  const scratch = join(dir, `.${s.name}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await e.run(
      `COPY (SELECT * FROM ${readCsvSql(csvFile)}) TO ${sqlString(scratch)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {gridwall_archive_key: ${sqlString(key)}})`,
    );
    renameSync(scratch, path);
  } finally {
    rmSync(scratch, { force: true });
    rmSync(csvFile, { force: true });
  }
  for (const f of readdirSync(dir)) if (f.startsWith(`${s.name}.`) && f.endsWith('.parquet') && join(dir, f) !== path) rmSync(join(dir, f), { force: true });
  return { path, exported: true };
}
