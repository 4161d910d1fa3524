import type { StoredContract, StoredSupplyPoint } from '../domain/record.ts';
import { statement, type Queryable } from './db.ts';

/**
 * Reads of customer data. Everything here returns stored rows for the firewall only: nothing in this file
 * may be handed to a route. Search functions return supply point IDs; records are fetched by `loadRecords`.
 */

interface ContractJson {
  retailer_code: string;
  retailer_name: string;
  capacity: number | string;
  capacity_unit: 'A' | 'kVA' | 'kW';
  last_resort: boolean;
  valid_from: string;
  valid_to: string | null;
  customer_type: 'individual' | 'corporate';
  holder_name: string;
  phone: string;
}

interface RecordRow extends Record<string, unknown> {
  id: string;
  area_code: string;
  postal_code: string;
  prefecture: string;
  city: string;
  town: string;
  street: string;
  building: string | null;
  meter_id: string;
  reading_day: number;
  equipment: string[];
  usage_kwh: number[];
  usage_last_month: string | null;
  network_notes: string | null;
  contracts: ContractJson[] | string;
}

const RECORD_SQL = statement(
  'gw_load_records',
  `
SELECT sp.id, sp.area_code, sp.postal_code, sp.prefecture, sp.city, sp.town, sp.street, sp.building,
       sp.meter_id, sp.reading_day, sp.equipment, sp.usage_kwh, sp.usage_last_month::text AS usage_last_month, sp.network_notes,
       coalesce((
         SELECT json_agg(json_build_object(
                  'retailer_code', c.retailer_code, 'retailer_name', r.name, 'capacity', c.capacity,
                  'capacity_unit', c.capacity_unit, 'last_resort', c.last_resort,
                  'valid_from', c.valid_from, 'valid_to', c.valid_to,
                  'customer_type', cu.type, 'holder_name', cu.name, 'phone', cu.phone)
                ORDER BY c.valid_from)
           FROM contracts c
           JOIN retailers r ON r.code = c.retailer_code
           JOIN customers cu ON cu.id = c.customer_id
          WHERE c.supply_point_id = sp.id), '[]'::json) AS contracts
  FROM supply_points sp
 WHERE sp.id = ANY($1::text[])`,
);

function monthsBack(last: Date, count: number): string[] {
  const months: string[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() - i, 1));
    months.push(d.toISOString().slice(0, 7));
  }
  return months;
}

function toContract(c: ContractJson): StoredContract {
  return {
    retailerCode: c.retailer_code,
    retailerName: c.retailer_name,
    capacity: Number(c.capacity),
    capacityUnit: c.capacity_unit,
    lastResort: c.last_resort,
    validFrom: new Date(c.valid_from),
    validTo: c.valid_to === null ? null : new Date(c.valid_to),
    customerType: c.customer_type,
    holderName: c.holder_name,
    phone: c.phone,
  };
}

function toStored(row: RecordRow): StoredSupplyPoint {
  const contracts: ContractJson[] = typeof row.contracts === 'string' ? (JSON.parse(row.contracts) as ContractJson[]) : row.contracts;
  const last = row.usage_last_month === null ? null : new Date(`${row.usage_last_month}T00:00:00Z`);
  const months = last === null ? [] : monthsBack(last, row.usage_kwh.length);
  return {
    id: row.id,
    areaCode: row.area_code,
    address: { postalCode: row.postal_code, prefecture: row.prefecture, city: row.city, town: row.town, street: row.street, building: row.building },
    meterId: row.meter_id,
    readingDay: row.reading_day,
    equipment: row.equipment,
    usage: row.usage_kwh.map((kwh, i) => ({ month: months[i] ?? '', kwh })),
    networkNotes: row.network_notes,
    contracts: contracts.map(toContract),
  };
}

/** Loads full records for these IDs, in the order given; unknown IDs are left out. */
export async function loadRecords(db: Queryable, ids: readonly string[]): Promise<StoredSupplyPoint[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<RecordRow>(RECORD_SQL, [ids]);
  const byId = new Map(rows.map((r) => [r.id, toStored(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export interface Page {
  readonly limit: number;
  readonly offset: number;
}

/** Restricts a search to supply points whose current (non-last-resort) retailer is this one. */
export interface RetailerScope {
  readonly retailerCode: string;
}

function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Supply points whose address contains the term (public: anyone may search by it). */
export async function searchByAddress(db: Queryable, term: string, page: Page): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM supply_points WHERE address_text ILIKE $1 ORDER BY id LIMIT $2 OFFSET $3`, [
    `%${escapeLike(term)}%`,
    page.limit,
    page.offset,
  ]);
  return rows.map((r) => r.id);
}

const CURRENT = `c.valid_from <= $2 AND (c.valid_to IS NULL OR c.valid_to > $2)`;

/**
 * Supply points whose current holder's name contains the term. Searching by a non-public field is a
 * disclosure, so the caller passes the scope the firewall allows; `null` scope means all supply points.
 */
export async function searchByHolderName(db: Queryable, term: string, at: Date, scope: RetailerScope | null, page: Page): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT c.supply_point_id AS id
       FROM customers cu JOIN contracts c ON c.customer_id = cu.id
      WHERE cu.name ILIKE $1 AND ${CURRENT}
        AND ($3::text IS NULL OR (c.retailer_code = $3 AND NOT c.last_resort))
      ORDER BY id LIMIT $4 OFFSET $5`,
    [`%${escapeLike(term)}%`, at, scope?.retailerCode ?? null, page.limit, page.offset],
  );
  return rows.map((r) => r.id);
}

/** Supply points whose current holder has this phone number (digits only). Scoped as for names. */
export async function searchByPhone(db: Queryable, digits: string, at: Date, scope: RetailerScope | null, page: Page): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT c.supply_point_id AS id
       FROM customers cu JOIN contracts c ON c.customer_id = cu.id
      WHERE cu.phone_digits = $1 AND ${CURRENT}
        AND ($3::text IS NULL OR (c.retailer_code = $3 AND NOT c.last_resort))
      ORDER BY id LIMIT $4 OFFSET $5`,
    [digits, at, scope?.retailerCode ?? null, page.limit, page.offset],
  );
  return rows.map((r) => r.id);
}
