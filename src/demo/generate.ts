/**
 * Generates a realistic demo area into an empty, migrated store: retailers, supply points with addresses,
 * meters and usage, customers, 10–25 years of contracts (liberalisation in 2016-04, switches, moves, vacant
 * premises, last-resort supply), and the people side (organizations, staff, accounts, terminals, personas).
 *
 * Deterministic for a given seed (own PRNG, no Math.random). Supply points are generated and loaded in
 * chunks, so a million of them never sit in memory at once.
 */
import { DAY_MS, JST_OFFSET_MS } from '../domain/japan-time.ts';
import { formatAddress } from '../domain/record.ts';
import type { AreaCode } from '../domain/supply-point.ts';
import { ident, type Db } from '../store/db.ts';
import {
  APARTMENTS,
  CHAINS,
  FEMALE_GIVEN,
  GENERIC_WORDS,
  INDUSTRIES,
  KANJI_DIGITS,
  MALE_GIVEN,
  NETWORK_NOTES,
  OFFICE_BUILDINGS,
  SHOPS,
  SURNAMES,
  type Word,
} from './names.ts';
import { INQUIRY_SITE_POOL, seedInquiries, type InquirySite } from './inquiries.ts';
import { demoGrants, GRANT_COLUMNS, makePeople, type Persona } from './people.ts';
import { AREAS, GENERIC_TOWNS, type AreaSpec } from './places.ts';
import { AFFILIATED_CODE, LAST_RESORT_CODE, makeRetailers, type DemoRetailer } from './retailers.ts';
import { Rng, Weighted, at, hash32, permute24, streamSeed, zipfWeights } from './rng.ts';

export type { Persona } from './people.ts';

export interface DemoOptions {
  supplyPoints: number;
  seed: number;
  /** Default '02' (東北). */
  areaCode?: AreaCode;
  now: Date;
  onProgress?: (msg: string) => void;
}

export interface DemoSummary {
  supplyPoints: number;
  customers: number;
  contracts: number;
  retailers: number;
  persons: number;
  terminals: number;
  /** Inquiries of the last 30 days (retailers asking the network operator), and how many of them wait in the queue now. */
  inquiries: number;
  inquiryQueue: number;
  personas: Persona[];
}

const CHUNK = 50_000;
const MAX_SUPPLY_POINTS = 10_000_000; // the ID permutation works on 2^24 sequence numbers

// ---------------------------------------------------------------------------------------------------------
// Days. Contracts start and end at midnight JST; days are counted from 1970-01-01 (JST).

const dayOfDate = (d: Date): number => Math.floor((d.getTime() + JST_OFFSET_MS) / DAY_MS);
const dayOf = (ymd: string): number => Math.floor(Date.parse(`${ymd}T00:00:00Z`) / DAY_MS);
const ymdOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const tsCache = new Map<number, string>();
function timestamp(day: number): string {
  let s = tsCache.get(day);
  if (s === undefined) {
    s = `${ymdOf(day)}T00:00:00+09:00`;
    tsCache.set(day, s);
  }
  return s;
}

const DAY_2000 = dayOf('2000-01-01');
const DAY_LAST_REGULATED = dayOf('2016-03-31');
/** Full retail liberalisation: from this day a customer may switch. */
const DAY_LIBERALISED = dayOf('2016-04-01');
const DAY_2022_04 = dayOf('2022-04-01');

// ---------------------------------------------------------------------------------------------------------
// Places, prepared once per run.

interface Town {
  readonly name: string;
  readonly postal: string;
  readonly chome: number;
}

interface City {
  readonly prefecture: string;
  readonly name: string;
  readonly phone: string;
  readonly code: string;
  readonly towns: readonly Town[];
}

function prepareCities(rng: Rng, area: AreaSpec): Weighted<City> {
  const cities: City[] = [];
  const weights: number[] = [];
  for (const pref of area.prefectures) {
    for (const [name, postal, phone, weight, own] of pref.cities) {
      const generic = rng.shuffled(GENERIC_TOWNS.filter((t) => !own.includes(t))).slice(0, rng.int(10, 16));
      const used = new Set<number>();
      const towns = [...own, ...generic].map((t): Town => {
        let n = rng.int(1, 899);
        while (used.has(n)) n = (n % 899) + 1;
        used.add(n);
        return { name: t, postal: `${postal}-${String(n).padStart(4, '0')}`, chome: rng.int(1, 5) };
      });
      cities.push({ prefecture: pref.name, name, phone, code: String(101 + cities.length * 7).padStart(3, '0'), towns });
      weights.push(weight);
    }
  }
  return new Weighted(cities, weights);
}

// ---------------------------------------------------------------------------------------------------------
// One run of the generator: all the state that lives across chunks.

