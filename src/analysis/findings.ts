import { dateOrNull, jsonColumn, type Db, type Queryable } from '../store/db.ts';

import type { FindingSink, NewFinding } from '../domain/finding.ts';
import { findingSubjectKey, severityRank, SEVERITIES, type FindingSource, type FindingStatus, type Severity } from '../domain/finding.ts';
import { findingAlert, shouldAlert } from './alerts.ts';

export { SEVERITIES, type NewFinding, type Severity };

/** How many earlier pieces of evidence a folded finding keeps beside the latest (newest first). */
export const EARLIER_EVIDENCE_KEPT = 10;

/** What raising a finding did: a new one, one folded into the open one (counted), or a period rescanned. */
export type FoldOutcome = 'new' | 'updated' | 'refreshed' | 'unchanged';

export interface Folded {
  readonly id: number;
  readonly outcome: FoldOutcome;
  /** Whether an alert was queued (a new high finding, or one that became high). */
  readonly alerted: boolean;
}

export interface FoldOptions {
  /**
   * A scan's rule, subject and period: the same period scanned again refreshes its finding while it is open
   * (the evidence and summary, not the count) and adds nothing once it is resolved.
   */
  readonly fingerprint?: string;
  /** When the behaviour was last seen (a scan: its last read in the period); default `occurredAt`. */
  readonly lastSeenAt?: Date;
}

/**
 * Raises a finding: folded into the open one for the same rule and subject (findingSubjectKey) — counted, first
 * and last seen kept, the latest evidence with the ten before it, the severity raised if higher — or a new one,
 * a resolved finding never being reopened. Both in one transaction (the caller's, if given one) with the alert
 * a new high finding, or one that became high, puts in the outbox (the dispatcher sends it later: the read that
 * raised it is never held up by a receiver).
 */
export async function raiseFinding(q: Queryable, f: NewFinding): Promise<number> {
  return (await foldFinding(q, f)).id;
}

export async function foldFinding(q: Queryable, f: NewFinding, opts: FoldOptions = {}): Promise<Folded> {
  return isDb(q) ? q.transaction((tx) => fold(tx, f, opts)) : fold(q, f, opts);
}

function isDb(q: Queryable): q is Db {
  return typeof (q as Partial<Db>).transaction === 'function';
}

interface OpenRow extends Record<string, unknown> {
  id: string | number;
  severity: Severity;
  status: FindingStatus;
  evidence: unknown;
  earlier_evidence: unknown;
  last_seen_at: Date | string;
}

const OPEN_COLUMNS = 'id, severity, status, evidence, earlier_evidence, last_seen_at';

