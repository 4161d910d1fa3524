import { DAY_MS, japanDay } from '../domain/japan-time.ts';
import { reciprocalOf, RECIPROCAL_REASON_EN, type Approval, type SodPolicy } from '../domain/separation-of-duties.ts';
import type { Queryable } from '../store/db.ts';

/**
 * Every second-person approval that widens what someone can read, as one history for the reciprocal-approval
 * rule (`reciprocal_approval`, domain/separation-of-duties.ts): a grant, a terminal registration or change
 * (terminal request), a device binding to a network-site terminal, an API token, an emergency declaration.
 * Two people who approve each other's — of any kind, within GRIDWALL_SOD_RECIPROCAL_DAYS — have made the
 * second person's check a formality (A approves B's grant, B approves A's terminal in return), so the second
 * of the two is refused whatever kind either is; a third person must decide it.
 */
export const APPROVAL_KINDS = ['grant', 'terminal_request', 'device_binding', 'api_token', 'emergency'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/** What each kind of approval is called in a refusal's sentence. */
const KIND_WORDS: Readonly<Record<ApprovalKind, string>> = {
  grant: '',
  terminal_request: 'a registration or change of terminal ',
  device_binding: 'a device binding to terminal ',
  api_token: 'API token ',
  emergency: 'emergency declaration ',
};

/** An approval given earlier: by whom, for whom (user IDs, as recorded), of what, when. */
export interface PastApproval {
  readonly kind: ApprovalKind;
  readonly id: string;
  readonly approvedBy: string;
  readonly approvedFor: string;
  /** The permission, terminal, token name or declaration it was about. */
  readonly what: string;
  readonly at: Date;
}

/** The approval being made now: `approver` approves something that widens the reading of each of `beneficiaries` (people). */
export interface ApprovalNow {
  readonly approverPersonId: string;
  readonly approverUserId: string;
  readonly beneficiaryPersonIds: readonly string[];
  /** The approval in words, for the refusal's sentence: e.g. `a grant to u-x`, `terminal request 4 of u-x`. */
  readonly what: string;
  readonly at: Date;
}

/** The refusal's facts: the earlier approval and the period, with the sentence naming the rule in words. */
export interface Reciprocal {
  readonly earlier: PastApproval;
  readonly withinDays: number;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Keeps separation of duties true under concurrency. Its rules read a person's other grants and approvals,
 * and under READ COMMITTED two transactions at once each miss the other's uncommitted one: two approvals for
 * one person, A approving B while B approves A. Every action that adds what the rules read (a grant request,
 * any approval) first takes a transaction-scoped advisory lock per person it concerns, in one fixed order
 * (sorted, so two actions never wait on each other crosswise), before it reads; the second of two such
 * actions then runs after the first commits and sees it. The key space is shared with every schema on the
 * server: a collision only makes two actions wait for each other. PGlite has the same function (one
 * connection: the lock is always free there, as its transactions already run one at a time).
 */
export async function lockPeopleForSod(tx: Queryable, personIds: readonly string[]): Promise<void> {
  for (const p of [...new Set(personIds)].sort()) await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gridwall:sod:' || $1::text))`, [p]);
}

/** Approvals of any kind that one of `by` (people) gave for `forPerson` in [from, to]. */
async function approvalsGiven(q: Queryable, by: readonly string[], forPerson: string, from: Date, to: Date): Promise<Approval<PastApproval>[]> {
  const { rows } = await q.query<{
    kind: ApprovalKind;
    id: string;
    approver: string;
    approved_by: string;
    approved_for: string;
    what: string;
    at: Date | string;
  }>(
    `SELECT 'grant' AS kind, g.id::text AS id, g.decided_by_person AS approver, g.decided_by AS approved_by, g.user_id AS approved_for,
            g.permission_id AS what, g.decided_at AS at
       FROM grants g JOIN accounts a ON a.user_id = g.user_id
      WHERE a.person_id = $2 AND g.decided_by_person = ANY($1::text[]) AND g.status IN ('approved', 'revoked') AND g.decided_at BETWEEN $3 AND $4
     UNION ALL
     SELECT 'terminal_request', r.id::text, r.decided_by_person, r.decided_by, r.requested_by, r.terminal_id, r.decided_at
       FROM terminal_requests r
      WHERE r.requested_by_person = $2 AND r.decided_by_person = ANY($1::text[]) AND r.status = 'approved' AND r.decided_at BETWEEN $3 AND $4
     UNION ALL
     SELECT 'device_binding', d.id::text, d.decided_by_person, d.decided_by, d.issued_by, d.terminal_id, d.decided_at
       FROM terminal_devices d
      WHERE d.issued_by_person = $2 AND d.decided_by_person = ANY($1::text[]) AND d.decision = 'confirmed' AND d.decided_at BETWEEN $3 AND $4
     UNION ALL
     SELECT 'api_token', t.id, t.decided_by_person, t.decided_by, t.created_by, t.name, t.decided_at
       FROM api_tokens t JOIN accounts a ON a.user_id = t.user_id
      WHERE (t.created_by_person = $2 OR a.owner_person_id = $2) AND t.decided_by_person = ANY($1::text[]) AND t.status = 'approved'
        AND t.decided_at BETWEEN $3 AND $4
     UNION ALL
     SELECT 'emergency', e.id, e.decided_by_person, e.decided_by, e.declared_by, e.id, e.decided_at
       FROM emergency_declarations e
      WHERE e.declared_by_person = $2 AND e.decided_by_person = ANY($1::text[]) AND e.status = 'confirmed' AND e.decided_at BETWEEN $3 AND $4`,
    [[...by], forPerson, from, to],
  );
  return rows.map((r) => {
    const at = new Date(r.at);
    return {
      holder: forPerson,
      approver: r.approver,
      at,
      permissionId: r.what,
      ref: { kind: r.kind, id: r.id, approvedBy: r.approved_by, approvedFor: r.approved_for, what: r.what, at },
    };
  });
}

/**
 * The earlier approval that makes `now` reciprocal — one of any kind that a beneficiary of `now` gave for its
 * approver within the policy's period — with the refusal's sentence; null when none or the rule is off. Call
 * it after `lockPeopleForSod` for the approver and the beneficiaries, in the approval's transaction.
 */
export async function reciprocalApproval(q: Queryable, policy: SodPolicy, now: ApprovalNow): Promise<Reciprocal | null> {
  const days = policy.reciprocalDays;
  const others = now.beneficiaryPersonIds.filter((p) => p !== now.approverPersonId);
  if (days <= 0 || others.length === 0) return null;
  const history = await approvalsGiven(q, others, now.approverPersonId, new Date(now.at.getTime() - days * DAY_MS), now.at);
  let earlier: Approval<PastApproval> | null = null;
  for (const holder of others) {
    const found = reciprocalOf(policy, { holder, approver: now.approverPersonId, at: now.at, permissionId: '', ref: null }, history);
    if (found !== null && (earlier === null || found.at > earlier.at)) earlier = found;
  }
  if (earlier === null) return null;
  const e = earlier.ref;
  return {
    earlier: e,
    withinDays: days,
    message: `reciprocal approval: ${e.approvedBy} approved ${KIND_WORDS[e.kind]}${e.what} for ${e.approvedFor} on ${japanDay(e.at)}; within ${days} days ${now.approverUserId} may not approve ${now.what} in return. ${RECIPROCAL_REASON_EN}`,
    details: { withinDays: days, earlierKind: e.kind, earlierId: e.id, ...(e.kind === 'grant' ? { earlierGrantId: Number(e.id) } : {}) },
  };
}
