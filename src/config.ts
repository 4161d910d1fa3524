import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { OIDC_REAUTH, type OidcSettings } from './identity/oidc.ts';
import { DEFAULT_DORMANT_DAYS } from './identity/lifecycle.ts';
import { terminalProxy, TrustedProxyError } from './api/terminal-binding.ts';
import { inputRefusal } from './domain/refusal.ts';
import { RETAIL_ON_NETWORK_POLICIES, type RetailOnNetworkPolicy } from './domain/terminal.ts';
import type { ReadLimits } from './domain/read-limits.ts';
import type { StoreTimeouts } from './store/postgres.ts';
import type { HttpTimeouts } from './api/context.ts';
import type { MailSettings } from './governance/mailer.ts';
import type { AlertSettings } from './analysis/alert-dispatcher.ts';
import { DEFAULT_RECIPROCAL_DAYS, DEFAULT_SOD_PAIRS, parseSodPairs, SOD_PAIR_IDS, sodPolicy, type SodPolicy } from './domain/separation-of-duties.ts';

/** GRIDWALL_HTTP_ANSWER_TIMEOUT_MS's default: above the database's query time-out, below a proxy's usual 30–60 s. */
export const ANSWER_TIMEOUT_DEFAULT_MS = 25_000;

const BOOLEAN_WORDS = ['true', 'false', '1', '0', 'yes', 'no'] as const;
const bool = z.enum(BOOLEAN_WORDS).transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A rate or volume limit on reading (domain/read-limits.ts); counted per server process. */
const limit = (byDefault: number, what: string) => z.coerce.number().int().min(1).max(1_000_000).default(byDefault).describe(what);

