import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { recordPolicyVersion } from '../firewall/policy-versions.ts';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { storeRateLimits } from './rate-limit-store.ts';
import swagger from '@fastify/swagger';
import { LogUnavailableError } from '../audit/access-event.ts';
import { storeFailure } from '../store/failure.ts';
import { errorFields, serverLogger } from './server-log.ts';
import { tokenMayCall } from '../identity/api-tokens.ts';
import { Refusal } from '../domain/refusal.ts';
import { ApiError, ERROR_STATUS, refusalCode, REFUSAL_STATUS, type ErrorBody, type ErrorCode } from './errors.ts';
import { LONG_RUNNING_MS, SESSION_COOKIE, type AppDeps } from './context.ts';
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
import { DEVICE_COOKIE } from './terminal-binding.ts';
import { registerTerminalDeviceRoutes } from './terminal-device-routes.ts';
import { registerTerminalRequestRoutes } from './terminal-request-routes.ts';
import { registerImportRoutes } from './import-routes.ts';
import { registerInputGuards } from './input-guards.ts';
import { registerEmergencyRoutes } from './emergency-routes.ts';
import { registerAnalysisRoutes } from './analysis-routes.ts';
import { registerInquiryRoutes } from './inquiry-routes.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerHomeRoutes } from './home-routes.ts';

