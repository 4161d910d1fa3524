import { declarationProblem, fieldsBeyondEmergencyContact, linesOf, windowOf, type Declaration, type DeclarationLines, type EmergencyArea } from '../domain/emergency.ts';
import { holds, type Actor } from '../identity/session-store.ts';
import { declarationsWithLines, loadDeclaration } from '../store/emergency-store.ts';
import { isoOrNull, type Db, type Queryable } from '../store/db.ts';
import { recordGovernance } from './governance-log.ts';
import { personActor } from './grant-service.ts';

/**
 * Declared emergencies: declaration by a network-side person holding `emergency.declare`, confirmation by
 * a second such person, early end, extension (a new declaration, confirmed again), the register of support
 * staff, and compliance's sign-off of the review after the window. Every action — done or refused — is a
 * governance event; a change and its event commit together.
 */

export type EmergencyRule =
  | 'not_a_declarer'
  | 'self_confirmation'
  | 'not_the_declarer'
  | 'not_pending'
  | 'window_passed'
  | 'parent_not_confirmed'
  | 'not_in_force'
  | 'not_an_administrator'
  | 'self_registration'
  | 'field_not_emergency_contact'
  | 'side_not_allowed'
  | 'unknown_person'
  | 'not_registered'
  | 'not_compliance'
  | 'not_independent'
  | 'not_over'
  | 'already_signed_off'
  | 'nothing_to_review'
  | 'unknown_emergency'
  | 'no_area'
  | 'end_before_start'
  | 'too_long'
  | 'end_in_past';

/** A refused emergency action: the rule it broke and a sentence saying how. */
export class EmergencyActionRefused extends Error {
  constructor(
    readonly rule: EmergencyRule,
    message: string,
  ) {
    super(`${rule}: ${message}`);
  }
}

export interface DeclarationInput {
  readonly areas: readonly EmergencyArea[];
  readonly startsAt: Date;
  readonly plannedEndAt: Date;
  readonly reason: string;
}

export interface DeclarationRow {
  readonly id: string;
  readonly status: string;
  /** Where it stands at the time of listing: pending, scheduled, active, ended, rejected, withdrawn. */
  readonly state: 'pending' | 'scheduled' | 'active' | 'ended' | 'rejected' | 'withdrawn';
  readonly reason: string;
  readonly areas: readonly EmergencyArea[];
  readonly startsAt: string;
  readonly plannedEndAt: string;
  /** The span in which it gives access (null unless confirmed). */
  readonly window: { readonly from: string; readonly to: string } | null;
  readonly extendsId: string | null;
  readonly declaredBy: string;
  readonly declaredByPerson: string;
  readonly declaredAt: string;
  readonly decidedBy: string | null;
  readonly decidedByPerson: string | null;
  readonly decidedAt: string | null;
  readonly decisionComment: string | null;
  readonly endedAt: string | null;
  readonly endedBy: string | null;
  readonly endReason: string | null;
  readonly signedOffBy: string | null;
  readonly signedOffAt: string | null;
  readonly signOffComment: string | null;
}

export interface SupportStaffRow {
  readonly id: number;
  readonly personId: string;
  readonly personName: string;
  readonly side: string | null;
  readonly organization: string | null;
  readonly fields: readonly string[];
  readonly note: string | null;
  readonly registeredBy: string;
  readonly registeredAt: string;
  readonly validFrom: string;
  readonly validTo: string | null;
}

/** One read made under a declaration, for the review. */
export interface ReviewRead {
  readonly seq: number;
  readonly occurredAt: string;
  readonly requestId: string;
  readonly personId: string;
  readonly userId: string | null;
  readonly organizationId: string | null;
  readonly employment: string | null;
  readonly office: string | null;
  readonly terminalId: string | null;
  readonly route: string;
  readonly outcome: string;
  readonly refusal: string | null;
  readonly statedReason: string | null;
  readonly supplyPoints: readonly { readonly supplyPointId: string; readonly shown: readonly string[] }[];
}