const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe('PostgreSQL server (postgres://user@host:5432/db); unset: the embedded store (PGlite) in GRIDWALL_DATA_DIR'),
  DATABASE_REPLICA_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "a streaming replica of DATABASE_URL's database (the application role's login, read-only): searches find their candidate IDs there (each confirmed and loaded on the primary), the analysis over the live log and the log's exports read it; the record look-up and every write stay on the primary. Down, behind the lag limit, or erring: those reads go to the primary (readiness degraded). Only with DATABASE_URL (docs/DEPLOYMENT.md, Read replicas)",
    ),
  GRIDWALL_REPLICA_MAX_LAG_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(30)
    .describe('with DATABASE_REPLICA_URL: a replica further behind the primary than this is not read (its reads go to the primary until it catches up)'),
  GRIDWALL_DATA_DIR: z
    .string()
    .default('./data')
    .describe("the embedded store's directory (locked: one process at a time); also where its signing key and witness live by default"),
  HOST: z.string().default('127.0.0.1').describe('address the API listens on'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('port the API listens on (0: any free port)'),
  GRIDWALL_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe(
      'server processes sharing the port (node:cluster), each with its own pool and log writer, on one PostgreSQL; more than 1 needs DATABASE_URL. The metrics port of process k is GRIDWALL_METRICS_PORT + k - 1',
    ),
  GRIDWALL_DEMO_LOGIN: bool
    .optional()
    .describe(
      'persona login without a password: on by default for the embedded store, off with DATABASE_URL; only the seeded demo personas, never an account with credentials, never with single sign-on',
    ),
  GRIDWALL_PASSWORD_LOGIN: bool.default(true).describe('local accounts: password + TOTP login (docs/identity.md)'),
  GRIDWALL_TOTP_KEY: z
    .string()
    .min(1)
    .optional()
    .describe('32 bytes (64 hex digits or base64) that encrypt TOTP secrets at rest; unset stores them in the clear'),
  GRIDWALL_SECURE_COOKIES: bool.default(true).describe('Secure on the session cookie (browsers accept it on localhost over http)'),
  GRIDWALL_SESSION_IDLE_MINUTES: z.coerce.number().int().positive().default(30).describe('a session unused this long ends'),
  GRIDWALL_SESSION_ABSOLUTE_HOURS: z.coerce.number().positive().default(10).describe('a session ends this long after login, used or not'),
  GRIDWALL_SESSION_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(1000)
    .describe('how long a process reuses a live session it has read (0: read on every request); a session ended elsewhere takes effect within this time'),
  GRIDWALL_DEMO_SUPPLY_POINTS: z.coerce.number().int().min(50).default(20000).describe("size of the demo area generated on the embedded store's first start"),
  GRIDWALL_LOG_BATCH: z.coerce.number().int().min(1).max(10000).default(500).describe('largest group commit of access-log events'),
  GRIDWALL_LOG_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Ed25519 private key (PKCS#8 PEM) that seals every group commit; required with DATABASE_URL and registered for the log (gridwall audit key register [--generate]); embedded default: <data dir>/log-signing-key.pem, generated on first start',
    ),
  GRIDWALL_LOG_TRUSTED_KEYS: z
    .string()
    .min(1)
    .optional()
    .describe("a file of PEM public keys whose seals are trusted too: earlier (rotated) keys, or another server process's"),
  GRIDWALL_LOG_WITNESS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'the append-only file seals are published to, outside the database (ship it to write-once storage); default: log-witness.jsonl beside the signing key',
    ),
  GRIDWALL_LOG_CHECKPOINT_EVENTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(1000)
    .describe('a seal is published to the witness at least every this many events'),
  GRIDWALL_LOG_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60).describe('… and at least every this many seconds'),
  GRIDWALL_LOG_RETENTION_YEARS: z.coerce.number().int().min(1).max(100).default(5).describe('months younger than this are never archived'),
  GRIDWALL_ANALYSIS_ARCHIVE_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      "where the analysis keeps each closed month of the access log as a Parquet file, exported once and read by every later report (a cache keyed by the partition's content: re-exported when it changes; the open month is read from the database); default: log-parquet beside the signing key (docs/DEPLOYMENT.md, The Parquet archive for analysis)",
    ),
  GRIDWALL_UNKNOWN_TERMINAL: z
    .enum(['refuse', 'limit'])
    .default('limit')
    .describe('a login from an unregistered terminal (or none): refuse it, or limit it (narrowed like a retail terminal)'),
  GRIDWALL_RETAIL_ON_NETWORK_TERMINAL: z
    .enum(RETAIL_ON_NETWORK_POLICIES)
    .default('refuse')
    .describe(
      "a login of a retailer's person (affiliated or other retailer, contractors acting for one included) at a terminal standing at a network site: refuse it, or limit it (let through with what the person's own side allows; a terminal never widens); either way a live finding retail_on_network_terminal (high)",
    ),
  GRIDWALL_DORMANT_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3660)
    .default(DEFAULT_DORMANT_DAYS)
    .describe('days without a login after which an account is dormant and disabled by the daily sweep (and a terminal counts as unused)'),
  GRIDWALL_PUBLIC_URL: z
    .string()
    .url()
    .optional()
    .describe("the server's external base URL, for absolute links (SCIM meta.location, the single sign-on callback)"),
  GRIDWALL_EMERGENCY_MAX_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(720)
    .default(72)
    .describe('longest a declared emergency runs before an extension (confirmed by a second person) is needed'),
  GRIDWALL_SOD_PAIRS: z
    .string()
    .default(DEFAULT_SOD_PAIRS.join(','))
    .describe(
      `separation of duties: the incompatible permission pairs enforced when a grant is requested and approved, comma-separated, or none (${SOD_PAIR_IDS.join(', ')}; docs/controls.md)`,
    ),
  GRIDWALL_SOD_RECIPROCAL_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3660)
    .default(DEFAULT_RECIPROCAL_DAYS)
    .describe(
      'separation of duties: A may not approve anything for B (a grant, a terminal request, a device binding, an API token, an emergency declaration) within this many days of B approving anything for A (0: not enforced)',
    ),
  GRIDWALL_READ_RECORDS_PER_MINUTE: limit(
    60,
    'records one person may open (look-ups) in any 60 s under one purpose; over it reads are refused (429, logged, a finding)',
  ),
  GRIDWALL_READ_RECORDS_PER_DAY: limit(5000, 'records opened plus search result rows one person may read in any 24 h under one purpose'),
  GRIDWALL_READ_SEARCH_ROWS_PER_MINUTE: limit(
    500,
    'search result rows one person may be shown in any 60 s under one purpose (a search admitted under the limit counts all its rows)',
  ),
  GRIDWALL_EMERGENCY_READ_RECORDS_PER_MINUTE: limit(20, 'as GRIDWALL_READ_RECORDS_PER_MINUTE, under emergency_support (no looser than it)'),
  GRIDWALL_EMERGENCY_READ_RECORDS_PER_DAY: limit(500, 'as GRIDWALL_READ_RECORDS_PER_DAY, under emergency_support (no looser than it)'),
  GRIDWALL_EMERGENCY_READ_SEARCH_ROWS_PER_MINUTE: limit(100, 'as GRIDWALL_READ_SEARCH_ROWS_PER_MINUTE, under emergency_support (no looser than it)'),
  GRIDWALL_READ_PERSON_RECORDS_PER_DAY: limit(
    5000,
    'records opened plus search result rows one person may read in any 24 h under all purposes together (a person entitled to several purposes may not read a day limit under each); the tightest limit that applies wins',
  ),
  GRIDWALL_INQUIRY_ANSWERS_PER_DAY: limit(
    10_000,
    "inquiries answered with a consent that holds, per person (a retailer's system: its service account's person) in any 24 h; past it, answers are refused (429, logged, a finding)",
  ),
  GRIDWALL_CONSENT_REFUSALS_PER_DAY: limit(
    20,
    'inquiries whose consent check did not hold, per person in any 24 h; past it, consent checks are refused (429, logged, a finding)',
  ),
  GRIDWALL_OIDC_ISSUER: z.string().url().optional().describe('single sign-on: the OpenID Connect provider (Keycloak, Entra ID); unset: no single sign-on'),
  GRIDWALL_OIDC_CLIENT_ID: z.string().min(1).optional().describe("single sign-on: this client's ID at the provider"),
  GRIDWALL_OIDC_CLIENT_SECRET: z.string().min(1).optional().describe('single sign-on: the client secret; unset: a public client with PKCE'),
  GRIDWALL_OIDC_REDIRECT_URI: z
    .string()
    .url()
    .optional()
    .describe('single sign-on: the callback registered at the provider; default <GRIDWALL_PUBLIC_URL>/api/auth/oidc/callback'),
  GRIDWALL_OIDC_LABEL: z.string().min(1).max(40).default('シングルサインオン').describe("single sign-on: the login button's text"),
  GRIDWALL_OIDC_SCOPES: z.string().default('openid').describe('single sign-on: scopes asked for'),
  GRIDWALL_OIDC_REAUTH: z
    .enum(OIDC_REAUTH)
    .default('shared')
    .describe(
      'single sign-on: when the provider must authenticate the person again (prompt=login, max_age=0, auth_time checked) — at every login, unless the browser is bound (device or proxy) to a terminal marked personal (terminals are shared by default), or never (docs/identity.md)',
    ),
  GRIDWALL_OIDC_POST_LOGOUT_REDIRECT_URI: z
    .string()
    .url()
    .optional()
    .describe(
      "single sign-on: where the provider sends the browser after its logout (register it at the provider); default the console's login page, <origin of the callback>/",
    ),
  GRIDWALL_TERMINAL_CLAIMS: z
    .enum(['accept', 'ignore'])
    .optional()
    .describe(
      "a terminal ID typed or sent at login where no device binding or trusted proxy names one: accept it as the person's claim (recorded as claimed), or ignore it; default accept on the embedded store, ignore with DATABASE_URL (docs/identity.md)",
    ),
  GRIDWALL_TERMINAL_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .optional()
    .describe(
      'behind a reverse proxy that identifies terminals (e.g. by client certificate): the header in which it names the terminal; honoured only on connections from the GRIDWALL_TRUST_PROXY addresses, which must then be addresses/CIDRs',
    ),
  GRIDWALL_SERVER_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent'])
    .default('info')
    .describe(
      "the server log (JSON lines on standard output): one per request and one per failure; never a URL's query, a header, a body, a customer value or a token",
    ),
  GRIDWALL_TRUST_PROXY: z
    .string()
    .min(1)
    .optional()
    .describe(
      "behind a reverse proxy: whose X-Forwarded-For gives the client's address — the proxies' addresses/CIDRs comma-separated, a number of hops, or `true` (anyone's: only where no client reaches gridwall but through the proxy); unset: nobody's (the login limit per address then counts the proxy)",
    ),
  GRIDWALL_METRICS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe("Prometheus metrics at GET /metrics on a port of their own (never the API's); unset: off"),
  GRIDWALL_METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('address the metrics port listens on: the monitoring network only'),
  GRIDWALL_MIN_FREE_DISK_MB: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000_000)
    .default(512)
    .describe('readiness fails when the disk under the data directory or the witness file has less free'),
  GRIDWALL_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000).describe('longest wait for a connection to PostgreSQL'),
  GRIDWALL_DB_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(15_000)
    .describe('the server cancels a statement after this (statement_timeout); the server only — demo, export and analyze wait only for the connection'),
  GRIDWALL_DB_QUERY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(20_000)
    .describe('the client gives up on an answer after this, also from a server that cannot cancel (stopped, cut off)'),
  GRIDWALL_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(60_000)
    .describe('a transaction its client abandoned is ended, releasing its locks'),
  GRIDWALL_HTTP_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(30_000)
    .describe('longest a client may take to send a whole request'),
  GRIDWALL_HTTP_HEADERS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(10_000)
    .describe('longest a client may take to send the headers (slow-header clients are cut off); not above the request time-out'),
  GRIDWALL_HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(5_000)
    .describe("an idle kept-alive connection is closed after this (behind a proxy, set it above the proxy's)"),
  GRIDWALL_HTTP_ANSWER_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(600_000)
    .default(ANSWER_TIMEOUT_DEFAULT_MS)
    .describe(
      'a request not answered within this (the database or the access log too slow, whichever of its waits) is answered 503 answer_timeout and nothing is served (a change may still be made: look it up before retrying); the audit verification, the log export and the analysis report and scan take up to an hour',
    ),
  GRIDWALL_SMTP_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'notifications are also mailed through this SMTP server: smtp://host:587 (STARTTLS when the server offers it; ?requireTLS=true insists) or smtps://user:password@host:465 (credentials percent-encoded; a secret: set it in the environment file, never on a command line); unset: in-app notifications only',
    ),
  GRIDWALL_SMTP_FROM: z.string().min(3).max(254).optional().describe("the mails' From: an address, or `名前 <address>`; required with GRIDWALL_SMTP_URL"),
  GRIDWALL_SMTP_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(120_000)
    .default(10_000)
    .describe('longest one mail may take (connecting, the greeting, sending); a mail not sent by then is recorded as failed and not retried'),
  GRIDWALL_ALERT_WEBHOOK_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'high findings are POSTed here as JSON as they are raised (https://…; signed: see GRIDWALL_ALERT_WEBHOOK_SECRET); unset: no webhook. Never customer data',
    ),
  GRIDWALL_ALERT_WEBHOOK_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe(
      'the shared secret the webhook is signed with (at least 32 characters; a secret: set it in the environment file): header x-gridwall-signature = sha256=<hex HMAC-SHA256 of "<x-gridwall-timestamp>.<body>">; required with GRIDWALL_ALERT_WEBHOOK_URL',
    ),
  GRIDWALL_ALERT_SYSLOG: z
    .string()
    .optional()
    .describe(
      'high findings are also sent to this syslog server as they are raised: udp://host:port or tcp://host:port (RFC 5424, MSGID alert, JSON); unset: none',
    ),
  GRIDWALL_ALERT_EMAIL: bool
    .default(true)
    .describe(
      'with GRIDWALL_SMTP_URL set, high findings are mailed to compliance (people holding audit.read with an e-mail address); the daily digest is mailed to them either way',
    ),
  GRIDWALL_ALERT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(120_000)
    .default(10_000)
    .describe('longest one alert delivery (webhook, syslog, mail) may take'),
  GRIDWALL_ALERT_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(8)
    .describe(
      'attempts per alert and channel before giving up (30 s after the first failure, then doubling, at most an hour apart); every attempt is recorded',
    ),
  GRIDWALL_ALERT_POLL_MS: z.coerce
    .number()
    .int()
    .min(500)
    .max(600_000)
    .default(5_000)
    .describe('how often the alert outbox is looked at besides right after a finding (retries come due this way)'),
});

