import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { OidcSettings } from './identity/oidc.ts';
import { DEFAULT_DORMANT_DAYS } from './identity/lifecycle.ts';
import { inputRefusal } from './domain/refusal.ts';
import type { StoreTimeouts } from './store/postgres.ts';
import type { HttpTimeouts } from './api/context.ts';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const EnvSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  GRIDWALL_DATA_DIR: z.string().default('./data'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GRIDWALL_DEMO_LOGIN: bool.optional(),
  GRIDWALL_PASSWORD_LOGIN: bool.default(true),
  GRIDWALL_TOTP_KEY: z.string().min(1).optional(),
  GRIDWALL_SECURE_COOKIES: bool.default(true),
  GRIDWALL_SESSION_IDLE_MINUTES: z.coerce.number().int().positive().default(30),
  GRIDWALL_SESSION_ABSOLUTE_HOURS: z.coerce.number().positive().default(10),
  GRIDWALL_SESSION_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  GRIDWALL_DEMO_SUPPLY_POINTS: z.coerce.number().int().min(50).default(20000),
  GRIDWALL_LOG_BATCH: z.coerce.number().int().min(1).max(10000).default(500),
  GRIDWALL_LOG_KEY_FILE: z.string().min(1).optional(),
  GRIDWALL_LOG_TRUSTED_KEYS: z.string().min(1).optional(),
  GRIDWALL_LOG_WITNESS_FILE: z.string().min(1).optional(),
  GRIDWALL_LOG_CHECKPOINT_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  GRIDWALL_LOG_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  GRIDWALL_LOG_RETENTION_YEARS: z.coerce.number().int().min(1).max(100).default(5),
  GRIDWALL_UNKNOWN_TERMINAL: z.enum(['refuse', 'limit']).default('limit'),
  GRIDWALL_DORMANT_DAYS: z.coerce.number().int().min(1).max(3660).default(DEFAULT_DORMANT_DAYS),
  GRIDWALL_PUBLIC_URL: z.string().url().optional(),
  GRIDWALL_EMERGENCY_MAX_HOURS: z.coerce.number().int().min(1).max(720).default(72),
  GRIDWALL_OIDC_ISSUER: z.string().url().optional(),
  GRIDWALL_OIDC_CLIENT_ID: z.string().min(1).optional(),
  GRIDWALL_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  GRIDWALL_OIDC_REDIRECT_URI: z.string().url().optional(),
  GRIDWALL_OIDC_LABEL: z.string().min(1).max(40).default('シングルサインオン'),
  GRIDWALL_OIDC_SCOPES: z.string().default('openid'),
  GRIDWALL_SERVER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  GRIDWALL_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  GRIDWALL_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  GRIDWALL_MIN_FREE_DISK_MB: z.coerce.number().int().min(0).max(10_000_000).default(512),
  GRIDWALL_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  GRIDWALL_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  GRIDWALL_DB_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(20_000),
  GRIDWALL_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  GRIDWALL_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  GRIDWALL_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  GRIDWALL_HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
});

export interface Config {
  /** Where the data lives: a PostgreSQL server, or embedded PGlite in a directory. */
  readonly store: { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'pglite'; readonly dataDir: string };
  readonly host: string;
  readonly port: number;
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
  /** A login from an unregistered terminal (or none): refused, or narrowed like a retail terminal. */
  readonly unknownTerminal: 'refuse' | 'limit';
  /** Days without a login after which an account is dormant (and a terminal unused). */
  readonly dormantDays: number;
  /** External base URL, for absolute links (SCIM locations). */
  readonly publicUrl: string | null;
  /** Longest a declared emergency runs before an extension (confirmed by a second person) is needed. */
  readonly emergencyMaxHours: number;
  /** Single sign-on through an OpenID Connect provider, or null when GRIDWALL_OIDC_ISSUER is not set. */
  readonly oidc: OidcSettings | null;
  /** The server log's level (GRIDWALL_SERVER_LOG_LEVEL): JSON lines on standard output; `silent` for none. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Prometheus metrics on a port of their own (GRIDWALL_METRICS_PORT, GRIDWALL_METRICS_HOST); null: off. */
  readonly metrics: { readonly host: string; readonly port: number } | null;
  /** Readiness fails when the disk under the data directory or the witness has less free (GRIDWALL_MIN_FREE_DISK_MB). */
  readonly minFreeDiskMb: number;
  /** How long the server waits on PostgreSQL (GRIDWALL_DB_*_TIMEOUT_MS). */
  readonly dbTimeouts: StoreTimeouts;
  /** How long the HTTP server waits on a client (GRIDWALL_HTTP_*_TIMEOUT_MS). */
  readonly httpTimeouts: HttpTimeouts;
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
  };
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
  // On a server the key's place is explicit (logKey null until it is set): a default under the working
  // directory let a second instance, started elsewhere, make and register a key of its own without a word.
  const logKeyPath =
    e.GRIDWALL_LOG_KEY_FILE !== undefined ? resolve(e.GRIDWALL_LOG_KEY_FILE) : store.kind === 'pglite' ? join(store.dataDir, 'log-signing-key.pem') : null;
  return Object.freeze({
    store,
    host: e.HOST,
    port: e.PORT,
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
    unknownTerminal: e.GRIDWALL_UNKNOWN_TERMINAL,
    dormantDays: e.GRIDWALL_DORMANT_DAYS,
    publicUrl: e.GRIDWALL_PUBLIC_URL ?? null,
    emergencyMaxHours: e.GRIDWALL_EMERGENCY_MAX_HOURS,
    oidc: oidcSettings(e),
    logLevel: e.GRIDWALL_SERVER_LOG_LEVEL,
    minFreeDiskMb: e.GRIDWALL_MIN_FREE_DISK_MB,
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
    },
  });
}
