import type { Actor } from '../domain/actor.ts';
import { holds } from '../domain/actor.ts';
import { fieldsBeyondEmergencyContact } from '../domain/emergency.ts';
import { recordGovernance } from '../audit/governance-log.ts';
import type { Db, Queryable } from '../store/db.ts';
import { EmergencyActionRefused, guarded } from './emergency-refusals.ts';
import { personActor } from './grant-service.ts';

/**
 * The register of emergency support staff: people of the affiliated retailer's side registered in advance,
 * each with the outage-contact fields they may see under a confirmed declaration. Registering widens what
 * someone may read, so access administration does it, never for themself; every act is a governance event.
 */

export interface SupportStaffView {
  readonly id: number;
  readonly personId: string;
  readonly personName: string;
  readonly side: string | null;
  readonly organization: string | null;
  readonly fields: readonly string[];
  readonly note: string | null;
  readonly registeredBy: string;
  readonly registeredAt: Date;
  readonly validFrom: Date;
  readonly validTo: Date | null;
}

export class EmergencySupport {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Registers (or re-registers, replacing the fields) a person as emergency support. Only outage-contact
   * fields may be named; only the affiliated retailer's side may be registered (network staff see those
   * fields by their duty already); access administration registers, never for themself.
   */
  async register(
    actor: Actor,
    input: { personId: string; fields: readonly string[]; note: string | null; validTo: Date | null },
    at: Date,
  ): Promise<SupportStaffView> {
    const details = { fields: input.fields, validTo: input.validTo?.toISOString() ?? null };
    return guarded(
      this.#db,
      actor,
      at,
      { action: 'emergency_support.register', subjectType: 'emergency_support', subjectId: input.personId, details },
      async (tx) => {
        if (!holds(actor, 'access.admin'))
          throw new EmergencyActionRefused('not_an_administrator', 'registering emergency support staff needs the grant access.admin');
        if (input.personId === actor.personId) throw new EmergencyActionRefused('self_registration', 'nobody registers themself as emergency support');
        const beyond = fieldsBeyondEmergencyContact(input.fields);
        if (beyond.length > 0)
          throw new EmergencyActionRefused(
            'field_not_emergency_contact',
            `only outage-contact fields (address, holder_name, phone) may be registered; not ${beyond.join(', ')}`,
          );
        if (input.fields.length === 0) throw new EmergencyActionRefused('field_not_emergency_contact', 'name at least one outage-contact field');
        const side = await tx.query<{ side: string | null; known: boolean }>(
          `SELECT (SELECT s.side FROM staff_assignments s WHERE s.person_id = p.id AND s.valid_from <= $2 AND (s.valid_to IS NULL OR $2 < s.valid_to) ORDER BY s.valid_from DESC LIMIT 1) AS side, true AS known
           FROM persons p WHERE p.id = $1`,
          [input.personId, at],
        );
        const row = side.rows[0];
        if (row === undefined) throw new EmergencyActionRefused('unknown_person', `no person ${input.personId}`);
        if (row.side !== 'retail')
          throw new EmergencyActionRefused(
            'side_not_allowed',
            `emergency support staff come from the affiliated retailer's side; ${input.personId} is ${row.side ?? 'without an assignment'} now`,
          );
        if (input.validTo !== null && input.validTo.getTime() <= at.getTime())
          throw new EmergencyActionRefused('end_in_past', 'the registration must end after now');
        // A registration made at this very instant is replaced outright (it was never in force for any time);
        // one in force is closed now. The governance log keeps both.
        await tx.query('DELETE FROM emergency_support_staff WHERE person_id = $1 AND valid_from >= $2', [input.personId, at]);
        await tx.query('UPDATE emergency_support_staff SET valid_to = $2, revoked_by = $3 WHERE person_id = $1 AND (valid_to IS NULL OR valid_to > $2)', [
          input.personId,
          at,
          actor.userId,
        ]);
        const unique = [...new Set(input.fields)];
        const { rows } = await tx.query<{ id: string }>(
          `INSERT INTO emergency_support_staff (person_id, fields, note, registered_by, registered_by_person, registered_at, valid_from, valid_to)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id`,
          [input.personId, unique, input.note, actor.userId, actor.personId, at, input.validTo],
        );
        await recordGovernance(tx, {
          at,
          actor: personActor(actor),
          action: 'emergency_support.register',
          subjectType: 'emergency_support',
          subjectId: input.personId,
          outcome: 'done',
          details: { ...details, fields: unique },
        });
        const out = (await this.#staff(tx, at, Number(rows[0]?.id)))[0];
        if (out === undefined) throw new Error('registration vanished');
        return out;
      },
    );
  }

  /** Ends a person's registration now. */
  async unregister(actor: Actor, personId: string, at: Date): Promise<void> {
    await guarded(
      this.#db,
      actor,
      at,
      { action: 'emergency_support.unregister', subjectType: 'emergency_support', subjectId: personId, details: {} },
      async (tx) => {
        if (!holds(actor, 'access.admin')) throw new EmergencyActionRefused('not_an_administrator', 'ending a registration needs the grant access.admin');
        // A registration made at this very instant was never in force: it goes (the governance log keeps it), as
        // in register(); closing it would leave an empty period, which the store refuses.
        const removed = await tx.query('DELETE FROM emergency_support_staff WHERE person_id = $1 AND valid_from = $2 RETURNING id', [personId, at]);
        const closed = await tx.query(
          'UPDATE emergency_support_staff SET valid_to = $2, revoked_by = $3 WHERE person_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2) RETURNING id',
          [personId, at, actor.userId],
        );
        const rows = [...removed.rows, ...closed.rows];
        if (rows.length === 0) throw new EmergencyActionRefused('not_registered', `${personId} has no registration in force`);
        await recordGovernance(tx, {
          at,
          actor: personActor(actor),
          action: 'emergency_support.unregister',
          subjectType: 'emergency_support',
          subjectId: personId,
          outcome: 'done',
        });
      },
    );
  }

  async #staff(q: Queryable, at: Date, id: number | null): Promise<SupportStaffView[]> {
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
      fields: Array.isArray(r['fields'])
        ? (r['fields'] as string[])
        : String(r['fields'])
            .replace(/^\{|\}$/g, '')
            .split(',')
            .filter((x) => x !== ''),
      note: (r['note'] as string | null) ?? null,
      registeredBy: String(r['registered_by']),
      registeredAt: new Date(r['registered_at'] as string),
      validFrom: new Date(r['valid_from'] as string),
      validTo: r['valid_to'] === null || r['valid_to'] === undefined ? null : new Date(r['valid_to'] as string),
    }));
  }

  /** Support staff registered at `at`. */
  supportStaff(at: Date): Promise<SupportStaffView[]> {
    return this.#staff(this.#db, at, null);
  }
}
