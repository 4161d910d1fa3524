/**
 * The demo's past: a quarter of access-log history for the demo's people, so that the analysis page, the
 * findings queue and the charts show something real on the first start.
 *
 * Every event is what the firewall would have logged: the records are the store's, each field is decided by
 * the firewall's own pure decision code (firewall/firewall.ts#viewRecord over the compiled decision table,
 * narrowed by the person's grants and terminal standing), and the event has the firewall's shape. The events
 * go through the log writer (chain, seals, monthly partitions), oldest first.
 *
 * Ordinary traffic: network call-centre agents and service-centre staff reading customers in office hours on
 * working days (weekends, public holidays and the year-end closure quiet), retail agents their own customers
 * (and other retailers' customers, of whom the firewall shows them only the public items), other retailers'
 * staff their own customers, a few look-ups of a supply point ID that does not exist (refused), and the
 * registered support agent's reads under the declared emergency of 25 days ago.
 *
 * Three patterns are planted (README, "Demo"):
 * - Tohoku-shaped bulk reading (F1, F6): a call-centre agent who sits at the network-set terminal standing in
 *   the retail customer centre reads other retailers' (mostly corporate) customers at many times their own and
 *   their peers' volume for a few days during a mass switching.
 * - Kyushu-shaped contractor reading (F2): staff of the call-centre contractor have in fact worked for the
 *   affiliated retailer's sales since a day in the quarter; HR told the network operator late, so the firewall
 *   served them under the network operator's grant, and the register is corrected on the first start (the
 *   reads show as a retail-side person's reads of other retailers' customers).
 * - The misplaced terminal (F1): reads from the network-set terminals standing in retail offices.
 */
import { scanLive } from '../analysis/review.ts';
import type { AccessEvent, AccessLog, LoggedRecord } from '../audit/access-event.ts';
import { SUPPLY_POINT_FIELD_KEYS } from '../domain/classification.ts';
import type { DecisionTable } from '../domain/decision-table.ts';
import { emergencyCover, type Declaration, type SupportRegistration } from '../domain/emergency.ts';
import { DAY_MS, JST_OFFSET_MS, japanDay } from '../domain/japan-time.ts';
import type { Employment, Side, StaffAssignment, Duty } from '../domain/organization.ts';
import { principalAt } from '../domain/principal.ts';
import type { Purpose } from '../domain/purpose.ts';
import type { StoredSupplyPoint } from '../domain/record.ts';
import { networkOnlyGate, standingOf, type TerminalFacts } from '../domain/terminal.ts';
import { viewRecord } from '../firewall/firewall.ts';
import { loadRecords } from '../store/customer-store.ts';
import { declarationsInForce, registrationAt } from '../store/emergency-store.ts';
import type { Db, Queryable } from '../store/db.ts';
import { ORG_AFFILIATED, ORG_CTR_CC, ORG_NW } from './people.ts';
import { Rng, at, streamSeed } from './rng.ts';

/** How many days before `now` the history covers. */
export const HISTORY_DAYS = 90;
const HOUR_MS = 3_600_000;
const LOOKUP_ROUTE = 'GET /api/supply-points/:id';

// ---------------------------------------------------------------------------------------------------------
// The Japanese calendar: public holidays (祝日法, with substitute and citizens' holidays) and the year-end closure.

/** The vernal and autumnal equinox days (valid 1980–2099, the usual approximation the Cabinet Office's dates follow). */
function equinoxDay(year: number, vernal: boolean): number {
  const base = vernal ? 20.8431 : 23.2488;
  return Math.floor(base + 0.242194 * (year - 1980) - Math.floor((year - 1980) / 4));
}

/** The nth Monday of a month (1-based month), as a day of the month. */
function nthMonday(year: number, month: number, n: number): number {
  const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  return 1 + ((8 - first) % 7) + (n - 1) * 7;
}

function statutoryHoliday(year: number, month: number, day: number): boolean {
  const fixed: readonly (readonly [number, number])[] = [
    [1, 1],
    [2, 11],
    [2, 23],
    [4, 29],
    [5, 3],
    [5, 4],
    [5, 5],
    [8, 11],
    [11, 3],
    [11, 23],
  ];
  if (fixed.some(([m, d]) => m === month && d === day)) return true;
  if (month === 1 && day === nthMonday(year, 1, 2)) return true;
  if (month === 7 && day === nthMonday(year, 7, 3)) return true;
  if (month === 9 && day === nthMonday(year, 9, 3)) return true;
  if (month === 10 && day === nthMonday(year, 10, 2)) return true;
  if (month === 3 && day === equinoxDay(year, true)) return true;
  if (month === 9 && day === equinoxDay(year, false)) return true;
  return false;
}

