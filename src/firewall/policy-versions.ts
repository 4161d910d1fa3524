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

/** Records the table, once per version (a second start of the same build adds nothing). */
export async function recordPolicyVersion(db: Queryable, table: DecisionTable, at: Date): Promise<void> {
  const allowed: unknown[] = [];
  for (const k of keySpace()) {
    const d = table.lookup(k.principalClass, k.relation, k.fieldIndex, k.emergency, k.purpose, k.inquiry);
    if (d.kind === 'allow') allowed.push([k.principalClass, k.relation, SUPPLY_POINT_FIELD_KEYS[k.fieldIndex], k.emergency, k.inquiry, k.purpose, d.basis]);
  }
  await db.query(
    `INSERT INTO policy_versions (version, recorded_at, violations, allowed) VALUES ($1, $2, $3::jsonb, $4::jsonb) ON CONFLICT (version) DO NOTHING`,
    [table.version, at, JSON.stringify(findViolations(table)), JSON.stringify(allowed)],
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
