import { table, text, type SpreadsheetDoc } from '../spreadsheet/table.ts';
import { SUPPLY_POINT_FIELDS, SUPPLY_POINT_FIELD_KEYS, type FieldClass, type SupplyPointField } from '../domain/classification.ts';
import type { MaskReason, ViolationRule } from '../domain/decision.ts';
import type { DecisionTable } from '../domain/decision-table.ts';
import { keySpace } from '../domain/decision-table.ts';
import { PERMITTED_PURPOSES, PRINCIPAL_CLASSES, RETAIL_CLASSES, type PrincipalClass } from '../domain/principal.ts';
import { PURPOSES, type Purpose } from '../domain/purpose.ts';
import { RELATIONS, type Relation } from '../domain/relation.ts';
import { DATA_ROUTES } from './firewall.ts';
import { answering, CASE_TYPES, CONSENT_STATES, type Answering, type CaseType, type ConsentState, type InquiryRule } from '../domain/inquiry.ts';

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
  /** The read answers an inquiry whose case allows this field (DecisionInput.inquiry). */
  readonly inquiry: boolean;
  readonly rule: ViolationRule;
}

/**
 * The invariant, checked over every key of the table: a retail-side or other-retailer principal sees a
 * non-public field of a supply point that is not their own customer's only as emergency support, inside a
 * declared emergency, and only an emergency-contact field, or as the answer to an inquiry, and only a field
 * its case allows (domain/inquiry.ts, checked on its own by inquiryViolations); network-only fields stay on the network side;
 * a person without an assignment in force sees nothing.
 */
export function findViolations(table: DecisionTable): Violation[] {
  const out: Violation[] = [];
  for (const k of keySpace()) {
    const field = SUPPLY_POINT_FIELD_KEYS[k.fieldIndex];
    if (field === undefined) continue;
    const d = table.lookup(k.principalClass, k.relation, k.fieldIndex, k.emergency, k.purpose, k.inquiry);
    if (d.kind !== 'allow') continue;
    const spec = SUPPLY_POINT_FIELDS[field];
    const base = { principalClass: k.principalClass, relation: k.relation, field, emergency: k.emergency, purpose: k.purpose, inquiry: k.inquiry };
    if (k.principalClass === 'unassigned') out.push({ ...base, rule: 'unassigned_sees_data' });
    else if (spec.class === 'network_only' && !k.principalClass.startsWith('network_')) out.push({ ...base, rule: 'network_only_outside_network' });
    else if (RETAIL_CLASSES.includes(k.principalClass) && spec.class !== 'public' && k.relation !== 'own') {
      const emergencyUse = k.emergency && k.purpose === 'emergency_support' && spec.emergencyContact && d.basis === 'emergency';
      const inquiryAnswer = k.inquiry && k.purpose === 'inquiry_answer' && spec.class === 'non_public' && d.basis === 'inquiry';
      if (!emergencyUse && !inquiryAnswer) out.push({ ...base, rule: 'retail_sees_non_own_non_public' });
    }
  }
  return out;
}

