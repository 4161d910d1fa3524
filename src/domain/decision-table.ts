import { createHash } from 'node:crypto';
import { SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS } from './classification.ts';
import { ALLOW_BASES, MASK_REASONS, decide, type Decision } from './decision.ts';
import { PRINCIPAL_CLASSES, type PrincipalClass } from './principal.ts';
import { PURPOSES, type Purpose } from './purpose.ts';
import { RELATIONS, type Relation } from './relation.ts';

/**
 * The policy compiled into a flat lookup table over its whole (finite) key space, built once at start.
 * A look-up is a few multiplications and one byte read; `decide` is never called on the hot path.
 */
export interface DecisionTable {
  /**
   * Decision for one supply point field; `fieldIndex` is the index in SUPPLY_POINT_FIELD_KEYS, -1 if unknown;
   * `inquiry` true only for an inquiry's answer and a field its case allows (DecisionInput.inquiry).
   */
  lookup(principalClass: PrincipalClass, relation: Relation, fieldIndex: number, emergency: boolean, purpose: Purpose, inquiry?: boolean): Decision;
  /** SHA-256 over the dimensions and every decision: the policy version logged with every read. */
  readonly version: string;
  readonly size: number;
}

/** Every decision as a small integer: allow bases first, then mask reasons. */
const DECISIONS: readonly Decision[] = [
  ...ALLOW_BASES.map((basis): Decision => ({ kind: 'allow', basis })),
  ...MASK_REASONS.map((reason): Decision => ({ kind: 'mask', reason })),
];
const UNCLASSIFIED: Decision = { kind: 'mask', reason: 'unclassified' };

function codeOf(d: Decision): number {
  const i = DECISIONS.findIndex((x) =>
    x.kind === 'allow' && d.kind === 'allow' ? x.basis === d.basis : x.kind === 'mask' && d.kind === 'mask' && x.reason === d.reason,
  );
  if (i < 0) throw new Error('decision outside the closed set');
  return i;
}

const classIndex = new Map(PRINCIPAL_CLASSES.map((c, i) => [c, i] as const));
const relationIndex = new Map(RELATIONS.map((r, i) => [r, i] as const));
const purposeIndex = new Map(PURPOSES.map((p, i) => [p, i] as const));

const nR = RELATIONS.length;
const nF = SUPPLY_POINT_FIELD_KEYS.length;
const nP = PURPOSES.length;

function slot(c: number, r: number, f: number, e: number, i: number, p: number): number {
  return ((((c * nR + r) * nF + f) * 2 + e) * 2 + i) * nP + p;
}

/** Enumerates the key space in a fixed order (used by the compiler, the verifier and the tests). */
export function* keySpace(): Generator<{
  principalClass: PrincipalClass;
  relation: Relation;
  fieldIndex: number;
  emergency: boolean;
  inquiry: boolean;
  purpose: Purpose;
}> {
  for (const principalClass of PRINCIPAL_CLASSES)
    for (const relation of RELATIONS)
      for (let fieldIndex = 0; fieldIndex < nF; fieldIndex++)
        for (const emergency of [false, true])
          for (const inquiry of [false, true]) for (const purpose of PURPOSES) yield { principalClass, relation, fieldIndex, emergency, inquiry, purpose };
}

/** Compiles `decide` over the whole key space. */
export function compileDecisionTable(): DecisionTable {
  const table = new Uint8Array(PRINCIPAL_CLASSES.length * nR * nF * 2 * 2 * nP);
  for (const k of keySpace()) {
    const field = SUPPLY_POINT_FIELDS[SUPPLY_POINT_FIELD_KEYS[k.fieldIndex] ?? 'network_notes'];
    const code = codeOf(
      decide({ principalClass: k.principalClass, relation: k.relation, field, emergency: k.emergency, purpose: k.purpose, inquiry: k.inquiry }),
    );
    const c = classIndex.get(k.principalClass) ?? 0;
    table[slot(c, relationIndex.get(k.relation) ?? 0, k.fieldIndex, k.emergency ? 1 : 0, k.inquiry ? 1 : 0, purposeIndex.get(k.purpose) ?? 0)] = code;
  }
  const version = createHash('sha256')
    .update(JSON.stringify({ PRINCIPAL_CLASSES, RELATIONS, SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS, PURPOSES, DECISIONS }))
    .update(table)
    .digest('hex');
  return {
    version,
    size: table.length,
    lookup(principalClass, relation, fieldIndex, emergency, purpose, inquiry = false) {
      const c = classIndex.get(principalClass);
      const r = relationIndex.get(relation);
      const p = purposeIndex.get(purpose);
      if (c === undefined || r === undefined || p === undefined || fieldIndex < 0 || fieldIndex >= nF) return UNCLASSIFIED;
      return DECISIONS[table[slot(c, r, fieldIndex, emergency ? 1 : 0, inquiry ? 1 : 0, p)] ?? -1] ?? UNCLASSIFIED;
    },
  };
}
