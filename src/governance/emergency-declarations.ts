import type { Actor } from '../domain/actor.ts';
import { holds } from '../domain/actor.ts';
import {
  declarationProblem,
  linesOf,
  windowOf,
  type DeclarationLines,
  type DeclarationState,
  type DeclarationStatus,
  type EmergencyArea,
} from '../domain/emergency.ts';
import { recordGovernance } from '../audit/governance-log.ts';
import type { Db, Queryable } from '../store/db.ts';
import { declarationIds, lockDeclaration, storedDeclarations, type StoredDeclaration } from '../store/emergency-store.ts';
import { EmergencyActionRefused, guarded } from './emergency-refusals.ts';
import { personActor } from './grant-service.ts';
import { DEFAULT_SOD_POLICY, type SodPolicy } from '../domain/separation-of-duties.ts';
import { lockPeopleForSod, reciprocalApproval } from '../identity/approvals.ts';

/**
 * Declared emergencies: declaration by a network-side person holding `emergency.declare`, confirmation by
 * a second such person, early end, extension (a new declaration, confirmed again). Every action — done or
 * refused — is a governance event; a change and its event commit together.
 */

export interface DeclarationInput {
  readonly areas: readonly EmergencyArea[];
  readonly startsAt: Date;
  readonly plannedEndAt: Date;
  readonly reason: string;
}

/** A declaration as the service shows it at an instant: its record, its state and the window it opens. */
export interface DeclarationView {
  readonly id: string;
  readonly status: DeclarationStatus;
  readonly state: DeclarationState;
  readonly reason: string;
  readonly areas: readonly EmergencyArea[];
  readonly startsAt: Date;
  readonly plannedEndAt: Date;
  /** The span in which it gives access (null unless confirmed). */
  readonly window: { readonly from: Date; readonly to: Date } | null;
  readonly extendsId: string | null;
  readonly declaredBy: string;
  readonly declaredByPerson: string;
  readonly declaredAt: Date;
  readonly decidedBy: string | null;
  readonly decidedByPerson: string | null;
  readonly decidedAt: Date | null;
  readonly decisionComment: string | null;
  readonly endedAt: Date | null;
  readonly endedBy: string | null;
  readonly endReason: string | null;
  readonly signedOffBy: string | null;
  readonly signedOffAt: Date | null;
  readonly signOffComment: string | null;
}

function stateOf(s: StoredDeclaration, lines: DeclarationLines, at: Date): DeclarationState {
  const d = s.declaration;
  if (d.status !== 'confirmed') return d.status;
  const w = windowOf(d, lines);
  if (w === null || at.getTime() >= w.to.getTime()) return 'ended';
  return at.getTime() < w.from.getTime() ? 'scheduled' : 'active';
}

/**
 * The declarations named, as shown at `at`, in the order named: each read with its line (the store's one
 * reading of a declaration), so an extension's window and state reflect its whole line.
 */
export async function declarationViews(q: Queryable, ids: readonly string[], at: Date): Promise<DeclarationView[]> {
  if (ids.length === 0) return [];
  const stored = await storedDeclarations(q, ids);
  const lines = linesOf(stored.map((s) => s.declaration));
  const byId = new Map(stored.map((s) => [s.declaration.id, s]));
  return ids.flatMap((id) => {
    const s = byId.get(id);
    if (s === undefined) return [];
    const w = windowOf(s.declaration, lines);
    return [
      {
        id,
        status: s.declaration.status,
        state: stateOf(s, lines, at),
        reason: s.reason,
        areas: s.declaration.areas,
        startsAt: s.declaration.startsAt,
        plannedEndAt: s.declaration.plannedEndAt,
        window: w,
        extendsId: s.declaration.extendsId,
        declaredBy: s.declaredBy,
        declaredByPerson: s.declaredByPerson,
        declaredAt: s.declaredAt,
        decidedBy: s.decidedBy,
        decidedByPerson: s.decidedByPerson,
        decidedAt: s.decidedAt,
        decisionComment: s.decisionComment,
        endedAt: s.declaration.endedAt,
        endedBy: s.endedBy,
        endReason: s.endReason,
        signedOffBy: s.signedOffBy,
        signedOffAt: s.signedOffAt,
        signOffComment: s.signOffComment,
      },
    ];
  });
}

