import type { GovernanceAction } from '../domain/governance-actions.ts';
import { Refusal, type RefusalFamily } from '../domain/refusal.ts';
import { jsonColumn, type Db, type Queryable } from '../store/db.ts';

/** Who did a governance action: a logged-in person, an API token (e.g. the HR system's), or gridwall itself. */
export type GovernanceActor =
  | { readonly kind: 'person'; readonly userId: string; readonly personId: string }
  | { readonly kind: 'token'; readonly userId: string; readonly personId: string; readonly tokenId: string }
  | { readonly kind: 'system'; readonly job: string };

export interface GovernanceEvent {
  readonly at: Date;
  readonly actor: GovernanceActor;
  /** One of GOVERNANCE_ACTIONS (domain/governance-actions.ts, each with its label), e.g. `grant.approve`. */
  readonly action: GovernanceAction;
  readonly subjectType:
    | 'grant'
    | 'account'
    | 'person'
    | 'terminal'
    | 'campaign'
    | 'token'
    | 'emergency'
    | 'emergency_support'
    | 'finding'
    | 'log_key'
    | 'inquiry'
    /** A run of `gridwall import` (the legacy registers). */
    | 'import';
  readonly subjectId: string;
  readonly outcome: 'done' | 'refused';
  /** The rule that refused it (or, for a system action, the rule that caused it). */
  readonly rule?: string | null;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Writes one governance event. Call it inside the transaction of the change it records, so the change and
 * its evidence commit together; a refusal is recorded on its own (nothing else to commit).
 */
export async function recordGovernance(q: Queryable, e: GovernanceEvent): Promise<void> {
  const a = e.actor;
  const details = a.kind === 'token' ? { ...e.details, tokenId: a.tokenId } : a.kind === 'system' ? { ...e.details, job: a.job } : (e.details ?? {});
  await q.query(
    `INSERT INTO governance_events (occurred_at, actor_kind, actor_user_id, actor_person_id, action, subject_type, subject_id, outcome, rule, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      e.at,
      a.kind,
      a.kind === 'system' ? null : a.userId,
      a.kind === 'system' ? null : a.personId,
      e.action,
      e.subjectType,
      e.subjectId,
      e.outcome,
      e.rule ?? null,
      JSON.stringify(details),
    ],
  );
}

/** A governance act, for the event it leaves whether it is done or refused. */
export type GovernanceAct = Omit<GovernanceEvent, 'outcome' | 'rule'>;

/**
 * Runs `fn` in a transaction; a refusal of `family` it throws is recorded as the act's refused event — on its
 * own, since nothing else commits — with the rule and the sentence, and rethrown. Refusals are evidence too.
 */
export async function recordingRefusals<T>(db: Db, family: RefusalFamily, act: GovernanceAct, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (e) {
    if (e instanceof Refusal && e.family === family) {
      await recordGovernance(db, { ...act, outcome: 'refused', rule: String(e.rule), details: { ...act.details, message: e.message } });
    }
    throw e;
  }
}

export interface GovernanceEventRow {
  readonly id: number;
  readonly occurredAt: Date;
  readonly actorKind: string;
  readonly actorUserId: string | null;
  readonly actorPersonId: string | null;
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly outcome: string;
  readonly rule: string | null;
  readonly details: unknown;
}

/** The most recent governance events, optionally about one subject. */
export async function listGovernance(
  q: Queryable,
  filter: { subjectType?: string; subjectId?: string; limit: number; offset: number },
): Promise<GovernanceEventRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT id, occurred_at, actor_kind, actor_user_id, actor_person_id, action, subject_type, subject_id, outcome, rule, details
       FROM governance_events
      WHERE ($1::text IS NULL OR subject_type = $1) AND ($2::text IS NULL OR subject_id = $2)
      ORDER BY governance_events.id DESC LIMIT $3 OFFSET $4`,
    [filter.subjectType ?? null, filter.subjectId ?? null, filter.limit, filter.offset],
  );
  return rows.map((r) => ({
    id: Number(r['id']),
    occurredAt: new Date(r['occurred_at'] as string),
    actorKind: String(r['actor_kind']),
    actorUserId: (r['actor_user_id'] as string | null) ?? null,
    actorPersonId: (r['actor_person_id'] as string | null) ?? null,
    action: String(r['action']),
    subjectType: String(r['subject_type']),
    subjectId: String(r['subject_id']),
    outcome: String(r['outcome']),
    rule: (r['rule'] as string | null) ?? null,
    details: jsonColumn(r['details']),
  }));
}