type Unit = 'A' | 'kVA' | 'kW';
interface Holder {
  readonly id: string;
  /** The name as stored (what a customer's consent must name). */
  readonly name: string;
  readonly type: 'individual' | 'corporate';
  readonly cap: number;
  readonly unit: Unit;
}
interface Chain {
  readonly id: string;
  readonly name: string;
  remaining: number;
  /** Retailers in order (the first is the affiliated one) and the days of the switches between them. */
  readonly retailers: readonly string[];
  readonly switchDays: readonly number[];
}
type SiteKind = 'residential' | 'commercial' | 'chain';
type SiteState = 'active' | 'vacant' | 'last_resort';

const RESIDENTIAL_AMPS = new Weighted([20, 30, 40, 50, 60], [8, 35, 30, 17, 10]);
const MOBILE_PREFIX = new Weighted(['090', '080', '070'], [50, 35, 15]);
const SEASON_RESIDENTIAL = [1.38, 1.35, 1.18, 0.95, 0.8, 0.78, 0.92, 1.08, 0.9, 0.85, 1.02, 1.25];
const SEASON_COMMERCIAL = [1.12, 1.1, 1.02, 0.92, 0.9, 0.98, 1.12, 1.2, 1.05, 0.92, 0.95, 1.06];
const HEATING_SEASON = [1, 1, 0.7, 0.2, 0, 0, 0, 0, 0, 0.2, 0.6, 1];

/** Shares of supply points (of all) and of outcomes. Tuned so customers are ~88% individuals and the affiliated retailer holds ~72%. */
const P_COMMERCIAL = 0.17;
const P_CHAIN_OF_COMMERCIAL = 0.2;
const P_VACANT = 0.03;
const P_LAST_RESORT_OF_COMMERCIAL = 0.037;
const P_AFFILIATED = { residential: 0.74, commercial: 0.66, chain: 0.6 } as const;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const digits = (rng: Rng, width: number): string => pad(Math.floor(rng.next() * 10 ** width), width);

class Generator {
  private readonly rng: Rng;
  private readonly cities: Weighted<City>;
  private readonly others: Weighted<string>;
  private readonly surnames = new Weighted(SURNAMES, zipfWeights(SURNAMES.length, 0.7));
  private readonly words: readonly Word[];
  private readonly nowDay: number;
  private readonly usageMonths: { readonly month: number; readonly startDay: number }[];
  readonly usageLastMonth: string;
  private readonly nowYear: number;
  private readonly idKey: number;
  private readonly meterKey: number;
  private chain: Chain | null = null;
  /** The contract written last (of the supply point being generated, the one that holds now when it has no end). */
  private lastContract: { holder: Holder; retailer: string; from: number; to: number | null } | null = null;
  /** Which supply points the inquiry history may ask about: a fixed sample, kept as they are generated. */
  private readonly siteKey: number;
  private readonly siteThreshold: number;
  readonly inquirySites: InquirySite[] = [];
  customers = 0;
  contracts = 0;

  // Rows of the chunk being built.
  spRows: unknown[][] = [];
  customerRows: unknown[][] = [];
  contractRows: unknown[][] = [];

  constructor(
    seed: number,
    private readonly areaCode: AreaCode,
    area: AreaSpec,
    retailers: readonly DemoRetailer[],
    now: Date,
    private readonly total: number,
  ) {
    this.rng = new Rng(streamSeed(seed, 3));
    this.cities = prepareCities(new Rng(streamSeed(seed, 2)), area);
    const newEntrants = retailers.filter((r) => !r.affiliated && r.code !== LAST_RESORT_CODE).map((r) => r.code);
    this.others = new Weighted(newEntrants, zipfWeights(newEntrants.length, 1.1));
    this.words = [...area.words, ...GENERIC_WORDS];
    this.nowDay = dayOfDate(now);
    // Usage: the twelve months up to the month before `now` (JST), oldest first.
    const local = new Date(now.getTime() + JST_OFFSET_MS);
    this.nowYear = local.getUTCFullYear();
    const lastMonth = local.getUTCFullYear() * 12 + local.getUTCMonth() - 1;
    this.usageLastMonth = `${Math.floor(lastMonth / 12)}-${pad((lastMonth % 12) + 1, 2)}-01`;
    this.usageMonths = Array.from({ length: 12 }, (_, j) => {
      const m = lastMonth - 11 + j;
      return { month: m % 12, startDay: Math.floor(Date.UTC(Math.floor(m / 12), m % 12, 1) / DAY_MS) };
    });
    this.idKey = streamSeed(seed, 10);
    this.meterKey = streamSeed(seed, 11);
    this.siteKey = streamSeed(seed, 12);
    // About INQUIRY_SITE_POOL of them, whatever the size (every one in a small demo); a hash, not the PRNG, so
    // the rest of the data is the same with or without the sample.
    this.siteThreshold = Math.min(1, INQUIRY_SITE_POOL / total) * 2 ** 32;
  }

