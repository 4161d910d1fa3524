import { memberOf, unreachable } from './closed-set.ts';
import type { FieldSpec } from './classification.ts';
import { PERMITTED_PURPOSES, type PrincipalClass } from './principal.ts';
import type { Purpose } from './purpose.ts';
import type { Relation } from './relation.ts';

/** Why a field was masked. Stable codes: they are logged and shown (translated) on screen. */
export const MASK_REASONS = [
  'unclassified',
  'no_active_assignment',
  'network_only',
  'other_retailer_customer',
  'former_customer',
  'no_retailer',
  'purpose_not_permitted',
  'not_needed_for_duty',
  'permission_not_granted',
  'terminal_not_permitted',
  'outside_emergency_fields',
  'outside_inquiry_allowance',
] as const;
export type MaskReason = (typeof MASK_REASONS)[number];
export const isMaskReason = memberOf(MASK_REASONS);

export const MASK_REASON_LABELS: Readonly<Record<MaskReason, { ja: string; en: string }>> = {
  unclassified: { ja: '未分類の項目', en: 'Unclassified field' },
  no_active_assignment: { ja: '有効な所属がありません', en: 'No assignment in force' },
  network_only: { ja: '送配電専用情報', en: 'Network-only information' },
  other_retailer_customer: { ja: '非公開情報：他社の需要家', en: "Non-public: another retailer's customer" },
  former_customer: { ja: '非公開情報：過去の自社需要家', en: 'Non-public: former customer' },
  no_retailer: { ja: '非公開情報：最終保障供給・無契約', en: 'Non-public: last-resort supply or vacant' },
  purpose_not_permitted: { ja: '利用目的の範囲外', en: 'Outside the declared purpose' },
  not_needed_for_duty: { ja: '業務上不要な情報', en: 'Not needed for the duty' },
  permission_not_granted: { ja: '権限が付与されていません', en: 'Permission not granted' },
  terminal_not_permitted: { ja: 'この端末では表示できません', en: 'Not shown on this terminal' },
  outside_emergency_fields: { ja: '非常災害時の登録項目外', en: 'Not among the fields registered for emergency support' },
  outside_inquiry_allowance: { ja: '照会で回答できない項目', en: 'Not among the items the inquiry may give' },
};

/**
 * The reason a person is shown for a masked field: a mask reason, or `not_own_customer`, which a retail
 * principal sees instead of `other_retailer_customer` and `no_retailer` (firewall/view.ts, `shownReason`):
 * telling those apart would itself disclose whether the point is supplied. The log keeps the exact reason.
 */
export const SHOWN_REASONS = [...MASK_REASONS, 'not_own_customer'] as const;
export type ShownReason = (typeof SHOWN_REASONS)[number];

export const SHOWN_REASON_LABELS: Readonly<Record<'not_own_customer', { ja: string; en: string }>> = {
  not_own_customer: { ja: '非公開情報：自社の需要家ではありません', en: 'Non-public: not your customer' },
};

/** What became of a read, as the access log records it. */
export const OUTCOMES = ['served', 'refused'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The invariant's rules (firewall/verify.ts): a decision of the table that breaks one fails `gridwall verify`. */
export const VIOLATION_RULES = ['retail_sees_non_own_non_public', 'network_only_outside_network', 'unassigned_sees_data'] as const;
export type ViolationRule = (typeof VIOLATION_RULES)[number];

/** On what ground a field is shown. Logged, so a review can tell ordinary reads from emergency ones. */
export const ALLOW_BASES = ['public', 'own_customer', 'network_duty', 'emergency', 'inquiry'] as const;
export type AllowBasis = (typeof ALLOW_BASES)[number];

export type Decision = { readonly kind: 'allow'; readonly basis: AllowBasis } | { readonly kind: 'mask'; readonly reason: MaskReason };

/** Everything a decision may depend on. Nothing else (no clock, no terminal, no database) enters it. */
export interface DecisionInput {
  readonly principalClass: PrincipalClass;
  readonly relation: Relation;
  /** The field's manifest entry; null when the field is not classified. */
  readonly field: FieldSpec | null;
  /**
   * True when a declared emergency is active now, covers this supply point's area and the person is
   * registered as support staff for it (computed by the caller from the declaration's window).
   */
  readonly emergency: boolean;
  readonly purpose: Purpose;
  /**
   * True when the read answers an inquiry and this field is among the items its case allows with its consent
   * (domain/inquiry.ts: at once, or from the queue once the service centre answered it). Computed by the
   * inquiry service; false for every other read.
   */
  readonly inquiry: boolean;
}

const NETWORK_ONLY_PURPOSES: readonly Purpose[] = ['outage_response', 'network_construction'];

const allow = (basis: AllowBasis): Decision => ({ kind: 'allow', basis });
const mask = (reason: MaskReason): Decision => ({ kind: 'mask', reason });

/**
 * The firewall policy: one field of one record for one principal. Pure and total over its finite input,
 * so it can be enumerated, verified and compiled into a table (see decision-table.ts).
 */
export function decide(input: DecisionInput): Decision {
  const { principalClass, relation, field, emergency, purpose, inquiry } = input;
  if (field === null) return mask('unclassified');
  if (principalClass === 'unassigned') return mask('no_active_assignment');
  if (field.class === 'public') return allow('public');
  const purposePermitted = PERMITTED_PURPOSES[principalClass].includes(purpose);

  switch (principalClass) {
    case 'network_call_centre':
    case 'network_service_centre':
      if (field.class === 'network_only') {
        return principalClass === 'network_service_centre' && NETWORK_ONLY_PURPOSES.includes(purpose) ? allow('network_duty') : mask('network_only');
      }
      return purposePermitted ? allow('network_duty') : mask('purpose_not_permitted');
    case 'network_compliance':
    case 'network_access_admin':
      return mask(field.class === 'network_only' ? 'network_only' : 'not_needed_for_duty');
    case 'affiliated_retail':
    case 'other_retailer':
    case 'retailer_system':
      return decideRetail(principalClass, relation, field, emergency, purpose, purposePermitted, inquiry);
    default:
      return unreachable(principalClass);
  }
}

function decideRetail(
  principalClass: 'affiliated_retail' | 'other_retailer' | 'retailer_system',
  relation: Relation,
  field: FieldSpec,
  emergency: boolean,
  purpose: Purpose,
  purposePermitted: boolean,
  inquiry: boolean,
): Decision {
  if (field.class === 'network_only') return mask('network_only');
  const reason = relationReason(relation);
  if (purpose === 'inquiry_answer') {
    // The answer to an inquiry: the items its case and consent allow, for any supply point, whoever asks. Nobody
    // declares this purpose (it is not in PERMITTED_PURPOSES): the inquiry service reads under it.
    if (reason === null) return allow('own_customer');
    return inquiry ? allow('inquiry') : mask('outside_inquiry_allowance');
  }
  if (!purposePermitted) return mask('purpose_not_permitted');
  if (purpose === 'emergency_support') {
    // Support staff of the affiliated retailer help the network operator during a declared disaster: outage
    // contact fields only, inside the window and area, for any supply point in it.
    return principalClass === 'affiliated_retail' && emergency && field.emergencyContact ? allow('emergency') : mask(reason ?? 'purpose_not_permitted');
  }
  return reason === null ? allow('own_customer') : mask(reason);
}

function relationReason(relation: Relation): MaskReason | null {
  switch (relation) {
    case 'own':
      return null;
    case 'former':
      return 'former_customer';
    case 'other':
      return 'other_retailer_customer';
    case 'none':
      return 'no_retailer';
    default:
      return unreachable(relation);
  }
}
