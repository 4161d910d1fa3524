import { memberOf } from './closed-set.ts';

/**
 * The classification manifest: every field of every record type that can leave the store, with its class.
 * This is the single place masking is decided from; a field missing here is never served (fail closed).
 */
export const FIELD_CLASSES = ['public', 'non_public', 'network_only'] as const;
export type FieldClass = (typeof FIELD_CLASSES)[number];
export const isFieldClass = memberOf(FIELD_CLASSES);

export interface FieldSpec {
  readonly class: FieldClass;
  /** Fields a registered support person may see inside a declared emergency (outage contact). */
  readonly emergencyContact: boolean;
  readonly ja: string;
  readonly en: string;
}

/**
 * Fields of the supply point record (the customer record screen). Keys are the field keys of the legacy
 * access-log format (`formats.md`), so live and legacy logs name fields alike.
 */
export const SUPPLY_POINT_FIELDS = {
  supply_point_id: { class: 'public', emergencyContact: false, ja: '供給地点特定番号', en: 'Supply point ID' },
  address: { class: 'public', emergencyContact: true, ja: '供給地点住所', en: 'Address' },
  holder_name: { class: 'non_public', emergencyContact: true, ja: '契約名義', en: 'Contract holder' },
  phone: { class: 'non_public', emergencyContact: true, ja: '電話番号・連絡先', en: 'Phone / contact' },
  contracted_capacity: { class: 'non_public', emergencyContact: false, ja: '契約容量・契約電力', en: 'Contracted capacity' },
  retailer: { class: 'non_public', emergencyContact: false, ja: '小売電気事業者', en: 'Retailer' },
  usage: { class: 'non_public', emergencyContact: false, ja: '使用電力量', en: 'Usage (kWh)' },
  equipment: { class: 'non_public', emergencyContact: false, ja: '深夜機器設備情報', en: 'Night-time equipment' },
  meter: { class: 'non_public', emergencyContact: false, ja: '計器情報・検針日', en: 'Meter and reading day' },
  contract_history: { class: 'non_public', emergencyContact: false, ja: '契約履歴', en: 'Contract history' },
  customer_type: { class: 'non_public', emergencyContact: false, ja: '個人・法人', en: 'Customer type' },
  last_resort: { class: 'non_public', emergencyContact: false, ja: '最終保障供給', en: 'Last-resort supply' },
  network_notes: { class: 'network_only', emergencyContact: false, ja: '設備・保安情報', en: 'Network notes' },
} as const satisfies Record<string, FieldSpec>;

export type SupplyPointField = keyof typeof SUPPLY_POINT_FIELDS;

/** Every record type that can be served, with its fields. Add a record type here before serving it. */
export const MANIFEST = {
  supply_point: SUPPLY_POINT_FIELDS,
} as const satisfies Record<string, Record<string, FieldSpec>>;

export type RecordType = keyof typeof MANIFEST;

/** The fields of the supply point record in manifest order: the order every table and checklist uses. */
export const SUPPLY_POINT_FIELD_KEYS: readonly SupplyPointField[] = [
  'supply_point_id',
  'address',
  'holder_name',
  'phone',
  'contracted_capacity',
  'retailer',
  'usage',
  'equipment',
  'meter',
  'contract_history',
  'customer_type',
  'last_resort',
  'network_notes',
];

export const isSupplyPointField = memberOf(SUPPLY_POINT_FIELD_KEYS);

/** The fields a search result carries: enough to pick the right record, nothing more. */
export const SEARCH_FIELDS = ['supply_point_id', 'address', 'holder_name', 'customer_type'] as const satisfies readonly SupplyPointField[];
export type SearchField = (typeof SEARCH_FIELDS)[number];

/** The fields a search may be by: the address (public), or the holder's name or phone where the table allows. */
export const SEARCH_KINDS = ['address', 'holder_name', 'phone'] as const satisfies readonly SupplyPointField[];
export type SearchKind = (typeof SEARCH_KINDS)[number];
export const isSearchKind = memberOf(SEARCH_KINDS);

/**
 * Looks a field up. Unknown fields get `null`, which every caller must treat as "never serve".
 */
export function classify(recordType: string, field: string): FieldSpec | null {
  if (recordType !== 'supply_point') return null;
  return isSupplyPointField(field) ? SUPPLY_POINT_FIELDS[field] : null;
}

/**
 * Where every stored column of customer data goes: the served field it feeds, or `internal` with the reason
 * it never leaves the store as such. A test compares this with the live database schema, so a migration that
 * adds a column without deciding its fate fails the suite.
 */
export const COLUMN_MANIFEST: Readonly<Record<string, Readonly<Record<string, SupplyPointField | `internal:${string}`>>>> = {
  supply_points: {
    id: 'supply_point_id',
    area_code: 'internal:derived from the ID',
    postal_code: 'address',
    prefecture: 'address',
    city: 'address',
    town: 'address',
    street: 'address',
    building: 'address',
    address_text: 'internal:search key built from the address columns',
    meter_id: 'meter',
    reading_day: 'meter',
    equipment: 'equipment',
    usage_kwh: 'usage',
    usage_last_month: 'usage',
    network_notes: 'network_notes',
  },
  customers: {
    id: 'internal:join key',
    type: 'customer_type',
    name: 'holder_name',
    name_kana: 'holder_name',
    phone: 'phone',
    phone_digits: 'internal:search key, normalised phone',
  },
  contracts: {
    id: 'internal:surrogate key',
    supply_point_id: 'internal:join key',
    customer_id: 'internal:join key',
    retailer_code: 'retailer',
    capacity: 'contracted_capacity',
    capacity_unit: 'contracted_capacity',
    last_resort: 'last_resort',
    valid_from: 'contract_history',
    valid_to: 'contract_history',
  },
  retailers: {
    code: 'retailer',
    name: 'retailer',
    affiliated: 'internal:configuration of the affiliated retailer',
  },
};
