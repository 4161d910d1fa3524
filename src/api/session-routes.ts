import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SIDE_LABELS } from '../domain/organization.ts';
import type { Firewall } from '../firewall/firewall.ts';
import { PERMITTED_PURPOSES, PRINCIPAL_CLASS_LABELS } from '../domain/principal.ts';
import { PURPOSE_LABELS } from '../domain/purpose.ts';
import { recordGovernance } from '../audit/governance-log.ts';
import { verifyLogin } from '../identity/local-accounts.ts';
import { holds, type Actor, type AuthMethod } from '../domain/actor.ts';
import { mayOverseeEmergencies } from './emergency-routes.ts';
import { mayOverseeGrants } from './governance-routes.ts';
import type { AppDeps } from './context.ts';
import { LOGIN_ADDRESS_FACTOR, requireActor, SESSION_COOKIE } from './context.ts';
import { mayReadAuditLog } from './audit-routes.ts';
import { mayOverseeRegistry } from './admin-routes.ts';
import { ApiError } from './errors.ts';
import * as c from '../contract/session.ts';
import { route, type ReplyOf, type RouteTypes } from '../contract/schema.ts';
import { NO_TERMINAL, type TerminalBinding } from '../identity/terminal-devices.ts';
import type { RetailAtUnknownTerminal, SideCrossing } from '../identity/session-store.ts';
import { findingSink } from '../analysis/findings.ts';
import { refusalFamily } from '../domain/refusal.ts';
import { bindTerminal } from './terminal-binding.ts';

/** What the console may offer this person: computed here, never decided in the browser. */
export function abilities(actor: Actor, firewall: Firewall): c.Abilities {
  const pc = actor.principal.principalClass;
  const purposes = PERMITTED_PURPOSES[pc];
  const searchBy = (field: 'holder_name' | 'phone') => purposes.filter((p) => firewall.searchScope(actor, p, field).kind !== 'refused');
  return {
    purposes: purposes.map((p) => ({ code: p, ...PURPOSE_LABELS[p] })),
    lookup: pc !== 'unassigned',
    searchByAddress: pc !== 'unassigned',
    /** Purposes under which the person may search by holder name / phone (empty: not at all). */
    searchByHolderName: searchBy('holder_name'),
    searchByPhone: searchBy('phone'),
    viewChecklist: pc === 'network_compliance' || pc === 'network_access_admin',
    viewAuditLog: mayReadAuditLog(actor),
    /** People, terminals, tokens, campaigns (access.admin). */
    manageAccess: holds(actor, 'access.admin'),
    /** The approval queue (grants.approve). */
    approveGrants: holds(actor, 'grants.approve'),
    /** Everyone's grants, campaigns and governance events (access.admin, grants.approve or audit.read). */
    overseeGrants: mayOverseeGrants(actor),
    /** The terminal registry and its reconciliation (access.admin or audit.read): the terminals routes' own rule. */
    overseeTerminals: mayOverseeRegistry(actor),
    /** Declare, confirm, end or extend an emergency (emergency.declare). */
    declareEmergency: holds(actor, 'emergency.declare'),
    /** Every declaration, the support register and the reviews (emergency.declare, access.admin or audit.read). */
    overseeEmergencies: mayOverseeEmergencies(actor),
    /** Sign off emergency reviews and read findings (audit.read). */
    reviewFindings: holds(actor, 'audit.read'),
    /** May read as emergency support inside a declared emergency (with a registration: see /api/emergencies/active). */
    emergencySupport: holds(actor, 'emergency.support'),
    /** Inquiries to the network operator: a retailer's person (or system) with customer.read. */
    askInquiries: (actor.principal.assignment?.retailerCode ?? null) !== null && holds(actor, 'customer.read'),
    /** The service centre's queue (inquiries.answer). */
    answerInquiries: holds(actor, 'inquiries.answer'),
    viewEqualTreatment: holds(actor, 'inquiries.answer') || holds(actor, 'audit.read'),
  };
}

function me(actor: Actor, firewall: Firewall): c.Me {
  const a = actor.principal.assignment;
  return {
    personId: actor.personId,
    name: actor.personName,
    userId: actor.userId,
    terminalId: actor.terminalId,
    terminalSource: actor.terminalSource,
    terminal: actor.terminal,
    authMethod: actor.authMethod,
    grants: actor.grants.map((g) => ({ permissionId: g.permissionId, scopeOrganizationId: g.scopeOrganizationId, until: g.until })),
    principalClass: actor.principal.principalClass,
    principalClassLabel: PRINCIPAL_CLASS_LABELS[actor.principal.principalClass],
    assignment:
      a === null
        ? null
        : {
            side: a.side,
            employment: a.employment,
            organizationId: a.organizationId,
            organization: actor.organizationName,
            office: a.office,
            duty: a.duty,
            retailerCode: a.retailerCode,
          },
    abilities: abilities(actor, firewall),
  };
}

