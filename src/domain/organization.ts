import { memberOf, unreachable } from './closed-set.ts';

/**
 * Which side of the firewall a person acts for. `retail` is the affiliated retailer of the operator's own
 * group (or a contractor acting for it); `other_retailer` is any new entrant.
 */
export const SIDES = ['network', 'retail', 'other_retailer'] as const;
export type Side = (typeof SIDES)[number];
export const isSide = memberOf(SIDES);

/** The sides in words: the console's vocabulary, the server's messages and the exports all say them so. */
export const SIDE_LABELS: Readonly<Record<Side, { readonly ja: string; readonly en: string }>> = {
  network: { ja: '送配電', en: 'Network operator' },
  retail: { ja: '関係小売', en: 'Affiliated retailer' },
  other_retailer: { ja: '他の小売電気事業者', en: 'Other retailer' },
};

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
export const DUTIES = ['call_centre', 'service_centre', 'compliance', 'access_admin', 'retail_customer_service', 'retail_sales'] as const;
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
  /**
   * For a contractor company's staff: when the company was engaged by a client that gives this side and
   * retailer. The assignment counts only inside one of these periods, so a company's staff stop acting for
   * a client when the engagement ends, whatever HR has done since (review of issue 14). Absent for the staff
   * of the network operator and of retailers, who act for their own organization.
   */
  readonly engagedDuring?: readonly { readonly validFrom: Date; readonly validTo: Date | null }[];
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

/**
 * Which duties belong to which side. A network duty decides the purposes a network principal may declare; on a
 * retailer's side it means nothing, and a retail duty on the network side earns no network rights — either way
 * the assignment is a data error, so it is refused before it is stored.
 */
export const NETWORK_DUTIES: readonly Duty[] = ['call_centre', 'service_centre', 'compliance', 'access_admin'];

/**
 * A contractor company's engagement by a client organization over a period [validFrom, validTo). Staff of a
 * contractor company act for no one by themselves: the side and retailer they act for follow from the
 * client they are engaged by (the network operator → network; a retailer → that retailer).
 */
export interface ContractorEngagement {
  readonly contractorOrganizationId: string;
  readonly client: Organization;
  readonly validFrom: Date;
  /** Exclusive end; null while it holds. */
  readonly validTo: Date | null;
}

/** Whom a person acts for: a side and, off the network side, the retailer. */
export interface ActingFor {
  readonly side: Side;
  readonly retailerCode: string | null;
}

/**
 * Whom staff of an organization act for, following from the organization alone: the network operator's staff
 * for the network; a retailer's staff for that retailer, on the `retail` side when it is the affiliated
 * retailer and as `other_retailer` otherwise. Null for a contractor company, whose staff act for its clients.
 */
export function actingForOrganization(org: Organization, affiliatedCode: string | null): ActingFor | null {
  switch (org.kind) {
    case 'network_operator':
      return { side: 'network', retailerCode: null };
    case 'retailer':
      return org.retailerCode === null ? null : { side: org.retailerCode === affiliatedCode ? 'retail' : 'other_retailer', retailerCode: org.retailerCode };
    case 'contractor':
      return null;
    default:
      return unreachable(org.kind);
  }
}

/**
 * Everyone staff of `org` may act for at `at`: the organization itself, or for a contractor company each
 * client of an engagement in force (a contractor company may work for the network operator and a retailer
 * at once, with different staff).
 */
export function actingForOptions(org: Organization, engagements: readonly ContractorEngagement[], affiliatedCode: string | null, at: Date): ActingFor[] {
  if (org.kind !== 'contractor') {
    const own = actingForOrganization(org, affiliatedCode);
    return own === null ? [] : [own];
  }
  const out: ActingFor[] = [];
  for (const e of engagements) {
    if (e.contractorOrganizationId !== org.id || !inForce(e, at)) continue;
    const via = actingForOrganization(e.client, affiliatedCode);
    if (via !== null && !out.some((o) => o.side === via.side && o.retailerCode === via.retailerCode)) out.push(via);
  }
  return out;
}

