import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { principalAt } from '../domain/principal.ts';
import { actingForOrganization, isOrganizationKind, SIDES, type Duty, type Employment, type Side, type StaffAssignment } from '../domain/organization.ts';
import {
  loginRefusal,
  retailOnNetworkSite,
  standingOf,
  type RetailOnNetworkPolicy,
  type TerminalFacts,
  type TerminalSource,
  type UnknownTerminalPolicy,
} from '../domain/terminal.ts';
import { grantsAt, type HeldGrant } from '../domain/permissions.ts';
import type { Actor, AuthMethod } from '../domain/actor.ts';
import { statement, type Db, type Queryable } from '../store/db.ts';
import { parseApiToken } from './api-tokens.ts';
import { DEFAULT_DORMANT_DAYS, loginStanding } from './lifecycle.ts';
import { DEVICE_BINDS, NO_TERMINAL, type TerminalBinding } from './terminal-devices.ts';

export type OpenResult =
  | {
      readonly kind: 'opened';
      readonly session: NewSession;
      /** Let through under GRIDWALL_RETAIL_ON_NETWORK_TERMINAL=limit: a retail-side person at a network-site terminal. */
      readonly crossing: SideCrossing | null;
      /** A retail-side person let in from a terminal the registry does not know (GRIDWALL_UNKNOWN_TERMINAL=limit). */
      readonly unknownTerminal: RetailAtUnknownTerminal | null;
    }
  | {
      readonly kind: 'refused';
      readonly code: 'unknown_account' | 'unknown_terminal' | 'retired_terminal' | 'dormant_account' | 'account_without_person' | 'retail_on_network_terminal';
      readonly message: string;
      /** For `retail_on_network_terminal`: who and where, for the live finding. */
      readonly crossing?: SideCrossing;
    };

/** A retail-side person at a terminal standing at a network site (domain/terminal.ts `retailOnNetworkSite`). */
export interface SideCrossing extends RetailAtUnknownTerminal {
  readonly setting: TerminalFacts['setting'];
  readonly siteSide: TerminalFacts['siteSide'];
}

/** A retail-side person whose login named a terminal: the registry's ID, how it was learned and as what it was named. */
export interface RetailAtUnknownTerminal {
  readonly personId: string;
  readonly personName: string;
  readonly side: Side;
  readonly organizationId: string;
  /** The registry's ID (for an unknown terminal: as named). */
  readonly terminalId: string;
  readonly terminalSource: TerminalSource | null;
  /** The ID as the login named it (a claim or a proxy may spell it in another case). */
  readonly namedAs: string;
  /** Learned from a device binding still awaiting a second administrator's confirmation (it binds nothing). */
  readonly unconfirmedBinding: boolean;
}

export interface NewSession {
  readonly id: string;
  readonly csrfToken: string;
  readonly actor: Actor;
}

export interface SessionPolicy {
  /** Sliding idle time-out. */
  readonly idleMs: number;
  /** Absolute lifetime from login. */
  readonly absoluteMs: number;
  /**
   * How long a live session read from the store may be reused by this process before it is read again;
   * 0 reads it on every request. Ending a session through this process takes effect at once; a session
   * ended or an account disabled elsewhere takes effect here within this time.
   */
  readonly cacheMs: number;
  /** A session from a terminal the registry does not know, or from none: refused, or narrowed like a retail terminal. */
  readonly unknownTerminal?: UnknownTerminalPolicy;
  /** No login for this many days makes an account dormant: it is refused at login as the sweep would disable it. */
  readonly dormantDays?: number;
  /** A retail-side person at a terminal standing at a network site: refused (the default), or let through; raised either way. */
  readonly retailOnNetworkTerminal?: RetailOnNetworkPolicy;
}

interface EngagementJson {
  valid_from: string;
  valid_to: string | null;
  client_id: string;
  client_name: string;
  client_kind: string;
  client_retailer: string | null;
  affiliated: string | null;
}

/**
 * The periods in which a contractor company's engagements let its staff act as `a` says: those whose client
 * gives that side and retailer — the domain's rule (`actingForOrganization`), the one SCIM places people by.
 */