export interface Config {
  /** Where the data lives: a PostgreSQL server, or embedded PGlite in a directory. */
  readonly store: { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'pglite'; readonly dataDir: string };
  /**
   * A streaming replica of the PostgreSQL server for the reads that may lag (DATABASE_REPLICA_URL,
   * GRIDWALL_REPLICA_MAX_LAG_SECONDS; store/replica.ts); null: every read on the primary.
   */
  readonly replica: { readonly url: string; readonly maxLagSeconds: number } | null;
  readonly host: string;
  readonly port: number;
  /** Server processes on the port (`gridwall start --workers`); more than 1 only on a PostgreSQL server. */
  readonly workers: number;
  /** Persona picker without a password. Only for the embedded demo; off by default on a server. */
  readonly demoLogin: boolean;
  /** Local accounts: password + TOTP login (`POST /api/session/password`). On by default. */
  readonly passwordLogin: boolean;
  /** AES-256 key that seals TOTP secrets in the store (GRIDWALL_TOTP_KEY); null stores them in the clear. */
  readonly totpKey: Buffer | null;
  readonly secureCookies: boolean;
  readonly sessionIdleMs: number;
  readonly sessionAbsoluteMs: number;
  /** How long this process reuses a live session it has read (0: read it on every request). */
  readonly sessionCacheMs: number;
  readonly demoSupplyPoints: number;
  readonly logBatch: number;
  /**
   * The Ed25519 key that signs the log's seals; `create` when it may be generated on first use (the embedded
   * store's default). Null on a PostgreSQL server without GRIDWALL_LOG_KEY_FILE: `logKeyOf` refuses then.
   */
  readonly logKey: { readonly path: string; readonly create: boolean } | null;
  /** A file of PEM public keys of earlier (rotated) signing keys whose seals are still trusted; null: none. */
  readonly logTrustedKeys: string | null;
  /** The append-only file the writer publishes seals to, outside the database (ship it to write-once storage). */
  readonly logWitnessFile: string;
  readonly logCheckpointEvents: number;
  readonly logCheckpointSeconds: number;
  /** Years the access log is kept before a partition may be archived (5: the rule for network operators). */
  readonly logRetentionYears: number;
  /** The Parquet archive of closed months the live analysis reads (GRIDWALL_ANALYSIS_ARCHIVE_DIR; analysis/log-archive.ts). */
  readonly analysisArchiveDir: string;
  /** A login from an unregistered terminal (or none): refused, or narrowed like a retail terminal. */
  readonly unknownTerminal: 'refuse' | 'limit';
  /** A retailer's person at a terminal standing at a network site: refused, or let through; a live finding either way. */
  readonly retailOnNetworkTerminal: RetailOnNetworkPolicy;
  /** A typed terminal ID where no device binding or trusted proxy names one: the person's claim, or ignored. */
  readonly terminalClaims: 'accept' | 'ignore';
  /** The header a trusted reverse proxy names the terminal in, with the proxies' addresses; null: none. */
  readonly terminalHeader: { readonly header: string; readonly proxies: string } | null;
  /** Days without a login after which an account is dormant (and a terminal unused). */
  readonly dormantDays: number;
  /** External base URL, for absolute links (SCIM locations). */
  readonly publicUrl: string | null;
  /** Longest a declared emergency runs before an extension (confirmed by a second person) is needed. */
  readonly emergencyMaxHours: number;
  /** Separation of duties: the permission pairs enforced and the reciprocal-approval period (GRIDWALL_SOD_*). */
  readonly separationOfDuties: SodPolicy;
  /** Rate and volume limits on reading (GRIDWALL_READ_*, GRIDWALL_EMERGENCY_READ_*, GRIDWALL_CONSENT_REFUSALS_PER_DAY, GRIDWALL_INQUIRY_ANSWERS_PER_DAY). */
  readonly readLimits: ReadLimits;
  /** Single sign-on through an OpenID Connect provider, or null when GRIDWALL_OIDC_ISSUER is not set. */
  readonly oidc: OidcSettings | null;
  /** The server log's level (GRIDWALL_SERVER_LOG_LEVEL): JSON lines on standard output; `silent` for none. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Fastify's trustProxy (GRIDWALL_TRUST_PROXY): false, true, a number of hops, or addresses/CIDRs. */
  readonly trustProxy: boolean | number | string;
  /** Prometheus metrics on a port of their own (GRIDWALL_METRICS_PORT, GRIDWALL_METRICS_HOST); null: off. */
  readonly metrics: { readonly host: string; readonly port: number } | null;
  /** Readiness fails when the disk under the data directory or the witness has less free (GRIDWALL_MIN_FREE_DISK_MB). */
  readonly minFreeDiskMb: number;
  /** How long the server waits on PostgreSQL (GRIDWALL_DB_*_TIMEOUT_MS). */
  readonly dbTimeouts: StoreTimeouts;
  /** How long the HTTP server waits on a client (GRIDWALL_HTTP_*_TIMEOUT_MS). */
  readonly httpTimeouts: HttpTimeouts;
  /** Notifications mailed through SMTP (GRIDWALL_SMTP_*); null: in-app only. The URL may hold a password: never log it. */
  readonly mail: MailSettings | null;
  /** Alerts of high findings and the digest (GRIDWALL_ALERT_*): webhook, syslog, mail; sent from the outbox. */
  readonly alerts: AlertSettings;
}