export interface Review {
  readonly declaration: DeclarationRow;
  /** Every read logged with this declaration's id. */
  readonly reads: readonly ReviewRead[];
  /** Emergency-support reads refused during the window (outside the area, unregistered people, …). */
  readonly refused: readonly ReviewRead[];
  readonly summary: { readonly reads: number; readonly people: number; readonly supplyPoints: number; readonly refused: number };
}

const SELECT_DECLARATION = 'SELECT d.* FROM emergency_declarations d';

function stateOf(d: Declaration, lines: DeclarationLines, at: Date): DeclarationRow['state'] {
  if (d.status !== 'confirmed') return d.status;
  const w = windowOf(d, lines);
  if (w === null || at.getTime() >= w.to.getTime()) return 'ended';
  return at.getTime() < w.from.getTime() ? 'scheduled' : 'active';
}

/**
 * Rows as listed: the declarations and their lines are read in one query (the store's reading of a
 * declaration, areas included), so an extension's window and state reflect its whole line.
 */
async function toRows(q: Queryable, rows: readonly Record<string, unknown>[], at: Date): Promise<DeclarationRow[]> {
  const lines = linesOf(await declarationsWithLines(q, rows.map((r) => String(r['id']))));
  return rows.map((r) => toRow(r, lines, at));
}

/** A stored declaration as listed; `lines` holds it and its ancestors as the store reads them. */
function toRow(r: Record<string, unknown>, lines: DeclarationLines, at: Date): DeclarationRow {
  const d = lines.get(String(r['id']));
  if (d === undefined) throw new Error(`declaration ${String(r['id'])} was not read with its line`);
  const w = windowOf(d, lines);
  const text = (k: string) => (r[k] as string | null) ?? null;
  return {
    id: d.id,
    status: d.status,
    state: stateOf(d, lines, at),
    reason: String(r['reason']),
    areas: d.areas,
    startsAt: d.startsAt.toISOString(),
    plannedEndAt: d.plannedEndAt.toISOString(),
    window: w === null ? null : { from: w.from.toISOString(), to: w.to.toISOString() },
    extendsId: text('extends_id'),
    declaredBy: String(r['declared_by']),
    declaredByPerson: String(r['declared_by_person']),
    declaredAt: new Date(r['declared_at'] as string).toISOString(),
    decidedBy: text('decided_by'),
    decidedByPerson: text('decided_by_person'),
    decidedAt: isoOrNull(r['decided_at']),
    decisionComment: text('decision_comment'),
    endedAt: isoOrNull(r['ended_at']),
    endedBy: text('ended_by'),
    endReason: text('end_reason'),
    signedOffBy: text('signed_off_by'),
    signedOffAt: isoOrNull(r['signed_off_at']),
    signOffComment: text('sign_off_comment'),
  };
}

export class Emergencies {
  readonly #db: Db;
  readonly #maxMs: number;

  constructor(db: Db, opts: { readonly maxHours: number }) {
    this.#db = db;
    this.#maxMs = opts.maxHours * 3_600_000;
  }

  get maxHours(): number {
    return this.#maxMs / 3_600_000;
  }