/** Every route × principal class × relation × emergency × field, with the outcome. */
export function checklist(table: DecisionTable): ChecklistRow[] {
  const rows: ChecklistRow[] = [];
  for (const { route, fields } of DATA_ROUTES.filter((r) => r.via === 'lookup'))
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

/** Headed in Japanese (issue 20: the console's download and `gridwall verify --format csv`); the cells keep the decision table's codes. */
const HEAD = ['照会経路', '利用者区分', '需要家との関係', '非常災害時', '項目', '項目の区分', '判定', '表示される利用目的', '非表示の理由'] as const;

function cells(r: ChecklistRow): string[] {
  return [r.route, r.principalClass, r.relation, r.emergency ? 'yes' : 'no', r.field, r.fieldClass, r.outcome, r.shownFor.join(';'), r.reasons.join(';')];
}

/** The checklist as a spreadsheet document (CSV or XLSX through the spreadsheet writers). */
export function checklistDoc(rows: readonly ChecklistRow[]): SpreadsheetDoc {
  return {
    title: 'マスキング検証表 / Masking checklist',
    tables: [
      table<ChecklistRow>({
        sheet: 'checklist',
        title: 'マスキング検証表 / Masking checklist',
        columns: HEAD.map((h, i) => text<ChecklistRow>(h, (r) => cells(r)[i])),
        rows,
      }),
    ],
  };
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
    lines.push('', '## Violations', '', '| rule | principal_class | relation | field | emergency | inquiry | purpose |', '|---|---|---|---|---|---|---|');
    for (const v of violations)
      lines.push(
        `| ${v.rule} | ${v.principalClass} | ${v.relation} | ${v.field} | ${v.emergency ? 'yes' : 'no'} | ${v.inquiry ? 'yes' : 'no'} | ${v.purpose} |`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** A row of the inquiry checklist: how one case answers one item with that consent, to one kind of retailer. */
export interface InquiryRow {
  readonly caseType: CaseType;
  readonly item: SupplyPointField;
  readonly consent: ConsentState;
  readonly requester: PrincipalClass;
  readonly answering: Answering;
  /** What the firewall gives that requester of another retailer's customer's record, answering the inquiry. */
  readonly outcome: 'shown' | 'masked';
}

export interface InquiryViolation {
  readonly caseType: CaseType;
  readonly item: SupplyPointField;
  readonly consent: ConsentState;
  readonly rule: InquiryRule;
}

/**
 * Every case × item × consent state × retail-side requester, with the allowance and what the firewall then
 * shows of a record that is not the requester's customer's (`answering` is the allowance; the tests pass a
 * broken one). The firewall is asked as it is asked for a real answer: `inquiry` true exactly when the
 * allowance is not `never`.
 */
export function inquiryChecklist(table: DecisionTable, allowance: typeof answering = answering): InquiryRow[] {
  const rows: InquiryRow[] = [];
  for (const caseType of CASE_TYPES)
    for (const item of SUPPLY_POINT_FIELD_KEYS)
      for (const consent of CONSENT_STATES)
        for (const requester of RETAIL_CLASSES) {
          const a = allowance(caseType, item, consent);
          const d = table.lookup(requester, 'other', SUPPLY_POINT_FIELD_KEYS.indexOf(item), false, 'inquiry_answer', a !== 'never');
          rows.push({ caseType, item, consent, requester, answering: a, outcome: d.kind === 'allow' ? 'shown' : 'masked' });
        }
  return rows;
}

/**
 * What breaks the inquiry rules: a case that answers one retailer otherwise than another (the law's equal
 * treatment); a non-public item shown beyond what the case allows; an item the case allows that the firewall
 * would not serve (the allowance would promise what nobody gets).
 */
export function inquiryViolations(rows: readonly InquiryRow[]): InquiryViolation[] {
  const out: InquiryViolation[] = [];
  const seen = new Set<string>();
  const push = (r: InquiryRow, rule: InquiryRule) => {
    const key = `${r.caseType}|${r.item}|${r.consent}|${rule}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ caseType: r.caseType, item: r.item, consent: r.consent, rule });
  };
  const byCase = new Map<string, InquiryRow[]>();
  for (const r of rows) {
    const key = `${r.caseType}|${r.item}|${r.consent}`;
    const group = byCase.get(key);
    if (group === undefined) byCase.set(key, [r]);
    else group.push(r);
    const nonPublic = SUPPLY_POINT_FIELDS[r.item].class !== 'public';
    if (nonPublic && r.outcome === 'shown' && r.answering === 'never') push(r, 'beyond_allowance');
    if (r.answering !== 'never' && r.outcome !== 'shown') push(r, 'allowance_not_served');
  }
  for (const group of byCase.values()) {
    const first = group[0];
    if (first !== undefined && group.some((r) => r.answering !== first.answering || r.outcome !== first.outcome)) push(first, 'unequal_treatment');
  }
  return out;
}

/** The inquiry checklist as Markdown: one line per case × item × consent (the same for every retailer, or a violation says not). */
export function inquiryMarkdown(rows: readonly InquiryRow[], violations: readonly InquiryViolation[]): string {
  const lines = [
    '## Inquiry allowances',
    '',
    violations.length === 0
      ? `Result: **PASS** — every case answers every retailer alike (${RETAIL_CLASSES.join(', ')}), never beyond its allowance.`
      : `Result: **FAIL** — ${violations.length} violations (listed below).`,
    '',
    '| case | item | consent | answering | shown once answered |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows.filter((x) => x.requester === RETAIL_CLASSES[0] && x.answering !== 'never'))
    lines.push(`| ${r.caseType} | ${r.item} | ${r.consent} | ${r.answering} | ${r.outcome === 'shown' ? 'yes' : 'no'} |`);
  if (violations.length > 0) {
    lines.push('', '| rule | case | item | consent |', '|---|---|---|---|');
    for (const v of violations) lines.push(`| ${v.rule} | ${v.caseType} | ${v.item} | ${v.consent} |`);
  }
  return `${lines.join('\n')}\n`;
}
