import { memberOf } from './closed-set.ts';
import { contractAt } from './supply-point.ts';

/**
 * How a principal stands to a supply point at one instant.
 * - `own`: the principal's retailer supplies it now.
 * - `former`: the principal's retailer supplied it before and it has gone elsewhere (never a reason to see).
 * - `other`: another retailer supplies it now.
 * - `none`: nobody does — vacant, or last-resort supply by the network operator.
 */
export const RELATIONS = ['own', 'former', 'other', 'none'] as const;
export type Relation = (typeof RELATIONS)[number];
export const isRelation = memberOf(RELATIONS);

export interface ContractFact {
  readonly retailerCode: string;
  readonly lastResort: boolean;
  readonly validFrom: Date;
  readonly validTo: Date | null;
}

/**
 * Relation of a principal acting for `retailerCode` (null for the network side) to a supply point with these
 * contracts. Network principals are neutral: they stand in `other` or `none`, never `own` or `former`.
 */
export function relationAt(retailerCode: string | null, contracts: readonly ContractFact[], at: Date): Relation {
  const current = contractAt(contracts, at);
  const supplied = current !== null && !current.lastResort;
  if (retailerCode !== null && supplied && current.retailerCode === retailerCode) return 'own';
  if (retailerCode !== null) {
    const t = at.getTime();
    const before = contracts.some((c) => c.retailerCode === retailerCode && !c.lastResort && c.validFrom.getTime() <= t);
    if (before) return 'former';
  }
  return supplied ? 'other' : 'none';
}

/** The retailer supplying the point at the instant (null when vacant or under last-resort supply). */
export function retailerAt(contracts: readonly ContractFact[], at: Date): string | null {
  const current = contractAt(contracts, at);
  return current === null || current.lastResort ? null : current.retailerCode;
}
