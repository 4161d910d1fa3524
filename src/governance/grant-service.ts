import { DAY_MS } from '../domain/japan-time.ts';
import { refusalFamily, type RefusalKind } from '../domain/refusal.ts';
import { isSide, type Side } from '../domain/organization.ts';
import { holds, type Actor } from '../domain/actor.ts';
import type { GovernanceAction } from '../domain/governance-actions.ts';
import { dateOrNull, type Db, type Queryable } from '../store/db.ts';
import { judgeGrant, periodAt, type GrantRule, type StaffPeriod } from './grant-rules.ts';
import { recordGovernance, recordingRefusals, type GovernanceActor } from '../audit/governance-log.ts';
import { CATALOG_SPECS, isPermissionId, PERMISSION_CATALOG, type PermissionId } from '../domain/permissions.ts';
import { DEFAULT_SOD_POLICY, incompatibleWith, type SodPolicy } from '../domain/separation-of-duties.ts';
import { lockPeopleForSod, reciprocalApproval } from '../identity/approvals.ts';

/**
 * Why a live grant action was refused. The grant rules shared with `gridwall grants check` come first; the
 * rest are about the workflow (who may request, approve, reject or revoke, and when).
 */
export type GrantRefusalRule =
  | GrantRule
  | 'self_approval'
  | 'not_an_approver'
  | 'approval_outside_scope'
  | 'not_permitted'
  | 'scope_required'
  | 'scope_not_allowed'
  | 'expiry_invalid'
  | 'not_pending'
  | 'not_in_force'
  | 'duplicate';

/** What kind of no each grant rule is: a broken rule is refused, a stale request a conflict, a malformed one invalid. */
const GRANT_REFUSAL_KINDS: Readonly<Record<GrantRefusalRule, RefusalKind>> = {
  side_not_allowed: 'refused',
  self_grant: 'refused',
  self_approval: 'refused',
  not_an_approver: 'refused',
  approval_outside_scope: 'refused',
  not_permitted: 'refused',
  left_organization: 'refused',
  unknown_user: 'refused',
  unknown_permission: 'invalid',
  scope_required: 'invalid',
  scope_not_allowed: 'invalid',
  expiry_invalid: 'invalid',
  not_pending: 'conflict',
  not_in_force: 'conflict',
  duplicate: 'conflict',
  incompatible_permissions: 'refused',
  reciprocal_approval: 'refused',
};

/** A refused grant action: the rule it broke and a sentence saying how. */
export class GrantRefusal extends refusalFamily('grant', GRANT_REFUSAL_KINDS) {}

export interface GrantRow {
  readonly id: number;
  readonly userId: string;
  readonly personId: string;
  readonly personName: string;
  readonly permissionId: string;
  readonly scopeOrganizationId: string | null;
  readonly status: 'requested' | 'approved' | 'rejected' | 'revoked';
  readonly reason: string;
  readonly requestedBy: string;
  readonly requestedAt: Date;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly decisionComment: string | null;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
  /** The holder's organization at the time of listing (null without an assignment in force). */
  readonly holderOrganizationId: string | null;
  readonly holderSide: string | null;
}

export const personActor = (a: Actor): GovernanceActor => ({ kind: 'person', userId: a.userId, personId: a.personId });

interface AccountFacts {
  readonly userId: string;
  readonly personId: string;
  readonly disabled: boolean;
  /** The person's staff periods; `organization` holds the organization ID. */
  readonly periods: StaffPeriod[];
}

/**
 * The staff history of each account's person, as the grant rules read it. A service account has no person,
 * so a grant to one is refused as to an account with no person behind it (what a token may do is its own
 * approved scopes).
 */
