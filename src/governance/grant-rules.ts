import { isSide, type Side } from '../domain/organization.ts';

/** One row of a staff register: who a user ID belongs to, on which side, over which period. */
export interface StaffPeriod {
  readonly userId: string;
  readonly personId: string;
  readonly organization: string;
  readonly side: Side;
  readonly from: Date;
  /** Exclusive end; null while it holds. */
  readonly to: Date | null;
}

import { GRANT_RULES, type GrantRule, type PermissionSpec } from '../domain/permissions.ts';
import { DEFAULT_SOD_POLICY, incompatibleWith, RECIPROCAL_REASON_EN, reciprocalOf, type Approval, type SodPolicy } from '../domain/separation-of-duties.ts';
import { DAY_MS, japanDay } from '../domain/japan-time.ts';

export interface GrantRecord {
  readonly userId: string;
  readonly permissionId: string;
  readonly grantedBy: string;
  readonly grantedAt: Date;
  readonly revokedAt: Date | null;
}

export { GRANT_RULES, type GrantRule };

export interface GrantViolation {
  readonly rule: GrantRule;
  readonly userId: string;
  readonly permissionId: string;
  readonly grantedBy: string;
  readonly grantedAt: Date;
  readonly detail: string;
}

export function inForce(g: GrantRecord, at: Date): boolean {
  return g.grantedAt.getTime() <= at.getTime() && (g.revokedAt === null || g.revokedAt.getTime() > at.getTime());
}

export function periodAt(periods: readonly StaffPeriod[], at: Date): StaffPeriod | null {
  const t = at.getTime();
  return periods.find((p) => p.from.getTime() <= t && (p.to === null || p.to.getTime() > t)) ?? null;
}

/**
 * Judges one grant in force at `at` against the person behind it and the permission's catalog entry.
 * A grant may break several rules; each is reported.
 */
export function judgeGrant(
  g: GrantRecord,
  staff: ReadonlyMap<string, readonly StaffPeriod[]>,
  permissions: ReadonlyMap<string, PermissionSpec>,
  at: Date,
): GrantViolation[] {
  const out: GrantViolation[] = [];
  const v = (rule: GrantRule, detail: string) =>
    out.push({ rule, userId: g.userId, permissionId: g.permissionId, grantedBy: g.grantedBy, grantedAt: g.grantedAt, detail });
  const periods = staff.get(g.userId) ?? [];
  const now = periodAt(periods, at);
  const permission = permissions.get(g.permissionId);
  if (periods.length === 0) v('unknown_user', `user ${g.userId} is in no staff register: an account with no person behind it`);
  else if (now === null) v('left_organization', `user ${g.userId} has no staff period in force: left the organization (or not yet joined)`);
  if (permission === undefined) v('unknown_permission', `permission ${g.permissionId} is not in the catalog`);
  else if (now !== null && !permission.allowedSides.includes(now.side)) {
    v(
      'side_not_allowed',
      `permission ${g.permissionId} (${permission.name}) may be held by ${permission.allowedSides.join('/') || 'no side'}; user ${g.userId} is on the ${now.side} side (${now.organization})`,
    );
  }
  const grantor = periodAt(staff.get(g.grantedBy) ?? [], g.grantedAt);
  const self = g.grantedBy === g.userId || (now !== null && grantor !== null && grantor.personId === now.personId);
  if (self)
    v(
      'self_grant',
      `user ${g.userId} was granted ${g.permissionId} by ${g.grantedBy === g.userId ? 'themself' : `${g.grantedBy}, another ID of the same person`}`,
    );
  return out;
}

export interface GrantsCheck {
  readonly violations: readonly GrantViolation[];
  readonly summary: {
    readonly holders: number;
    readonly grantors: number;
    readonly selfGrants: number;
    readonly grantsInForce: number;
    readonly violatingGrants: number;
  };
}

/** The person behind a user ID at `at` (any period of it otherwise; the ID itself for an ID in no register). */
function personOf(staff: ReadonlyMap<string, readonly StaffPeriod[]>, userId: string, at: Date): string {
  const periods = staff.get(userId) ?? [];
  return (periodAt(periods, at) ?? periods[0])?.personId ?? userId;
}

/**
 * Separation of duties over a registry: each grant in force that completes an enforced pair with a grant the
 * same person held before it (`incompatible_permissions`), or that its grantor gave within the reciprocal
 * period after its holder gave the grantor one (`reciprocal_approval`). The later grant of the two carries the
 * violation — as the live workflow refuses the second request or approval.
 */
