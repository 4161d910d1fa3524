import { memberOf } from './closed-set.ts';
import { DAY_MS } from './japan-time.ts';
import type { PermissionId } from './permissions.ts';

/**
 * Separation of duties (issue 20). In the incidents every control rested on a second person — and the second
 * person was sometimes the first one's counterpart: compliance asked for access administration, the access
 * administrator approved it, and compliance approved the administrator's own request in return. Two rules
 * answer it, each judged when a grant is requested and when it is approved, and by `gridwall grants check`
 * over a legacy registry:
 *
 * - `incompatible_permissions`: one person may not hold both permissions of an enforced pair (the catalog
 *   below; which pairs are enforced is policy, GRIDWALL_SOD_PAIRS);
 * - `reciprocal_approval`: A may not approve a grant to B within GRIDWALL_SOD_RECIPROCAL_DAYS of B approving
 *   one to A (both are people, not user IDs: a second account does not make a second person).
 */

export const SOD_PAIR_IDS = ['audit_and_access_admin', 'approve_and_declare', 'declare_and_support'] as const;
export type SodPairId = (typeof SOD_PAIR_IDS)[number];
export const isSodPairId = memberOf(SOD_PAIR_IDS);

/** The rule names a separation-of-duties refusal or finding carries (part of the grant rules). */
export const SOD_RULES = ['incompatible_permissions', 'reciprocal_approval'] as const;
export type SodRule = (typeof SOD_RULES)[number];

/** Two permissions one person may not hold together, and why, in words. */
export interface IncompatiblePair {
  /** A catalog pair's ID, or a legacy registry's own (`gridwall grants check --incompatible`). */
  readonly id: string;
  readonly permissions: readonly [string, string];
  readonly reason: string;
  readonly reasonEn: string;
}

export interface CatalogPair extends IncompatiblePair {
  readonly id: SodPairId;
  readonly permissions: readonly [PermissionId, PermissionId];
  /** Enforced unless the policy says otherwise. */
  readonly defaultEnforced: boolean;
}

export const SOD_PAIRS: Readonly<Record<SodPairId, CatalogPair>> = {
  audit_and_access_admin: {
    id: 'audit_and_access_admin',
    permissions: ['audit.read', 'access.admin'],
    defaultEnforced: true,
    reason: 'アクセスを管理する人がアクセスログの監査も担うと、自分の管理操作を自分で点検することになります（監査の独立性）。',
    reasonEn: 'Whoever administers access must not also audit the access log: nobody checks their own administration.',
  },
  approve_and_declare: {
    id: 'approve_and_declare',
    permissions: ['grants.approve', 'emergency.declare'],
    defaultEnforced: false,
    reason: '非常災害を宣言する人が権限の承認も行うと、非常時の閲覧を開く判断と権限を与える判断が一人に集まります（方針で適用を選びます）。',
    reasonEn:
      'Whoever declares emergencies (which open emergency reading) should not also approve grants: both decisions would rest with one person (enforced where policy says so).',
  },
  declare_and_support: {
    id: 'declare_and_support',
    permissions: ['emergency.declare', 'emergency.support'],
    defaultEnforced: false,
    reason: '非常災害を宣言する人がその宣言で開く支援（停電連絡）の閲覧も行えると、宣言が自分の閲覧のために使われえます（方針で適用を選びます）。',
    reasonEn:
      'Whoever declares an emergency should not also read under it (outage contact): a declaration could serve its declarer (enforced where policy says so).',
  },
};

export const DEFAULT_SOD_PAIRS: readonly SodPairId[] = SOD_PAIR_IDS.filter((id) => SOD_PAIRS[id].defaultEnforced);
export const DEFAULT_RECIPROCAL_DAYS = 90;

export const RECIPROCAL_REASON =
  'AさんがBさんの権限を承認し、BさんがAさんの権限を承認する「相互承認」は、第二承認者による確認を形だけのものにします。期間内の相互承認は認めず、別の承認者が承認します。';
export const RECIPROCAL_REASON_EN =
  'When A approves a grant to B and B approves one to A, the second person’s check is a formality: within the period, another approver must decide.';

/** What is enforced: the pairs, and the period of the reciprocal-approval rule in days (0: not enforced). */
export interface SodPolicy {
  readonly pairs: readonly IncompatiblePair[];
  readonly reciprocalDays: number;
}

export function sodPolicy(enforced: readonly SodPairId[], reciprocalDays: number): SodPolicy {
  return { pairs: SOD_PAIR_IDS.filter((id) => enforced.includes(id)).map((id) => SOD_PAIRS[id]), reciprocalDays };
}

export const DEFAULT_SOD_POLICY: SodPolicy = sodPolicy(DEFAULT_SOD_PAIRS, DEFAULT_RECIPROCAL_DAYS);

/**
 * GRIDWALL_SOD_PAIRS / `--pairs`: comma-separated pair IDs, or `none`. Returns the IDs, the parts that are
 * not pair IDs, or `empty` when nothing is named: only the word `none` turns the rule off (fail closed — an
 * empty variable is a slip, not a policy).
 */
export function parseSodPairs(text: string): { readonly ok: readonly SodPairId[] } | { readonly unknown: readonly string[] } | { readonly empty: true } {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return { empty: true };
  if (parts.length === 1 && parts[0] === 'none') return { ok: [] };
  const unknown = parts.filter((p) => !isSodPairId(p));
  return unknown.length > 0 ? { unknown } : { ok: parts.filter(isSodPairId) };
}

/** The enforced pair that `permissionId` would complete with one of `held`, with the held permission; or null. */
export function incompatibleWith(
  policy: SodPolicy,
  permissionId: string,
  held: readonly string[],
): { readonly pair: IncompatiblePair; readonly held: string } | null {
  for (const pair of policy.pairs) {
    const [a, b] = pair.permissions;
    const other = permissionId === a ? b : permissionId === b ? a : null;
    if (other !== null && held.includes(other)) return { pair, held: other };
  }
  return null;
}

/** One approval: a grant to `holder` approved by `approver` (people, not user IDs) at `at`. */
export interface Approval<Ref = unknown> {
  readonly holder: string;
  readonly approver: string;
  readonly at: Date;
  readonly permissionId: string;
  readonly ref: Ref;
}

/**
 * The earlier approval that makes `approval` reciprocal: one by `approval`'s holder of a grant to its approver,
 * at most `reciprocalDays` before it (and not after). Null when none, or when the rule is off.
 */
export function reciprocalOf<Ref>(policy: SodPolicy, approval: Approval, history: readonly Approval<Ref>[]): Approval<Ref> | null {
  if (policy.reciprocalDays <= 0 || approval.holder === approval.approver) return null;
  const t = approval.at.getTime();
  const from = t - policy.reciprocalDays * DAY_MS;
  let found: Approval<Ref> | null = null;
  for (const h of history) {
    const ht = h.at.getTime();
    if (h.holder !== approval.approver || h.approver !== approval.holder || ht < from || ht > t) continue;
    if (found === null || ht > found.at.getTime()) found = h;
  }
  return found;
}