const ymdParts = (d: Date) => ({ y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), dow: d.getUTCDay() });

/**
 * Whether a calendar day `YYYY-MM-DD` is a Japanese public holiday: a statutory one, a substitute holiday (the
 * next working day after one on a Sunday) or a citizens' holiday (a weekday between two holidays). The law as it
 * stands since 2020 (the demo's quarter is always recent): earlier years' dates (天皇誕生日 on 23 December, the
 * Olympic years' moved holidays) are not modelled.
 */
export function isJapaneseHoliday(ymd: string): boolean {
  const day = new Date(`${ymd}T00:00:00Z`);
  const p = ymdParts(day);
  if (statutoryHoliday(p.y, p.m, p.d)) return true;
  const shifted = (n: number) => ymdParts(new Date(day.getTime() + n * DAY_MS));
  const isStatutory = (q: { y: number; m: number; d: number }) => statutoryHoliday(q.y, q.m, q.d);
  // Substitute: walking back over consecutive statutory holidays reaches one on a Sunday.
  for (let back = 1; back <= 7; back++) {
    const q = shifted(-back);
    if (!isStatutory(q)) break;
    if (q.dow === 0) return true;
  }
  // Citizens' holiday: between two statutory holidays (e.g. in September's Silver Week).
  return p.dow !== 0 && isStatutory(shifted(-1)) && isStatutory(shifted(1));
}

/** Whether offices work on a calendar day: not a weekend, a public holiday, or the year-end closure (29 Dec – 3 Jan). */
export function isWorkingDay(ymd: string): boolean {
  const p = ymdParts(new Date(`${ymd}T00:00:00Z`));
  if (p.dow === 0 || p.dow === 6) return false;
  if ((p.m === 12 && p.d >= 29) || (p.m === 1 && p.d <= 3)) return false;
  return !isJapaneseHoliday(ymd);
}

// ---------------------------------------------------------------------------------------------------------
// The people side, as the store holds it.

interface AccountFacts {
  readonly userId: string;
  readonly personId: string;
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
}

interface TerminalRow extends TerminalFacts {
  readonly id: string;
  readonly organizationId: string;
  readonly office: string;
}

interface Grant {
  readonly permission: string;
  readonly from: Date;
  readonly to: Date;
}

interface World {
  readonly affiliate: string;
  readonly accounts: readonly AccountFacts[];
  readonly assignments: readonly StaffAssignment[];
  readonly terminals: readonly TerminalRow[];
  readonly grants: ReadonlyMap<string, readonly Grant[]>;
  readonly personas: ReadonlyMap<string, string>;
}

/** A settings value: jsonb as the driver gives it (parsed, or its text). */
async function setting(q: Queryable, key: string): Promise<unknown> {
  const { rows } = await q.query<{ value: unknown }>('SELECT value FROM settings WHERE key = $1', [key]);
  const v = rows[0]?.value;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

async function affiliatedCode(q: Queryable): Promise<string> {
  const v = await setting(q, 'affiliated_retailer');
  if (typeof v !== 'string' || v === '') throw new Error('settings.affiliated_retailer is not set: the history needs a generated demo store');
  return v;
}

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));

