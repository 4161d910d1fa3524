import { createHash, randomBytes, randomInt } from 'node:crypto';
import { refusalFamily } from '../domain/refusal.ts';
import type { TerminalSource } from '../domain/terminal.ts';
import { recordGovernance, recordingRefusals, type GovernanceActor } from '../audit/governance-log.ts';
import { DEFAULT_SOD_POLICY, type SodPolicy } from '../domain/separation-of-duties.ts';
import { lockPeopleForSod, reciprocalApproval } from './approvals.ts';
import { dateOrNull, type Db, type Queryable } from '../store/db.ts';

/**
 * Browsers bound to terminals by access administration (issue 19). A terminal ID a person types is their own
 * claim — and the incidents were about access decided by terminal — so the terminal a login counts is the one
 * an access administrator bound the browser to: a random secret (32 bytes) in the browser's HttpOnly,
 * Secure, SameSite=Strict cookie, of which the store keeps only the SHA-256. An administrator binds the
 * browser they are using, or issues a one-time enrolment code someone at the PC enters once. Revoking the
 * device or retiring its terminal ends the binding (and the sessions opened through it). Every enrolment,
 * refused enrolment and revocation is a governance event.
 *
 * A binding widens what its logins may read when its terminal opens network-only data (network-set, at a
 * network site: the only standing that opens the gate, `networkOnlyGate`). Such a binding is pending — it
 * binds nothing — until a second access administrator, not the one who registered the browser or issued the
 * code, confirms it (no widening by one person, docs/SECURITY.md); it may be rejected instead. Whether a
 * binding needs confirming is read from the terminal at each login, so re-setting a terminal later does not
 * let an unconfirmed binding through either.
 */

/** Where a login's terminal came from, as resolved before the session is opened. */
export interface TerminalBinding {
  readonly terminalId: string | null;
  readonly source: TerminalSource | null;
  /** The device binding, when `source` is `device`. */
  readonly deviceId: number | null;
}

export const NO_TERMINAL: TerminalBinding = { terminalId: null, source: null, deviceId: null };

/** A typed terminal ID: the person's own claim. */
export const claimedTerminal = (terminalId: string | null): TerminalBinding =>
  terminalId === null ? NO_TERMINAL : { terminalId, source: 'claimed', deviceId: null };

/** An enrolment code is good for this long unless the administrator says otherwise. */
export const ENROLLMENT_CODE_DEFAULT_MINUTES = 30;
export const ENROLLMENT_CODE_MAX_MINUTES = 24 * 60;

/** Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is not misread. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 12 characters, 60 bits: shown as XXXX-XXXX-XXXX. Guessing is bounded by the expiry and the rate limit. */
const CODE_LENGTH = 12;

export class DeviceError extends refusalFamily('terminal', {
  unknown_terminal: 'not_found',
  retired_terminal: 'conflict',
  unknown_device: 'not_found',
  device_revoked: 'conflict',
  /** Confirming or rejecting a binding already decided. */
  not_pending: 'conflict',
  /** The administrator who registered the browser or issued the code confirms their own binding. */
  self_confirmation: 'refused',
  /** Wrong, expired or already used: one answer for all, the reason only in the governance log. */
  enrollment_code_rejected: 'refused',
  /** The one who registered the browser (or issued its code) approved something for this approver within the period (identity/approvals.ts). */
  reciprocal_approval: 'refused',
}) {}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The code as typed: full-width characters (a Japanese IME), lower case, spaces and hyphens allowed, and the
 * letters Crockford's alphabet leaves out read as the digits they look like.
 */
export function normalizeEnrollmentCode(typed: string): string {
  return typed.normalize('NFKC').toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)] ?? '';
  return code;
}

const formatCode = (code: string) => code.match(/.{1,4}/g)?.join('-') ?? code;

/**
 * SQL: whether the terminal `t` opens network-only data (its standing is `network_site` while in service) —
 * the terminals a binding must be confirmed for. Retired terminals are refused at login anyway.
 */
const OPENS_NETWORK_ONLY = (t: string) => `(${t}.setting = 'network' AND ${t}.site_side = 'network')`;

/**
 * SQL: whether device binding `d` of terminal `t` binds at a login — live, and confirmed by a second person
 * where its terminal opens network-only data.
 */
