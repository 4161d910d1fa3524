import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { LogUnavailableError } from '../audit/access-event.ts';
import type { TrustAnchors } from '../audit/trust.ts';
import type { Firewall } from '../firewall/firewall.ts';
import type { OidcLogin } from '../identity/oidc.ts';
import type { Actor, Sessions } from '../identity/session-store.ts';
import { tokenMayCall } from '../identity/api-tokens.ts';
import type { Db } from '../store/db.ts';
import { ApiError, ERROR_STATUS, type ErrorBody, type ErrorCode } from './errors.ts';
import { registerAuditRoutes } from './audit-routes.ts';
import { registerConsole } from './console.ts';
import { registerSessionRoutes } from './session-routes.ts';
import { registerVocabularyRoutes } from './vocabulary-routes.ts';
import { registerSupplyPointRoutes } from './supply-point-routes.ts';
import { registerPolicyRoutes } from './policy-routes.ts';
import { registerGovernanceRoutes } from './governance-routes.ts';
import { registerScimRoutes } from './scim-routes.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { OIDC_COOKIE, registerOidcRoutes } from './oidc-routes.ts';
import { registerInputGuards } from './input-guards.ts';
import { registerEmergencyRoutes } from './emergency-routes.ts';
import { registerAnalysisRoutes } from './analysis-routes.ts';

export type Clock = () => Date;

export interface AppDeps {
  readonly db: Db;
  readonly firewall: Firewall;
  /** The log as evidence: what verification trusts (never the database's own keys), the witness, the writer's state. */
  readonly evidence: {
    readonly trust: TrustAnchors;
    readonly witnessFile: string | null;
    readonly writer: { readonly halted: string | null; readonly witnessError: string | null };
  };
  readonly clock: Clock;
  readonly sessions: Sessions;
  readonly demoLogin: boolean;
  /** Local accounts: `POST /api/session/password` with password + TOTP (default off when absent). */
  readonly passwordLogin?: boolean;
  /** Key that seals TOTP secrets at rest (GRIDWALL_TOTP_KEY); null or absent: stored in the clear. */
  readonly totpKey?: Buffer | null;
  /** Single sign-on through an OpenID Connect provider; null or absent: not offered. */
  readonly oidc?: OidcLogin | null;
  readonly secureCookies: boolean;
  /** Lifetime of the session cookie (the session's absolute time-out). */
  readonly sessionAbsoluteMs: number;
  /** Directory of the built console (web/dist); null or absent serves the API only. */
  readonly consoleDir?: string | null;
  /** Longest a declared emergency may run before an extension (confirmed again) is needed; default 72. */
  readonly emergencyMaxHours?: number;
  /** Days without a login after which an account is dormant, and a terminal unused (default 90). */
  readonly dormantDays?: number;
  /** The server's external base URL (e.g. https://gridwall.example.jp), for absolute links such as SCIM locations. */
  readonly publicUrl?: string;
  /** Login attempts allowed per client address per minute (default 10). */
  readonly loginRateLimit?: number;
  /** Extra routes mounted before the server starts (the benchmark's bare route, the console's assets). */
  readonly extend?: (app: FastifyInstance) => void | Promise<void>;
  readonly logger?: boolean;
}

export const SESSION_COOKIE = 'gw_session';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    /** The session's CSRF token, for `/api/me` (a reloaded console page needs it for state changes). */
    csrfToken: string | null;
  }
}

/** The actor of an authenticated request; throws 401 otherwise. */
export function requireActor(req: FastifyRequest): Actor {
  if (req.actor === null) throw new ApiError('not_authenticated', 'log in first: this route needs a session');
  return req.actor;
}

