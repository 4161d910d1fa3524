import { memberOf, unreachable } from './closed-set.ts';
import { inForce, type Duty, type StaffAssignment } from './organization.ts';
import type { Purpose } from './purpose.ts';

/**
 * The classes of principal the firewall distinguishes. A principal's class is derived from the person's
 * staff assignment in force at the moment of the read — never from the terminal.
 */
export const PRINCIPAL_CLASSES = [
  'network_call_centre',
  'network_service_centre',
  'network_compliance',
  'network_access_admin',
  'affiliated_retail',
  'other_retailer',
  'retailer_system',
  'unassigned',
] as const;
export type PrincipalClass = (typeof PRINCIPAL_CLASSES)[number];
export const isPrincipalClass = memberOf(PRINCIPAL_CLASSES);

/** Classes that act for a retailer: the ones the firewall exists to keep away from rivals' data. */
export const RETAIL_CLASSES: readonly PrincipalClass[] = ['affiliated_retail', 'other_retailer', 'retailer_system'];

export const PRINCIPAL_CLASS_LABELS: Readonly<Record<PrincipalClass, { ja: string; en: string }>> = {
  network_call_centre: { ja: '送配電：託送コールセンター', en: 'Network: call centre' },
  network_service_centre: { ja: '送配電：ネットワークサービスセンター', en: 'Network: service centre' },
  network_compliance: { ja: '送配電：行為規制管理', en: 'Network: compliance' },
  network_access_admin: { ja: '送配電：アクセス管理', en: 'Network: access administration' },
  affiliated_retail: { ja: '関係小売電気事業者', en: 'Affiliated retailer' },
  other_retailer: { ja: '他の小売電気事業者', en: 'Other retailer' },
  retailer_system: { ja: '小売電気事業者のシステム（APIトークン）', en: "A retailer's system (API token)" },
  unassigned: { ja: '有効な所属なし', en: 'No assignment in force' },
};

/** Everything about the person that the firewall may use, as of one instant. */
export interface PrincipalFacts {
  readonly personId: string;
  readonly principalClass: PrincipalClass;
  /** The assignment in force, or null (then the class is `unassigned`). */
  readonly assignment: StaffAssignment | null;
}

function classOf(a: StaffAssignment): PrincipalClass {
  switch (a.side) {
    case 'retail':
      return 'affiliated_retail';
    case 'other_retailer':
      return 'other_retailer';
    case 'network':
      return networkClass(a.duty);
    default:
      return unreachable(a.side);
  }
}

function networkClass(duty: Duty): PrincipalClass {
  switch (duty) {
    case 'call_centre':
      return 'network_call_centre';
    case 'service_centre':
      return 'network_service_centre';
    case 'compliance':
      return 'network_compliance';
    case 'access_admin':
      return 'network_access_admin';
    case 'retail_customer_service':
    case 'retail_sales':
      // A retail duty on the network side is a data error; it earns no network rights.
      return 'unassigned';
    default:
      return unreachable(duty);
  }
}

/**
 * Derives the principal at an instant from the person's assignments over time. A system (the identity of
 * a service account, reached only through an API token) placed at a retailer is a `retailer_system`:
 * its retailer's own customers for its purposes, never emergency support, never a network duty.
 */
export function principalAt(personId: string, assignments: readonly StaffAssignment[], at: Date, identity: 'human' | 'system' = 'human'): PrincipalFacts {
  // A contractor's assignment counts only while its company is engaged for that side and retailer.
  const current =
    assignments.find((a) => a.personId === personId && inForce(a, at) && (a.engagedDuring === undefined || a.engagedDuring.some((e) => inForce(e, at)))) ??
    null;
  if (identity === 'system') {
    const placed = current !== null && current.side !== 'network' && current.retailerCode !== null;
    return { personId, principalClass: placed ? 'retailer_system' : 'unassigned', assignment: placed ? current : null };
  }
  return { personId, principalClass: current === null ? 'unassigned' : classOf(current), assignment: current };
}

/** The purposes a principal class may declare. Anything else masks every non-public field. */
export const PERMITTED_PURPOSES: Readonly<Record<PrincipalClass, readonly Purpose[]>> = {
  network_call_centre: ['customer_inquiry', 'outage_response', 'switching_support', 'wheeling_billing', 'meter_reading'],
  network_service_centre: ['customer_inquiry', 'outage_response', 'network_construction', 'meter_reading', 'switching_support', 'wheeling_billing'],
  network_compliance: ['audit_review'],
  network_access_admin: ['audit_review'],
  affiliated_retail: ['own_customer_service', 'switching_support', 'emergency_support'],
  other_retailer: ['own_customer_service', 'switching_support'],
  retailer_system: ['own_customer_service', 'switching_support'],
  unassigned: [],
};