  takeChunk(): { sp: unknown[][]; customers: unknown[][]; contracts: unknown[][] } {
    const out = { sp: this.spRows, customers: this.customerRows, contracts: this.contractRows };
    this.spRows = [];
    this.customerRows = [];
    this.contractRows = [];
    return out;
  }

  // --- customers -----------------------------------------------------------------------------------------

  private customerId(): string {
    this.customers++;
    return `C${pad(this.customers, 9)}`;
  }

  private mobile(): string {
    return `${MOBILE_PREFIX.sample(this.rng)}-${digits(this.rng, 4)}-${digits(this.rng, 4)}`;
  }

  /** A fixed-line number in the city's area code: 10 digits with the leading 0, e.g. 022-XXX-XXXX, 0178-XX-XXXX. */
  private landline(city: City): string {
    const exchange = 10 - city.phone.length - 4;
    return `${city.phone}-${this.rng.int(2, 9)}${digits(this.rng, exchange - 1)}-${digits(this.rng, 4)}`;
  }

  private addCustomer(type: 'individual' | 'corporate', name: string, kana: string, phone: string): string {
    const id = this.customerId();
    this.customerRows.push([id, type, name, kana, phone, phone.replace(/\D/g, '')]);
    return id;
  }

  private individual(city: City): Holder {
    const rng = this.rng;
    const sur = this.surnames.sample(rng);
    const given = rng.pick(rng.chance(0.5) ? FEMALE_GIVEN : MALE_GIVEN);
    const phone = rng.chance(0.78) ? this.mobile() : this.landline(city);
    const name = `${sur[0]} ${given[0]}`;
    const id = this.addCustomer('individual', name, `${sur[1]} ${given[1]}`, phone);
    return { id, name, type: 'individual', cap: RESIDENTIAL_AMPS.sample(rng), unit: 'A' };
  }

  private corporateName(): Word {
    const rng = this.rng;
    const w = rng.pick(this.words);
    const r = rng.next();
    if (r < 0.4) {
      const ind = rng.pick(INDUSTRIES);
      return [`株式会社${w[0]}${ind[0]}`, `${w[1]}${ind[1]}`];
    }
    if (r < 0.55) {
      const ind = rng.pick(INDUSTRIES);
      return [`${w[0]}${ind[0]}株式会社`, `${w[1]}${ind[1]}`];
    }
    if (r < 0.7) {
      const sur = this.surnames.sample(rng);
      const shop = rng.pick(SHOPS);
      return [`有限会社${sur[0]}${shop[0]}`, `${sur[1]}${shop[1]}`];
    }
    if (r < 0.78) return [`医療法人 ${w[0]}会`, `${w[1]}カイ`];
    if (r < 0.83) return [`社会福祉法人 ${w[0]}福祉会`, `${w[1]}フクシカイ`];
    if (r < 0.87) {
      const ind = rng.pick(INDUSTRIES);
      return [`合同会社${w[0]}${ind[0]}`, `${w[1]}${ind[1]}`];
    }
    if (r < 0.91) return [`学校法人 ${w[0]}学園`, `${w[1]}ガクエン`];
    if (r < 0.95)
      return r < 0.93 ? [`${w[0]}農業協同組合`, `${w[1]}ノウギョウキョウドウクミアイ`] : [`${w[0]}漁業協同組合`, `${w[1]}ギョギョウキョウドウクミアイ`];
    return [`一般社団法人${w[0]}観光協会`, `${w[1]}カンコウキョウカイ`];
  }

  private corporatePhone(city: City): string {
    return this.rng.chance(0.85) ? this.landline(city) : this.mobile();
  }

  private corporateCapacity(highVoltage: boolean): { cap: number; unit: Unit } {
    const rng = this.rng;
    const r = rng.next();
    const skew = rng.next() ** 2;
    if (highVoltage || r >= 0.8) return { cap: 50 + Math.floor(450 * skew), unit: 'kW' };
    if (r < 0.3) return { cap: 6 + Math.floor(43 * skew), unit: 'kVA' };
    return { cap: 6 + Math.floor(43 * skew), unit: 'kW' };
  }

  private corporate(city: City, highVoltage: boolean): Holder {
    const [name, kana] = this.corporateName();
    const id = this.addCustomer('corporate', name, kana, this.corporatePhone(city));
    return { id, name, type: 'corporate', ...this.corporateCapacity(highVoltage) };
  }

