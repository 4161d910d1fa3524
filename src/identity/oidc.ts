import { createHash, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { refusalFamily } from '../domain/refusal.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import type { Db, Queryable } from '../store/db.ts';
import { DEVICE_BINDS, NO_TERMINAL, type TerminalBinding } from './terminal-devices.ts';
import { TERMINAL_SOURCES, type TerminalSource } from '../domain/terminal.ts';
import { memberOf } from '../domain/closed-set.ts';

/**
 * Login through an OpenID Connect identity provider (Keycloak, Entra ID, …): authorization code flow with
 * PKCE (S256), state and nonce, the ID token's signature checked against the provider's published keys and
 * its issuer, audience, expiry and nonce checked by openid-client. The person is found by the pair
 * (issuer, subject) bound to an account beforehand (`gridwall accounts bind-oidc`); an unknown subject is
 * refused, never created — people come from HR over SCIM, not from whoever the IdP lets in.
 */

export interface OidcSettings {
  /** The issuer identifier, exactly as the provider publishes it (discovery at `<issuer>/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  /** Null: a public client (PKCE only, no client authentication). */
  readonly clientSecret: string | null;
  /** Where the provider sends the browser back: `<public URL>/api/auth/oidc/callback`, registered at the provider. */
  readonly redirectUri: string;
  /** The button's text on the login screen, e.g. "社内SSO". */
  readonly label: string;
  /** Scopes asked for; `openid` is always among them. */
  readonly scopes: string;
  /**
   * When the provider must authenticate the person again at a login (`prompt=login`, `max_age=0`, and the ID
   * token's `auth_time` checked): at every login, only where the browser is not bound to a personal terminal
   * (default), or never. Absent: `shared`.
   */
  readonly reauth?: OidcReauth;
  /** Where the provider sends the browser after its logout (registered at the provider); default the console's login page. */
  readonly postLogoutRedirectUri?: string;
}

/** GRIDWALL_OIDC_REAUTH: when single sign-on forces the person to authenticate again at the provider. */
export const OIDC_REAUTH = ['always', 'shared', 'never'] as const;
export type OidcReauth = (typeof OIDC_REAUTH)[number];

/**
 * How much earlier than the login's start the provider's clock may put `auth_time` (the two machines' clocks
 * differ a little). Anything older is an earlier authentication, which a re-authentication must not accept.
 */
export const AUTH_TIME_SKEW_MS = 60_000;

/** What the provider's logout can do for a session that ends (OpenID Connect RP-Initiated Logout 1.0). */
export type ProviderLogout =
  /** Send the browser here: the provider ends its own session, then sends it to the console's login page. */
  | { readonly kind: 'redirect'; readonly url: URL; readonly state: string }
  /** The provider publishes no end_session_endpoint: the person must sign out there, or close the browser. */
  | { readonly kind: 'unsupported' }
  /** The provider could not be reached to learn its logout endpoint. */
  | { readonly kind: 'unavailable' };

/** Why an OpenID Connect login was refused: recorded in the governance log and shown to the person as a code. */
export type OidcRefusal =
  /** No login of this browser is in flight (no or unknown cookie, already finished, or older than 10 minutes). */
  | 'oidc_no_login_in_progress'
  /** The callback's state is not the one this browser's login sent (a forged or crossed callback). */
  | 'oidc_state_mismatch'
  /** The provider answered with an error (the person cancelled, no consent, …). */
  | 'oidc_provider_error'
  /** The provider's answer or ID token failed a check: signature, issuer, audience, expiry, nonce, PKCE. */
  | 'oidc_token_rejected'
  /** The token is valid but no account is bound to its (issuer, subject). */
  | 'oidc_unknown_subject'
  /** The account bound to the subject is disabled (a leaver, a dormant account). */
  | 'oidc_account_disabled'
  /** The provider could not be reached or its discovery document is unusable. */
  | 'oidc_unavailable'
  /**
   * gridwall asked the provider to authenticate the person again (a shared terminal), but the ID token's
   * `auth_time` is missing or older than the login: the provider let an earlier session through.
   */
  | 'oidc_reauth_missing';

export type OidcResult =
  | { readonly ok: true; readonly userId: string; readonly subject: string; readonly terminal: TerminalBinding; readonly idToken: string | null }
  | {
      readonly ok: false;
      readonly reason: OidcRefusal;
      readonly detail: string;
      readonly subject?: string;
      readonly userId?: string;
      readonly terminal?: TerminalBinding;
    };

/** A login must come back from the provider within this time. */
export const LOGIN_TTL_MS = 10 * 60_000;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Plain HTTP is accepted only for a provider on this machine (tests, a local Keycloak); anything else needs TLS. */
function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

export class OidcLogin {
  readonly #settings: OidcSettings;
  readonly #db: Db;
  #config: Promise<oidc.Configuration> | null = null;

  constructor(settings: OidcSettings, db: Db) {
    this.#settings = settings;
    this.#db = db;
  }

  get label(): string {
    return this.#settings.label;
  }

  /**
   * The provider's configuration, discovered on first use (so gridwall starts while the provider is down)
   * and again after a failure.
   */
  #configuration(): Promise<oidc.Configuration> {
    if (this.#config === null) {
      const s = this.#settings;
      const issuer = new URL(s.issuer);
      const execute = [oidc.enableNonRepudiationChecks, ...(issuer.protocol === 'http:' && isLoopback(issuer) ? [oidc.allowInsecureRequests] : [])];
      const auth = s.clientSecret === null ? oidc.None() : oidc.ClientSecretBasic(s.clientSecret);
      const pending = oidc.discovery(issuer, s.clientId, s.clientSecret === null ? undefined : { client_secret: s.clientSecret }, auth, {
        execute,
        timeout: 10,
      });
      pending.catch(() => {
        this.#config = null;
      });
      this.#config = pending;
    }
    return this.#config;
  }

  /**
   * Whether a login from this terminal must authenticate the person again at the provider. Under `shared`
   * only a browser bound (device binding or trusted proxy) to a terminal the registry does not mark shared is
   * spared: a claimed terminal is the person's own word, and an unbound browser may be a shared PC nobody
   * registered.
   */
  async #reauth(q: Queryable, terminal: TerminalBinding): Promise<boolean> {
    const mode = this.#settings.reauth ?? 'shared';
    if (mode !== 'shared') return mode === 'always';
    if (terminal.terminalId === null || (terminal.source !== 'device' && terminal.source !== 'proxy')) return true;
    // A device binding that binds nothing yet (awaiting a second administrator) spares nothing either.
    const { rows } = await q.query<{ shared: boolean }>(
      `SELECT t.shared FROM terminals t WHERE t.id = $1
          AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM terminal_devices d WHERE d.id = $2 AND d.terminal_id = t.id AND ${DEVICE_BINDS('d', 't')}))`,
      [terminal.terminalId, terminal.deviceId],
    );
    return rows[0]?.shared !== false;
  }

  /**
   * Starts a login: a random handle for the browser's cookie and the provider's authorization URL. The
   * state, nonce, PKCE verifier and the terminal the login comes from stay in the store under the handle's
   * hash; on a shared terminal the URL asks the provider to authenticate the person again.
   */
  async begin(terminal: TerminalBinding | null, at: Date): Promise<{ handle: string; url: URL; reauth: boolean }> {
    const config = await this.#configuration();
    const bound = terminal ?? NO_TERMINAL;
    const handle = randomBytes(32).toString('base64url');
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const reauth = await this.#reauth(this.#db, bound);
    await this.#db.query('DELETE FROM oidc_logins WHERE expires_at <= $1', [at]);
    await this.#db.query(
      `INSERT INTO oidc_logins (handle_hash, state, nonce, code_verifier, terminal_id, terminal_source, device_id, reauth, started_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [sha256(handle), state, nonce, verifier, bound.terminalId, bound.source, bound.deviceId, reauth, at, new Date(at.getTime() + LOGIN_TTL_MS)],
    );
    const scope = new Set(['openid', ...this.#settings.scopes.split(/\s+/).filter((x) => x !== '')]);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#settings.redirectUri,
      scope: [...scope].join(' '),
      response_type: 'code',
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      // Both: prompt=login is the request, max_age=0 makes the provider put auth_time in the ID token.
      ...(reauth ? { prompt: 'login', max_age: '0' } : {}),
    });
    return { handle, url, reauth };
  }

  /**
   * Finishes a login from the provider's callback: the in-flight login is consumed first (a callback can
   * be used once), then the state is compared, the code exchanged and the ID token checked, and the
   * subject looked up. `query` is the callback's query string.
   */
  async finish(handle: string | undefined, query: URLSearchParams, at: Date): Promise<OidcResult> {
    if (handle === undefined || handle === '') return { ok: false, reason: 'oidc_no_login_in_progress', detail: 'no login cookie' };
    const { rows } = await this.#db.query<{
      state: string;
      nonce: string;
      code_verifier: string;
      terminal_id: string | null;
      terminal_source: string | null;
      device_id: string | number | null;
      reauth: boolean;
      started_at: Date | string;
      expires_at: Date | string;
    }>(
      'DELETE FROM oidc_logins WHERE handle_hash = $1 RETURNING state, nonce, code_verifier, terminal_id, terminal_source, device_id, reauth, started_at, expires_at',
      [sha256(handle)],
    );
    const pending = rows[0];
    if (pending === undefined) return { ok: false, reason: 'oidc_no_login_in_progress', detail: 'unknown or already used login' };
    const terminal = storedTerminal(pending.terminal_id, pending.terminal_source, pending.device_id);
    if (new Date(pending.expires_at).getTime() <= at.getTime())
      return { ok: false, reason: 'oidc_no_login_in_progress', detail: 'the login took longer than 10 minutes', terminal };
    if (query.get('state') !== pending.state) return { ok: false, reason: 'oidc_state_mismatch', detail: 'state differs from the one sent', terminal };

    let config: oidc.Configuration;
    try {
      config = await this.#configuration();
    } catch (e) {
      return { ok: false, reason: 'oidc_unavailable', detail: describe(e), terminal };
    }
    const current = new URL(this.#settings.redirectUri);
    current.search = query.toString();
    let claims: oidc.IDToken | undefined;
    let idToken: string | null;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.code_verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
      idToken = tokens.id_token ?? null;
    } catch (e) {
      const reason: OidcRefusal =
        e instanceof oidc.AuthorizationResponseError ? 'oidc_provider_error' : isNetworkError(e) ? 'oidc_unavailable' : 'oidc_token_rejected';
      return { ok: false, reason, detail: describe(e), terminal };
    }
    if (claims === undefined) return { ok: false, reason: 'oidc_token_rejected', detail: 'no ID token', terminal };
    const subject = claims.sub;
    if (pending.reauth) {
      // A provider that ignores prompt=login / max_age (or answers from a session it already had) must not let
      // the previous person's authentication through to the next person at a shared PC.
      const authTime = claims.auth_time;
      const earliest = new Date(pending.started_at).getTime() - AUTH_TIME_SKEW_MS;
      if (typeof authTime !== 'number' || authTime * 1000 < earliest)
        return {
          ok: false,
          reason: 'oidc_reauth_missing',
          detail:
            typeof authTime !== 'number'
              ? 'the ID token has no auth_time although the person was to authenticate again'
              : `auth_time ${new Date(authTime * 1000).toISOString()} is before this login began (${new Date(pending.started_at).toISOString()})`,
          subject,
          terminal,
        };
    }
    const account = await this.#db.query<{ user_id: string; disabled: boolean }>(
      'SELECT user_id, disabled_at IS NOT NULL AS disabled FROM accounts WHERE oidc_issuer = $1 AND oidc_subject = $2',
      [this.#settings.issuer, subject],
    );
    const row = account.rows[0];
    if (row === undefined) return { ok: false, reason: 'oidc_unknown_subject', detail: `no account bound to subject ${subject}`, subject, terminal };
    const userId = row.user_id;
    if (row.disabled) return { ok: false, reason: 'oidc_account_disabled', detail: `account ${userId} is disabled`, subject, userId, terminal };
    return { ok: true, userId, subject, terminal, idToken };
  }

  /**
   * The provider's logout for a session that ends (RP-Initiated Logout 1.0): its end_session_endpoint with
   * the session's ID token as `id_token_hint`, the client ID, where to come back and a fresh `state`. Without
   * that endpoint in the provider's discovery document there is nothing gridwall can do but say so.
   */
  async logout(idToken: string | null): Promise<ProviderLogout> {
    let config: oidc.Configuration;
    try {
      config = await this.#configuration();
    } catch {
      return { kind: 'unavailable' };
    }
    if (typeof config.serverMetadata().end_session_endpoint !== 'string') return { kind: 'unsupported' };
    const state = oidc.randomState();
    const back = this.#settings.postLogoutRedirectUri ?? new URL('/', this.#settings.redirectUri).href;
    const url = oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: back,
      state,
      client_id: this.#settings.clientId,
      ...(idToken === null ? {} : { id_token_hint: idToken }),
    });
    return { kind: 'redirect', url, state };
  }
}

const isTerminalSource = memberOf(TERMINAL_SOURCES);

/** The terminal a login in flight recorded (a row from before migration 014 has only a claimed ID). */
function storedTerminal(terminalId: string | null, source: string | null, deviceId: string | number | null): TerminalBinding {
  if (terminalId === null) return NO_TERMINAL;
  const known: TerminalSource = isTerminalSource(source) ? source : 'claimed';
  return { terminalId, source: known, deviceId: known === 'device' && deviceId !== null ? Number(deviceId) : null };
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${e.message}${cause}`.slice(0, 500);
  }
  return String(e).slice(0, 500);
}