export class ConfigError extends inputRefusal('bad_configuration') {}

/** GRIDWALL_TOTP_KEY: 32 bytes as 64 hex digits or as base64 (`openssl rand -base64 32`). */
function totpKey(text: string | undefined): Buffer | null {
  if (text === undefined) return null;
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : null;
  if (key === null || key.length !== 32)
    throw new ConfigError('bad configuration: GRIDWALL_TOTP_KEY must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)');
  return key;
}

type Env = z.infer<typeof EnvSchema>;

/** The OpenID Connect settings: all or nothing, and a redirect URI from GRIDWALL_PUBLIC_URL when not given. */
function oidcSettings(e: Env): OidcSettings | null {
  if (e.GRIDWALL_OIDC_ISSUER === undefined) {
    if (e.GRIDWALL_OIDC_CLIENT_ID !== undefined) throw new ConfigError('bad configuration: GRIDWALL_OIDC_CLIENT_ID is set but GRIDWALL_OIDC_ISSUER is not');
    return null;
  }
  if (e.GRIDWALL_OIDC_CLIENT_ID === undefined) throw new ConfigError('bad configuration: GRIDWALL_OIDC_ISSUER needs GRIDWALL_OIDC_CLIENT_ID');
  const base = e.GRIDWALL_PUBLIC_URL;
  const redirectUri = e.GRIDWALL_OIDC_REDIRECT_URI ?? (base === undefined ? undefined : new URL('/api/auth/oidc/callback', base).href);
  if (redirectUri === undefined)
    throw new ConfigError(
      'bad configuration: GRIDWALL_OIDC_ISSUER needs GRIDWALL_OIDC_REDIRECT_URI or GRIDWALL_PUBLIC_URL (the callback is <public URL>/api/auth/oidc/callback)',
    );
  return {
    issuer: e.GRIDWALL_OIDC_ISSUER,
    clientId: e.GRIDWALL_OIDC_CLIENT_ID,
    clientSecret: e.GRIDWALL_OIDC_CLIENT_SECRET ?? null,
    redirectUri,
    label: e.GRIDWALL_OIDC_LABEL,
    scopes: e.GRIDWALL_OIDC_SCOPES,
    reauth: e.GRIDWALL_OIDC_REAUTH,
    postLogoutRedirectUri: e.GRIDWALL_OIDC_POST_LOGOUT_REDIRECT_URI ?? new URL('/', redirectUri).href,
  };
}

