import { memberOf } from './closed-set.ts';
import type { Side } from './organization.ts';

/**
 * Why a grant is wrong. The same codes serve live grants (issue #5) and legacy registries; the last two are
 * separation of duties (domain/separation-of-duties.ts, issue 20).
 */
export const GRANT_RULES = [
  'side_not_allowed',
  'self_grant',
  'unknown_user',
  'left_organization',
  'unknown_permission',
  'incompatible_permissions',
  'reciprocal_approval',
] as const;
export type GrantRule = (typeof GRANT_RULES)[number];

/**
 * The permission catalog of gridwall itself. Each permission names the sides that may ever hold it (F5: a
 * network-only permission in a list handed to retail staff). A grant that breaks this is refused when it is
 * requested and when it is approved, revoked when its holder moves side, and ignored by the firewall should it
 * ever be found in force anyway.
 */
/** What the grant rules need to know of a permission (the catalog's entries, or a legacy list's rows). */
export interface PermissionSpec {
  readonly id: string;
  readonly name: string;
  readonly allowedSides: readonly Side[];
}

export const PERMISSION_IDS = [
  'customer.read',
  'network.equipment',
  'audit.read',
  'grants.approve',
  'access.admin',
  'emergency.declare',
  'emergency.support',
  'inquiries.answer',
] as const;
export type PermissionId = (typeof PERMISSION_IDS)[number];
export const isPermissionId = memberOf(PERMISSION_IDS);

export interface CatalogEntry extends PermissionSpec {
  readonly id: PermissionId;
  readonly nameEn: string;
  readonly allowedSides: readonly Side[];
  /** A scoped grant names the organization whose people it applies to (e.g. who may approve for whom). */
  readonly scoped: boolean;
  /** Longest validity a grant of it may be given, in days. */
  readonly maxDays: number;
}

export const PERMISSION_CATALOG: Readonly<Record<PermissionId, CatalogEntry>> = {
  'customer.read': {
    id: 'customer.read',
    name: '需要家情報の照会',
    nameEn: 'Look up customer records',
    allowedSides: ['network', 'retail', 'other_retailer'],
    scoped: false,
    maxDays: 366,
  },
  'network.equipment': {
    id: 'network.equipment',
    name: '設備・保安情報の閲覧（送配電専用）',
    nameEn: 'Network equipment data (network only)',
    allowedSides: ['network'],
    scoped: false,
    maxDays: 366,
  },
  'audit.read': { id: 'audit.read', name: 'アクセスログの閲覧', nameEn: 'Read the access log', allowedSides: ['network'], scoped: false, maxDays: 366 },
  'grants.approve': { id: 'grants.approve', name: '権限付与の承認', nameEn: 'Approve grants', allowedSides: ['network'], scoped: true, maxDays: 366 },
  'access.admin': {
    id: 'access.admin',
    name: '人・端末・棚卸の管理',
    nameEn: 'Administer people, terminals and reviews',
    allowedSides: ['network'],
    scoped: false,
    maxDays: 366,
  },
  'emergency.declare': {
    id: 'emergency.declare',
    name: '非常災害の宣言・確認',
    nameEn: 'Declare or confirm an emergency',
    allowedSides: ['network'],
    scoped: false,
    maxDays: 366,
  },
  'emergency.support': {
    id: 'emergency.support',
    name: '非常災害時の支援（停電連絡）',
    nameEn: 'Emergency support (outage contact)',
    allowedSides: ['network', 'retail'],
    scoped: false,
    maxDays: 366,
  },
  'inquiries.answer': {
    id: 'inquiries.answer',
    name: '照会への回答（ネットワークサービスセンター）',
    nameEn: 'Answer inquiries (network service centre)',
    allowedSides: ['network'],
    scoped: false,
    maxDays: 366,
  },
};

export const CATALOG_SPECS: ReadonlyMap<string, PermissionSpec> = new Map(PERMISSION_IDS.map((id) => [id, PERMISSION_CATALOG[id]]));

/** A grant as an account holds it: approved, not revoked, with the instant it stops counting. */
export interface HeldGrant {
  readonly grantId: number;
  readonly permissionId: string;
  readonly scopeOrganizationId: string | null;
  readonly from: Date;
  /** Expiry, or an earlier recertification deadline left unanswered. */
  readonly until: Date;
}

/**
 * The grants that count at `at` for a holder on `side`: inside their period, of a known permission, and of a
 * permission that side may hold. A grant found in force on the wrong side (a data error, a missed move) is
 * ignored rather than trusted.
 */
export function grantsAt(held: readonly HeldGrant[], side: Side | null, at: Date): HeldGrant[] {
  const t = at.getTime();
  return held.filter((g) => {
    if (g.from.getTime() > t || g.until.getTime() <= t || side === null) return false;
    return isPermissionId(g.permissionId) && PERMISSION_CATALOG[g.permissionId].allowedSides.includes(side);
  });
}