function engagedDuring(a: AssignmentJson, engaged: readonly EngagementJson[]): NonNullable<StaffAssignment['engagedDuring']> {
  return engaged.flatMap((e) => {
    if (!isOrganizationKind(e.client_kind)) return [];
    const acting = actingForOrganization({ id: e.client_id, name: e.client_name, kind: e.client_kind, retailerCode: e.client_retailer }, e.affiliated);
    if (acting === null || acting.side !== a.side || acting.retailerCode !== a.retailer_code) return [];
    return [{ validFrom: new Date(e.valid_from), validTo: e.valid_to === null ? null : new Date(e.valid_to) }];
  });
}

interface AssignmentJson {
  person_id: string;
  organization_id: string;
  organization_name: string;
  employment: Employment;
  side: Side;
  retailer_code: string | null;
  office: string;
  duty: Duty;
  valid_from: string;
  valid_to: string | null;
  /** A contractor company's engagements with their clients; null for everyone else. */
  engaged: EngagementJson[] | null;
}

interface SessionRow extends Record<string, unknown> {
  person_id: string;
  person_name: string;
  user_id: string;
  session_id: string;
  terminal_id: string | null;
  terminal_source: TerminalSource | null;
  csrf_token: string;
  last_seen_at: Date | string;
  expires_at: Date | string;
  auth_method: AuthMethod;
  assignments: unknown;
  grants: unknown;
  terminal: unknown;
}

interface GrantJson {
  grant_id: number;
  permission_id: string;
  scope: string | null;
  from: string;
  until: string;
}

interface TerminalJson {
  setting: 'network' | 'retail';
  site_side: 'network' | 'retail' | 'shared';
  retired_at: string | null;
}

/** A live session as read from the store: everything needed to derive the actor at any instant. */
interface LiveSession {
  readonly personId: string;
  readonly personName: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly terminalId: string | null;
  readonly terminalSource: TerminalSource | null;
  readonly csrfToken: string;
  readonly expiresAt: number;
  lastSeenAt: number;
  readonly authMethod: AuthMethod;
  readonly assignments: readonly StaffAssignment[];
  readonly grants: readonly HeldGrant[];
  readonly terminal: TerminalFacts | null;
  readonly organizationNames: ReadonlyMap<string, string>;
  /** Monotonic time at which it was read. */
  readonly readAt: number;
}

const ASSIGNMENTS = `coalesce((SELECT json_agg(json_build_object(
    'person_id', s.person_id, 'organization_id', s.organization_id, 'organization_name', o.name,
    'employment', s.employment, 'side', s.side, 'retailer_code', s.retailer_code, 'office', s.office,
    'duty', s.duty, 'valid_from', s.valid_from, 'valid_to', s.valid_to,
    'engaged', CASE WHEN o.kind = 'contractor' THEN coalesce((
      SELECT json_agg(json_build_object('valid_from', e.valid_from, 'valid_to', e.valid_to, 'client_id', c.id, 'client_name', c.name,
                                        'client_kind', c.kind, 'client_retailer', c.retailer_code,
                                        'affiliated', (SELECT r.code FROM retailers r WHERE r.affiliated)))
        FROM contractor_engagements e JOIN organizations c ON c.id = e.client_organization_id
       WHERE e.contractor_organization_id = s.organization_id), '[]'::json) END)
    ORDER BY s.valid_from)
  FROM staff_assignments s JOIN organizations o ON o.id = s.organization_id WHERE s.person_id = p.id), '[]'::json)`;

/**
 * Approved grants of the account with the instant each stops counting (expiry or unanswered
 * recertification). `userId` must be a column qualified with its table: an unqualified `user_id` would bind
 * to `g.user_id` inside the subquery and match every grant in the store.
 */
const GRANTS = (userId: string) => `coalesce((SELECT json_agg(json_build_object(
    'grant_id', g.id, 'permission_id', g.permission_id, 'scope', g.scope_organization_id, 'from', g.decided_at,
    'until', least(g.expires_at, (SELECT min(c.ends_at) FROM recert_items i JOIN recert_campaigns c ON c.id = i.campaign_id
                                   WHERE i.grant_id = g.id AND i.decision IS NULL))))
  FROM grants g WHERE g.user_id = ${userId} AND g.status = 'approved'), '[]'::json)`;

