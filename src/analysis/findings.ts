import { jsonColumn, type Queryable } from '../store/db.ts';

import type { FindingSink, NewFinding } from '../domain/finding.ts';
import { SEVERITIES, type FindingSource, type FindingStatus, type Severity } from '../domain/finding.ts';

export { SEVERITIES, type NewFinding, type Severity };

export async function raiseFinding(q: Queryable, f: NewFinding): Promise<number> {
  const { rows } = await q.query<{ id: string | number }>(
    `INSERT INTO findings (rule, severity, occurred_at, detected_at, source, subject_person_id, subject_user_id, summary, evidence)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [f.rule, f.severity, f.occurredAt, f.detectedAt, f.source, f.subjectPersonId, f.subjectUserId, f.summary, JSON.stringify(f.evidence)],
  );
  return Number(rows[0]?.id);
}

/** The findings queue as the firewall's sink. */
export function findingSink(q: Queryable): FindingSink {
  return { raise: (f) => raiseFinding(q, f) };
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
}

/** Findings, newest first, optionally only those still open or about one rule. */
export async function listFindings(q: Queryable, filter: { rule?: string; openOnly?: boolean; limit: number; offset: number }): Promise<FindingRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT id, rule, severity, occurred_at, detected_at, source, subject_person_id, subject_user_id, summary, evidence, status
       FROM findings
      WHERE ($1::text IS NULL OR rule = $1) AND (NOT $2::boolean OR status <> 'resolved')
      ORDER BY findings.id DESC LIMIT $3 OFFSET $4`,
    [filter.rule ?? null, filter.openOnly ?? false, filter.limit, filter.offset],
  );
  return rows.map((r) => ({
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
  }));
}
