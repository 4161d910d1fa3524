import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCp932 } from './cp932.ts';

/**
 * Legacy exports with known ground truth, shaped after the regulator's cases (domain.md): Kyushu (per system,
 * own staff / contractors, distinct terminals, last-resort apart), Chugoku (distinct contracts and retailers),
 * Tohoku (offices, people split, contractor companies, one person bulk-reading corporate records). Every
 * log row is written by a plan that says what it is; the expected numbers are tallied from those plans, never
 * by evaluating the validity periods the analysis must honour.
 *
 * Traps the analysis must not fall into: a mover counted only while on the retail side; a switched point
 * counted only after the switch; network staff, the affiliate's own customers, public-only fields, vacant
 * points and reads outside the period never counted; a leaver's and an unknown ID's reads; bad rows.
 */

export const AFFILIATE = 'A0001';
export const PERIOD = { from: '2022-10-05', to: '2023-01-05' } as const;
export const SYSTEMS = ['託送コールセンターシステム', 'NWオンラインシステム'] as const;

type Kind = 'view' | 'last_resort' | 'not_counted' | 'no_contract';

interface Planned {
  readonly system: string;
  readonly at: string;
  readonly user: string;
  readonly terminal: string;
  readonly point: string;
  readonly fields: string;
  /** The legacy screen the row was read on: named in the first system's log, empty in the second's. */
  readonly screen?: string;
  readonly kind: Kind;
  /** For views: facts of the viewer and the point, as the plan knows them. */
  readonly person?: string;
  readonly employment?: 'employee' | 'contractor';
  readonly office?: string;
  readonly organization?: string;
  readonly retailer?: string;
  readonly customer?: string;
  readonly customerType?: 'individual' | 'corporate';
  readonly former?: boolean;
}

export interface Expected {
  readonly rows: { read: number; used: number; rejected: number; outsidePeriod: number };
  readonly systems: Readonly<Record<string, Tally>>;
  readonly total: Tally;
  readonly viewers: readonly {
    userId: string;
    views: number;
    corporate: { views: number; customers: number };
    individual: { views: number; customers: number };
  }[];
  readonly rejected: readonly { file: string; line: number; reason: RegExp }[];
  readonly bulkReader: string;
  readonly misplacedTerminal: string;
  readonly withoutPerson: readonly string[];
  readonly offHours: string;
  readonly dormant: string;
}

export interface Tally {
  views: { employee: number; contractor: number; total: number };
  lastResortViews: number;
  noContractViews: number;
  emergencyViews: number;
  inquiryViews: number;
  formerCustomerViews: number;
  terminals: number;
  people: { employee: number; contractor: number; total: number };
  offices: number;
  contractorOrganizations: number;
  supplyPoints: number;
  retailers: number;
  /** Per screen, highest first: for a system whose log names screens (formats.md `systems[].screens`). */
  screens?: { screen: string; views: { employee: number; contractor: number; total: number } }[];
}

/** The screens of the first system's log (the second system's log leaves the column empty). */
export const SCREENS = ['需要家情報照会', '契約照会', '使用量照会'] as const;

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be rerun. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pid = (n: number) => `02${String(n).padStart(20, '0')}`;
/** A supply point ID as some exports write it, with hyphens. */
const hyphenated = (id: string) => id.replace(/(\d{4})(?=\d)/g, '$1-');

export interface Dataset {
  readonly dir: string;
  readonly files: { staff: string; terminals: string; contracts: string; logs: string[] };
  readonly expected: Expected;
}