/** The read limits; those under emergency_support may be no looser than the others (issue 20: tightest there). */
function readLimitsOf(e: Env): ReadLimits {
  const normal = {
    recordsPerMinute: e.GRIDWALL_READ_RECORDS_PER_MINUTE,
    recordsPerDay: e.GRIDWALL_READ_RECORDS_PER_DAY,
    searchRowsPerMinute: e.GRIDWALL_READ_SEARCH_ROWS_PER_MINUTE,
  };
  const emergency = {
    recordsPerMinute: e.GRIDWALL_EMERGENCY_READ_RECORDS_PER_MINUTE,
    recordsPerDay: e.GRIDWALL_EMERGENCY_READ_RECORDS_PER_DAY,
    searchRowsPerMinute: e.GRIDWALL_EMERGENCY_READ_SEARCH_ROWS_PER_MINUTE,
  };
  const names = { recordsPerMinute: 'RECORDS_PER_MINUTE', recordsPerDay: 'RECORDS_PER_DAY', searchRowsPerMinute: 'SEARCH_ROWS_PER_MINUTE' } as const;
  for (const k of Object.keys(names) as (keyof typeof names)[]) {
    if (emergency[k] > normal[k])
      throw new ConfigError(
        `bad configuration: GRIDWALL_EMERGENCY_READ_${names[k]} (${emergency[k]}) is looser than GRIDWALL_READ_${names[k]} (${normal[k]}): the limits under emergency_support are the tightest`,
      );
  }
  return {
    normal,
    emergency,
    personRecordsPerDay: e.GRIDWALL_READ_PERSON_RECORDS_PER_DAY,
    consentRefusalsPerDay: e.GRIDWALL_CONSENT_REFUSALS_PER_DAY,
    inquiryAnswersPerDay: e.GRIDWALL_INQUIRY_ANSWERS_PER_DAY,
  };
}

/**
 * GRIDWALL_SOD_PAIRS and GRIDWALL_SOD_RECIPROCAL_DAYS: an unknown pair is refused, naming the known ones. Only
 * `none` and `0` turn a rule off: an empty value (which the number coercion would read as 0) is refused.
 */
