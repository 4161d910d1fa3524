/**
 * Findings: something a person must look at — raised live by the firewall (an emergency-support read outside
 * a declared window) and by the analysis rules. Each names its rule, severity, subject and evidence. The
 * firewall raises them through a sink it is given (FindingSink), so it depends on this shape, not on the
 * analysis module that stores and reviews them.
 */
export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Who raised a finding: the firewall during a read, or the analysis rules. */
export const FINDING_SOURCES = ['live', 'analysis'] as const;
export type FindingSource = (typeof FINDING_SOURCES)[number];

/** Where a finding stands in the review queue (the store's CHECK says the same). */
export const FINDING_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

export interface NewFinding {
  readonly rule: string;
  readonly severity: Severity;
  /** When the behaviour happened (the read's instant). */
  readonly occurredAt: Date;
  readonly detectedAt: Date;
  readonly source: FindingSource;
  readonly subjectPersonId: string | null;
  readonly subjectUserId: string | null;
  /** One line for the review queue, in Japanese (the reviewer's language); evidence carries the facts. */
  readonly summary: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

/** Where a finding raised during a read goes (the findings queue: analysis/findings.ts#findingSink). */
export interface FindingSink {
  raise(finding: NewFinding): Promise<unknown>;
}
