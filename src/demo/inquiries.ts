/**
 * The demo's month of inquiries (照会, issue 18): what a month of retailers asking the network operator about
 * their rivals' customers looks like, so the inquiry screens, the service centre's queue and the
 * equal-treatment figures mean something on the first start.
 *
 * - Requesters are the retailers' own staff as the people side made them (the affiliated retailer's and the
 *   staffed new entrants', their personas among them), each asking only about a supply point that is not
 *   their retailer's customer, and only while their account and assignment are in force.
 * - The consent names the contract holder as the store holds the name (now and for the whole month: only
 *   supply points whose holder has not changed since before the month are asked about), so every answered
 *   inquiry's consent holds when its answer is read again; a move-in's consent is the incoming occupant's
 *   (CONSENT_FROM), a name of its own. A few consents are refused at intake (expired, or another family
 *   member's or a company's name without its legal form), a few inquiries come without one.
 * - What the case allows with the consent (domain/inquiry.ts) is answered at once; the rest waits for the
 *   service centre persona, who answers after hours drawn from one distribution per case type whoever asked,
 *   asks back now and then, refuses a few in words. About nine are still in the queue now: late, about to be
 *   late and on time, one waiting on the other-retailer persona's reply.
 *
 * The history is written as rows, like the rest of the demo's history (contracts, logins, last month's
 * emergency): no reads went through the firewall to make it, so the access log has no events for these
 * inquiries (it starts empty on the first start), and the governance log has none for the service centre's
 * actions. Reading an answer in the console reads it through the firewall then, logged as always.
 *
 * Deterministic for a seed: its own PRNG stream, no clock, no Math.random.
 */
import type { SupplyPointField } from '../domain/classification.ts';
import { equalTreatment, type EqualTreatment, type InquiryFact } from '../domain/equal-treatment.ts';
import {
  answering,
  CASE_TYPE_LABELS,
  CONSENT_FROM,
  dueAt,
  INQUIRY_STATUS_LABELS,
  normalizedName,
  type CaseType,
  type ConsentMethod,
  type InquiryStatus,
} from '../domain/inquiry.ts';
import { DAY_MS, JST_OFFSET_MS } from '../domain/japan-time.ts';
import type { Db } from '../store/db.ts';
import { FEMALE_GIVEN, MALE_GIVEN, SURNAMES } from './names.ts';
import type { People, Persona } from './people.ts';
import { AFFILIATED_CODE, LAST_RESORT_CODE } from './retailers.ts';
import { Rng, Weighted, at, streamSeed } from './rng.ts';

/** A supply point the history may ask about, with its holder now (kept by the generator as it writes it). */
export interface InquirySite {
  readonly id: string;
  /** The holder's name exactly as stored. */
  readonly holderName: string;
  readonly holderType: 'individual' | 'corporate';
  /** The retailer supplying it now (NW000: last-resort supply). */
  readonly retailerCode: string;
  /** Since when this holder and retailer hold the point. */
  readonly since: Date;
}

/** How many supply points the generator keeps for the history to choose from (all of a smaller demo). */
export const INQUIRY_SITE_POOL = 4000;

const HOUR = 3_600_000;
const MINUTE = 60_000;
const WINDOW_DAYS = 30;

// ---------------------------------------------------------------------------------------------------------
// What is asked, and how it goes.

const CASE_MIX = new Weighted<CaseType>(['switching', 'move_in', 'construction', 'outage_contact', 'other'], [62, 14, 8, 6, 10]);

/**
 * The service centre's hours to answer, asked to answered (the time asked back not counted), per case type:
 * min + (max − min)·u^1.5, most answered early, none beyond a bound a little past the service level (a few
 * late). The same whoever asked: the demo treats all alike. Bounded rather than long-tailed, so that the
 * 95th percentile of a dozen answers — in effect their slowest — does not make one side look faster by chance.
 */
const ANSWER_HOURS: Readonly<Record<CaseType, { min: number; max: number }>> = {
  switching: { min: 0.3, max: 26 },
  move_in: { min: 0.3, max: 8.5 },
  construction: { min: 4, max: 130 },
  outage_contact: { min: 0.1, max: 2.2 },
  other: { min: 1, max: 78 },
};
const answerHours = (caseType: CaseType, u: number): number => {
  const { min, max } = ANSWER_HOURS[caseType];
  return min + (max - min) * u ** 1.5;
};
/** How long a requester takes to reply when asked back (hours). */
const REPLY_HOURS = { median: 3, shape: 1.8, min: 0.2, max: 30 };

function logLogistic(p: { median: number; shape: number; min: number; max: number }, u: number): number {
  const v = p.median * (u / (1 - u)) ** (1 / p.shape);
  return Math.min(p.max, Math.max(p.min, v));
}

/**
 * Even spreads of uniforms, one per name (a Weyl sequence from a random start): over n draws, the share below
 * any p is within a draw or two of n·p. Each decision that moves the equal-treatment figures (consent given,
 * something for the queue asked, refused, withdrawn, asked back) draws from its own spread per case type and
 * side, so the affiliated retailer and the others get the same shares by construction, not by luck.
 */
