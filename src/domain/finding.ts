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
  /** One of FINDING_RULES (domain/finding-rules.ts, where each has its name in words; test/domain/finding-rules.test.ts). */
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
  /**
   * What the finding is about, when the rule knows better than the default (issue 20: one open finding per rule
   * and subject): e.g. `terminal:<id>` for a rule about a terminal that also names the person who acted.
   * Default: findingSubjectKey.
   */
  readonly subjectKey?: string;
}

/**
 * The subject a finding is folded under while it is open (one open finding per rule and subject): the rule's
 * own key if it gives one; else the person (`person:<id>`, a user ID resolved to its person, so that a live
 * finding and a scan's about the same person meet); else the account (`user:<id>`, one without a person); else
 * the terminal the evidence names (`terminal:<id>`); else null — nothing tells two such findings apart from two
 * different ones, so they are never folded. Migration 015 computes the same for the findings it found.
 */
export function findingSubjectKey(f: NewFinding, personOfUser: string | null): string | null {
  if (f.subjectKey !== undefined) return f.subjectKey;
  const person = f.subjectPersonId ?? personOfUser;
  if (person !== null) return `person:${person}`;
  if (f.subjectUserId !== null) return `user:${f.subjectUserId}`;
  const subject = f.evidence['subject'];
  if (typeof subject === 'string' && subject.startsWith('terminal:')) return subject;
  const terminal = f.evidence['terminalId'];
  if (typeof terminal === 'string' && terminal !== '') return `terminal:${terminal}`;
  return null;
}

/** The order of severities: a folded finding keeps the higher. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Where a finding raised during a read goes (the findings queue: analysis/findings.ts#findingSink). */
export interface FindingSink {
  raise(finding: NewFinding): Promise<unknown>;
}
