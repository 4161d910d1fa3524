import type { Employment, OrganizationKind, StaffAssignment, TerminalKind } from '../domain/organization.ts';
import type { PrincipalClass } from '../domain/principal.ts';
import { FEMALE_GIVEN, MALE_GIVEN, SURNAMES } from './names.ts';
import type { AreaSpec } from './places.ts';
import { AFFILIATED_CODE, AFFILIATED_NAME, NETWORK_OPERATOR_NAME, type DemoRetailer } from './retailers.ts';
import { Rng, Weighted, at, zipfWeights } from './rng.ts';

/** A fixed demo login, shown by the console's persona picker and by `gridwall start`. */
export interface Persona {
  key: string;
  userId: string;
  personId: string;
  name: string;
  side: 'network' | 'retail' | 'other_retailer';
  principalClass: string;
  organization: string;
  labelJa: string;
  labelEn: string;
  /** The terminal the persona logs in from (registered, at the persona's office); null from outside (other retailers). */
  terminalId: string | null;
}

export interface OrgRow {
  readonly id: string;
  readonly name: string;
  readonly kind: OrganizationKind;
  readonly retailerCode: string | null;
}

/** A staff assignment as the loader writes it: the domain's shape with ISO dates. */
export type AssignmentRow = Omit<StaffAssignment, 'validFrom' | 'validTo'> & {
  readonly validFrom: string;
  readonly validTo: string | null;
};

export interface AccountRow {
  readonly userId: string;
  readonly personId: string;
  readonly createdAt: string;
  readonly disabledAt: string | null;
}

export interface TerminalRow {
  readonly id: string;
  readonly organizationId: string;
  readonly office: string;
  readonly kind: TerminalKind;
  readonly setting: 'network' | 'retail';
  /** The side of the site where it stands, per the physical inventory. */
  readonly siteSide: 'network' | 'retail';
}

/** A contractor company's engagement by a client (contractor_engagements): whom its staff act for. */
export interface EngagementRow {
  readonly contractorOrganizationId: string;
  readonly clientOrganizationId: string;
  readonly validFrom: string;
  readonly validTo: string | null;
}

export interface People {
  readonly organizations: OrgRow[];
  readonly engagements: EngagementRow[];
  readonly persons: { id: string; name: string }[];
  readonly accounts: AccountRow[];
  readonly assignments: AssignmentRow[];
  readonly terminals: TerminalRow[];
  readonly personas: Persona[];
}

export const ORG_NW = 'org-nw';
export const ORG_AFFILIATED = 'org-a0001';
export const ORG_CTR_CC = 'org-ctr-cc';
export const ORG_CTR_RETAIL = 'org-ctr-retail';
const CTR_CC_NAME = '東北コールサービス株式会社';
const CTR_RETAIL_NAME = 'みちのく営業サポート株式会社';
/** New entrants with staff of their own in the demo (R0002 … R0006: the five biggest). */
const STAFFED_NEW_ENTRANTS = 5;

const jst = (ymd: string): string => `${ymd}T00:00:00+09:00`;
const PERSONA_FROM = jst('2020-04-01');

interface Offices {
  callCentres: [string, string];
  serviceCentres: string[];
  compliance: string;
  admin: string;
  retailMain: string;
  retailBranches: string[];
  ctrRetail: string;
}

function offices(area: AreaSpec): Offices {
  const cities = area.officeCities;
  const main = at(cities, 0);
  return {
    callCentres: [`${main}コールセンター`, `${cities[1] ?? main}コールセンター`],
    serviceCentres: area.serviceCentres.map((s) => `${s}ネットワークサービスセンター`),
    compliance: '本店 行為規制管理室',
    admin: '本店 情報システム部',
    retailMain: `${main}お客さまセンター`,
    retailBranches: cities.slice(0, 6).map((c) => `${c}営業所`),
    ctrRetail: `みちのく営業サポート ${main}事業所`,
  };
}

