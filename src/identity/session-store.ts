import { randomBytes } from 'node:crypto';
import { principalAt, type PrincipalFacts } from '../domain/principal.ts';
import type { Duty, Employment, Side, StaffAssignment } from '../domain/organization.ts';
import type { Queryable } from '../store/db.ts';

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

const ASSIGNMENTS = `coalesce((SELECT json_agg(json_build_object(
    'person_id', s.person_id, 'organization_id', s.organization_id, 'organization_name', o.name,
    'employment', s.employment, 'side', s.side, 'retailer_code', s.retailer_code, 'office', s.office,
    'duty', s.duty, 'valid_from', s.valid_from, 'valid_to', s.valid_to) ORDER BY s.valid_from)
  FROM staff_assignments s JOIN organizations o ON o.id = s.organization_id WHERE s.person_id = p.id), '[]'::json)`;

function parseJson<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

function actorFrom(row: { person_id: string; person_name: string; user_id: string; session_id: string; terminal_id: string | null; assignments: unknown }, at: Date): Actor {
  const raw = parseJson<AssignmentJson[]>(row.assignments);
  const principal = principalAt(row.person_id, raw.map(toAssignment), at);
  const org = principal.assignment === null ? null : (raw.find((a) => a.organization_id === principal.assignment?.organizationId)?.organization_name ?? null);
  return {
    personId: row.person_id,
    personName: row.person_name,
    userId: row.user_id,
    sessionId: row.session_id,
    terminalId: row.terminal_id,
    organizationName: org,
    principal,
  };
}

/** How stale `last_seen_at` may get before a request refreshes it: one write a minute, not one per read. */
const TOUCH_AFTER_MS = 60_000;

/**
 * The actor behind a live session, with the principal derived at `at`. A session of a disabled account,
 * an ended or expired session, or an unknown ID gives null. Sliding idle timeout: `idleMs`.
 */
export async function actorForSession(db: Queryable, sessionId: string, at: Date, idleMs: number): Promise<Actor | null> {
  const { rows } = await db.query<{ person_id: string; person_name: string; user_id: string; session_id: string; terminal_id: string | null; last_seen_at: Date | string; assignments: unknown }>(
    `SELECT p.id AS person_id, p.name AS person_name, se.user_id, se.id AS session_id, se.terminal_id, se.last_seen_at, ${ASSIGNMENTS} AS assignments
       FROM sessions se JOIN accounts a ON a.user_id = se.user_id JOIN persons p ON p.id = se.person_id
      WHERE se.id = $1 AND se.ended_at IS NULL AND se.expires_at > $2 AND se.last_seen_at > $3 AND a.disabled_at IS NULL`,
    [sessionId, at, new Date(at.getTime() - idleMs)],
  );
  const row = rows[0];
  if (row === undefined) return null;
  if (at.getTime() - new Date(row.last_seen_at).getTime() > TOUCH_AFTER_MS) {
    await db.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1', [sessionId, at]);
  }
  return actorFrom(row, at);
}

export interface NewSession {
  readonly id: string;
  readonly csrfToken: string;
  readonly actor: Actor;
}

/** Opens a session for an account (after whatever authentication applies). Null if the account is unusable. */
export async function openSession(db: Queryable, userId: string, terminalId: string | null, at: Date, absoluteMs: number): Promise<NewSession | null> {
  const id = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const { rows } = await db.query<{ person_id: string; person_name: string; user_id: string; session_id: string; terminal_id: string | null; assignments: unknown }>(
    `INSERT INTO sessions (id, user_id, person_id, terminal_id, csrf_token, created_at, last_seen_at, expires_at)
     SELECT $1, a.user_id, a.person_id, $3, $4, $5, $5, $6 FROM accounts a WHERE a.user_id = $2 AND a.disabled_at IS NULL
     RETURNING id AS session_id, user_id, person_id, terminal_id,
       (SELECT name FROM persons WHERE id = person_id) AS person_name,
       (SELECT ${ASSIGNMENTS} FROM persons p WHERE p.id = person_id) AS assignments`,
    [id, userId, terminalId, csrfToken, at, new Date(at.getTime() + absoluteMs)],
  );
  const row = rows[0];
  return row === undefined ? null : { id, csrfToken, actor: actorFrom(row, at) };
}

export async function csrfTokenOf(db: Queryable, sessionId: string): Promise<string | null> {
  const { rows } = await db.query<{ csrf_token: string }>('SELECT csrf_token FROM sessions WHERE id = $1 AND ended_at IS NULL', [sessionId]);
  return rows[0]?.csrf_token ?? null;
}

export async function endSession(db: Queryable, sessionId: string, at: Date): Promise<void> {
  await db.query('UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [sessionId, at]);
}
