import type { DecisionTable } from '../domain/decision-table.ts';
import { keySpace } from '../domain/decision-table.ts';
import { SUPPLY_POINT_FIELD_KEYS } from '../domain/classification.ts';
import type { Queryable } from '../store/db.ts';
import { findViolations, type Violation } from './verify.ts';

/**
 * The decision tables that decided reads, kept beside the log (migration 021; issue 22). A server records the
 * table it runs when it starts: its version (the hash every event carries), every allowing decision, and the
 * masking checklist's violations of it — so the exposure report of a later period can still say whether an
 * earlier build's table let a retail principal see another retailer's customer's non-public items.
 */

/** What is recorded of a table: computed once per process and version (the whole key space is walked). */
const payloads = new Map<string, { violations: string; allowed: string }>();

function payloadOf(table: DecisionTable): { violations: string; allowed: string } {
  const known = payloads.get(table.version);
  if (known !== undefined) return known;
  const allowed: unknown[] = [];
  for (const k of keySpace()) {
    const d = table.lookup(k.principalClass, k.relation, k.fieldIndex, k.emergency, k.purpose, k.inquiry);
    if (d.kind === 'allow') allowed.push([k.principalClass, k.relation, SUPPLY_POINT_FIELD_KEYS[k.fieldIndex], k.emergency, k.inquiry, k.purpose, d.basis]);
  }
  const out = { violations: JSON.stringify(findViolations(table)), allowed: JSON.stringify(allowed) };
  payloads.set(table.version, out);
  return out;
}

/** Records the table, once per version (a later start of the same build finds it and adds nothing). */
export async function recordPolicyVersion(db: Queryable, table: DecisionTable, at: Date): Promise<void> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM policy_versions WHERE version = $1', [table.version]);
  if ((rows[0]?.n ?? 0) > 0) return;
  const p = payloadOf(table);
  await db.query(
    `INSERT INTO policy_versions (version, recorded_at, violations, allowed) VALUES ($1, $2, $3::jsonb, $4::jsonb) ON CONFLICT (version) DO NOTHING`,
    [table.version, at, p.violations, p.allowed],
  );
}

/** The checklist's verdict on each recorded version asked for: its violations when it was recorded. */
export async function recordedViolations(db: Queryable, versions: readonly string[]): Promise<Map<string, Violation[]>> {
  if (versions.length === 0) return new Map();
  const { rows } = await db.query<{ version: string; violations: Violation[] | string }>(
    `SELECT version, violations FROM policy_versions WHERE version = ANY($1::text[])`,
    [versions],
  );
  return new Map(rows.map((r) => [r.version, typeof r.violations === 'string' ? (JSON.parse(r.violations) as Violation[]) : r.violations]));
}