class Spread {
  readonly #starts = new Map<string, { start: number; n: number }>();
  constructor(private readonly rng: Rng) {}

  next(name: string): number {
    let s = this.#starts.get(name);
    if (s === undefined) {
      s = { start: this.rng.next(), n: 0 };
      this.#starts.set(name, s);
    }
    s.n++;
    return (s.start + s.n * 0.6180339887498949) % 1;
  }
}

/** The items a case typically asks for (the case decides how each is answered, domain/inquiry.ts). */
function itemsFor(rng: Rng, caseType: CaseType, site: InquirySite, uQueue: number): SupplyPointField[] {
  switch (caseType) {
    case 'switching': {
      const r = rng.next();
      const items: SupplyPointField[] =
        r < 0.55
          ? ['holder_name', 'contracted_capacity', 'meter', 'usage']
          : r < 0.75
            ? ['contracted_capacity', 'meter', 'usage']
            : r < 0.9
              ? ['holder_name', 'contracted_capacity', 'meter', 'usage', 'customer_type']
              : ['contracted_capacity', 'usage'];
      // Winning a customer on last-resort supply: whether and since when (the service centre looks).
      if (site.retailerCode === LAST_RESORT_CODE) items.push('last_resort');
      else if (uQueue < 0.22) items.push('equipment');
      // Now and then someone asks for the phone number, which a switching case never gives.
      if (rng.chance(0.03)) items.push('phone');
      return items;
    }
    case 'move_in':
      return rng.chance(0.7) ? ['contracted_capacity', 'meter'] : ['contracted_capacity'];
    case 'construction': {
      const r = rng.next();
      return r < 0.4 ? ['contracted_capacity', 'equipment'] : r < 0.65 ? ['equipment'] : ['contracted_capacity', 'equipment', 'meter'];
    }
    case 'outage_contact':
      return rng.chance(0.6) ? ['holder_name', 'phone'] : ['phone'];
    case 'other': {
      const pool: SupplyPointField[] = ['contracted_capacity', 'usage', 'equipment', 'meter', 'holder_name', 'customer_type'];
      return rng.shuffled(pool).slice(0, rng.int(1, 3));
    }
  }
}

const ASK_NOTES: Readonly<Record<CaseType, readonly string[]>> = {
  switching: ['Web申込（切替）', '電話での切替申込', '法人のお客さまの切替見積り用', '代理店経由の切替申込'],
  move_in: ['転入に伴う使用開始', '入居予定日が近いため至急', '賃貸物件の入居申込'],
  construction: ['エアコン増設に伴う容量確認', '太陽光発電設備設置の事前確認', 'EV充電設備設置の検討', '店舗改装工事'],
  outage_contact: ['台風接近に伴う事前確認', '高齢の単身世帯（お客さまのご希望）'],
  other: ['契約内容の確認（お客さまのご依頼）', '料金シミュレーション用', '管理会社からのご依頼'],
};

const ASK_BACKS: Readonly<Record<CaseType, readonly (readonly [question: string, reply: string])[]>> = {
  switching: [
    ['深夜機器の確認対象（住宅部分・店舗部分）をお知らせください', '住宅部分のみです'],
    ['同意取得日時が同意書の写しと異なります。ご確認ください', '同意書の写しを再送しました（取得日時は記録のとおりです）'],
  ],
  move_in: [
    ['入居予定日をお知らせください', '来週月曜日の予定です'],
    ['入居の確認のため、賃貸借契約書の写し（入居者名・入居日）をお送りください', '写しを送付しました'],
  ],
  construction: [
    ['工事の予定時期と施工店をお知らせください', '来月中旬の予定です。施工は地元の電気工事店です'],
    ['増設する設備の容量をお知らせください', 'エアコン2台（計5.6kW）の増設です'],
  ],
  outage_contact: [['お客さまとのご関係（ご家族・管理会社など）をお知らせください', '管理会社経由でお客さまご本人の同意を得ています']],
  other: [
    ['照会の目的をお知らせください', 'テナント入替えに伴う契約容量の確認のためです'],
    ['対象の期間をお知らせください', '直近12か月分です'],
  ],
};

const RELEASE_NOTES = ['設備台帳にて確認', '現地調査記録により確認', '確認のうえ回答しました'];

const REFUSALS: Readonly<Record<CaseType, readonly string[]>> = {
  switching: [
    '同意書の写しでお客さまご本人の署名が確認できないため回答を控えます。署名済みの同意書で改めてご照会ください。',
    '照会の対象となる設備が特定できないため回答できません。設置場所をご確認のうえ、改めてご照会ください。',
  ],
  move_in: ['入居の事実が確認できないため回答を控えます。賃貸借契約書等の写しを添えて改めてご照会ください。'],
  construction: [
    '工事に関する詳細は工事申込みの受付後に施工店へご案内します。本照会では回答できません。',
    '照会の対象となる設備が特定できないため回答できません。設置場所をご確認のうえ、改めてご照会ください。',
  ],
  outage_contact: ['停電時の連絡先はお客さまご本人からのお申し出によりご案内しています。お客さまから当社窓口へご連絡いただくようご案内ください。'],
  other: ['照会の目的が確認できないため回答を控えます。目的を明記のうえ改めてご照会ください。'],
};

