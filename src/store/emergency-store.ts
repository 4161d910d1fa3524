import type { Declaration, DeclarationStatus, EmergencyArea, SupportRegistration } from '../domain/emergency.ts';
import type { SupplyPointField } from '../domain/classification.ts';
import type { Queryable } from './db.ts';

/**
 * Reading declarations and support registrations as the domain rules want them. The firewall calls these
 * for emergency-support reads only; every other read never touches them.
 */

const DECLARATION_COLUMNS = `d.id, d.status, d.starts_at, d.planned_end_at, d.decided_at, d.ended_at,
  COALESCE((SELECT json_agg(json_build_object('kind', a.kind, 'areaCode', a.area_code, 'prefecture', a.prefecture, 'city', a.city))
              FROM emergency_areas a WHERE a.declaration_id = d.id), '[]') AS areas`;

interface DeclarationRow extends Record<string, unknown> {
  id: string;
  status: DeclarationStatus;
  starts_at: Date | string;
  planned_end_at: Date | string;
  decided_at: Date | string | null;
  ended_at: Date | string | null;
  areas: unknown;
}

const date = (v: Date | string) => new Date(v);

export function areaOf(raw: { kind: string; areaCode?: string | null; prefecture?: string | null; city?: string | null }): EmergencyArea {
  switch (raw.kind) {
    case 'area_code':
      return { kind: 'area_code', areaCode: raw.areaCode ?? '' };
    case 'prefecture':
      return { kind: 'prefecture', prefecture: raw.prefecture ?? '' };
    default:
      return { kind: 'municipality', prefecture: raw.prefecture ?? '', city: raw.city ?? '' };
  }
}

function toDeclaration(r: DeclarationRow): Declaration {
  const areas = (typeof r.areas === 'string' ? JSON.parse(r.areas) : r.areas) as { kind: string; areaCode: string | null; prefecture: string | null; city: string | null }[];
  return {
    id: r.id,
    status: r.status,
    startsAt: date(r.starts_at),
    plannedEndAt: date(r.planned_end_at),
    confirmedAt: r.status === 'confirmed' && r.decided_at !== null ? date(r.decided_at) : null,
    endedAt: r.ended_at === null ? null : date(r.ended_at),
    areas: areas.map(areaOf),
  };
}

/** Confirmed declarations whose window contains `at`. */
export async function declarationsInForce(q: Queryable, at: Date): Promise<Declaration[]> {
  const { rows } = await q.query<DeclarationRow>(
    `SELECT ${DECLARATION_COLUMNS} FROM emergency_declarations d
      WHERE d.status = 'confirmed' AND d.starts_at <= $1 AND d.decided_at <= $1 AND $1 < d.planned_end_at AND (d.ended_at IS NULL OR $1 < d.ended_at)`,
    [at],
  );
  return rows.map(toDeclaration);
}

export async function loadDeclaration(q: Queryable, id: string): Promise<Declaration | null> {
  const { rows } = await q.query<DeclarationRow>(`SELECT ${DECLARATION_COLUMNS} FROM emergency_declarations d WHERE d.id = $1`, [id]);
  const r = rows[0];
  return r === undefined ? null : toDeclaration(r);
}

/** The person's support registration in force at `at`, or null. */
export async function registrationAt(q: Queryable, personId: string, at: Date): Promise<SupportRegistration | null> {
  const { rows } = await q.query<{ person_id: string; fields: string[] | string; valid_from: Date | string; valid_to: Date | string | null }>(
    `SELECT person_id, fields, valid_from, valid_to FROM emergency_support_staff
      WHERE person_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)
      ORDER BY valid_from DESC LIMIT 1`,
    [personId, at],
  );
  const r = rows[0];
  if (r === undefined) return null;
  const fields = (Array.isArray(r.fields) ? r.fields : String(r.fields).replace(/^\{|\}$/g, '').split(',').filter((x) => x !== '')) as SupplyPointField[];
  return { personId: r.person_id, fields, validFrom: date(r.valid_from), validTo: r.valid_to === null ? null : date(r.valid_to) };
}
