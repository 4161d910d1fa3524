import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { raiseFinding } from '../../src/analysis/findings.ts';
import { DATA_ROUTES } from '../../src/firewall/firewall.ts';
import type { Db } from '../../src/store/db.ts';
import { seededApp, tryLogin, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * A hidden menu is not access control (issue 14). Every route the server has — enumerated from its own
 * OpenAPI document and its router, not from a list kept here — is called anonymously and as every fixture
 * person, and must answer each as the table below says: 401 `not_authenticated` without a session (except
 * the public routes), 403 with the documented refusal for a person who may not use it, and not a refusal
 * for a person who may. A route without an entry in the table fails the test, and so does an entry for a
 * route that no longer exists.
 *
 * The same calls show which routes reach the firewall: exactly those in DATA_ROUTES (which `gridwall
 * verify` walks) may add to the access log, so a new route that reads customer data without being listed
 * fails here — whatever its OpenAPI tags say.
 */

const HOUR = 3_600_000;
const iso = (hours: number) => new Date(NOW.getTime() + hours * HOUR).toISOString();

// ---------------------------------------------------------------------------------------------------------
// Who holds what at NOW (seedFixture + seedEmergencyRoles), written out. The console's abilities (/api/me)
// must agree with it (first test), and the rules of the route table are read against it.
// ---------------------------------------------------------------------------------------------------------

const ABILITIES = [
  'lookup',
  'viewChecklist',
  'viewAuditLog',
  'manageAccess',
  'approveGrants',
  'overseeGrants',
  'declareEmergency',
  'overseeEmergencies',
  'reviewFindings',
  'emergencySupport',
  'askInquiries',
  'answerInquiries',
  'viewEqualTreatment',
] as const;
type Ability = (typeof ABILITIES)[number];

interface Facts {
  readonly permissions: readonly string[];
  readonly abilities: readonly Ability[];
}

const FACTS: Readonly<Record<string, Facts>> = {
  [USERS.callCentre]: { permissions: ['customer.read', 'emergency.declare'], abilities: ['lookup', 'declareEmergency', 'overseeEmergencies'] },
  [USERS.serviceCentre]: {
    permissions: ['customer.read', 'emergency.declare', 'inquiries.answer', 'network.equipment'],
    abilities: ['lookup', 'declareEmergency', 'overseeEmergencies', 'answerInquiries', 'viewEqualTreatment'],
  },
  [USERS.compliance]: {
    permissions: ['audit.read', 'customer.read', 'grants.approve'],
    abilities: ['lookup', 'viewChecklist', 'viewAuditLog', 'approveGrants', 'overseeGrants', 'overseeEmergencies', 'reviewFindings', 'viewEqualTreatment'],
  },
  [USERS.admin]: {
    permissions: ['access.admin', 'audit.read', 'grants.approve'],
    abilities: [
      'lookup',
      'viewChecklist',
      'viewAuditLog',
      'manageAccess',
      'approveGrants',
      'overseeGrants',
      'overseeEmergencies',
      'reviewFindings',
      'viewEqualTreatment',
    ],
  },
  // grants.approve for the affiliated retailer's people only (scope org-a0001).
  [USERS.admin2]: { permissions: ['grants.approve'], abilities: ['lookup', 'viewChecklist', 'approveGrants', 'overseeGrants'] },
  [USERS.retail]: { permissions: ['customer.read', 'emergency.support'], abilities: ['lookup', 'emergencySupport', 'askInquiries'] },
  [USERS.retailContractor]: { permissions: ['customer.read', 'emergency.support'], abilities: ['lookup', 'emergencySupport', 'askInquiries'] },
  [USERS.otherRetailer]: { permissions: ['customer.read'], abilities: ['lookup', 'askInquiries'] },
  // Left in 2022: grants still in the table count for nothing without a side.
  [USERS.leaver]: { permissions: [], abilities: [] },
  // Moved to the affiliated retailer in 2025: the network-only grant left behind counts for nothing.
  [USERS.mover]: { permissions: ['customer.read'], abilities: ['lookup', 'askInquiries'] },
};

const PERSONS: readonly string[] = Object.values(USERS);

interface Rule {
  readonly text: string;
  readonly may: (userId: string) => boolean;
}
const facts = (u: string): Facts => FACTS[u] ?? assert.fail(`no facts for ${u}`);
const can = (a: Ability): Rule => ({ text: a, may: (u) => facts(u).abilities.includes(a) });
const holding = (p: string): Rule => ({ text: p, may: (u) => facts(u).permissions.includes(p) });
const is = (userId: string, why: string): Rule => ({ text: `${userId} (${why})`, may: (u) => u === userId });
const anyOf = (...rules: Rule[]): Rule => ({ text: rules.map((r) => r.text).join(' or '), may: (u) => rules.some((r) => r.may(u)) });
const but = (rule: Rule, except: Rule): Rule => ({ text: `${rule.text}, not ${except.text}`, may: (u) => rule.may(u) && !except.may(u) });

// ---------------------------------------------------------------------------------------------------------
// The route table.
// ---------------------------------------------------------------------------------------------------------

interface Ctx {
  readonly db: Db;
  /** Calls the app as a person (for preparing state), failing on anything but 2xx. */
  as(userId: string, method: string, url: string, payload?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A number not used before in this run (unique names and IDs). */
  next(): number;
}

interface Call {
  readonly url: string;
  /** A JSON body, or a text body sent with `contentType`. */
  readonly payload?: Record<string, unknown> | string;
  readonly contentType?: string;
}

interface Expectation {
  /** `public`: no session needed; `session`: any person logged in; `token`: API tokens only, no person; or a rule. */
  readonly who: 'public' | 'session' | 'token' | Rule;
  /** The request, with plausible path parameters and body; may prepare state for this one call. */
  readonly call: (ctx: Ctx) => Call | Promise<Call>;
  /** Statuses a permitted caller may get (default: any 2xx). */
  readonly ok?: readonly number[];
  /** The error code of the 403 for a person who may not (default `forbidden`; null: not the API's error format). */
  readonly refusal?: string | null;
  /** The error code of the 401 without a session (default `not_authenticated`; null: not the API's error format). */
  readonly anonymous?: string | null;
  /** The call ends the caller's session(s). */
  readonly endsSession?: boolean;
}

const fixed = (url: string, payload?: Record<string, unknown>) => () => (payload === undefined ? { url } : { url, payload });

/** A device binding to the call centre's (network-site) terminal awaiting confirmation, registered by u-admin2. */
async function pendingDevice(ctx: Ctx): Promise<number> {
  const { rows } = await ctx.db.query<{ id: string }>(
    `INSERT INTO terminal_devices (terminal_id, secret_sha256, label, method, enrolled_at, enrolled_by, issued_by, issued_by_person)
     VALUES ($1, sha256(convert_to($2, 'UTF8')), 'probe', 'browser', $3, 'u-admin2', 'u-admin2', 'p-admin2') RETURNING id`,
    [TERMINALS.CC, `route-access-pending-${ctx.next()}`, NOW],
  );
  return Number(rows[0]?.id);
}

/** A registration of a network-set terminal at a retail site awaiting a second administrator, asked by u-admin2. */
async function pendingTerminalRequest(ctx: Ctx): Promise<number> {
  const { rows } = await ctx.db.query<{ id: string }>(
    `INSERT INTO terminal_requests (terminal_id, organization_id, office, kind, setting, site_side, registered, requested_at, requested_by, requested_by_person)
     VALUES ($1, 'org-a0001', '仙台営業所', 'dedicated', 'network', 'retail', false, $2, 'u-admin2', 'p-admin2') RETURNING id`,
    [`T-REQ-${ctx.next()}`, NOW],
  );
  return Number(rows[0]?.id);
}

/** A pending request of emergency.support for the affiliated retailer's agent, asked by the agent. */
async function pendingGrant(ctx: Ctx): Promise<number> {
  const { rows } = await ctx.db.query<{ id: string }>(
    `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, expires_at)
     VALUES ('u-retail', 'emergency.support', 'requested', '停電連絡の支援', 'u-retail', 'p-retail', $1, '2027-03-01') RETURNING id`,
    [NOW],
  );
  return Number(rows[0]?.id);
}

/** An approved grant of emergency.support to the affiliated retailer's agent, approved by `decidedBy`. */
async function approvedGrant(ctx: Ctx, decidedBy: { userId: string; personId: string }): Promise<number> {
  const { rows } = await ctx.db.query<{ id: string }>(
    `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
     VALUES ('u-retail', 'emergency.support', 'approved', '停電連絡の支援', 'u-admin', 'p-admin', $1, $2, $3, $1, '2027-03-01') RETURNING id`,
    [NOW, decidedBy.userId, decidedBy.personId],
  );
  return Number(rows[0]?.id);
}

const AREA = [{ kind: 'area_code', areaCode: '02' }];
const declare = async (ctx: Ctx) =>
  String((await ctx.as(USERS.callCentre, 'POST', '/api/emergencies', { areas: AREA, startsAt: iso(0), plannedEndAt: iso(24), reason: '台風第10号' }))['id']);
const declareConfirmed = async (ctx: Ctx) => {
  const id = await declare(ctx);
  await ctx.as(USERS.serviceCentre, 'POST', `/api/emergencies/${id}/confirm`, {});
  return id;
};
const finding = (ctx: Ctx) =>
  raiseFinding(ctx.db, {
    rule: 'probe',
    severity: 'low',
    occurredAt: NOW,
    detectedAt: NOW,
    source: 'analysis',
    subjectPersonId: 'p-other',
    subjectUserId: USERS.otherRetailer,
    summary: '検査用',
    evidence: {},
  });

/** An inquiry of the other retailer's agent (R0002) about R0003's customer, with consent; `queued` leaves an item to the service centre. */
const INQUIRY = (queued: boolean) => ({
  caseType: 'switching',
  supplyPointId: SP.R3,
  items: queued ? ['contracted_capacity', 'equipment'] : ['contracted_capacity'],
  consent: { customerName: '株式会社青葉精工', method: 'recorded_call', givenAt: iso(-24), reference: 'CALL-0042', validUntil: iso(24 * 30) },
});
/** An open inquiry of the other retailer's agent, stored as the service leaves it (made without a read, so the route under test is the only one logging). */
const inquiryOf = async (ctx: Ctx) => {
  const id = `INQ-9${String(ctx.next()).padStart(5, '0')}`;
  await ctx.db.query(
    `INSERT INTO inquiries (id, case_type, supply_point_id, items, channel, retailer_code, requested_by, requested_by_person, consent_customer_name, consent_method,
        consent_given_at, consent_reference, consent_valid_until, consent_state, at_once, queued, status, created_at, due_at)
     VALUES ($1, 'switching', $2, '{contracted_capacity,equipment}', 'retailer', 'R0002', 'u-other', 'p-other', '株式会社青葉精工', 'recorded_call', $3, 'CALL-0042', $4,
        'valid', '{contracted_capacity}', '{equipment}', 'open', $5, $6)`,
    [id, SP.R3, iso(-24), iso(720), iso(0), iso(24)],
  );
  return id;
};
const askedBack = async (ctx: Ctx) => {
  const id = await inquiryOf(ctx);
  await ctx.as(USERS.serviceCentre, 'POST', `/api/inquiries/${id}/ask-back`, { question: '設備の所在を教えてください' });
  return id;
};
const asker = can('askInquiries');
const requester = is(USERS.otherRetailer, 'the requester');
const inquiryCsv = `case_type,supply_point_id,items,consent_customer_name,consent_method,consent_given_at,consent_reference,consent_valid_until\r\nswitching,${SP.R3},contracted_capacity,株式会社青葉精工,recorded_call,${iso(-24)},CALL-0042,${iso(720)}\r\n`;

const ROUTES: Readonly<Record<string, Expectation>> = {
  // Public: logging in, and what the login screen and the console need before anyone is logged in.
  'GET /api/health': { who: 'public', call: fixed('/api/health') },
  'GET /api/health/live': { who: 'public', call: fixed('/api/health/live') },
  'GET /api/health/ready': { who: 'public', call: fixed('/api/health/ready') },
  'GET /api/openapi.json': { who: 'public', call: fixed('/api/openapi.json') },
  'GET /api/vocabulary': { who: 'public', call: fixed('/api/vocabulary') },
  'GET /api/auth/methods': { who: 'public', call: fixed('/api/auth/methods') },
  'GET /api/personas': { who: 'public', call: fixed('/api/personas') },
  'POST /api/session': { who: 'public', call: fixed('/api/session', { userId: USERS.otherRetailer }) },
  // One 401 login_failed for every kind of wrong; no local account in the fixture.
  'POST /api/session/password': {
    who: 'public',
    call: fixed('/api/session/password', { userId: USERS.callCentre, password: 'wrong password', code: '000000' }),
    ok: [401],
  },
  // Single sign-on is not configured in the test app: 404 oidc_disabled, for everyone alike.
  'GET /api/auth/oidc/login': { who: 'public', call: fixed('/api/auth/oidc/login'), ok: [404] },
  'GET /api/auth/oidc/callback': { who: 'public', call: fixed('/api/auth/oidc/callback?code=x&state=y'), ok: [404] },

  // Any person with a session.
  'GET /api/me': { who: 'session', call: fixed('/api/me') },
  'DELETE /api/session': { who: 'session', call: fixed('/api/session'), endsSession: true },
  'POST /api/session/logout-everywhere': { who: 'session', call: fixed('/api/session/logout-everywhere'), endsSession: true },
  'GET /api/permissions': { who: 'session', call: fixed('/api/permissions') },
  // The separation-of-duties rules: what anyone asking for a grant may be refused under.
  'GET /api/grants/separation-rules': { who: 'session', call: fixed('/api/grants/separation-rules') },
  // Empty for a person holding no grants.approve: a list, not a refusal.
  'GET /api/grants/queue': { who: 'session', call: fixed('/api/grants/queue') },
  'GET /api/emergencies/active': { who: 'session', call: fixed('/api/emergencies/active') },
  // The home screen: anyone; each count is left out for whoever may not open its page (test/api/home.test.ts).
  'GET /api/home': { who: 'session', call: fixed('/api/home') },

  // Customer data: the grant customer.read in force (the `lookup` menu is shown to more people than that).
  'GET /api/supply-points/{id}': {
    who: holding('customer.read'),
    call: fixed(`/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`),
    refusal: 'permission_not_granted',
  },
  'GET /api/supply-points': {
    who: holding('customer.read'),
    call: fixed('/api/supply-points?purpose=customer_inquiry&address=仙台市'),
    refusal: 'permission_not_granted',
  },

  'GET /api/policy/checklist': { who: can('viewChecklist'), call: fixed('/api/policy/checklist') },

  // Inquiries: a retailer's people ask; the service centre answers; the requester follows and reads the answer.
  'POST /api/inquiries': { who: asker, call: fixed('/api/inquiries', INQUIRY(false)), refusal: 'inquiry_refused' },
  'POST /api/inquiries/batch': { who: asker, call: fixed('/api/inquiries/batch', { inquiries: [INQUIRY(false), INQUIRY(true)] }), refusal: 'inquiry_refused' },
  'POST /api/inquiries/batch.csv': {
    who: asker,
    call: () => ({ url: '/api/inquiries/batch.csv', payload: inquiryCsv, contentType: 'text/csv' }),
    refusal: 'inquiry_refused',
  },
  'GET /api/inquiries': { who: 'session', call: fixed('/api/inquiries') },
  'GET /api/inquiries/equal-treatment': { who: can('viewEqualTreatment'), call: fixed('/api/inquiries/equal-treatment'), refusal: 'inquiry_refused' },
  'POST /api/inquiries/direct': {
    who: holding('inquiries.answer'),
    call: fixed('/api/inquiries/direct', {
      channel: 'customer',
      caseType: 'move_in',
      supplyPointId: SP.R3,
      items: ['contracted_capacity'],
      caller: '青葉精工 総務部',
      identityCheck: 'bill_details',
    }),
    refusal: 'inquiry_refused',
  },
  'GET /api/inquiries/{id}': {
    who: anyOf(requester, holding('inquiries.answer'), holding('audit.read')),
    call: async (ctx) => ({ url: `/api/inquiries/${await inquiryOf(ctx)}` }),
    refusal: 'inquiry_refused',
  },
  'GET /api/inquiries/{id}/answer': {
    who: requester,
    call: async (ctx) => ({ url: `/api/inquiries/${await inquiryOf(ctx)}/answer` }),
    refusal: 'inquiry_refused',
  },
  'POST /api/inquiries/{id}/release': {
    who: holding('inquiries.answer'),
    call: async (ctx) => ({ url: `/api/inquiries/${await inquiryOf(ctx)}/release`, payload: { items: ['equipment'] } }),
    refusal: 'inquiry_refused',
  },
  'POST /api/inquiries/{id}/ask-back': {
    who: holding('inquiries.answer'),
    call: async (ctx) => ({ url: `/api/inquiries/${await inquiryOf(ctx)}/ask-back`, payload: { question: '設備の所在は' } }),
    refusal: 'inquiry_refused',
  },
  'POST /api/inquiries/{id}/refuse': {
    who: holding('inquiries.answer'),
    call: async (ctx) => ({ url: `/api/inquiries/${await inquiryOf(ctx)}/refuse`, payload: { reason: '同意書の写しが判読できません' } }),
    refusal: 'inquiry_refused',
  },
  'POST /api/inquiries/{id}/reply': {
    who: requester,
    call: async (ctx) => ({ url: `/api/inquiries/${await askedBack(ctx)}/reply`, payload: { text: '屋外の受電設備です' } }),
    refusal: 'inquiry_refused',
  },
  'POST /api/inquiries/{id}/withdraw': {
    who: requester,
    call: async (ctx) => ({ url: `/api/inquiries/${await inquiryOf(ctx)}/withdraw` }),
    refusal: 'inquiry_refused',
  },
  'GET /api/notifications': { who: 'session', call: fixed('/api/notifications') },
  'POST /api/notifications/read': { who: 'session', call: fixed('/api/notifications/read', { ids: [1] }) },

  'GET /api/audit/events': { who: can('viewAuditLog'), call: fixed('/api/audit/events') },
  'GET /api/audit/status': { who: can('viewAuditLog'), call: fixed('/api/audit/status') },
  'POST /api/audit/verify': { who: can('viewAuditLog'), call: fixed('/api/audit/verify') },
  'GET /api/audit/export': { who: can('viewAuditLog'), call: fixed('/api/audit/export?format=csv') },

  // Someone else's grants: overseers, and the person themself.
  'GET /api/grants': { who: anyOf(can('overseeGrants'), is(USERS.otherRetailer, 'their own')), call: fixed(`/api/grants?userId=${USERS.otherRetailer}`) },
  'POST /api/grants': {
    who: anyOf(holding('access.admin'), holding('grants.approve'), is(USERS.retail, 'for themself')),
    call: async (ctx) => {
      await ctx.db.query(`DELETE FROM grants WHERE user_id = 'u-retail' AND permission_id = 'emergency.support' AND status = 'requested'`);
      return { url: '/api/grants', payload: { userId: USERS.retail, permissionId: 'emergency.support', reason: '停電連絡の支援', expiresOn: '2027-03-31' } };
    },
    refusal: 'grant_refused',
  },
  'POST /api/grants/{id}/approve': {
    who: can('approveGrants'),
    call: async (ctx) => ({ url: `/api/grants/${await pendingGrant(ctx)}/approve`, payload: {} }),
    refusal: 'grant_refused',
  },
  'POST /api/grants/{id}/reject': {
    who: anyOf(can('approveGrants'), is(USERS.retail, 'withdrawing their own request')),
    call: async (ctx) => ({ url: `/api/grants/${await pendingGrant(ctx)}/reject`, payload: { comment: '不要' } }),
    refusal: 'grant_refused',
  },
  'POST /api/grants/{id}/revoke': {
    who: anyOf(holding('access.admin'), can('approveGrants'), is(USERS.retail, 'giving up their own grant')),
    call: async (ctx) => ({
      url: `/api/grants/${await approvedGrant(ctx, { userId: USERS.admin2, personId: 'p-admin2' })}/revoke`,
      payload: { reason: '不要' },
    }),
    refusal: 'grant_refused',
  },
  'GET /api/governance/events': { who: anyOf(holding('access.admin'), holding('audit.read')), call: fixed('/api/governance/events') },

  // SCIM is for the HR system's API token (scope scim); no person's session opens it.
  'GET /scim/v2/ServiceProviderConfig': { who: 'token', call: fixed('/scim/v2/ServiceProviderConfig'), refusal: null, anonymous: null },
  'GET /scim/v2/ResourceTypes': { who: 'token', call: fixed('/scim/v2/ResourceTypes'), refusal: null, anonymous: null },
  'GET /scim/v2/ResourceTypes/{id}': { who: 'token', call: fixed('/scim/v2/ResourceTypes/User'), refusal: null, anonymous: null },
  'GET /scim/v2/Schemas': { who: 'token', call: fixed('/scim/v2/Schemas'), refusal: null, anonymous: null },
  'GET /scim/v2/Schemas/{id}': { who: 'token', call: fixed('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User'), refusal: null, anonymous: null },
  'GET /scim/v2/Users': { who: 'token', call: fixed('/scim/v2/Users'), refusal: null, anonymous: null },
  'POST /scim/v2/Users': { who: 'token', call: fixed('/scim/v2/Users', { userName: 'u-new' }), refusal: null, anonymous: null },
  'GET /scim/v2/Users/{id}': { who: 'token', call: fixed('/scim/v2/Users/p-cc'), refusal: null, anonymous: null },
  'PUT /scim/v2/Users/{id}': { who: 'token', call: fixed('/scim/v2/Users/p-cc', { userName: 'u-cc' }), refusal: null, anonymous: null },
  'PATCH /scim/v2/Users/{id}': { who: 'token', call: fixed('/scim/v2/Users/p-cc', { Operations: [] }), refusal: null, anonymous: null },
  'DELETE /scim/v2/Users/{id}': { who: 'token', call: fixed('/scim/v2/Users/p-cc'), refusal: null, anonymous: null },

  // People, terminals, tokens, campaigns.
  // Device bindings (issue 19): what this browser is bound to, and entering an enrolment code, before anyone is logged in.
  'GET /api/device': { who: 'public', call: fixed('/api/device') },
  'POST /api/device/enroll': {
    who: 'public',
    call: async (ctx) => {
      const issued = await ctx.as(USERS.admin, 'POST', `/api/terminals/${TERMINALS.CC}/enrollment-codes`, {});
      return { url: '/api/device/enroll', payload: { code: String(issued['code']) } };
    },
  },
  'GET /api/terminal-devices': { who: anyOf(holding('access.admin'), holding('audit.read')), call: fixed('/api/terminal-devices') },
  'POST /api/terminals/{id}/devices': { who: holding('access.admin'), call: fixed(`/api/terminals/${TERMINALS.CC}/devices`, { label: '検査用' }) },
  'POST /api/terminals/{id}/enrollment-codes': { who: holding('access.admin'), call: fixed(`/api/terminals/${TERMINALS.CC}/enrollment-codes`, {}) },
  'POST /api/terminal-devices/{id}/revoke': {
    who: holding('access.admin'),
    call: async (ctx) => {
      const { rows } = await ctx.db.query<{ id: string }>(
        `INSERT INTO terminal_devices (terminal_id, secret_sha256, label, method, enrolled_at, enrolled_by, issued_by, issued_by_person)
         VALUES ($1, sha256(convert_to($2, 'UTF8')), 'probe', 'browser', $3, 'u-admin', 'u-admin', 'p-admin') RETURNING id`,
        [TERMINALS.CC, `route-access-${ctx.next()}`, NOW],
      );
      return { url: `/api/terminal-devices/${rows[0]?.id ?? ''}/revoke`, payload: { reason: '検査' } };
    },
  },
  // A binding to a network-site terminal awaiting a second administrator (registered by someone else than the caller).
  'POST /api/terminal-devices/{id}/confirm': {
    who: holding('access.admin'),
    call: async (ctx) => ({ url: `/api/terminal-devices/${await pendingDevice(ctx)}/confirm`, payload: {} }),
  },
  'POST /api/terminal-devices/{id}/reject': {
    who: holding('access.admin'),
    call: async (ctx) => ({ url: `/api/terminal-devices/${await pendingDevice(ctx)}/reject`, payload: { reason: '検査' } }),
  },
  'GET /api/accounts': { who: anyOf(holding('access.admin'), holding('audit.read')), call: fixed('/api/accounts') },
  'POST /api/accounts/sweep': { who: holding('access.admin'), call: fixed('/api/accounts/sweep', { dryRun: true }) },
  'GET /api/terminals': { who: anyOf(holding('access.admin'), holding('audit.read')), call: fixed('/api/terminals') },
  'GET /api/terminals/reconciliation': { who: anyOf(holding('access.admin'), holding('audit.read')), call: fixed('/api/terminals/reconciliation') },
  'PUT /api/terminals/{id}': {
    who: holding('access.admin'),
    // A new network-site terminal: 202, kept for a second administrator (a fresh ID each call, one open request per terminal).
    call: async (ctx) => ({
      url: `/api/terminals/T-PROBE-${ctx.next()}`,
      payload: { organizationId: 'org-nw', office: '本店', kind: 'dedicated', setting: 'network', siteSide: 'network' },
    }),
  },
  // A registration awaiting a second administrator, asked by u-admin2: u-admin (the only access.admin here) decides it.
  'GET /api/terminal-requests': { who: anyOf(holding('access.admin'), holding('audit.read')), call: fixed('/api/terminal-requests') },
  'POST /api/terminal-requests/{id}/approve': {
    who: holding('access.admin'),
    call: async (ctx) => ({ url: `/api/terminal-requests/${await pendingTerminalRequest(ctx)}/approve`, payload: { reason: '検査' } }),
  },
  // The legacy registers (gridwall import): a dry run of a one-row permission register changes nothing.
  'POST /api/access/import': {
    who: holding('access.admin'),
    call: fixed('/api/access/import', {
      dryRun: true,
      files: {
        permissions: {
          name: 'permissions.csv',
          contentBase64: Buffer.from('permission_id,name,allowed_sides\ncustomer.read,顧客照会,network\n').toString('base64'),
        },
      },
    }),
  },
  'POST /api/terminal-requests/{id}/reject': {
    who: holding('access.admin'),
    call: async (ctx) => ({ url: `/api/terminal-requests/${await pendingTerminalRequest(ctx)}/reject`, payload: { reason: '検査' } }),
  },
  'POST /api/terminals/{id}/retire': {
    who: holding('access.admin'),
    call: async (ctx) => {
      const id = `T-RETIRE-${ctx.next()}`;
      await ctx.db.query(
        `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side) VALUES ($1, 'org-nw', '本店', 'dedicated', 'network', 'network')`,
        [id],
      );
      return { url: `/api/terminals/${id}/retire`, payload: {} };
    },
  },
  'GET /api/tokens': { who: holding('access.admin'), call: fixed('/api/tokens') },
  // Tokens are issued to service accounts (an account no person logs in as), which access administration creates.
  'POST /api/service-accounts': {
    who: holding('access.admin'),
    call: (ctx) => ({
      url: '/api/service-accounts',
      payload: { userId: `svc-probe-${ctx.next()}`, name: '検査用システム', organizationId: 'org-r0002', ownerPersonId: 'p-other' },
    }),
  },
  'POST /api/tokens': {
    who: holding('access.admin'),
    call: async (ctx) => {
      const svc = await ctx.as(USERS.admin, 'POST', '/api/service-accounts', {
        userId: `svc-probe-${ctx.next()}`,
        name: '検査用システム',
        organizationId: 'org-r0002',
        ownerPersonId: 'p-other',
      });
      return {
        url: '/api/tokens',
        payload: { userId: String(svc['userId']), name: `probe-${ctx.next()}`, scopes: ['customer.read'], expiresOn: '2027-01-31' },
      };
    },
  },
  // An unknown token: the administrator learns it is not there (404); nobody else learns even that.
  'POST /api/tokens/{id}/approve': { who: holding('access.admin'), call: fixed('/api/tokens/tokunknown00/approve', {}), ok: [404] },
  'POST /api/tokens/{id}/reject': { who: holding('access.admin'), call: fixed('/api/tokens/tokunknown00/reject', {}), ok: [404] },
  'POST /api/tokens/{id}/revoke': { who: holding('access.admin'), call: fixed('/api/tokens/tokunknown00/revoke', {}), ok: [404] },
  'GET /api/campaigns': { who: can('overseeGrants'), call: fixed('/api/campaigns') },
  'POST /api/campaigns': {
    who: holding('access.admin'),
    call: (ctx) => ({ url: '/api/campaigns', payload: { name: `棚卸 ${ctx.next()}`, endsOn: '2026-12-25', permissionIds: ['network.equipment'] } }),
    refusal: 'grant_refused',
  },
  'GET /api/campaigns/{id}/items': {
    who: can('overseeGrants'),
    call: async (ctx) => ({
      url: `/api/campaigns/${String((await ctx.as(USERS.admin, 'POST', '/api/campaigns', { name: `棚卸 ${ctx.next()}`, endsOn: '2026-12-25', permissionIds: ['network.equipment'] }))['id'])}/items`,
    }),
  },
  // The reviewer the campaign names (the approver of the grant, still an approver in scope), and nobody else.
  'POST /api/campaigns/{id}/items/{grantId}': {
    who: is(USERS.compliance, 'the reviewer of the grant'),
    call: async (ctx) => {
      const grantId = await approvedGrant(ctx, { userId: USERS.compliance, personId: 'p-comp' });
      const campaign = await ctx.as(USERS.admin, 'POST', '/api/campaigns', {
        name: `棚卸 ${ctx.next()}`,
        endsOn: '2026-12-25',
        permissionIds: ['emergency.support'],
      });
      return { url: `/api/campaigns/${String(campaign['id'])}/items/${grantId}`, payload: { decision: 'confirmed' } };
    },
    refusal: 'grant_refused',
  },

  // Emergencies.
  'GET /api/emergencies': { who: can('overseeEmergencies'), call: fixed('/api/emergencies') },
  'POST /api/emergencies': {
    who: can('declareEmergency'),
    call: fixed('/api/emergencies', { areas: AREA, startsAt: iso(0), plannedEndAt: iso(24), reason: '台風第10号' }),
    refusal: 'emergency_refused',
  },
  'GET /api/emergencies/{id}': { who: can('overseeEmergencies'), call: async (ctx) => ({ url: `/api/emergencies/${await declare(ctx)}` }) },
  // Declared by the call centre: only a second declarer confirms or rejects it, only the declarer withdraws it.
  'POST /api/emergencies/{id}/confirm': {
    who: but(can('declareEmergency'), is(USERS.callCentre, 'the declarer')),
    call: async (ctx) => ({ url: `/api/emergencies/${await declare(ctx)}/confirm`, payload: {} }),
    refusal: 'emergency_refused',
  },
  'POST /api/emergencies/{id}/reject': {
    who: but(can('declareEmergency'), is(USERS.callCentre, 'the declarer')),
    call: async (ctx) => ({ url: `/api/emergencies/${await declare(ctx)}/reject`, payload: { comment: '誤報' } }),
    refusal: 'emergency_refused',
  },
  'POST /api/emergencies/{id}/withdraw': {
    who: is(USERS.callCentre, 'the declarer'),
    call: async (ctx) => ({ url: `/api/emergencies/${await declare(ctx)}/withdraw` }),
    refusal: 'emergency_refused',
  },
  'POST /api/emergencies/{id}/end': {
    who: can('declareEmergency'),
    call: async (ctx) => ({ url: `/api/emergencies/${await declareConfirmed(ctx)}/end`, payload: { reason: '復旧' } }),
    refusal: 'emergency_refused',
  },
  'POST /api/emergencies/{id}/extend': {
    who: can('declareEmergency'),
    call: async (ctx) => ({ url: `/api/emergencies/${await declareConfirmed(ctx)}/extend`, payload: { plannedEndAt: iso(48), reason: '復旧作業の継続' } }),
    refusal: 'emergency_refused',
  },
  'GET /api/emergencies/{id}/review': { who: can('overseeEmergencies'), call: async (ctx) => ({ url: `/api/emergencies/${await declare(ctx)}/review` }) },
  // Compliance signs off, never the declarer or the confirmer (neither holds audit.read here).
  'POST /api/emergencies/{id}/sign-off': {
    who: holding('audit.read'),
    call: async (ctx) => {
      const id = await declareConfirmed(ctx);
      await ctx.as(USERS.callCentre, 'POST', `/api/emergencies/${id}/end`, { reason: '復旧' });
      return { url: `/api/emergencies/${id}/sign-off`, payload: { comment: '確認済み' } };
    },
    refusal: 'emergency_refused',
  },
  'GET /api/emergency-support': { who: can('overseeEmergencies'), call: fixed('/api/emergency-support') },
  'PUT /api/emergency-support/{personId}': {
    who: holding('access.admin'),
    call: fixed('/api/emergency-support/p-rctr', { fields: ['holder_name'] }),
    refusal: 'emergency_refused',
  },
  'DELETE /api/emergency-support/{personId}': {
    who: holding('access.admin'),
    call: async (ctx) => {
      // Registered just before (at the same instant, the test clock does not move): ending it removes it.
      await ctx.as(USERS.admin, 'PUT', '/api/emergency-support/p-rctr', { fields: ['holder_name'] });
      return { url: '/api/emergency-support/p-rctr' };
    },
    refusal: 'emergency_refused',
  },

  // Analysis and findings: compliance (audit.read).
  'GET /api/analysis/report': { who: can('reviewFindings'), call: fixed('/api/analysis/report?from=2026-10-01&to=2026-10-31') },
  'GET /api/analysis/exposure': { who: can('reviewFindings'), call: fixed('/api/analysis/exposure?from=2026-10-01&to=2026-10-31') },
  'POST /api/analysis/scan': { who: can('reviewFindings'), call: fixed('/api/analysis/scan', { from: '2026-10-01', to: '2026-10-31' }) },
  'GET /api/analysis/digests': { who: can('reviewFindings'), call: fixed('/api/analysis/digests') },
  'GET /api/findings': { who: can('reviewFindings'), call: fixed('/api/findings') },
  'POST /api/findings/{id}/acknowledge': {
    who: can('reviewFindings'),
    call: async (ctx) => ({ url: `/api/findings/${await finding(ctx)}/acknowledge`, payload: { comment: '確認中' } }),
  },
  'POST /api/findings/{id}/resolve': {
    who: can('reviewFindings'),
    call: async (ctx) => ({ url: `/api/findings/${await finding(ctx)}/resolve`, payload: { comment: '業務上の照会と確認' } }),
  },
};

/** Routes the server hides from its OpenAPI document (schema.hide); each still needs an entry above. */
const HIDDEN = ['GET /api/health', 'GET /api/health/live', 'GET /api/health/ready', 'GET /api/openapi.json'];

// ---------------------------------------------------------------------------------------------------------

/** Every method + path the router has (HEAD aside), read from Fastify's route tree. */
function routerRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (m === null) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${m[2] ?? ''}`;
    stack.push(path);
    for (const method of (m[3] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '' && x !== 'HEAD'))
      out.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return out.sort();
}

interface Reply {
  readonly statusCode: number;
  readonly body: string;
}
const errorCode = (r: Reply): string | null => {
  try {
    const b = JSON.parse(r.body) as { error?: { code?: unknown } };
    return typeof b.error?.code === 'string' ? b.error.code : null;
  } catch {
    return null;
  }
};

for (const store of STORES) {
  describe(`route access on ${store.name}: every route, anonymously and as every person`, () => {
    const w = seededApp(store, {}, seedEmergencyRoles);
    let n = 0;
    const sessions = new Map<string, Session>();
    /** People the server refuses a session (nobody assigned behind the account): they can call nothing as themselves. */
    const noSession = new Set<string>();
    /** The people who log in, and so are callers of every route. */
    let callers: string[] = [];

    before(async () => {
      for (const u of PERSONS) {
        const s = await tryLogin(w.app, u);
        if (s === null) noSession.add(u);
        else sessions.set(u, s);
      }
      callers = PERSONS.filter((u) => !noSession.has(u));
    });

    const sessionOf = async (userId: string): Promise<Session> => {
      const known = sessions.get(userId);
      if (known !== undefined) return known;
      const s = (await tryLogin(w.app, userId)) ?? assert.fail(`${userId} was refused a session`);
      sessions.set(userId, s);
      return s;
    };
    const send = async (s: Session | null, method: string, url: string, payload?: Record<string, unknown> | string, contentType?: string): Promise<Reply> => {
      const headers: Record<string, string> = {
        ...(s === null ? {} : { cookie: s.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': s.csrf }) }),
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
      };
      return w.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
    };
    const ctx: Ctx = {
      get db() {
        return w.db;
      },
      async as(userId, method, url, payload) {
        const res = await send(await sessionOf(userId), method, url, payload);
        assert.ok(res.statusCode >= 200 && res.statusCode < 300, `preparing with ${userId} ${method} ${url}: ${res.statusCode} ${res.body}`);
        return res.body === '' ? {} : (JSON.parse(res.body) as Record<string, unknown>);
      },
      next: () => ++n,
    };

    test('the console’s abilities for each person are what the table below is read against', async () => {
      assert.deepEqual(Object.keys(FACTS).sort(), [...PERSONS].sort(), 'facts for every fixture person');
      for (const u of noSession)
        assert.deepEqual(facts(u), { permissions: [], abilities: [] }, `${u} is refused a session, so must be someone who holds nothing`);
      assert.ok(callers.length >= PERSONS.length - 2, `people who log in: ${callers.join(', ')}`);
      for (const u of callers) {
        const me = (await send(await sessionOf(u), 'GET', '/api/me')).body;
        const body = JSON.parse(me) as { abilities: Record<string, unknown>; grants: { permissionId: string }[] };
        const on = ABILITIES.filter((a) => body.abilities[a] === true);
        assert.deepEqual(
          on,
          ABILITIES.filter((a) => facts(u).abilities.includes(a)),
          `${u} abilities`,
        );
        assert.deepEqual([...new Set(body.grants.map((g) => g.permissionId))].sort(), [...facts(u).permissions].sort(), `${u} grants in force`);
      }
    });

    test('every route has an entry in the table, and every entry is a route', async () => {
      const spec = JSON.parse((await send(null, 'GET', '/api/openapi.json')).body) as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      assert.ok(documented.length > 40, `routes in the OpenAPI document: ${documented.length}`);
      const all = [...documented, ...HIDDEN].sort();
      assert.deepEqual(routerRoutes(w.app), all, 'the router has exactly the documented routes and the hidden ones listed here');
      assert.deepEqual(
        all.filter((r) => ROUTES[r] === undefined),
        [],
        'routes without an entry in the access table',
      );
      assert.deepEqual(
        Object.keys(ROUTES)
          .filter((r) => !all.includes(r))
          .sort(),
        [],
        'entries for routes the server does not have',
      );
    });

    test('each route refuses whom it must (401 without a session, 403 with the documented refusal) and serves whom it may; exactly DATA_ROUTES reach the firewall', async () => {
      const problems: string[] = [];
      const reachedFirewall: string[] = [];
      let refused = 0;
      let served = 0;
      const logged = async () => (await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log')).rows[0]?.n ?? 0;
      const routes = Object.entries(ROUTES);
      assert.ok(routes.length > 40);
      for (const [route, e] of routes) {
        const [method = '', path = ''] = route.split(' ');
        const before = await logged();
        const seqBefore = (await w.db.query<{ s: number | null }>('SELECT max(seq)::int AS s FROM access_log')).rows[0]?.s ?? 0;
        for (const caller of [null, ...callers]) {
          const c = await e.call(ctx);
          assert.ok(c.url.startsWith(path.replace(/\{\w+\}.*$/, '')), `${route}: the call ${c.url} is not to this route`);
          const res = await send(caller === null ? null : await sessionOf(caller), method, c.url, c.payload, c.contentType);
          if (e.endsSession === true && caller !== null) sessions.delete(caller);
          const may = caller === null ? e.who === 'public' : e.who === 'public' || e.who === 'session' || (e.who !== 'token' && e.who.may(caller));
          const who = caller ?? 'anonymous';
          const got = `${res.statusCode} ${errorCode(res) ?? res.body.slice(0, 120)}`;
          if (may) {
            served++;
            const fine = e.ok === undefined ? res.statusCode >= 200 && res.statusCode < 300 : e.ok.includes(res.statusCode);
            if (!fine || errorCode(res) === 'not_authenticated' || errorCode(res) === 'forbidden')
              problems.push(`${route} as ${who} (may: ${typeof e.who === 'string' ? e.who : e.who.text}): got ${got}`);
          } else if (caller === null) {
            refused++;
            const code = e.anonymous === undefined ? 'not_authenticated' : e.anonymous;
            if (res.statusCode !== 401 || (code !== null && errorCode(res) !== code))
              problems.push(`${route} anonymously: expected 401 ${code ?? ''}, got ${got}`);
          } else {
            refused++;
            const code = e.refusal === undefined ? 'forbidden' : e.refusal;
            if (res.statusCode !== 403 || (code !== null && errorCode(res) !== code))
              problems.push(`${route} as ${who} (only ${typeof e.who === 'string' ? e.who : e.who.text}): expected 403 ${code ?? ''}, got ${got}`);
          }
        }
        if ((await logged()) > before) {
          reachedFirewall.push(route.replace(/\{(\w+)\}/g, ':$1'));
          const names = await w.db.query<{ route: string }>('SELECT DISTINCT route FROM access_log WHERE seq > $1', [seqBefore]);
          assert.deepEqual(
            names.rows.map((r) => r.route),
            [route.replace(/\{(\w+)\}/g, ':$1')],
            `${route} logs its reads under its own name`,
          );
        }
      }
      assert.deepEqual(problems, [], `${problems.length} answers differ from the access table:\n${problems.join('\n')}`);
      assert.ok(refused > 300 && served > 150, `refused ${refused}, served ${served}`);
      assert.deepEqual(
        reachedFirewall.sort(),
        DATA_ROUTES.map((r) => r.route).sort(),
        'the routes whose calls reached the firewall (and its access log) are exactly DATA_ROUTES',
      );
    });
  });
}