/**
 * A refused login is evidence (someone guessing passwords, a leaver trying an old account, a terminal that
 * is not registered): it goes to the governance log with the reason, which the client never learns.
 */
export async function recordLoginRefusal(
  reply: FastifyReply,
  deps: AppDeps,
  userId: string,
  method: AuthMethod,
  reason: string,
  terminal: TerminalBinding | null,
  more: Readonly<Record<string, unknown>> = {},
): Promise<void> {
  const bound = terminal ?? NO_TERMINAL;
  await recordGovernance(deps.db, {
    at: deps.clock(),
    actor: { kind: 'system', job: 'login' },
    action: 'session.login',
    subjectType: 'account',
    subjectId: userId,
    outcome: 'refused',
    rule: reason,
    details: { ...more, method, terminalId: bound.terminalId, terminalSource: bound.source, clientAddress: reply.request.ip },
  });
}

/** A retail-side person's login refused at a network-site terminal (GRIDWALL_RETAIL_ON_NETWORK_TERMINAL=refuse). */
export class SideCrossingRefused extends refusalFamily('terminal', { retail_on_network_terminal: 'refused' }) {}

/**
 * A retail-side person at a terminal standing at a network site, refused or let through (limited): a live
 * finding for compliance, whatever the policy — a retailer's person at the network operator's desks is how
 * the incidents began, and nobody should have to run a scan to learn of it.
 */
async function raiseSideCrossing(deps: AppDeps, userId: string, method: AuthMethod, x: SideCrossing, outcome: 'refused' | 'limited'): Promise<void> {
  const at = deps.clock();
  const what = outcome === 'refused' ? 'ログインは拒否しました' : 'ポリシー（limit）により、本人の所属区分で許される範囲でログインを認めました';
  await findingSink(deps.db).raise({
    rule: 'retail_on_network_terminal',
    severity: 'high',
    occurredAt: at,
    detectedAt: at,
    source: 'live',
    subjectPersonId: x.personId,
    subjectUserId: userId,
    summary: `${x.personName}（${userId}、${SIDE_LABELS[x.side].ja}）が送配電の拠点にある端末 ${x.terminalId} でログインしようとしました。${what}。`,
    evidence: {
      terminalId: x.terminalId,
      terminalSource: x.terminalSource,
      namedAs: x.namedAs,
      unconfirmedBinding: x.unconfirmedBinding,
      setting: x.setting,
      siteSide: x.siteSide,
      side: x.side,
      organizationId: x.organizationId,
      method,
      outcome,
    },
  });
}

/**
 * A retail-side person let in (GRIDWALL_UNKNOWN_TERMINAL=limit) from a terminal the registry does not know: the
 * side rule cannot tell where that is — an unregistered PC at a network site is how the Tohoku case stayed
 * unseen — so compliance hears of it (medium: it alerts nobody by itself). A login that named no terminal at
 * all raises nothing: there is nothing to check.
 */
async function raiseRetailAtUnknown(deps: AppDeps, userId: string, method: AuthMethod, x: RetailAtUnknownTerminal): Promise<void> {
  const at = deps.clock();
  await findingSink(deps.db).raise({
    rule: 'retail_on_unknown_terminal',
    severity: 'medium',
    occurredAt: at,
    detectedAt: at,
    source: 'live',
    subjectPersonId: x.personId,
    subjectUserId: userId,
    summary: `${x.personName}（${userId}、${SIDE_LABELS[x.side].ja}）が端末台帳にない端末 ${x.terminalId} でログインしました。端末の設置場所を確認してください。`,
    evidence: { terminalId: x.terminalId, terminalSource: x.terminalSource, side: x.side, organizationId: x.organizationId, method },
  });
}

/**
 * Opens a session for a person authenticated by `method` and sets the session cookie: the one way every
 * login (demo persona, password + TOTP, OpenID Connect) ends, each with its terminal found the same way
 * (`bindTerminal`). Throws the refusal as an API error.
 */
