import { z } from 'zod';
import { AUTH_METHODS } from '../domain/actor.ts';
import { DUTIES, EMPLOYMENTS, SIDES } from '../domain/organization.ts';
import { PRINCIPAL_CLASSES } from '../domain/principal.ts';
import { PURPOSES } from '../domain/purpose.ts';
import { TERMINAL_SOURCES, TERMINAL_STANDINGS } from '../domain/terminal.ts';
import { Identifier, InstantOut, Labels, TerminalId } from './common.ts';
import { contract } from './schema.ts';

/**
 * Sessions: login (demo persona, password + TOTP), logout, who I am and what I may do
 * (src/api/session-routes.ts); how one may log in and single sign-on (src/api/oidc-routes.ts).
 */

/** What the console may offer this person: computed by the server, never decided in the browser. */
export const Abilities = z.object({
  purposes: z.array(z.object({ code: z.enum(PURPOSES), ...Labels.shape })).describe('the purposes this person may declare'),
  lookup: z.boolean(),
  searchByAddress: z.boolean(),
  searchByHolderName: z.array(z.enum(PURPOSES)).describe('purposes under which the person may search by holder name (empty: not at all)'),
  searchByPhone: z.array(z.enum(PURPOSES)).describe('purposes under which the person may search by phone (empty: not at all)'),
  viewChecklist: z.boolean(),
  viewAuditLog: z.boolean(),
  manageAccess: z.boolean().describe('people, terminals, tokens, campaigns (access.admin)'),
  approveGrants: z.boolean().describe('the approval queue (grants.approve)'),
  overseeGrants: z.boolean().describe("everyone's grants, campaigns and governance events (access.admin, grants.approve or audit.read)"),
  overseeTerminals: z.boolean().describe('the terminal registry and its reconciliation (access.admin or audit.read)'),
  declareEmergency: z.boolean().describe('declare, confirm, end or extend an emergency (emergency.declare)'),
  overseeEmergencies: z.boolean().describe('every declaration, the support register and the reviews (emergency.declare, access.admin or audit.read)'),
  reviewFindings: z.boolean().describe('sign off emergency reviews and read findings (audit.read)'),
  emergencySupport: z.boolean().describe('may read as emergency support inside a declared emergency (with a registration)'),
  askInquiries: z.boolean().describe("may ask the network operator (a retailer's person with customer.read)"),
  answerInquiries: z.boolean().describe("works the service centre's inquiry queue (inquiries.answer)"),
  viewEqualTreatment: z.boolean().describe('sees the equal-treatment figures of inquiries (inquiries.answer or audit.read)'),
});
export type Abilities = z.output<typeof Abilities>;

/** The person behind the session, as of now. */
export const Me = z.object({
  personId: z.string(),
  name: z.string(),
  userId: z.string(),
  terminalId: z.string().nullable(),
  terminalSource: z
    .enum(TERMINAL_SOURCES)
    .nullable()
    .describe("where the session's terminal came from: a device binding, a trusted proxy, or the person's own claim (a typed ID); null: none"),
  terminal: z.enum(TERMINAL_STANDINGS).describe("what the terminal registry makes of the session's terminal"),
  authMethod: z.enum(AUTH_METHODS),
  grants: z.array(z.object({ permissionId: z.string(), scopeOrganizationId: z.string().nullable(), until: InstantOut })).describe('grants in force'),
  principalClass: z.enum(PRINCIPAL_CLASSES),
  principalClassLabel: Labels,
  assignment: z
    .object({
      side: z.enum(SIDES),
      employment: z.enum(EMPLOYMENTS),
      organizationId: z.string(),
      organization: z.string().nullable(),
      office: z.string(),
      duty: z.enum(DUTIES),
      retailerCode: z.string().nullable(),
    })
    .nullable()
    .describe('the staff assignment in force; null when there is none'),
  abilities: Abilities,
});
export type Me = z.output<typeof Me>;

/** A demo login, as the demo generator (or a test fixture) stored it. */
export const Persona = z.object({
  key: z.string(),
  userId: z.string(),
  name: z.string(),
  side: z.enum(SIDES),
  principalClass: z.enum(PRINCIPAL_CLASSES),
  labelJa: z.string(),
  labelEn: z.string(),
  personId: z.string().optional(),
  organization: z.string().optional(),
  terminalId: z.string().nullable().optional().describe('the registered terminal the persona logs in from; absent or null from outside the registry'),
});
export type Persona = z.output<typeof Persona>;

/** What every login answers: the session's CSRF token (for state-changing calls) and who logged in. */
const Opened = z.object({ csrfToken: z.string(), me: Me });

export const personas = contract({ response: { 200: z.object({ personas: z.array(Persona) }) } });

export const personaLogin = contract({
  body: z.strictObject({ userId: Identifier, terminalId: TerminalId.optional() }),
  response: { 201: Opened },
});

export const passwordLogin = contract({
  body: z.strictObject({
    userId: Identifier,
    password: z.string().min(1).max(1024),
    // Loose on purpose: a malformed code is refused like a wrong one (401), not as a validation error.
    code: z.string().min(1).max(16).describe('the one-time code of the authenticator app'),
    terminalId: TerminalId.optional(),
  }),
  response: { 201: Opened },
});

/**
 * What ending a single sign-on session asks of the browser: go to the provider's logout (RP-Initiated Logout
 * 1.0; `state` comes back on the return to the login page), or tell the person the provider's session lives on.
 */
export const ProviderLogout = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('redirect'),
    url: z.string().describe("the provider's end_session_endpoint with id_token_hint, client_id, post_logout_redirect_uri and state"),
    state: z.string(),
  }),
  z.object({
    kind: z.enum(['unsupported', 'unavailable']).describe('unsupported: the provider publishes no end_session_endpoint; unavailable: it could not be reached'),
  }),
]);

/** Log out (here, or everywhere). */
export const logout = contract({
  response: {
    200: z.object({ providerLogout: ProviderLogout }).describe("a single sign-on session has ended: now the provider's"),
    204: z.null().describe('the session has ended (and the cookie is cleared)'),
  },
});

export const me = contract({ response: { 200: Me.extend({ csrfToken: z.string().nullable().describe("the session's CSRF token; null for an API token") }) } });

/** How one may log in on this server (for the login screen). */
export const authMethods = contract({
  response: { 200: z.object({ demo: z.boolean(), password: z.boolean(), oidc: z.object({ label: z.string(), loginUrl: z.string() }).nullable() }) },
});

/** Start a single sign-on: a browser navigation answered with a redirect (303), never JSON. */
export const oidcLogin = contract({ querystring: z.strictObject({ terminalId: TerminalId.optional() }), response: {} });

/**
 * Where the identity provider sends the browser back (a redirect, 303). Its query is the provider's
 * (code, state, iss, error …) and goes whole to the OpenID client, which refuses what it does not accept.
 */
export const oidcCallback = contract({ response: {} });