export const DEVICE_BINDS = (d: string, t: string) =>
  `(${d}.revoked_at IS NULL AND (${d}.decision IS NOT DISTINCT FROM 'confirmed' OR NOT ${OPENS_NETWORK_ONLY(t)}))`;

async function liveTerminal(tx: Queryable, terminalId: string, at: Date): Promise<void> {
  const { rows } = await tx.query<{ retired_at: Date | string | null }>('SELECT retired_at FROM terminals WHERE id = $1', [terminalId]);
  const row = rows[0];
  if (row === undefined) throw new DeviceError('unknown_terminal', `terminal ${terminalId} is not in the registry`);
  const retired = dateOrNull(row.retired_at);
  if (retired !== null && retired.getTime() <= at.getTime()) throw new DeviceError('retired_terminal', `terminal ${terminalId} is retired`);
}

interface Issuer {
  readonly name: string;
  readonly person: string | null;
}

/** Inserts a binding; `pending` when its terminal opens network-only data (a second administrator must confirm it). */
async function insertDevice(
  tx: Queryable,
  terminalId: string,
  label: string,
  method: 'browser' | 'code',
  enrolledBy: string,
  issuer: Issuer,
  at: Date,
): Promise<{ id: number; secret: string; pending: boolean }> {
  const secret = randomBytes(32).toString('base64url');
  const { rows } = await tx.query<{ id: string; pending: boolean }>(
    `INSERT INTO terminal_devices (terminal_id, secret_sha256, label, method, enrolled_at, enrolled_by, issued_by, issued_by_person)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING id, (SELECT ${OPENS_NETWORK_ONLY('t')} FROM terminals t WHERE t.id = $1) AS pending`,
    [terminalId, sha256(secret), label, method, at, enrolledBy, issuer.name, issuer.person],
  );
  return { id: Number(rows[0]?.id), secret, pending: rows[0]?.pending === true };
}

/** Whose act it is, as the device table records it: a person's user ID, or the system job. */
const byName = (by: GovernanceActor) => (by.kind === 'system' ? `system:${by.job}` : by.userId);
const personOf = (by: GovernanceActor) => (by.kind === 'system' ? null : by.personId);

/** Ends the live sessions opened through a device binding; their IDs, for the app's session cache. */
async function endDeviceSessions(tx: Queryable, deviceId: number, at: Date): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    'UPDATE sessions SET ended_at = $2, oidc_id_token = NULL WHERE device_id = $1 AND ended_at IS NULL RETURNING id',
    [deviceId, at],
  );
  return rows.map((r) => r.id);
}

/**
 * A browser enrolled again: the binding its incoming cookie names (if live) is revoked in the new binding's
 * transaction, so one browser never holds two live bindings (the old secret may have been copied).
 */
async function revokeReplaced(tx: Queryable, by: GovernanceActor, oldSecret: string | null, newDeviceId: number, at: Date): Promise<string[]> {
  if (oldSecret === null || oldSecret === '' || oldSecret.length > 100) return [];
  const { rows } = await tx.query<{ id: string; terminal_id: string }>(
    `UPDATE terminal_devices SET revoked_at = $2, revoked_by = $3, revoke_reason = 'enrolled again' WHERE secret_sha256 = $1 AND revoked_at IS NULL AND id <> $4
     RETURNING id, terminal_id`,
    [sha256(oldSecret), at, byName(by), newDeviceId],
  );
  const ended: string[] = [];
  for (const r of rows) {
    const sessions = await endDeviceSessions(tx, Number(r.id), at);
    ended.push(...sessions);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'terminal.device_revoke',
      subjectType: 'terminal',
      subjectId: r.terminal_id,
      outcome: 'done',
      details: { deviceId: Number(r.id), reason: 'enrolled again', replacedBy: newDeviceId, sessionsEnded: sessions.length },
    });
  }
  return ended;
}

/** What an enrolment gives the browser: the secret for its cookie, and what it ended. */
export interface Enrolled {
  readonly deviceId: number;
  readonly terminalId: string;
  readonly secret: string;
  /** The binding awaits a second administrator's confirmation and binds nothing until then. */
  readonly pending: boolean;
  /** Sessions ended because the browser's previous binding was revoked. */
  readonly sessionsEnded: readonly string[];
}