function separationOfDuties(e: Env, raw: Readonly<Record<string, string | undefined>>): SodPolicy {
  const days = raw['GRIDWALL_SOD_RECIPROCAL_DAYS'];
  if (days !== undefined && days.trim() === '')
    throw new ConfigError(
      `bad configuration: GRIDWALL_SOD_RECIPROCAL_DAYS is empty (give a number of days, or 0 to turn the rule off; unset, it is ${DEFAULT_RECIPROCAL_DAYS})`,
    );
  const pairs = parseSodPairs(e.GRIDWALL_SOD_PAIRS);
  if ('empty' in pairs)
    throw new ConfigError(
      `bad configuration: GRIDWALL_SOD_PAIRS is empty (give some of ${SOD_PAIR_IDS.join(', ')}, comma-separated, or none to turn the rule off)`,
    );
  if ('unknown' in pairs)
    throw new ConfigError(
      `bad configuration: GRIDWALL_SOD_PAIRS: ${pairs.unknown.join(', ')} is not a pair (give some of ${SOD_PAIR_IDS.join(', ')}, comma-separated, or none)`,
    );
  return sodPolicy(pairs.ok, e.GRIDWALL_SOD_RECIPROCAL_DAYS);
}

/** GRIDWALL_TRUST_PROXY as Fastify takes it. */
function trustProxy(v: string | undefined): boolean | number | string {
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  for (const part of v.split(','))
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(part.trim()))
      throw new ConfigError(`bad configuration: GRIDWALL_TRUST_PROXY: "${part.trim()}" is not an address or CIDR (give true, a number of hops, or addresses)`);
  return v;
}

/** The alert settings: a webhook needs its secret, a syslog target its scheme (the URL and secret are never quoted). */
function alertSettings(e: Env): AlertSettings {
  if ((e.GRIDWALL_ALERT_WEBHOOK_URL === undefined) !== (e.GRIDWALL_ALERT_WEBHOOK_SECRET === undefined))
    throw new ConfigError('bad configuration: GRIDWALL_ALERT_WEBHOOK_URL and GRIDWALL_ALERT_WEBHOOK_SECRET go together (the webhook is always signed)');
  if (e.GRIDWALL_ALERT_WEBHOOK_URL !== undefined && !['http:', 'https:'].includes(new URL(e.GRIDWALL_ALERT_WEBHOOK_URL).protocol))
    throw new ConfigError('bad configuration: GRIDWALL_ALERT_WEBHOOK_URL must be an http:// or https:// URL');
  if (e.GRIDWALL_ALERT_SYSLOG !== undefined && !/^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+):\d{1,5}$/.test(e.GRIDWALL_ALERT_SYSLOG))
    throw new ConfigError('bad configuration: GRIDWALL_ALERT_SYSLOG must be udp://host:port or tcp://host:port');
  return {
    webhook:
      e.GRIDWALL_ALERT_WEBHOOK_URL === undefined || e.GRIDWALL_ALERT_WEBHOOK_SECRET === undefined
        ? null
        : { url: e.GRIDWALL_ALERT_WEBHOOK_URL, secret: e.GRIDWALL_ALERT_WEBHOOK_SECRET },
    syslog: e.GRIDWALL_ALERT_SYSLOG ?? null,
    email: e.GRIDWALL_ALERT_EMAIL,
    timeoutMs: e.GRIDWALL_ALERT_TIMEOUT_MS,
    maxAttempts: e.GRIDWALL_ALERT_MAX_ATTEMPTS,
    pollMs: e.GRIDWALL_ALERT_POLL_MS,
  };
}

/** The SMTP settings: the URL's scheme checked, a From required (messages never quote the URL: it may hold a password). */
function mailSettings(e: Env): MailSettings | null {
  if (e.GRIDWALL_SMTP_URL === undefined) return null;
  const scheme = new URL(e.GRIDWALL_SMTP_URL).protocol;
  if (scheme !== 'smtp:' && scheme !== 'smtps:')
    throw new ConfigError('bad configuration: GRIDWALL_SMTP_URL must be smtp://host:port or smtps://user:password@host:port');
  const from = e.GRIDWALL_SMTP_FROM?.trim();
  if (from === undefined) throw new ConfigError('bad configuration: GRIDWALL_SMTP_URL needs GRIDWALL_SMTP_FROM (the address the mails come from)');
  if (!/^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(from))
    throw new ConfigError(
      'bad configuration: GRIDWALL_SMTP_FROM must be an address (gridwall@example.jp) or a name and an address (gridwall <gridwall@example.jp>)',
    );
  return { url: e.GRIDWALL_SMTP_URL, from, timeoutMs: e.GRIDWALL_SMTP_TIMEOUT_MS };
}

/** GRIDWALL_TERMINAL_HEADER: only with proxies named by address, so that the header is believed from them alone. */
function terminalHeader(e: Env, trust: boolean | number | string): Config['terminalHeader'] {
  if (e.GRIDWALL_TERMINAL_HEADER === undefined) return null;
  if (typeof trust !== 'string')
    throw new ConfigError(
      'bad configuration: GRIDWALL_TERMINAL_HEADER needs GRIDWALL_TRUST_PROXY set to the proxies’ addresses or CIDRs (not true or a number of hops): the header is believed only from them',
    );
  try {
    terminalProxy(e.GRIDWALL_TERMINAL_HEADER, trust);
  } catch (err) {
    if (err instanceof TrustedProxyError)
      throw new ConfigError(
        `bad configuration: GRIDWALL_TRUST_PROXY: ${err.message}; GRIDWALL_TERMINAL_HEADER is believed only from connections of the addresses and networks listed there`,
      );
    throw err;
  }
  return { header: e.GRIDWALL_TERMINAL_HEADER.toLowerCase(), proxies: trust };
}