async function accountFacts(q: Queryable, userIds: readonly string[], at: Date): Promise<Map<string, AccountFacts>> {
  const { rows } = await q.query<{
    user_id: string;
    person_id: string;
    disabled: boolean;
    organization_id: string | null;
    side: string | null;
    valid_from: Date | string | null;
    valid_to: Date | string | null;
  }>(
    `SELECT a.user_id, a.person_id, (a.disabled_at IS NOT NULL AND a.disabled_at <= $2) AS disabled, s.organization_id, s.side, s.valid_from, s.valid_to
       FROM accounts a LEFT JOIN staff_assignments s ON s.person_id = a.person_id
      WHERE a.user_id = ANY($1::text[]) AND a.kind = 'person' ORDER BY a.user_id, s.valid_from`,
    [userIds, at],
  );
  const out = new Map<string, AccountFacts>();
  for (const r of rows) {
    const f = out.get(r.user_id) ?? { userId: r.user_id, personId: r.person_id, disabled: r.disabled, periods: [] };
    if (r.side !== null && isSide(r.side) && r.valid_from !== null && r.organization_id !== null) {
      f.periods.push({
        userId: r.user_id,
        personId: r.person_id,
        organization: r.organization_id,
        side: r.side,
        from: new Date(r.valid_from),
        to: r.valid_to === null ? null : new Date(r.valid_to),
      });
    }
    out.set(r.user_id, f);
  }
  return out;
}

/** The shared rules for a grant of `permissionId` to `userId` by `grantorUserId` at `at`. */
function ruleViolations(facts: Map<string, AccountFacts>, userId: string, permissionId: string, grantorUserId: string, at: Date) {
  const staff = new Map<string, StaffPeriod[]>([...facts].map(([k, v]) => [k, v.periods]));
  return judgeGrant({ userId, permissionId, grantedBy: grantorUserId, grantedAt: at, revokedAt: null }, staff, CATALOG_SPECS, at);
}

/** The per-person locks every action the separation-of-duties rules read takes first (identity/approvals.ts). */
export { lockPeopleForSod };

export interface GrantRequest {
  readonly userId: string;
  readonly permissionId: string;
  readonly scopeOrganizationId: string | null;
  readonly reason: string;
  readonly expiresAt: Date;
}

/**
 * The grant workflow. Every action — done or refused — leaves a governance event; a change and its event
 * commit in one transaction.
 */
export class Grants {
  readonly #db: Db;
  readonly #sod: SodPolicy;

  /** `sod`: the separation-of-duties rules in force (GRIDWALL_SOD_PAIRS, GRIDWALL_SOD_RECIPROCAL_DAYS). */
  constructor(db: Db, sod: SodPolicy = DEFAULT_SOD_POLICY) {
    this.#db = db;
    this.#sod = sod;
  }

