import { DAY_MS } from '../domain/japan-time.ts';
import { refusalFamily } from '../domain/refusal.ts';
import { misplacedSetting, needsSecondAdministrator, opensNetworkOnly } from '../domain/terminal.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import { dateOrNull, type Db, type Queryable } from '../store/db.ts';
import { endUnconfirmedSessionsOf, revokeDevicesOf } from './terminal-devices.ts';

/**
 * The terminal registry. A terminal never grants anything (the person decides); its registry entry can only
 * narrow. The reconciliation report lists what an inventory walk should look at: network-set terminals
 * standing at a retail or shared site (the Tohoku case, F1) first, then terminals unused for N days (a terminal
 * never used counts from its registration, so one registered today is not unused).
 */

/**
 * How a terminal ID is written — in the registry and in every login that names one. A login's terminal ID
 * is a claim of the client and lands in the log and in compliance's CSV, so it is held to the registry's
 * pattern (issue 14: a terminal ID `=HYPERLINK(…)` was accepted at login under the default policy).
 */
export const TERMINAL_ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;

export interface TerminalRow {
  readonly id: string;
  readonly organizationId: string;
  readonly organizationName: string;
  readonly office: string;
  readonly kind: 'dedicated' | 'virtual';
  readonly setting: 'network' | 'retail';
  readonly siteSide: 'network' | 'retail' | 'shared';
  /**
   * Used by several people in turn (a call centre's shared PCs): single sign-on re-authenticates at each
   * login. Every terminal is shared unless access administration marks it personal (false).
   */
  readonly shared: boolean;
  readonly registeredAt: Date;
  readonly retiredAt: Date | null;
  readonly lastUsedAt: Date | null;
  /** Network-set but not standing at a network site. */
  readonly misplaced: boolean;
  /** Not retired and not used for the report's number of days — counted from its registration if never used. */
  readonly unused: boolean;
}

/** A refused terminal change (answered 400 as before; a retired or unknown terminal is not told apart). */
export class TerminalError extends refusalFamily('terminal', {
  unknown_organization: 'invalid',
  unknown_terminal: 'invalid',
  /** A change that needs a second administrator while the terminal already has a request awaiting one. */
  request_pending: 'conflict',
}) {}

export async function listTerminals(q: Queryable, at: Date, unusedDays: number): Promise<TerminalRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT t.id, t.organization_id, o.name AS organization_name, t.office, t.kind, t.setting, t.site_side, t.shared, t.registered_at, t.retired_at, t.last_used_at
       FROM terminals t JOIN organizations o ON o.id = t.organization_id ORDER BY t.id`,
  );
  const cutoff = at.getTime() - unusedDays * DAY_MS;
  return rows.map((r) => {
    const retired = r['retired_at'] !== null && new Date(r['retired_at'] as string).getTime() <= at.getTime();
    // A terminal never used counts from its registration: one registered today is not "unused".
    const last = new Date((r['last_used_at'] ?? r['registered_at']) as string).getTime();
    return {
      id: String(r['id']),
      organizationId: String(r['organization_id']),
      organizationName: String(r['organization_name']),
      office: String(r['office']),
      kind: r['kind'] as TerminalRow['kind'],
      setting: r['setting'] as TerminalRow['setting'],
      siteSide: r['site_side'] as TerminalRow['siteSide'],
      shared: r['shared'] === true,
      registeredAt: new Date(r['registered_at'] as string),
      retiredAt: dateOrNull(r['retired_at']),
      lastUsedAt: dateOrNull(r['last_used_at']),
      misplaced: !retired && misplacedSetting({ setting: r['setting'] as TerminalRow['setting'], siteSide: r['site_side'] as TerminalRow['siteSide'] }),
      unused: !retired && last < cutoff,
    };
  });
}

export interface Reconciliation {
  readonly at: Date;
  readonly unusedDays: number;
  readonly terminals: number;
  readonly misplaced: readonly TerminalRow[];
  readonly unused: readonly TerminalRow[];
}

export async function reconcileTerminals(q: Queryable, at: Date, unusedDays: number): Promise<Reconciliation> {
  const all = await listTerminals(q, at, unusedDays);
  return { at, unusedDays, terminals: all.length, misplaced: all.filter((t) => t.misplaced), unused: all.filter((t) => t.unused) };
}

export interface TerminalSpec {
  readonly id: string;
  readonly organizationId: string;
  readonly office: string;
  readonly kind: 'dedicated' | 'virtual';
  readonly setting: 'network' | 'retail';
  readonly siteSide: 'network' | 'retail' | 'shared';
  /** Absent: shared (true) for a new terminal, unchanged for a registered one; false marks it personal. */
  readonly shared?: boolean;
}

/** What saving a terminal did: written at once, or kept as a request for a second access administrator. */
export type SaveOutcome =
  | { readonly kind: 'saved'; readonly sessionsEnded: readonly string[] }
  | { readonly kind: 'pending'; readonly requestId: number; readonly registered: boolean };

/**
 * Registers a terminal or records where it now stands / how it is set. Logged either way. A registration or
 * change that widens — one that makes the terminal open network-only data (network-set at a network site)
 * where it did not, or leaves a network-set terminal standing at a retail or shared site (F1) where it was
 * not (domain/terminal.ts needsSecondAdministrator) — is not applied: it is kept as a request
 * (`terminal.request`) until a second access administrator approves it with a reason
 * (identity/terminal-requests.ts) — one open request per terminal (`request_pending` while one waits).
 * `reason` is the requester's, kept with such a request.
 */
export async function saveTerminal(db: Db, by: GovernanceActor, t: TerminalSpec, at: Date, reason: string | null = null): Promise<SaveOutcome> {
  return db.transaction(async (tx) => {
    const org = await tx.query('SELECT 1 FROM organizations WHERE id = $1', [t.organizationId]);
    if (org.rows.length === 0) throw new TerminalError('unknown_organization', `organization ${t.organizationId} is not known`);
    const { rows: before } = await tx.query<{ setting: TerminalSpec['setting']; site_side: TerminalSpec['siteSide'] }>(
      'SELECT setting, site_side FROM terminals WHERE id = $1 FOR UPDATE',
      [t.id],
    );
    const was = before[0] === undefined ? null : { setting: before[0].setting, siteSide: before[0].site_side };
    if (needsSecondAdministrator(was, t))
      return { kind: 'pending', requestId: await openRequest(tx, by, t, was !== null, reason, at), registered: was !== null };
    return { kind: 'saved', sessionsEnded: await writeTerminal(tx, by, t, at) };
  });
}

/** Keeps a change that needs a second administrator as a request; `request_pending` when the terminal has one open. */
async function openRequest(tx: Queryable, by: GovernanceActor, t: TerminalSpec, registered: boolean, reason: string | null, at: Date): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO terminal_requests (terminal_id, organization_id, office, kind, setting, site_side, shared, registered, request_reason, requested_at, requested_by, requested_by_person)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (terminal_id) WHERE status = 'pending' DO NOTHING RETURNING id`,
    [
      t.id,
      t.organizationId,
      t.office,
      t.kind,
      t.setting,
      t.siteSide,
      t.shared ?? null,
      registered,
      reason,
      at,
      by.kind === 'system' ? `system:${by.job}` : by.userId,
      by.kind === 'system' ? null : by.personId,
    ],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new TerminalError('request_pending', `terminal ${t.id} already has a request awaiting a second access administrator`);
  await recordGovernance(tx, {
    at,
    actor: by,
    action: 'terminal.request',
    subjectType: 'terminal',
    subjectId: t.id,
    outcome: 'done',
    details: { ...t, requestId: Number(id), registered, reason },
  });
  return Number(id);
}

