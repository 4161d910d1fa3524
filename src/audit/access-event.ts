import type { MaskReason, Outcome } from '../domain/decision.ts';
import type { Relation } from '../domain/relation.ts';

/** What the log keeps about one supply point in one read: enough for analysis without the changed master. */
export interface LoggedRecord {
  readonly supplyPointId: string;
  readonly relation: Relation;
  /** Retailer supplying the point at that moment; null when vacant or under last-resort supply. */
  readonly retailerCode: string | null;
  readonly lastResort: boolean;
  readonly shown: readonly string[];
  readonly masked: Readonly<Record<string, MaskReason>>;
}

/** One access-log event: every read decided by the firewall, served or refused. */
export interface AccessEvent {
  readonly occurredAt: Date;
  readonly requestId: string;
  readonly personId: string;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly principalClass: string;
  readonly side: string | null;
  readonly organizationId: string | null;
  readonly employment: string | null;
  readonly office: string | null;
  readonly terminalId: string | null;
  readonly route: string;
  readonly purpose: string;
  readonly outcome: Outcome;
  readonly refusal: string | null;
  /** The kind of query (e.g. which field was searched by) — never the searched value itself. */
  readonly query: Readonly<Record<string, unknown>>;
  readonly records: readonly LoggedRecord[];
  readonly policyVersion: string;
  readonly emergencyId: string | null;
}

/** The port the firewall writes through. `append` resolves only once the event is durably committed. */
export interface AccessLog {
  append(event: AccessEvent): Promise<void>;
  /**
   * Tells `listener` of the events other writers (other server processes on the store) appended, once this
   * writer has accounted for them (issue 21: the read limits count them). Returns how to stop telling it.
   */
  onOthers?(listener: (events: readonly AccessEvent[]) => void): () => void;
}

export class LogUnavailableError extends Error {
  readonly code = 'log_unavailable';
  constructor(cause: unknown) {
    super('the access log could not be written; no customer data is served', { cause });
  }
}

/**
 * An event as the access log's columns hold it (snake_case, the instant as ISO 8601, the supply points read
 * pulled out for the index): one mapping for the writer's batch and the Parquet export.
 */
export function eventColumns(e: AccessEvent) {
  return {
    occurred_at: e.occurredAt.toISOString(),
    request_id: e.requestId,
    person_id: e.personId,
    user_id: e.userId,
    session_id: e.sessionId,
    principal_class: e.principalClass,
    side: e.side,
    organization_id: e.organizationId,
    employment: e.employment,
    office: e.office,
    terminal_id: e.terminalId,
    route: e.route,
    purpose: e.purpose,
    outcome: e.outcome,
    refusal: e.refusal,
    query: e.query,
    supply_point_ids: e.records.map((r) => r.supplyPointId),
    records: e.records,
    policy_version: e.policyVersion,
    emergency_id: e.emergencyId,
  };
}
