import { randomBytes } from 'node:crypto';
import { principalAt, type PrincipalFacts } from '../domain/principal.ts';
import type { Duty, Employment, Side, StaffAssignment } from '../domain/organization.ts';
import { statement, type Queryable } from '../store/db.ts';

/** Who is acting: the person behind a session, as of the request's instant. Logged with every read. */
export interface Actor {
  readonly personId: string;
  readonly personName: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly terminalId: string | null;
  readonly organizationName: string | null;
  readonly principal: PrincipalFacts;
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
}

interface SessionRow extends Record<string, unknown> {
  person_id: string;
  person_name: string;
  user_id: string;
  session_id: string;
  terminal_id: string | null;
  csrf_token: string;
  last_seen_at: Date | string;
  expires_at: Date | string;
  assignments: unknown;
}

/** A live session as read from the store: everything needed to derive the actor at any instant. */
interface LiveSession {
  readonly personId: string;
  readonly personName: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly terminalId: string | null;
  readonly csrfToken: string;
  readonly expiresAt: number;
  lastSeenAt: number;
  readonly assignments: readonly StaffAssignment[];
  readonly organizationNames: ReadonlyMap<string, string>;
  /** Monotonic time at which it was read. */
  readonly readAt: number;
}

const ASSIGNMENTS = `coalesce((SELECT json_agg(json_build_object(
    'person_id', s.person_id, 'organization_id', s.organization_id, 'organization_name', o.name,
    'employment', s.employment, 'side', s.side, 'retailer_code', s.retailer_code, 'office', s.office,
    'duty', s.duty, 'valid_from', s.valid_from, 'valid_to', s.valid_to) ORDER BY s.valid_from)
  FROM staff_assignments s JOIN organizations o ON o.id = s.organization_id WHERE s.person_id = p.id), '[]'::json)`;

/** Read on every authenticated request (or once per cache period), so prepared once per connection. */
const LIVE_SESSION = statement(
  'gw_live_session',
  `SELECT p.id AS person_id, p.name AS person_name, se.user_id, se.id AS session_id, se.terminal_id, se.csrf_token,
          se.last_seen_at, se.expires_at, ${ASSIGNMENTS} AS assignments
     FROM sessions se JOIN accounts a ON a.user_id = se.user_id JOIN persons p ON p.id = se.person_id
    WHERE se.id = $1 AND se.ended_at IS NULL AND se.expires_at > $2 AND se.last_seen_at > $3 AND a.disabled_at IS NULL`,
);

const OPEN_SESSION = `INSERT INTO sessions (id, user_id, person_id, terminal_id, csrf_token, created_at, last_seen_at, expires_at)
  SELECT $1, a.user_id, a.person_id, $3, $4, $5, $5, $6 FROM accounts a WHERE a.user_id = $2 AND a.disabled_at IS NULL
  RETURNING id AS session_id, user_id, person_id, terminal_id, csrf_token, last_seen_at, expires_at,
    (SELECT name FROM persons WHERE id = person_id) AS person_name,
    (SELECT ${ASSIGNMENTS} FROM persons p WHERE p.id = person_id) AS assignments`;

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
  };
}

function toLive(row: SessionRow, readAt: number): LiveSession {
  const raw = (typeof row.assignments === 'string' ? JSON.parse(row.assignments) : row.assignments) as AssignmentJson[];
  return {
    personId: row.person_id,
    personName: row.person_name,
    userId: row.user_id,
    sessionId: row.session_id,
    terminalId: row.terminal_id,
    csrfToken: row.csrf_token,
    expiresAt: new Date(row.expires_at).getTime(),
    lastSeenAt: new Date(row.last_seen_at).getTime(),
    assignments: raw.map(toAssignment),
    organizationNames: new Map(raw.map((a) => [a.organization_id, a.organization_name])),
    readAt,
  };
}

/** The actor at `at`: the principal is derived from the assignment in force at that instant, every time. */
function actorAt(s: LiveSession, at: Date): Actor {
  const principal = principalAt(s.personId, s.assignments, at);
  const org = principal.assignment === null ? null : (s.organizationNames.get(principal.assignment.organizationId) ?? null);
  return { personId: s.personId, personName: s.personName, userId: s.userId, sessionId: s.sessionId, terminalId: s.terminalId, organizationName: org, principal };
}

/**
 * Sessions of people logged in to gridwall. Stateful (a small cache of live sessions), so a class; the
 * store stays the only authority: a session is live only while its row says so.
 */
export class Sessions {
  readonly #db: Queryable;
  readonly #policy: SessionPolicy;
  readonly #monotonic: () => number;
  readonly #cache = new Map<string, LiveSession>();

  constructor(db: Queryable, policy: SessionPolicy, monotonic: () => number = () => performance.now()) {
    this.#db = db;
    this.#policy = policy;
    this.#monotonic = monotonic;
  }

  /** Opens a session for an account (after whatever authentication applies). Null if the account is unusable. */
  async open(userId: string, terminalId: string | null, at: Date): Promise<NewSession | null> {
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const { rows } = await this.#db.query<SessionRow>(OPEN_SESSION, [id, userId, terminalId, csrfToken, at, new Date(at.getTime() + this.#policy.absoluteMs)]);
    const row = rows[0];
    if (row === undefined) return null;
    const live = toLive(row, this.#monotonic());
    this.#remember(live);
    return { id, csrfToken, actor: actorAt(live, at) };
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
      if (row === undefined) return null;
      live = toLive(row, this.#monotonic());
      this.#remember(live);
    }
    if (t >= live.expiresAt || t - live.lastSeenAt >= this.#policy.idleMs) {
      this.#cache.delete(sessionId);
      return null;
    }
    if (t - live.lastSeenAt > TOUCH_AFTER_MS) {
      await this.#db.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2', [sessionId, at]);
      live.lastSeenAt = t;
    }
    return { actor: actorAt(live, at), csrfToken: live.csrfToken };
  }

  /** Ends a session (logout). Takes effect at once for this process. */
  async end(sessionId: string, at: Date): Promise<void> {
    this.#cache.delete(sessionId);
    await this.#db.query('UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [sessionId, at]);
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