/**
 * An access administrator binds the browser they are using to a terminal ("この端末をこのブラウザに登録").
 * Returns the secret for the cookie; the store keeps its hash. `replacing` is the secret of the browser's
 * current binding, if it sent one: that binding is revoked.
 */
export async function enrollThisBrowser(
  db: Db,
  by: GovernanceActor,
  terminalId: string,
  label: string,
  at: Date,
  replacing: string | null = null,
): Promise<Enrolled> {
  const act = {
    at,
    actor: by,
    action: 'terminal.device_enroll',
    subjectType: 'terminal',
    subjectId: terminalId,
    details: { method: 'browser', label },
  } as const;
  return recordingRefusals(db, 'terminal', act, async (tx) => {
    await liveTerminal(tx, terminalId, at);
    const device = await insertDevice(tx, terminalId, label, 'browser', byName(by), { name: byName(by), person: personOf(by) }, at);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'terminal.device_enroll',
      subjectType: 'terminal',
      subjectId: terminalId,
      outcome: 'done',
      details: { deviceId: device.id, method: 'browser', label, pending: device.pending },
    });
    const sessionsEnded = await revokeReplaced(tx, by, replacing, device.id, at);
    return { deviceId: device.id, terminalId, secret: device.secret, pending: device.pending, sessionsEnded };
  });
}

/** An access administrator issues a one-time enrolment code for a terminal: shown once, kept as its hash. */
export async function issueEnrollmentCode(
  db: Db,
  by: GovernanceActor,
  terminalId: string,
  minutes: number,
  at: Date,
): Promise<{ id: number; terminalId: string; code: string; expiresAt: Date }> {
  const act = { at, actor: by, action: 'terminal.enrollment_code', subjectType: 'terminal', subjectId: terminalId } as const;
  return recordingRefusals(db, 'terminal', act, async (tx) => {
    await liveTerminal(tx, terminalId, at);
    const code = newCode();
    const expiresAt = new Date(at.getTime() + minutes * 60_000);
    const { rows } = await tx.query<{ id: string }>(
      'INSERT INTO terminal_enrollment_codes (terminal_id, code_sha256, created_by, created_by_person, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [terminalId, sha256(code), byName(by), personOf(by), at, expiresAt],
    );
    const id = Number(rows[0]?.id);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'terminal.enrollment_code',
      subjectType: 'terminal',
      subjectId: terminalId,
      outcome: 'done',
      details: { codeId: id, expiresAt: expiresAt.toISOString() },
    });
    return { id, terminalId, code: formatCode(code), expiresAt };
  });
}

/**
 * Someone at the PC enters the code: if it is known, unused, unexpired and its terminal in service, the code
 * is spent and this browser bound to the terminal (pending a second administrator's confirmation where the
 * terminal opens network-only data; the code's issuer is the first). Any other code is refused alike
 * (`enrollment_code_rejected`); the reason goes to the governance log with the client's address. `replacing`:
 * as for `enrollThisBrowser`.
 */
