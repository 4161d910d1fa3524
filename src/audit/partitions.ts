import { JST_OFFSET_MS } from '../domain/japan-time.ts';
import type { Queryable } from '../store/db.ts';

/** A calendar month in Japan time: the unit of the access log's partitions. */
export interface Month {
  readonly year: number;
  readonly month: number;
}

export function monthOf(at: Date): Month {
  const d = new Date(at.getTime() + JST_OFFSET_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
}

export function nextMonth(m: Month): Month {
  return m.month === 12 ? { year: m.year + 1, month: 1 } : { year: m.year, month: m.month + 1 };
}

export function monthKey(m: Month): string {
  return `${m.year}-${String(m.month).padStart(2, '0')}`;
}

/** The partition holding a month's events, e.g. `access_log_y2026m11`. */
export function partitionName(m: Month): string {
  return `access_log_y${m.year}m${String(m.month).padStart(2, '0')}`;
}

/** First instant of the month in Japan time. */
export function monthStart(m: Month): Date {
  return new Date(Date.UTC(m.year, m.month - 1, 1) - JST_OFFSET_MS);
}

/**
 * Creates the month's partition if it does not exist yet (the database function runs with the owner's
 * rights, so the application's role needs no right to create tables). Run by the log writer inside its
 * transaction, while it holds the chain's head.
 */
export async function ensurePartition(q: Queryable, m: Month): Promise<void> {
  await q.query('SELECT access_log_ensure_partition($1)', [monthStart(m)]);
}

export interface PartitionInfo {
  readonly name: string;
  readonly month: string;
  readonly events: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
}

/** The attached partitions of the access log, oldest first, with their event counts and sequence ranges. */
export async function listPartitions(q: Queryable): Promise<PartitionInfo[]> {
  const { rows } = await q.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace ns ON ns.oid = p.relnamespace
      WHERE p.relname = 'access_log' AND ns.nspname = current_schema() ORDER BY c.relname`,
  );
  const out: PartitionInfo[] = [];
  for (const { name } of rows) {
    const m = /^access_log_y(\d{4})m(\d{2})$/.exec(name);
    if (m === null) continue;
    const s = await q.query<{ n: number; lo: string | null; hi: string | null }>(
      `SELECT count(*)::int AS n, min(seq)::text AS lo, max(seq)::text AS hi FROM ${name}`,
    );
    const r = s.rows[0];
    out.push({
      name,
      month: `${m[1]}-${m[2]}`,
      events: r?.n ?? 0,
      firstSeq: r?.lo == null ? null : Number(r.lo),
      lastSeq: r?.hi == null ? null : Number(r.hi),
    });
  }
  return out;
}
