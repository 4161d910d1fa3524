import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TrustAnchors } from '../audit/trust.ts';
import type { WriterAlerts, WriterStatus } from '../audit/log-writer.ts';
import type { Firewall } from '../firewall/firewall.ts';
import type { ReadingTallyStatus } from '../firewall/reading-tally.ts';
import type { OidcLogin } from '../identity/oidc.ts';
import type { Sessions } from '../identity/session-store.ts';
import type { Actor } from '../domain/actor.ts';
import type { SodPolicy } from '../domain/separation-of-duties.ts';
import type { Db, Queryable } from '../store/db.ts';
import type { ReplicaReads } from '../store/replica.ts';
import type { MailSettings } from '../governance/mailer.ts';
import { ApiError } from './errors.ts';
import type { ServerLogOptions } from './server-log.ts';

// What every route module needs from the application — its dependencies, the request's actor, the route's
// name — in a module of its own, so that app.ts imports the routes and no route imports app.ts back.

export type Clock = () => Date;

/** Login attempts per minute for one user ID, on every login route (password, demo). */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;

/**
 * A client address may make this many times more: a call centre behind one proxy logs in as many people at
 * nine o'clock, and must not be locked out by the limit meant for guessing one person's password (issue 17);
 * guessing across many user IDs from one address is still bounded.
 */
export const LOGIN_ADDRESS_FACTOR = 10;

/** Longest a request waits for the analysis queue before it is told to come back (503 with Retry-After). */
export const ANALYSIS_WAIT_MS = 15_000;

/** Longest a request waits for its turn to build a workbook of the log before it is told to come back (503 export_busy with Retry-After). */
export const EXPORT_WAIT_MS = 15_000;

