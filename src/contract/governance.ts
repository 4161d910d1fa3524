import { z } from 'zod';
import { SIDES } from '../domain/organization.ts';
import { PERMISSION_IDS } from '../domain/permissions.ts';
import { SOD_PAIR_IDS } from '../domain/separation-of-duties.ts';
import { Identifier, IdentifierFilter, Day, InstantOut, RowId, page, text } from './common.ts';
import { contract } from './schema.ts';

/** Grants, their workflow, the permission catalog and the governance log (src/api/governance-routes.ts). */

export const GRANT_STATUSES = ['requested', 'approved', 'rejected', 'revoked'] as const;

/** The subjects the governance log can be filtered by over HTTP. */
export const GOVERNANCE_FILTER_SUBJECTS = ['grant', 'account', 'person', 'terminal', 'campaign', 'token'] as const;

export const Permission = z.object({
  id: z.enum(PERMISSION_IDS),
  ja: z.string(),
  en: z.string(),
  allowedSides: z.array(z.enum(SIDES)),
  scoped: z.boolean().describe('a grant of it names the organization whose people it applies to'),
  maxDays: z.int().describe('longest validity a grant of it may be given, in days'),
});
export type Permission = z.output<typeof Permission>;

export const Grant = z.object({
  id: z.int(),
  userId: z.string(),
  personId: z.string(),
  personName: z.string(),
  permissionId: z.string(),
  scopeOrganizationId: z.string().nullable(),
  status: z.enum(GRANT_STATUSES),
  reason: z.string(),
  requestedBy: z.string(),
  requestedAt: InstantOut,
  decidedBy: z.string().nullable(),
  decidedAt: InstantOut.nullable(),
  decisionComment: z.string().nullable(),
  expiresAt: InstantOut,
  revokedAt: InstantOut.nullable(),
  revokedBy: z.string().nullable(),
  revokeReason: z.string().nullable(),
  holderOrganizationId: z.string().nullable().describe("the holder's organization at the time of listing (null without an assignment in force)"),
  holderSide: z.string().nullable(),
});
export type Grant = z.output<typeof Grant>;

export const GovernanceEvent = z.object({
  id: z.int(),
  occurredAt: InstantOut,
  actorKind: z.string(),
  actorUserId: z.string().nullable(),
  actorPersonId: z.string().nullable(),
  action: z.string(),
  subjectType: z.string(),
  subjectId: z.string(),
  outcome: z.string(),
  rule: z.string().nullable(),
  details: z.unknown(),
});
export type GovernanceEvent = z.output<typeof GovernanceEvent>;

const GrantList = z.object({ grants: z.array(Grant) });
const GrantPath = z.object({ id: RowId });

export const permissionList = contract({ response: { 200: z.object({ permissions: z.array(Permission) }) } });

export const grantList = contract({
  querystring: z.strictObject({
    userId: IdentifierFilter.optional(),
    status: z.enum(GRANT_STATUSES).optional(),
    permissionId: IdentifierFilter.optional(),
    ...page(500, 200),
  }),
  response: { 200: GrantList },
});

export const grantQueue = contract({ response: { 200: GrantList } });

/** One incompatible pair of the separation-of-duties catalog, with its reason and whether policy enforces it. */
export const SeparationPair = z.object({
  id: z.enum(SOD_PAIR_IDS),
  permissions: z.array(z.enum(PERMISSION_IDS)).describe('the two permissions one person may not hold together'),
  ja: z.string().describe('why, in Japanese'),
  en: z.string().describe('why, in English'),
  enforced: z.boolean().describe('checked at request and approval (GRIDWALL_SOD_PAIRS)'),
});
export type SeparationPair = z.output<typeof SeparationPair>;

export const separationRules = contract({
  response: {
    200: z.object({
      pairs: z.array(SeparationPair).describe('rule incompatible_permissions, per pair'),
      reciprocal: z.object({
        rule: z.literal('reciprocal_approval'),
        days: z.int().describe('A may not approve a grant to B within this many days of B approving one to A (GRIDWALL_SOD_RECIPROCAL_DAYS)'),
        enforced: z.boolean(),
        ja: z.string(),
        en: z.string(),
      }),
    }),
  },
});

export const grantRequest = contract({
  body: z.strictObject({
    userId: Identifier,
    permissionId: Identifier,
    scopeOrganizationId: Identifier.optional(),
    reason: text(2, 500),
    expiresOn: Day.describe('last day in force (Japan time), inclusive'),
  }),
  response: { 201: Grant },
});

export const grantApprove = contract({ params: GrantPath, body: z.strictObject({ comment: text(0, 500).optional() }), response: { 200: Grant } });
export const grantReject = contract({ params: GrantPath, body: z.strictObject({ comment: text(1, 500) }), response: { 200: Grant } });
export const grantRevoke = contract({ params: GrantPath, body: z.strictObject({ reason: text(1, 500) }), response: { 200: Grant } });

export const governanceEvents = contract({
  querystring: z.strictObject({
    subjectType: z.enum(GOVERNANCE_FILTER_SUBJECTS).optional(),
    subjectId: z.string().max(100).optional(),
    ...page(500, 100),
  }),
  response: { 200: z.object({ events: z.array(GovernanceEvent) }) },
});
