import { linesOf, type Declaration, type DeclarationLines, type DeclarationStatus, type EmergencyArea, type SupportRegistration } from '../domain/emergency.ts';
import type { SupplyPointField } from '../domain/classification.ts';
import type { Queryable } from './db.ts';

/**
 * Reading declarations and support registrations as the domain rules want them. The firewall calls these
 * for emergency-support reads only; every other read never touches them.
 */

const DECLARATION_COLUMNS = `d.id, d.status, d.extends_id, d.starts_at, d.planned_end_at, d.decided_at, d.ended_at,
  COALESCE((SELECT json_agg(json_build_object('kind', a.kind, 'areaCode', a.area_code, 'prefecture', a.prefecture, 'city', a.city))
              FROM emergency_areas a WHERE a.declaration_id = d.id), '[]') AS areas`;

interface DeclarationRow extends Record<string, unknown> {
  id: string;
  status: DeclarationStatus;
  extends_id: string | null;
  starts_at: Date | string;
  planned_end_at: Date | string;
  decided_at: Date | string | null;
  ended_at: Date | string | null;
  areas: unknown;
}

const date = (v: Date | string) => new Date(v);

function areaOf(raw: { kind: string; areaCode?: string | null; prefecture?: string | null; city?: string | null }): EmergencyArea {
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
    extendsId: r.extends_id,
    areas: areas.map(areaOf),
  };
}

/** The declarations named by `seed` (a query of ids) and every declaration up their lines. */
async function withLines(q: Queryable, seed: string, params: readonly unknown[]): Promise<Declaration[]> {
  const { rows } = await q.query<DeclarationRow>(
    `WITH RECURSIVE line (id, extends_id) AS (
       SELECT s.id, s.extends_id FROM emergency_declarations s WHERE s.id IN (${seed})
       UNION
       SELECT a.id, a.extends_id FROM emergency_declarations a JOIN line l ON a.id = l.extends_id)
     SELECT ${DECLARATION_COLUMNS} FROM emergency_declarations d WHERE d.id IN (SELECT id FROM line)`,
    params,
  );
  return rows.map(toDeclaration);
}

/**
 * Confirmed declarations whose own window contains `at`, with their lines: whether each is in force is
 * the domain's call (`inForce`), which reads the line — an early end up the line ends an extension too.
 */
export function declarationsInForce(q: Queryable, at: Date): Promise<Declaration[]> {
  return withLines(
    q,
    `SELECT c.id FROM emergency_declarations c
      WHERE c.status = 'confirmed' AND c.starts_at <= $1 AND c.decided_at <= $1 AND $1 < c.planned_end_at AND (c.ended_at IS NULL OR $1 < c.ended_at)`,
    [at],
  );
}

/** Declarations by id, each with its line (for windows and states). */
export function declarationsWithLines(q: Queryable, ids: readonly string[]): Promise<Declaration[]> {
  return withLines(q, 'SELECT unnest($1::text[])', [ids]);
}

export async function loadDeclaration(q: Queryable, id: string): Promise<{ declaration: Declaration; lines: DeclarationLines } | null> {
  const all = await declarationsWithLines(q, [id]);
  const lines = linesOf(all);
  const declaration = lines.get(id);
  return declaration === undefined ? null : { declaration, lines };
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