export async function startSession(
  reply: FastifyReply,
  deps: AppDeps,
  userId: string,
  terminal: TerminalBinding,
  method: AuthMethod,
  idToken: string | null = null,
): Promise<{ csrfToken: string; me: c.Me }> {
  const opened = await deps.sessions.open(userId, terminal, deps.clock(), method, { idToken });
  if (opened.kind === 'refused') {
    await recordLoginRefusal(reply, deps, userId, method, opened.code, terminal);
    if (opened.code === 'retail_on_network_terminal') {
      if (opened.crossing !== undefined) await raiseSideCrossing(deps, userId, method, opened.crossing, 'refused');
      throw new SideCrossingRefused('retail_on_network_terminal', opened.message, { terminalId: opened.crossing?.terminalId ?? null });
    }
    throw new ApiError(opened.code, opened.message);
  }
  if (opened.crossing !== null) {
    await recordGovernance(deps.db, {
      at: deps.clock(),
      actor: { kind: 'system', job: 'login' },
      action: 'session.login',
      subjectType: 'account',
      subjectId: userId,
      outcome: 'done',
      rule: 'retail_on_network_terminal',
      details: {
        method,
        terminalId: opened.crossing.terminalId,
        terminalSource: opened.crossing.terminalSource,
        policy: 'limit',
        clientAddress: reply.request.ip,
      },
    });
    await raiseSideCrossing(deps, userId, method, opened.crossing, 'limited');
  }
  if (opened.unknownTerminal !== null) await raiseRetailAtUnknown(deps, userId, method, opened.unknownTerminal);
  const session = opened.session;
  reply.setCookie(SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'strict',
    secure: deps.secureCookies,
    path: '/',
    maxAge: Math.floor(deps.sessionAbsoluteMs / 1000),
  });
  return { csrfToken: session.csrfToken, me: me(session.actor, deps.firewall) };
}

/**
 * Whether a persona login (a user ID, nothing else) may open a session for `userId`: only for a demo persona
 * the demo generator (or a test fixture) seeded — an account marked `provisioned_by = 'demo'`, a person's
 * account with no password, authenticator or single sign-on binding — and only while no account of the
 * server logs in with credentials (issue 14: the persona login opened any account, also one with a password
 * and TOTP enrolled). Null when it may.
 */
async function personaRefusal(deps: AppDeps, userId: string): Promise<'credentials_in_use' | 'not_a_demo_persona' | 'account_has_credentials' | null> {
  const { rows } = await deps.db.query<{ in_use: boolean; demo: boolean | null; credentials: boolean | null }>(
    `SELECT EXISTS (SELECT 1 FROM accounts x WHERE x.password_hash IS NOT NULL OR x.oidc_subject IS NOT NULL) AS in_use,
            (SELECT a.provisioned_by = 'demo' AND a.kind = 'person' FROM accounts a WHERE a.user_id = $1) AS demo,
            (SELECT a.password_hash IS NOT NULL OR a.totp_secret IS NOT NULL OR a.oidc_subject IS NOT NULL FROM accounts a WHERE a.user_id = $1) AS credentials`,
    [userId],
  );
  const r = rows[0];
  if (r === undefined || r.in_use) return 'credentials_in_use';
  if (r.credentials === true) return 'account_has_credentials';
  return r.demo === true ? null : 'not_a_demo_persona';
}