export function judgeSeparation(
  grants: readonly GrantRecord[],
  staff: ReadonlyMap<string, readonly StaffPeriod[]>,
  policy: SodPolicy,
  at: Date,
): Map<GrantRecord, GrantViolation[]> {
  const out = new Map<GrantRecord, GrantViolation[]>();
  const add = (g: GrantRecord, rule: GrantRule, detail: string) =>
    out.set(g, [...(out.get(g) ?? []), { rule, userId: g.userId, permissionId: g.permissionId, grantedBy: g.grantedBy, grantedAt: g.grantedAt, detail }]);
  // Earlier first; a registry's order breaks ties, so of two grants on one day the second carries it.
  const ordered = grants.map((g, i) => ({ g, i })).sort((x, y) => x.g.grantedAt.getTime() - y.g.grantedAt.getTime() || x.i - y.i);
  const inForceNow = ordered.filter((x) => inForce(x.g, at));
  for (const [k, { g }] of inForceNow.entries()) {
    const holder = personOf(staff, g.userId, at);
    const before = inForceNow.slice(0, k).filter((x) => personOf(staff, x.g.userId, at) === holder);
    const clash = incompatibleWith(
      policy,
      g.permissionId,
      before.map((x) => x.g.permissionId),
    );
    if (clash !== null) {
      const first = before.find((x) => x.g.permissionId === clash.held)?.g;
      add(
        g,
        'incompatible_permissions',
        `separation of duties (${clash.pair.id}): user ${g.userId} also holds ${clash.held}${first === undefined ? '' : ` (granted ${japanDay(first.grantedAt)} by ${first.grantedBy})`}; ${clash.pair.permissions.join(' and ')} may not be held by one person: ${clash.pair.reasonEn}`,
      );
    }
  }
  if (policy.reciprocalDays > 0) {
    const approvals = ordered.map(({ g, i }): Approval<{ g: GrantRecord; i: number }> => ({
      holder: personOf(staff, g.userId, g.grantedAt),
      approver: personOf(staff, g.grantedBy, g.grantedAt),
      at: g.grantedAt,
      permissionId: g.permissionId,
      ref: { g, i },
    }));
    for (const [k, a] of approvals.entries()) {
      if (!inForce(a.ref.g, at)) continue;
      const earlier = reciprocalOf(policy, a, approvals.slice(0, k));
      if (earlier === null) continue;
      const h = earlier.ref.g;
      const days = Math.floor((a.at.getTime() - earlier.at.getTime()) / DAY_MS);
      add(
        a.ref.g,
        'reciprocal_approval',
        `reciprocal approval: ${a.ref.g.grantedBy} granted ${a.ref.g.permissionId} to ${a.ref.g.userId} ${days} days after ${h.grantedBy} granted ${h.permissionId} to ${h.userId} (within ${policy.reciprocalDays} days): ${RECIPROCAL_REASON_EN}`,
      );
    }
  }
  return out;
}

export function checkGrants(
  staff: readonly StaffPeriod[],
  permissions: readonly PermissionSpec[],
  grants: readonly GrantRecord[],
  at: Date,
  policy: SodPolicy = DEFAULT_SOD_POLICY,
): GrantsCheck {
  const byUser = new Map<string, StaffPeriod[]>();
  for (const p of staff) byUser.set(p.userId, [...(byUser.get(p.userId) ?? []), p]);
  const catalog = new Map(permissions.map((p) => [p.id, p]));
  const separation = judgeSeparation(grants, byUser, policy, at);
  const violations: GrantViolation[] = [];
  const holders = new Set<string>();
  const grantors = new Set<string>();
  let selfGrants = 0;
  let inForceCount = 0;
  let violating = 0;
  for (const g of grants) {
    if (!inForce(g, at)) continue;
    inForceCount++;
    const vs = [...judgeGrant(g, byUser, catalog, at), ...(separation.get(g) ?? [])];
    if (vs.length === 0) continue;
    violating++;
    violations.push(...vs);
    holders.add(g.userId);
    grantors.add(g.grantedBy);
    if (vs.some((x) => x.rule === 'self_grant')) selfGrants++;
  }
  return { violations, summary: { holders: holders.size, grantors: grantors.size, selfGrants, grantsInForce: inForceCount, violatingGrants: violating } };
}

/** Parses `network;retail` into sides; null when any part is not a side. */
export function parseSides(v: string): Side[] | null {
  const parts = v
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return parts.every(isSide) ? parts : null;
}