/** Organizations, staff (with transfers and leavers), accounts, terminals and the seven demo personas. */
export function makePeople(rng: Rng, area: AreaSpec, retailers: readonly DemoRetailer[]): People {
  const off = offices(area);
  const newEntrants = retailers.filter((r) => !r.affiliated && /^R\d{4}$/.test(r.code)).slice(0, STAFFED_NEW_ENTRANTS);
  const biggest = at(newEntrants, 0);
  const orgOf = (code: string) => `org-${code.toLowerCase()}`;

  const organizations: OrgRow[] = [
    { id: ORG_NW, name: NETWORK_OPERATOR_NAME, kind: 'network_operator', retailerCode: null },
    { id: ORG_AFFILIATED, name: AFFILIATED_NAME, kind: 'retailer', retailerCode: AFFILIATED_CODE },
    ...newEntrants.map((r): OrgRow => ({ id: orgOf(r.code), name: r.name, kind: 'retailer', retailerCode: r.code })),
    { id: ORG_CTR_CC, name: CTR_CC_NAME, kind: 'contractor', retailerCode: null },
    { id: ORG_CTR_RETAIL, name: CTR_RETAIL_NAME, kind: 'contractor', retailerCode: null },
  ];
  const orgName = new Map(organizations.map((o) => [o.id, o.name]));
  // The call-centre contractor works for the network operator, the sales contractor for the affiliated
  // retailer, since before their first staff were hired (2018): what SCIM checks their staff's side against.
  const engagements: EngagementRow[] = [
    { contractorOrganizationId: ORG_CTR_CC, clientOrganizationId: ORG_NW, validFrom: jst('2018-01-01'), validTo: null },
    { contractorOrganizationId: ORG_CTR_RETAIL, clientOrganizationId: ORG_AFFILIATED, validFrom: jst('2018-01-01'), validTo: null },
  ];

  const persons: { id: string; name: string }[] = [];
  const accounts: AccountRow[] = [];
  const assignments: AssignmentRow[] = [];
  const surnames = new Weighted(SURNAMES, zipfWeights(SURNAMES.length, 0.7));
  const newPerson = (name?: string): string => {
    const id = `p${String(persons.length + 1).padStart(4, '0')}`;
    const full = name ?? `${surnames.sample(rng)[0]} ${rng.pick(rng.chance(0.5) ? FEMALE_GIVEN : MALE_GIVEN)[0]}`;
    persons.push({ id, name: full });
    return id;
  };

  // The seven personas first: p0001 … p0007, fixed names, in force from 2020-04-01 without end.
  type PersonaSpec = Omit<Persona, 'personId' | 'organization' | 'terminalId'> & Omit<AssignmentRow, 'personId' | 'validFrom' | 'validTo'>;
  const personaSpecs: PersonaSpec[] = [
    {
      key: 'nw-call-centre',
      userId: 'demo-nw-cc',
      name: '高橋 美咲',
      side: 'network',
      principalClass: 'network_call_centre' satisfies PrincipalClass,
      organizationId: ORG_NW,
      employment: 'employee',
      retailerCode: null,
      office: off.callCentres[0],
      duty: 'call_centre',
      labelJa: '送配電 託送コールセンター（社員）',
      labelEn: 'Network operator — wheeling call centre (employee)',
    },
    {
      key: 'nw-service-centre',
      userId: 'demo-nw-nsc',
      name: '佐々木 健太',
      side: 'network',
      principalClass: 'network_service_centre' satisfies PrincipalClass,
      organizationId: ORG_NW,
      employment: 'employee',
      retailerCode: null,
      office: at(off.serviceCentres, 0),
      duty: 'service_centre',
      labelJa: '送配電 ネットワークサービスセンター（社員）',
      labelEn: 'Network operator — network service centre (employee)',
    },
    {
      key: 'retail-agent',
      userId: 'demo-retail',
      name: '阿部 由美',
      side: 'retail',
      principalClass: 'affiliated_retail' satisfies PrincipalClass,
      organizationId: ORG_AFFILIATED,
      employment: 'employee',
      retailerCode: AFFILIATED_CODE,
      office: off.retailMain,
      duty: 'retail_customer_service',
      labelJa: `関係小売 ${AFFILIATED_NAME.replace('株式会社', '')} お客さまセンター（社員）`,
      labelEn: 'Affiliated retailer — customer service (employee)',
    },
    {
      key: 'retail-contractor',
      userId: 'demo-retail-ctr',
      name: '千葉 翔太',
      side: 'retail',
      principalClass: 'affiliated_retail' satisfies PrincipalClass,
      organizationId: ORG_CTR_RETAIL,
      employment: 'contractor',
      retailerCode: AFFILIATED_CODE,
      office: off.ctrRetail,
      duty: 'retail_sales',
      labelJa: `関係小売の委託先 ${CTR_RETAIL_NAME.replace('株式会社', '')}（営業）`,
      labelEn: 'Contractor working for the affiliated retailer — sales',
    },
    {
      key: 'other-retailer',
      userId: 'demo-other',
      name: '菅原 彩',
      side: 'other_retailer',
      principalClass: 'other_retailer' satisfies PrincipalClass,
      organizationId: orgOf(biggest.code),
      employment: 'employee',
      retailerCode: biggest.code,
      office: '本社',
      duty: 'retail_customer_service',
      labelJa: `新電力 ${biggest.name.replace(/株式会社|合同会社/, '')} お客さま窓口（社員）`,
      labelEn: 'Other retailer (new entrant) — customer service (employee)',
    },
    {
      key: 'compliance',
      userId: 'demo-compliance',
      name: '遠藤 誠',
      side: 'network',
      principalClass: 'network_compliance' satisfies PrincipalClass,
      organizationId: ORG_NW,
      employment: 'employee',
      retailerCode: null,
      office: off.compliance,
      duty: 'compliance',
      labelJa: '送配電 行為規制管理者',
      labelEn: 'Network operator — conduct-rules compliance officer',
    },
    {
      key: 'access-admin',
      userId: 'demo-admin',
      name: '及川 直樹',
      side: 'network',
      principalClass: 'network_access_admin' satisfies PrincipalClass,
      organizationId: ORG_NW,
      employment: 'employee',
      retailerCode: null,
      office: off.admin,
      duty: 'access_admin',
      labelJa: '送配電 アクセス管理者',
      labelEn: 'Network operator — access administrator',
    },
  ];
  const personas: Persona[] = personaSpecs.map((s) => {
    const personId = newPerson(s.name);
    accounts.push({ userId: s.userId, personId, createdAt: PERSONA_FROM, disabledAt: null });
    assignments.push({
      personId,
      organizationId: s.organizationId,
      employment: s.employment,
      side: s.side,
      retailerCode: s.retailerCode,
      office: s.office,
      duty: s.duty,
      validFrom: PERSONA_FROM,
      validTo: null,
    });
    return {
      key: s.key,
      userId: s.userId,
      personId,
      name: s.name,
      side: s.side,
      principalClass: s.principalClass,
      organization: orgName.get(s.organizationId) ?? s.organizationId,
      labelJa: s.labelJa,
      labelEn: s.labelEn,
      terminalId: null,
    };
  });

  // Everyone else. Hired on 1 April (employees) or the first of a month (contractors).
  const counters = new Map<string, number>();
  const userId = (prefix: string) => {
    const n = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, n);
    return `${prefix}-${String(n).padStart(3, '0')}`;
  };
  const hired = (employment: Employment, fromYear: number, toYear: number) =>
    jst(employment === 'employee' ? `${rng.int(fromYear, toYear)}-04-01` : `${rng.int(fromYear, toYear)}-${String(rng.int(1, 12)).padStart(2, '0')}-01`);

  type Role = Omit<AssignmentRow, 'personId' | 'validFrom' | 'validTo'> & { prefix: string };
  const nwCc = (): Role => ({
    prefix: 'nw-cc',
    organizationId: ORG_NW,
    employment: 'employee',
    side: 'network',
    retailerCode: null,
    office: rng.chance(0.7) ? off.callCentres[0] : off.callCentres[1],
    duty: 'call_centre',
  });
  const ctrCc = (): Role => ({
    prefix: 'ctr-cc',
    organizationId: ORG_CTR_CC,
    employment: 'contractor',
    side: 'network',
    retailerCode: null,
    office: rng.chance(0.7) ? off.callCentres[0] : off.callCentres[1],
    duty: 'call_centre',
  });
  const nsc = (): Role => ({
    prefix: 'nw-nsc',
    organizationId: ORG_NW,
    employment: 'employee',
    side: 'network',
    retailerCode: null,
    office: rng.pick(off.serviceCentres),
    duty: 'service_centre',
  });
  const comp = (): Role => ({
    prefix: 'nw-comp',
    organizationId: ORG_NW,
    employment: 'employee',
    side: 'network',
    retailerCode: null,
    office: off.compliance,
    duty: 'compliance',
  });
  const admin = (): Role => ({
    prefix: 'nw-adm',
    organizationId: ORG_NW,
    employment: 'employee',
    side: 'network',
    retailerCode: null,
    office: off.admin,
    duty: 'access_admin',
  });
  const retailA = (): Role => ({
    prefix: 'rt-a',
    organizationId: ORG_AFFILIATED,
    employment: 'employee',
    side: 'retail',
    retailerCode: AFFILIATED_CODE,
    office: rng.chance(0.4) ? off.retailMain : rng.pick(off.retailBranches),
    duty: rng.chance(0.6) ? 'retail_customer_service' : 'retail_sales',
  });
  const ctrRetail = (): Role => ({
    prefix: 'ctr-rt',
    organizationId: ORG_CTR_RETAIL,
    employment: 'contractor',
    side: 'retail',
    retailerCode: AFFILIATED_CODE,
    office: rng.chance(0.5) ? off.ctrRetail : rng.pick(off.retailBranches),
    duty: rng.chance(0.7) ? 'retail_sales' : 'retail_customer_service',
  });
  const otherStaff = new Weighted(newEntrants, [4, 2, 2, 1, 1].slice(0, newEntrants.length));
  const other = (): Role => {
    const r = otherStaff.sample(rng);
    return {
      prefix: `ot-${r.code.toLowerCase()}`,
      organizationId: orgOf(r.code),
      employment: 'employee',
      side: 'other_retailer',
      retailerCode: r.code,
      office: rng.chance(0.6) ? '本社' : `${at(area.officeCities, 0)}支店`,
      duty: rng.chance(0.7) ? 'retail_customer_service' : 'retail_sales',
    };
  };

  /** What happens to a person after the first assignment. */
  type Fate = { kind: 'stays' } | { kind: 'leaves'; on: string; disable: boolean } | { kind: 'moves'; on: string; to: () => Role };
  const STAYS: Fate = { kind: 'stays' };
  const add = (role: () => Role, count: number, fromYear: number, toYear: number, fates: ReadonlyMap<number, Fate> = new Map()) => {
    for (let i = 0; i < count; i++) {
      const first = role();
      const fate = fates.get(i) ?? STAYS;
      const personId = newPerson();
      // Leavers and movers were hired well before the change.
      const lastYear = fate.kind === 'stays' ? toYear : Math.min(toYear, Number(fate.on.slice(0, 4)) - 1);
      const from = hired(first.employment, Math.min(fromYear, lastYear), lastYear);
      const { prefix, ...a } = first;
      const firstUser = userId(prefix);
      if (fate.kind === 'stays') {
        assignments.push({ personId, ...a, validFrom: from, validTo: null });
        accounts.push({ userId: firstUser, personId, createdAt: from, disabledAt: null });
      } else if (fate.kind === 'leaves') {
        assignments.push({ personId, ...a, validFrom: from, validTo: fate.on });
        accounts.push({ userId: firstUser, personId, createdAt: from, disabledAt: fate.disable ? fate.on : null });
      } else {
        const { prefix: nextPrefix, ...b } = fate.to();
        assignments.push({ personId, ...a, validFrom: from, validTo: fate.on });
        assignments.push({ personId, ...b, validFrom: fate.on, validTo: null });
        // A transfer gets a new login; the old one is disabled on the day of the move.
        accounts.push({ userId: firstUser, personId, createdAt: from, disabledAt: fate.on });
        accounts.push({ userId: userId(nextPrefix), personId, createdAt: fate.on, disabledAt: null });
      }
    }
  };

  const toRetailMain = (): Role => ({ ...retailA(), office: off.retailMain });
  add(
    nwCc,
    28,
    2004,
    2024,
    new Map<number, Fate>([
      [4, { kind: 'moves', on: jst('2024-04-01'), to: toRetailMain }],
      [9, { kind: 'moves', on: jst('2024-04-01'), to: toRetailMain }],
      [15, { kind: 'moves', on: jst('2024-04-01'), to: () => ({ ...retailA(), duty: 'retail_sales' }) }],
      [20, { kind: 'leaves', on: jst('2022-04-01'), disable: true }],
      [24, { kind: 'leaves', on: jst('2022-04-01'), disable: true }],
    ]),
  );
  add(ctrCc, 12, 2018, 2025, new Map<number, Fate>([[7, { kind: 'moves', on: jst('2025-07-01'), to: ctrRetail }]]));
  add(nsc, 20, 2002, 2024);
  add(comp, 3, 2010, 2022);
  add(admin, 2, 2012, 2021);
  add(
    retailA,
    60,
    2003,
    2025,
    new Map<number, Fate>([
      [6, { kind: 'moves', on: jst('2023-10-01'), to: nsc }],
      [33, { kind: 'moves', on: jst('2023-10-01'), to: nsc }],
      [47, { kind: 'leaves', on: jst('2025-04-01'), disable: true }],
    ]),
  );
  add(
    ctrRetail,
    20,
    2018,
    2025,
    new Map<number, Fate>([
      [3, { kind: 'leaves', on: jst('2024-10-01'), disable: true }],
      // Contract ended, login never removed: a dormant account for the lifecycle checks to find (F2).
      [12, { kind: 'leaves', on: jst('2024-01-01'), disable: false }],
    ]),
  );
  add(other, 10, 2016, 2025);

  // Terminals: registered to the organization that owns them, set as the legacy systems treated them.
  const terminals: TerminalRow[] = [];
  const retailOffices = new Set([off.retailMain, off.ctrRetail, ...off.retailBranches]);
  const addTerminals = (organizationId: string, office: string, setting: 'network' | 'retail', count: number) => {
    for (let i = 0; i < count; i++) {
      const siteSide = retailOffices.has(office) ? 'retail' : 'network';
      terminals.push({
        id: `T${String(10001 + terminals.length)}`,
        organizationId,
        office,
        kind: rng.chance(0.25) ? 'virtual' : 'dedicated',
        setting,
        siteSide,
      });
    }
  };
  addTerminals(ORG_NW, off.callCentres[0], 'network', 34);
  addTerminals(ORG_NW, off.callCentres[1], 'network', 14);
  for (const o of off.serviceCentres) addTerminals(ORG_NW, o, 'network', 6);
  addTerminals(ORG_NW, off.compliance, 'network', 3);
  addTerminals(ORG_NW, off.admin, 'network', 5);
  addTerminals(ORG_AFFILIATED, off.retailMain, 'retail', 18);
  for (const o of off.retailBranches) addTerminals(ORG_AFFILIATED, o, 'retail', 5);
  addTerminals(ORG_CTR_RETAIL, off.ctrRetail, 'retail', 10);
  // The Tohoku case (F1): network-set terminals of the network operator that stand in retail offices.
  addTerminals(ORG_NW, off.retailMain, 'network', 1);
  addTerminals(ORG_NW, at(off.retailBranches, Math.min(2, off.retailBranches.length - 1)), 'network', 1);

  // Each persona logs in from a terminal of its own organization at its office.
  for (const p of personas) {
    const spec = personaSpecs.find((s) => s.key === p.key);
    const own = terminals.find(
      (t) => t.office === spec?.office && t.organizationId === spec.organizationId && t.setting === (p.side === 'network' ? 'network' : 'retail'),
    );
    p.terminalId = own?.id ?? null;
  }

  return { organizations, engagements, persons, accounts, assignments, terminals, personas };
}