/** What the service says when a consent does not hold at intake (governance/inquiries.ts, CONSENT_MESSAGES). */
const CONSENT_MESSAGES = {
  consent_expired: "the customer's consent has expired: ask the customer again",
  consent_other_customer: 'the consent does not name the contract holder of this supply point: ask the customer for the name on their bill',
} as const;

// ---------------------------------------------------------------------------------------------------------
// Who asks.

interface Requester {
  readonly userId: string;
  readonly personId: string;
  readonly from: number;
  readonly to: number;
  readonly weight: number;
}

/**
 * The retailers that ask, with the staff who may (an employee's account and assignment at that retailer both
 * in force). The personas ask about two in five of their retailer's inquiries: they are who the demo logs in as.
 */
function requesterPools(people: People, personas: readonly Persona[]): Map<string, Requester[]> {
  const personaUsers = new Set(personas.filter((p) => p.side !== 'network').map((p) => p.userId));
  const pools = new Map<string, Requester[]>();
  for (const a of people.accounts) {
    for (const s of people.assignments) {
      if (s.personId !== a.personId || s.retailerCode === null || s.side === 'network' || s.employment !== 'employee') continue;
      const from = Math.max(Date.parse(a.createdAt), Date.parse(s.validFrom));
      const to = Math.min(a.disabledAt === null ? Infinity : Date.parse(a.disabledAt), s.validTo === null ? Infinity : Date.parse(s.validTo));
      if (from >= to) continue;
      const pool = pools.get(s.retailerCode) ?? [];
      pool.push({ userId: a.userId, personId: a.personId, from, to, weight: personaUsers.has(a.userId) ? -1 : 1 });
      pools.set(s.retailerCode, pool);
    }
  }
  for (const [code, pool] of pools) {
    const staff = pool.filter((r) => r.weight > 0).length;
    pools.set(
      code,
      pool.map((r) => (r.weight < 0 ? { ...r, weight: Math.max(1, (staff * 2) / 3) } : r)),
    );
  }
  return pools;
}

function pickRequester(rng: Rng, pool: readonly Requester[], t: number, only?: string): Requester | null {
  const now = pool.filter((r) => r.from <= t && t < r.to && (only === undefined || r.userId === only));
  if (now.length === 0) return null;
  return new Weighted(
    now,
    now.map((r) => r.weight),
  ).sample(rng);
}

// ---------------------------------------------------------------------------------------------------------
// One inquiry as the history builds it, then as rows.

type Fate = 'at_once' | 'consent_refused' | 'answer' | 'refuse' | 'withdraw' | 'open' | 'asked_back';
type ConsentKind = 'valid' | 'none' | 'expired' | 'other_customer';

interface Draft {
  created: number;
  readonly retailer: string;
  readonly caseType: CaseType;
  readonly site: InquirySite;
  readonly items: SupplyPointField[];
  readonly consent: ConsentKind;
  readonly fate: Fate;
  /** The service centre's hours to close it (answer, refusal) or the requester's to withdraw, the wait not counted. */
  hours: number;
  /** Asked back after this share of `hours`; replied after `replyHours` (null: not replied yet). */
  readonly askBack: { readonly share: number; readonly replyHours: number | null; readonly pair: readonly [string, string] } | null;
  readonly batchId: string | null;
  /** A requester fixed in advance (the current queue's personas). */
  readonly only?: string;
}

interface Row {
  id: string;
  caseType: CaseType;
  supplyPointId: string;
  items: readonly string[];
  retailerCode: string;
  requestedBy: string;
  requestedByPerson: string;
  consent: { name: string; method: ConsentMethod; givenAt: Date; reference: string; validUntil: Date } | null;
  consentState: 'none' | 'valid' | 'refused';
  atOnce: readonly string[];
  queued: readonly string[];
  never: readonly string[];
  released: readonly string[];
  status: InquiryStatus;
  note: string | null;
  createdAt: Date;
  dueAt: Date | null;
  waitingMs: number;
  askedBackAt: Date | null;
  closedAt: Date | null;
  closedBy: string | null;
  closedByPerson: string | null;
  refusalCode: string | null;
  refusalReason: string | null;
  batchId: string | null;
}

interface EventRow {
  inquiryId: string;
  at: Date;
  kind: string;
  byUser: string | null;
  byPerson: string | null;
  items: readonly string[];
  note: string | null;
}

interface NotificationRow {
  personId: string;
  at: Date;
  kind: string;
  subjectId: string;
  textJa: string;
  textEn: string;
  readAt: Date | null;
}