  /** Runs `fn` in a transaction; a grant refusal it throws is recorded as a refused governance event. */
  #guard<T>(
    actor: Actor,
    at: Date,
    action: GovernanceAction,
    subjectId: string,
    details: Record<string, unknown>,
    fn: (tx: Queryable) => Promise<T>,
  ): Promise<T> {
    return recordingRefusals(this.#db, 'grant', { at, actor: personActor(actor), action, subjectType: 'grant', subjectId, details }, fn);
  }

  /**
   * Requests a grant. Anyone may ask for themself; asking for someone else needs `access.admin` or
   * `grants.approve`. The side, leaver and catalog rules are checked now and again at approval.
   */
  async request(actor: Actor, req: GrantRequest, at: Date): Promise<GrantRow> {
    return this.#guard(actor, at, 'grant.request', `${req.userId}/${req.permissionId}`, { ...req, expiresAt: req.expiresAt.toISOString() }, async (tx) => {
      if (!isPermissionId(req.permissionId)) throw new GrantRefusal('unknown_permission', `permission ${req.permissionId} is not in the catalog`);
      const perm = PERMISSION_CATALOG[req.permissionId];
      if (req.userId !== actor.userId && !holds(actor, 'access.admin') && !holds(actor, 'grants.approve')) {
        throw new GrantRefusal('not_permitted', 'requesting a grant for someone else needs access.admin or grants.approve');
      }
      if (perm.scoped && req.scopeOrganizationId === null) throw new GrantRefusal('scope_required', `${perm.id} is granted for one organization: name it`);
      if (!perm.scoped && req.scopeOrganizationId !== null) throw new GrantRefusal('scope_not_allowed', `${perm.id} is not granted per organization`);
      const days = (req.expiresAt.getTime() - at.getTime()) / DAY_MS;
      if (!(days > 0) || days > perm.maxDays)
        throw new GrantRefusal('expiry_invalid', `a grant of ${perm.id} expires after now and within ${perm.maxDays} days`);
      const facts = await accountFacts(tx, [req.userId], at);
      const holder = facts.get(req.userId);
      if (holder === undefined || holder.disabled) throw new GrantRefusal('unknown_user', `no usable account ${req.userId}`);
      // Before any grant is read: a request reads (and adds to) only the holder's grants.
      await lockPeopleForSod(tx, [holder.personId]);
      // At request time only the holder's rules apply: asking for oneself is allowed, approving oneself is not.
      const v = ruleViolations(facts, req.userId, perm.id, actor.userId, at).filter((x) => x.rule !== 'self_grant');
      if (v[0] !== undefined) throw new GrantRefusal(v[0].rule, v[0].detail);
      // A request that could never be approved is refused now: what the person holds, and what they asked for.
      await this.#separate(tx, holder.personId, req.userId, perm.id, at, true);
      const dup = await tx.query(
        `SELECT 1 FROM grants WHERE user_id = $1 AND permission_id = $2 AND scope_organization_id IS NOT DISTINCT FROM $3 AND status = 'requested'`,
        [req.userId, perm.id, req.scopeOrganizationId],
      );
      if (dup.rows.length > 0) throw new GrantRefusal('duplicate', `a request of ${perm.id} for ${req.userId} is already waiting for approval`);
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO grants (user_id, permission_id, scope_organization_id, status, reason, requested_by, requested_by_person, requested_at, expires_at)
         VALUES ($1, $2, $3, 'requested', $4, $5, $6, $7, $8) RETURNING id`,
        [req.userId, perm.id, req.scopeOrganizationId, req.reason, actor.userId, actor.personId, at, req.expiresAt],
      );
      const id = Number(rows[0]?.id);
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'grant.request',
        subjectType: 'grant',
        subjectId: String(id),
        outcome: 'done',
        details: { userId: req.userId, permissionId: perm.id, scope: req.scopeOrganizationId, expiresAt: req.expiresAt.toISOString() },
      });
      return this.#one(tx, id, at);
    });
  }

  /**
   * Approves a waiting request. The approver must hold `grants.approve` for the holder's organization, be
   * neither the holder (self_grant) nor the requester (self_approval), and every grant rule must hold now.
   */
  async approve(actor: Actor, grantId: number, comment: string | null, at: Date): Promise<GrantRow> {
    return this.#guard(actor, at, 'grant.approve', String(grantId), { comment }, async (tx) => {
      // Before the grant row is locked and before the rules read: the holder's grants and the approvals between the two.
      // (The holder looked up here cannot change: a grant's account and an account's person are fixed.)
      const holderPerson = await tx.query<{ person_id: string }>('SELECT a.person_id FROM grants g JOIN accounts a ON a.user_id = g.user_id WHERE g.id = $1', [
        grantId,
      ]);
      await lockPeopleForSod(tx, [...holderPerson.rows.map((r) => r.person_id), actor.personId]);
      const g = await this.#pending(tx, grantId, at);
      const facts = await accountFacts(tx, [g.userId, actor.userId], at);
      const holder = facts.get(g.userId);
      if (holder === undefined) throw new GrantRefusal('unknown_user', `no account ${g.userId}`);
      await this.#mayDecide(actor, holder, at);
      if (holder.personId === actor.personId)
        throw new GrantRefusal('self_grant', `${actor.userId} may not approve a grant to themself (${g.userId} is the same person)`);
      if (g.requestedByPerson === actor.personId)
        throw new GrantRefusal('self_approval', `${actor.userId} requested this grant and may not also approve it: a second person must`);
      const v = ruleViolations(facts, g.userId, g.permissionId, actor.userId, at);
      if (v[0] !== undefined) throw new GrantRefusal(v[0].rule, v[0].detail);
      await this.#separate(tx, holder.personId, g.userId, g.permissionId, at, false);
      await this.#notReciprocal(tx, actor, holder, at);
      await tx.query(`UPDATE grants SET status = 'approved', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = $1`, [
        grantId,
        actor.userId,
        actor.personId,
        at,
        comment,
      ]);
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'grant.approve',
        subjectType: 'grant',
        subjectId: String(grantId),
        outcome: 'done',
        details: { userId: g.userId, permissionId: g.permissionId, comment },
      });
      return this.#one(tx, grantId, at);
    });
  }

  /** Rejects a waiting request (an approver in scope), or withdraws it (its requester). */
  async reject(actor: Actor, grantId: number, comment: string, at: Date): Promise<GrantRow> {
    return this.#guard(actor, at, 'grant.reject', String(grantId), { comment }, async (tx) => {
      const g = await this.#pending(tx, grantId, at);
      if (g.requestedByPerson !== actor.personId) {
        const holder = (await accountFacts(tx, [g.userId], at)).get(g.userId);
        if (holder === undefined) throw new GrantRefusal('unknown_user', `no account ${g.userId}`);
        await this.#mayDecide(actor, holder, at);
      }
      await tx.query(`UPDATE grants SET status = 'rejected', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = $1`, [
        grantId,
        actor.userId,
        actor.personId,
        at,
        comment,
      ]);
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'grant.reject',
        subjectType: 'grant',
        subjectId: String(grantId),
        outcome: 'done',
        details: { userId: g.userId, permissionId: g.permissionId, comment },
      });
      return this.#one(tx, grantId, at);
    });
  }

  /** Revokes an approved grant: an access administrator, an approver in scope, or the holder giving it up. */
  async revoke(actor: Actor, grantId: number, reason: string, at: Date): Promise<GrantRow> {
    return this.#guard(actor, at, 'grant.revoke', String(grantId), { reason }, async (tx) => {
      const { rows } = await tx.query<{ user_id: string; status: string; person_id: string }>(
        'SELECT g.user_id, g.status, a.person_id FROM grants g JOIN accounts a ON a.user_id = g.user_id WHERE g.id = $1 FOR UPDATE OF g',
        [grantId],
      );
      const g = rows[0];
      if (g === undefined || g.status !== 'approved') throw new GrantRefusal('not_in_force', `grant ${grantId} is not an approved grant`);
      if (g.person_id !== actor.personId && !holds(actor, 'access.admin')) {
        const holder = (await accountFacts(tx, [g.user_id], at)).get(g.user_id);
        if (holder === undefined) throw new GrantRefusal('unknown_user', `no account ${g.user_id}`);
        await this.#mayDecide(actor, holder, at);
      }
      await revokeGrant(tx, grantId, personActor(actor), reason, at, null);
      return this.#one(tx, grantId, at);
    });
  }

  /**
   * `incompatible_permissions`: the person would hold both permissions of an enforced pair — with a grant
   * in force on any of their accounts, or (at request) with one they are already waiting for.
   */
  async #separate(tx: Queryable, personId: string, userId: string, permissionId: string, at: Date, withPending: boolean): Promise<void> {
    if (this.#sod.pairs.length === 0) return;
    const { rows } = await tx.query<{ permission_id: string; status: string }>(
      `SELECT g.permission_id, g.status FROM grants g JOIN accounts a ON a.user_id = g.user_id
        WHERE a.person_id = $1 AND g.expires_at > $2
          AND (g.status = 'approved' AND (g.revoked_at IS NULL OR g.revoked_at > $2) OR ($3::boolean AND g.status = 'requested'))`,
      [personId, at, withPending],
    );
    const clash = incompatibleWith(
      this.#sod,
      permissionId,
      rows.map((r) => r.permission_id),
    );
    if (clash === null) return;
    const waiting = rows.every((r) => r.permission_id !== clash.held || r.status === 'requested');
    const [a, b] = clash.pair.permissions;
    throw new GrantRefusal(
      'incompatible_permissions',
      `separation of duties: ${userId} ${waiting ? 'has asked for' : 'holds'} ${clash.held} (${isPermissionId(clash.held) ? PERMISSION_CATALOG[clash.held].nameEn : clash.held}), and one person may not hold both ${a} and ${b}: ${clash.pair.reasonEn}`,
      { pair: clash.pair.id, heldPermissionId: clash.held },
    );
  }

  /**
   * `reciprocal_approval`: the holder approved something for the approver — a grant, a terminal, a device
   * binding, a token or an emergency declaration, on any of either's accounts — within the period
   * (identity/approvals.ts, the one rule for every kind); a third person must decide this one.
   */
  async #notReciprocal(tx: Queryable, actor: Actor, holder: AccountFacts, at: Date): Promise<void> {
    const found = await reciprocalApproval(tx, this.#sod, {
      approverPersonId: actor.personId,
      approverUserId: actor.userId,
      beneficiaryPersonIds: [holder.personId],
      what: `a grant to ${holder.userId}`,
      at,
    });
    if (found !== null) throw new GrantRefusal('reciprocal_approval', found.message, found.details);
  }

  async #pending(tx: Queryable, grantId: number, at: Date): Promise<{ userId: string; permissionId: string; requestedByPerson: string }> {
    const { rows } = await tx.query<{ user_id: string; permission_id: string; requested_by_person: string; status: string; expires_at: Date | string }>(
      'SELECT user_id, permission_id, requested_by_person, status, expires_at FROM grants WHERE id = $1 FOR UPDATE',
      [grantId],
    );
    const g = rows[0];
    if (g === undefined || g.status !== 'requested') throw new GrantRefusal('not_pending', `grant ${grantId} is not waiting for a decision`);
    if (new Date(g.expires_at).getTime() <= at.getTime()) throw new GrantRefusal('expiry_invalid', `request ${grantId} would already have expired`);
    return { userId: g.user_id, permissionId: g.permission_id, requestedByPerson: g.requested_by_person };
  }

  /** The actor holds `grants.approve` for the organization the holder works for now. */
  async #mayDecide(actor: Actor, holder: AccountFacts, at: Date): Promise<void> {
    if (!holds(actor, 'grants.approve')) throw new GrantRefusal('not_an_approver', `${actor.userId} holds no grants.approve in force`);
    const org = periodAt(holder.periods, at)?.organization ?? null;
    if (org === null) throw new GrantRefusal('left_organization', `user ${holder.userId} has no staff period in force`);
    if (!holds(actor, 'grants.approve', org))
      throw new GrantRefusal('approval_outside_scope', `${actor.userId} may approve grants for other organizations, not ${org}`);
  }

  async #one(q: Queryable, id: number, at: Date): Promise<GrantRow> {
    const [row] = await listGrants(q, { id }, at);
    if (row === undefined) throw new Error(`grant ${id} vanished`);
    return row;
  }
}

/**
 * Revokes one grant and records why. Shared by the workflow, the SCIM mover/leaver handling and
 * recertification; `rule` names the rule that forced it (e.g. side_not_allowed after a move).
 */
export async function revokeGrant(tx: Queryable, grantId: number, by: GovernanceActor, reason: string, at: Date, rule: string | null): Promise<void> {
  const byId = by.kind === 'system' ? `system:${by.job}` : by.userId;
  const { rows } = await tx.query<{ user_id: string; permission_id: string }>(
    `UPDATE grants SET status = 'revoked', revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE id = $1 AND status = 'approved' RETURNING user_id, permission_id`,
    [grantId, at, byId, reason],
  );
  const g = rows[0];
  if (g === undefined) return;
  await recordGovernance(tx, {
    at,
    actor: by,
    action: 'grant.revoke',
    subjectType: 'grant',
    subjectId: String(grantId),
    outcome: 'done',
    rule,
    details: { userId: g.user_id, permissionId: g.permission_id, reason },
  });
}

/**
 * Revokes every approved grant of a person's accounts that `side` may not hold (a move to another side), or
 * every grant at all when `side` is null (a leaver). Returns the revoked grant IDs.
 */
export async function revokeForSide(tx: Queryable, personId: string, side: Side | null, by: GovernanceActor, at: Date): Promise<number[]> {
  const { rows } = await tx.query<{ id: string; permission_id: string }>(
    `SELECT g.id, g.permission_id FROM grants g JOIN accounts a ON a.user_id = g.user_id WHERE a.person_id = $1 AND g.status = 'approved' ORDER BY g.id`,
    [personId],
  );
  const revoked: number[] = [];
  for (const r of rows) {
    const allowed = side !== null && isPermissionId(r.permission_id) && PERMISSION_CATALOG[r.permission_id].allowedSides.includes(side);
    if (allowed) continue;
    const id = Number(r.id);
    await revokeGrant(
      tx,
      id,
      by,
      side === null ? 'left the organization' : `moved to the ${side} side`,
      at,
      side === null ? 'left_organization' : 'side_not_allowed',
    );
    revoked.push(id);
  }
  return revoked;
}

/**
 * The permissions whose use reads customer records. Approved for a person acting for one retailer, they say
 * nothing about the same person acting for another: whose customers are "own" changed (issue 14).
 */
export const CUSTOMER_DATA_PERMISSIONS: readonly PermissionId[] = ['customer.read', 'emergency.support'];

/**
 * Revokes every approved customer-data grant of a person's accounts after a move from one retailer to
 * another (logged with the rule `retailer_changed`); they must be asked for and approved again. Returns the
 * revoked grant IDs.
 */
export async function revokeForRetailerChange(tx: Queryable, personId: string, from: string, to: string, by: GovernanceActor, at: Date): Promise<number[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT g.id FROM grants g JOIN accounts a ON a.user_id = g.user_id WHERE a.person_id = $1 AND g.status = 'approved' AND g.permission_id = ANY($2::text[]) ORDER BY g.id`,
    [personId, [...CUSTOMER_DATA_PERMISSIONS]],
  );
  const revoked: number[] = [];
  for (const r of rows) {
    const id = Number(r.id);
    await revokeGrant(tx, id, by, `moved from retailer ${from} to ${to}`, at, 'retailer_changed');
    revoked.push(id);
  }
  return revoked;
}