/** Whether Fastify ended the request at its answer time-out (it aborts the request's signal with that error). */
function timedOut(req: FastifyRequest): boolean {
  return (req.signal.reason as { code?: unknown } | undefined)?.code === 'FST_ERR_HANDLER_TIMEOUT';
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function errorBody(code: ErrorCode, message: string, requestId: string, details?: Readonly<Record<string, unknown>>): ErrorBody {
  return { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
}

/** Trust the nearest `n` proxies' X-Forwarded-For (the hop count form of GRIDWALL_TRUST_PROXY). */
const trustHops =
  (n: number) =>
  (_address: string, hop: number): boolean =>
    hop < n;

/** A witness that keeps failing for the same reason is said again in the server log this often. */
const WITNESS_ALERT_EVERY_MS = 60_000;

/** Seconds a client is asked to wait after a 503 of the store or the log. */
const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * An error Node's HTTP parser meets before Fastify sees a request (a header block too large, raw bytes in the
 * URL, a request that is not HTTP): answered in the one error shape too, on the socket, then closed.
 */
function clientErrorResponse(err: Error & { code?: string }): { status: number; code: ErrorCode; requestId: string; text: string } {
  const requestId = randomUUID();
  const [status, reason, code, message]: [number, string, ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request headers are larger than the server reads (16 KB)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'the request did not arrive in time']
        : err.code === 'HPE_INVALID_CHARACTER' || err.code === 'HPE_INVALID_URL'
          ? [
              400,
              'Bad Request',
              'validation_failed',
              'the request line holds characters that must be percent-encoded (UTF-8): e.g. curl -G --data-urlencode "address=仙台市" …',
            ]
          : [400, 'Bad Request', 'validation_failed', 'the request is not HTTP the server can read'];
  const body = JSON.stringify(errorBody(code, message, requestId));
  return {
    status,
    code,
    requestId,
    text: `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  };
}

/** An error Fastify's router meets before a route: its status, code and message. */
function frameworkErrorAnswer(err: FastifyError): [number, ErrorCode, string] {
  // A path segment longer than the router reads (100 characters; no ID here is half as long): 414.
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return [414, 'uri_too_long', 'a path segment is longer than any this API takes (100 characters)'];
  return [400, 'validation_failed', `${err.message.slice(0, 200)}; percent-encode the path and query as UTF-8`];
}

/** What the server log and the metrics keep of an answer. */
interface Answer {
  /** Null when the HTTP parser could not read the request. */
  readonly method: string | null;
  readonly route: string | null;
  readonly status: number;
  /** Null when the request's start is not known (answered by the parser's handler). */
  readonly ms: number | null;
  /** What else is known of an answer given before a route: its error code, the length of its URL. */
  readonly extra?: Readonly<Record<string, string | number>>;
}

/**
 * The one line each answer leaves in the server log and its count in the metrics (issue 17) — also an answer
 * given before any route runs (a path segment too long, a broken escape, a header block too large), which
 * Fastify's onResponse hook never sees. Never the URL (its path holds supply point IDs, its query search
 * terms) nor a header (a cookie, a token).
 */
function recordAnswer(deps: AppDeps, log: FastifyBaseLogger, a: Answer): void {
  deps.metrics?.request(a.method, a.route, a.status, a.ms === null ? null : a.ms / 1000);
  log.info({ method: a.method, route: a.route, status: a.status, ms: a.ms === null ? null : Math.round(a.ms), ...a.extra }, 'request');
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const t = deps.httpTimeouts;
  const app = Fastify({
    logger: deps.logger === undefined || deps.logger === null ? false : serverLogger(deps.logger),
    // One line per answer is written by recordAnswer (the onResponse hook, the handlers below), without the URL.
    logController: new LogController({ disableRequestLogging: true }),
    ...(t === undefined
      ? {}
      : {
          requestTimeout: t.requestMs,
          keepAliveTimeout: t.keepAliveMs,
          // Fastify sends the time-out through the error handler (answer_timeout below); the handler's work runs
          // on until its own waits end, and whatever it returns then is not sent.
          handlerTimeout: t.answerMs,
          // Node checks these time-outs every `connectionsCheckingInterval` (30 s by default, which let 20
          // slow-header connections stay open for 75 s+): every second here.
          http: { headersTimeout: t.headersMs, connectionsCheckingInterval: 1000 },
        }),
    genReqId: () => randomUUID(),
    // Errors the router meets before a route (a malformed %-escape, a path segment too long): the one error
    // shape. No route's hooks run for them: the answer is logged and counted here.
    frameworkErrors: (err, req, res) => {
      const t0 = performance.now();
      const reply = res as FastifyReply;
      const [status, code, message] = frameworkErrorAnswer(err);
      void reply
        .header('x-request-id', req.id)
        .status(status)
        .send(errorBody(code, message, req.id));
      recordAnswer(deps, req.log, {
        method: req.method,
        route: null,
        status,
        ms: performance.now() - t0,
        extra: { error: code, urlLength: req.raw.url?.length ?? 0 },
      });
    },
    clientErrorHandler: (err, socket) => {
      // As Fastify's own handler: nothing to answer on a reset; answer once, then close — a slow client that
      // never closes its side must not keep the connection.
      const parserError = (err as { code?: string }).code;
      if (parserError === 'ECONNRESET') return;
      if (socket.writable && socket.bytesWritten === 0) {
        const answer = clientErrorResponse(err);
        socket.write(answer.text);
        // Logged by its codes only: the error's raw packet holds the request's bytes, cookies and all.
        recordAnswer(deps, app.log, {
          method: null,
          route: null,
          status: answer.status,
          ms: null,
          extra: { reqId: answer.requestId, error: answer.code, ...(parserError === undefined ? {} : { parserError }) },
        });
      }
      socket.destroy(err);
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    trustProxy: typeof deps.trustProxy === 'number' ? trustHops(deps.trustProxy) : (deps.trustProxy ?? false),
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'] },
    },
  });
  await app.register(cookie);
  // Counted in the store, so every server process counts one limit together (issue 21, rate-limit-store.ts).
  await app.register(rateLimit, { global: false, store: storeRateLimits(deps.db) });
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

  // After its answer time-out a handler's waits run on until their own time-outs; when it ends there is nothing
  // left to send. That end is logged here, at info, by how it ended — not as Fastify's error line per late
  // request ("Promise errored, but reply.sent = true was set"). A reply sent for another reason (a streamed
  // export that failed after its headers) is still Fastify's to log, as an error. A handler that sends its
  // answer itself and does so late meets Fastify's "already sent" warning, which server-log.ts rewrites
  // without the URL it quotes.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    // The console's files stream after their headers: the answer time-out would cut a slow download off.
    if (!route.url.startsWith('/api/') && route.handlerTimeout === undefined) route.handlerTimeout = LONG_RUNNING_MS;
    route.handler = async function (this: FastifyInstance, req, reply) {
      try {
        const out: unknown = await handler.call(this, req, reply);
        // Nothing (or the reply) when the handler sent its answer itself; a value now would be a second answer.
        if (!reply.sent || out === undefined || !timedOut(req)) return out;
        req.log.info({ outcome: 'finished' }, 'request ended after its answer time-out');
      } catch (e) {
        if (!reply.sent || !timedOut(req)) throw e;
        req.log.info({ outcome: 'failed', error: errorFields(e) }, 'request ended after its answer time-out');
      }
      return undefined;
    };
  });

  // Before the authentication hook and every route: NUL, lone surrogates, non-decimal or huge integers are a 400 (issue 14).
  registerInputGuards(app, [SESSION_COOKIE, OIDC_COOKIE, DEVICE_COOKIE]);
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

  // The decision table this server runs, kept with its checklist verdict for the exposure report of any later
  // period (issue 22). Evidence about the table, not a condition of serving: a store that refuses it now is
  // said in the server log, and the report then names the version without judging it.
  try {
    await recordPolicyVersion(deps.db, deps.firewall.table, deps.clock());
  } catch (e) {
    app.log.warn({ error: errorFields(e) }, 'the decision table could not be recorded (policy_versions)');
  }

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    recordAnswer(deps, req.log, { method: req.method, route: req.routeOptions.url ?? null, status: reply.statusCode, ms: reply.elapsedTime });
  });
  // The writer's alerts go to the server log in full; the public readiness answer only says that they happened.
  // A failing witness is tried again after every group commit: one line when it starts failing or fails
  // otherwise, then one a minute while it goes on (counting the attempts between), not one per commit.
  let witnessLine: { reason: string; at: number; since: number } | null = null;
  const unwatch = deps.evidence.writer.watch({
    halted: (reason) => app.log.error({ alert: 'log_halted', reason }, 'the access log writer stopped the line: no customer data is served'),
    witnessFailed: (reason) => {
      const now = deps.clock().getTime();
      // The same failure whichever seal met it (the reason names the seal's event).
      const kind = reason.replace(/\bevent \d+/, 'event …');
      if (witnessLine !== null && witnessLine.reason === kind && now - witnessLine.at < WITNESS_ALERT_EVERY_MS) {
        witnessLine.since++;
        return;
      }
      const failedSince = witnessLine?.reason === kind ? witnessLine.since : 0;
      app.log.error({ alert: 'witness_failing', reason, failedSince }, 'a seal could not be published to the witness');
      witnessLine = { reason: kind, at: now, since: 0 };
    },
  });
  app.addHook('onClose', async () => unwatch());
  // The read replica leaving and coming back: one line each (never per read; the metrics count the reads).
  const unwatchReplica = deps.replica?.watch({
    fellBack: (s) =>
      app.log.warn(
        { replica: s.state, failure: s.reason, lagSeconds: s.lagSeconds, ...(s.reason === 'schema' ? { problem: deps.replica?.schemaProblem } : {}) },
        'the read replica is not used: searches, the analysis and the log exports read the primary until it is fit again',
      ),
    recovered: (s) => app.log.info({ replica: s.state, lagSeconds: s.lagSeconds }, 'the read replica is used again'),
  });
  if (unwatchReplica !== undefined) app.addHook('onClose', async () => unwatchReplica());

  app.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => {
    if (err instanceof ApiError) return reply.status(ERROR_STATUS[err.code]).send(errorBody(err.code, err.message, req.id, err.details));
    if (err instanceof Refusal && err.family !== 'input') {
      // Every service's "no", answered in one place: its kind chooses the status, its rule goes on the wire.
      // (An `input` refusal — the server's own configuration, key or files — is no client's fault: a 500 below.)
      const retryAfter = err.details['retryAfterSeconds'];
      if ((err.kind === 'busy' || err.kind === 'limited') && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return reply.status(REFUSAL_STATUS[err.kind]).send(errorBody(refusalCode(err.family, err.kind), err.message, req.id, { ...err.details, rule: err.rule }));
    }
    // A client's own fault that Fastify reports (an aborted body is ECONNRESET with status 400) is never a store failure.
    const clientFault = (err as FastifyError).statusCode !== undefined && ((err as FastifyError).statusCode ?? 500) < 500;
    const failure = clientFault ? null : storeFailure(err);
    if (err instanceof LogUnavailableError) {
      req.log.error({ error: errorFields(err), store: failure }, 'access log unavailable: no customer data served');
      reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS));
      return reply
        .status(ERROR_STATUS.log_unavailable)
        .send(errorBody('log_unavailable', err.message, req.id, failure === null ? undefined : { store: failure }));
    }
    if ((err as FastifyError).code === 'FST_ERR_HANDLER_TIMEOUT') {
      const ms = deps.httpTimeouts?.answerMs ?? 0;
      req.log.warn({ answerMs: ms }, 'no answer in time: nothing served');
      // A read can simply be asked again. A change may still be made by the handler that runs on: whether it
      // was is to be looked up, not retried blindly (a second grant request, a second declaration).
      const read = req.method === 'GET' || req.method === 'HEAD';
      if (read) reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS));
      const message = read
        ? `no answer within ${ms / 1000} s (the database or the access log is slow); nothing was served. Try again shortly`
        : `no answer within ${ms / 1000} s (the database or the access log is slow): whether the change was made is not known yet; look it up before trying again`;
      return reply.status(ERROR_STATUS.answer_timeout).send(errorBody('answer_timeout', message, req.id));
    }
    if (failure !== null) {
      req.log.warn({ error: errorFields(err), store: failure }, failure === 'timeout' ? 'store timed out' : 'store unreachable');
      reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS));
      const message =
        failure === 'timeout'
          ? 'the database did not answer in time; nothing was served. Try again shortly'
          : 'the database cannot be reached; nothing was served. Try again shortly';
      return reply.status(ERROR_STATUS.store_unavailable).send(errorBody('store_unavailable', message, req.id, { store: failure }));
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
    req.log.error({ error: errorFields(err) }, 'unhandled error');
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

  registerHealthRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerOidcRoutes(app, deps);
  registerSupplyPointRoutes(app, deps);
  registerPolicyRoutes(app, deps);
  registerVocabularyRoutes(app);
  registerAuditRoutes(app, deps);
  registerGovernanceRoutes(app, deps);
  await registerScimRoutes(app, deps);
  registerAdminRoutes(app, deps);
  registerTerminalDeviceRoutes(app, deps);
  registerTerminalRequestRoutes(app, deps);
  registerImportRoutes(app, deps);
  registerEmergencyRoutes(app, deps);
  registerAnalysisRoutes(app, deps);
  registerInquiryRoutes(app, deps);
  registerHomeRoutes(app, deps);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (deps.extend !== undefined) await deps.extend(app);
  await app.ready();
  return app;
}