async function fold(tx: Queryable, f: NewFinding, opts: FoldOptions): Promise<Folded> {
  const personOfUser =
    f.subjectPersonId === null && f.subjectUserId !== null
      ? ((await tx.query<{ person_id: string }>('SELECT person_id FROM accounts WHERE user_id = $1', [f.subjectUserId])).rows[0]?.person_id ?? null)
      : null;
  const key = findingSubjectKey(f, personOfUser);
  const personId = f.subjectPersonId ?? personOfUser;
  const lastSeen = opts.lastSeenAt ?? f.occurredAt;

  if (opts.fingerprint !== undefined) {
    // One fold of a scanned period at a time, before it looks the period up: two scans of one period started
    // together each missed the other's uncommitted period and counted the same evidence twice into the open
    // finding. The second now waits, then finds the period and refreshes instead (PGlite: always free, its
    // transactions already run one at a time).
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gridwall:finding-period:' || $1::text))`, [opts.fingerprint]);
    const { rows } = await tx.query<OpenRow>(
      `SELECT ${OPEN_COLUMNS.split(', ')
        .map((c) => `f.${c}`)
        .join(', ')} FROM finding_periods p JOIN findings f ON f.id = p.finding_id WHERE p.fingerprint = $1 FOR UPDATE OF f`,
      [opts.fingerprint],
    );
    const seen = rows[0];
    if (seen !== undefined && seen.status === 'resolved') return { id: Number(seen.id), outcome: 'unchanged', alerted: false };
    if (seen !== undefined) return update(tx, seen, f, lastSeen, false);
  }

  for (let attempt = 0; ; attempt++) {
    const { rows } = await tx.query<{ id: string | number }>(
      `INSERT INTO findings (rule, severity, occurred_at, detected_at, source, subject_person_id, subject_user_id, summary, evidence,
                             subject_key, first_seen_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $3, $11)
       ON CONFLICT (rule, subject_key) WHERE status <> 'resolved' AND subject_key IS NOT NULL DO NOTHING RETURNING id`,
      [f.rule, f.severity, f.occurredAt, f.detectedAt, f.source, personId, f.subjectUserId, f.summary, JSON.stringify(f.evidence), key, lastSeen],
    );
    const inserted = rows[0];
    if (inserted !== undefined) {
      const id = Number(inserted.id);
      if (opts.fingerprint !== undefined)
        await tx.query('INSERT INTO finding_periods (fingerprint, finding_id) VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING', [opts.fingerprint, id]);
      const alerted = shouldAlert(null, f.severity);
      if (alerted) await queueAlert(tx, id, f.detectedAt);
      return { id, outcome: 'new', alerted };
    }
    const open = (
      await tx.query<OpenRow>(`SELECT ${OPEN_COLUMNS} FROM findings WHERE rule = $1 AND subject_key = $2 AND status <> 'resolved' FOR UPDATE`, [f.rule, key])
    ).rows[0];
    if (open !== undefined) {
      const folded = await update(tx, open, f, lastSeen, true);
      if (opts.fingerprint !== undefined)
        await tx.query('INSERT INTO finding_periods (fingerprint, finding_id) VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING', [
          opts.fingerprint,
          folded.id,
        ]);
      return folded;
    }
    // Resolved between the insert and the look-up (another transaction): the next insert starts a new one.
    if (attempt >= 2) throw new Error(`finding ${f.rule}: the open finding kept changing under this one`);
  }
}

/** Folds `f` into an open finding: counted (`count`) or a rescanned period's refresh. */
async function update(tx: Queryable, open: OpenRow, f: NewFinding, lastSeen: Date, count: boolean): Promise<Folded> {
  const id = Number(open.id);
  const severity = severityRank(f.severity) > severityRank(open.severity) ? f.severity : open.severity;
  const stored = jsonColumn(open.earlier_evidence);
  const earlierNow: readonly unknown[] = Array.isArray(stored) ? (stored as unknown[]) : [];
  const earlier = count
    ? [{ seenAt: dateOrNull(open.last_seen_at), evidence: jsonColumn(open.evidence) }, ...earlierNow].slice(0, EARLIER_EVIDENCE_KEPT)
    : earlierNow;
  // A new occurrence of an acknowledged finding opens it again: acknowledging one must not silence what
  // follows (an insider in compliance acknowledging the finding about a colleague), and a high one alerts again.
  const reopened = count && open.status === 'acknowledged';
  await tx.query(
    `UPDATE findings
        SET occurrences = occurrences + $2, severity = $3, summary = $4, evidence = $5, earlier_evidence = $6,
            first_seen_at = LEAST(first_seen_at, $7), last_seen_at = GREATEST(last_seen_at, $8), detected_at = GREATEST(detected_at, $9),
            status = CASE WHEN $10 THEN 'open' ELSE status END
      WHERE id = $1`,
    [id, count ? 1 : 0, severity, f.summary, JSON.stringify(f.evidence), JSON.stringify(earlier), f.occurredAt, lastSeen, f.detectedAt, reopened],
  );
  const alerted = shouldAlert(reopened ? null : open.severity, severity);
  if (alerted) await queueAlert(tx, id, f.detectedAt);
  return { id, outcome: count ? 'updated' : 'refreshed', alerted };
}

