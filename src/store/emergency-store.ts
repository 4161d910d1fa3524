import { linesOf, type Declaration, type DeclarationLines, type DeclarationStatus, type EmergencyArea, type SupportRegistration } from '../domain/emergency.ts';
import type { SupplyPointField } from '../domain/classification.ts';
import { dateOrNull, type Queryable } from './db.ts';

/**
 * Reading declarations and support registrations as the domain rules want them. The firewall calls these
 * for emergency-support reads only; every other read never touches them.
 */

const DECLARATION_COLUMNS = `d.id, d.status, d.extends_id, d.starts_at, d.planned_end_at, d.decided_at, d.ended_at,
  d.reason, d.declared_by, d.declared_by_person, d.declared_at, d.decided_by, d.decided_by_person, d.decision_comment,
  d.ended_by, d.end_reason, d.signed_off_by, d.signed_off_at, d.sign_off_comment,
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
  reason: string;
  declared_by: string;
  declared_by_person: string;
  declared_at: Date | string;
  decided_by: string | null;
  decided_by_person: string | null;
  decision_comment: string | null;
  ended_by: string | null;
  end_reason: string | null;
  signed_off_by: string | null;
  signed_off_at: Date | string | null;
  sign_off_comment: string | null;
  areas: unknown;
}

/**
 * A declaration as stored: the domain's view of it (windows, lines, cover are the domain's to work out) and
 * the record around it — who declared, decided, ended and signed off, when and why.
 */
export interface StoredDeclaration {
  readonly declaration: Declaration;
  readonly reason: string;
  readonly declaredBy: string;
  readonly declaredByPerson: string;
  readonly declaredAt: Date;
  readonly decidedBy: string | null;
  readonly decidedByPerson: string | null;
  readonly decidedAt: Date | null;
  readonly decisionComment: string | null;
  readonly endedBy: string | null;
  readonly endReason: string | null;
  readonly signedOffBy: string | null;
  readonly signedOffAt: Date | null;
  readonly signOffComment: string | null;
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

/** The one reading of a declaration row. */
function toStored(r: DeclarationRow): StoredDeclaration {
  const areas = (typeof r.areas === 'string' ? JSON.parse(r.areas) : r.areas) as {
    kind: string;
    areaCode: string | null;
    prefecture: string | null;
    city: string | null;
  }[];
  return {
    declaration: {
      id: r.id,
      status: r.status,
      startsAt: date(r.starts_at),
      plannedEndAt: date(r.planned_end_at),
      confirmedAt: r.status === 'confirmed' && r.decided_at !== null ? date(r.decided_at) : null,
      endedAt: dateOrNull(r.ended_at),
      extendsId: r.extends_id,
      areas: areas.map(areaOf),
    },
    reason: r.reason,
    declaredBy: r.declared_by,
    declaredByPerson: r.declared_by_person,
    declaredAt: date(r.declared_at),
    decidedBy: r.decided_by,
    decidedByPerson: r.decided_by_person,
    decidedAt: dateOrNull(r.decided_at),
    decisionComment: r.decision_comment,
    endedBy: r.ended_by,
    endReason: r.end_reason,
    signedOffBy: r.signed_off_by,
    signedOffAt: dateOrNull(r.signed_off_at),
    signOffComment: r.sign_off_comment,
  };
}

/** The declarations named by `seed` (a query of ids) and every declaration up their lines. */
async function withLines(q: Queryable, seed: string, params: readonly unknown[]): Promise<StoredDeclaration[]> {
  const { rows } = await q.query<DeclarationRow>(
    `WITH RECURSIVE line (id, extends_id) AS (
       SELECT s.id, s.extends_id FROM emergency_declarations s WHERE s.id IN (${seed})
       UNION
       SELECT a.id, a.extends_id FROM emergency_declarations a JOIN line l ON a.id = l.extends_id)
     SELECT ${DECLARATION_COLUMNS} FROM emergency_declarations d WHERE d.id IN (SELECT id FROM line)`,
    params,
  );
  return rows.map(toStored);
}

/**
 * Confirmed declarations whose own window contains `at`, with their lines: whether each is in force is
 * the domain's call (`inForce`), which reads the line — an early end up the line ends an extension too.
 */
export async function declarationsInForce(q: Queryable, at: Date): Promise<Declaration[]> {
  const stored = await withLines(
    q,
    `SELECT c.id FROM emergency_declarations c
      WHERE c.status = 'confirmed' AND c.starts_at <= $1 AND c.decided_at <= $1 AND $1 < c.planned_end_at AND (c.ended_at IS NULL OR $1 < c.ended_at)`,
    [at],
  );
  return stored.map((d) => d.declaration);
}

/** Declarations by id, each with its line (for windows and states): the named ones and their ancestors. */
export function storedDeclarations(q: Queryable, ids: readonly string[]): Promise<StoredDeclaration[]> {
  return withLines(q, 'SELECT unnest($1::text[])', [ids]);
}

/** Ids of declarations, newest first. */
export async function declarationIds(q: Queryable, opts: { readonly limit: number; readonly offset: number }): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>('SELECT id FROM emergency_declarations ORDER BY declared_at DESC, id DESC LIMIT $1 OFFSET $2', [
    opts.limit,
    opts.offset,
  ]);
  return rows.map((r) => r.id);
}

/** Locks a declaration's row for the transaction; false when there is none. */
export async function lockDeclaration(tx: Queryable, id: string): Promise<boolean> {
  const { rows } = await tx.query('SELECT id FROM emergency_declarations WHERE id = $1 FOR UPDATE', [id]);
  return rows.length > 0;
}

export async function loadDeclaration(q: Queryable, id: string): Promise<{ declaration: Declaration; lines: DeclarationLines } | null> {
  const all = await storedDeclarations(q, [id]);
  const lines = linesOf(all.map((d) => d.declaration));
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
  const fields = (
    Array.isArray(r.fields)
      ? r.fields
      : String(r.fields)
          .replace(/^\{|\}$/g, '')
          .split(',')
          .filter((x) => x !== '')
  ) as SupplyPointField[];
  return { personId: r.person_id, fields, validFrom: date(r.valid_from), validTo: r.valid_to === null ? null : date(r.valid_to) };
}
