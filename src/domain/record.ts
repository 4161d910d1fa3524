import type { SupplyPointField } from './classification.ts';
import type { CapacityUnit, CustomerType } from './supply-point.ts';
import { contractAt } from './supply-point.ts';
import type { ContractFact } from './relation.ts';

/** One contract as the store holds it, with the holder and the retailer's name joined in. */
export interface StoredContract extends ContractFact {
  readonly retailerName: string;
  readonly capacity: number;
  readonly capacityUnit: CapacityUnit;
  readonly customerType: CustomerType;
  readonly holderName: string;
  readonly phone: string;
}

/** A supply point with its whole contract history, exactly as stored. Never serialised as such. */
export interface StoredSupplyPoint {
  readonly id: string;
  readonly areaCode: string;
  readonly address: { postalCode: string; prefecture: string; city: string; town: string; street: string; building: string | null };
  readonly meterId: string;
  readonly readingDay: number;
  readonly equipment: readonly string[];
  readonly usage: readonly { month: string; kwh: number }[];
  readonly networkNotes: string | null;
  readonly contracts: readonly StoredContract[];
}

/** Field values of the supply point record at one instant, keyed by the manifest's field keys. */
export type SupplyPointValues = { readonly [K in SupplyPointField]: unknown };

/**
 * The record as the customer screen shows it at an instant. The `satisfies` clause makes the compiler
 * refuse a value for a field the manifest does not list, and demand one for every field it does; the
 * return type is what each field holds (`RecordValues`), which the HTTP contract describes field by field
 * (src/contract/supply-point.ts checks the two are the same).
 */
export function recordValues(sp: StoredSupplyPoint, at: Date) {
  const current = contractAt(sp.contracts, at);
  const t = at.getTime();
  const values = {
    supply_point_id: sp.id,
    address: { ...sp.address, text: formatAddress(sp.address) },
    holder_name: current?.holderName ?? null,
    phone: current?.phone ?? null,
    contracted_capacity: current === null ? null : { value: current.capacity, unit: current.capacityUnit },
    retailer: current === null || current.lastResort ? null : { code: current.retailerCode, name: current.retailerName },
    usage: sp.usage,
    equipment: sp.equipment,
    meter: { meterId: sp.meterId, readingDay: sp.readingDay },
    contract_history: sp.contracts
      .filter((c) => c.validFrom.getTime() <= t)
      .map((c) => ({
        retailerCode: c.retailerCode,
        retailerName: c.retailerName,
        lastResort: c.lastResort,
        validFrom: c.validFrom.toISOString(),
        validTo: c.validTo === null || c.validTo.getTime() > t ? null : c.validTo.toISOString(),
      })),
    customer_type: current?.customerType ?? null,
    last_resort: current?.lastResort ?? false,
    network_notes: sp.networkNotes,
  } satisfies SupplyPointValues;
  return values;
}

/** What each field of the supply point record holds when shown. */
export type RecordValues = ReturnType<typeof recordValues>;

export function formatAddress(a: StoredSupplyPoint['address']): string {
  return `〒${a.postalCode} ${a.prefecture}${a.city}${a.town}${a.street}${a.building === null ? '' : ` ${a.building}`}`;
}
