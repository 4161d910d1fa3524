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
  /** Rows to skip after the cursor (or from the first). Each skipped row is read: keep it small, or use `after`. */
  readonly offset: number;
  /**
   * Keyset paging: the results that come after this supply point in the search's order (the last ID of the
   * previous page), so a page deep in a long result costs what the first does. Absent: from the first.
   */
  readonly after?: string;
}

/** Restricts a search to supply points whose current (non-last-resort) retailer is this one. */
export interface RetailerScope {
  readonly retailerCode: string;
}

function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Restricts a search to these supply points (`among`): a search run on a read replica is confirmed on the
 * primary by running it again over the IDs the replica found, so that a point that no longer matches there (a
 * contract ended, a holder changed seconds ago) is left out. Null: no restriction.
 */
/**
 * The address read from the city, in C order: the key of the index `supply_points_address_order` (migration
 * 020), written exactly as there so that the planner uses it for the order and for `LIKE 'prefix%'`.
 */
const ADDRESS_KEY = `((city || town || street || coalesce(' ' || building, '')) COLLATE "C")`;

/** A term that begins with a prefecture's name (宮城県仙台市…): the prefecture and the rest. */
const PREFECTURE_FIRST = /^(北海道|東京都|京都府|大阪府|\p{Script=Han}{2,3}県)(.+)$/u;

/** One statement's parameters: `arg` adds a value and gives its placeholder. */
function parameters(): { readonly values: unknown[]; arg: (v: unknown) => string } {
  const values: unknown[] = [];
  return { values, arg: (v) => `$${values.push(v)}` };
}

/**
 * Which matches of an address term come first: those whose address begins with it — read from the city
 * (仙台市青葉区…), or from the prefecture when the term names one (宮城県仙台市青葉区…). Each is a range of the
 * address-order index, so a page of them is one short index read. Whatever this condition is, it only ever
 * selects addresses that contain the term, so the two ranks together are exactly the addresses containing it.
 */
function beginsWith(term: string, arg: (v: unknown) => string): string {
  const m = PREFECTURE_FIRST.exec(term);
  if (m?.[1] !== undefined && m[2] !== undefined) return `(prefecture = ${arg(m[1])} AND ${ADDRESS_KEY} LIKE ${arg(`${escapeLike(m[2])}%`)})`;
  return `(${ADDRESS_KEY} LIKE ${arg(`${escapeLike(term)}%`)})`;
}

interface AddressCursor {
  readonly rank: 0 | 1;
  readonly key: string;
  readonly id: string;
}

/**
 * Supply points whose address contains the term (public: anyone may search by it), in a documented order:
 * first those whose address begins with the term (`beginsWith`), then the others; within each, by the address
 * read from the city (city, town, street, building; C order), then by ID. A term that begins addresses —
 * the usual call-centre search, a city or a full address — is served page by page from the address-order
 * B-tree and stops at the page's end however many points match; the others come from the trigram index, whose
 * work grows with the number of matches (or from the address-order walk when most addresses match), and are
 * reached only once the first rank is exhausted. `after` continues after that supply point in this order (a
 * point that no longer exists ends the results).
 */
export async function searchByAddress(db: Queryable, term: string, page: Page, among: readonly string[] | null = null): Promise<string[]> {
  let from: AddressCursor | null = null;
  if (page.after !== undefined) {
    const q = parameters();
    const { rows } = await db.query<{ key: string; first: boolean }>(
      `SELECT ${ADDRESS_KEY} AS key, ${beginsWith(term, q.arg)} AS first FROM supply_points WHERE id = ${q.arg(page.after)}`,
      q.values,
    );
    const row = rows[0];
    if (row === undefined) return [];
    from = { rank: row.first ? 0 : 1, key: row.key, id: page.after };
  }
  const ranked = async (rank: 0 | 1, after: AddressCursor | null, limit: number, offset: number): Promise<string[]> => {
    const q = parameters();
    const condition = rank === 0 ? beginsWith(term, q.arg) : `address_text ILIKE ${q.arg(`%${escapeLike(term)}%`)} AND NOT ${beginsWith(term, q.arg)}`;
    const restrict = among === null ? '' : `AND id = ANY(${q.arg(among)}::text[])`;
    const keyset = after === null ? '' : `AND (${ADDRESS_KEY}, id) > (${q.arg(after.key)}, ${q.arg(after.id)})`;
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM supply_points WHERE ${condition} ${restrict} ${keyset} ORDER BY ${ADDRESS_KEY}, id LIMIT ${q.arg(limit)} OFFSET ${q.arg(offset)}`,
      q.values,
    );
    return rows.map((r) => r.id);
  };
  let ids: string[] = [];
  let offset = page.offset;
  if (from === null || from.rank === 0) {
    ids = await ranked(0, from, page.limit, offset);
    if (ids.length === page.limit) return ids;
    // An offset that reaches past the first rank: what is left of it applies to the second.
    offset = ids.length === 0 && offset > 0 ? offset - (await ranked(0, from, offset, 0)).length : 0;
  }
  return [...ids, ...(await ranked(1, from?.rank === 1 ? from : null, page.limit - ids.length, offset))];
}

/**
 * Supply points whose current holder matches (`match` builds the condition on `cu`, the customer, from its
 * argument), in ID order; `after` continues after the previous page's last ID. Scoped as the caller says.
 */
async function searchHolders(
  db: Queryable,
  match: (arg: (v: unknown) => string) => string,
  at: Date,
  scope: RetailerScope | null,
  page: Page,
  among: readonly string[] | null,
): Promise<string[]> {
  const q = parameters();
  const when = q.arg(at);
  const retailer = q.arg(scope?.retailerCode ?? null);
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT c.supply_point_id AS id
       FROM customers cu JOIN contracts c ON c.customer_id = cu.id
      WHERE ${match(q.arg)} AND c.valid_from <= ${when} AND (c.valid_to IS NULL OR c.valid_to > ${when})
        AND (${retailer}::text IS NULL OR (c.retailer_code = ${retailer} AND NOT c.last_resort))
        ${among === null ? '' : `AND c.supply_point_id = ANY(${q.arg(among)}::text[])`}
        ${page.after === undefined ? '' : `AND c.supply_point_id > ${q.arg(page.after)}`}
      ORDER BY id LIMIT ${q.arg(page.limit)} OFFSET ${q.arg(page.offset)}`,
    q.values,
  );
  return rows.map((r) => r.id);
}

/**
 * Supply points whose current holder's name contains the term. Searching by a non-public field is a
 * disclosure, so the caller passes the scope the firewall allows; `null` scope means all supply points.
 */
export function searchByHolderName(
  db: Queryable,
  term: string,
  at: Date,
  scope: RetailerScope | null,
  page: Page,
  among: readonly string[] | null = null,
): Promise<string[]> {
  return searchHolders(db, (arg) => `cu.name ILIKE ${arg(`%${escapeLike(term)}%`)}`, at, scope, page, among);
}

/** Supply points whose current holder has this phone number (digits only). Scoped as for names. */
export function searchByPhone(
  db: Queryable,
  digits: string,
  at: Date,
  scope: RetailerScope | null,
  page: Page,
  among: readonly string[] | null = null,
): Promise<string[]> {
  return searchHolders(db, (arg) => `cu.phone_digits = ${arg(digits)}`, at, scope, page, among);
}
