import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/**
 * The server's own log: one JSON line per request (request id, route pattern, method, status, duration) and a
 * line for each failure an operator must act on. Never customer data, never a search term, never a token or a
 * cookie: the raw URL is not logged (its query string carries the search terms — a name, a phone number), only
 * the route's pattern; headers are not logged; an error from the database is logged by its SQLSTATE and
 * routine, not its message (PostgreSQL quotes the offending value in it). Tested in test/api/server-log.test.ts.
 */
export interface ServerLogOptions {
  /** pino's level: `info` by default; `silent` switches it off (tests that do not read it). */
  readonly level?: string;
  /** Where the lines go (standard output by default). */
  readonly stream?: { write(line: string): void };
}

/** What a request contributes to a log line: never its URL, headers or body. */
function requestFields(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, route: req.routeOptions?.url ?? null };
}

/** An error as logged: its class and codes; its message only when it cannot carry a stored value. */
export function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { type: typeof e };
  const { code, routine, statusCode } = e as { code?: unknown; routine?: unknown; statusCode?: unknown };
  // A SQLSTATE: five characters with a digit (EPIPE, EPERM and EBUSY are the system's, with their messages).
  const fromDatabase = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && /\d/.test(code);
  return {
    type: e.name,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    ...(fromDatabase ? { routine } : { message: e.message, stack: e.stack }),
    ...(e.cause === undefined ? {} : { cause: errorFields(e.cause) }),
  };
}

/** Fastify's warning for a second answer to one request quotes the request's URL (a supply point ID, a search term). */
function secondAnswer(arg: unknown): boolean {
  const err = typeof arg === 'object' && arg !== null ? (arg as { err?: unknown }).err : undefined;
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'FST_ERR_REP_ALREADY_SENT';
}

export function serverLogger(opts: ServerLogOptions = {}): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: opts.level ?? 'info',
    ...(opts.stream === undefined ? {} : { stream: opts.stream }),
    hooks: {
      // Fastify's "Reply was already sent … in <URL>" (a handler that sent its answer after the answer time-out,
      // or twice): said without the URL, at the same level.
      logMethod(args, method) {
        if (secondAnswer(args[0]))
          return method.call(
            this,
            { error: { type: 'FastifyError', code: 'FST_ERR_REP_ALREADY_SENT' } },
            'a second answer to an answered request was not sent',
          );
        return method.apply(this, args);
      },
    },
    // Lines pass errors through errorFields themselves (as `error`); a stray `req` is cut down to these fields.
    serializers: {
      req: requestFields,
      // Fastify's own error lines (`{err}`) pass through the same filter as ours.
      err: (e: Error) => ({ type: e.name, message: '', stack: '', ...errorFields(e) }),
    },
  };
}