export async function redeemEnrollmentCode(
  db: Db,
  typed: string,
  label: string,
  clientAddress: string,
  at: Date,
  replacing: string | null = null,
): Promise<Enrolled> {
  const code = normalizeEnrollmentCode(typed);
  const outcome = await db.transaction(async (tx) => {
    const { rows } = await tx.query<{
      id: string;
      terminal_id: string;
      created_by: string;
      created_by_person: string | null;
      expires_at: Date | string;
      used_at: Date | string | null;
      retired_at: Date | string | null;
    }>(
      `SELECT c.id, c.terminal_id, c.created_by, c.created_by_person, c.expires_at, c.used_at, t.retired_at
         FROM terminal_enrollment_codes c JOIN terminals t ON t.id = c.terminal_id WHERE c.code_sha256 = $1 FOR UPDATE OF c`,
      [sha256(code)],
    );
    const row = rows[0];
    const retired = dateOrNull(row?.retired_at ?? null);
    const reason =
      row === undefined
        ? 'code_unknown'
        : row.used_at !== null
          ? 'code_used'
          : new Date(row.expires_at).getTime() <= at.getTime()
            ? 'code_expired'
            : retired !== null && retired.getTime() <= at.getTime()
              ? 'retired_terminal'
              : null;
    if (row === undefined || reason !== null) return { ok: false as const, reason: reason ?? 'code_unknown', terminalId: row?.terminal_id ?? null };
    const issuer = { name: row.created_by, person: row.created_by_person };
    const device = await insertDevice(tx, row.terminal_id, label, 'code', `code:${row.id}`, issuer, at);
    await tx.query('UPDATE terminal_enrollment_codes SET used_at = $2, device_id = $3 WHERE id = $1', [row.id, at, device.id]);
    const enrollment = { kind: 'system', job: 'enrollment' } as const;
    await recordGovernance(tx, {
      at,
      actor: enrollment,
      action: 'terminal.device_enroll',
      subjectType: 'terminal',
      subjectId: row.terminal_id,
      outcome: 'done',
      details: { deviceId: device.id, method: 'code', codeId: Number(row.id), issuedBy: row.created_by, label, clientAddress, pending: device.pending },
    });
    const sessionsEnded = await revokeReplaced(tx, enrollment, replacing, device.id, at);
    return { ok: true as const, deviceId: device.id, terminalId: row.terminal_id, secret: device.secret, pending: device.pending, sessionsEnded };
  });
  if (outcome.ok) return outcome;
  // Outside the transaction that found nothing to do: the refusal is evidence whatever happens next.
  await recordGovernance(db, {
    at,
    actor: { kind: 'system', job: 'enrollment' },
    action: 'terminal.device_enroll',
    subjectType: 'terminal',
    subjectId: outcome.terminalId ?? '(unknown code)',
    outcome: 'refused',
    rule: outcome.reason,
    details: { clientAddress },
  });
  throw new DeviceError('enrollment_code_rejected', 'the enrolment code is wrong, expired or already used: ask access administration for a new one');
}

/** Revokes a device binding: it binds no more, and the sessions opened through it end. */
export async function revokeDevice(
  db: Db,
  by: GovernanceActor,
  deviceId: number,
  reason: string,
  at: Date,
): Promise<{ terminalId: string; sessionsEnded: readonly string[] }> {
  const act = {
    at,
    actor: by,
    action: 'terminal.device_revoke',
    subjectType: 'terminal',
    subjectId: `device:${deviceId}`,
    details: { deviceId, reason },
  } as const;
  return recordingRefusals(db, 'terminal', act, async (tx) => {
    const { rows } = await tx.query<{ terminal_id: string; revoked_at: Date | string | null }>(
      'SELECT terminal_id, revoked_at FROM terminal_devices WHERE id = $1 FOR UPDATE',
      [deviceId],
    );
    const row = rows[0];
    if (row === undefined) throw new DeviceError('unknown_device', `no device binding ${deviceId}`);
    if (row.revoked_at !== null) throw new DeviceError('device_revoked', `device binding ${deviceId} is already revoked`);
    await tx.query('UPDATE terminal_devices SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE id = $1', [deviceId, at, byName(by), reason]);
    const ended = await endDeviceSessions(tx, deviceId, at);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'terminal.device_revoke',
      subjectType: 'terminal',
      subjectId: row.terminal_id,
      outcome: 'done',
      details: { deviceId, reason, sessionsEnded: ended.length },
    });
    return { terminalId: row.terminal_id, sessionsEnded: ended };
  });
}

/**
 * A second access administrator decides a binding awaiting confirmation: `confirmed`, it binds from the next
 * login; `rejected`, it is revoked (and any session through it ends). Confirming needs a person other than the
 * one who registered the browser or issued the code (checked here and by the store); rejecting narrows, so
 * it does not. Both, and each refusal, are governance events (`terminal.device_confirm`, `terminal.device_reject`).
 */