/**
 * The retailer a person on `side` at `org` acts for when the request does not say: the one retailer the
 * organization (or, for a contractor company, its engagements on that side) gives, or null when there is none
 * or more than one to choose from (then the request must name it, and is checked against the options).
 */
export function derivedRetailer(
  side: Side,
  org: Organization,
  engagements: readonly ContractorEngagement[],
  affiliatedCode: string | null,
  at: Date,
): string | null {
  if (side === 'network') return null;
  const codes = new Set(
    actingForOptions(org, engagements, affiliatedCode, at)
      .filter((o) => o.side === side)
      .map((o) => o.retailerCode),
  );
  const [only] = codes;
  return codes.size === 1 && only !== undefined ? only : null;
}

/**
 * Why a staff assignment may not be stored. The first group compares it with its organization (issue 14: HR
 * re-pointed an affiliated-retail employee's retailer code at a rival, whose customers then read as "own");
 * the second is about the assignment on its own.
 */
export const ASSIGNMENT_PROBLEMS = [
  'employment_mismatch',
  'employee_side_mismatch',
  'contractor_not_engaged',
  'contractor_side_mismatch',
  'retailer_mismatch',
  'retailer_on_network_side',
  'retailer_missing',
  'side_retailer_mismatch',
  'duty_side_mismatch',
  'empty_period',
] as const;
export type AssignmentProblem = (typeof ASSIGNMENT_PROBLEMS)[number];
export const isAssignmentProblem = memberOf(ASSIGNMENT_PROBLEMS);

/** What an assignment is checked against besides its organization. */
export interface AssignmentContext {
  /** The affiliated retailer's code (null if none is configured: then nobody is on the `retail` side). */
  readonly affiliatedCode: string | null;
  /** Engagements of contractor companies; those of other organizations are ignored. */
  readonly engagements: readonly ContractorEngagement[];
}

/**
 * Checks the rules a staff assignment must satisfy before it is stored, in the order of
 * `ASSIGNMENT_PROBLEMS`; an empty list means it may be stored. The side and retailer must be what the
 * organization gives (an employee of a retailer acts for that retailer, on the side its affiliation decides),
 * or for a contractor company's staff what one of its engagements in force at the start gives. A contractor
 * company's staff are `contractor`s and everyone else's `employee`s.
 */
export function checkAssignment(a: StaffAssignment, org: Organization, ctx: AssignmentContext): AssignmentProblem[] {
  const problems: AssignmentProblem[] = [];
  if ((a.employment === 'contractor') !== (org.kind === 'contractor')) problems.push('employment_mismatch');
  if (org.kind === 'contractor') {
    const options = actingForOptions(org, ctx.engagements, ctx.affiliatedCode, a.validFrom);
    const onSide = options.filter((o) => o.side === a.side);
    if (options.length === 0) problems.push('contractor_not_engaged');
    else if (onSide.length === 0) problems.push('contractor_side_mismatch');
    else if (a.side !== 'network' && a.retailerCode !== null && !onSide.some((o) => o.retailerCode === a.retailerCode)) problems.push('retailer_mismatch');
  } else {
    const own = actingForOrganization(org, ctx.affiliatedCode);
    if (own !== null && own.side !== a.side) problems.push('employee_side_mismatch');
    else if (own !== null && a.side !== 'network' && a.retailerCode !== null && a.retailerCode !== own.retailerCode) problems.push('retailer_mismatch');
  }
  if (a.side === 'network' && a.retailerCode !== null) problems.push('retailer_on_network_side');
  if (a.side !== 'network' && a.retailerCode === null) problems.push('retailer_missing');
  if (
    a.retailerCode !== null &&
    ((a.side === 'retail' && a.retailerCode !== ctx.affiliatedCode) || (a.side === 'other_retailer' && a.retailerCode === ctx.affiliatedCode))
  ) {
    problems.push('side_retailer_mismatch');
  }
  if (NETWORK_DUTIES.includes(a.duty) !== (a.side === 'network')) problems.push('duty_side_mismatch');
  if (a.validTo !== null && a.validTo.getTime() <= a.validFrom.getTime()) problems.push('empty_period');
  return problems;
}