  /** The chain store the next chain site belongs to (20–200 sites each; one retailer decision for all of them). */
  private chainFor(city: City): Chain {
    if (this.chain !== null && this.chain.remaining > 0) return this.chain;
    const rng = this.rng;
    const [pattern, suffix] = rng.pick(CHAINS);
    const w = rng.pick(this.words);
    const name = pattern.replace('{w}', w[0]);
    const id = this.addCustomer('corporate', name, `${w[1]}${suffix}`, this.landline(city));
    const final = rng.chance(P_AFFILIATED.chain) ? AFFILIATED_CODE : this.others.sample(rng);
    const retailers = this.retailerSequence(final);
    const switchDays = this.eventDays(DAY_LIBERALISED, this.nowDay - 30, retailers.length - 1);
    this.chain = { id, name, remaining: 20 + Math.floor(180 * rng.next() ** 3), retailers: retailers.slice(0, switchDays.length + 1), switchDays };
    return this.chain;
  }

  // --- contract history ----------------------------------------------------------------------------------

  /** Retailers a supply point went through, starting with the affiliated one and ending with `final`. */
  private retailerSequence(final: string): string[] {
    const rng = this.rng;
    let switches: number;
    if (final === AFFILIATED_CODE)
      switches = rng.chance(0.88) ? 0 : 2; // stayed, or left and was won back
    else {
      const r = rng.next();
      switches = r < 0.75 ? 1 : r < 0.95 ? 2 : 3;
    }
    const seq = [AFFILIATED_CODE];
    for (let i = 1; i < switches; i++) {
      const prev = at(seq, i - 1);
      let next = prev;
      for (let tries = 0; (next === prev || (i === switches - 1 && next === final)) && tries < 20; tries++) {
        next = rng.chance(0.3) ? AFFILIATED_CODE : this.others.sample(rng);
      }
      if (next === prev || next === final) break;
      seq.push(next);
    }
    if (at(seq, seq.length - 1) !== final) seq.push(final);
    return seq;
  }

  /** `n` distinct sorted days in [lo, hiExclusive); fewer when the range is too short. */
  private eventDays(lo: number, hiExclusive: number, n: number): number[] {
    const top = hiExclusive - 1 - n;
    if (n <= 0 || top < lo) return [];
    const days = Array.from({ length: n }, () => this.rng.int(lo, top)).sort((a, b) => a - b);
    for (let i = 1; i < days.length; i++) if (at(days, i) <= at(days, i - 1)) days[i] = at(days, i - 1) + 1;
    return days;
  }

  private contract(spId: string, h: Holder, retailer: string, lastResort: boolean, from: number, to: number | null): void {
    this.contracts++;
    this.lastContract = { holder: h, retailer, from, to };
    this.contractRows.push([spId, h.id, retailer, h.cap, h.unit, lastResort, timestamp(from), to === null ? null : timestamp(to)]);
  }

  /**
   * Writes the contracts of one supply point. First contract with the affiliated retailer between 2000 and
   * 2016-03 (regulated days); from 2016-04 switches; moves (a new holder) at any time; then the end state.
   */
  private history(
    spId: string,
    kind: 'residential' | 'commercial',
    state: SiteState,
    first: Holder,
    newHolder: () => Holder,
  ): { holder: Holder; vacantFrom: number | null } {
    const rng = this.rng;
    const hiAll = this.nowDay - 7;
    const start = rng.int(DAY_2000, Math.min(DAY_LAST_REGULATED, hiAll - 400));
    let end: number; // events happen before this day
    if (state === 'vacant') end = Math.max(start + 60, rng.int(this.nowDay - 1000, this.nowDay - 10));
    else if (state === 'last_resort') end = rng.int(Math.max(DAY_LIBERALISED + 365, Math.min(DAY_2022_04, this.nowDay - 60)), this.nowDay - 30);
    else end = hiAll;

    const pAffiliated = P_AFFILIATED[kind];
    const final = state !== 'last_resort' && rng.chance(pAffiliated) ? AFFILIATED_CODE : this.others.sample(rng);
    const retailers = this.retailerSequence(final);
    const r = rng.next();
    const moves = kind === 'residential' ? (r < 0.63 ? 0 : r < 0.89 ? 1 : r < 0.98 ? 2 : 3) : r < 0.8 ? 0 : r < 0.97 ? 1 : 2;
    const switches = retailers.length - 1;
    const top = end - 1 - (switches + moves);
    const events: { day: number; move: boolean }[] = [];
    if (switches > 0 && top >= DAY_LIBERALISED) for (let i = 0; i < switches; i++) events.push({ day: rng.int(DAY_LIBERALISED, top), move: false });
    if (top >= start + 90) for (let i = 0; i < moves; i++) events.push({ day: rng.int(start + 90, top), move: true });
    events.sort((a, b) => a.day - b.day);
    for (let i = 1; i < events.length; i++) {
      const prev = at(events, i - 1).day;
      const e = at(events, i);
      if (e.day <= prev) e.day = prev + 1;
    }

    let holder = first;
    let from = start;
    let ri = 0;
    for (const e of events) {
      this.contract(spId, holder, at(retailers, ri), false, from, e.day);
      from = e.day;
      if (e.move) holder = newHolder();
      else ri = Math.min(ri + 1, retailers.length - 1);
    }
    const current = at(retailers, ri);
    if (state === 'vacant') this.contract(spId, holder, current, false, from, end);
    else if (state === 'last_resort') {
      this.contract(spId, holder, current, false, from, end);
      this.contract(spId, holder, LAST_RESORT_CODE, true, end, null);
    } else this.contract(spId, holder, current, false, from, null);
    return { holder, vacantFrom: state === 'vacant' ? end : null };
  }

