import { createHash } from 'node:crypto';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { statement, type Queryable } from '../store/db.ts';

/**
 * Counts for `@fastify/rate-limit` kept in the store (issue 21), so that every server process — the workers of
 * `gridwall start --workers N`, or servers on several hosts behind a proxy — counts one login limit together:
 * N processes must not allow N times the attempts. One statement per attempt (an upsert on the window's row,
 * the database's clock deciding when a window ends); a store that cannot answer fails the attempt (the login
 * could not have been checked anyway). Keys are kept as digests (migration 018).
 */
const HIT = statement(
  'gw_rate_limit_hit',
  `INSERT INTO rate_limit_windows AS w (key_digest, hits, window_ends)
   VALUES ($1, 1, now() + make_interval(secs => $2::double precision / 1000))
   ON CONFLICT (key_digest) DO UPDATE SET
     hits = CASE WHEN w.window_ends <= now() THEN 1 ELSE w.hits + 1 END,
     window_ends = CASE WHEN w.window_ends <= now() THEN EXCLUDED.window_ends ELSE w.window_ends END
   RETURNING hits, greatest(0, ceil(extract(epoch FROM w.window_ends - now()) * 1000))::int AS ttl`,
);

const READ = statement(
  'gw_rate_limit_read',
  `SELECT hits, greatest(0, ceil(extract(epoch FROM window_ends - now()) * 1000))::int AS ttl
   FROM rate_limit_windows WHERE key_digest = $1 AND window_ends > now()`,
);

/** Windows that ended are removed once in this many attempts (per process), a minute after they ended. */
const SWEEP_EVERY = 200;

type Callback = Parameters<FastifyRateLimitStore['incr']>[1];

/** What the plugin passes to `child` at run time (its typings name the route's options instead). */
interface RouteParams {
  readonly routeInfo?: { readonly method?: string; readonly url?: string };
  /** Names a limiter made with `createRateLimit` (which has no route): its counts are its own. */
  readonly nameSpace?: string;
}

/** The store's class, bound to `db`: `@fastify/rate-limit` makes it with `new` and asks each route for a child. */
export function storeRateLimits(db: Queryable): FastifyRateLimitStoreCtor {
  let attempts = 0;
  const digest = (prefix: string, key: string) => createHash('sha256').update(prefix).update('\0').update(key).digest('base64url');

  class StoreRateLimits implements FastifyRateLimitStore {
    readonly #prefix: string;
    constructor(params: object, prefix = '') {
      this.#prefix = prefix !== '' ? prefix : ((params as RouteParams).nameSpace ?? 'global');
    }

    incr(key: string, cb: Callback, timeWindow: number): void {
      attempts++;
      if (attempts % SWEEP_EVERY === 0) void db.query(`DELETE FROM rate_limit_windows WHERE window_ends < now() - interval '1 minute'`).catch(() => undefined);
      db.query<{ hits: number; ttl: number }>(HIT, [digest(this.#prefix, key), timeWindow]).then(
        ({ rows: [r] }) => cb(null, { current: r?.hits ?? 1, ttl: r?.ttl ?? timeWindow }),
        (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
      );
    }

    read(key: string, cb: Callback): void {
      db.query<{ hits: number; ttl: number }>(READ, [digest(this.#prefix, key)]).then(
        ({ rows: [r] }) => cb(null, { current: r?.hits ?? 0, ttl: r?.ttl ?? 0 }),
        (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
      );
    }

    child(routeOptions: object): StoreRateLimits {
      const params = routeOptions as RouteParams;
      const route = params.routeInfo?.url === undefined ? (params.nameSpace ?? 'limiter') : `${params.routeInfo.method ?? ''} ${params.routeInfo.url}`;
      return new StoreRateLimits(params, route);
    }
  }
  return StoreRateLimits;
}
