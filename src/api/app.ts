import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { LogUnavailableError } from '../audit/access-event.ts';
import { tokenMayCall } from '../identity/api-tokens.ts';
import { Refusal } from '../domain/refusal.ts';
import { ApiError, ERROR_STATUS, refusalCode, REFUSAL_STATUS, type ErrorBody, type ErrorCode } from './errors.ts';
import { SESSION_COOKIE, type AppDeps } from './context.ts';
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
    contentSecurityPolicy: {
      directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'] },
    },
  });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'gridwall API',
        version: '0.1.0',
        description: 'Information firewall over the network operator’s customer records. Every read is decided per person and per field, and logged.',
      },
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
      if (!tokenMayCall(actor.tokenScopes ?? [], req.method, req.url))
        throw new ApiError(
          'token_scope',
          `this token's scopes (${(actor.tokenScopes ?? []).join(', ')}) do not cover ${req.method} ${req.url.split('?')[0] ?? ''}`,
        );
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
    if (err instanceof Refusal && err.family !== 'input') {
      // Every service's "no", answered in one place: its kind chooses the status, its rule goes on the wire.
      // (An `input` refusal — the server's own configuration, key or files — is no client's fault: a 500 below.)
      const retryAfter = err.details['retryAfterSeconds'];
      if (err.kind === 'busy' && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return reply.status(REFUSAL_STATUS[err.kind]).send(errorBody(refusalCode(err.family, err.kind), err.message, req.id, { ...err.details, rule: err.rule }));
    }
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
    if (
      consoleIndex !== null &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      !req.url.startsWith('/api/') &&
      req.headers.accept?.includes('text/html') === true
    ) {
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