async function readWorld(q: Queryable): Promise<World> {
  const affiliate = await affiliatedCode(q);
  const personas = new Map(
    (((await setting(q, 'demo_personas')) as { key: string; userId: string }[] | undefined) ?? []).map((p) => [p.key, p.userId] as const),
  );
  const accounts = (
    await q.query<Record<string, unknown>>('SELECT user_id, person_id, created_at, disabled_at FROM accounts WHERE person_id IS NOT NULL ORDER BY user_id')
  ).rows.map((r) => ({
    userId: String(r['user_id']),
    personId: String(r['person_id']),
    createdAt: date(r['created_at']),
    disabledAt: dateOrNull(r['disabled_at']),
  }));
  const engagements = (
    await q.query<Record<string, unknown>>('SELECT contractor_organization_id, client_organization_id, valid_from, valid_to FROM contractor_engagements')
  ).rows;
  const clientSide = (client: string): Side => (client === ORG_NW ? 'network' : 'retail');
  const assignments = (
    await q.query<Record<string, unknown>>(
      `SELECT s.person_id, s.organization_id, s.employment, s.side, s.retailer_code, s.office, s.duty, s.valid_from, s.valid_to, o.kind
         FROM staff_assignments s JOIN organizations o ON o.id = s.organization_id ORDER BY s.person_id, s.valid_from`,
    )
  ).rows.map((r): StaffAssignment => {
    const base = {
      personId: String(r['person_id']),
      organizationId: String(r['organization_id']),
      employment: String(r['employment']) as Employment,
      side: String(r['side']) as Side,
      retailerCode: (r['retailer_code'] as string | null) ?? null,
      office: String(r['office']),
      duty: String(r['duty']) as Duty,
      validFrom: date(r['valid_from']),
      validTo: dateOrNull(r['valid_to']),
    };
    if (r['kind'] !== 'contractor') return base;
    const engagedDuring = engagements
      .filter((e) => e['contractor_organization_id'] === base.organizationId && clientSide(String(e['client_organization_id'])) === base.side)
      .map((e) => ({ validFrom: date(e['valid_from']), validTo: dateOrNull(e['valid_to']) }));
    return { ...base, engagedDuring };
  });
  const terminals = (
    await q.query<Record<string, unknown>>('SELECT id, organization_id, office, setting, site_side, retired_at FROM terminals ORDER BY id')
  ).rows.map((r) => ({
    id: String(r['id']),
    organizationId: String(r['organization_id']),
    office: String(r['office']),
    setting: String(r['setting']) as TerminalFacts['setting'],
    siteSide: String(r['site_side']) as TerminalFacts['siteSide'],
    retiredAt: dateOrNull(r['retired_at']),
  }));
  const grants = new Map<string, Grant[]>();
  for (const r of (
    await q.query<Record<string, unknown>>(
      `SELECT user_id, permission_id, decided_at, expires_at, revoked_at FROM grants WHERE status IN ('approved', 'revoked') ORDER BY id`,
    )
  ).rows) {
    const list = grants.get(String(r['user_id'])) ?? [];
    const revoked = dateOrNull(r['revoked_at']);
    const expires = date(r['expires_at']);
    list.push({ permission: String(r['permission_id']), from: date(r['decided_at']), to: revoked !== null && revoked < expires ? revoked : expires });
    grants.set(String(r['user_id']), list);
  }
  return { affiliate, accounts, assignments, terminals, grants, personas };
}

const holdsAt = (w: World, userId: string, permission: string, t: Date) =>
  (w.grants.get(userId) ?? []).some((g) => g.permission === permission && g.from <= t && t < g.to);

// ---------------------------------------------------------------------------------------------------------
// Who reads what.

type Role = 'call_centre' | 'service_centre' | 'retail' | 'retail_contractor' | 'other_retailer';

/** Look-ups per working day, on average, by role. */
// Fewer than a real call centre's: a first start stays quick (about 13,000 events in all; README, "The demo has a past").
const DAILY: Readonly<Record<Role, number>> = { call_centre: 2.6, service_centre: 1.2, retail: 0.9, retail_contractor: 0.7, other_retailer: 1 };

interface Reader {
  readonly account: AccountFacts;
  readonly role: Role;
  /** The person's own pace against the role's average. */
  readonly pace: number;
  readonly terminalId: string | null;
  /** Another terminal the person sometimes uses (the misplaced one in the retail customer centre), and how often. */
  readonly sometimes: { readonly terminalId: string; readonly share: number } | null;
}

interface Pools {
  /** Supply points by the retailer supplying them at `now` (`''`: vacant or last resort). */
  readonly byRetailer: ReadonlyMap<string, readonly string[]>;
  /** Every supply point in the pools. */
  readonly all: readonly string[];
  /** Other retailers' corporate customers, then individual ones: what the bulk reader goes through. */
  readonly bulk: readonly string[];
  /** Other retailers' customers (any type). */
  readonly others: readonly string[];
}

interface Plan {
  readonly at: number;
  readonly userId: string;
  readonly personId: string;
  readonly terminalId: string | null;
  readonly sessionId: string;
  readonly requestId: string;
  readonly purpose: Purpose;
  /** The supply point asked for; `missing` a mistyped ID (not found). */
  readonly supplyPointId: string;
  readonly missing: boolean;
  readonly statedReason: string | null;
}

export interface HistoryPlanted {
  /** The Tohoku-shaped bulk reader: login, person, the misplaced terminal, and the days of bulk reading. */
  readonly bulkReader: { readonly userId: string; readonly personId: string; readonly terminalId: string; readonly days: readonly string[] };
  /** The Kyushu-shaped contractor staff and the day each began working for the affiliated retailer. */
  readonly contractors: readonly { readonly userId: string; readonly personId: string; readonly since: string }[];
  /** The network-set terminals standing in retail offices. */
  readonly misplacedTerminals: readonly string[];
}

export interface HistoryPlan {
  readonly events: readonly AccessEvent[];
  readonly planted: HistoryPlanted;
}