function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError && /fetch failed/i.test(e.message);
}

/** A refused binding: no such account, or the subject is another account's. */
export class OidcBindingError extends refusalFamily('account', { unknown_account: 'not_found', subject_taken: 'conflict' }) {}

/**
 * Binds an account to the person's subject at the identity provider (what the IdP's `sub` claim says for
 * them: a Keycloak user ID, an Entra object ID). One subject, one account; binding again replaces it.
 */
export async function bindOidcSubject(
  db: Db,
  userId: string,
  issuer: string,
  subject: string,
  by: GovernanceActor = { kind: 'system', job: 'cli' },
  at: Date = new Date(),
): Promise<void> {
  await db.transaction(async (tx: Queryable) => {
    const taken = await tx.query<{ user_id: string }>('SELECT user_id FROM accounts WHERE oidc_issuer = $1 AND oidc_subject = $2 AND user_id <> $3', [
      issuer,
      subject,
      userId,
    ]);
    const other = taken.rows[0]?.user_id;
    if (other !== undefined) throw new OidcBindingError('subject_taken', `subject ${subject} at ${issuer} is already bound to account ${other}`);
    const { rows } = await tx.query('UPDATE accounts SET oidc_issuer = $2, oidc_subject = $3 WHERE user_id = $1 RETURNING user_id', [userId, issuer, subject]);
    if (rows.length === 0) throw new OidcBindingError('unknown_account', `no account with user ID ${userId}`);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'account.bind_oidc',
      subjectType: 'account',
      subjectId: userId,
      outcome: 'done',
      details: { issuer, subject },
    });
  });
}
