import { refusalFamily } from '../domain/refusal.ts';
import { recordGovernance, recordingRefusals, type GovernanceActor } from '../audit/governance-log.ts';
import { dateOrNull, type Db, type Queryable } from '../store/db.ts';
import { DEFAULT_SOD_POLICY, type SodPolicy } from '../domain/separation-of-duties.ts';
import { lockPeopleForSod, reciprocalApproval } from './approvals.ts';
import { writeTerminal, type TerminalSpec } from './terminals.ts';

/**
 * Terminal registrations and changes awaiting a second access administrator (issue 20, live rules).
 * `saveTerminal` keeps a registration or change that widens as a request instead of applying it: one that
 * makes a terminal open network-only data (network-set at a network site) where it did not, or one into the
 * Tohoku case (F1: network-set, standing at a retail or shared site) — domain/terminal.ts
 * needsSecondAdministrator. Another access
 * administrator — never the one who asked (`self_confirmation`, as for device bindings to network-site
 * terminals, identity/terminal-devices.ts) — approves it with a reason, and only then is it written; or
 * rejects it with a reason. Every decision, and every refused one, is a governance event
 * (`terminal.request_approve`, `terminal.request_reject`).
 */

export const TERMINAL_REQUEST_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type TerminalRequestStatus = (typeof TERMINAL_REQUEST_STATUSES)[number];

export class TerminalRequestError extends refusalFamily('terminal', {
  unknown_request: 'not_found',
  /** Deciding a request already decided. */
  not_pending: 'conflict',
  /** The administrator who asked approves their own request (or no person at all does). */
  self_confirmation: 'refused',
  /** The one who asked approved something for this approver within the period (identity/approvals.ts). */
  reciprocal_approval: 'refused',
}) {}

export interface TerminalRequestRow {
  readonly id: number;
  readonly terminalId: string;
  readonly organizationId: string;
  readonly organizationName: string;
  readonly office: string;
  readonly kind: TerminalSpec['kind'];
  readonly setting: TerminalSpec['setting'];
  readonly siteSide: TerminalSpec['siteSide'];
  readonly shared: boolean | null;
  /** The terminal was registered when asked: a change; false: a new registration. */
  readonly registered: boolean;
  readonly requestReason: string | null;
  readonly requestedAt: Date;
  readonly requestedBy: string;
  readonly status: TerminalRequestStatus;
  readonly decidedAt: Date | null;
  readonly decidedBy: string | null;
  readonly decisionReason: string | null;
}

const SELECT = `SELECT r.id, r.terminal_id, r.organization_id, o.name AS organization_name, r.office, r.kind, r.setting, r.site_side, r.shared,
        r.registered, r.request_reason, r.requested_at, r.requested_by, r.requested_by_person, r.status, r.decided_at, r.decided_by, r.decision_reason
   FROM terminal_requests r JOIN organizations o ON o.id = r.organization_id`;

function toRow(r: Record<string, unknown>): TerminalRequestRow {
  const status = TERMINAL_REQUEST_STATUSES.find((s) => s === r['status']) ?? 'pending';
  return {
    id: Number(r['id']),
    terminalId: String(r['terminal_id']),
    organizationId: String(r['organization_id']),
    organizationName: String(r['organization_name']),
    office: String(r['office']),
    kind: r['kind'] === 'virtual' ? 'virtual' : 'dedicated',
    setting: r['setting'] === 'retail' ? 'retail' : 'network',
    siteSide: r['site_side'] === 'network' ? 'network' : r['site_side'] === 'shared' ? 'shared' : 'retail',
    shared: typeof r['shared'] === 'boolean' ? r['shared'] : null,
    registered: r['registered'] === true,
    requestReason: typeof r['request_reason'] === 'string' ? r['request_reason'] : null,
    requestedAt: new Date(r['requested_at'] as string),
    requestedBy: String(r['requested_by']),
    status,
    decidedAt: dateOrNull(r['decided_at']),
    decidedBy: typeof r['decided_by'] === 'string' ? r['decided_by'] : null,
    decisionReason: typeof r['decision_reason'] === 'string' ? r['decision_reason'] : null,
  };
}