const TERMINAL = (terminalId: string) => `(SELECT json_build_object('setting', t.setting, 'site_side', t.site_side, 'retired_at', t.retired_at)
  FROM terminals t WHERE t.id = ${terminalId})`;

/** Read on every authenticated request (or once per cache period), so prepared once per connection. */
const LIVE_SESSION = statement(
  'gw_live_session',
  `SELECT p.id AS person_id, p.name AS person_name, se.user_id, se.id AS session_id, se.terminal_id, se.terminal_source, se.csrf_token,
          se.last_seen_at, se.expires_at, se.auth_method, ${ASSIGNMENTS} AS assignments, ${GRANTS('se.user_id')} AS grants,
          ${TERMINAL('se.terminal_id')} AS terminal
     FROM sessions se JOIN accounts a ON a.user_id = se.user_id JOIN persons p ON p.id = se.person_id
    WHERE se.id = $1 AND se.ended_at IS NULL AND se.expires_at > $2 AND se.last_seen_at > $3 AND a.disabled_at IS NULL`,
);

/**
 * An API token's service account as an actor: approved by a second person, not revoked or expired, the
 * account enabled and a service account, and its owner still a person with an assignment in force (a token
 * never outlives the person who answers for it, even if a revocation was missed). The secret's hash is
 * compared by the caller, in constant time. The account's grants do not count: what a token may do is its
 * scopes, approved with it.
 */
const TOKEN_ACTOR = statement(
  'gw_token_actor',
  `SELECT p.id AS person_id, p.name AS person_name, t.user_id, 'token:' || t.id AS session_id, NULL::text AS terminal_id, NULL::text AS terminal_source, '' AS csrf_token,
          $2::timestamptz AS last_seen_at, t.expires_at, 'token' AS auth_method, ${ASSIGNMENTS} AS assignments, '[]'::json AS grants,
          NULL::json AS terminal, t.secret_sha256, t.scopes, a.owner_person_id
     FROM api_tokens t JOIN accounts a ON a.user_id = t.user_id JOIN persons p ON p.id = a.person_id
    WHERE t.id = $1 AND t.status = 'approved' AND t.revoked_at IS NULL AND t.expires_at > $2 AND a.disabled_at IS NULL
      AND a.kind = 'service' AND p.kind = 'system'
      AND EXISTS (SELECT 1 FROM staff_assignments o WHERE o.person_id = a.owner_person_id AND o.valid_from <= $2 AND (o.valid_to IS NULL OR $2 < o.valid_to))`,
);

const OPEN_SESSION = `INSERT INTO sessions (id, user_id, person_id, terminal_id, csrf_token, created_at, last_seen_at, expires_at, auth_method,
    terminal_source, device_id, oidc_id_token)
  SELECT $1, a.user_id, a.person_id, $3, $4, $5, $5, $6, $7, $8, $9, $10 FROM accounts a WHERE a.user_id = $2 AND a.disabled_at IS NULL AND a.kind = 'person'
  RETURNING id AS session_id, user_id, person_id, terminal_id, terminal_source, csrf_token, last_seen_at, expires_at, auth_method,
    (SELECT name FROM persons WHERE persons.id = sessions.person_id) AS person_name,
    (SELECT ${ASSIGNMENTS} FROM persons p WHERE p.id = sessions.person_id) AS assignments,
    ${GRANTS('sessions.user_id')} AS grants, ${TERMINAL('sessions.terminal_id')} AS terminal`;

/** The side and organization of the person behind `userId`, from their assignment in force at `at`; null without one. */
async function personSide(
  tx: Queryable,
  userId: string,
  at: Date,
): Promise<{ personId: string; personName: string; side: Side; organizationId: string } | null> {
  const { rows } = await tx.query<{ person_id: string; person_name: string; side: string; organization_id: string }>(
    `SELECT p.id AS person_id, p.name AS person_name, s.side, s.organization_id
       FROM accounts a JOIN persons p ON p.id = a.person_id JOIN staff_assignments s ON s.person_id = p.id
      WHERE a.user_id = $1 AND s.valid_from <= $2 AND (s.valid_to IS NULL OR $2 < s.valid_to)
      ORDER BY s.valid_from DESC LIMIT 1`,
    [userId, at],
  );
  const row = rows[0];
  const side = row === undefined ? null : (SIDES.find((x) => x === row.side) ?? null);
  return row === undefined || side === null ? null : { personId: row.person_id, personName: row.person_name, side, organizationId: row.organization_id };
}

