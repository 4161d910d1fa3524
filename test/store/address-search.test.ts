import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatAddress } from '../../src/domain/record.ts';
import { searchByAddress } from '../../src/store/customer-store.ts';
import type { Db } from '../../src/store/db.ts';
import { STORES } from '../support/stores.ts';

/**
 * The address search (issue 21) against a plain model: "the addresses that contain the term", in the documented
 * order — first those that begin with the term (read from the city, or from the prefecture when the term starts
 * with one), then the rest; within each by the address read from the city (code-point order), then by ID — over
 * addresses made of a few parts that recur, so terms hit both ranks, LIKE's special characters and case.
 */

interface Point {
  readonly id: string;
  readonly prefecture: string;
  readonly city: string;
  readonly town: string;
  readonly street: string;
  readonly building: string | null;
  readonly postalCode: string;
}

const PREFECTURES = ['宮城県', '岩手県', '東京都', '北海道'] as const;
const CITIES = ['仙台市青葉区', '仙台市若林区', '盛岡市', '青葉市', '市川町'] as const;
const TOWNS = ['一番町一丁目', '一番町', '中央通二丁目', '青葉', '本町'] as const;
const STREETS = ['1番1号', '2番2号', '12番3号', '3番_4号'] as const;
const BUILDINGS = [null, null, '青葉ビル3F', 'グランドハイツ201', 'Abcビル 10%', '仙台市青葉区ハイツ', 'abcビル'] as const;
const POSTAL = ['980-0811', '020-0021'] as const;

/** 400 points from a fixed linear congruential sequence: the same fixture on every run and engine. */
function fixture(): Point[] {
  let x = 2016;
  const pick = <T>(xs: readonly T[]): T => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return xs[(x >>> 8) % xs.length] as T;
  };
  return Array.from({ length: 400 }, (_, i) => ({
    id: `02${String(7919 * i + 13).padStart(20, '0')}`,
    prefecture: pick(PREFECTURES),
    city: pick(CITIES),
    town: pick(TOWNS),
    street: pick(STREETS),
    building: pick(BUILDINGS),
    postalCode: pick(POSTAL),
  }));
}

const keyOf = (p: Point) => `${p.city}${p.town}${p.street}${p.building === null ? '' : ` ${p.building}`}`;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The model: what the search must return, in order. */
function expected(points: readonly Point[], term: string): string[] {
  const lower = term.toLowerCase();
  const pref = /^(北海道|東京都|京都府|大阪府|\p{Script=Han}{2,3}県)(.+)$/u.exec(term);
  const first = (p: Point) =>
    pref?.[1] !== undefined && pref[2] !== undefined ? p.prefecture === pref[1] && keyOf(p).startsWith(pref[2]) : keyOf(p).startsWith(term);
  return points
    .filter((p) =>
      formatAddress({ ...p })
        .toLowerCase()
        .includes(lower),
    )
    .map((p) => ({ rank: first(p) ? 0 : 1, key: keyOf(p), id: p.id }))
    .sort((a, b) => a.rank - b.rank || cmp(a.key, b.key) || cmp(a.id, b.id))
    .map((r) => r.id);
}

const points = fixture();
const addresses = points.map((p) => formatAddress({ ...p }));
/** Terms: pieces of the stored addresses (prefixes from the prefecture or city, inner runs, case changed), and parts. */
const term = fc.oneof(
  fc.tuple(fc.nat(points.length - 1), fc.nat(30), fc.integer({ min: 1, max: 12 })).map(([i, from, len]) => {
    const a = addresses[i] ?? '';
    return a.slice(10 + (from % Math.max(1, a.length - 10)), 10 + (from % Math.max(1, a.length - 10)) + len);
  }),
  fc.tuple(fc.constantFrom(...PREFECTURES), fc.constantFrom(...CITIES), fc.nat(6)).map(([p, c, n]) => `${p}${c.slice(0, n)}`),
  fc.tuple(fc.constantFrom(...CITIES), fc.constantFrom(...TOWNS), fc.nat(6)).map(([c, t, n]) => `${c}${t.slice(0, n)}`),
  fc.constantFrom('ABC', 'abc', '10%', '_', '3番_4', '丁目', '一番町', '宮城県', '存在しない町', '\\'),
);

for (const store of STORES) {
  describe(`address search on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    before(async () => {
      const opened = await store.open();
      ({ db, dispose } = opened);
      await opened.owner.copyRows(
        'supply_points',
        ['id', 'area_code', 'postal_code', 'prefecture', 'city', 'town', 'street', 'building', 'address_text', 'meter_id', 'reading_day'],
        points.map((p, i) => [p.id, '02', p.postalCode, p.prefecture, p.city, p.town, p.street, p.building, addresses[i], `M${i}`, 1]),
      );
    });
    after(() => dispose());

    test('paging with `after` returns exactly the addresses containing the term, each once, in the documented order', async () => {
      await fc.assert(
        fc.asyncProperty(term, fc.integer({ min: 1, max: 40 }), async (t, size) => {
          const want = expected(points, t);
          const got: string[] = [];
          let cursor: string | undefined;
          for (;;) {
            // As the firewall asks: one more than the page, to know whether there is a next one.
            const found = await searchByAddress(db, t, { limit: size + 1, offset: 0, ...(cursor === undefined ? {} : { after: cursor }) });
            const pageIds = found.slice(0, size);
            got.push(...pageIds);
            if (found.length <= size || got.length > want.length) break;
            cursor = pageIds.at(-1);
          }
          assert.deepEqual(got, want, `term ${JSON.stringify(t)}, pages of ${size}`);
        }),
        { numRuns: 60 },
      );
    });

    test('an offset, with or without a cursor, skips that many results in the same order', async () => {
      await fc.assert(
        fc.asyncProperty(term, fc.integer({ min: 1, max: 30 }), fc.nat(120), fc.nat(60), async (t, limit, offset, at) => {
          const want = expected(points, t);
          assert.deepEqual(await searchByAddress(db, t, { limit, offset }), want.slice(offset, offset + limit), `term ${JSON.stringify(t)}`);
          const cursor = want[at];
          if (cursor !== undefined)
            assert.deepEqual(await searchByAddress(db, t, { limit, offset, after: cursor }), want.slice(at + 1 + offset, at + 1 + offset + limit));
        }),
        { numRuns: 60 },
      );
    });

    test('restricted to some supply points (a replica’s page confirmed on the primary), the order and matches hold', async () => {
      const t = '仙台市青葉区';
      const want = expected(points, t);
      const among = [...want.slice(0, 5), points[0]?.id ?? ''].reverse();
      assert.deepEqual(
        await searchByAddress(db, t, { limit: 10, offset: 0 }, among),
        want.filter((id) => among.includes(id)),
      );
    });

    test('a cursor that names no supply point ends the results', async () => {
      assert.deepEqual(await searchByAddress(db, '仙台市', { limit: 5, offset: 0, after: '0299999999999999999999' }), []);
    });
  });
}