function demoLogin(e: Env, store: 'pglite' | 'postgres'): boolean {
  if (e.GRIDWALL_OIDC_ISSUER !== undefined) {
    if (e.GRIDWALL_DEMO_LOGIN === true) throw new ConfigError('bad configuration: GRIDWALL_DEMO_LOGIN cannot be on with single sign-on (GRIDWALL_OIDC_ISSUER)');
    return false;
  }
  return e.GRIDWALL_DEMO_LOGIN ?? store === 'pglite';
}

/** The signing key's place, for the commands that sign or publish with it; on a server it must be configured. */
export function logKeyOf(config: Config): { readonly path: string; readonly create: boolean } {
  if (config.logKey === null)
    throw new ConfigError(
      'bad configuration: with DATABASE_URL, set GRIDWALL_LOG_KEY_FILE to the access-log signing key (for a new log, `gridwall audit key register --generate` makes and registers one)',
    );
  return config.logKey;
}

/** Parses the environment once, at start. Only the entry point calls this. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`bad configuration: ${issues}`);
  }
  const e = parsed.data;
  if (e.GRIDWALL_HTTP_HEADERS_TIMEOUT_MS > e.GRIDWALL_HTTP_REQUEST_TIMEOUT_MS)
    throw new ConfigError(
      'bad configuration: GRIDWALL_HTTP_HEADERS_TIMEOUT_MS must not exceed GRIDWALL_HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    );
  const store =
    e.DATABASE_URL === undefined ? { kind: 'pglite' as const, dataDir: resolve(e.GRIDWALL_DATA_DIR) } : { kind: 'postgres' as const, url: e.DATABASE_URL };
  // The embedded store lives in one process (it locks its data directory): several need a PostgreSQL server.
  if (e.GRIDWALL_WORKERS > 1 && store.kind === 'pglite')
    throw new ConfigError(
      `bad configuration: ${e.GRIDWALL_WORKERS} server processes (--workers / GRIDWALL_WORKERS) need a PostgreSQL server (DATABASE_URL): the embedded store belongs to one process`,
    );
  // A read replica is a copy of a PostgreSQL server's database: the embedded store has none to copy.
  if (e.DATABASE_REPLICA_URL !== undefined && store.kind === 'pglite')
    throw new ConfigError(
      'bad configuration: DATABASE_REPLICA_URL needs DATABASE_URL: a read replica is a streaming copy of the PostgreSQL server, and the embedded store (no DATABASE_URL) has none',
    );
  // On a server the key's place is explicit (logKey null until it is set): a default under the working
  // directory let a second instance, started elsewhere, make and register a key of its own without a word.
  const logKeyPath =
    e.GRIDWALL_LOG_KEY_FILE !== undefined ? resolve(e.GRIDWALL_LOG_KEY_FILE) : store.kind === 'pglite' ? join(store.dataDir, 'log-signing-key.pem') : null;
  return Object.freeze({
    store,
    replica: e.DATABASE_REPLICA_URL === undefined ? null : { url: e.DATABASE_REPLICA_URL, maxLagSeconds: e.GRIDWALL_REPLICA_MAX_LAG_SECONDS },
    host: e.HOST,
    port: e.PORT,
    workers: e.GRIDWALL_WORKERS,
    // The persona login (a user ID, nothing else) never runs beside single sign-on (issue 14).
    demoLogin: demoLogin(e, store.kind),
    passwordLogin: e.GRIDWALL_PASSWORD_LOGIN,
    totpKey: totpKey(e.GRIDWALL_TOTP_KEY),
    secureCookies: e.GRIDWALL_SECURE_COOKIES,
    sessionIdleMs: e.GRIDWALL_SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: e.GRIDWALL_SESSION_ABSOLUTE_HOURS * 3_600_000,
    sessionCacheMs: e.GRIDWALL_SESSION_CACHE_MS,
    demoSupplyPoints: e.GRIDWALL_DEMO_SUPPLY_POINTS,
    logBatch: e.GRIDWALL_LOG_BATCH,
    // A configured key must exist; the embedded store's default one (in its data directory) is generated on first use.
    logKey: logKeyPath === null ? null : { path: logKeyPath, create: e.GRIDWALL_LOG_KEY_FILE === undefined },
    logTrustedKeys: e.GRIDWALL_LOG_TRUSTED_KEYS === undefined ? null : resolve(e.GRIDWALL_LOG_TRUSTED_KEYS),
    // Beside the signing key by default: both belong to the writer, outside the database.
    logWitnessFile: resolve(e.GRIDWALL_LOG_WITNESS_FILE ?? join(logKeyPath === null ? '.gridwall' : dirname(logKeyPath), 'log-witness.jsonl')),
    logCheckpointEvents: e.GRIDWALL_LOG_CHECKPOINT_EVENTS,
    logCheckpointSeconds: e.GRIDWALL_LOG_CHECKPOINT_SECONDS,
    logRetentionYears: e.GRIDWALL_LOG_RETENTION_YEARS,
    // Beside the signing key by default, like the witness: the server's own files, outside the database.
    analysisArchiveDir: resolve(e.GRIDWALL_ANALYSIS_ARCHIVE_DIR ?? join(logKeyPath === null ? '.gridwall' : dirname(logKeyPath), 'log-parquet')),
    unknownTerminal: e.GRIDWALL_UNKNOWN_TERMINAL,
    retailOnNetworkTerminal: e.GRIDWALL_RETAIL_ON_NETWORK_TERMINAL,
    // A typed terminal ID is the person's own word: a server believes only terminals access administration bound.
    terminalClaims: e.GRIDWALL_TERMINAL_CLAIMS ?? (store.kind === 'pglite' ? 'accept' : 'ignore'),
    terminalHeader: terminalHeader(e, trustProxy(e.GRIDWALL_TRUST_PROXY)),
    dormantDays: e.GRIDWALL_DORMANT_DAYS,
    publicUrl: e.GRIDWALL_PUBLIC_URL ?? null,
    emergencyMaxHours: e.GRIDWALL_EMERGENCY_MAX_HOURS,
    separationOfDuties: separationOfDuties(e, env),
    readLimits: readLimitsOf(e),
    oidc: oidcSettings(e),
    logLevel: e.GRIDWALL_SERVER_LOG_LEVEL,
    minFreeDiskMb: e.GRIDWALL_MIN_FREE_DISK_MB,
    trustProxy: trustProxy(e.GRIDWALL_TRUST_PROXY),
    metrics: e.GRIDWALL_METRICS_PORT === undefined ? null : { host: e.GRIDWALL_METRICS_HOST, port: e.GRIDWALL_METRICS_PORT },
    dbTimeouts: {
      connectMs: e.GRIDWALL_DB_CONNECT_TIMEOUT_MS,
      statementMs: e.GRIDWALL_DB_STATEMENT_TIMEOUT_MS,
      queryMs: e.GRIDWALL_DB_QUERY_TIMEOUT_MS,
      idleInTransactionMs: e.GRIDWALL_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    httpTimeouts: {
      requestMs: e.GRIDWALL_HTTP_REQUEST_TIMEOUT_MS,
      headersMs: e.GRIDWALL_HTTP_HEADERS_TIMEOUT_MS,
      keepAliveMs: e.GRIDWALL_HTTP_KEEPALIVE_TIMEOUT_MS,
      answerMs: e.GRIDWALL_HTTP_ANSWER_TIMEOUT_MS,
    },
    mail: mailSettings(e),
    alerts: alertSettings(e),
  });
}

/**
 * docs/CONFIGURATION.md, generated from the schema above (`npm run docs:config`; a test fails when the file
 * and the schema differ): every variable with its type, allowed values, default and meaning.
 */