  /** Runs `fn` in a transaction; a refusal it throws is recorded as a refused governance event and rethrown. */
  async #guard<T>(actor: Actor, at: Date, action: string, subjectType: 'emergency' | 'emergency_support', subjectId: string, details: Record<string, unknown>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await this.#db.transaction(fn);
    } catch (e) {
      if (e instanceof EmergencyActionRefused) {
        await recordGovernance(this.#db, { at, actor: personActor(actor), action, subjectType, subjectId, outcome: 'refused', rule: e.rule, details: { ...details, message: e.message } });
      }
      throw e;
    }
  }

  #mustDeclare(actor: Actor): void {
    if (!holds(actor, 'emergency.declare')) throw new EmergencyActionRefused('not_a_declarer', 'declaring, confirming, ending or extending an emergency needs the grant emergency.declare (network side)');
  }

  async #locked(tx: Queryable, id: string, at: Date): Promise<DeclarationRow> {
    const { rows } = await tx.query<Record<string, unknown>>(`${SELECT_DECLARATION} WHERE d.id = $1 FOR UPDATE OF d`, [id]);
    const r = rows[0];
    if (r === undefined) throw new EmergencyActionRefused('unknown_emergency', `no emergency declaration ${id}`);
    const [row] = await toRows(tx, [r], at);
    if (row === undefined) throw new Error(`declaration ${id} vanished`);
    return row;
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
  async declare(actor: Actor, input: DeclarationInput, at: Date): Promise<DeclarationRow> {
    const details = { areas: input.areas, startsAt: input.startsAt.toISOString(), plannedEndAt: input.plannedEndAt.toISOString() };
    return this.#guard(actor, at, 'emergency.declare', 'emergency', '(new)', details, async (tx) => {
      this.#mustDeclare(actor);
      const id = await this.#insert(tx, actor, input, null, at);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.declare', subjectType: 'emergency', subjectId: id, outcome: 'done', details: { ...details, reason: input.reason } });
      return this.#locked(tx, id, at);
    });
  }

  /** Confirms a pending declaration: another person holding emergency.declare, before its planned end. */
  async confirm(actor: Actor, id: string, comment: string | null, at: Date): Promise<DeclarationRow> {
    return this.#guard(actor, at, 'emergency.confirm', 'emergency', id, { comment }, async (tx) => {
      this.#mustDeclare(actor);
      // Locks go down the line, parent before child, as end() takes them: confirming an extension while its
      // parent is being ended then waits instead of deadlocking.
      const parentId = (await tx.query<{ extends_id: string | null }>('SELECT extends_id FROM emergency_declarations WHERE id = $1', [id])).rows[0]?.extends_id ?? null;
      if (parentId !== null) await this.#locked(tx, parentId, at);
      const d = await this.#locked(tx, id, at);
      if (d.status !== 'pending') throw new EmergencyActionRefused('not_pending', `${id} is ${d.status}, not waiting for confirmation`);
      if (d.declaredByPerson === actor.personId) throw new EmergencyActionRefused('self_confirmation', 'a declaration is confirmed by a second person, not by the one who declared it');
      if (new Date(d.plannedEndAt).getTime() <= at.getTime()) throw new EmergencyActionRefused('window_passed', `${id} was planned to end at ${d.plannedEndAt}; declare anew`);
      if (d.extendsId !== null) {
        const parent = await this.#locked(tx, d.extendsId, at);
        if (parent.status !== 'confirmed' || parent.endedAt !== null || parent.window === null) throw new EmergencyActionRefused('parent_not_confirmed', `${id} extends ${parent.id}, which is not a confirmed emergency running to its planned end`);
      }
      await tx.query(`UPDATE emergency_declarations SET status = 'confirmed', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = $1`, [id, actor.userId, actor.personId, at, comment]);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.confirm', subjectType: 'emergency', subjectId: id, outcome: 'done', details: { comment } });
      return this.#locked(tx, id, at);
    });
  }

  /** Rejects a pending declaration (a second person; the declarer withdraws instead). */
  async reject(actor: Actor, id: string, comment: string, at: Date): Promise<DeclarationRow> {
    return this.#guard(actor, at, 'emergency.reject', 'emergency', id, { comment }, async (tx) => {
      this.#mustDeclare(actor);
      const d = await this.#locked(tx, id, at);
      if (d.status !== 'pending') throw new EmergencyActionRefused('not_pending', `${id} is ${d.status}, not waiting for confirmation`);
      if (d.declaredByPerson === actor.personId) throw new EmergencyActionRefused('self_confirmation', 'the declarer withdraws a declaration; rejecting is for a second person');
      await tx.query(`UPDATE emergency_declarations SET status = 'rejected', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = $1`, [id, actor.userId, actor.personId, at, comment]);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.reject', subjectType: 'emergency', subjectId: id, outcome: 'done', details: { comment } });
      return this.#locked(tx, id, at);
    });
  }

  /** The declarer takes back a declaration still waiting for confirmation. */
  async withdraw(actor: Actor, id: string, at: Date): Promise<DeclarationRow> {
    return this.#guard(actor, at, 'emergency.withdraw', 'emergency', id, {}, async (tx) => {
      const d = await this.#locked(tx, id, at);
      if (d.declaredByPerson !== actor.personId) throw new EmergencyActionRefused('not_the_declarer', 'only the person who declared it may withdraw a declaration');
      if (d.status !== 'pending') throw new EmergencyActionRefused('not_pending', `${id} is ${d.status}; a confirmed emergency is ended, not withdrawn`);
      await tx.query(`UPDATE emergency_declarations SET status = 'withdrawn', decided_by = $2, decided_by_person = $3, decided_at = $4 WHERE id = $1`, [id, actor.userId, actor.personId, at]);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.withdraw', subjectType: 'emergency', subjectId: id, outcome: 'done' });
      return this.#locked(tx, id, at);
    });
  }

  /** Ends a confirmed emergency now (it only narrows access, so one person suffices). */
  async end(actor: Actor, id: string, reason: string, at: Date): Promise<DeclarationRow> {
    return this.#guard(actor, at, 'emergency.end', 'emergency', id, { reason }, async (tx) => {
      this.#mustDeclare(actor);
      const d = await this.#locked(tx, id, at);
      if (d.status !== 'confirmed' || d.state === 'ended') throw new EmergencyActionRefused('not_in_force', `${id} is not a confirmed emergency that is still to end`);
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
      await tx.query(`UPDATE emergency_declarations SET ended_at = $2, ended_by = $3, end_reason = $4 WHERE id = ANY($1::text[]) AND ended_at IS NULL`, [endedToo, at, actor.userId, `line ended with ${id}: ${reason}`]);
      await tx.query(`UPDATE emergency_declarations SET status = 'withdrawn', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = ANY($1::text[])`, [withdrawn, actor.userId, actor.personId, at, `line ended with ${id}`]);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.end', subjectType: 'emergency', subjectId: id, outcome: 'done', details: { reason, extensionsEnded: endedToo, extensionsWithdrawn: withdrawn } });
      return this.#locked(tx, id, at);
    });
  }

  /**
   * Asks to go on past the planned end: a new declaration over the same areas from the parent's planned
   * end, within the maximum again, and in force only once a second person confirms it.
   */
  async extend(actor: Actor, id: string, plannedEndAt: Date, reason: string, at: Date): Promise<DeclarationRow> {
    return this.#guard(actor, at, 'emergency.extend', 'emergency', id, { plannedEndAt: plannedEndAt.toISOString() }, async (tx) => {
      this.#mustDeclare(actor);
      const parent = await this.#locked(tx, id, at);
      if (parent.status !== 'confirmed' || parent.endedAt !== null || parent.window === null) throw new EmergencyActionRefused('parent_not_confirmed', `${id} is not a confirmed emergency running to its planned end`);
      if (new Date(parent.plannedEndAt).getTime() <= at.getTime()) throw new EmergencyActionRefused('window_passed', `${id} has already ended; declare anew`);
      const childId = await this.#insert(tx, actor, { areas: parent.areas, startsAt: new Date(parent.plannedEndAt), plannedEndAt, reason }, id, at);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.extend', subjectType: 'emergency', subjectId: childId, outcome: 'done', details: { extends: id, plannedEndAt: plannedEndAt.toISOString(), reason } });
      return this.#locked(tx, childId, at);
    });
  }

  async get(id: string, at: Date): Promise<DeclarationRow | null> {
    const { rows } = await this.#db.query<Record<string, unknown>>(`${SELECT_DECLARATION} WHERE d.id = $1`, [id]);
    return (await toRows(this.#db, rows, at))[0] ?? null;
  }

  /** Declarations, newest first; `live` keeps those pending, scheduled or active at `at`. */
  async list(at: Date, opts: { live?: boolean; limit: number; offset: number }): Promise<DeclarationRow[]> {
    const { rows } = await this.#db.query<Record<string, unknown>>(`${SELECT_DECLARATION} ORDER BY d.declared_at DESC, d.id DESC LIMIT $1 OFFSET $2`, [opts.live === true ? 1000 : opts.limit, opts.live === true ? 0 : opts.offset]);
    const all = await toRows(this.#db, rows, at);
    return opts.live === true ? all.filter((d) => d.state === 'pending' || d.state === 'scheduled' || d.state === 'active').slice(0, opts.limit) : all;
  }

  // --- Support staff ----------------------------------------------------------------------------------

  /**
   * Registers (or re-registers, replacing the fields) a person as emergency support. Only outage-contact
   * fields may be named; only the affiliated retailer's side may be registered (network staff see those
   * fields by their duty already); access administration registers, never for themself.
   */
  async register(actor: Actor, input: { personId: string; fields: readonly string[]; note: string | null; validTo: Date | null }, at: Date): Promise<SupportStaffRow> {
    const details = { fields: input.fields, validTo: input.validTo?.toISOString() ?? null };
    return this.#guard(actor, at, 'emergency_support.register', 'emergency_support', input.personId, details, async (tx) => {
      if (!holds(actor, 'access.admin')) throw new EmergencyActionRefused('not_an_administrator', 'registering emergency support staff needs the grant access.admin');
      if (input.personId === actor.personId) throw new EmergencyActionRefused('self_registration', 'nobody registers themself as emergency support');
      const beyond = fieldsBeyondEmergencyContact(input.fields);
      if (beyond.length > 0) throw new EmergencyActionRefused('field_not_emergency_contact', `only outage-contact fields (address, holder_name, phone) may be registered; not ${beyond.join(', ')}`);
      if (input.fields.length === 0) throw new EmergencyActionRefused('field_not_emergency_contact', 'name at least one outage-contact field');
      const side = await tx.query<{ side: string | null; known: boolean }>(
        `SELECT (SELECT s.side FROM staff_assignments s WHERE s.person_id = p.id AND s.valid_from <= $2 AND (s.valid_to IS NULL OR $2 < s.valid_to) ORDER BY s.valid_from DESC LIMIT 1) AS side, true AS known
           FROM persons p WHERE p.id = $1`,
        [input.personId, at],
      );
      const row = side.rows[0];
      if (row === undefined) throw new EmergencyActionRefused('unknown_person', `no person ${input.personId}`);
      if (row.side !== 'retail') throw new EmergencyActionRefused('side_not_allowed', `emergency support staff come from the affiliated retailer's side; ${input.personId} is ${row.side ?? 'without an assignment'} now`);
      if (input.validTo !== null && input.validTo.getTime() <= at.getTime()) throw new EmergencyActionRefused('end_in_past', 'the registration must end after now');
      // A registration made at this very instant is replaced outright (it was never in force for any time);
      // one in force is closed now. The governance log keeps both.
      await tx.query('DELETE FROM emergency_support_staff WHERE person_id = $1 AND valid_from >= $2', [input.personId, at]);
      await tx.query('UPDATE emergency_support_staff SET valid_to = $2, revoked_by = $3 WHERE person_id = $1 AND (valid_to IS NULL OR valid_to > $2)', [input.personId, at, actor.userId]);
      const unique = [...new Set(input.fields)];
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO emergency_support_staff (person_id, fields, note, registered_by, registered_by_person, registered_at, valid_from, valid_to)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id`,
        [input.personId, unique, input.note, actor.userId, actor.personId, at, input.validTo],
      );
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency_support.register', subjectType: 'emergency_support', subjectId: input.personId, outcome: 'done', details: { ...details, fields: unique } });
      const out = (await this.#staff(tx, at, Number(rows[0]?.id)))[0];
      if (out === undefined) throw new Error('registration vanished');
      return out;
    });
  }

  /** Ends a person's registration now. */
  async unregister(actor: Actor, personId: string, at: Date): Promise<void> {
    await this.#guard(actor, at, 'emergency_support.unregister', 'emergency_support', personId, {}, async (tx) => {
      if (!holds(actor, 'access.admin')) throw new EmergencyActionRefused('not_an_administrator', 'ending a registration needs the grant access.admin');
      // A registration made at this very instant was never in force: it goes (the governance log keeps it), as
      // in register(); closing it would leave an empty period, which the store refuses.
      const removed = await tx.query('DELETE FROM emergency_support_staff WHERE person_id = $1 AND valid_from = $2 RETURNING id', [personId, at]);
      const closed = await tx.query('UPDATE emergency_support_staff SET valid_to = $2, revoked_by = $3 WHERE person_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2) RETURNING id', [personId, at, actor.userId]);
      const rows = [...removed.rows, ...closed.rows];
      if (rows.length === 0) throw new EmergencyActionRefused('not_registered', `${personId} has no registration in force`);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency_support.unregister', subjectType: 'emergency_support', subjectId: personId, outcome: 'done' });
    });
  }

  async #staff(q: Queryable, at: Date, id: number | null): Promise<SupportStaffRow[]> {
    const { rows } = await q.query<Record<string, unknown>>(
      `SELECT e.id, e.person_id, p.name, e.fields, e.note, e.registered_by, e.registered_at, e.valid_from, e.valid_to, s.side, o.name AS organization
         FROM emergency_support_staff e JOIN persons p ON p.id = e.person_id
         LEFT JOIN LATERAL (SELECT side, organization_id FROM staff_assignments s WHERE s.person_id = e.person_id AND s.valid_from <= $1 AND (s.valid_to IS NULL OR $1 < s.valid_to) ORDER BY s.valid_from DESC LIMIT 1) s ON true
         LEFT JOIN organizations o ON o.id = s.organization_id
        WHERE ($2::bigint IS NULL AND e.valid_from <= $1 AND (e.valid_to IS NULL OR $1 < e.valid_to)) OR e.id = $2::bigint
        ORDER BY p.name, e.id`,
      [at, id],
    );
    return rows.map((r) => ({
      id: Number(r['id']),
      personId: String(r['person_id']),
      personName: String(r['name']),
      side: (r['side'] as string | null) ?? null,
      organization: (r['organization'] as string | null) ?? null,
      fields: Array.isArray(r['fields']) ? (r['fields'] as string[]) : String(r['fields']).replace(/^\{|\}$/g, '').split(',').filter((x) => x !== ''),
      note: (r['note'] as string | null) ?? null,
      registeredBy: String(r['registered_by']),
      registeredAt: new Date(r['registered_at'] as string).toISOString(),
      validFrom: new Date(r['valid_from'] as string).toISOString(),
      validTo: isoOrNull(r['valid_to']),
    }));
  }

  /** Support staff registered at `at`. */
  supportStaff(at: Date): Promise<SupportStaffRow[]> {
    return this.#staff(this.#db, at, null);
  }

  // --- Review -----------------------------------------------------------------------------------------

  /** Every read logged under the declaration, and the emergency-support reads refused during its window. */
  async review(id: string, at: Date): Promise<Review | null> {
    const declaration = await this.get(id, at);
    if (declaration === null) return null;
    const loaded = await loadDeclaration(this.#db, id);
    const w = loaded === null ? null : windowOf(loaded.declaration, loaded.lines);
    const select = `SELECT seq::text AS seq, occurred_at, request_id, person_id, user_id, organization_id, employment, office, terminal_id, route, outcome, refusal, query, records FROM access_log`;
    const reads = await this.#db.query<Record<string, unknown>>(`${select} WHERE emergency_id = $1 ORDER BY access_log.seq`, [id]);
    const refused =
      w === null
        ? { rows: [] }
        : await this.#db.query<Record<string, unknown>>(
            `${select} WHERE occurred_at >= $1 AND occurred_at < $2 AND purpose = 'emergency_support' AND outcome = 'refused' ORDER BY access_log.seq`,
            [w.from, w.to],
          );
    const toRead = (r: Record<string, unknown>): ReviewRead => {
      const query = (typeof r['query'] === 'string' ? JSON.parse(r['query']) : r['query']) as Record<string, unknown>;
      const records = (typeof r['records'] === 'string' ? JSON.parse(r['records']) : r['records']) as { supplyPointId: string; shown: string[] }[];
      return {
        seq: Number(r['seq']),
        occurredAt: new Date(r['occurred_at'] as string).toISOString(),
        requestId: String(r['request_id']),
        personId: String(r['person_id']),
        userId: (r['user_id'] as string | null) ?? null,
        organizationId: (r['organization_id'] as string | null) ?? null,
        employment: (r['employment'] as string | null) ?? null,
        office: (r['office'] as string | null) ?? null,
        terminalId: (r['terminal_id'] as string | null) ?? null,
        route: String(r['route']),
        outcome: String(r['outcome']),
        refusal: (r['refusal'] as string | null) ?? null,
        statedReason: typeof query['reason'] === 'string' ? query['reason'] : null,
        supplyPoints: records.map((x) => ({ supplyPointId: x.supplyPointId, shown: x.shown })),
      };
    };
    const readRows = reads.rows.map(toRead);
    const refusedRows = refused.rows.map(toRead);
    return {
      declaration,
      reads: readRows,
      refused: refusedRows,
      summary: {
        reads: readRows.length,
        people: new Set(readRows.map((r) => r.personId)).size,
        supplyPoints: new Set(readRows.flatMap((r) => r.supplyPoints.map((s) => s.supplyPointId))).size,
        refused: refusedRows.length,
      },
    };
  }

  /**
   * Compliance signs the review off once the window is over: someone holding audit.read who neither
   * declared nor confirmed the emergency.
   */
  async signOff(actor: Actor, id: string, comment: string, at: Date): Promise<DeclarationRow> {
    return this.#guard(actor, at, 'emergency.sign_off', 'emergency', id, { comment }, async (tx) => {
      if (!holds(actor, 'audit.read')) throw new EmergencyActionRefused('not_compliance', 'the review is signed off by compliance (grant audit.read)');
      const d = await this.#locked(tx, id, at);
      if (d.status !== 'confirmed') throw new EmergencyActionRefused('nothing_to_review', `${id} was never in force (${d.status})`);
      if (d.state !== 'ended') throw new EmergencyActionRefused('not_over', `${id} is ${d.state}; the review is signed off after the emergency`);
      if (d.declaredByPerson === actor.personId || d.decidedByPerson === actor.personId) {
        throw new EmergencyActionRefused('not_independent', 'whoever declared or confirmed the emergency does not sign off its review');
      }
      if (d.signedOffAt !== null) throw new EmergencyActionRefused('already_signed_off', `${id} was signed off at ${d.signedOffAt}`);
      await tx.query('UPDATE emergency_declarations SET signed_off_by = $2, signed_off_by_person = $3, signed_off_at = $4, sign_off_comment = $5 WHERE id = $1', [id, actor.userId, actor.personId, at, comment]);
      await recordGovernance(tx, { at, actor: personActor(actor), action: 'emergency.sign_off', subjectType: 'emergency', subjectId: id, outcome: 'done', details: { comment } });
      return this.#locked(tx, id, at);
    });
  }
}