export interface GrantFilter {
  readonly id?: number;
  readonly userId?: string;
  readonly status?: string;
  readonly permissionId?: string;
  readonly limit?: number;
  readonly offset?: number;
}

/** Grants with their holder's person and current organization. */
export async function listGrants(q: Queryable, f: GrantFilter, at: Date): Promise<GrantRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT g.*, a.person_id, p.name AS person_name, s.organization_id AS holder_org, s.side AS holder_side
       FROM grants g JOIN accounts a ON a.user_id = g.user_id JOIN persons p ON p.id = a.person_id
       LEFT JOIN LATERAL (SELECT organization_id, side FROM staff_assignments s WHERE s.person_id = a.person_id AND s.valid_from <= $1 AND (s.valid_to IS NULL OR s.valid_to > $1) LIMIT 1) s ON true
      WHERE ($2::bigint IS NULL OR g.id = $2) AND ($3::text IS NULL OR g.user_id = $3) AND ($4::text IS NULL OR g.status = $4) AND ($5::text IS NULL OR g.permission_id = $5)
      ORDER BY g.id DESC LIMIT $6 OFFSET $7`,
    [at, f.id ?? null, f.userId ?? null, f.status ?? null, f.permissionId ?? null, f.limit ?? 200, f.offset ?? 0],
  );
  return rows.map((r) => ({
    id: Number(r['id']),
    userId: String(r['user_id']),
    personId: String(r['person_id']),
    personName: String(r['person_name']),
    permissionId: String(r['permission_id']),
    scopeOrganizationId: (r['scope_organization_id'] as string | null) ?? null,
    status: r['status'] as GrantRow['status'],
    reason: String(r['reason']),
    requestedBy: String(r['requested_by']),
    requestedAt: new Date(r['requested_at'] as string),
    decidedBy: (r['decided_by'] as string | null) ?? null,
    decidedAt: dateOrNull(r['decided_at']),
    decisionComment: (r['decision_comment'] as string | null) ?? null,
    expiresAt: new Date(r['expires_at'] as string),
    revokedAt: dateOrNull(r['revoked_at']),
    revokedBy: (r['revoked_by'] as string | null) ?? null,
    revokeReason: (r['revoke_reason'] as string | null) ?? null,
    holderOrganizationId: (r['holder_org'] as string | null) ?? null,
    holderSide: (r['holder_side'] as string | null) ?? null,
  }));
}
