/**
 * Whether an error means the store itself could not answer — unreachable, shutting down, out of connections,
 * or past a time-out — rather than a fault in the query. Such a failure is the store's, not the request's:
 * the API answers 503 `store_unavailable` with Retry-After (issue 17: a database that was down answered 500
 * `internal` for 99.8 % of the errors), whichever query met it first (the session look-up, the records, the log).
 */
export type StoreFailure = 'unreachable' | 'timeout';

/** Errors of the operating system's network stack that mean the server cannot be reached. */
const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/**
 * SQLSTATEs meaning the server is not taking work: class 08 (connection exception; not 08P01, a protocol
 * violation, which is the query's fault), 57P01–57P03 (shutting down, crashed, not accepting connections
 * yet), 53300 (too many connections).
 */
const UNREACHABLE_SQLSTATE = /^(08(?!P01)...|57P01|57P02|57P03|53300)$/;
/** 57014: cancelled by statement_timeout; 25P03: idle-in-transaction time-out; 55P03: lock not available in time. */
const TIMEOUT_SQLSTATE = new Set(['57014', '25P03', '55P03']);

/** node-postgres's own words for a connection it gave up on (it throws plain Errors for these). */
const UNREACHABLE_MESSAGE = /^(Connection terminated|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;
const TIMEOUT_MESSAGE = /^(timeout exceeded when trying to connect|Query read timeout|Connection terminated due to connection timeout)/;

/** A wait on the store that `withinDeadline` gave up on: a store failure of kind `timeout`. */
export class StoreDeadlineError extends Error {
  constructor(ms: number) {
    super(`the store did not answer within ${ms} ms`);
  }
}

/**
 * `work`, or a StoreDeadlineError after `ms` — for checks that must answer in time although the store does
 * not (readiness, a metrics scrape). The work itself runs on until the pool's own time-outs end it: run such
 * work through `singleFlight`, so that checks repeated meanwhile do not start more of it.
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new StoreDeadlineError(ms)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `work` run once at a time: a call while a run is in flight gets that run's promise (its answer or its
 * failure) instead of starting another. Readiness probes and metrics scrapes give up waiting after their
 * deadline while their query runs on; against a frozen store every probe left one more query holding a pool
 * connection until the pool's own time-out, and a load balancer probing every second took the whole pool.
 */
export function singleFlight<T>(work: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () =>
    (running ??= work().finally(() => {
      running = null;
    }));
}

/** The store failure behind `e` (looking through its causes), or null when `e` is not one. */
export function storeFailure(e: unknown): StoreFailure | null {
  for (let cur: unknown = e, depth = 0; cur !== null && cur !== undefined && depth < 8; depth++) {
    if (typeof cur !== 'object') return null;
    if (cur instanceof StoreDeadlineError) return 'timeout';
    const { code, message } = cur as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (TIMEOUT_SQLSTATE.has(code)) return 'timeout';
      if (UNREACHABLE_ERRNO.has(code) || UNREACHABLE_SQLSTATE.test(code)) return 'unreachable';
    }
    if (typeof message === 'string') {
      if (TIMEOUT_MESSAGE.test(message)) return 'timeout';
      if (UNREACHABLE_MESSAGE.test(message)) return 'unreachable';
    }
    // An AggregateError (a host with several addresses, each refused) carries its reasons in `errors`.
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.some((x) => storeFailure(x) !== null)) return storeFailure(errors.find((x) => storeFailure(x) !== null));
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}