export interface InquiryHistory {
  readonly inquiries: readonly Row[];
  readonly events: readonly EventRow[];
  readonly notifications: readonly NotificationRow[];
  /** The equal-treatment figures of the month as the console will show them (no flags). */
  readonly equality: EqualTreatment;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
/** The calendar parts of an instant in Japan time. */
function jst(t: number): { y: number; mo: number; d: number; h: number; mi: number; s: number; dow: number; day: number } {
  const d = new Date(t + JST_OFFSET_MS);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
    dow: d.getUTCDay(),
    day: Math.floor((t + JST_OFFSET_MS) / DAY_MS),
  };
}
const dayStart = (day: number): number => day * DAY_MS - JST_OFFSET_MS;

/** An instant within office hours of a weekday (a few on weekends and evenings: web applications). */
function officeInstant(rng: Rng, lo: number, hi: number): number {
  const firstDay = jst(lo).day;
  const lastDay = jst(hi).day;
  const days: number[] = [];
  const weights: number[] = [];
  for (let d = firstDay; d <= lastDay; d++) {
    days.push(d);
    const dow = jst(dayStart(d)).dow;
    weights.push(dow === 0 || dow === 6 ? 0.2 : 1);
  }
  const pickDay = new Weighted(days, weights);
  for (let tries = 0; tries < 100; tries++) {
    const day = pickDay.sample(rng);
    // Office hours 9:00–18:00, busiest after lunch; one in ten in the early morning or the evening.
    const hour = rng.chance(0.1) ? rng.int(7, 21) + rng.next() : 9 + 4.5 * (rng.next() + rng.next());
    const t = dayStart(day) + Math.floor(hour * HOUR);
    if (t >= lo && t < hi) return t;
  }
  return lo + Math.floor(rng.next() * (hi - lo));
}

function consentMethod(rng: Rng, site: InquirySite, caseType: CaseType): ConsentMethod {
  const r = rng.next();
  if (site.holderType === 'corporate' && CONSENT_FROM[caseType] === 'holder') return r < 0.55 ? 'signed_form' : r < 0.8 ? 'recorded_call' : 'web';
  return r < 0.5 ? 'web' : r < 0.85 ? 'recorded_call' : 'signed_form';
}

/** Where the evidence is, as each kind of record numbers it: the form, the call recording, the web receipt. */
function consentReference(rng: Rng, method: ConsentMethod, givenAt: number): string {
  const j = jst(givenAt);
  const ymd = `${j.y}${pad(j.mo, 2)}${pad(j.d, 2)}`;
  switch (method) {
    case 'signed_form':
      return `同意書No.${String(j.y).slice(2)}${pad(j.mo, 2)}-${pad(rng.int(1, 99999), 6)}`;
    case 'recorded_call':
      return `録音ID ${ymd}-${pad(j.h, 2)}${pad(j.mi, 2)}${pad(j.s, 2)}-${pad(rng.int(1, 120), 3)}`;
    case 'web':
      return `Web受付 W${ymd}${pad(rng.int(0, 999999), 6)}`;
  }
}

/** The holder's name as the customer wrote it: as stored, or an individual's with a full-width space or none. */
function writtenName(rng: Rng, site: InquirySite): string {
  if (site.holderType !== 'individual') return site.holderName;
  const r = rng.next();
  if (r < 0.15) return site.holderName.replace(' ', '\u3000');
  if (r < 0.25) return site.holderName.replace(' ', '');
  return site.holderName;
}

/** A name that is not the holder's: another member of the household, or a company without its legal form. */
function otherName(rng: Rng, site: InquirySite): string {
  if (site.holderType === 'individual') {
    const surname = site.holderName.split(' ')[0] ?? site.holderName;
    for (let tries = 0; tries < 20; tries++) {
      const given = rng.pick(rng.chance(0.5) ? FEMALE_GIVEN : MALE_GIVEN)[0];
      const name = `${surname} ${given}`;
      if (normalizedName(name) !== normalizedName(site.holderName)) return name;
    }
    return `${surname} 花子`;
  }
  const bare = site.holderName.replace(/株式会社|有限会社|合同会社|医療法人|社会福祉法人|学校法人|一般社団法人/g, '').trim();
  return normalizedName(bare) !== normalizedName(site.holderName) ? bare : `株式会社${bare}`;
}

/** The incoming occupant of a move-in, who consents for themselves: a name of their own, not the holder's. */
function newcomerName(rng: Rng, site: InquirySite): string {
  for (let tries = 0; tries < 20; tries++) {
    const name = `${rng.pick(SURNAMES)[0]} ${rng.pick(rng.chance(0.5) ? FEMALE_GIVEN : MALE_GIVEN)[0]}`;
    if (normalizedName(name) !== normalizedName(site.holderName)) return name;
  }
  return '新井 真央';
}