export interface HistoryOptions {
  readonly seed: number;
  readonly now: Date;
  /**
   * Multiplies the ordinary traffic; the planted patterns keep their size. Default: the area's size against the
   * default demo's 20,000 supply points (from 0.1 to 1), so a small area made for a test gets a short history.
   */
  readonly scale?: number;
}

function uuidLike(rng: Rng): string {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[rng.int(0, 3)] ?? '8'}${hex(3)}-${hex(12)}`;
}

/** A count drawn around `mean` (a sum of uniform draws: never negative, rarely far from the mean). */
function around(rng: Rng, mean: number): number {
  return Math.max(0, Math.round(mean * (0.5 + rng.next() * 0.5 + rng.next() * 0.5)));
}

/** The first instant (JST midnight) of the Japan day of `t`. */
const dayStartOf = (t: number) => Math.floor((t + JST_OFFSET_MS) / DAY_MS) * DAY_MS - JST_OFFSET_MS;

/** An instant in office hours (8:30–19:00, busiest late morning and after lunch) of the day starting at `day`. */
function officeHour(rng: Rng, day: number): number {
  const hour = 8.5 + 10.5 * ((rng.next() + rng.next() + rng.next()) / 3);
  return day + Math.floor(hour * HOUR_MS) + rng.int(0, 59_999);
}

function roleOf(a: StaffAssignment): Role | null {
  if (a.side === 'network') return a.duty === 'call_centre' ? 'call_centre' : a.duty === 'service_centre' ? 'service_centre' : null;
  if (a.side === 'other_retailer') return 'other_retailer';
  return a.employment === 'contractor' ? 'retail_contractor' : 'retail';
}

const NETWORK_PURPOSES: Readonly<Record<'call_centre' | 'service_centre', readonly Purpose[]>> = {
  call_centre: ['customer_inquiry', 'customer_inquiry', 'customer_inquiry', 'switching_support', 'wheeling_billing', 'outage_response'],
  service_centre: ['network_construction', 'network_construction', 'meter_reading', 'outage_response', 'customer_inquiry'],
};

async function readPools(q: Queryable, now: Date, affiliate: string, rng: Rng): Promise<Pools> {
  const { rows } = await q.query<{ id: string; retailer: string | null; last_resort: boolean; type: string }>(
    `SELECT c.supply_point_id AS id, c.retailer_code AS retailer, c.last_resort, cu.type
       FROM contracts c JOIN customers cu ON cu.id = c.customer_id
      WHERE c.valid_from <= $1 AND (c.valid_to IS NULL OR c.valid_to > $1) ORDER BY c.supply_point_id`,
    [now],
  );
  const byRetailer = new Map<string, string[]>();
  const corporate: string[] = [];
  const individual: string[] = [];
  for (const r of rows) {
    const code = r.last_resort || r.retailer === null ? '' : r.retailer;
    const list = byRetailer.get(code);
    if (list === undefined) byRetailer.set(code, [r.id]);
    else list.push(r.id);
    if (code !== '' && code !== affiliate) (r.type === 'corporate' ? corporate : individual).push(r.id);
  }
  // A sample of each retailer's customers keeps the records loaded few; the bulk reader's pool is whole.
  const sampled = new Map<string, string[]>();
  for (const [code, ids] of [...byRetailer].sort(([a], [b]) => a.localeCompare(b)))
    sampled.set(code, rng.shuffled(ids).slice(0, code === affiliate ? 700 : 100));
  const bulk = [...rng.shuffled(corporate), ...rng.shuffled(individual)].slice(0, 1200);
  const others = [...sampled].filter(([code]) => code !== '' && code !== affiliate).flatMap(([, ids]) => ids);
  // The network side reads every retailer's customers: a sample of them (the records loaded stay few).
  const all = rng.shuffled([...new Set([...[...sampled.values()].flat(), ...bulk])]).slice(0, 1500);
  return { byRetailer: sampled, all, bulk, others };
}

/** The default demo's area (GRIDWALL_DEMO_SUPPLY_POINTS) gets the full history; a smaller one less. */
async function defaultScale(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM supply_points');
  return Math.min(1, Math.max(0.1, (rows[0]?.n ?? 0) / 20_000));
}

/** One of `items`, or of `fallback` when `items` is empty (a small area may have no customers of a kind). */
function pickOr<T>(rng: Rng, items: readonly T[], fallback: readonly T[]): T {
  return rng.pick(items.length > 0 ? items : fallback);
}

/**
 * Plans the quarter: who reads which supply point when, under which purpose, from which terminal. Pure given
 * the store's people and contracts, the seed and `now`: the same store, seed and instant give the same events.
 */
export async function planHistory(db: Queryable, table: DecisionTable, opts: HistoryOptions): Promise<HistoryPlan> {
  const seed = opts.seed >>> 0;
  const now = opts.now.getTime();
  const world = await readWorld(db);
  const scale = opts.scale ?? (await defaultScale(db));
  const pools = await readPools(db, opts.now, world.affiliate, new Rng(streamSeed(seed, 70)));
  const rng = new Rng(streamSeed(seed, 71));
  const firstDay = dayStartOf(now - HISTORY_DAYS * DAY_MS);
  const today = dayStartOf(now);
  const days: number[] = [];
  for (let d = firstDay; d < today; d += DAY_MS) days.push(d);
  const working = days.filter((d) => isWorkingDay(japanDay(new Date(d))));

  const misplaced = world.terminals.filter((t) => t.setting === 'network' && t.siteSide !== 'network' && t.retiredAt === null);
  const deskAt = (office: string, setting: 'network' | 'retail') =>
    world.terminals.filter((t) => t.office === office && t.setting === setting && t.siteSide === (setting === 'network' ? 'network' : 'retail'));
  const assignmentOf = (personId: string, t: Date) => principalAt(personId, world.assignments, t).assignment;

  // Everyone who reads: an account in use, of a person with a reading duty in force at `now`.
  const readers: Reader[] = [];
  const personaIds = new Set(world.personas.values());
  for (const account of world.accounts) {
    if (account.disabledAt !== null && account.disabledAt.getTime() <= firstDay) continue;
    const a = assignmentOf(account.personId, opts.now);
    const role = a === null ? null : roleOf(a);
    if (a === null || role === null) continue;
    const desks = deskAt(a.office, a.side === 'network' ? 'network' : 'retail');
    const terminal = a.side === 'other_retailer' || desks.length === 0 ? null : rng.pick(desks).id;
    const atRetailCentre = misplaced.find((t) => t.office === a.office && a.side === 'retail');
    readers.push({
      account,
      role,
      pace: personaIds.has(account.userId) ? 1 : 0.6 + rng.next() * 0.8,
      terminalId: terminal,
      sometimes: atRetailCentre === undefined ? null : { terminalId: atRetailCentre.id, share: 0.04 },
    });
  }

  // The planted people, chosen among the ordinary ones (never a persona).
  const ordinary = (role: Role, org: string) =>
    readers.filter((r) => r.role === role && !personaIds.has(r.account.userId) && assignmentOf(r.account.personId, opts.now)?.organizationId === org);
  const retailCentreTerminal = misplaced[0];
  const ccAgents = ordinary('call_centre', ORG_NW);
  const contractorStaff = ordinary('call_centre', ORG_CTR_CC);
  if (retailCentreTerminal === undefined || ccAgents.length === 0 || contractorStaff.length < 3 || pools.all.length === 0)
    throw new Error('the demo store lacks the people the history plants its patterns on (a misplaced terminal, call-centre agents, contractor staff)');
  const bulkIndex = rng.int(0, ccAgents.length - 1);
  const bulkReader = at(ccAgents, bulkIndex);
  readers[readers.indexOf(bulkReader)] = { ...bulkReader, terminalId: retailCentreTerminal.id, sometimes: null, pace: 1 };
  const recent = working.filter((d) => d < today - 14 * DAY_MS && d >= today - 30 * DAY_MS);
  const bulkStart = recent.length >= 4 ? recent.length - 4 : 0;
  const bulkDays = recent.slice(bulkStart, bulkStart + 4);
  const kyushu = rng
    .shuffled(contractorStaff)
    .slice(0, 3)
    .map((r, i) => ({ reader: r, since: dayStartOf(now - at([52, 45, 38], i) * DAY_MS) }));

  const plans: Plan[] = [];
  const sessionFor = new Map<string, string>();
  const session = (userId: string, day: number) => {
    const key = `${userId}|${day}`;
    let s = sessionFor.get(key);
    if (s === undefined) {
      s = uuidLike(rng);
      sessionFor.set(key, s);
    }
    return s;
  };
  const affiliateIds = pools.byRetailer.get(world.affiliate) ?? [];
  const everyone = pools.all;
  // A mistyped ID: the area's code and 20 random digits (a real one among 10^20 is not hit).
  const areaCode = at(everyone, 0).slice(0, 2);
  const missingId = (): string => `${areaCode}${String(rng.int(0, 9_999_999_999)).padStart(10, '0')}9${String(rng.int(0, 999_999_999)).padStart(9, '0')}`;
  const plan = (r: Reader, t: number, purpose: Purpose, supplyPointId: string, extra: Partial<Pick<Plan, 'missing' | 'statedReason' | 'terminalId'>> = {}) => {
    const terminal =
      extra.terminalId !== undefined ? extra.terminalId : r.sometimes !== null && rng.chance(r.sometimes.share) ? r.sometimes.terminalId : r.terminalId;
    plans.push({
      at: t,
      userId: r.account.userId,
      personId: r.account.personId,
      terminalId: terminal,
      sessionId: session(r.account.userId, dayStartOf(t)),
      requestId: uuidLike(rng),
      purpose,
      supplyPointId,
      missing: extra.missing ?? false,
      statedReason: extra.statedReason ?? null,
    });
  };

  for (const day of days) {
    const workday = working.includes(day);
    for (const r of readers) {
      if (r.account.createdAt.getTime() > day || (r.account.disabledAt !== null && r.account.disabledAt.getTime() <= day + DAY_MS)) continue;
      const a = assignmentOf(r.account.personId, new Date(day + 12 * HOUR_MS));
      if (a === null || roleOf(a) !== r.role) continue;
      // Weekends and holidays: only the service centres' outage duty, now and then.
      const mean = workday ? DAILY[r.role] * r.pace * scale : r.role === 'service_centre' && rng.chance(0.04) ? 2 : 0;
      const n = around(rng, mean);
      const contractor = kyushu.find((k) => k.reader === r);
      const forRetail = contractor !== undefined && day >= contractor.since;
      for (let i = 0; i < n; i++) {
        const t = officeHour(rng, day);
        if (rng.chance(0.01)) {
          plan(
            r,
            t,
            r.role === 'call_centre' ? 'customer_inquiry' : r.role === 'service_centre' ? 'network_construction' : 'own_customer_service',
            missingId(),
            {
              missing: true,
            },
          );
          continue;
        }
        switch (r.role) {
          case 'call_centre':
          case 'service_centre': {
            // The contractor staff working for the retailer's sales look mostly at new entrants' customers.
            const id = forRetail && rng.chance(0.75) ? pickOr(rng, pools.others, everyone) : rng.pick(everyone);
            plan(r, t, forRetail ? rng.pick(['switching_support', 'customer_inquiry'] as const) : rng.pick(NETWORK_PURPOSES[r.role]), id);
            break;
          }
          case 'retail':
          case 'retail_contractor': {
            // Their own customers; now and then a new entrant's (a customer thinking of switching), of whom only the public items show.
            const own = rng.chance(0.88);
            plan(r, t, own ? 'own_customer_service' : 'switching_support', own ? pickOr(rng, affiliateIds, everyone) : rng.pick(everyone));
            break;
          }
          case 'other_retailer': {
            const code = a.retailerCode ?? '';
            plan(r, t, 'own_customer_service', pickOr(rng, pools.byRetailer.get(code) ?? [], everyone));
            break;
          }
        }
      }
    }
  }

  // Tohoku: the bulk days, 9:00 to 21:00, through the mass switching's customers (corporate first).
  const bulkPlanned = readers.find((r) => r.account.userId === bulkReader.account.userId) ?? bulkReader;
  let cursor = 0;
  for (const [i, day] of bulkDays.entries()) {
    const n = [220, 380, 520, 340][i] ?? 300;
    for (let k = 0; k < n; k++) {
      const t = day + Math.floor((9 + (12 * k) / n) * HOUR_MS) + rng.int(0, 59_999);
      const bulk = pools.bulk.length > 0 ? pools.bulk : pools.all;
      plan(bulkPlanned, t, 'switching_support', at(bulk, cursor % bulk.length));
      cursor++;
    }
  }

  // The registered support agent under the typhoon of 25 days ago: outage contact, with a reason each time.
  await planEmergencyReads(db, world, pools, rng, firstDay, now, (r, t, id, reason) => plan(r, t, 'emergency_support', id, { statedReason: reason }), readers);

  plans.sort((x, y) => x.at - y.at || x.requestId.localeCompare(y.requestId));
  const events = await decide(db, table, world, plans);
  return {
    events,
    planted: {
      bulkReader: {
        userId: bulkReader.account.userId,
        personId: bulkReader.account.personId,
        terminalId: retailCentreTerminal.id,
        days: bulkDays.map((d) => japanDay(new Date(d))),
      },
      contractors: kyushu.map((k) => ({ userId: k.reader.account.userId, personId: k.reader.account.personId, since: japanDay(new Date(k.since)) })),
      misplacedTerminals: misplaced.map((t) => t.id),
    },
  };
}

async function planEmergencyReads(
  db: Queryable,
  world: World,
  pools: Pools,
  rng: Rng,
  firstDay: number,
  now: number,
  plan: (r: Reader, t: number, id: string, reason: string) => void,
  readers: readonly Reader[],
): Promise<void> {
  const agent = readers.find((r) => r.account.userId === world.personas.get('retail-agent'));
  if (agent === undefined) return;
  const { rows } = await db.query<{ id: string; starts_at: Date | string }>(
    `SELECT id, starts_at FROM emergency_declarations WHERE status = 'confirmed' AND starts_at >= $1 AND starts_at < $2 ORDER BY starts_at LIMIT 1`,
    [new Date(firstDay), new Date(now)],
  );
  const declaration = rows[0];
  if (declaration === undefined) return;
  const start = date(declaration.starts_at).getTime();
  // The customers of the declared area: an agent calling back the people who called about the outage.
  const inArea = (
    await db.query<{ id: string }>(
      `SELECT sp.id FROM supply_points sp WHERE sp.id = ANY($1) AND sp.prefecture IN (SELECT prefecture FROM emergency_areas WHERE declaration_id = $2) ORDER BY sp.id`,
      [pools.all, declaration.id],
    )
  ).rows.map((r) => r.id);
  if (inArea.length === 0) return;
  const reasons = ['停電中のお客さまへの復旧見込みの連絡', '停電のお問い合わせへの折り返し連絡', '医療機器を使用するお客さまの安否確認'];
  // Fewer than the off-hours rule counts (a typhoon may well fall on a weekend): support, not a pattern.
  const n = 15;
  for (let k = 0; k < n; k++) {
    const t = start + 2 * HOUR_MS + Math.floor((k / n) * 10 * HOUR_MS) + rng.int(0, 59_999);
    plan(agent, t, rng.pick(inArea), rng.pick(reasons));
  }
}

/** Decides every planned read as the firewall does and builds the events it would have logged. */
async function decide(db: Queryable, table: DecisionTable, world: World, plans: readonly Plan[]): Promise<AccessEvent[]> {
  const records = new Map<string, StoredSupplyPoint>();
  const ids = [...new Set(plans.filter((p) => !p.missing).map((p) => p.supplyPointId))].sort();
  for (let i = 0; i < ids.length; i += 1000) for (const r of await loadRecords(db, ids.slice(i, i + 1000))) records.set(r.id, r);
  const terminals = new Map(world.terminals.map((t) => [t.id, t]));
  const emergency = new Map<number, { registration: SupportRegistration | null; declarations: Declaration[] }>();
  const events: AccessEvent[] = [];
  for (const p of plans) {
    const t = new Date(p.at);
    const principal = principalAt(p.personId, world.assignments, t);
    const a = principal.assignment;
    const event = (
      outcome: 'served' | 'refused',
      refusal: string | null,
      query: Record<string, unknown>,
      logged: readonly LoggedRecord[],
      emergencyId: string | null = null,
    ): AccessEvent => ({
      occurredAt: t,
      requestId: p.requestId,
      personId: p.personId,
      userId: p.userId,
      sessionId: p.sessionId,
      principalClass: principal.principalClass,
      side: a?.side ?? null,
      organizationId: a?.organizationId ?? null,
      employment: a?.employment ?? null,
      office: a?.office ?? null,
      terminalId: p.terminalId,
      route: LOOKUP_ROUTE,
      purpose: p.purpose,
      outcome,
      refusal,
      query,
      records: logged,
      policyVersion: table.version,
      emergencyId,
    });
    const query: Record<string, unknown> = p.statedReason === null ? { by: 'id' } : { by: 'id', reason: p.statedReason };
    if (!holdsAt(world, p.userId, 'customer.read', t)) {
      events.push(event('refused', 'permission_not_granted', { by: 'id', supplyPointId: p.supplyPointId }, []));
      continue;
    }
    const record = p.missing ? undefined : records.get(p.supplyPointId);
    if (record === undefined) {
      events.push(event('refused', 'not_found', { ...query, supplyPointId: p.supplyPointId }, []));
      continue;
    }
    let covered: { id: string; fields: ReadonlySet<string> } | null = null;
    if (p.purpose === 'emergency_support') {
      const hour = Math.floor(p.at / HOUR_MS);
      let e = emergency.get(hour);
      if (e === undefined) {
        e = { registration: await registrationAt(db, p.personId, t), declarations: await declarationsInForce(db, t) };
        emergency.set(hour, e);
      }
      const cover = emergencyCover(
        e.registration,
        e.declarations,
        { areaCode: record.areaCode, prefecture: record.address.prefecture, city: record.address.city },
        t,
      );
      if (cover.kind === 'refused' || !holdsAt(world, p.userId, 'emergency.support', t)) {
        // As the firewall logs a refused emergency read: the point asked for, nothing of it shown.
        const nothing = viewRecord(table, principal, record, [], { at: t, purpose: p.purpose, emergency: false, networkOnly: null });
        events.push(event('refused', cover.kind === 'refused' ? cover.reason : 'not_emergency_support', query, [nothing.logged]));
        continue;
      }
      covered = { id: cover.declarationId, fields: new Set<string>(cover.fields) };
    }
    const terminal = p.terminalId === null ? null : (terminals.get(p.terminalId) ?? null);
    const networkOnly = networkOnlyGate(holdsAt(world, p.userId, 'network.equipment', t), standingOf(p.terminalId, terminal, t));
    const out = viewRecord(table, principal, record, SUPPLY_POINT_FIELD_KEYS, {
      at: t,
      purpose: p.purpose,
      emergency: covered !== null,
      networkOnly,
      emergencyFields: covered?.fields ?? null,
    });
    events.push(event('served', null, query, [out.logged], covered?.id ?? null));
  }
  return events;
}

/**
 * The register as HR corrected it on the first start: the contractor staff of the Kyushu pattern have worked
 * for the affiliated retailer's sales (their company engaged by it) since the day each began. Until now the
 * register said they worked for the network operator's call centre — which is what the firewall decided by.
 */
async function correctRegister(db: Queryable, planted: HistoryPlanted, affiliate: string): Promise<void> {
  const first = planted.contractors.map((c) => c.since).sort()[0];
  if (first === undefined) return;
  await db.query(`INSERT INTO contractor_engagements (contractor_organization_id, client_organization_id, valid_from, valid_to) VALUES ($1, $2, $3, NULL)`, [
    ORG_CTR_CC,
    ORG_AFFILIATED,
    `${first}T00:00:00+09:00`,
  ]);
  for (const c of planted.contractors) {
    const since = `${c.since}T00:00:00+09:00`;
    const { rows } = await db.query<{ office: string }>(
      `UPDATE staff_assignments SET valid_to = $2 WHERE person_id = $1 AND valid_to IS NULL AND side = 'network' RETURNING office`,
      [c.personId, since],
    );
    await db.query(
      `INSERT INTO staff_assignments (person_id, organization_id, employment, side, retailer_code, office, duty, valid_from, valid_to)
       VALUES ($1, $2, 'contractor', 'retail', $3, $4, 'retail_sales', $5, NULL)`,
      [c.personId, ORG_CTR_CC, affiliate, rows[0]?.office ?? '', since],
    );
  }
}

export interface HistorySummary {
  readonly events: number;
  readonly served: number;
  readonly refused: number;
  readonly from: string;
  readonly to: string;
  readonly planted: HistoryPlanted;
}

/**
 * Writes the quarter into a freshly generated demo store through the log writer (oldest first, in group
 * commits; the writer makes the past months' partitions), then corrects the register as HR did (the Kyushu
 * pattern). The caller runs the scan over the quarter (review.ts#scanLive) so the findings queue holds what
 * the rules find.
 */
export async function seedHistory(db: Db, log: AccessLog, table: DecisionTable, opts: HistoryOptions): Promise<HistorySummary> {
  const { events, planted } = await planHistory(db, table, opts);
  const CHUNK = 5000;
  for (let i = 0; i < events.length; i += CHUNK) await Promise.all(events.slice(i, i + CHUNK).map((e) => log.append(e)));
  await correctRegister(db, planted, await affiliatedCode(db));
  const first = events[0];
  const last = events[events.length - 1];
  return {
    events: events.length,
    served: events.filter((e) => e.outcome === 'served').length,
    refused: events.filter((e) => e.outcome === 'refused').length,
    from: first === undefined ? '' : japanDay(first.occurredAt),
    to: last === undefined ? '' : japanDay(last.occurredAt),
    planted,
  };
}

/**
 * The demo's past on a first start: the quarter written through `log`, then the scan over it that the
 * analysis page runs (review.ts#scanLive), so the findings queue holds what the rules find — the bulk reader,
 * the contractor staff's reads, the misplaced terminals — when the compliance officer first looks.
 */
export async function seedDemoPast(
  db: Db,
  log: AccessLog,
  table: DecisionTable,
  opts: HistoryOptions & { readonly onProgress?: (m: string) => void },
): Promise<HistorySummary & { readonly findings: number }> {
  const say = opts.onProgress ?? (() => undefined);
  const t0 = Date.now();
  const history = await seedHistory(db, log, table, opts);
  say(
    `access history: ${history.events.toLocaleString('en')} events from ${history.from} to ${history.to} (${history.refused} refused) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const t1 = Date.now();
  const scan = await scanLive(db, { from: japanDay(new Date(opts.now.getTime() - HISTORY_DAYS * DAY_MS)), to: japanDay(opts.now) }, opts.now);
  say(`scanned the quarter: ${scan.queued} findings queued for review in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  return { ...history, findings: scan.queued };
}