export function writeDataset(dir: string, opts: { seed?: number; cp932?: boolean } = {}): Dataset {
  mkdirSync(dir, { recursive: true });
  const rand = rng(opts.seed ?? 2022);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

  // --- People (staff.csv) --------------------------------------------------------------------------------
  const NW = '北日本電力ネットワーク株式会社';
  const AFF = '北日本電力株式会社';
  const CTR = ['みちのく営業サポート株式会社', '東北コールサービス株式会社'] as const;
  const OFFICES = ['仙台営業所', '盛岡営業所', '秋田営業所', '山形営業所'] as const;
  type Person = {
    user: string;
    person: string;
    organization: string;
    side: string;
    employment: 'employee' | 'contractor';
    office: string;
    from: string;
    to: string;
  };
  const staff: Person[] = [];
  const employees: Person[] = [];
  const contractors: Person[] = [];
  for (let i = 1; i <= 12; i++) {
    const p: Person = {
      user: `aff${i}`,
      person: `P-aff${i}`,
      organization: AFF,
      side: 'retail',
      employment: 'employee',
      office: OFFICES[i % OFFICES.length] ?? '仙台営業所',
      from: '2015-04-01',
      to: '',
    };
    staff.push(p);
    employees.push(p);
  }
  for (let i = 1; i <= 8; i++) {
    const p: Person = {
      user: `ctr${i}`,
      person: `P-ctr${i}`,
      organization: CTR[i % 2] ?? CTR[0],
      side: 'retail',
      employment: 'contractor',
      office: i % 2 === 0 ? '仙台センター' : '郡山センター',
      from: '2018-04-01',
      to: '',
    };
    staff.push(p);
    contractors.push(p);
  }
  const network = Array.from({ length: 4 }, (_, i): Person => ({
    user: `nw${i + 1}`,
    person: `P-nw${i + 1}`,
    organization: NW,
    side: 'network',
    employment: 'employee',
    office: '仙台託送センター',
    from: '2010-04-01',
    to: '',
  }));
  staff.push(...network);
  // The bulk reader (Tohoku): an employee of the affiliate at 仙台営業所.
  const bulk: Person = {
    user: 'aff-bulk',
    person: 'P-bulk',
    organization: AFF,
    side: 'retail',
    employment: 'employee',
    office: '仙台営業所',
    from: '2012-04-01',
    to: '',
  };
  staff.push(bulk);
  // A mover: retail until 2022-11-15 (inclusive, as HR writes it), network from 2022-11-16.
  staff.push({
    user: 'mover',
    person: 'P-mover',
    organization: AFF,
    side: 'retail',
    employment: 'employee',
    office: '仙台営業所',
    from: '2016-04-01',
    to: '2022-11-15',
  });
  staff.push({
    user: 'mover',
    person: 'P-mover',
    organization: NW,
    side: 'network',
    employment: 'employee',
    office: '仙台託送センター',
    from: '2022-11-16',
    to: '',
  });
  // An ID that reads on the first day and then not again for three months.
  const sleeper: Person = {
    user: 'aff-sleeper',
    person: 'P-sleeper',
    organization: AFF,
    side: 'retail',
    employment: 'employee',
    office: '山形営業所',
    from: '2014-04-01',
    to: '',
  };
  staff.push(sleeper);
  // A leaver whose ID stayed usable (F2).
  staff.push({
    user: 'leaver',
    person: 'P-leaver',
    organization: AFF,
    side: 'retail',
    employment: 'employee',
    office: '秋田営業所',
    from: '2010-04-01',
    to: '2022-06-30',
  });
  // The off-hours reader: a contractor at night.
  const night: Person = {
    user: 'ctr-night',
    person: 'P-night',
    organization: CTR[0],
    side: 'retail',
    employment: 'contractor',
    office: '郡山センター',
    from: '2019-04-01',
    to: '',
  };
  staff.push(night);

  // --- Terminals --------------------------------------------------------------------------------------------
  const terminals: { id: string; setting: string; organization: string; office: string }[] = [];
  for (let i = 1; i <= 10; i++) terminals.push({ id: `RT-${String(i).padStart(3, '0')}`, setting: 'retail', organization: AFF, office: pick(OFFICES) });
  for (let i = 1; i <= 4; i++) terminals.push({ id: `CT-${i}`, setting: 'retail', organization: CTR[i % 2] ?? CTR[0], office: '仙台センター' });
  for (let i = 1; i <= 3; i++) terminals.push({ id: `NW-${i}`, setting: 'network', organization: NW, office: '仙台託送センター' });
  const misplaced = { id: 'NW-RT9', setting: 'network', organization: AFF, office: '仙台営業所' };
  terminals.push(misplaced);
  const retailTerminals = terminals.filter((t) => t.setting === 'retail').map((t) => t.id);

  // --- Contracts ------------------------------------------------------------------------------------------
  const RETAILERS = ['R0002', 'R0003', 'R0004', 'R0005', 'R0006', 'R0007'] as const;
  type Point = { id: string; customer: string; type: 'individual' | 'corporate'; retailer: string; lastResort: boolean };
  const contracts: string[][] = [];
  const others: Point[] = [];
  for (let i = 1; i <= 120; i++) {
    const p: Point = { id: pid(i), customer: `CI${i}`, type: 'individual', retailer: RETAILERS[i % RETAILERS.length] ?? 'R0002', lastResort: false };
    others.push(p);
    contracts.push([p.id, p.customer, p.type, p.retailer, `${p.retailer}電力`, 'false', '2017-04-01', '']);
  }
  // Eight corporate customers of new entrants, 20 points each (the top viewer's targets).
  const corporate: Point[] = [];
  for (let c = 1; c <= 8; c++) {
    for (let k = 1; k <= 20; k++) {
      const p: Point = {
        id: pid(1000 + c * 100 + k),
        customer: `CC${c}`,
        type: 'corporate',
        retailer: RETAILERS[c % RETAILERS.length] ?? 'R0002',
        lastResort: false,
      };
      corporate.push(p);
      contracts.push([p.id, p.customer, p.type, p.retailer, `${p.retailer}電力`, '0', '2018-04-01', '']);
    }
  }
  // Switched from the affiliate to R0002 on 2022-11-01 (the old contract's last day written as 2022-10-31).
  const switched: Point[] = [];
  for (let i = 1; i <= 10; i++) {
    const id = pid(5000 + i);
    contracts.push([id, `CS${i}`, 'individual', AFFILIATE, '北日本電力', 'no', '2010-01-01', '2022-10-31']);
    contracts.push([hyphenated(id), `CS${i}`, 'individual', 'R0002', 'R0002電力', 'no', '2022/11/01', '']);
    switched.push({ id, customer: `CS${i}`, type: 'individual', retailer: 'R0002', lastResort: false });
  }
  const lastResort: Point[] = [];
  for (let i = 1; i <= 6; i++) {
    const p: Point = { id: pid(6000 + i), customer: `CL${i}`, type: 'individual', retailer: 'NW000', lastResort: true };
    lastResort.push(p);
    contracts.push([p.id, p.customer, p.type, p.retailer, '最終保障供給', 'true', '2021-06-01', '']);
  }
  const own: Point[] = [];
  for (let i = 1; i <= 20; i++) {
    const p: Point = { id: pid(7000 + i), customer: `CO${i}`, type: 'individual', retailer: AFFILIATE, lastResort: false };
    own.push(p);
    contracts.push([p.id, p.customer, p.type, p.retailer, '北日本電力', 'false', '2005-01-01', '']);
  }
  const vacant = pid(8001);
  contracts.push([vacant, 'CV1', 'individual', 'R0003', 'R0003電力', 'false', '2016-01-01', '2021-03-31']);
  // Rejected contract rows (lines counted from the header as line 1).
  const badContracts: { line: number; reason: RegExp }[] = [];
  contracts.push(['0200000000000000009999', 'CX', 'company', 'R0002', 'x', 'false', '2019-01-01', '']);
  badContracts.push({ line: contracts.length + 1, reason: /customer_type "company"/ });

  // --- The log --------------------------------------------------------------------------------------------
  const rows: Planned[] = [];
  const START = Date.parse('2022-10-05T00:00:00+09:00');
  const DAYS = 93;
  /** A weekday business-hours instant (Japan time) on day `d` of the period. */
  const businessTime = (d: number) => {
    let day = d;
    for (;;) {
      const t = new Date(START + day * 86_400_000);
      const dow = new Date(t.getTime() + 9 * 3_600_000).getUTCDay();
      if (dow !== 0 && dow !== 6) break;
      day = (day + 1) % DAYS;
    }
    return START + day * 86_400_000 + (int(9, 17) * 60 + int(0, 59)) * 60_000;
  };
  const fmt = (ms: number) => {
    const j = new Date(ms + 9 * 3_600_000);
    const p2 = (n: number) => String(n).padStart(2, '0');
    return `${j.getUTCFullYear()}/${p2(j.getUTCMonth() + 1)}/${p2(j.getUTCDate())} ${p2(j.getUTCHours())}:${p2(j.getUTCMinutes())}:${p2(j.getUTCSeconds())}`;
  };
  const view = (who: Person, p: Point, ms: number, extra: Partial<Planned> = {}): Planned => ({
    system: pick(SYSTEMS),
    at: fmt(ms),
    user: who.user,
    terminal: pick(who.employment === 'contractor' ? retailTerminals.filter((t) => t.startsWith('CT')) : retailTerminals.filter((t) => t.startsWith('RT'))),
    point: p.id,
    fields: pick(['', 'holder_name;phone', 'usage', 'supply_point_id;address;contracted_capacity']),
    kind: p.lastResort ? 'last_resort' : 'view',
    person: who.person,
    employment: who.employment,
    office: who.office,
    organization: who.organization,
    retailer: p.retailer,
    customer: p.customer,
    customerType: p.type,
    ...extra,
  });

  // Ordinary retail-side viewers: a handful of other retailers' customers each, in business hours.
  for (const who of [...employees, ...contractors]) {
    for (let k = int(3, 25); k > 0; k--) rows.push(view(who, pick(others), businessTime(int(0, DAYS - 1))));
  }
  // The bulk reader: 1,600 corporate views over three days of a mass switching, plus 40 individual ones.
  for (let k = 0; k < 1600; k++) rows.push(view(bulk, corporate[k % corporate.length] as Point, businessTime(40 + (k % 3))));
  for (let k = 0; k < 40; k++) rows.push(view(bulk, pick(others), businessTime(int(0, DAYS - 1))));
  // Switched points: before the switch they were the affiliate's own customers (not counted), after it former customers (counted).
  for (const p of switched) {
    const who = pick(employees);
    rows.push({ ...view(who, p, Date.parse('2022-10-20T10:00:00+09:00')), kind: 'not_counted' });
    rows.push(view(who, p, Date.parse('2022-11-10T10:00:00+09:00'), { former: true }));
  }
  // Last-resort customers: counted apart.
  for (const p of lastResort) for (let k = 0; k < 5; k++) rows.push(view(pick(contractors), p, businessTime(int(0, DAYS - 1))));
  // The mover: counted while retail (until the end of 2022-11-15), not after.
  const mover = staff.find((s) => s.user === 'mover') as Person;
  rows.push(view(mover, others[0] as Point, Date.parse('2022-11-15T16:00:00+09:00')));
  rows.push(view(mover, others[1] as Point, Date.parse('2022-11-15T23:30:00+09:00'), { kind: 'view' }));
  rows.push({ ...view(mover, others[2] as Point, Date.parse('2022-11-16T09:30:00+09:00')), kind: 'not_counted' });
  // The sleeper: one read on 5 October, the next on 5 January (92 days later).
  rows.push(view(sleeper, others[3] as Point, Date.parse('2022-10-05T10:00:00+09:00')));
  rows.push(view(sleeper, others[4] as Point, Date.parse('2023-01-05T10:00:00+09:00')));
  // The off-hours contractor: 25 views at 23:xx on weekdays.
  for (let k = 0; k < 25; k++) rows.push(view(night, pick(others), START + int(1, 60) * 86_400_000 + (23 * 60 + int(0, 59)) * 60_000));
  // Never counted: network staff, the affiliate's own customers, public fields only, a vacant point, outside the period.
  for (let k = 0; k < 60; k++) rows.push({ ...view(pick(network), pick(others), businessTime(int(0, DAYS - 1))), kind: 'not_counted', terminal: 'NW-1' });
  for (let k = 0; k < 40; k++) rows.push({ ...view(pick(employees), pick(own), businessTime(int(0, DAYS - 1))), kind: 'not_counted' });
  for (let k = 0; k < 30; k++)
    rows.push({ ...view(pick(employees), pick(others), businessTime(int(0, DAYS - 1))), kind: 'not_counted', fields: 'supply_point_id;address' });
  for (let k = 0; k < 4; k++)
    rows.push({
      ...view(pick(employees), { id: vacant, customer: 'CV1', type: 'individual', retailer: 'R0003', lastResort: false }, businessTime(int(0, DAYS - 1))),
      kind: 'no_contract',
    });
  const outside = [Date.parse('2022-10-04T23:59:59+09:00'), Date.parse('2023-01-06T00:00:00+09:00')];
  for (const ms of outside) rows.push({ ...view(pick(employees), pick(others), ms), kind: 'not_counted' });
  // The misplaced network-set terminal, used by retail staff: these are still ordinary views.
  for (let k = 0; k < 5; k++) rows.push({ ...view(employees[0] as Person, pick(others), businessTime(int(0, DAYS - 1))), terminal: misplaced.id });
  // IDs without a person at that moment: the leaver (F2) and an ID HR never knew.
  for (let k = 0; k < 3; k++)
    rows.push({ ...view(staff.find((s) => s.user === 'leaver') as Person, pick(others), businessTime(int(0, DAYS - 1))), kind: 'not_counted' });
  for (let k = 0; k < 2; k++) rows.push({ ...view({ ...night, user: 'ghost01' }, pick(others), businessTime(int(0, DAYS - 1))), kind: 'not_counted' });

  // Shuffle so nothing depends on file order, then split across two files (per half of the period).
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j] as Planned, rows[i] as Planned];
  }
  // Screens by position, not by the random stream: the first system's rows name one of three, unevenly (each
  // fifth row the third, the rest alternating), the second system's name none.
  // Every seventh row of the first system names none: counted under 画面名なし, so the screens still add up.
  for (const [i, r] of rows.entries()) rows[i] = { ...r, screen: r.system === SYSTEMS[0] && i % 7 !== 3 ? (SCREENS[i % 5 === 0 ? 2 : i % 2] ?? '') : '' };
  const logA: string[] = [];
  const logB: string[] = [];
  for (const r of rows)
    (r.at < '2022/11/20' ? logA : logB).push([r.at, r.system, r.user, r.terminal, r.point, r.screen ?? '', r.fields].map(csvCell).join(','));
  // Rejected log rows, appended to file A at known lines.
  const badLog: { file: 'A'; line: number; reason: RegExp }[] = [];
  const addBad = (line: string[], reason: RegExp) => {
    logA.push(line.map(csvCell).join(','));
    badLog.push({ file: 'A', line: logA.length + 1, reason });
  };
  addBad(['2022/13/01 10:00', SYSTEMS[0], 'aff1', 'RT-001', pid(1), '照会', ''], /accessed_at/);
  addBad(['2022/11/01 10:00', SYSTEMS[0], 'aff1', 'RT-001', '02123', '照会', ''], /supply_point_id "02123"/);
  addBad(['2022/11/01 10:00', SYSTEMS[0], '', 'RT-001', pid(1), '照会', ''], /user_id is empty/);

  const staffLines = staff.map((s) => [s.user, s.person, s.organization, s.side, s.employment, s.office, s.from, s.to].map(csvCell).join(','));
  staffLines.push(['bad-side', 'P-x', AFF, 'everyone', 'employee', 'x', '2020-01-01', ''].join(','));
  const badStaffLine = staffLines.length + 1;

  const write = (name: string, header: string, lines: readonly string[]) => {
    const text = `${header}\r\n${lines.join('\r\n')}\r\n`;
    const path = join(dir, name);
    writeFileSync(path, opts.cp932 === true ? encodeCp932(text) : Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    return path;
  };
  const files = {
    staff: write('staff.csv', 'user_id,person_id,organization,side,employment,office,valid_from,valid_to', staffLines),
    terminals: write(
      'terminals.csv',
      'terminal_id,setting,kind,organization,office',
      terminals.map((t) => [t.id, t.setting, 'dedicated', t.organization, t.office].map(csvCell).join(',')),
    ),
    contracts: write(
      'contracts.csv',
      'supply_point_id,customer_id,customer_type,retailer_code,retailer_name,last_resort,valid_from,valid_to',
      contracts.map((c) => c.map(csvCell).join(',')),
    ),
    logs: [
      write('access_log_2022a.csv', 'accessed_at,system,user_id,terminal_id,supply_point_id,screen,fields', logA),
      write('access_log_2022b.csv', 'accessed_at,system,user_id,terminal_id,supply_point_id,screen,fields', logB),
    ],
  };

  // --- Ground truth, tallied from the plans ----------------------------------------------------------------
  const inPeriod = (r: Planned) => r.at >= '2022/10/05' && r.at < '2023/01/06';
  const counted = rows.filter((r) => inPeriod(r) && r.kind === 'view');
  const tally = (rs: readonly Planned[], all: readonly Planned[]): Tally => {
    const distinct = (f: (r: Planned) => string | undefined, xs = rs) => new Set(xs.map(f).filter((x) => x !== undefined)).size;
    const emp = rs.filter((r) => r.employment === 'employee');
    const ctr = rs.filter((r) => r.employment === 'contractor');
    return {
      views: { employee: emp.length, contractor: ctr.length, total: rs.length },
      lastResortViews: all.filter((r) => inPeriod(r) && r.kind === 'last_resort').length,
      noContractViews: all.filter((r) => inPeriod(r) && r.kind === 'no_contract').length,
      emergencyViews: 0,
      inquiryViews: 0,
      formerCustomerViews: rs.filter((r) => r.former === true).length,
      terminals: distinct((r) => r.terminal),
      people: { employee: distinct((r) => r.person, emp), contractor: distinct((r) => r.person, ctr), total: distinct((r) => r.person) },
      offices: distinct((r) => `${r.organization}/${r.office}`),
      contractorOrganizations: distinct((r) => r.organization, ctr),
      supplyPoints: distinct((r) => r.point),
      retailers: distinct((r) => r.retailer),
    };
  };
  const screensOf = (rs: readonly Planned[]) =>
    [...new Set(rs.map((r) => r.screen ?? ''))]
      .map((screen) => {
        const on = rs.filter((r) => r.screen === screen);
        const employee = on.filter((r) => r.employment === 'employee').length;
        return { screen: screen === '' ? '(画面名なし)' : screen, views: { employee, contractor: on.length - employee, total: on.length } };
      })
      .sort((a, b) => b.views.total - a.views.total || (a.screen < b.screen ? -1 : 1));
  const systems = Object.fromEntries(
    SYSTEMS.map((s) => {
      const t = tally(
        counted.filter((r) => r.system === s),
        rows.filter((r) => r.system === s),
      );
      return [s, s === SYSTEMS[0] ? { screens: screensOf(counted.filter((r) => r.system === s)), ...t } : t];
    }),
  );
  const byUser = new Map<string, Planned[]>();
  for (const r of counted) byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
  const viewers = [...byUser]
    .map(([userId, rs]) => {
      const corp = rs.filter((r) => r.customerType === 'corporate');
      const ind = rs.filter((r) => r.customerType === 'individual');
      return {
        userId,
        views: rs.length,
        corporate: { views: corp.length, customers: new Set(corp.map((r) => r.customer)).size },
        individual: { views: ind.length, customers: new Set(ind.map((r) => r.customer)).size },
      };
    })
    .sort((a, b) => b.views - a.views || (a.userId < b.userId ? -1 : 1));
  const outsideCount = rows.filter((r) => !inPeriod(r)).length;

  return {
    dir,
    files,
    expected: {
      rows: { read: rows.length + badLog.length, used: rows.length - outsideCount, rejected: badLog.length, outsidePeriod: outsideCount },
      systems,
      total: tally(counted, rows),
      viewers,
      rejected: [
        ...badLog.map((b) => ({ file: files.logs[0] ?? '', line: b.line, reason: b.reason })),
        ...badContracts.map((b) => ({ file: files.contracts, line: b.line, reason: b.reason })),
        { file: files.staff, line: badStaffLine, reason: /side "everyone"/ },
      ],
      bulkReader: bulk.user,
      misplacedTerminal: misplaced.id,
      withoutPerson: ['ghost01', 'leaver'],
      offHours: night.user,
      dormant: sleeper.user,
    },
  };
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
