import { memberOf } from './closed-set.ts';

/**
 * Which side of the firewall a person acts for. `retail` is the affiliated retailer of the operator's own
 * group (or a contractor acting for it); `other_retailer` is any new entrant.
 */
export const SIDES = ['network', 'retail', 'other_retailer'] as const;
export type Side = (typeof SIDES)[number];
export const isSide = memberOf(SIDES);

export const EMPLOYMENTS = ['employee', 'contractor'] as const;
export type Employment = (typeof EMPLOYMENTS)[number];
export const isEmployment = memberOf(EMPLOYMENTS);

/** What an organization is. A contractor company may have staff acting for different sides. */
export const ORGANIZATION_KINDS = ['network_operator', 'retailer', 'contractor'] as const;
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number];
export const isOrganizationKind = memberOf(ORGANIZATION_KINDS);

/**
 * The duty of a staff assignment. Network duties decide which purposes a person may declare; retail duties
 * are all treated alike by the firewall (own customers only).
 */
export const DUTIES = [
  'call_centre',
  'service_centre',
  'compliance',
  'access_admin',
  'retail_customer_service',
  'retail_sales',
] as const;
export type Duty = (typeof DUTIES)[number];
export const isDuty = memberOf(DUTIES);

export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly kind: OrganizationKind;
  /** Set for retailers: the retailer code the organization trades under. */
  readonly retailerCode: string | null;
}

export interface Retailer {
  readonly code: string;
  readonly name: string;
  /** True for the one retailer of the operator's own group (関係小売電気事業者). */
  readonly affiliated: boolean;
}

export interface Person {
  readonly id: string;
  readonly name: string;
}

/**
 * A person's employment at an organization over a period, acting for one side. A transfer is a new
 * assignment; a person has at most one assignment in force at any moment.
 */
export interface StaffAssignment {
  readonly personId: string;
  readonly organizationId: string;
  readonly employment: Employment;
  readonly side: Side;
  /** The retailer a retail-side or other-retailer person acts for. Null for the network side. */
  readonly retailerCode: string | null;
  readonly office: string;
  readonly duty: Duty;
  readonly validFrom: Date;
  /** Exclusive end; null while it holds. */
  readonly validTo: Date | null;
}

export const TERMINAL_KINDS = ['dedicated', 'virtual'] as const;
export type TerminalKind = (typeof TERMINAL_KINDS)[number];

export interface Terminal {
  readonly id: string;
  readonly organizationId: string;
  readonly office: string;
  readonly kind: TerminalKind;
  /** How a legacy system would treat it. gridwall never grants by it; it is kept for reconciliation. */
  readonly setting: 'network' | 'retail';
}

/** Whether a period [from, to) contains the instant. */
export function inForce(period: { validFrom: Date; validTo: Date | null }, at: Date): boolean {
  return period.validFrom.getTime() <= at.getTime() && (period.validTo === null || at.getTime() < period.validTo.getTime());
}

export type AssignmentProblem = 'employee_side_mismatch' | 'retailer_missing' | 'retailer_on_network_side' | 'empty_period';

/** Checks the rules a staff assignment must satisfy before it is stored. */
export function checkAssignment(a: StaffAssignment, org: Organization, affiliatedCode: string): AssignmentProblem[] {
  const problems: AssignmentProblem[] = [];
  if (a.validTo !== null && a.validTo.getTime() <= a.validFrom.getTime()) problems.push('empty_period');
  if (a.side === 'network' && a.retailerCode !== null) problems.push('retailer_on_network_side');
  if (a.side !== 'network' && a.retailerCode === null) problems.push('retailer_missing');
  if (a.employment === 'employee') {
    const orgSide: Side | null =
      org.kind === 'network_operator' ? 'network' : org.kind === 'retailer' ? (org.retailerCode === affiliatedCode ? 'retail' : 'other_retailer') : null;
    if (orgSide !== null && orgSide !== a.side) problems.push('employee_side_mismatch');
  }
  return problems;
}