export function configurationReference(): string {
  const schema = z.toJSONSchema(EnvSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<
      string,
      { type?: string; enum?: unknown[]; minimum?: number; maximum?: number; exclusiveMinimum?: number; format?: string; description?: string }
    >;
  };
  // The defaults as the server sees them (after coercion), from parsing an empty environment.
  const defaults: Record<string, string | number | boolean | undefined> = EnvSchema.parse({});
  const range = (p: { minimum?: number; maximum?: number; exclusiveMinimum?: number }) => {
    const max = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : undefined;
    const min =
      p.exclusiveMinimum !== undefined
        ? `> ${p.exclusiveMinimum}`
        : p.minimum !== undefined && p.minimum > Number.MIN_SAFE_INTEGER
          ? `≥ ${p.minimum}`
          : undefined;
    const parts = [min, max === undefined ? undefined : `≤ ${max}`].filter((x) => x !== undefined);
    return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
  };
  const rows = Object.entries(schema.properties).map(([name, p]) => {
    const kind =
      p.enum !== undefined && p.enum.length === BOOLEAN_WORDS.length && BOOLEAN_WORDS.every((w) => p.enum?.includes(w))
        ? 'boolean'
        : p.enum !== undefined
          ? p.enum.map((v) => `\`${String(v)}\``).join(' \\| ')
          : p.type === 'number' || p.type === 'integer'
            ? `number${range(p)}`
            : p.format === 'uri'
              ? 'URL'
              : 'text';
    const d = defaults[name];
    return `| \`${name}\` | ${kind} | ${d === undefined ? '—' : `\`${String(d)}\``} | ${(p.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config.ts by `npm run docs:config`; edit the schema, not this file. -->',
    '',
    'gridwall reads its configuration from the environment once, at start (`src/config.ts`); a value that does',
    'not fit is refused with a message naming the variable (exit 2). A boolean is `true`/`false`, `1`/`0` or',
    '`yes`/`no`. A default of — means unset (off, or decided as the meaning says).',
    '',
    '| variable | type | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    '## E-mail notifications',
    '',
    'With `GRIDWALL_SMTP_URL` and `GRIDWALL_SMTP_FROM` set, each in-app notification (an inquiry answered, asked',
    "back or refused) is also mailed to its person's address (`persons.email`: the work, or else primary, e-mail",
    'SCIM provisions), once, outside the request, when the change has committed: a slow or unreachable SMTP',
    'server never delays or fails an answer. A person without an address gets the in-app notification only. The',
    "mail says only what the notification says, Japanese first and English below: the inquiry's id, case type and",
    'status, and a link to it in the console when `GRIDWALL_PUBLIC_URL` is set; never customer data. Each',
    'notification records `mailed_at`, or `mail_error` with a short reason (an error code and the SMTP reply',
    "code, never the server's words); a failure is logged at warn without the address or the content and is not",
    'retried (the notification stays in the console). The URL may hold the password: keep it in the environment',
    'file, readable by the service only; gridwall never logs it.',
    '',
  ].join('\n');
}