/** The alert about finding `id` as it now stands, into the outbox in the finding's own transaction. */
async function queueAlert(tx: Queryable, id: number, at: Date): Promise<void> {
  const row = (await tx.query<Record<string, unknown>>(`SELECT ${ROW_COLUMNS} FROM findings WHERE id = $1`, [id])).rows[0];
  if (row === undefined) throw new Error(`finding ${id} vanished in its own transaction`);
  await tx.query(`INSERT INTO alert_outbox (created_at, kind, finding_id, payload) VALUES ($1, 'finding', $2, $3)`, [
    at,
    id,
    JSON.stringify(findingAlert(rowOf(row))),
  ]);
}

/** The findings queue as the firewall's sink; `raised` hears of each finding once its transaction committed (the alert dispatcher's nudge). */
export function findingSink(q: Queryable, raised?: (f: Folded) => void): FindingSink {
  return {
    raise: async (f) => {
      const folded = await foldFinding(q, f);
      raised?.(folded);
      return folded.id;
    },
  };
}

export interface FindingRow {
  readonly id: number;
  readonly rule: string;
  readonly severity: Severity;
  readonly occurredAt: Date;
  readonly detectedAt: Date;
  readonly source: FindingSource;
  readonly subjectPersonId: string | null;
  readonly subjectUserId: string | null;
  readonly summary: string;
  readonly evidence: unknown;
  readonly status: FindingStatus;
  /** `person:<id>`, `user:<id>`, `terminal:<id>`, `control:<name>` (a control failing), or null (never folded). */
  readonly subjectKey: string | null;
  /** How many times it was raised while open (a period scanned again counts once). */
  readonly occurrences: number;
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
  /** The evidence before the latest, newest first, at most EARLIER_EVIDENCE_KEPT. */
  readonly earlierEvidence: readonly unknown[];
}

const ROW_COLUMNS = `id, rule, severity, occurred_at, detected_at, source, subject_person_id, subject_user_id, summary, evidence, status,
  subject_key, occurrences, first_seen_at, last_seen_at, earlier_evidence`;

function rowOf(r: Record<string, unknown>): FindingRow {
  const earlier = jsonColumn(r['earlier_evidence']);
  return {
    id: Number(r['id']),
    rule: String(r['rule']),
    severity: r['severity'] as Severity,
    occurredAt: new Date(r['occurred_at'] as string),
    detectedAt: new Date(r['detected_at'] as string),
    source: r['source'] as FindingSource,
    subjectPersonId: (r['subject_person_id'] as string | null) ?? null,
    subjectUserId: (r['subject_user_id'] as string | null) ?? null,
    summary: String(r['summary']),
    evidence: jsonColumn(r['evidence']),
    status: r['status'] as FindingStatus,
    subjectKey: (r['subject_key'] as string | null) ?? null,
    occurrences: Number(r['occurrences']),
    firstSeenAt: new Date(r['first_seen_at'] as string),
    lastSeenAt: new Date(r['last_seen_at'] as string),
    earlierEvidence: Array.isArray(earlier) ? (earlier as unknown[]) : [],
  };
}

/** Findings, the most recently seen first (a finding folded into is as new as its last occurrence), optionally only those still open or about one rule. */
export async function listFindings(q: Queryable, filter: { rule?: string; openOnly?: boolean; limit: number; offset: number }): Promise<FindingRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT ${ROW_COLUMNS}
       FROM findings
      WHERE ($1::text IS NULL OR rule = $1) AND (NOT $2::boolean OR status <> 'resolved')
      ORDER BY last_seen_at DESC, id DESC LIMIT $3 OFFSET $4`,
    [filter.rule ?? null, filter.openOnly ?? false, filter.limit, filter.offset],
  );
  return rows.map(rowOf);
}
