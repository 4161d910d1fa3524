import { csvRow, EXCEL_BOM } from '../excel-csv.ts';
import { SUPPLY_POINT_FIELDS, SUPPLY_POINT_FIELD_KEYS, type FieldClass, type SupplyPointField } from '../domain/classification.ts';
import type { MaskReason, ViolationRule } from '../domain/decision.ts';
import type { DecisionTable } from '../domain/decision-table.ts';
import { keySpace } from '../domain/decision-table.ts';
import { PERMITTED_PURPOSES, PRINCIPAL_CLASSES, RETAIL_CLASSES, type PrincipalClass } from '../domain/principal.ts';
import { PURPOSES, type Purpose } from '../domain/purpose.ts';
import { RELATIONS, type Relation } from '../domain/relation.ts';
import { DATA_ROUTES } from './firewall.ts';

/** A row of the masking checklist: what one kind of principal sees of one field through one route. */
export interface ChecklistRow {
  readonly route: string;
  readonly principalClass: PrincipalClass;
  readonly relation: Relation;
  readonly emergency: boolean;
  readonly field: SupplyPointField;
  readonly fieldClass: FieldClass;
  /** `shown` if any purpose the class may declare shows it; the purposes are listed. */
  readonly outcome: 'shown' | 'masked';
  readonly shownFor: readonly Purpose[];
  /** Mask reasons seen over the permitted purposes (or over all purposes when none is permitted). */
  readonly reasons: readonly MaskReason[];
}

/** A decision that breaks the firewall's invariant. Any of these makes `gridwall verify` fail. */
export interface Violation {
  readonly principalClass: PrincipalClass;
  readonly relation: Relation;
  readonly field: SupplyPointField;
  readonly emergency: boolean;
  readonly purpose: Purpose;
  readonly rule: ViolationRule;
}

/**
 * The invariant, checked over every key of the table: a retail-side or other-retailer principal sees a
 * non-public field of a supply point that is not their own customer's only as emergency support, inside a
 * declared emergency, and only an emergency-contact field; network-only fields stay on the network side;
 * a person without an assignment in force sees nothing.
 */
export function findViolations(table: DecisionTable): Violation[] {
  const out: Violation[] = [];
  for (const k of keySpace()) {
    const field = SUPPLY_POINT_FIELD_KEYS[k.fieldIndex];
    if (field === undefined) continue;
    const d = table.lookup(k.principalClass, k.relation, k.fieldIndex, k.emergency, k.purpose);
    if (d.kind !== 'allow') continue;
    const spec = SUPPLY_POINT_FIELDS[field];
    const base = { principalClass: k.principalClass, relation: k.relation, field, emergency: k.emergency, purpose: k.purpose };
    if (k.principalClass === 'unassigned') out.push({ ...base, rule: 'unassigned_sees_data' });
    else if (spec.class === 'network_only' && !k.principalClass.startsWith('network_')) out.push({ ...base, rule: 'network_only_outside_network' });
    else if (RETAIL_CLASSES.includes(k.principalClass) && spec.class !== 'public' && k.relation !== 'own') {
      const emergencyUse = k.emergency && k.purpose === 'emergency_support' && spec.emergencyContact && d.basis === 'emergency';
      if (!emergencyUse) out.push({ ...base, rule: 'retail_sees_non_own_non_public' });
    }
  }
  return out;
}

/** Every route × principal class × relation × emergency × field, with the outcome. */
export function checklist(table: DecisionTable): ChecklistRow[] {
  const rows: ChecklistRow[] = [];
  for (const { route, fields } of DATA_ROUTES)
    for (const principalClass of PRINCIPAL_CLASSES)
      for (const relation of RELATIONS)
        for (const emergency of [false, true])
          for (const field of fields) {
            const fi = SUPPLY_POINT_FIELD_KEYS.indexOf(field);
            const permitted = PERMITTED_PURPOSES[principalClass];
            const purposes = permitted.length > 0 ? permitted : PURPOSES;
            const shownFor = purposes.filter((p) => table.lookup(principalClass, relation, fi, emergency, p).kind === 'allow');
            const reasons = new Set<MaskReason>();
            for (const p of purposes) {
              const d = table.lookup(principalClass, relation, fi, emergency, p);
              if (d.kind === 'mask') reasons.add(d.reason);
            }
            rows.push({
              route,
              principalClass,
              relation,
              emergency,
              field,
              fieldClass: SUPPLY_POINT_FIELDS[field].class,
              outcome: shownFor.length > 0 ? 'shown' : 'masked',
              shownFor,
              reasons: [...reasons].sort(),
            });
          }
  return rows;
}

const HEAD = ['route', 'principal_class', 'relation', 'emergency', 'field', 'field_class', 'outcome', 'shown_for_purposes', 'mask_reasons'] as const;

function cells(r: ChecklistRow): string[] {
  return [r.route, r.principalClass, r.relation, r.emergency ? 'yes' : 'no', r.field, r.fieldClass, r.outcome, r.shownFor.join(';'), r.reasons.join(';')];
}

/** RFC 4180 CSV with a BOM so Excel opens it as UTF-8. */
export function checklistCsv(rows: readonly ChecklistRow[]): string {
  return `${EXCEL_BOM}${csvRow(HEAD)}${rows.map((r) => csvRow(cells(r))).join('')}`;
}

export function checklistMarkdown(rows: readonly ChecklistRow[], table: DecisionTable, violations: readonly Violation[]): string {
  const lines = [
    '# Masking checklist',
    '',
    `Policy version: \`${table.version}\` · decision table entries: ${table.size} · rows: ${rows.length}`,
    '',
    violations.length === 0
      ? 'Result: **PASS** — no retail-side or other-retailer principal sees a non-public field of a customer that is not their own outside the emergency rules.'
      : `Result: **FAIL** — ${violations.length} violating decisions (listed at the end).`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...rows.map(
      (r) =>
        `| ${cells(r)
          .map((c) => c.replace(/\|/g, '\\|'))
          .join(' | ')} |`,
    ),
  ];
  if (violations.length > 0) {
    lines.push('', '## Violations', '', '| rule | principal_class | relation | field | emergency | purpose |', '|---|---|---|---|---|---|');
    for (const v of violations) lines.push(`| ${v.rule} | ${v.principalClass} | ${v.relation} | ${v.field} | ${v.emergency ? 'yes' : 'no'} | ${v.purpose} |`);
  }
  return `${lines.join('\n')}\n`;
}
