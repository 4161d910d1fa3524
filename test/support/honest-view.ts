import assert from 'node:assert/strict';
import { COLUMN_MANIFEST, SUPPLY_POINT_FIELDS, isSupplyPointField, type SupplyPointField } from '../../src/domain/classification.ts';
import type { StoredSupplyPoint } from '../../src/domain/record.ts';
import type { Queryable } from '../../src/store/db.ts';

/**
 * The one check every suite that looks at record views runs (issue 14): a masked field carries its reason
 * and nothing else, and the stored value of a masked field appears nowhere in what was sent.
 *
 * Probes found that a masking step leaving `value` on a field masked `network_only` or
 * `purpose_not_permitted` passed every suite, because the suites compared only `shown` and `reason`.
 */

/** Supply point ID → field → the raw values stored for it (every contract, holder and retailer of the point). */
export type RawValues = ReadonlyMap<string, Readonly<Partial<Record<SupplyPointField, readonly unknown[]>>>>;

/** What one check looked at, so a table-driven test can show it reached the cases it is about. */
export interface HonestViewStats {
  readonly views: number;
  /** Masked fields seen, by the reason shown. */
  readonly masked: Readonly<Record<string, number>>;
  /** Raw values searched for in the body (and found absent). */
  readonly searched: number;
}