/** Requests, open ones first (oldest first), then decided ones newest first; `pendingOnly` for the open ones. */
export async function listTerminalRequests(q: Queryable, pendingOnly: boolean): Promise<TerminalRequestRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `${SELECT} WHERE NOT $1::boolean OR r.status = 'pending'
      ORDER BY (r.status = 'pending') DESC, CASE WHEN r.status = 'pending' THEN r.id END ASC, r.id DESC LIMIT 500`,
    [pendingOnly],
  );
  return rows.map(toRow);
}

export async function terminalRequest(q: Queryable, id: number): Promise<TerminalRequestRow | null> {
  const { rows } = await q.query<Record<string, unknown>>(`${SELECT} WHERE r.id = $1`, [id]);
  const row = rows[0];
  return row === undefined ? null : toRow(row);
}

/**
 * A second access administrator decides a request: `approved`, the terminal is written as asked (registered
 * at this instant if new) in the same transaction; `rejected`, nothing is written. Both need a reason.
 * Approving needs a person other than the requester (checked here and by the store); rejecting narrows, so
 * the requester may withdraw their own that way. Returns the decided request and the sessions the write ended.
 */
export async function decideTerminalRequest(
  db: Db,
  by: GovernanceActor,
  id: number,
  decision: 'approved' | 'rejected',
  reason: string,
  at: Date,
  sod: SodPolicy = DEFAULT_SOD_POLICY,
): Promise<{ request: TerminalRequestRow; sessionsEnded: readonly string[] }> {
  const action = decision === 'approved' ? 'terminal.request_approve' : 'terminal.request_reject';
  const act = { at, actor: by, action, subjectType: 'terminal', subjectId: `request:${id}`, details: { requestId: id, reason } } as const;
  return recordingRefusals(db, 'terminal', act, async (tx) => {
    const { rows } = await tx.query<Record<string, unknown>>(`${SELECT} WHERE r.id = $1 FOR UPDATE OF r`, [id]);
    const row = rows[0];
    if (row === undefined) throw new TerminalRequestError('unknown_request', `no terminal request ${id}`);
    const req = toRow(row);
    if (req.status !== 'pending') throw new TerminalRequestError('not_pending', `terminal request ${id} is already ${req.status}`);
    if (decision === 'approved' && (by.kind === 'system' || by.personId === row['requested_by_person']))
      throw new TerminalRequestError(
        'self_confirmation',
        'a terminal registration or change that widens is approved by a second access administrator, not by the one who asked for it',
      );
    const asker = row['requested_by_person'];
    if (decision === 'approved' && by.kind === 'person' && typeof asker === 'string') {
      await lockPeopleForSod(tx, [by.personId, asker]);
      const found = await reciprocalApproval(tx, sod, {
        approverPersonId: by.personId,
        approverUserId: by.userId,
        beneficiaryPersonIds: [asker],
        what: `terminal request ${id} (terminal ${req.terminalId}) of ${req.requestedBy}`,
        at,
      });
      if (found !== null) throw new TerminalRequestError('reciprocal_approval', found.message, found.details);
    }
    await tx.query(`UPDATE terminal_requests SET status = $2, decided_at = $3, decided_by = $4, decided_by_person = $5, decision_reason = $6 WHERE id = $1`, [
      id,
      decision,
      at,
      by.kind === 'system' ? `system:${by.job}` : by.userId,
      by.kind === 'system' ? null : by.personId,
      reason,
    ]);
    const spec: TerminalSpec = {
      id: req.terminalId,
      organizationId: req.organizationId,
      office: req.office,
      kind: req.kind,
      setting: req.setting,
      siteSide: req.siteSide,
      ...(req.shared === null ? {} : { shared: req.shared }),
    };
    const sessionsEnded =
      decision === 'approved' ? await writeTerminal(tx, by, spec, at, { requestId: id, requestedBy: req.requestedBy, approvalReason: reason }) : [];
    await recordGovernance(tx, {
      at,
      actor: by,
      action,
      subjectType: 'terminal',
      subjectId: req.terminalId,
      outcome: 'done',
      details: { requestId: id, requestedBy: req.requestedBy, reason },
    });
    const decided = await terminalRequest(tx, id);
    if (decided === null) throw new Error(`terminal request ${id} vanished while deciding it`);
    return { request: decided, sessionsEnded };
  });
}