  // --- supply points -------------------------------------------------------------------------------------

  private building(kind: SiteKind, town: Town): string | null {
    const rng = this.rng;
    if (kind === 'residential') {
      if (!rng.chance(0.22)) return null;
      const floor = rng.int(1, rng.chance(0.2) ? 14 : 4);
      const room = `${floor}${pad(rng.int(1, 8), 2)}`;
      const apt = rng.pick(APARTMENTS);
      return rng.chance(0.5) ? `${apt}${room}` : `${apt}${town.name} ${room}`;
    }
    if (!rng.chance(kind === 'chain' ? 0.3 : 0.5)) return null;
    const w = rng.chance(0.5) ? rng.pick(this.words)[0] : town.name;
    return `${w}${rng.pick(OFFICE_BUILDINGS)}${rng.chance(0.2) ? ' ' : ''}${rng.int(1, 9)}F`;
  }

  private equipment(kind: SiteKind): string[] {
    const rng = this.rng;
    const out: string[] = [];
    if (kind === 'residential') {
      const r = rng.next();
      if (r < 0.15) out.push('エコキュート');
      else if (r < 0.2) out.push('電気温水器');
      if (rng.chance(0.06)) out.push('蓄熱暖房機');
      if (rng.chance(0.2)) out.push('IHクッキングヒーター');
    } else if (rng.chance(0.05)) out.push(rng.chance(0.5) ? '蓄熱暖房機' : '電気温水器');
    return out;
  }

  private usage(kind: SiteKind, holder: Holder, equipment: readonly string[], vacantFrom: number | null): number[] {
    const rng = this.rng;
    let base: number;
    if (holder.unit === 'A') base = holder.cap * 7 + rng.int(0, 150);
    else if (holder.unit === 'kVA') base = holder.cap * rng.int(80, 200);
    else base = holder.cap * (holder.cap >= 50 ? rng.int(250, 450) : rng.int(60, 180));
    const season = kind === 'residential' ? SEASON_RESIDENTIAL : SEASON_COMMERCIAL;
    const flat =
      (equipment.includes('エコキュート') ? 90 : 0) + (equipment.includes('電気温水器') ? 250 : 0) + (equipment.includes('IHクッキングヒーター') ? 30 : 0);
    const heating = equipment.includes('蓄熱暖房機') ? 600 : 0;
    return this.usageMonths.map(({ month, startDay }) => {
      if (vacantFrom !== null && startDay >= vacantFrom) return 0;
      const kwh = (base * at(season, month) + flat + heating * at(HEATING_SEASON, month)) * (0.92 + 0.16 * rng.next());
      return Math.round(kwh);
    });
  }

  private networkNote(highVoltage: boolean): string | null {
    const rng = this.rng;
    if (!rng.chance(0.06)) return null;
    const year = this.nowYear;
    const templates = highVoltage ? NETWORK_NOTES : NETWORK_NOTES.slice(0, -1);
    return rng
      .pick(templates)
      .replace('{y}', String(year + rng.int(0, 2)))
      .replace('{p}', String(rng.int(2018, year - 1)))
      .replace('{m}', String(rng.int(1, 12)))
      .replace('{n5}', digits(rng, 5))
      .replace('{n4}', digits(rng, 4))
      .replace('{n3}', String(rng.int(1, 120)));
  }