/** Locks a declaration for the transaction and shows it; refuses an unknown id. */
export async function lockedView(tx: Queryable, id: string, at: Date): Promise<DeclarationView> {
  if (!(await lockDeclaration(tx, id))) throw new EmergencyActionRefused('unknown_emergency', `no emergency declaration ${id}`);
  const [view] = await declarationViews(tx, [id], at);
  if (view === undefined) throw new Error(`declaration ${id} vanished`);
  return view;
}

export class EmergencyDeclarations {
  readonly #db: Db;
  readonly #maxMs: number;
  readonly #sod: SodPolicy;

  /** `sod`: the separation-of-duties rules in force (a confirmation is an approval the reciprocal rule counts). */
  constructor(db: Db, opts: { readonly maxHours: number; readonly sod?: SodPolicy | undefined }) {
    this.#db = db;
    this.#maxMs = opts.maxHours * 3_600_000;
    this.#sod = opts.sod ?? DEFAULT_SOD_POLICY;
  }

  get maxHours(): number {
    return this.#maxMs / 3_600_000;
  }

  #mustDeclare(actor: Actor): void {
    if (!holds(actor, 'emergency.declare'))
      throw new EmergencyActionRefused(
        'not_a_declarer',
        'declaring, confirming, ending or extending an emergency needs the grant emergency.declare (network side)',
      );
  }

  async #insert(tx: Queryable, actor: Actor, input: DeclarationInput, extendsId: string | null, at: Date): Promise<string> {
    const problem = declarationProblem(input, this.#maxMs, at);
    if (problem !== null) throw new EmergencyActionRefused(problem.rule, problem.message);
    const { rows } = await tx.query<{ n: string }>(`SELECT nextval('emergency_declaration_no')::text AS n`);
    const id = `EM-${String(rows[0]?.n ?? '0').padStart(5, '0')}`;
    await tx.query(
      `INSERT INTO emergency_declarations (id, reason, starts_at, planned_end_at, extends_id, status, declared_by, declared_by_person, declared_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)`,
      [id, input.reason, input.startsAt, input.plannedEndAt, extendsId, actor.userId, actor.personId, at],
    );
    for (const a of input.areas) {
      await tx.query('INSERT INTO emergency_areas (declaration_id, kind, area_code, prefecture, city) VALUES ($1, $2, $3, $4, $5)', [
        id,
        a.kind,
        a.kind === 'area_code' ? a.areaCode : null,
        a.kind === 'area_code' ? null : a.prefecture,
        a.kind === 'municipality' ? a.city : null,
      ]);
    }
    return id;
  }

  /** Declares an emergency; it takes effect only when a second person confirms it. */
  async declare(actor: Actor, input: DeclarationInput, at: Date): Promise<DeclarationView> {
    const details = { areas: input.areas, startsAt: input.startsAt.toISOString(), plannedEndAt: input.plannedEndAt.toISOString() };
    return guarded(this.#db, actor, at, { action: 'emergency.declare', subjectType: 'emergency', subjectId: '(new)', details }, async (tx) => {
      this.#mustDeclare(actor);
      const id = await this.#insert(tx, actor, input, null, at);
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'emergency.declare',
        subjectType: 'emergency',
        subjectId: id,
        outcome: 'done',
        details: { ...details, reason: input.reason },
      });
      return lockedView(tx, id, at);
    });
  }

  /** Confirms a pending declaration: another person holding emergency.declare, before its planned end. */
  async confirm(actor: Actor, id: string, comment: string | null, at: Date): Promise<DeclarationView> {
    return guarded(this.#db, actor, at, { action: 'emergency.confirm', subjectType: 'emergency', subjectId: id, details: { comment } }, async (tx) => {
      this.#mustDeclare(actor);
      // Locks go down the line, parent before child, as end() takes them: confirming an extension while its
      // parent is being ended then waits instead of deadlocking.
      const parentId =
        (await tx.query<{ extends_id: string | null }>('SELECT extends_id FROM emergency_declarations WHERE id = $1', [id])).rows[0]?.extends_id ?? null;
      if (parentId !== null) await lockedView(tx, parentId, at);
      const d = await lockedView(tx, id, at);
      if (d.status !== 'pending') throw new EmergencyActionRefused('not_pending', `${id} is ${d.status}, not waiting for confirmation`);
      if (d.declaredByPerson === actor.personId)
        throw new EmergencyActionRefused('self_confirmation', 'a declaration is confirmed by a second person, not by the one who declared it');
      await lockPeopleForSod(tx, [actor.personId, d.declaredByPerson]);
      const traded = await reciprocalApproval(tx, this.#sod, {
        approverPersonId: actor.personId,
        approverUserId: actor.userId,
        beneficiaryPersonIds: [d.declaredByPerson],
        what: `emergency declaration ${id} of ${d.declaredBy}`,
        at,
      });
      if (traded !== null) throw new EmergencyActionRefused('reciprocal_approval', traded.message, traded.details);
      if (d.plannedEndAt.getTime() <= at.getTime())
        throw new EmergencyActionRefused('window_passed', `${id} was planned to end at ${d.plannedEndAt.toISOString()}; declare anew`);
      if (d.extendsId !== null) {
        const parent = await lockedView(tx, d.extendsId, at);
        if (parent.status !== 'confirmed' || parent.endedAt !== null || parent.window === null)
          throw new EmergencyActionRefused('parent_not_confirmed', `${id} extends ${parent.id}, which is not a confirmed emergency running to its planned end`);
      }
      await tx.query(
        `UPDATE emergency_declarations SET status = 'confirmed', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = $1`,
        [id, actor.userId, actor.personId, at, comment],
      );
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'emergency.confirm',
        subjectType: 'emergency',
        subjectId: id,
        outcome: 'done',
        details: { comment },
      });
      return lockedView(tx, id, at);
    });
  }

  /** Rejects a pending declaration (a second person; the declarer withdraws instead). */
  async reject(actor: Actor, id: string, comment: string, at: Date): Promise<DeclarationView> {
    return guarded(this.#db, actor, at, { action: 'emergency.reject', subjectType: 'emergency', subjectId: id, details: { comment } }, async (tx) => {
      this.#mustDeclare(actor);
      const d = await lockedView(tx, id, at);
      if (d.status !== 'pending') throw new EmergencyActionRefused('not_pending', `${id} is ${d.status}, not waiting for confirmation`);
      if (d.declaredByPerson === actor.personId)
        throw new EmergencyActionRefused('self_confirmation', 'the declarer withdraws a declaration; rejecting is for a second person');
      await tx.query(
        `UPDATE emergency_declarations SET status = 'rejected', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = $1`,
        [id, actor.userId, actor.personId, at, comment],
      );
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'emergency.reject',
        subjectType: 'emergency',
        subjectId: id,
        outcome: 'done',
        details: { comment },
      });
      return lockedView(tx, id, at);
    });
  }

  /** The declarer takes back a declaration still waiting for confirmation. */
  async withdraw(actor: Actor, id: string, at: Date): Promise<DeclarationView> {
    return guarded(this.#db, actor, at, { action: 'emergency.withdraw', subjectType: 'emergency', subjectId: id, details: {} }, async (tx) => {
      const d = await lockedView(tx, id, at);
      if (d.declaredByPerson !== actor.personId)
        throw new EmergencyActionRefused('not_the_declarer', 'only the person who declared it may withdraw a declaration');
      if (d.status !== 'pending') throw new EmergencyActionRefused('not_pending', `${id} is ${d.status}; a confirmed emergency is ended, not withdrawn`);
      await tx.query(`UPDATE emergency_declarations SET status = 'withdrawn', decided_by = $2, decided_by_person = $3, decided_at = $4 WHERE id = $1`, [
        id,
        actor.userId,
        actor.personId,
        at,
      ]);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.withdraw', subjectType: 'emergency', subjectId: id, outcome: 'done' });
      return lockedView(tx, id, at);
    });
  }

  /** Ends a confirmed emergency now (it only narrows access, so one person suffices). */
  async end(actor: Actor, id: string, reason: string, at: Date): Promise<DeclarationView> {
    return guarded(this.#db, actor, at, { action: 'emergency.end', subjectType: 'emergency', subjectId: id, details: { reason } }, async (tx) => {
      this.#mustDeclare(actor);
      const d = await lockedView(tx, id, at);
      if (d.status !== 'confirmed' || d.state === 'ended')
        throw new EmergencyActionRefused('not_in_force', `${id} is not a confirmed emergency that is still to end`);
      await tx.query('UPDATE emergency_declarations SET ended_at = $2, ended_by = $3, end_reason = $4 WHERE id = $1', [id, at, actor.userId, reason]);
      // Ending an emergency ends its whole line: every extension of it, confirmed (ended now, so it never
      // opens) or pending (withdrawn: nothing is left to extend). The domain reads the line as well.
      const line = await tx.query<{ id: string; status: string }>(
        `WITH RECURSIVE later (id) AS (
           SELECT c.id FROM emergency_declarations c WHERE c.extends_id = $1
           UNION
           SELECT c.id FROM emergency_declarations c JOIN later l ON c.extends_id = l.id)
         SELECT e.id, e.status FROM emergency_declarations e WHERE e.id IN (SELECT id FROM later) ORDER BY e.id FOR UPDATE OF e`,
        [id],
      );
      const endedToo = line.rows.filter((x) => x.status === 'confirmed').map((x) => x.id);
      const withdrawn = line.rows.filter((x) => x.status === 'pending').map((x) => x.id);
      await tx.query(`UPDATE emergency_declarations SET ended_at = $2, ended_by = $3, end_reason = $4 WHERE id = ANY($1::text[]) AND ended_at IS NULL`, [
        endedToo,
        at,
        actor.userId,
        `line ended with ${id}: ${reason}`,
      ]);
      await tx.query(
        `UPDATE emergency_declarations SET status = 'withdrawn', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = ANY($1::text[])`,
        [withdrawn, actor.userId, actor.personId, at, `line ended with ${id}`],
      );
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'emergency.end',
        subjectType: 'emergency',
        subjectId: id,
        outcome: 'done',
        details: { reason, extensionsEnded: endedToo, extensionsWithdrawn: withdrawn },
      });
      return lockedView(tx, id, at);
    });
  }

  /**
   * Asks to go on past the planned end: a new declaration over the same areas from the parent's planned
   * end, within the maximum again, and in force only once a second person confirms it.
   */
  async extend(actor: Actor, id: string, plannedEndAt: Date, reason: string, at: Date): Promise<DeclarationView> {
    return guarded(
      this.#db,
      actor,
      at,
      { action: 'emergency.extend', subjectType: 'emergency', subjectId: id, details: { plannedEndAt: plannedEndAt.toISOString() } },
      async (tx) => {
        this.#mustDeclare(actor);
        const parent = await lockedView(tx, id, at);
        if (parent.status !== 'confirmed' || parent.endedAt !== null || parent.window === null)
          throw new EmergencyActionRefused('parent_not_confirmed', `${id} is not a confirmed emergency running to its planned end`);
        if (parent.plannedEndAt.getTime() <= at.getTime()) throw new EmergencyActionRefused('window_passed', `${id} has already ended; declare anew`);
        const childId = await this.#insert(tx, actor, { areas: parent.areas, startsAt: parent.plannedEndAt, plannedEndAt, reason }, id, at);
        await recordGovernance(tx, {
          at,
          actor: personActor(actor),
          action: 'emergency.extend',
          subjectType: 'emergency',
          subjectId: childId,
          outcome: 'done',
          details: { extends: id, plannedEndAt: plannedEndAt.toISOString(), reason },
        });
        return lockedView(tx, childId, at);
      },
    );
  }

  async get(id: string, at: Date): Promise<DeclarationView | null> {
    return (await declarationViews(this.#db, [id], at))[0] ?? null;
  }

  /** Declarations, newest first; `live` keeps those pending, scheduled or active at `at`. */
  async list(at: Date, opts: { live?: boolean; limit: number; offset: number }): Promise<DeclarationView[]> {
    const ids = await declarationIds(this.#db, opts.live === true ? { limit: 1000, offset: 0 } : opts);
    const all = await declarationViews(this.#db, ids, at);
    return opts.live === true ? all.filter((d) => d.state === 'pending' || d.state === 'scheduled' || d.state === 'active').slice(0, opts.limit) : all;
  }
}
