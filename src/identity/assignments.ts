import {
  checkAssignment,
  isDuty,
  isEmployment,
  isOrganizationKind,
  isSide,
  type AssignmentProblem,
  type ContractorEngagement,
  type Organization,
} from '../domain/organization.ts';
import type { Queryable } from '../store/db.ts';

/**
 * The facts an assignment is judged by (its organization, the affiliated retailer, a contractor company's
 * engagements), read from the store once for SCIM and for the check of what is already stored.
 */

export async function organization(q: Queryable, id: string): Promise<Organization | null> {
  const { rows } = await q.query<{ id: string; name: string; kind: string; retailer_code: string | null }>(
    'SELECT id, name, kind, retailer_code FROM organizations WHERE id = $1',
    [id],
  );
  const r = rows[0];
  return r === undefined || !isOrganizationKind(r.kind) ? null : { id: r.id, name: r.name, kind: r.kind, retailerCode: r.retailer_code };
}

/** The affiliated retailer's code (null when none is configured). */
export async function affiliatedCode(q: Queryable): Promise<string | null> {
  const { rows } = await q.query<{ code: string }>('SELECT code FROM retailers WHERE affiliated');
  return rows[0]?.code ?? null;
}

/** A contractor company's engagements (all periods; the domain picks those in force) with their clients. */
export async function engagementsOf(q: Queryable, contractorId: string): Promise<ContractorEngagement[]> {
  const { rows } = await q.query<{
    client_id: string;
    client_name: string;
    client_kind: string;
    client_retailer: string | null;
    valid_from: Date | string;
    valid_to: Date | string | null;
  }>(
    `SELECT o.id AS client_id, o.name AS client_name, o.kind AS client_kind, o.retailer_code AS client_retailer, e.valid_from, e.valid_to
       FROM contractor_engagements e JOIN organizations o ON o.id = e.client_organization_id
      WHERE e.contractor_organization_id = $1 ORDER BY e.valid_from`,
    [contractorId],
  );
  return rows.flatMap((r) =>
    isOrganizationKind(r.client_kind)
      ? [
          {
            contractorOrganizationId: contractorId,
            client: { id: r.client_id, name: r.client_name, kind: r.client_kind, retailerCode: r.client_retailer },
            validFrom: new Date(r.valid_from),
            validTo: r.valid_to === null ? null : new Date(r.valid_to),
          },
        ]
      : [],
  );
}

export interface AssignmentFinding {
  readonly personId: string;
  readonly userIds: readonly string[];
  readonly organizationId: string;
  readonly side: string;
  readonly retailerCode: string | null;
  readonly validFrom: string;
  readonly problems: readonly AssignmentProblem[];
}

/**
 * Staff assignments in force at `at` that the assignment rules refuse (issue 14 review): rows stored before
 * the rules existed, or written past them, keep acting until someone looks. A contractor's assignment is
 * judged against its company's engagements at `at` (not at its start), so one whose engagement has ended is
 * listed too. Service accounts' system identities are placed by gridwall itself and judged the same way.
 */
export async function assignmentsBreakingRules(q: Queryable, at: Date): Promise<AssignmentFinding[]> {
  const { rows } = await q.query<{
    person_id: string;
    organization_id: string;
    employment: string;
    side: string;
    retailer_code: string | null;
    office: string;
    duty: string;
    valid_from: Date | string;
    valid_to: Date | string | null;
    user_ids: string[] | null;
  }>(
    `SELECT s.person_id, s.organization_id, s.employment, s.side, s.retailer_code, s.office, s.duty, s.valid_from, s.valid_to,
            (SELECT array_agg(a.user_id ORDER BY a.user_id) FROM accounts a WHERE a.person_id = s.person_id) AS user_ids
       FROM staff_assignments s WHERE s.valid_from <= $1 AND (s.valid_to IS NULL OR $1 < s.valid_to) ORDER BY s.person_id`,
    [at],
  );
  const affiliated = await affiliatedCode(q);
  const orgs = new Map<string, { org: Organization | null; engagements: ContractorEngagement[] }>();
  const out: AssignmentFinding[] = [];
  for (const r of rows) {
    let facts = orgs.get(r.organization_id);
    if (facts === undefined) {
      const org = await organization(q, r.organization_id);
      facts = { org, engagements: org?.kind === 'contractor' ? await engagementsOf(q, org.id) : [] };
      orgs.set(r.organization_id, facts);
    }
    if (facts.org === null || !isSide(r.side) || !isEmployment(r.employment) || !isDuty(r.duty)) continue;
    const problems = checkAssignment(
      {
        personId: r.person_id,
        organizationId: r.organization_id,
        employment: r.employment,
        side: r.side,
        retailerCode: r.retailer_code,
        office: r.office,
        duty: r.duty,
        validFrom: at,
        validTo: null,
      },
      facts.org,
      { affiliatedCode: affiliated, engagements: facts.engagements },
    );
    if (problems.length > 0) {
      out.push({
        personId: r.person_id,
        userIds: r.user_ids ?? [],
        organizationId: r.organization_id,
        side: r.side,
        retailerCode: r.retailer_code,
        validFrom: new Date(r.valid_from).toISOString(),
        problems,
      });
    }
  }
  return out;
}