export interface AppDeps {
  /** The primary: the record look-up, sessions, grants, emergencies, governance, every write. */
  readonly db: Db;
  /**
   * The read replica (DATABASE_REPLICA_URL; store/replica.ts), for the reads that may lag — the analysis over
   * the live log and the log's exports (the firewall's searches get it at construction). Absent or null: those
   * reads go to `db`. Routes name it through `readDb(deps)`; readiness and the server log report its state.
   */
  readonly replica?: ReplicaReads | null;
  readonly firewall: Firewall;
  /** The log as evidence: what verification trusts (never the database's own keys), the witness, the writer's state. */
  readonly evidence: {
    readonly trust: TrustAnchors;
    readonly witnessFile: string | null;
    readonly writer: {
      readonly halted: string | null;
      readonly witnessError: string | null;
      status(): WriterStatus;
      /** Tells `alerts` of a halt and of a seal not published (the server log); returns how to stop telling. */
      watch(alerts: WriterAlerts): () => void;
    };
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
  /** Longest a declared emergency may run before an extension (confirmed again) is needed (GRIDWALL_EMERGENCY_MAX_HOURS). */
  readonly emergencyMaxHours: number;
  /** Separation of duties enforced on grants (GRIDWALL_SOD_PAIRS, GRIDWALL_SOD_RECIPROCAL_DAYS); absent: the defaults. */
  readonly separationOfDuties?: SodPolicy;
  /** Days without a login after which an account is dormant, and a terminal unused (default 90). */
  readonly dormantDays: number;
  /** The server's external base URL (e.g. https://gridwall.example.jp), for absolute links such as SCIM locations. */
  readonly publicUrl?: string;
  /** Notifications mailed through SMTP too (GRIDWALL_SMTP_*; governance/mailer.ts); null or absent: in-app only. */
  readonly mail?: MailSettings | null;
  /** Login attempts allowed per user ID per minute (the server: LOGIN_ATTEMPTS_PER_MINUTE); per client address, LOGIN_ADDRESS_FACTOR times that. */
  readonly loginRateLimit: number;
  /**
   * A terminal ID the person typed or sent at login where no device binding or trusted proxy names one:
   * `accept` records it as the person's claim, `ignore` drops it (GRIDWALL_TERMINAL_CLAIMS); absent: accept.
   */
  readonly terminalClaims?: 'accept' | 'ignore';
  /** A terminal asserted by a trusted reverse proxy (GRIDWALL_TERMINAL_HEADER; api/terminal-binding.ts); absent: none. */
  readonly terminalProxy?: TerminalProxy | null;
  /** Fastify's trustProxy: whose X-Forwarded-For gives the client's address (GRIDWALL_TRUST_PROXY); absent: nobody's. */
  readonly trustProxy?: boolean | number | string;
  /** Longest a report or scan waits for the analysis queue (the server: ANALYSIS_WAIT_MS). */
  readonly analysisWaitMs: number;
  /** The Parquet archive of closed months the live analysis reads (GRIDWALL_ANALYSIS_ARCHIVE_DIR); absent: the database only. */
  readonly analysisArchiveDir?: string;
  /** Longest a workbook of the log waits for its turn (audit/export.ts LOG_XLSX_QUEUE); absent: EXPORT_WAIT_MS. */
  readonly exportWaitMs?: number;
  /** Extra routes mounted before the server starts (the benchmark's bare route, the console's assets). */
  readonly extend?: (app: FastifyInstance) => void | Promise<void>;
  /** The server log (api/server-log.ts); absent or null: none (tests that do not read it). */
  readonly logger?: ServerLogOptions | null;
  /**
   * What readiness watches besides the store and the log: directories whose disks must keep room, each under
   * its label — the public answer names a disk by its label, never its path.
   */
  readonly health?: { readonly disks: readonly { readonly label: DiskLabel; readonly path: string }[]; readonly minFreeDiskBytes: number };
  /**
   * Counts requests for the metrics (api/metrics.ts); absent: none kept. `method` is null for a request the
   * HTTP parser could not read, `seconds` null when its start is not known (answered by the parser's handler).
   */
  readonly metrics?: { request(method: string | null, route: string | null, status: number, seconds: number | null): void };
  /** The HTTP server's time-outs (config.ts#HttpTimeouts); absent: Node's and Fastify's defaults. */
  readonly httpTimeouts?: HttpTimeouts;
  /**
   * Detection controls that run beside the reads (firewall/reading-tally.ts): readiness says `degraded` while
   * one fails — reads go on, the control is off until it recovers. Absent: none reported.
   */
  readonly detection?: { readonly bulkReading: { status(): ReadingTallyStatus } };
}

/** A terminal asserted by a reverse proxy: the header it sets, and whether a connection comes from it. */
export interface TerminalProxy {
  /** Lower-case header name, e.g. `x-client-cert-cn`. */
  readonly header: string;
  /** Whether the connection's peer address is one of the trusted proxies. */
  trusted(peer: string): boolean;
}

/** What a disk readiness watches holds: the embedded store's data directory, the witness file's directory. */
export const DISK_LABELS = ['data', 'witness'] as const;
export type DiskLabel = (typeof DISK_LABELS)[number];

/** How long the HTTP server waits, in milliseconds (documented in docs/CONFIGURATION.md). */
export interface HttpTimeouts {
  /** The whole request, headers and body, from the first byte (Fastify's requestTimeout). */
  readonly requestMs: number;
  /** The request's headers (Node's headersTimeout): a client that sends them slowly is cut off. */
  readonly headersMs: number;
  /** An idle kept-alive connection between requests. */
  readonly keepAliveMs: number;
  /**
   * From routing to the answer (Fastify's handlerTimeout): each wait on the store has its own time-out, but a
   * request waits on several (the session, the records, the log's commit), so only this bounds the whole.
   */
  readonly answerMs: number;
}

/** What the routes that work long on purpose (verifying the whole log, exporting a year, an analysis) may take. */
export const LONG_RUNNING_MS = 3_600_000;

export const SESSION_COOKIE = 'gw_session';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    /** The session's CSRF token, for `/api/me` (a reloaded console page needs it for state changes). */
    csrfToken: string | null;
  }
}

/**
 * Where a route's reads that may be seconds behind go: the read replica when one is configured (which sends
 * them to the primary by itself while it is down or too far behind), else the primary. Never for a read that
 * must see the latest state (a record, a session, a grant) nor for a write: those use `deps.db`.
 */
export function readDb(deps: AppDeps): Queryable {
  return deps.replica ?? deps.db;
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
