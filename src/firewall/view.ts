import type { Decision, MaskReason, ShownReason } from '../domain/decision.ts';
import type { SupplyPointField } from '../domain/classification.ts';
import type { PrincipalClass } from '../domain/principal.ts';
import { RETAIL_CLASSES } from '../domain/principal.ts';
import type { RecordValues } from '../domain/record.ts';

/**
 * The reason a person is shown for a masked field (domain/decision.ts, `SHOWN_REASONS`). For retail
 * principals the distinction between another retailer's customer and a vacant / last-resort point would
 * itself disclose a non-public fact (whether the point is supplied), so both show as `not_own_customer`; the
 * log keeps the exact reason.
 */
export function shownReason(reason: MaskReason, principalClass: PrincipalClass): ShownReason {
  if (RETAIL_CLASSES.includes(principalClass) && (reason === 'other_retailer_customer' || reason === 'no_retailer')) {
    return 'not_own_customer';
  }
  return reason;
}

export type FieldView<V = unknown> = { readonly shown: true; readonly value: V } | { readonly shown: false; readonly reason: ShownReason };

/**
 * A record as it leaves the firewall: the requested fields `F` only, each shown with what the record holds
 * (`RecordValues`) or masked with a reason.
 */
export interface RecordView<F extends SupplyPointField = SupplyPointField> {
  readonly supplyPointId: string;
  readonly fields: { readonly [K in F]: FieldView<RecordValues[K]> };
}

/**
 * Applies decisions to field views. A masked field stays masked whatever the decision (masking never
 * reveals), so applying the same decisions twice changes nothing.
 */
export function applyDecisions(
  fields: Readonly<Record<string, FieldView>>,
  decisionOf: (field: string) => Decision,
  principalClass: PrincipalClass,
): Record<string, FieldView> {
  const out: Record<string, FieldView> = {};
  for (const [key, view] of Object.entries(fields)) {
    const d = decisionOf(key);
    out[key] = !view.shown || d.kind === 'allow' ? view : { shown: false, reason: shownReason(d.reason, principalClass) };
  }
  return out;
}