/**
 * Where a retail-side person's login is, judged from the terminal the login learned — from a trusted proxy, a
 * device binding (also one still awaiting a second administrator's confirmation, which binds nothing but says
 * where the browser is) or an accepted claim — against the registry. A terminal ID the registry holds only in
 * another case (`t-cc1` for `T-CC1`) is that terminal: the side rule is not escaped by a spelling. `crossing`:
 * the terminal stands at a network site (domain/terminal.ts `retailOnNetworkSite`). `unknown`: the registry
 * does not know the terminal at all. Both null for a network-side person, and when the login named no terminal.
 */
async function retailWhereabouts(
  tx: Queryable,
  userId: string,
  learned: TerminalBinding,
  pending: boolean,
  at: Date,
): Promise<{ crossing: SideCrossing | null; unknown: RetailAtUnknownTerminal | null }> {
  const none = { crossing: null, unknown: null };
  if (learned.terminalId === null) return none;
  const person = await personSide(tx, userId, at);
  if (person === null || person.side === 'network') return none;
  const { rows } = await tx.query<{ id: string }>(
    'SELECT t.id FROM terminals t WHERE t.id = $1 OR lower(t.id) = lower($1) ORDER BY (t.id = $1) DESC, t.id LIMIT 1',
    [learned.terminalId],
  );
  const row = rows[0];
  const t = row === undefined ? null : await tx.query<{ terminal: unknown }>(`SELECT ${TERMINAL('$1')} AS terminal`, [row.id]);
  const facts = toTerminal(json<TerminalJson | null>(t?.rows[0]?.terminal ?? null));
  const where = { terminalSource: learned.source, namedAs: learned.terminalId, unconfirmedBinding: pending };
  if (row === undefined || facts === null) return { crossing: null, unknown: { ...person, ...where, terminalId: learned.terminalId } };
  if (!retailOnNetworkSite(person.side, facts, at)) return none;
  return { crossing: { ...person, ...where, terminalId: row.id, setting: facts.setting, siteSide: facts.siteSide }, unknown: null };
}

/** How stale `last_seen_at` may get before a request refreshes it: one write a minute, not one per read. */
const TOUCH_AFTER_MS = 60_000;
/** Live sessions kept in memory at most; the oldest read is dropped first. */
const CACHE_ENTRIES = 10_000;