export async function decideDevice(
  db: Db,
  by: GovernanceActor,
  deviceId: number,
  decision: 'confirmed' | 'rejected',
  comment: string | null,
  at: Date,
  sod: SodPolicy = DEFAULT_SOD_POLICY,
): Promise<{ terminalId: string; sessionsEnded: readonly string[] }> {
  const action = decision === 'confirmed' ? 'terminal.device_confirm' : 'terminal.device_reject';
  const act = { at, actor: by, action, subjectType: 'terminal', subjectId: `device:${deviceId}`, details: { deviceId, comment } } as const;
  return recordingRefusals(db, 'terminal', act, async (tx) => {
    const { rows } = await tx.query<{
      terminal_id: string;
      revoked_at: Date | string | null;
      decision: string | null;
      issued_by: string;
      issued_by_person: string | null;
    }>('SELECT terminal_id, revoked_at, decision, issued_by, issued_by_person FROM terminal_devices WHERE id = $1 FOR UPDATE', [deviceId]);
    const row = rows[0];
    if (row === undefined) throw new DeviceError('unknown_device', `no device binding ${deviceId}`);
    if (row.revoked_at !== null) throw new DeviceError('device_revoked', `device binding ${deviceId} is revoked`);
    if (row.decision !== null) throw new DeviceError('not_pending', `device binding ${deviceId} is already ${row.decision}`);
    if (decision === 'confirmed' && (by.kind === 'system' || by.personId === row.issued_by_person))
      throw new DeviceError(
        'self_confirmation',
        'a device binding is confirmed by a second access administrator, not by the one who registered it or issued its code',
      );
    if (decision === 'confirmed' && by.kind === 'person' && row.issued_by_person !== null) {
      await lockPeopleForSod(tx, [by.personId, row.issued_by_person]);
      const found = await reciprocalApproval(tx, sod, {
        approverPersonId: by.personId,
        approverUserId: by.userId,
        beneficiaryPersonIds: [row.issued_by_person],
        what: `device binding ${deviceId} (terminal ${row.terminal_id}) of ${row.issued_by}`,
        at,
      });
      if (found !== null) throw new DeviceError('reciprocal_approval', found.message, found.details);
    }
    const rejected = decision === 'rejected';
    await tx.query(
      `UPDATE terminal_devices SET decision = $2, decided_at = $3::timestamptz, decided_by = $4::text, decided_by_person = $5,
              revoked_at = CASE WHEN $6::boolean THEN $3::timestamptz END, revoked_by = CASE WHEN $6::boolean THEN $4::text END,
              revoke_reason = CASE WHEN $6::boolean THEN $7::text END
        WHERE id = $1`,
      [deviceId, decision, at, byName(by), personOf(by), rejected, `rejected: ${comment ?? ''}`],
    );
    const ended = rejected ? await endDeviceSessions(tx, deviceId, at) : [];
    await recordGovernance(tx, {
      at,
      actor: by,
      action,
      subjectType: 'terminal',
      subjectId: row.terminal_id,
      outcome: 'done',
      details: { deviceId, comment, sessionsEnded: ended.length },
    });
    return { terminalId: row.terminal_id, sessionsEnded: ended };
  });
}

/**
 * A terminal re-set so that it opens network-only data: sessions opened through its bindings nobody confirmed
 * (then harmless) end, in the change's transaction — the bindings themselves are pending from now on.
 */