  /** Generates supply point number `i` (0-based) with its customers and contracts into the current chunk. */
  site(i: number): void {
    const rng = this.rng;
    // At least one vacant and one last-resort supply point, whatever the size.
    const forcedVacant = i === Math.floor(this.total / 3);
    const forcedLastResort = i === Math.floor((2 * this.total) / 3);
    let kind: SiteKind = forcedLastResort || rng.chance(P_COMMERCIAL) ? 'commercial' : 'residential';
    if (kind === 'commercial' && !forcedLastResort && !forcedVacant && rng.chance(P_CHAIN_OF_COMMERCIAL)) kind = 'chain';
    let state: SiteState = 'active';
    if (forcedVacant) state = 'vacant';
    else if (forcedLastResort) state = 'last_resort';
    else if (kind !== 'chain') {
      const r = rng.next();
      if (r < P_VACANT) state = 'vacant';
      else if (kind === 'commercial' && r < P_VACANT + P_LAST_RESORT_OF_COMMERCIAL) state = 'last_resort';
    }

    const city = this.cities.sample(rng);
    const town = rng.pick(city.towns);
    const chome = rng.int(1, town.chome);
    const address = {
      postalCode: town.postal,
      prefecture: city.prefecture,
      city: city.name,
      town: `${town.name}${at(KANJI_DIGITS, chome)}丁目`,
      street: `${rng.int(1, rng.chance(0.7) ? 12 : 30)}番${rng.int(1, 25)}号`,
      building: this.building(kind, town),
    };

    const seq = permute24(i, this.idKey);
    const id = `${this.areaCode}${city.code}${pad(hash32(seq ^ this.idKey) % 1_000_000_000, 9)}${pad(seq, 8)}`;
    const meterId = `M${pad(hash32(i ^ this.meterKey) % 100, 2)}${pad(permute24(i, this.meterKey), 8)}`;

    let last: Holder;
    let vacantFrom: number | null = null;
    if (kind === 'chain') {
      const chain = this.chainFor(city);
      chain.remaining--;
      const h: Holder = { id: chain.id, name: chain.name, type: 'corporate', cap: rng.int(20, 200), unit: 'kW' };
      let from = rng.int(DAY_2000, DAY_LAST_REGULATED);
      chain.switchDays.forEach((day, k) => {
        this.contract(id, h, at(chain.retailers, k), false, from, day);
        from = day;
      });
      this.contract(id, h, at(chain.retailers, chain.switchDays.length), false, from, null);
      last = h;
    } else {
      const highVoltage = state === 'last_resort';
      const holder = kind === 'residential' ? () => this.individual(city) : () => this.corporate(city, highVoltage);
      ({ holder: last, vacantFrom } = this.history(id, kind, state, holder(), holder));
    }

    const current = this.lastContract;
    if (current !== null && current.to === null && hash32(i ^ this.siteKey) < this.siteThreshold)
      this.inquirySites.push({
        id,
        holderName: current.holder.name,
        holderType: current.holder.type,
        retailerCode: current.retailer,
        since: new Date(current.from * DAY_MS - JST_OFFSET_MS),
      });

    const equipment = this.equipment(kind);
    this.spRows.push([
      id,
      this.areaCode,
      address.postalCode,
      address.prefecture,
      address.city,
      address.town,
      address.street,
      address.building,
      formatAddress(address),
      meterId,
      rng.int(1, 28),
      equipment,
      this.usage(kind, last, equipment, vacantFrom),
      this.usageLastMonth,
      this.networkNote(last.unit === 'kW' && last.cap >= 50),
    ]);
  }
}

// ---------------------------------------------------------------------------------------------------------

const SP_COLUMNS = [
  'id',
  'area_code',
  'postal_code',
  'prefecture',
  'city',
  'town',
  'street',
  'building',
  'address_text',
  'meter_id',
  'reading_day',
  'equipment',
  'usage_kwh',
  'usage_last_month',
  'network_notes',
] as const;
const CUSTOMER_COLUMNS = ['id', 'type', 'name', 'name_kana', 'phone', 'phone_digits'] as const;
const CONTRACT_COLUMNS = ['supply_point_id', 'customer_id', 'retailer_code', 'capacity', 'capacity_unit', 'last_resort', 'valid_from', 'valid_to'] as const;

const BULK_TABLES = ['supply_points', 'customers', 'contracts'] as const;
const TRGM_INDEXES = ['supply_points_address_trgm', 'customers_name_trgm'] as const;
// The migration's definitions, used when the catalogue does not have them (see secondaryIndexes).
const TRGM_DEFINITIONS: Readonly<Record<(typeof TRGM_INDEXES)[number], string>> = {
  supply_points_address_trgm: 'CREATE INDEX supply_points_address_trgm ON supply_points USING gin (address_text gin_trgm_ops)',
  customers_name_trgm: 'CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops)',
};

interface IndexDef {
  readonly name: string;
  readonly definition: string;
}

/**
 * The secondary indexes of the bulk-loaded tables (not those behind primary keys or constraints), with their
 * definitions exactly as the catalogue holds them. Loading without them and building each once afterwards
 * is much faster than maintaining them row by row, above all the trigram indexes.
 */