function toAssignment(a: AssignmentJson): StaffAssignment {
  return {
    personId: a.person_id,
    organizationId: a.organization_id,
    employment: a.employment,
    side: a.side,
    retailerCode: a.retailer_code,
    office: a.office,
    duty: a.duty,
    validFrom: new Date(a.valid_from),
    validTo: a.valid_to === null ? null : new Date(a.valid_to),
    ...(a.engaged === null ? {} : { engagedDuring: engagedDuring(a, a.engaged) }),
  };
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

function toTerminal(t: TerminalJson | null): TerminalFacts | null {
  return t === null ? null : { setting: t.setting, siteSide: t.site_side, retiredAt: t.retired_at === null ? null : new Date(t.retired_at) };
}

function toLive(row: SessionRow, readAt: number): LiveSession {
  const raw = json<AssignmentJson[]>(row.assignments);
  return {
    personId: row.person_id,
    personName: row.person_name,
    userId: row.user_id,
    sessionId: row.session_id,
    terminalId: row.terminal_id,
    terminalSource: row.terminal_source,
    csrfToken: row.csrf_token,
    expiresAt: new Date(row.expires_at).getTime(),
    lastSeenAt: new Date(row.last_seen_at).getTime(),
    authMethod: row.auth_method,
    assignments: raw.map(toAssignment),
    grants: json<GrantJson[]>(row.grants).map((g) => ({
      grantId: Number(g.grant_id),
      permissionId: g.permission_id,
      scopeOrganizationId: g.scope,
      from: new Date(g.from),
      until: new Date(g.until),
    })),
    terminal: toTerminal(json<TerminalJson | null>(row.terminal)),
    organizationNames: new Map(raw.map((a) => [a.organization_id, a.organization_name])),
    readAt,
  };
}

/** The actor at `at`: the principal is derived from the assignment in force at that instant, every time. */
function actorAt(s: LiveSession, at: Date, token: { id: string; ownerPersonId: string; scopes: readonly string[]; until: Date } | null = null): Actor {
  const principal = principalAt(s.personId, s.assignments, at, token === null ? 'human' : 'system');
  const org = principal.assignment === null ? null : (s.organizationNames.get(principal.assignment.organizationId) ?? null);
  // A token holds exactly its approved scopes, as grants until it expires; a person holds their grants.
  const held: readonly HeldGrant[] =
    token === null
      ? s.grants
      : token.scopes
          .filter((x) => x === 'customer.read')
          .map((permissionId) => ({ grantId: 0, permissionId, scopeOrganizationId: null, from: new Date(0), until: token.until }));
  return {
    personId: s.personId,
    personName: s.personName,
    userId: s.userId,
    sessionId: s.sessionId,
    terminalId: s.terminalId,
    terminalSource: s.terminalSource,
    organizationName: org,
    principal,
    authMethod: s.authMethod,
    terminal: standingOf(s.terminalId, s.terminal, at),
    grants: grantsAt(held, principal.assignment?.side ?? null, at),
    tokenScopes: token === null ? null : token.scopes,
    token: token === null ? null : { id: token.id, ownerPersonId: token.ownerPersonId },
  };
}

/**
 * Sessions of people logged in to gridwall. Stateful (a small cache of live sessions), so a class; the
 * store stays the only authority: a session is live only while its row says so.
 */
export class Sessions {
  readonly #db: Db;
  readonly #policy: SessionPolicy;
  readonly #monotonic: () => number;
  readonly #cache = new Map<string, LiveSession>();

  constructor(db: Db, policy: SessionPolicy, monotonic: () => number = () => performance.now()) {
    this.#db = db;
    this.#policy = policy;
    this.#monotonic = monotonic;
  }

  /**
   * Opens a session for an account once the caller has authenticated the person by `method`. Refused for a
   * disabled or unknown account, a retired terminal, and — when the policy says so — an unknown terminal.
   * `terminal` is where the login's terminal came from, as the edge resolved it (api/terminal-binding.ts, which
   * applies GRIDWALL_TERMINAL_CLAIMS: a typed ID reaches here only as a `claimed` binding it let through);
   * null: none. A device binding revoked since it was read, or not (any longer) confirmed where its terminal
   * opens network-only data, binds nothing. `idToken` is single sign-on's ID token, kept for the provider's
   * logout. Records the login on the account (dormancy) and the use on the terminal (reconciliation).
   */
  async open(
    userId: string,
    terminal: TerminalBinding | null,
    at: Date,
    method: AuthMethod = 'demo',
    opts: { readonly idToken?: string | null } = {},
  ): Promise<OpenResult> {
    return this.#db.transaction(async (tx) => {
      let bound = terminal ?? NO_TERMINAL;
      // Where the login is, as learned: kept for the side rule although a binding nobody confirmed binds nothing.
      const learned = bound;
      // The binding awaits a second administrator now (read under its lock): one revoked since the browser's
      // cookie was read binds nothing either, but is no binding awaiting confirmation.
      let pending = false;
      if (bound.deviceId !== null) {
        const live = await tx.query<{ binds: boolean; revoked: boolean }>(
          `SELECT ${DEVICE_BINDS('d', 't')} AS binds, d.revoked_at IS NOT NULL AS revoked
             FROM terminal_devices d JOIN terminals t ON t.id = d.terminal_id WHERE d.id = $1 FOR UPDATE OF d`,
          [bound.deviceId],
        );
        const row = live.rows[0];
        if (row?.binds !== true) bound = NO_TERMINAL;
        pending = row !== undefined && !row.binds && !row.revoked;
      }
      const terminalId = bound.terminalId;
      const t = await tx.query<{ terminal: unknown }>(`SELECT ${TERMINAL('$1')} AS terminal`, [terminalId]);
      const facts = toTerminal(json<TerminalJson | null>(t.rows[0]?.terminal ?? null));
      const standing = standingOf(terminalId, facts, at);
      const refusal = loginRefusal(standing, this.#policy.unknownTerminal ?? 'limit');
      if (refusal !== null) {
        return {
          kind: 'refused',
          code: refusal,
          message:
            refusal === 'retired_terminal'
              ? `terminal ${terminalId ?? ''} is retired`
              : terminalId === null
                ? 'this browser is not registered as a terminal: ask access administration to register it (an enrolment code)'
                : `terminal ${terminalId} is not in the terminal registry`,
        } as const;
      }
      const account = await loginStanding(tx, userId, at, this.#policy.dormantDays ?? DEFAULT_DORMANT_DAYS);
      if (account === 'dormant_account')
        return { kind: 'refused', code: account, message: 'this account has not been used for a long time and is dormant: ask access administration' } as const;
      if (account === 'account_without_person')
        return { kind: 'refused', code: account, message: 'no one is assigned behind this account now: ask access administration' } as const;
      const { crossing, unknown } = await retailWhereabouts(tx, userId, learned, pending, at);
      if (crossing !== null && (this.#policy.retailOnNetworkTerminal ?? 'refuse') === 'refuse')
        return {
          kind: 'refused',
          code: 'retail_on_network_terminal',
          message: `terminal ${crossing.terminalId} stands at a network site: a retailer's person may not log in there (ask access administration)`,
          crossing,
        } as const;
      const id = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      const { rows } = await tx.query<SessionRow>(OPEN_SESSION, [
        id,
        userId,
        terminalId,
        csrfToken,
        at,
        new Date(at.getTime() + this.#policy.absoluteMs),
        method,
        bound.source,
        bound.deviceId,
        opts.idToken ?? null,
      ]);
      const row = rows[0];
      if (row === undefined) return { kind: 'refused', code: 'unknown_account', message: 'no usable account with that user id' } as const;
      await tx.query('UPDATE accounts SET last_login_at = $2 WHERE user_id = $1', [userId, at]);
      if (terminalId !== null) await tx.query('UPDATE terminals SET last_used_at = $2 WHERE id = $1', [terminalId, at]);
      if (bound.deviceId !== null) await tx.query('UPDATE terminal_devices SET last_used_at = $2 WHERE id = $1', [bound.deviceId, at]);
      const live = toLive(row, this.#monotonic());
      this.#remember(live);
      return { kind: 'opened', session: { id, csrfToken, actor: actorAt(live, at) }, crossing, unknownTerminal: unknown } as const;
    });
  }

  /** Ends every live session of a person (leaver, logout everywhere). Takes effect at once for this process. */
  async endAllOf(personId: string, at: Date, db: Queryable = this.#db): Promise<number> {
    for (const [k, v] of this.#cache) if (v.personId === personId) this.#cache.delete(k);
    const { rows } = await db.query('UPDATE sessions SET ended_at = $2, oidc_id_token = NULL WHERE person_id = $1 AND ended_at IS NULL RETURNING id', [
      personId,
      at,
    ]);
    return rows.length;
  }

  /**
   * The actor behind a live session at `at`, and the session's CSRF token. An ended, expired or idle
   * session, a disabled account or an unknown ID gives null.
   */
  async actor(sessionId: string, at: Date): Promise<{ actor: Actor; csrfToken: string } | null> {
    const t = at.getTime();
    let live = this.#cache.get(sessionId);
    if (live !== undefined && this.#monotonic() - live.readAt >= this.#policy.cacheMs) {
      this.#cache.delete(sessionId);
      live = undefined;
    }
    if (live === undefined) {
      const { rows } = await this.#db.query<SessionRow>(LIVE_SESSION, [sessionId, at, new Date(t - this.#policy.idleMs)]);
      const row = rows[0];
      if (row === undefined) {
        await this.#forgetIdToken(sessionId, at);
        return null;
      }
      live = toLive(row, this.#monotonic());
      this.#remember(live);
    }
    if (t >= live.expiresAt || t - live.lastSeenAt >= this.#policy.idleMs) {
      this.#cache.delete(sessionId);
      await this.#forgetIdToken(sessionId, at);
      return null;
    }
    if (t - live.lastSeenAt > TOUCH_AFTER_MS) {
      await this.#db.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2', [sessionId, at]);
      live.lastSeenAt = t;
    }
    return { actor: actorAt(live, at), csrfToken: live.csrfToken };
  }

  /**
   * The actor behind an API token `gw_<id>_<secret>` at `at`, with the token's scopes; null for an unknown,
   * revoked, expired or malformed token or a disabled account. Read on every request: revocation is immediate.
   */
  async tokenActor(token: string, at: Date): Promise<Actor | null> {
    const parsed = parseApiToken(token);
    if (parsed === null) return null;
    const { rows } = await this.#db.query<SessionRow & { secret_sha256: Uint8Array; scopes: string[]; owner_person_id: string }>(TOKEN_ACTOR, [parsed.id, at]);
    const row = rows[0];
    if (row === undefined) return null;
    const given = createHash('sha256').update(parsed.secret).digest();
    const stored = Buffer.from(row.secret_sha256);
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return null;
    await this.#db.query(
      "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')",
      [parsed.id, at],
    );
    return actorAt(toLive(row, this.#monotonic()), at, {
      id: parsed.id,
      ownerPersonId: row.owner_person_id,
      scopes: row.scopes,
      until: new Date(row.expires_at),
    });
  }

  /**
   * Ends a session (logout). Takes effect at once for this process. Returns the single sign-on ID token the
   * session kept (for the provider's logout), which the store forgets in the same statement; null for none.
   */
  async end(sessionId: string, at: Date): Promise<string | null> {
    this.#cache.delete(sessionId);
    const { rows } = await this.#db.query<{ oidc_id_token: string | null }>(
      `UPDATE sessions s SET ended_at = $2, oidc_id_token = NULL FROM (SELECT id, oidc_id_token FROM sessions WHERE id = $1 FOR UPDATE) old
        WHERE s.id = old.id AND s.ended_at IS NULL RETURNING old.oidc_id_token`,
      [sessionId, at],
    );
    return rows[0]?.oidc_id_token ?? null;
  }

  /**
   * Forgets the single sign-on ID tokens of sessions no longer live at `at` — ended, past their absolute
   * lifetime, idle past the time-out, or of a disabled account — which nothing will read again (the daily
   * sweep; a timed-out session read again forgets its own at once). Returns how many.
   */
  async forgetStaleIdTokens(at: Date): Promise<number> {
    const { rows } = await this.#db.query(
      `UPDATE sessions s SET oidc_id_token = NULL WHERE s.oidc_id_token IS NOT NULL
          AND (s.ended_at IS NOT NULL OR s.expires_at <= $1 OR s.last_seen_at <= $2
               OR EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = s.user_id AND a.disabled_at IS NOT NULL))
        RETURNING s.id`,
      [at, new Date(at.getTime() - this.#policy.idleMs)],
    );
    return rows.length;
  }

  /** A session found not live: its ID token, if any, is no longer needed (the person cannot log out of it). */
  async #forgetIdToken(sessionId: string, at: Date): Promise<void> {
    await this.#db.query(
      `UPDATE sessions s SET oidc_id_token = NULL WHERE s.id = $1 AND s.oidc_id_token IS NOT NULL
          AND (s.ended_at IS NOT NULL OR s.expires_at <= $2 OR s.last_seen_at <= $3
               OR EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = s.user_id AND a.disabled_at IS NOT NULL))`,
      [sessionId, at, new Date(at.getTime() - this.#policy.idleMs)],
    );
  }

  /** Drops sessions ended by another statement (a revoked device binding) from this process's cache at once. */
  forget(sessionIds: readonly string[]): void {
    for (const id of sessionIds) this.#cache.delete(id);
  }

  #remember(live: LiveSession): void {
    if (this.#policy.cacheMs <= 0) return;
    this.#cache.delete(live.sessionId);
    this.#cache.set(live.sessionId, live);
    if (this.#cache.size > CACHE_ENTRIES) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
  }
}
