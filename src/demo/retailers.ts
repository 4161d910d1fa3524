import type { AreaSpec } from './places.ts';
import { RETAIL_BRANDS, RETAIL_KINDS } from './names.ts';
import type { Rng } from './rng.ts';

export const AFFILIATED_CODE = 'A0001';
export const AFFILIATED_NAME = '北日本電力株式会社';
export const NETWORK_OPERATOR_NAME = '北日本電力ネットワーク株式会社';
export const LAST_RESORT_CODE = 'NW000';
export const LAST_RESORT_NAME = '北日本電力ネットワーク（最終保障供給）';
/** New entrants: R0002 … R0150. R0002 is the biggest (Zipf rank 1). */
export const NEW_ENTRANTS = 149;

export interface DemoRetailer {
  readonly code: string;
  readonly name: string;
  readonly affiliated: boolean;
}

/** The first three are fixed so the biggest new entrants read the same in every demo and in the test fixture. */
const FIXED = ['みらいでんき株式会社', 'あおばエナジー株式会社', 'ひかりパワー合同会社'];

function brandName(rng: Rng, places: readonly string[]): string {
  const r = rng.next();
  const brand = rng.chance(0.2) ? rng.pick(places) : rng.pick(RETAIL_BRANDS);
  const kind = rng.pick(RETAIL_KINDS);
  if (r < 0.55) return `${brand}${kind}株式会社`;
  if (r < 0.7) return `株式会社${brand}${kind}`;
  if (r < 0.82) return `${brand}${kind}合同会社`;
  if (r < 0.88) return `${brand}ガス株式会社`;
  if (r < 0.93) return `株式会社${brand}ケーブルネット`;
  if (r < 0.97) return `生活協同組合コープ${brand}`;
  return `一般社団法人${brand}地域エネルギー`;
}

/** A0001 (affiliated), R0002…R0150 (new entrants, fictional names), NW000 (last-resort supply by the network operator). */
export function makeRetailers(rng: Rng, area: AreaSpec): DemoRetailer[] {
  const places = area.prefectures.map((p) => p.name.replace(/[都道府県]$/, ''));
  const names = new Set<string>(FIXED);
  let guard = 0;
  while (names.size < NEW_ENTRANTS && guard++ < 100_000) names.add(brandName(rng, places));
  if (names.size < NEW_ENTRANTS) throw new Error('could not make enough distinct retailer names');
  const others = [...names].slice(0, NEW_ENTRANTS).map((name, i) => ({ code: `R${String(i + 2).padStart(4, '0')}`, name, affiliated: false }));
  return [{ code: AFFILIATED_CODE, name: AFFILIATED_NAME, affiliated: true }, ...others, { code: LAST_RESORT_CODE, name: LAST_RESORT_NAME, affiliated: false }];
}