interface WireView {
  readonly supplyPointId: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isView(v: unknown): v is WireView {
  return isObject(v) && typeof v['supplyPointId'] === 'string' && isObject(v['fields']);
}

/** The record views in a response body: one view, a search page (`items`), or none (a refusal). */
function viewsIn(body: unknown): WireView[] {
  if (isView(body)) return [body];
  if (isObject(body) && Array.isArray(body['items'])) {
    return body['items'].map((item, i) => {
      assert.ok(isView(item), `items[${i}] is not a record view: ${JSON.stringify(item)}`);
      return item;
    });
  }
  return [];
}

/**
 * The strings by which a raw value would show in JSON. Values too short or too common to tell apart from
 * the rest of a body (booleans, null, one- and two-digit numbers, strings under three characters) are left
 * out; the shape check above catches a value left on a masked field whatever it is.
 */
function needles(raw: unknown): { text: string; number: boolean }[] {
  if (raw === null || raw === undefined || typeof raw === 'boolean') return [];
  if (raw instanceof Date) return [{ text: raw.toISOString(), number: false }];
  if (Array.isArray(raw)) return raw.flatMap(needles);
  if (typeof raw === 'number' || typeof raw === 'bigint') return Math.abs(Number(raw)) >= 100 ? [{ text: String(raw), number: true }] : [];
  if (typeof raw === 'string') {
    const t = raw.trim();
    // A string of digits (a phone number, a numeric column read as text) is matched whole, as written.
    return t.length >= 3 ? [{ text: t, number: /^\d+$/.test(t) }] : [];
  }
  if (isObject(raw)) return Object.values(raw).flatMap(needles);
  return [];
}

function occursIn(text: string, n: { text: string; number: boolean }): boolean {
  if (!n.number) return text.includes(n.text);
  // A number counts only as a whole token: 300 is not in 2300, in 0200000000000000000033 or in a320b.
  return new RegExp(`(?<![0-9A-Za-z.])${n.text.replace('.', '\\.')}(?![0-9A-Za-z])`).test(text);
}

/**
 * Asserts that a response body (a record view, a search page, or a refusal) is honest:
 * - every field of every view is `{shown: true, value}` or `{shown: false, reason}` with nothing else;
 * - with `raw`, no stored value of a masked field appears anywhere in the serialized body (unless the same
 *   value is legitimately shown, e.g. one holder of two points, one masked and one shown);
 * - with `raw` and `refusedFor` (a refusal of a read of that point), no stored value of any non-public field
 *   of that point appears in the body.
 */
export function assertHonestView(body: unknown, raw?: RawValues, refusedFor?: string): HonestViewStats {
  const views = viewsIn(body);
  const masked: Record<string, number> = {};
  const shownValues: unknown[] = [];
  for (const v of views) {
    for (const [field, fv] of Object.entries(v.fields)) {
      assert.ok(isObject(fv), `${v.supplyPointId} ${field} is not a field view: ${JSON.stringify(fv)}`);
      const keys = Object.keys(fv).sort();
      if (fv['shown'] === true) {
        assert.deepEqual(keys, ['shown', 'value'], `${v.supplyPointId} ${field}: a shown field is {shown, value}`);
        shownValues.push(fv['value']);
      } else {
        assert.equal(fv['shown'], false, `${v.supplyPointId} ${field}: shown is true or false`);
        assert.deepEqual(keys, ['reason', 'shown'], `${v.supplyPointId} ${field} is masked (${String(fv['reason'])}) but carries more than its reason`);
        assert.ok(typeof fv['reason'] === 'string' && fv['reason'] !== '', `${v.supplyPointId} ${field}: a masked field names its reason`);
        masked[fv['reason']] = (masked[fv['reason']] ?? 0) + 1;
      }
    }
  }
  let searched = 0;
  if (raw === undefined) return { views: views.length, masked, searched };
  // Request IDs are random UUIDs: their digits would match stored numbers by chance.
  const text = JSON.stringify(body).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>');
  const legitimate = JSON.stringify([shownValues, views.map((v) => v.supplyPointId)]);
  const mustNotShow = (spId: string, field: SupplyPointField, why: string) => {
    for (const n of (raw.get(spId)?.[field] ?? []).flatMap(needles)) {
      if (occursIn(legitimate, n)) continue;
      searched++;
      assert.ok(!occursIn(text, n), `${why}: the stored value ${JSON.stringify(n.text)} of ${field} of ${spId} is in the body`);
    }
  };
  for (const v of views) {
    for (const [field, fv] of Object.entries(v.fields)) {
      if (isObject(fv) && fv['shown'] === false && isSupplyPointField(field))
        mustNotShow(v.supplyPointId, field, `${field} is masked (${String(fv['reason'])})`);
    }
  }
  if (refusedFor !== undefined && views.length === 0) {
    for (const field of Object.keys(SUPPLY_POINT_FIELDS)) {
      if (isSupplyPointField(field) && SUPPLY_POINT_FIELDS[field].class !== 'public') mustNotShow(refusedFor, field, 'the read was refused');
    }
  }
  return { views: views.length, masked, searched };
}

/** Adds one check's stats to a running total. */
export function addStats(total: { views: number; masked: Record<string, number>; searched: number }, s: HonestViewStats): void {
  total.views += s.views;
  total.searched += s.searched;
  for (const [r, n] of Object.entries(s.masked)) total.masked[r] = (total.masked[r] ?? 0) + n;
}

function push(out: Map<string, Partial<Record<SupplyPointField, unknown[]>>>, spId: string, field: string, value: unknown): void {
  if (!isSupplyPointField(field)) return; // `internal:` columns never leave the store as such
  const fields = out.get(spId) ?? {};
  (fields[field] ??= []).push(value);
  out.set(spId, fields);
}

/**
 * The raw values of every supply point, read from the customer tables directly (not through the firewall),
 * each column filed under the field the classification manifest maps it to.
 */
export async function seededRawValues(db: Queryable): Promise<RawValues> {
  const out = new Map<string, Partial<Record<SupplyPointField, unknown[]>>>();
  const manifest = (table: string) => COLUMN_MANIFEST[table] ?? assert.fail(`no column manifest for ${table}`);
  const points = (await db.query<Record<string, unknown>>('SELECT * FROM supply_points')).rows;
  const contracts = (await db.query<Record<string, unknown>>('SELECT * FROM contracts')).rows;
  const customers = new Map((await db.query<Record<string, unknown>>('SELECT * FROM customers')).rows.map((r) => [r['id'], r] as const));
  const retailers = new Map((await db.query<Record<string, unknown>>('SELECT * FROM retailers')).rows.map((r) => [r['code'], r] as const));
  assert.ok(points.length > 0 && contracts.length > 0, 'no customer data seeded');
  const file = (spId: string, table: string, row: Record<string, unknown> | undefined) => {
    if (row === undefined) return;
    for (const [column, value] of Object.entries(row)) {
      const field = manifest(table)[column];
      if (field !== undefined) push(out, spId, field, value);
    }
  };
  for (const p of points) file(String(p['id']), 'supply_points', p);
  for (const c of contracts) {
    const spId = String(c['supply_point_id']);
    file(spId, 'contracts', c);
    file(spId, 'customers', customers.get(c['customer_id']));
    file(spId, 'retailers', retailers.get(c['retailer_code']));
  }
  return out;
}

/** The raw values of a record built in memory (property tests), filed as `seededRawValues` files the store's. */
export function rawValuesOf(sp: StoredSupplyPoint): RawValues {
  const out = new Map<string, Partial<Record<SupplyPointField, unknown[]>>>();
  const put = (field: SupplyPointField, ...values: unknown[]) => values.forEach((v) => push(out, sp.id, field, v));
  put('supply_point_id', sp.id);
  put('address', ...Object.values(sp.address));
  put('meter', sp.meterId, sp.readingDay);
  put('equipment', sp.equipment);
  put(
    'usage',
    sp.usage.map((u) => u.kwh),
  );
  put('network_notes', sp.networkNotes);
  for (const c of sp.contracts) {
    put('holder_name', c.holderName);
    put('phone', c.phone);
    put('customer_type', c.customerType);
    put('contracted_capacity', c.capacity, c.capacityUnit);
    put('retailer', c.retailerCode, c.retailerName);
    put('last_resort', c.lastResort);
    put('contract_history', c.validFrom, c.validTo);
  }
  return out;
}
