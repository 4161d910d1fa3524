/**
 * Supply points (供給地点) and their contracts over time. Pure data and rules, no I/O.
 */

/** The ten general transmission & distribution areas; the first two digits of every supply point ID. */
export const AREA_CODES = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10'] as const;
export type AreaCode = (typeof AREA_CODES)[number];

export const AREA_NAMES: Readonly<Record<AreaCode, string>> = {
  '01': '北海道',
  '02': '東北',
  '03': '東京',
  '04': '中部',
  '05': '北陸',
  '06': '関西',
  '07': '中国',
  '08': '四国',
  '09': '九州',
  '10': '沖縄',
};

export type SupplyPointIdResult =
  { readonly kind: 'ok'; readonly id: string; readonly area: AreaCode } | { readonly kind: 'invalid'; readonly problem: 'not_22_digits' | 'unknown_area_code' };

/** Parses a supply point ID: 22 digits, hyphens and spaces ignored, area code 01–10. */
export function parseSupplyPointId(raw: string): SupplyPointIdResult {
  const id = raw.replace(/[\s-]/g, '');
  if (!/^\d{22}$/.test(id)) return { kind: 'invalid', problem: 'not_22_digits' };
  const area = AREA_CODES.find((code) => id.startsWith(code));
  if (area === undefined) return { kind: 'invalid', problem: 'unknown_area_code' };
  return { kind: 'ok', id, area };
}

export const CUSTOMER_TYPES = ['individual', 'corporate'] as const;
export type CustomerType = (typeof CUSTOMER_TYPES)[number];

/** Units of a contracted capacity: amperes for low-voltage lamp contracts, kVA / kW otherwise. */
export const CAPACITY_UNITS = ['A', 'kVA', 'kW'] as const;
export type CapacityUnit = (typeof CAPACITY_UNITS)[number];

export interface Customer {
  readonly id: string;
  readonly type: CustomerType;
  readonly name: string;
  readonly phone: string;
}

export interface Contract {
  readonly supplyPointId: string;
  readonly customerId: string;
  readonly retailerCode: string;
  /** Contracted capacity: amperes for low-voltage lamp contracts, kVA / kW otherwise (see `capacityUnit`). */
  readonly capacity: number;
  readonly capacityUnit: CapacityUnit;
  /** True when the network operator supplies it under last-resort supply (最終保障供給). */
  readonly lastResort: boolean;
  readonly validFrom: Date;
  readonly validTo: Date | null;
}

/** The contract in force at the instant, if any. Periods of one supply point never overlap. */
export function contractAt<C extends { validFrom: Date; validTo: Date | null }>(contracts: readonly C[], at: Date): C | null {
  const t = at.getTime();
  for (const c of contracts) {
    if (c.validFrom.getTime() <= t && (c.validTo === null || t < c.validTo.getTime())) return c;
  }
  return null;
}