/**
 * Writes a terminal as given (a registration or an update) with its governance event, in the caller's
 * transaction: a save that needs no second person, or an approved request (`more` names it). A terminal
 * written so that it opens network-only data ends the sessions opened through its unconfirmed device bindings
 * (which bind nothing from then until a second administrator confirms them): one person's re-setting never
 * widens. Returns the sessions it ended.
 */
export async function writeTerminal(
  tx: Queryable,
  by: GovernanceActor,
  t: TerminalSpec,
  at: Date,
  more: Readonly<Record<string, unknown>> = {},
): Promise<readonly string[]> {
  const { rows } = await tx.query<{ inserted: boolean }>(
    `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side, registered_at, shared) VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, true))
     ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, office = excluded.office, kind = excluded.kind,
       setting = excluded.setting, site_side = excluded.site_side, shared = coalesce($8, terminals.shared)
     RETURNING (xmax = 0) AS inserted`,
    [t.id, t.organizationId, t.office, t.kind, t.setting, t.siteSide, at, t.shared ?? null],
  );
  const action = rows[0]?.inserted === true ? 'terminal.register' : 'terminal.update';
  const sessionsEnded = opensNetworkOnly(t) ? await endUnconfirmedSessionsOf(tx, t.id, at) : [];
  await recordGovernance(tx, {
    at,
    actor: by,
    action,
    subjectType: 'terminal',
    subjectId: t.id,
    outcome: 'done',
    details: { ...t, ...more, ...(sessionsEnded.length > 0 ? { sessionsEnded: sessionsEnded.length } : {}) },
  });
  return sessionsEnded;
}

/** Retires a terminal: sessions from it are refused from then on, its device bindings revoked. */
export async function retireTerminal(db: Db, by: GovernanceActor, id: string, at: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query('UPDATE terminals SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL RETURNING id', [id, at]);
    if (rows.length === 0) throw new TerminalError('unknown_terminal', `terminal ${id} is unknown or already retired`);
    await tx.query('UPDATE sessions SET ended_at = $2, oidc_id_token = NULL WHERE terminal_id = $1 AND ended_at IS NULL', [id, at]);
    const devicesRevoked = await revokeDevicesOf(tx, by, id, at);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'terminal.retire',
      subjectType: 'terminal',
      subjectId: id,
      outcome: 'done',
      details: { devicesRevoked },
    });
  });
}