export async function endUnconfirmedSessionsOf(tx: Queryable, terminalId: string, at: Date): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE sessions s SET ended_at = $2, oidc_id_token = NULL FROM terminal_devices d JOIN terminals t ON t.id = d.terminal_id
      WHERE s.device_id = d.id AND d.terminal_id = $1 AND s.ended_at IS NULL AND NOT ${DEVICE_BINDS('d', 't')} RETURNING s.id`,
    [terminalId, at],
  );
  return rows.map((r) => r.id);
}

/** Revokes every device of a terminal being retired, in the retirement's transaction. */
export async function revokeDevicesOf(tx: Queryable, by: GovernanceActor, terminalId: string, at: Date): Promise<number> {
  const { rows } = await tx.query(
    `UPDATE terminal_devices SET revoked_at = $2, revoked_by = $3, revoke_reason = 'terminal retired' WHERE terminal_id = $1 AND revoked_at IS NULL RETURNING id`,
    [terminalId, at, byName(by)],
  );
  return rows.length;
}

/**
 * The binding a browser's device secret gives, or null: an unknown or revoked device binds nothing. A binding
 * awaiting a second administrator's confirmation comes back `pending` (it binds nothing either; the login
 * screen says why). A retired terminal still comes back (the login is then refused as `retired_terminal`).
 */
export async function deviceBinding(q: Queryable, secret: string): Promise<{ readonly binding: TerminalBinding; readonly pending: boolean } | null> {
  if (secret === '' || secret.length > 100) return null;
  const { rows } = await q.query<{ id: string; terminal_id: string; binds: boolean }>(
    `SELECT d.id, d.terminal_id, ${DEVICE_BINDS('d', 't')} AS binds FROM terminal_devices d JOIN terminals t ON t.id = d.terminal_id
      WHERE d.secret_sha256 = $1 AND d.revoked_at IS NULL`,
    [sha256(secret)],
  );
  const row = rows[0];
  return row === undefined ? null : { binding: { terminalId: row.terminal_id, source: 'device', deviceId: Number(row.id) }, pending: !row.binds };
}

/**
 * The start-up warning for a server that believes no terminal at all (issue 19's upgrade: on PostgreSQL typed
 * terminal IDs are ignored by default): claims ignored, no reverse proxy names terminals, and no browser is
 * bound — so every login has no terminal and network-only data is closed to everyone. Null when not so.
 */
export async function unboundTerminalsWarning(q: Queryable, claims: 'accept' | 'ignore', proxyHeader: boolean): Promise<string | null> {
  if (claims === 'accept' || proxyHeader) return null;
  const { rows } = await q.query<{ bound: boolean }>('SELECT EXISTS (SELECT 1 FROM terminal_devices WHERE revoked_at IS NULL) AS bound');
  if (rows[0]?.bound === true) return null;
  return (
    'warning: terminal IDs typed at login are ignored (GRIDWALL_TERMINAL_CLAIMS=ignore, the default with DATABASE_URL), no browser is bound to a terminal ' +
    'and no GRIDWALL_TERMINAL_HEADER is set: every login has no terminal, so network-only data is masked for everyone ' +
    '(and GRIDWALL_UNKNOWN_TERMINAL=refuse refuses every login). Bind the PCs on the console’s 端末 page (この端末をこのブラウザに登録 or an ' +
    'enrolment code, confirmed by a second access administrator for network-site terminals), or set GRIDWALL_TERMINAL_HEADER behind a proxy ' +
    'that names terminals; GRIDWALL_TERMINAL_CLAIMS=accept restores the old behaviour (a typed terminal ID is believed: docs/identity.md).'
  );
}

export interface DeviceRow {
  readonly id: number;
  readonly terminalId: string;
  readonly label: string;
  readonly method: 'browser' | 'code';
  readonly enrolledAt: Date;
  readonly enrolledBy: string;
  /** The administrator who registered the browser or issued the code. */
  readonly issuedBy: string;
  readonly decision: 'confirmed' | 'rejected' | null;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  /** Live, undecided, and its terminal opens network-only data: binds nothing until a second administrator confirms it. */
  readonly awaitsConfirmation: boolean;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
}

/** Every device binding, newest first (never its secret, which the store does not have). */
export async function listDevices(q: Queryable, terminalId: string | null): Promise<DeviceRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT d.id, d.terminal_id, d.label, d.method, d.enrolled_at, d.enrolled_by, d.issued_by, d.decision, d.decided_by, d.decided_at,
            d.last_used_at, d.revoked_at, d.revoked_by, d.revoke_reason, NOT ${DEVICE_BINDS('d', 't')} AND d.revoked_at IS NULL AS awaits
       FROM terminal_devices d JOIN terminals t ON t.id = d.terminal_id WHERE $1::text IS NULL OR d.terminal_id = $1 ORDER BY d.id DESC`,
    [terminalId],
  );
  return rows.map((r) => ({
    id: Number(r['id']),
    terminalId: String(r['terminal_id']),
    label: String(r['label']),
    method: r['method'] === 'code' ? 'code' : 'browser',
    enrolledAt: new Date(r['enrolled_at'] as string),
    enrolledBy: String(r['enrolled_by']),
    issuedBy: String(r['issued_by']),
    decision: r['decision'] === 'confirmed' || r['decision'] === 'rejected' ? r['decision'] : null,
    decidedBy: typeof r['decided_by'] === 'string' ? r['decided_by'] : null,
    decidedAt: dateOrNull(r['decided_at']),
    awaitsConfirmation: r['awaits'] === true,
    lastUsedAt: dateOrNull(r['last_used_at']),
    revokedAt: dateOrNull(r['revoked_at']),
    revokedBy: typeof r['revoked_by'] === 'string' ? r['revoked_by'] : null,
    revokeReason: typeof r['revoke_reason'] === 'string' ? r['revoke_reason'] : null,
  }));
}