function uuidLike(rng: Rng): string {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[rng.int(0, 3)] ?? '8'}${hex(3)}-${hex(12)}`;
}

// ---------------------------------------------------------------------------------------------------------

export interface HistoryInput {
  readonly seed: number;
  readonly now: Date;
  readonly sites: readonly InquirySite[];
  readonly people: People;
  readonly personas: readonly Persona[];
}

/**
 * The month's inquiries, events and notifications. Drawn again (from the next stream of the seed) when chance
 * alone, in a case type's small sample, made the affiliated retailer look favoured in the equal-treatment
 * figures (none of twenty seeds tried needed it): the demo's service centre treats all alike, and its figures
 * must say so.
 */
export function inquiryHistory(input: HistoryInput): InquiryHistory {
  for (let attempt = 0; attempt < 50; attempt++) {
    const h = draw(input, new Rng(streamSeed(input.seed, 40 + attempt)));
    if (h.equality.flags.length === 0) return h;
  }
  throw new Error('no month of demo inquiries without an equal-treatment flag in 50 draws: the distributions favour one side');
}

function draw(input: HistoryInput, rng: Rng): InquiryHistory {
  const now = input.now.getTime();
  const windowStart = now - WINDOW_DAYS * DAY_MS;
  const nsc = input.personas.find((p) => p.key === 'nw-service-centre');
  const pools = requesterPools(input.people, input.personas);
  // Who asks, and how much: the affiliated retailer a third, the staffed new entrants the rest by size.
  const staffedOthers = [...pools.keys()].filter((c) => c !== AFFILIATED_CODE).sort();
  const retailerWeights = [35, 30, 14, 10, 6, 5];
  const askers = [AFFILIATED_CODE, ...staffedOthers].filter((c) => pools.has(c));
  const empty: InquiryHistory = { inquiries: [], events: [], notifications: [], equality: equalTreatment([], AFFILIATED_CODE, input.now) };
  if (nsc === undefined || askers.length === 0) return empty;
  const pickRetailer = new Weighted(
    askers,
    askers.map((_, i) => retailerWeights[i] ?? 3),
  );
  // A rival's customers, whose holder and retailer have held since before the month.
  const rivals = new Map<string, InquirySite[]>();
  for (const code of askers)
    rivals.set(
      code,
      input.sites.filter((s) => s.retailerCode !== code && s.since.getTime() <= windowStart),
    );

  const drafts: Draft[] = [];
  const spread = new Spread(rng);
  const draft = (created: number, retailer: string, caseType: CaseType, opts: Partial<Pick<Draft, 'batchId' | 'only'>> & { fate?: Fate } = {}) => {
    const sites = rivals.get(retailer) ?? [];
    if (sites.length === 0) return null;
    const site = rng.pick(sites);
    const side = `${caseType}|${retailer === AFFILIATED_CODE ? 'affiliated' : 'others'}`;
    const items = itemsFor(rng, caseType, site, spread.next(`${side}|queue`));
    let consent: ConsentKind = 'valid';
    if (opts.fate === undefined && opts.batchId === undefined) {
      // Without a consent: a switching or move-in form sent without it (nothing non-public comes back).
      const r = spread.next(`${side}|consent`);
      // A consent that names someone else than the holder is refused only where it must name the holder.
      consent =
        r < 0.015 && CONSENT_FROM[caseType] === 'holder'
          ? 'other_customer'
          : r >= 0.015 && r < 0.025
            ? 'expired'
            : r >= 0.025 && r < 0.055 && (caseType === 'switching' || caseType === 'move_in')
              ? 'none'
              : 'valid';
    }
    const state = consent === 'none' ? 'none' : 'valid';
    const queued = items.filter((f) => answering(caseType, f, state) === 'queue');
    let fate: Fate;
    if (opts.fate !== undefined) fate = opts.fate;
    else if (consent === 'expired' || consent === 'other_customer') fate = 'consent_refused';
    else if (queued.length === 0) fate = 'at_once';
    else {
      const r = spread.next(`${side}|fate`);
      fate = r < 0.07 ? 'refuse' : r < 0.1 ? 'withdraw' : 'answer';
    }
    const pairs = ASK_BACKS[caseType];
    const askBack =
      (fate === 'answer' || fate === 'refuse') && spread.next(`${side}|ask_back`) < 0.12
        ? { share: 0.2 + 0.4 * rng.next(), replyHours: logLogistic(REPLY_HOURS, rng.next()), pair: rng.pick(pairs) }
        : null;
    const d: Draft = {
      created,
      retailer,
      caseType,
      site,
      items,
      consent,
      fate,
      hours: answerHours(caseType, rng.next()),
      askBack,
      batchId: opts.batchId ?? null,
      ...(opts.only === undefined ? {} : { only: opts.only }),
    };
    drafts.push(d);
    return d;
  };

  // The month: about three hundred inquiries one by one in office hours…
  const latest = now - 10 * MINUTE;
  const singles = 250 + rng.int(0, 40);
  for (let k = 0; k < singles; k++) draft(officeInstant(rng, windowStart, latest), pickRetailer.sample(rng), CASE_MIX.sample(rng));
  // …and a few batches of switching cases from the retailers' own systems (one CSV or JSON file a morning, by
  // one person), up to three days ago so that all of a batch was answered.
  for (let day = jst(windowStart).day + 1; day < jst(latest).day - 3; day++) {
    const dow = jst(dayStart(day)).dow;
    if (dow === 0 || dow === 6 || !rng.chance(0.25)) continue;
    const created = dayStart(day) + Math.floor((10 + rng.next()) * HOUR);
    const retailer = pickRetailer.sample(rng);
    const sender = pickRequester(rng, pools.get(retailer) ?? [], created);
    if (sender === null) continue;
    const batchId = `B-${uuidLike(rng)}`;
    for (let n = rng.int(5, 12); n > 0; n--) draft(created, retailer, 'switching', { batchId, only: sender.userId });
  }

  // The service centre's hours for what it answered: per case type and side, the one distribution's quantiles
  // at even steps (k + ½)/n, shuffled, so that neither side's median or tail is a fluke of a small sample.
  for (const caseType of Object.keys(ANSWER_HOURS) as CaseType[])
    for (const affiliated of [true, false]) {
      const mine = drafts.filter((d) => d.fate === 'answer' && d.caseType === caseType && (d.retailer === AFFILIATED_CODE) === affiliated);
      const us = rng.shuffled(mine.map((_, k) => (k + 0.5) / mine.length));
      mine.forEach((d, k) => (d.hours = answerHours(caseType, at(us, k))));
    }
  // Whatever was closed in history was closed before now: one that would still be waiting was asked earlier.
  for (const d of drafts) {
    if (d.fate === 'at_once' || d.fate === 'consent_refused') continue;
    const end = d.created + (d.hours + (d.askBack?.replyHours ?? 0)) * HOUR;
    const until = now - Math.floor((5 + 175 * rng.next()) * MINUTE);
    if (end > until) d.created -= Math.ceil(end - until);
  }

  // The queue now: late, about to be late, on time, one waiting on the other-retailer persona's reply.
  const other = input.personas.find((p) => p.key === 'other-retailer');
  const retail = input.personas.find((p) => p.key === 'retail-agent');
  const otherCode = staffedOthers.find((c) => (pools.get(c) ?? []).some((r) => r.userId === other?.userId)) ?? staffedOthers[0];
  const second = staffedOthers.find((c) => c !== otherCode) ?? otherCode;
  const third = staffedOthers.find((c) => c !== otherCode && c !== second) ?? second;
  const queueNow: [hoursAgo: number, retailer: string | undefined, caseType: CaseType, fate: Fate, only: string | undefined, askBack: Draft['askBack']][] = [
    [27, otherCode, 'switching', 'open', other?.userId, null],
    [76, AFFILIATED_CODE, 'other', 'open', retail?.userId, null],
    [100 / 60, second, 'outage_contact', 'open', undefined, null],
    [100, AFFILIATED_CODE, 'construction', 'open', undefined, null],
    [20, AFFILIATED_CODE, 'switching', 'open', retail?.userId, null],
    [26, third, 'construction', 'open', undefined, null],
    [30, otherCode, 'other', 'asked_back', other?.userId, { share: 4 / 30, replyHours: null, pair: at(ASK_BACKS.other, 0) }],
    [9, second, 'construction', 'open', undefined, { share: 1 / 9, replyHours: 3, pair: at(ASK_BACKS.construction, 0) }],
    [2, AFFILIATED_CODE, 'move_in', 'open', undefined, null],
  ];
  for (const [hoursAgo, retailer, caseType, fate, only, askBack] of queueNow) {
    if (retailer === undefined) continue;
    const d = draft(now - Math.round(hoursAgo * HOUR), retailer, caseType, { fate, ...(only === undefined ? {} : { only }) });
    if (d === null) continue;
    // A switching case in the queue asks for something the service centre must look up.
    if (caseType === 'switching' && !d.items.some((f) => f === 'equipment' || f === 'last_resort')) d.items.push('equipment');
    drafts[drafts.length - 1] = { ...d, askBack, hours: hoursAgo };
  }

  // In order of asking, numbered as the service numbers them.
  drafts.sort((a, b) => a.created - b.created);
  const rows: Row[] = [];
  const events: EventRow[] = [];
  const notifications: NotificationRow[] = [];
  const nscBy = { user: nsc.userId, person: nsc.personId };
  for (const d of drafts) {
    const who = pickRequester(rng, pools.get(d.retailer) ?? [], d.created, d.only) ?? pickRequester(rng, pools.get(d.retailer) ?? [], d.created);
    if (who === null) continue;
    const id = `INQ-${pad(rows.length + 1, 6)}`;
    const created = new Date(d.created);
    // The consent, as the retailer recorded it.
    let consent: Row['consent'] = null;
    if (d.consent !== 'none') {
      const method = consentMethod(rng, d.site, d.caseType);
      const lag =
        method === 'web'
          ? 2 * MINUTE + rng.next() * 2 * DAY_MS
          : method === 'recorded_call'
            ? 10 * MINUTE + rng.next() * 3 * DAY_MS
            : (1 + 9 * rng.next()) * DAY_MS;
      const given = d.consent === 'expired' ? d.created - (95 + rng.int(0, 30)) * DAY_MS : d.created - Math.floor(lag);
      // Valid to the end of the 90th day (180 for a signed form) in Japan; an expired one ended before it was used.
      const days = method === 'signed_form' && d.consent !== 'expired' ? 180 : 90;
      consent = {
        name:
          CONSENT_FROM[d.caseType] === 'new_occupant'
            ? newcomerName(rng, d.site)
            : d.consent === 'other_customer'
              ? otherName(rng, d.site)
              : writtenName(rng, d.site),
        method,
        givenAt: new Date(given),
        reference: consentReference(rng, method, given),
        validUntil: new Date(dayStart(jst(given).day + days + 1)),
      };
    }
    const note = d.batchId === null && rng.chance(0.3) ? rng.pick(ASK_NOTES[d.caseType]) : null;
    const by = { user: who.userId, person: who.personId };
    const event = (t: number, kind: string, actor: { user: string; person: string } | null, items: readonly string[], text: string | null) =>
      events.push({ inquiryId: id, at: new Date(t), kind, byUser: actor?.user ?? null, byPerson: actor?.person ?? null, items, note: text });
    const notify = (t: number, kind: 'answered' | 'asked_back' | 'refused', ja: string, en: string) =>
      notifications.push({
        personId: who.personId,
        at: new Date(t),
        kind: `inquiry.${kind}`,
        subjectId: id,
        textJa: `${ja}（${CASE_TYPE_LABELS[d.caseType].ja}・${INQUIRY_STATUS_LABELS[kind].ja}）`,
        textEn: en,
        readAt: null,
      });
    const base: Row = {
      id,
      caseType: d.caseType,
      supplyPointId: d.site.id,
      items: d.items,
      retailerCode: d.retailer,
      requestedBy: who.userId,
      requestedByPerson: who.personId,
      consent,
      consentState: 'valid',
      atOnce: [],
      queued: [],
      never: [],
      released: [],
      status: 'answered',
      note,
      createdAt: created,
      dueAt: null,
      waitingMs: 0,
      askedBackAt: null,
      closedAt: null,
      closedBy: null,
      closedByPerson: null,
      refusalCode: null,
      refusalReason: null,
      batchId: d.batchId,
    };
    event(d.created, 'asked', by, d.items, note);
    if (d.fate === 'consent_refused') {
      const code = d.consent === 'expired' ? 'consent_expired' : 'consent_other_customer';
      rows.push({ ...base, consentState: 'refused', status: 'refused', closedAt: created, refusalCode: code, refusalReason: CONSENT_MESSAGES[code] });
      event(d.created, 'refused', null, [], CONSENT_MESSAGES[code]);
      continue;
    }
    const state = d.consent === 'none' ? 'none' : 'valid';
    const atOnce = d.items.filter((f) => answering(d.caseType, f, state) === 'at_once');
    const queued = d.items.filter((f) => answering(d.caseType, f, state) === 'queue');
    const never = d.items.filter((f) => answering(d.caseType, f, state) === 'never');
    const sorted: Row = { ...base, consentState: state, atOnce, queued, never };
    if (atOnce.length > 0) event(d.created, 'answered_at_once', null, atOnce, null);
    if (queued.length === 0) {
      rows.push({ ...sorted, closedAt: created });
      continue;
    }
    // The service centre's part.
    let waiting = 0;
    let askedBackAt: Date | null = null;
    if (d.askBack !== null) {
      const asked = d.created + Math.floor(d.askBack.share * d.hours * HOUR);
      event(asked, 'asked_back', nscBy, [], d.askBack.pair[0]);
      notify(asked, 'asked_back', `照会 ${id} について確認依頼があります`, `The service centre asks about inquiry ${id}`);
      if (d.askBack.replyHours === null) askedBackAt = new Date(asked);
      else {
        waiting = Math.floor(d.askBack.replyHours * HOUR);
        event(asked + waiting, 'replied', by, [], d.askBack.pair[1]);
      }
    }
    const due = dueAt(d.caseType, created, waiting);
    const closed = d.created + Math.floor(d.hours * HOUR) + waiting;
    const open: Row = { ...sorted, dueAt: due, waitingMs: waiting, askedBackAt };
    switch (d.fate) {
      case 'open':
        rows.push({ ...open, status: 'open' });
        break;
      case 'asked_back':
        rows.push({ ...open, status: 'asked_back' });
        break;
      case 'withdraw':
        rows.push({ ...open, status: 'withdrawn', closedAt: new Date(closed), closedBy: who.userId, closedByPerson: who.personId });
        event(closed, 'withdrawn', by, [], null);
        break;
      case 'refuse': {
        const reason = rng.pick(REFUSALS[d.caseType]);
        rows.push({
          ...open,
          status: 'refused',
          closedAt: new Date(closed),
          closedBy: nscBy.user,
          closedByPerson: nscBy.person,
          refusalCode: 'service_centre',
          refusalReason: reason,
        });
        event(closed, 'refused', nscBy, [], reason);
        notify(closed, 'refused', `照会 ${id} は回答できませんでした`, `Inquiry ${id} was refused`);
        break;
      }
      default: {
        // Mostly everything the case left to the service centre; now and then only part of it.
        const released = queued.length > 1 && rng.chance(0.1) ? queued.slice(0, queued.length - 1) : queued;
        const text = rng.chance(0.2) ? rng.pick(RELEASE_NOTES) : null;
        rows.push({
          ...open,
          released,
          // The service centre's note replaces the requester's, as a release with a note does.
          note: text ?? note,
          status: 'answered',
          closedAt: new Date(closed),
          closedBy: nscBy.user,
          closedByPerson: nscBy.person,
        });
        event(closed, 'answered', nscBy, released, text);
        notify(closed, 'answered', `照会 ${id} に回答がありました`, `Inquiry ${id} has been answered`);
      }
    }
  }

  // Notifications read within the day, but the personas' latest three (and whatever came in the last hours).
  notifications.sort((a, b) => a.at.getTime() - b.at.getTime());
  const personaPersons = new Set([other?.personId, retail?.personId]);
  const latestOf = new Map<string, number[]>();
  notifications.forEach((n, k) => latestOf.set(n.personId, [...(latestOf.get(n.personId) ?? []), k]));
  const unread = new Set<number>();
  for (const [person, ks] of latestOf) if (personaPersons.has(person)) for (const k of ks.slice(-3)) unread.add(k);
  notifications.forEach((n, k) => {
    const read = n.at.getTime() + Math.floor((5 + 600 * rng.next()) * MINUTE);
    if (!unread.has(k) && read < now) n.readAt = new Date(read);
  });
  events.sort((a, b) => a.at.getTime() - b.at.getTime() || a.inquiryId.localeCompare(b.inquiryId));

  return { inquiries: rows, events, notifications, equality: equalTreatment(rows.map(factOf), AFFILIATED_CODE, input.now) };
}

/** The row as the equal-treatment figures read it (governance/inquiries.ts, Inquiries.equalTreatment). */
function factOf(r: Row): InquiryFact {
  const queued = r.queued.length > 0;
  return {
    retailerCode: r.retailerCode,
    caseType: r.caseType,
    status: r.status,
    answeredAtOnce: r.status === 'answered' && !queued,
    queued,
    refusedByServiceCentre: r.refusalCode === 'service_centre',
    refusedAtIntake: r.refusalCode !== null && r.refusalCode.startsWith('consent_'),
    createdAt: r.createdAt,
    closedAt: r.closedAt,
    dueAt: r.dueAt,
    waitingMs: r.waitingMs,
  };
}

const INQUIRY_COLUMNS = [
  'id',
  'case_type',
  'supply_point_id',
  'items',
  'channel',
  'retailer_code',
  'requested_by',
  'requested_by_person',
  'consent_customer_name',
  'consent_method',
  'consent_given_at',
  'consent_reference',
  'consent_valid_until',
  'consent_state',
  'at_once',
  'queued',
  'never',
  'released',
  'status',
  'note',
  'created_at',
  'due_at',
  'waiting_ms',
  'asked_back_at',
  'closed_at',
  'closed_by',
  'closed_by_person',
  'refusal_code',
  'refusal_reason',
  'batch_id',
] as const;

/** Writes the month of inquiries into a store that has the people side already; returns how many. */
export async function seedInquiries(db: Db, input: HistoryInput): Promise<{ inquiries: number; queue: number }> {
  const h = inquiryHistory(input);
  await db.copyRows(
    'inquiries',
    INQUIRY_COLUMNS,
    h.inquiries.map((r) => [
      r.id,
      r.caseType,
      r.supplyPointId,
      r.items,
      'retailer',
      r.retailerCode,
      r.requestedBy,
      r.requestedByPerson,
      r.consent?.name ?? null,
      r.consent?.method ?? null,
      r.consent?.givenAt ?? null,
      r.consent?.reference ?? null,
      r.consent?.validUntil ?? null,
      r.consentState,
      r.atOnce,
      r.queued,
      r.never,
      r.released,
      r.status,
      r.note,
      r.createdAt,
      r.dueAt,
      r.waitingMs,
      r.askedBackAt,
      r.closedAt,
      r.closedBy,
      r.closedByPerson,
      r.refusalCode,
      r.refusalReason,
      r.batchId,
    ]),
  );
  await db.copyRows(
    'inquiry_events',
    ['inquiry_id', 'at', 'kind', 'by_user', 'by_person', 'items', 'note'],
    h.events.map((e) => [e.inquiryId, e.at, e.kind, e.byUser, e.byPerson, e.items, e.note]),
  );
  await db.copyRows(
    'notifications',
    ['person_id', 'at', 'kind', 'subject_type', 'subject_id', 'text_ja', 'text_en', 'read_at'],
    h.notifications.map((n) => [n.personId, n.at, n.kind, 'inquiry', n.subjectId, n.textJa, n.textEn, n.readAt]),
  );
  // The next inquiry asked in the demo follows the history's numbers.
  if (h.inquiries.length > 0) await db.query(`SELECT setval('inquiry_no', $1)`, [h.inquiries.length]);
  return { inquiries: h.inquiries.length, queue: h.inquiries.filter((r) => r.status === 'open' || r.status === 'asked_back').length };
}
