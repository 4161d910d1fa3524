import type { Queryable } from '../store/db.ts';

/**
 * Findings: something a person must look at — raised live by the firewall (an emergency-support read outside
 * a declared window) and by the analysis rules. Each names its rule, severity, subject and evidence.
 */
export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface NewFinding {
  readonly rule: string;
  readonly severity: Severity;
  /** When the behaviour happened (the read's instant). */
  readonly occurredAt: Date;
  readonly detectedAt: Date;
  readonly source: 'live' | 'analysis';
  readonly subjectPersonId: string | null;
  readonly subjectUserId: string | null;
  /** One line for the review queue, in Japanese (the reviewer's language); evidence carries the facts. */
  readonly summary: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

export async function raiseFinding(q: Queryable, f: NewFinding): Promise<number> {
  const { rows } = await q.query<{ id: string | number }>(
    `INSERT INTO findings (rule, severity, occurred_at, detected_at, source, subject_person_id, subject_user_id, summary, evidence)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [f.rule, f.severity, f.occurredAt, f.detectedAt, f.source, f.subjectPersonId, f.subjectUserId, f.summary, JSON.stringify(f.evidence)],
  );
  return Number(rows[0]?.id);
}

export interface FindingRow {
  readonly id: number;
  readonly rule: string;
  readonly severity: Severity;
  readonly occurredAt: string;
  readonly detectedAt: string;
  readonly source: string;
  readonly subjectPersonId: string | null;
  readonly subjectUserId: string | null;
  readonly summary: string;
  readonly evidence: unknown;
  readonly status: string;
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
    occurredAt: new Date(r['occurred_at'] as string).toISOString(),
    detectedAt: new Date(r['detected_at'] as string).toISOString(),
    source: String(r['source']),
    subjectPersonId: (r['subject_person_id'] as string | null) ?? null,
    subjectUserId: (r['subject_user_id'] as string | null) ?? null,
    summary: String(r['summary']),
    evidence: typeof r['evidence'] === 'string' ? JSON.parse(r['evidence']) : r['evidence'],
    status: String(r['status']),
  }));
}