async function secondaryIndexes(db: Db): Promise<IndexDef[]> {
  const { rows } = await db.query<{ name: string; definition: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
      ORDER BY i.relname`,
    [[...BULK_TABLES]],
  );
  const found = new Set(rows.map((r) => r.name));
  // The trigram indexes are rebuilt after the load even if an earlier failed run left them dropped.
  return [...rows, ...TRGM_INDEXES.filter((n) => !found.has(n)).map((name) => ({ name, definition: TRGM_DEFINITIONS[name] }))];
}

interface ForeignKeyDef {
  readonly table: string;
  readonly name: string;
  readonly definition: string;
}

/**
 * The foreign keys of the bulk-loaded tables (contracts → supply points, customers, retailers). Checked row
 * by row during a COPY they were three quarters of the contracts' load time (issue 21); dropped for the load
 * and added back afterwards, each is checked once over the whole table, and the constraint is as it was.
 */
async function foreignKeys(db: Db): Promise<ForeignKeyDef[]> {
  const { rows } = await db.query<{ table: string; name: string; definition: string }>(
    `SELECT t.relname AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
      WHERE c.contype = 'f' AND t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace
      ORDER BY t.relname, c.conname`,
    [[...BULK_TABLES]],
  );
  return rows;
}

const byFirstColumn = (a: readonly unknown[], b: readonly unknown[]): number => {
  const x = String(a[0]);
  const y = String(b[0]);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Fills an empty, migrated store with a demo area. Same seed and options, same data. */
/**
 * The demo's emergency history: the retail agent persona registered in advance as support staff for outage
 * contact (by the access administrator), and a typhoon 25 days ago in the main prefecture — declared by the
 * call centre, confirmed by the service centre, ended — whose review waits for compliance's sign-off.
 */
async function seedEmergencies(db: Db, personas: readonly Persona[], area: AreaSpec, now: Date): Promise<void> {
  const persona = (key: string) => personas.find((p) => p.key === key);
  const agent = persona('retail-agent');
  const admin = persona('access-admin');
  const declarer = persona('nw-call-centre');
  const confirmer = persona('nw-service-centre');
  const prefecture = area.prefectures[0]?.name;
  if (agent === undefined || admin === undefined || declarer === undefined || confirmer === undefined || prefecture === undefined) return;
  const registered = new Date(now.getTime() - 90 * DAY_MS);
  await db.query(
    `INSERT INTO emergency_support_staff (person_id, fields, note, registered_by, registered_by_person, registered_at, valid_from)
     VALUES ($1, ARRAY['address', 'holder_name', 'phone'], '停電時の連絡支援（事前登録）', $2, $3, $4, $4)`,
    [agent.personId, admin.userId, admin.personId, registered],
  );
  // 25 days before now: inside the analysis screen's default period (the last 30 days), so the exposure report
  // a new user opens shows the typhoon with its reads (issue 22).
  const start = new Date(now.getTime() - 25 * DAY_MS);
  await db.query(
    `INSERT INTO emergency_declarations (id, reason, starts_at, planned_end_at, status, declared_by, declared_by_person, declared_at, decided_by, decided_by_person, decided_at, decision_comment)
     VALUES ('EM-00001', $1, $2, $3, 'confirmed', $4, $5, $6, $7, $8, $9, '気象警報と停電戸数を確認')`,
    [
      `台風による${prefecture}内の広域停電`,
      start,
      new Date(start.getTime() + 48 * 3_600_000),
      declarer.userId,
      declarer.personId,
      new Date(start.getTime() - 1_800_000),
      confirmer.userId,
      confirmer.personId,
      new Date(start.getTime() - 900_000),
    ],
  );
  await db.query(`INSERT INTO emergency_areas (declaration_id, kind, prefecture) VALUES ('EM-00001', 'prefecture', $1)`, [prefecture]);
  await db.query(`SELECT setval('emergency_declaration_no', 1)`);
}

export async function generateDemo(db: Db, options: DemoOptions): Promise<DemoSummary> {
  const n = options.supplyPoints;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SUPPLY_POINTS) throw new RangeError(`supplyPoints must be a whole number from 1 to ${MAX_SUPPLY_POINTS}`);
  if (!(options.now.getTime() >= Date.parse('2017-04-01T00:00:00+09:00')))
    throw new RangeError('now must be after 2017-04-01: the demo history runs through liberalisation in 2016-04');
  const areaCode: AreaCode = options.areaCode ?? '02';
  const area = AREAS[areaCode];
  const say = options.onProgress ?? (() => undefined);
  const seed = options.seed >>> 0;

  const retailers = makeRetailers(new Rng(streamSeed(seed, 0)), area);
  const people = makePeople(new Rng(streamSeed(seed, 1)), area, retailers);

  await db.query(
    `INSERT INTO settings (key, value) VALUES ('affiliated_retailer', $1::text::jsonb), ('area_code', $2::text::jsonb), ('demo_personas', $3::text::jsonb)`,
    [JSON.stringify(AFFILIATED_CODE), JSON.stringify(areaCode), JSON.stringify(people.personas)],
  );
  await db.copyRows(
    'retailers',
    ['code', 'name', 'affiliated'],
    retailers.map((r) => [r.code, r.name, r.affiliated]),
  );
  await db.copyRows(
    'organizations',
    ['id', 'name', 'kind', 'retailer_code'],
    people.organizations.map((o) => [o.id, o.name, o.kind, o.retailerCode]),
  );
  await db.copyRows(
    'contractor_engagements',
    ['contractor_organization_id', 'client_organization_id', 'valid_from', 'valid_to'],
    people.engagements.map((e) => [e.contractorOrganizationId, e.clientOrganizationId, e.validFrom, e.validTo]),
  );
  await db.copyRows(
    'persons',
    ['id', 'name'],
    people.persons.map((p) => [p.id, p.name]),
  );
  // Only the personas may use the persona login (a user ID, no password): they are marked as demo accounts.
  const personaIds = new Set(people.personas.map((p) => p.userId));
  await db.copyRows(
    'accounts',
    ['user_id', 'person_id', 'created_at', 'disabled_at', 'provisioned_by'],
    people.accounts.map((a) => [a.userId, a.personId, a.createdAt, a.disabledAt, personaIds.has(a.userId) ? 'demo' : 'manual']),
  );
  await db.copyRows(
    'staff_assignments',
    ['person_id', 'organization_id', 'employment', 'side', 'retailer_code', 'office', 'duty', 'valid_from', 'valid_to'],
    people.assignments.map((a) => [a.personId, a.organizationId, a.employment, a.side, a.retailerCode, a.office, a.duty, a.validFrom, a.validTo]),
  );
  await db.copyRows(
    'terminals',
    ['id', 'organization_id', 'office', 'kind', 'setting', 'site_side'],
    people.terminals.map((t) => [t.id, t.organizationId, t.office, t.kind, t.setting, t.siteSide]),
  );
  const grants = demoGrants(people, options.now);
  await db.copyRows('grants', GRANT_COLUMNS, grants);
  // People at work logged in within the last three weeks; the legacy IDs of people who left did not, so the
  // lifecycle checks find them dormant (F2).
  await db.query(
    `UPDATE accounts a SET last_login_at = $1::timestamptz - (abs(hashtext(a.user_id)) % 20) * interval '1 day'
      WHERE a.disabled_at IS NULL AND EXISTS (SELECT 1 FROM staff_assignments s WHERE s.person_id = a.person_id
                                               AND s.valid_from <= $1 AND (s.valid_to IS NULL OR s.valid_to > $1))`,
    [options.now],
  );
  await seedEmergencies(db, people.personas, area, options.now);
  say(`${retailers.length} retailers, ${people.persons.length} people, ${people.terminals.length} terminals, ${grants.length} grants`);

  const gen = new Generator(seed, areaCode, area, retailers, options.now, n);
  const indexes = await secondaryIndexes(db);
  const references = await foreignKeys(db);
  for (const ix of indexes) await db.exec(`DROP INDEX IF EXISTS ${ident(ix.name)}`);
  for (const fk of references) await db.exec(`ALTER TABLE ${ident(fk.table)} DROP CONSTRAINT IF EXISTS ${ident(fk.name)}`);
  try {
    for (let lo = 0; lo < n; lo += CHUNK) {
      const hi = Math.min(n, lo + CHUNK);
      for (let i = lo; i < hi; i++) gen.site(i);
      const chunk = gen.takeChunk();
      // In key order: the primary key and foreign key look-ups then walk their indexes instead of jumping about.
      await db.copyRows('supply_points', SP_COLUMNS, chunk.sp.sort(byFirstColumn));
      await db.copyRows('customers', CUSTOMER_COLUMNS, chunk.customers);
      await db.copyRows('contracts', CONTRACT_COLUMNS, chunk.contracts.sort(byFirstColumn));
      say(`supply points ${hi.toLocaleString('en')} / ${n.toLocaleString('en')}`);
    }
  } finally {
    say('building indexes');
    await db.transaction(async (tx) => {
      // One connection, so the settings hold for every statement: room for the GIN builds and for the join
      // that checks each foreign key over the whole table at once.
      await tx.exec(`SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL work_mem = '256MB'`);
      for (const ix of indexes) await tx.exec(ix.definition.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX IF NOT EXISTS '));
      say('checking references');
      for (const fk of references) await tx.exec(`ALTER TABLE ${ident(fk.table)} ADD CONSTRAINT ${ident(fk.name)} ${fk.definition}`);
    });
  }
  const inquiries = await seedInquiries(db, { seed, now: options.now, sites: gen.inquirySites, people, personas: people.personas });
  say(`${inquiries.inquiries} inquiries in the last 30 days, ${inquiries.queue} in the service centre's queue`);
  say('analyzing');
  await db.exec('ANALYZE');

  return {
    supplyPoints: n,
    customers: gen.customers,
    contracts: gen.contracts,
    retailers: retailers.length,
    persons: people.persons.length,
    terminals: people.terminals.length,
    inquiries: inquiries.inquiries,
    inquiryQueue: inquiries.queue,
    personas: people.personas,
  };
}
