import { z } from 'zod';
import { TERMINAL_KINDS } from '../domain/organization.ts';
import type { TerminalFacts } from '../domain/terminal.ts';
import { CsvEncodingParam, Day, Days, Identifier, InstantOut, NewUserId, RowId, TerminalId, TokenId, page, text } from './common.ts';
import { contract } from './schema.ts';

/** People (accounts and lifecycle), terminals, service accounts and API tokens, recertification campaigns (src/api/admin-routes.ts). */

/** How a terminal is set, and the side of the site where it stands — the domain's `TerminalFacts`, as lists. */
export const TERMINAL_SETTINGS = ['network', 'retail'] as const satisfies readonly TerminalFacts['setting'][];
export const SITE_SIDES = ['network', 'retail', 'shared'] as const satisfies readonly TerminalFacts['siteSide'][];
// …and no member of the domain's unions is missing from them.
type Missing<All, Listed> = Exclude<All, Listed> extends never ? true : never;
export const terminalSetsComplete: [
  Missing<TerminalFacts['setting'], (typeof TERMINAL_SETTINGS)[number]>,
  Missing<TerminalFacts['siteSide'], (typeof SITE_SIDES)[number]>,
] = [true, true];

/**
 * What an API token may be used for (identity/api-tokens.ts's TOKEN_SCOPES, which the route checks against
 * this list at compile time and test/contract/contract.test.ts at run time).
 */
