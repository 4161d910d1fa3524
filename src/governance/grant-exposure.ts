import type { PermissionSpec } from '../domain/permissions.ts';
import { DEFAULT_SOD_POLICY, type SodPolicy } from '../domain/separation-of-duties.ts';
import { judgeGrant, judgeSeparation, type GrantRecord, type GrantRule, type StaffPeriod } from './grant-rules.ts';

/**
 * The regulator's first follow-up question (issue 22): during which period did a wrongful grant make data
 * viewable? `grants check` judges the grants in force on one day; this judges each grant over the whole time it
 * was in force up to that day, by the same rules, and returns the periods in which it broke one.
 */

/** A period in which a grant was in force and broke a rule: [from, to); `to` null while it still does at the day judged. */
export interface ExposureWindow {
  readonly from: Date;
  readonly to: Date | null;
}

export interface GrantExposure {
  readonly grant: GrantRecord;
  /** The rules it broke in any of its windows, in the order first seen. */
  readonly rules: readonly GrantRule[];
  /** Oldest first, never touching (two windows are apart by a time the grant broke no rule). */
  readonly windows: readonly ExposureWindow[];
}

/**
 * Every grant that broke a rule at some instant while in force, up to `at`, with the periods in which it did.
 *
 * A grant's judgement can change only where something it is judged on changes: its own start, the staff periods
 * of its holder's person (a move to the retail side, a departure), and the grants that person holds (incompatible
 * permissions); a reciprocal approval is decided at the grant's approval and holds while it is in force. It is
 * judged at each such instant by the rules `grants check` applies (`judgeGrant`, `judgeSeparation` over the
 * grants that can weigh on it), so a grant in force at `at` has a window open at `at` exactly when `grants check
 * --at` reports it (test/governance/grant-exposure.test.ts holds the two equal at every instant). The grants that
 * can weigh on one are found by index, so a registry of 10,000 grants is judged in well under a second.
 */
export function grantExposures(
  staff: readonly StaffPeriod[],
  permissions: readonly PermissionSpec[],
  grants: readonly GrantRecord[],
  at: Date,
  policy: SodPolicy = DEFAULT_SOD_POLICY,
): GrantExposure[] {
  const byUser = new Map<string, StaffPeriod[]>();
  const idsOfPerson = new Map<string, Set<string>>();
  for (const p of staff) {
    byUser.set(p.userId, [...(byUser.get(p.userId) ?? []), p]);
    idsOfPerson.set(p.personId, (idsOfPerson.get(p.personId) ?? new Set()).add(p.userId));
  }
  const catalog = new Map(permissions.map((p) => [p.id, p]));
  const order = new Map(grants.map((g, i) => [g, i]));
  const byHolder = new Map<string, GrantRecord[]>();
  for (const g of grants) byHolder.set(g.userId, [...(byHolder.get(g.userId) ?? []), g]);
  // Every user ID of the people behind an ID (at any time), the ID itself included.
  const sameness = (userId: string): Set<string> => {
    const out = new Set([userId]);
    for (const p of byUser.get(userId) ?? []) for (const id of idsOfPerson.get(p.personId) ?? []) out.add(id);
    return out;
  };
  // The grants of these IDs, in the registry's order (which breaks ties between grants of one instant).
  const heldBy = (ids: ReadonlySet<string>) => [...ids].flatMap((id) => byHolder.get(id) ?? []).sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const pairsOnly: SodPolicy = { pairs: policy.pairs, reciprocalDays: 0 };
  const reciprocalOnly: SodPolicy = { pairs: [], reciprocalDays: policy.reciprocalDays };
  const end = at.getTime();
  const out: GrantExposure[] = [];
  for (const g of grants) {
    const start = g.grantedAt.getTime();
    if (start > end) continue;
    const stop = g.revokedAt?.getTime() ?? Number.POSITIVE_INFINITY;
    if (stop <= start) continue;
    const holderIds = sameness(g.userId);
    // Incompatible permissions weigh the grants the holder's person holds; they open and close the clash.
    const own = heldBy(holderIds);
    // Reciprocal approval is decided at the grant's approval, by the grants the holder gave its grantor: the
    // same whenever it is judged while in force, so it is judged once.
    const grantorIds = sameness(g.grantedBy);
    const reverse = [...heldBy(grantorIds).filter((x) => holderIds.has(x.grantedBy)), g].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    const reciprocal = policy.reciprocalDays > 0 ? (judgeSeparation([...new Set(reverse)], byUser, reciprocalOnly, g.grantedAt).get(g) ?? []) : [];
    const instants = new Set<number>([start]);
    const changes = [
      ...[...holderIds].flatMap((id) => (byUser.get(id) ?? []).flatMap((p) => [p.from, p.to])),
      ...own.flatMap((x) => [x.grantedAt, x.revokedAt]),
    ];
    for (const d of changes) {
      const t = d?.getTime();
      if (t !== undefined && t > start && t <= end && t < stop) instants.add(t);
    }
    const times = [...instants].sort((a, b) => a - b);
    const rules: GrantRule[] = [];
    const windows: { from: number; to: number | null }[] = [];
    for (const [i, t] of times.entries()) {
      const when = new Date(t);
      const broken = [...judgeGrant(g, byUser, catalog, when), ...(judgeSeparation(own, byUser, pairsOnly, when).get(g) ?? []), ...reciprocal].map(
        (v) => v.rule,
      );
      const next = times[i + 1] ?? (stop <= end ? stop : null);
      const open = windows.at(-1);
      if (broken.length === 0) continue;
      for (const r of broken) if (!rules.includes(r)) rules.push(r);
      if (open !== undefined && open.to === t) open.to = next;
      else windows.push({ from: t, to: next });
    }
    if (windows.length > 0) out.push({ grant: g, rules, windows: windows.map((w) => ({ from: new Date(w.from), to: w.to === null ? null : new Date(w.to) })) });
  }
  return out;
}