/** The route's name as logged and as listed in the masking checklist, e.g. `GET /api/supply-points/:id`. */
export function routeName(req: FastifyRequest): string {
  return `${req.method} ${req.routeOptions.url ?? req.url}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function errorBody(code: ErrorCode, message: string, requestId: string, details?: Readonly<Record<string, unknown>>): ErrorBody {
  return { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    genReqId: () => randomUUID(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    trustProxy: false,
  });

  await app.register(helmet, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'] } },
  });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: { title: 'gridwall API', version: '0.1.0', description: 'Information firewall over the network operator’s customer records. Every read is decided per person and per field, and logged.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } } },
    },
  });

  // Before the authentication hook and every route: NUL, lone surrogates, non-decimal or huge integers are a 400 (issue 14).
  registerInputGuards(app, [SESSION_COOKIE, OIDC_COOKIE]);
  app.decorateRequest('actor', null);
  app.decorateRequest('csrfToken', null);
  app.addHook('onRequest', async (req) => {
    const sid = req.cookies[SESSION_COOKIE];
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if ((sid === undefined || sid === '') && bearer !== undefined) {
      // Another system's API token: no cookie, so no CSRF; what it may call is fixed by its scopes.
      const actor = await deps.sessions.tokenActor(bearer, deps.clock());
      if (actor === null) throw new ApiError('not_authenticated', 'the API token is unknown, revoked or expired');
      if (!tokenMayCall(actor.tokenScopes ?? [], req.method, req.url)) throw new ApiError('token_scope', `this token's scopes (${(actor.tokenScopes ?? []).join(', ')}) do not cover ${req.method} ${req.url.split('?')[0] ?? ''}`);
      req.actor = actor;
      return;
    }
    if (sid === undefined || sid === '') return;
    const live = await deps.sessions.actor(sid, deps.clock());
    if (live === null) return;
    req.actor = live.actor;
    req.csrfToken = live.csrfToken;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const given = req.headers['x-csrf-token'];
      if (typeof given !== 'string' || !safeEqual(given, live.csrfToken)) {
        throw new ApiError('csrf_failed', 'missing or wrong x-csrf-token header for a state-changing request');
      }
    }
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => {
    if (err instanceof ApiError) return reply.status(ERROR_STATUS[err.code]).send(errorBody(err.code, err.message, req.id, err.details));
    if (err instanceof LogUnavailableError) {
      req.log.error({ err }, 'access log unavailable');
      return reply.status(ERROR_STATUS.log_unavailable).send(errorBody('log_unavailable', err.message, req.id));
    }
    const fe = err as FastifyError;
    if (fe.validation !== undefined) {
      const first = fe.validation[0];
      const where = `${fe.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
      const field = first?.params && 'missingProperty' in first.params ? `/${String(first.params['missingProperty'])}` : '';
      return reply.status(400).send(errorBody('validation_failed', `${where}${field} ${first?.message ?? 'is invalid'}`, req.id, { issues: fe.validation }));
    }
    if (fe.statusCode === 429) return reply.status(429).send(errorBody('rate_limited', 'too many attempts; wait a minute and try again', req.id));
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody('validation_failed', fe.message, req.id));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('internal', 'internal error; the request id identifies it in the server log', req.id));
  });
  const consoleIndex = deps.consoleDir === undefined || deps.consoleDir === null ? null : await registerConsole(app, deps.consoleDir);
  app.setNotFoundHandler((req, reply) => {
    // The console is a single-page app: its own paths (/search, /records/…) get its page; /api never does.
    if (consoleIndex !== null && (req.method === 'GET' || req.method === 'HEAD') && !req.url.startsWith('/api/') && req.headers.accept?.includes('text/html') === true) {
      return consoleIndex(reply);
    }
    return reply.status(404).send(errorBody('not_found', `no route ${req.method} ${req.url}`, req.id));
  });

  // Readiness tells the truth: a writer that stopped the line serves no data, so the instance is not ready.
  app.get('/api/health', { schema: { hide: true } }, async (_req, reply) => {
    const halted = deps.evidence.writer.halted;
    const witnessError = deps.evidence.writer.witnessError;
    if (halted !== null) return reply.status(503).send({ status: 'log_halted', store: deps.db.kind, log: { halted, witnessError } });
    return { status: 'ok', store: deps.db.kind, log: { halted: null, witnessError } };
  });
  registerSessionRoutes(app, deps);
  registerOidcRoutes(app, deps);
  registerSupplyPointRoutes(app, deps);
  registerPolicyRoutes(app, deps);
  registerVocabularyRoutes(app);
  registerAuditRoutes(app, deps);
  registerGovernanceRoutes(app, deps);
  await registerScimRoutes(app, deps);
  registerAdminRoutes(app, deps);
  registerEmergencyRoutes(app, deps);
  registerAnalysisRoutes(app, deps);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (deps.extend !== undefined) await deps.extend(app);
  await app.ready();
  return app;
}