export const TOKEN_SCOPES = ['customer.read', 'scim'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const SWEEP_RULES = ['dormant', 'orphan'] as const;
export const REVIEW_DECISIONS = ['confirmed', 'revoked'] as const;

export const Account = z.object({
  userId: z.string(),
  personId: z.string(),
  personName: z.string(),
  createdAt: InstantOut,
  lastLoginAt: InstantOut.nullable(),
  disabledAt: InstantOut.nullable(),
  disabledReason: z.string().nullable(),
  provisionedBy: z.string(),
  assignment: z
    .object({ organizationId: z.string(), organizationName: z.string(), side: z.string(), duty: z.string(), office: z.string(), employment: z.string() })
    .nullable()
    .describe("the person's assignment in force; null when there is none"),
  grants: z.int().describe('approved grants of the account (in force or not)'),
  dormant: z.boolean(),
  orphan: z.boolean().describe('enabled, but no assignment in force: nobody a read could be attributed to'),
});
export type Account = z.output<typeof Account>;

export const Terminal = z.object({
  id: z.string(),
  organizationId: z.string(),
  organizationName: z.string(),
  office: z.string(),
  kind: z.enum(TERMINAL_KINDS),
  setting: z.enum(TERMINAL_SETTINGS),
  siteSide: z.enum(SITE_SIDES),
  shared: z
    .boolean()
    .describe(
      'used by several people in turn (a call centre’s shared PCs): single sign-on re-authenticates at each login; the default — false marks a personal PC',
    ),
  registeredAt: InstantOut,
  retiredAt: InstantOut.nullable(),
  lastUsedAt: InstantOut.nullable(),
  misplaced: z.boolean().describe('network-set but not standing at a network site'),
  unused: z.boolean().describe("not retired and not used for the report's number of days (or never)"),
});
export type Terminal = z.output<typeof Terminal>;

export const Token = z.object({
  id: z.string(),
  name: z.string(),
  userId: z.string(),
  serviceName: z.string(),
  ownerPersonId: z.string().nullable(),
  scopes: z.array(z.string()),
  status: z.string(),
  createdBy: z.string(),
  createdAt: InstantOut,
  decidedBy: z.string().nullable(),
  decidedAt: InstantOut.nullable(),
  expiresAt: InstantOut,
  revokedAt: InstantOut.nullable(),
  revokeReason: z.string().nullable(),
  lastUsedAt: InstantOut.nullable(),
});
export type Token = z.output<typeof Token>;

export const Campaign = z.object({
  id: z.int(),
  name: z.string(),
  createdBy: z.string(),
  createdAt: InstantOut,
  endsAt: InstantOut,
  items: z.int(),
  confirmed: z.int(),
  revoked: z.int(),
  open: z.int(),
});
export type Campaign = z.output<typeof Campaign>;

export const CampaignItem = z.object({
  campaignId: z.int(),
  grantId: z.int(),
  userId: z.string(),
  personId: z.string(),
  personName: z.string(),
  permissionId: z.string(),
  scopeOrganizationId: z.string().nullable(),
  holderOrganizationId: z.string().nullable(),
  reviewerUserId: z.string().nullable(),
  decision: z.enum(REVIEW_DECISIONS).nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: InstantOut.nullable(),
  comment: z.string().nullable(),
  grantExpiresAt: InstantOut,
});
export type CampaignItem = z.output<typeof CampaignItem>;

const Reconciliation = z.object({
  at: InstantOut,
  unusedDays: z.int(),
  terminals: z.int().describe('terminals in the registry'),
  misplaced: z.array(Terminal),
  unused: z.array(Terminal),
});

const TerminalPath = z.object({ id: TerminalId });
/** A path naming a terminal or token that the service looks up (and refuses) itself. */
const NamedPath = z.object({ id: z.string() });

export const accountList = contract({
  querystring: z.strictObject({ search: z.string().max(64).optional(), ...page(1000, 200) }),
  response: { 200: z.object({ dormantDays: z.int(), accounts: z.array(Account) }) },
});

export const accountSweep = contract({
  body: z.strictObject({ orphans: z.boolean().optional(), dryRun: z.boolean().optional() }),
  response: { 200: z.object({ dormantDays: z.int(), disabled: z.array(z.object({ userId: z.string(), rule: z.enum(SWEEP_RULES) })) }) },
});

export const terminalList = contract({
  querystring: z.strictObject({ unusedDays: Days.optional() }),
  response: { 200: z.object({ terminals: z.array(Terminal) }) },
});

export const terminalReconciliation = contract({
  querystring: z.strictObject({ unusedDays: Days.optional(), format: z.enum(['json', 'csv', 'xlsx']).optional(), encoding: CsvEncodingParam.optional() }),
  // With format=csv (UTF-8 with a BOM, or CP932) or xlsx the answer is a file for a spreadsheet, one line per finding.
  response: { 200: Reconciliation },
});

export const terminalSave = contract({
  params: TerminalPath,
  body: z.strictObject({
    organizationId: Identifier,
    office: text(1, 100),
    kind: z.enum(TERMINAL_KINDS),
    setting: z.enum(TERMINAL_SETTINGS),
    siteSide: z.enum(SITE_SIDES),
    shared: z
      .boolean()
      .optional()
      .describe('used by several people in turn (false: personal, one person’s PC); absent: true (shared) for a new terminal, unchanged for a registered one'),
    reason: text(1, 500)
      .optional()
      .describe(
        'why: kept with the request when the change waits for a second access administrator (into network-set at a network or at a retail or shared site)',
      ),
  }),
  response: {
    200: Terminal,
    202: z
      .object({ pending: z.literal(true), requestId: z.int(), terminalId: z.string() })
      .describe(
        'not applied: a change into network-set at a network site (opens network-only data) or at a retail or shared site (F1) is written only once a second access administrator approves the request (/api/terminal-requests)',
      ),
  },
});

export const terminalRetire = contract({ params: NamedPath, response: { 200: z.object({ id: z.string(), retired: z.literal(true) }) } });

export const tokenList = contract({ response: { 200: z.object({ tokens: z.array(Token) }) } });

export const serviceAccountCreate = contract({
  body: z.strictObject({ userId: NewUserId, name: text(1, 100), organizationId: Identifier.optional(), ownerPersonId: Identifier }),
  response: { 201: z.object({ userId: z.string(), personId: z.string() }) },
});

export const tokenDecide = contract({
  params: z.object({ id: TokenId }),
  response: { 200: z.object({ id: z.string(), status: z.enum(['approved', 'rejected']) }) },
});

export const tokenCreate = contract({
  body: z.strictObject({ userId: Identifier, name: text(1, 100), scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).meta({ uniqueItems: true }), expiresOn: Day }),
  response: { 201: z.object({ id: z.string(), token: z.string().describe('the secret: shown this once, never stored'), status: z.literal('pending') }) },
});

export const tokenRevoke = contract({ params: NamedPath, response: { 200: z.object({ id: z.string(), revoked: z.literal(true) }) } });

export const campaignList = contract({ response: { 200: z.object({ campaigns: z.array(Campaign) }) } });

export const campaignStart = contract({
  body: z.strictObject({ name: text(1, 200), endsOn: Day, permissionIds: z.array(z.string().max(64)).max(50).optional() }),
  response: { 201: Campaign },
});

export const campaignItems = contract({
  params: z.object({ id: RowId }),
  querystring: z.strictObject({ mine: z.boolean().optional() }),
  response: { 200: z.object({ items: z.array(CampaignItem) }) },
});

export const campaignDecide = contract({
  params: z.object({ id: RowId, grantId: RowId }),
  body: z.strictObject({ decision: z.enum(REVIEW_DECISIONS), comment: text(0, 500).optional() }),
  response: { 200: CampaignItem },
});