/** Columns of the grants the demo loads, in `demoGrants` row order. */
export const GRANT_COLUMNS = [
  'user_id',
  'permission_id',
  'scope_organization_id',
  'status',
  'reason',
  'requested_by',
  'requested_by_person',
  'requested_at',
  'decided_by',
  'decided_by_person',
  'decided_at',
  'expires_at',
] as const;

/** Extra grants of the personas beyond customer look-up: what their duty needs, nothing more. */
const PERSONA_GRANTS: Readonly<Record<string, readonly string[]>> = {
  'nw-service-centre': ['network.equipment', 'emergency.declare', 'inquiries.answer'],
  'nw-call-centre': ['emergency.declare'],
  compliance: ['audit.read', 'grants.approve'],
  'access-admin': ['audit.read', 'grants.approve', 'access.admin'],
  'retail-agent': ['emergency.support'],
};

/**
 * Grants as the initial migration from the legacy systems brought them in: customer look-up for every login
 * ID (including the legacy IDs of people who left — the grant counts for nobody without a side, and the
 * lifecycle checks report the account), the personas' duty grants, all expiring within half a year of `now`.
 */
export function demoGrants(people: People, now: Date): (string | null)[][] {
  const expires = new Date(now.getTime() + 183 * 86_400_000).toISOString();
  const row = (userId: string, permission: string, from: string): (string | null)[] => [
    userId,
    permission,
    null,
    'approved',
    '初期移行（旧システムの権限）',
    'migration',
    'system',
    from,
    'migration',
    'system',
    from,
    expires,
  ];
  const out = people.accounts.map((a) => row(a.userId, 'customer.read', a.createdAt));
  for (const p of people.personas) for (const perm of PERSONA_GRANTS[p.key] ?? []) out.push(row(p.userId, perm, PERSONA_FROM));
  return out;
}