export function registerSessionRoutes(app: FastifyInstance, deps: AppDeps): void {
  // Per client address before anything else (LOGIN_ADDRESS_FACTOR times the limit), and per user ID once the
  // body is parsed (however the ID is cased).
  const login = { rateLimit: { max: deps.loginRateLimit * LOGIN_ADDRESS_FACTOR, timeWindow: '1 minute' } };
  const userLimit = app.createRateLimit({
    max: deps.loginRateLimit,
    timeWindow: '1 minute',
    keyGenerator: (req: FastifyRequest) => {
      const userId = (req.body as { userId?: unknown } | undefined)?.userId;
      return `login-user:${typeof userId === 'string' ? userId.toLowerCase() : ''}`;
    },
  });
  const perUser = async (req: FastifyRequest) => {
    const r = await userLimit(req);
    if (!r.isAllowed && r.isExceeded) throw new ApiError('rate_limited', 'too many attempts for this user ID; wait a minute and try again');
  };

  app.get<RouteTypes<typeof c.personas>>(
    '/api/personas',
    { schema: route(c.personas, { tags: ['session'], summary: 'Demo personas (embedded demo only)' }) },
    async () => {
      if (!deps.demoLogin) throw new ApiError('demo_login_disabled', 'demo login is disabled on this server');
      const { rows } = await deps.db.query<{ value: unknown }>(`SELECT value FROM settings WHERE key = 'demo_personas'`);
      const value = rows[0]?.value;
      const personas = c.Persona.array().parse(typeof value === 'string' ? JSON.parse(value) : (value ?? []));
      // Parsed from JSON, a key left out is absent, never `undefined`: the wire type, as the compiler cannot see.
      return { personas: personas as ReplyOf<typeof c.personas, 200>['personas'] };
    },
  );

  app.post<RouteTypes<typeof c.personaLogin>>(
    '/api/session',
    {
      config: login,
      preHandler: perUser,
      schema: route(c.personaLogin, { tags: ['session'], summary: 'Log in as a demo persona (embedded demo only; SSO replaces this)' }),
    },
    async (req, reply) => {
      if (!deps.demoLogin) throw new ApiError('demo_login_disabled', 'demo login is disabled on this server');
      const refusal = await personaRefusal(deps, req.body.userId);
      if (refusal === 'credentials_in_use')
        throw new ApiError('demo_login_disabled', 'demo login is off: this server has accounts that log in with a password or single sign-on');
      const terminal = await bindTerminal(req, deps, req.body.terminalId ?? null);
      if (refusal !== null) {
        await recordLoginRefusal(reply, deps, req.body.userId, 'demo', refusal, terminal);
        throw new ApiError('login_failed', 'not a demo persona of this server');
      }
      const body = await startSession(reply, deps, req.body.userId, terminal, 'demo');
      return reply.status(201).send(body);
    },
  );

  app.post<RouteTypes<typeof c.passwordLogin>>(
    '/api/session/password',
    {
      config: login,
      preHandler: perUser,
      schema: route(c.passwordLogin, {
        tags: ['session'],
        summary: 'Log in with a local account: password and the one-time code of an authenticator app (TOTP)',
      }),
    },
    async (req, reply) => {
      if (deps.passwordLogin !== true) throw new ApiError('password_login_disabled', 'password login is disabled on this server');
      const { userId, password, code, terminalId } = req.body;
      const terminal = await bindTerminal(req, deps, terminalId ?? null);
      const result = await verifyLogin(deps.db, userId, password, code, deps.clock(), deps.totpKey ?? null);
      if (!result.ok) {
        // The reason goes to the governance log only: the client must not learn which part was wrong.
        await recordLoginRefusal(reply, deps, userId, 'password', result.reason, terminal);
        throw new ApiError('login_failed', 'user ID, password or one-time code is wrong');
      }
      const body = await startSession(reply, deps, userId, terminal, 'password');
      return reply.status(201).send(body);
    },
  );

  /**
   * After gridwall's session ended: a single sign-on session also asks the provider to end its own (else, on a
   * shared PC, the next person pressing the SSO button is logged in as this one), or says it cannot.
   */
  const loggedOut = async (reply: FastifyReply, actor: Actor, idToken: string | null) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    if (actor.authMethod !== 'oidc' || deps.oidc === undefined || deps.oidc === null) return reply.status(204).send();
    const provider = await deps.oidc.logout(idToken);
    return reply.status(200).send({
      providerLogout: provider.kind === 'redirect' ? { kind: provider.kind, url: provider.url.href, state: provider.state } : { kind: provider.kind },
    });
  };

  app.post<RouteTypes<typeof c.logout>>(
    '/api/session/logout-everywhere',
    {
      schema: route(c.logout, {
        tags: ['session'],
        summary: 'Log out of every session of the person (all browsers, all terminals)',
        description: 'A single sign-on session answers 200 with where to send the browser to end the identity provider’s session too.',
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const idToken = await deps.sessions.end(actor.sessionId, deps.clock());
      await deps.sessions.endAllOf(actor.personId, deps.clock());
      return loggedOut(reply, actor, idToken);
    },
  );

  app.delete<RouteTypes<typeof c.logout>>(
    '/api/session',
    {
      schema: route(c.logout, {
        tags: ['session'],
        summary: 'Log out',
        description: 'A single sign-on session answers 200 with where to send the browser to end the identity provider’s session too.',
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      return loggedOut(reply, actor, await deps.sessions.end(actor.sessionId, deps.clock()));
    },
  );

  app.get<RouteTypes<typeof c.me>>(
    '/api/me',
    { schema: route(c.me, { tags: ['session'], summary: 'Who I am, what I may do, and the CSRF token of my session' }) },
    async (req) => ({
      ...me(requireActor(req), deps.firewall),
      csrfToken: req.csrfToken,
    }),
  );
}
