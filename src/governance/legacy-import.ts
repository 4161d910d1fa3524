import { randomUUID } from 'node:crypto';
import { DAY_MS, japanDay } from '../domain/japan-time.ts';
import { CATALOG_SPECS, isPermissionId, PERMISSION_CATALOG, type PermissionId } from '../domain/permissions.ts';
import {
  checkAssignment,
  derivedRetailer,
  isDuty,
  isEmployment,
  isOrganizationKind,
  type ContractorEngagement,
  type Duty,
  type Employment,
  type Organization,
  type Side,
} from '../domain/organization.ts';
import { needsSecondAdministrator } from '../domain/terminal.ts';
import { IMPORT_OUTCOMES, REGISTER_FILES, type ImportOutcome, type ImportRule, type RegisterFile } from '../domain/register-import.ts';
import type { SodPolicy } from '../domain/separation-of-duties.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import { engagementsOf } from '../identity/assignments.ts';
import { saveTerminal, TerminalError, type TerminalSpec } from '../identity/terminals.ts';
import { readCsvFile, type CsvFile, type CsvSource, type RejectedRow } from '../legacy/csv-file.ts';
import { loadGrants, loadPermissions, loadStaff } from '../legacy/registers.ts';
import type { Db, Queryable, Statement } from '../store/db.ts';
import { inForce, judgeGrant, judgeSeparation, type GrantRecord, type StaffPeriod } from './grant-rules.ts';
import { lockPeopleForSod } from './grant-service.ts';

/**
 * `gridwall import` and `POST /api/access/import` (issue 20, "rollout from the legacy registers"): the staff,
 * terminal, permission and grant registers a utility already has (formats.md, UTF-8 or CP932) brought into a
 * live gridwall. Every row ends as one outcome (register-import.ts) and nothing is lost: a row the rules
 * refuse or a value that cannot be read is listed by file and line with the reason. The same files a second
 * time change nothing (every row compares with what the store holds); `dryRun` plans and writes nothing.
 *
 * Nothing one person imports widens reading by itself (docs/controls.md "Rollout from the legacy registers"):
 * a legacy grant that passes `grants check`'s rules becomes a grant **request** by the operator, decided by a
 * second person in the ordinary approval queue (which judges every rule again); a terminal that would open
 * network-only data or stand misplaced becomes a terminal request (saveTerminal). The other terminals are
 * written at once; so are staff rows that narrow or change nothing that decides reading (a new person, an
 * office, a period ended earlier). A staff row that would widen (a duty, a period extended or reopened, a new
 * period for someone gridwall holds), or about the operator's own person or a person HR manages through SCIM,
 * is refused: that is HR's (SCIM) or a second person's.
 */

/** Who runs the import: a person's account holding access.admin in force. */
export interface ImportOperator {
  readonly userId: string;
  readonly personId: string;
}

export type RegisterSources = Partial<Record<RegisterFile, CsvSource>>;

export interface ImportRow {
  readonly file: RegisterFile;
  /** The file's name as given (a path, or an upload's name). */
  readonly name: string;
  readonly line: number;
  /** The row's key: a user ID, a terminal ID, a permission ID, `user permission` for a grant. */
  readonly subject: string;
  readonly outcome: ImportOutcome;
  readonly rule: ImportRule | null;
  /** What was done or why not, in English (the rule's words in both languages are register-import.ts's). */
  readonly detail: string;
}

export type ImportCounts = { readonly read: number } & Readonly<Record<ImportOutcome, number>>;

export interface ImportResult {
  readonly importId: string;
  readonly dryRun: boolean;
  readonly at: Date;
  readonly operator: ImportOperator;
  readonly files: readonly { readonly file: RegisterFile; readonly name: string; readonly encoding: 'utf-8' | 'shift_jis' }[];
  readonly counts: Readonly<Partial<Record<RegisterFile, ImportCounts>>>;
  readonly total: ImportCounts;
  readonly rows: readonly ImportRow[];
}

/**
 * Marks what an import asked for in a grant's or a terminal request's reason, for the people who read it. A later
 * import finds its requests by their `grant.request` governance event naming an import, never by this text.
 */
export const IMPORT_MARK = '台帳からの移行 / legacy register';

/**
 * The operator of a command-line import: an enabled person's account whose access.admin grant is in force at
 * `at` (the same grant the console's access administration needs). Null when there is no such account.
 */
export async function importOperator(q: Queryable, userId: string, at: Date): Promise<ImportOperator | 'not_permitted' | null> {
  const { rows } = await q.query<{ person_id: string; kind: string; disabled: boolean; admin: boolean }>(
    `SELECT a.person_id, a.kind, (a.disabled_at IS NOT NULL AND a.disabled_at <= $2) AS disabled,
            EXISTS (SELECT 1 FROM grants g JOIN staff_assignments s ON s.person_id = a.person_id AND s.valid_from <= $2 AND (s.valid_to IS NULL OR s.valid_to > $2)
                     WHERE g.user_id = a.user_id AND g.permission_id = 'access.admin' AND g.status = 'approved' AND g.decided_at <= $2 AND g.expires_at > $2
                       AND s.side = ANY($3::text[])) AS admin
       FROM accounts a WHERE a.user_id = $1`,
    [userId, at, [...PERMISSION_CATALOG['access.admin'].allowedSides]],
  );
  const r = rows[0];
  if (r === undefined || r.kind !== 'person' || r.disabled) return null;
  return r.admin ? { userId, personId: r.person_id } : 'not_permitted';
}

interface Plan {
  readonly rows: ImportRow[];
  /** Writes of rows that change something, run in order when not a dry run. */
  readonly writes: ((tx: Queryable) => Promise<void>)[];
}

interface Facts {
  readonly orgs: readonly Organization[];
  readonly affiliated: string | null;
  readonly engagements: Map<string, ContractorEngagement[]>;
}

interface StoredAssignment {
  id: number | null;
  readonly personId: string;
  readonly organizationId: string;
  readonly side: Side;
  readonly retailerCode: string | null;
  employment: Employment;
  office: string;
  duty: Duty;
  readonly from: Date;
  to: Date | null;
}

function organizationNamed(facts: Facts, v: string): Organization | null {
  return facts.orgs.find((o) => o.id === v) ?? facts.orgs.find((o) => o.name === v) ?? null;
}

const sameTime = (a: Date | null, b: Date | null) => (a === null ? b === null : b !== null && a.getTime() === b.getTime());

/** What names a row of each register (a grant: its holder and permission as the register writes them). */
const KEY_COLUMNS: Readonly<Record<RegisterFile, readonly string[]>> = {
  staff: ['user_id'],
  terminals: ['terminal_id'],
  permissions: ['permission_id'],
  grants: ['user_id', 'permission_id'],
};

/** The rows a file's loader rejected, as import rows (named by the row's key, as far as it could be read). */
function rejectedRows(file: RegisterFile, f: CsvFile, rejected: readonly RejectedRow[]): ImportRow[] {
  const lines = byLine(f);
  return rejected.map((r) => ({
    file,
    name: r.file,
    line: r.line,
    subject: KEY_COLUMNS[file].map((c) => lines.get(r.line)?.get(c) ?? '').join(' '),
    outcome: 'rejected',
    rule: 'bad_value',
    detail: r.reason,
  }));
}

/** Each row of a file by its line (the loaders keep the columns they need; the import reads a few more). */
function byLine(f: CsvFile): Map<number, CsvFile['rows'][number]> {
  return new Map(f.rows.map((r) => [r.line, r]));
}

async function readFacts(q: Queryable): Promise<Facts> {
  const { rows } = await q.query<{ id: string; name: string; kind: string; retailer_code: string | null }>(
    'SELECT id, name, kind, retailer_code FROM organizations ORDER BY id',
  );
  const orgs = rows.flatMap((r) => (isOrganizationKind(r.kind) ? [{ id: r.id, name: r.name, kind: r.kind, retailerCode: r.retailer_code }] : []));
  const aff = await q.query<{ code: string }>('SELECT code FROM retailers WHERE affiliated');
  const engagements = new Map<string, ContractorEngagement[]>();
  for (const o of orgs) if (o.kind === 'contractor') engagements.set(o.id, await engagementsOf(q, o.id));
  return { orgs, affiliated: aff.rows[0]?.code ?? null, engagements };
}

interface People {
  /** user ID → person and kind. */
  readonly accounts: Map<string, { personId: string; kind: string }>;
  readonly persons: Set<string>;
  /** Persons HR manages through SCIM (an account provisioned by SCIM, or an external ID HR gave). */
  readonly scim: Set<string>;
  /** person → assignments, as stored and then as the import plans them. */
  readonly assignments: Map<string, StoredAssignment[]>;
}

async function readPeople(q: Queryable): Promise<People> {
  const acc = await q.query<{ user_id: string; person_id: string; kind: string; provisioned_by: string }>(
    'SELECT user_id, person_id, kind, provisioned_by FROM accounts',
  );
  const per = await q.query<{ id: string; external_id: string | null }>('SELECT id, external_id FROM persons');
  const asg = await q.query<{
    id: string;
    person_id: string;
    organization_id: string;
    side: Side;
    retailer_code: string | null;
    employment: Employment;
    office: string;
    duty: Duty;
    valid_from: Date | string;
    valid_to: Date | string | null;
  }>('SELECT id, person_id, organization_id, side, retailer_code, employment, office, duty, valid_from, valid_to FROM staff_assignments ORDER BY valid_from');
  const assignments = new Map<string, StoredAssignment[]>();
  for (const r of asg.rows) {
    const list = assignments.get(r.person_id) ?? [];
    list.push({
      id: Number(r.id),
      personId: r.person_id,
      organizationId: r.organization_id,
      side: r.side,
      retailerCode: r.retailer_code,
      employment: r.employment,
      office: r.office,
      duty: r.duty,
      from: new Date(r.valid_from),
      to: r.valid_to === null ? null : new Date(r.valid_to),
    });
    assignments.set(r.person_id, list);
  }
  return {
    accounts: new Map(acc.rows.map((r) => [r.user_id, { personId: r.person_id, kind: r.kind }])),
    persons: new Set(per.rows.map((r) => r.id)),
    scim: new Set([
      ...per.rows.filter((r) => r.external_id !== null).map((r) => r.id),
      ...acc.rows.filter((r) => r.provisioned_by === 'scim').map((r) => r.person_id),
    ]),
    assignments,
  };
}

const overlaps = (a: { from: Date; to: Date | null }, b: { from: Date; to: Date | null }) =>
  a.from.getTime() < (b.to?.getTime() ?? Infinity) && b.from.getTime() < (a.to?.getTime() ?? Infinity);

/** Default duty when the register has no `duty` column: the narrowest of the side (docs/controls.md). */
const DEFAULT_DUTY: Readonly<Record<Side, Duty>> = { network: 'call_centre', retail: 'retail_customer_service', other_retailer: 'retail_customer_service' };

function planStaff(
  source: CsvSource,
  facts: Facts,
  people: People,
  importId: string,
  operator: ImportOperator,
  at: Date,
): Plan & { encoding: CsvFile['encoding']; name: string; read: number } {
  const by: GovernanceActor = { kind: 'person', ...operator };
  const loaded = loadStaff(source);
  const f = readCsvFile(source, []);
  const lines = byLine(f);
  const rows: ImportRow[] = rejectedRows('staff', f, loaded.rejected);
  const writes: Plan['writes'] = [];
  // Earlier periods first, so a transfer's closing row is planned before the row that follows it.
  const order = loaded.items.map((p, i) => ({ p, line: loaded.lines[i] ?? 0 })).sort((x, y) => x.p.from.getTime() - y.p.from.getTime() || x.line - y.line);
  const seen = new Map<string, string>();
  // Persons this import creates: their further periods in the same file widen nothing (they hold no grant yet).
  const createdHere = new Set<string>();
  for (const { p, line } of order) {
    const csv = lines.get(line);
    const row = (outcome: ImportOutcome, rule: ImportRule | null, detail: string) =>
      rows.push({ file: 'staff', name: f.path, line, subject: p.userId, outcome, rule, detail });
    const employment = csv?.get('employment') ?? '';
    const dutyText = csv?.get('duty') ?? '';
    if (!isEmployment(employment)) {
      row('rejected', 'bad_value', `employment ${JSON.stringify(employment)} is not employee or contractor`);
      continue;
    }
    if (dutyText !== '' && !isDuty(dutyText)) {
      row('rejected', 'bad_value', `duty ${JSON.stringify(dutyText)} is not one of gridwall's duties`);
      continue;
    }
    const duty: Duty = dutyText === '' ? DEFAULT_DUTY[p.side] : dutyText;
    const org = organizationNamed(facts, p.organization);
    if (org === null) {
      row('rejected', 'unknown_organization', `organization ${JSON.stringify(p.organization)} is neither the ID nor the name of an organization in gridwall`);
      continue;
    }
    const account = people.accounts.get(p.userId);
    const filePerson = seen.get(p.userId);
    if (account !== undefined && account.kind !== 'person') {
      row('refused', 'service_account', `${p.userId} is a service account in gridwall; no person is assigned to it`);
      continue;
    }
    if ((account !== undefined && account.personId !== p.personId) || (filePerson !== undefined && filePerson !== p.personId)) {
      row('refused', 'account_of_another_person', `${p.userId} belongs to ${account?.personId ?? filePerson ?? ''}, not ${p.personId}`);
      continue;
    }
    if (p.personId === operator.personId || p.userId === operator.userId) {
      row('refused', 'own_person', `${p.userId} (${p.personId}) is the operator's own person: another access administrator or HR changes it`);
      continue;
    }
    if (people.scim.has(p.personId)) {
      row('refused', 'scim_managed', `${p.personId} is provisioned by HR through SCIM: the HR system changes their assignments, not an import`);
      continue;
    }
    const engagements = facts.engagements.get(org.id) ?? [];
    const retailerCode = derivedRetailer(p.side, org, engagements, facts.affiliated, p.from);
    const office = csv?.get('office') ?? '';
    const problems = checkAssignment(
      { personId: p.personId, organizationId: org.id, employment, side: p.side, retailerCode, office, duty, validFrom: p.from, validTo: p.to },
      org,
      { affiliatedCode: facts.affiliated, engagements },
    );
    const [problem] = problems;
    if (problem !== undefined) {
      row(
        'refused',
        problem,
        `${problems.join(', ')}: ${p.side} / ${employment} / ${duty} at ${org.id} (${org.kind}${org.retailerCode === null ? '' : ` ${org.retailerCode}`})`,
      );
      continue;
    }
    const list = people.assignments.get(p.personId) ?? [];
    // The same assignment: the person's that starts on the same day (Japan time; a register gives days, not instants).
    const same = list.find((a) => a.from.getTime() === p.from.getTime()) ?? list.find((a) => japanDay(a.from) === japanDay(p.from));
    if (same !== undefined && (same.organizationId !== org.id || same.side !== p.side || same.retailerCode !== retailerCode)) {
      row(
        'refused',
        'transfer_needs_new_row',
        `${p.personId}'s assignment from ${japanDay(p.from)} is at ${same.organizationId} (${same.side}) in gridwall; a transfer is a new row with its own valid_from`,
      );
      continue;
    }
    const clash = list.find((a) => a !== same && overlaps(a, p));
    if (clash !== undefined) {
      row(
        'refused',
        'overlapping_assignment',
        `${japanDay(p.from)}–${p.to === null ? '' : japanDay(p.to)} overlaps ${p.personId}'s assignment from ${japanDay(clash.from)} at ${clash.organizationId}`,
      );
      continue;
    }
    const newPerson = !people.persons.has(p.personId);
    // One person writes at once only what narrows or is neutral (docs/controls.md): ending a period earlier, an
    // office, a new person. A duty changed (networkClass reads it), a period extended or reopened, a new period
    // for a person gridwall holds (their unexpired grants would work again) widen reading: refused.
    const widening =
      same === undefined
        ? newPerson || createdHere.has(p.personId)
          ? null
          : `a new period from ${japanDay(p.from)} for ${p.personId}, whom gridwall already holds`
        : same.duty !== duty || same.employment !== employment
          ? `${p.personId}'s ${same.duty !== duty ? `duty ${same.duty} → ${duty}` : `employment ${same.employment} → ${employment}`}`
          : p.to !== null && (same.to === null || p.to.getTime() <= same.to.getTime())
            ? null
            : same.to === null
              ? null
              : `${p.personId}'s period ending ${japanDay(same.to)} ${p.to === null ? 'reopened' : `extended to ${japanDay(p.to)}`}`;
    if (widening !== null) {
      row('refused', 'widens_reading', `${widening}: a change that widens reading is HR's (SCIM) or another administrator's, not an import's`);
      continue;
    }
    if (newPerson) createdHere.add(p.personId);
    const newAccount = account === undefined && filePerson === undefined;
    const changed =
      same !== undefined && (same.employment !== employment || same.office !== office || same.duty !== duty || !sameTime(same.to, p.to)) ? same : null;
    seen.set(p.userId, p.personId);
    people.persons.add(p.personId);
    if (newAccount) people.accounts.set(p.userId, { personId: p.personId, kind: 'person' });
    const planned: StoredAssignment = same ?? {
      id: null,
      personId: p.personId,
      organizationId: org.id,
      side: p.side,
      retailerCode,
      employment,
      office,
      duty,
      from: p.from,
      to: p.to,
    };
    if (same === undefined) people.assignments.set(p.personId, [...list, planned]);
    const before =
      changed === null ? null : { employment: changed.employment, office: changed.office, duty: changed.duty, validTo: changed.to?.toISOString() ?? null };
    if (changed !== null) Object.assign(changed, { employment, office, duty, to: p.to });
    const made = [newPerson ? 'person' : null, newAccount ? 'account' : null, same === undefined ? 'assignment' : null].filter((x) => x !== null);
    if (made.length === 0 && changed === null) {
      row('unchanged', null, `${p.userId} (${p.personId}) at ${org.id} from ${japanDay(p.from)} is already so`);
      continue;
    }
    const outcome: ImportOutcome = made.length > 0 ? 'created' : 'updated';
    row(
      outcome,
      null,
      made.length > 0
        ? `new ${made.join(', ')}: ${p.userId} (${p.personId}) at ${org.id} from ${japanDay(p.from)}`
        : `assignment updated (was ${JSON.stringify(before)})`,
    );
    const name = csv?.get('name') || p.personId;
    writes.push(async (tx) => {
      if (newPerson) await tx.query('INSERT INTO persons (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [p.personId, name]);
      if (newAccount)
        await tx.query(`INSERT INTO accounts (user_id, person_id, provisioned_by, created_at) VALUES ($1, $2, 'manual', $3) ON CONFLICT (user_id) DO NOTHING`, [
          p.userId,
          p.personId,
          at,
        ]);
      if (same === undefined) {
        const { rows: ids } = await tx.query<{ id: string }>(
          `INSERT INTO staff_assignments (person_id, organization_id, employment, side, retailer_code, office, duty, valid_from, valid_to)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
          [p.personId, org.id, employment, p.side, retailerCode, office, duty, p.from, p.to],
        );
        planned.id = Number(ids[0]?.id);
      } else if (changed !== null) {
        await tx.query('UPDATE staff_assignments SET employment = $2, office = $3, duty = $4, valid_to = $5 WHERE id = $1', [
          changed.id,
          employment,
          office,
          duty,
          p.to,
        ]);
      }
      await recordGovernance(tx, {
        at,
        actor: by,
        action: 'import.staff',
        subjectType: 'person',
        subjectId: p.personId,
        outcome: 'done',
        details: { importId, file: f.path, line, userId: p.userId, outcome, organizationId: org.id, side: p.side, from: p.from.toISOString(), before },
      });
    });
  }
  return { rows, writes, encoding: f.encoding, name: f.path, read: f.rows.length };
}

const TERMINAL_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface TerminalPlan {
  readonly rows: ImportRow[];
  /** Terminals to save one by one (saveTerminal runs its own transaction and may keep a request). */
  readonly saves: { readonly line: number; readonly spec: TerminalSpec; readonly index: number }[];
  readonly encoding: CsvFile['encoding'];
  readonly name: string;
  readonly read: number;
}

async function planTerminals(q: Queryable, source: CsvSource, facts: Facts): Promise<TerminalPlan> {
  const f = readCsvFile(source, ['terminal_id', 'setting', 'kind', 'organization', 'office']);
  const { rows: stored } = await q.query<{
    id: string;
    organization_id: string;
    office: string;
    kind: string;
    setting: 'network' | 'retail';
    site_side: 'network' | 'retail' | 'shared';
    retired: boolean;
  }>(`SELECT id, organization_id, office, kind, setting, site_side, retired_at IS NOT NULL AS retired FROM terminals`);
  const { rows: pending } = await q.query<{
    id: string;
    terminal_id: string;
    organization_id: string;
    office: string;
    kind: string;
    setting: string;
    site_side: string;
  }>(`SELECT id, terminal_id, organization_id, office, kind, setting, site_side FROM terminal_requests WHERE status = 'pending'`);
  const live = new Map(stored.map((t) => [t.id, t]));
  const waiting = new Map(pending.map((r) => [r.terminal_id, r]));
  const rows: ImportRow[] = [];
  const saves: TerminalPlan['saves'] = [];
  const seen = new Set<string>();
  for (const r of f.rows) {
    const id = r.get('terminal_id');
    const row = (outcome: ImportOutcome, rule: ImportRule | null, detail: string) =>
      rows.push({ file: 'terminals', name: f.path, line: r.line, subject: id, outcome, rule, detail });
    const setting = r.get('setting');
    const kind = r.get('kind');
    const siteText = r.get('site_side');
    if (!TERMINAL_ID.test(id)) row('rejected', 'bad_value', `terminal_id ${JSON.stringify(id)}: letters, digits, - and _ only, 1–64 characters`);
    else if (setting !== 'network' && setting !== 'retail') row('rejected', 'bad_value', `setting ${JSON.stringify(setting)} is not network or retail`);
    else if (kind !== 'dedicated' && kind !== 'virtual') row('rejected', 'bad_value', `kind ${JSON.stringify(kind)} is not dedicated or virtual`);
    else if (siteText !== '' && siteText !== 'network' && siteText !== 'retail' && siteText !== 'shared')
      row('rejected', 'bad_value', `site_side ${JSON.stringify(siteText)} is not network, retail or shared`);
    else if (seen.has(id)) row('rejected', 'duplicate_row', `terminal ${id} appears earlier in the file`);
    else {
      seen.add(id);
      const org = organizationNamed(facts, r.get('organization'));
      if (org === null) {
        row(
          'rejected',
          'unknown_organization',
          `organization ${JSON.stringify(r.get('organization'))} is neither the ID nor the name of an organization in gridwall`,
        );
        continue;
      }
      // Where it stands: the register's `site_side` when it has one, else the side of the organization it is installed at.
      const siteSide = siteText === '' ? (org.kind === 'network_operator' ? 'network' : 'retail') : siteText;
      const spec: TerminalSpec = { id, organizationId: org.id, office: r.get('office'), kind, setting, siteSide };
      const was = live.get(id);
      const asked = waiting.get(id);
      const sameAs = (t: { organization_id: string; office: string; kind: string; setting: string; site_side: string }) =>
        t.organization_id === spec.organizationId &&
        t.office === spec.office &&
        t.kind === spec.kind &&
        t.setting === spec.setting &&
        t.site_side === spec.siteSide;
      if (was?.retired === true)
        row('refused', 'retired_terminal', `terminal ${id} is retired in gridwall; a retired terminal is not brought back by an import`);
      else if (was !== undefined && sameAs(was)) row('unchanged', null, `terminal ${id} is registered so`);
      else if (asked !== undefined && sameAs(asked))
        row('unchanged', null, `terminal ${id}: this registration awaits a second access administrator (request ${asked.id})`);
      else {
        const second = needsSecondAdministrator(was === undefined ? null : { setting: was.setting, siteSide: was.site_side }, spec);
        if (second && asked !== undefined) {
          row('refused', 'request_pending', `terminal ${id} already has request ${asked.id} awaiting a second access administrator`);
          continue;
        }
        const outcome: ImportOutcome = second ? 'requested' : was === undefined ? 'created' : 'updated';
        row(
          outcome,
          null,
          second
            ? `${spec.setting}-set at a ${spec.siteSide} site: kept as a request until a second access administrator approves it`
            : `${was === undefined ? 'registered' : 'updated'}: ${spec.setting}-set at a ${spec.siteSide} site, ${org.id} ${spec.office}`,
        );
        saves.push({ line: r.line, spec, index: rows.length - 1 });
      }
    }
  }
  return { rows, saves, encoding: f.encoding, name: f.path, read: f.rows.length };
}

function planPermissions(source: CsvSource | undefined): {
  rows: ImportRow[];
  map: Map<string, PermissionId>;
  encoding: CsvFile['encoding'] | null;
  name: string | null;
  read: number;
} {
  const map = new Map<string, PermissionId>();
  if (source === undefined) {
    // Without a permission register, a grant names gridwall's own permission IDs.
    for (const id of CATALOG_SPECS.keys()) if (isPermissionId(id)) map.set(id, id);
    return { rows: [], map, encoding: null, name: null, read: 0 };
  }
  const loaded = loadPermissions(source);
  const f = readCsvFile(source, []);
  const lines = byLine(f);
  const rows = rejectedRows('permissions', f, loaded.rejected);
  for (const [i, p] of loaded.items.entries()) {
    const line = loaded.lines[i] ?? 0;
    const row = (outcome: ImportOutcome, rule: ImportRule | null, detail: string) =>
      rows.push({ file: 'permissions', name: f.path, line, subject: p.id, outcome, rule, detail });
    const target = lines.get(line)?.get('gridwall_permission') || p.id;
    if (map.has(p.id)) row('rejected', 'duplicate_row', `permission ${p.id} appears earlier in the file`);
    else if (!isPermissionId(target))
      row('rejected', 'unknown_permission', `${p.id} (${p.name}) is not a gridwall permission: name one in a gridwall_permission column (e.g. customer.read)`);
    else {
      map.set(p.id, target);
      const wider = p.allowedSides.filter((s) => !PERMISSION_CATALOG[target].allowedSides.includes(s));
      row(
        'unchanged',
        null,
        `${p.id} (${p.name}) is gridwall's ${target} (${PERMISSION_CATALOG[target].nameEn}); gridwall's catalog decides the sides${wider.length > 0 ? ` — the register also allowed ${wider.join(', ')}, which gridwall does not` : ''}`,
      );
    }
  }
  return { rows, map, encoding: f.encoding, name: f.path, read: f.rows.length };
}

async function planGrants(
  q: Queryable,
  source: CsvSource,
  permissions: Map<string, PermissionId>,
  facts: Facts,
  people: People,
  sod: SodPolicy,
  importId: string,
  operator: ImportOperator,
  at: Date,
): Promise<Plan & { encoding: CsvFile['encoding']; name: string; read: number }> {
  const loaded = loadGrants(source);
  const f = readCsvFile(source, []);
  const lines = byLine(f);
  const rows: ImportRow[] = rejectedRows('grants', f, loaded.rejected);
  const writes: Plan['writes'] = [];
  const { rows: stored } = await q.query<{
    id: string;
    user_id: string;
    permission_id: string;
    status: string;
    reason: string;
    requested_by: string;
    requested_at: Date | string;
    decided_by: string | null;
    decided_at: Date | string | null;
    revoked_at: Date | string | null;
  }>(
    `SELECT id, user_id, permission_id, status, reason, requested_by, requested_at, decided_by, decided_at, revoked_at FROM grants
      WHERE status IN ('approved', 'requested', 'revoked') AND expires_at > $1 ORDER BY id`,
    [at],
  );
  // The staff every rule reads: gridwall's people as they will be after this import's staff rows.
  const staff = new Map<string, StaffPeriod[]>();
  for (const [userId, a] of people.accounts) {
    if (a.kind !== 'person') continue;
    staff.set(
      userId,
      (people.assignments.get(a.personId) ?? []).map((s) => ({
        userId,
        personId: a.personId,
        organization: s.organizationId,
        side: s.side,
        from: s.from,
        to: s.to,
      })),
    );
  }
  // gridwall's own grants take part in separation of duties (a pair completed with a grant already held).
  const liveRecords: GrantRecord[] = stored
    .filter((g) => g.status !== 'revoked' || g.decided_at !== null)
    .map((g) => ({
      userId: g.user_id,
      permissionId: g.permission_id,
      // A request is nobody's approval yet: its "grantor" is no person (the reciprocal rule reads approvals).
      grantedBy: g.decided_by ?? `(request ${g.id})`,
      grantedAt: new Date(g.decided_at ?? g.requested_at),
      revokedAt: g.revoked_at === null ? null : new Date(g.revoked_at),
    }));
  // The grant or request each holder has of each permission (the first stored), looked up once per row.
  const heldBy = new Map<string, (typeof stored)[number]>();
  for (const g of stored) {
    const key = `${g.user_id} ${g.permission_id}`;
    if ((g.status === 'approved' || g.status === 'requested') && !heldBy.has(key)) heldBy.set(key, g);
  }
  const held = (userId: string, p: PermissionId) => heldBy.get(`${userId} ${p}`);
  // The requests an import made: known by the import's own governance event (grant.request naming an importId), never by a reason's text.
  const { rows: imported } = await q.query<{ subject_id: string }>(
    `SELECT e.subject_id FROM governance_events e JOIN grants g ON g.id::text = e.subject_id AND g.requested_by = e.actor_user_id
      WHERE e.action = 'grant.request' AND e.subject_type = 'grant' AND g.status = 'requested' AND e.details ? 'importId'`,
  );
  const byImport = new Set(imported.map((r) => r.subject_id));
  const candidates: { g: GrantRecord; line: number; scope: string | null; subject: string }[] = [];
  const seen = new Set<string>();
  for (const [i, legacy] of loaded.items.entries()) {
    const line = loaded.lines[i] ?? 0;
    const subject = `${legacy.userId} ${legacy.permissionId}`;
    const row = (outcome: ImportOutcome, rule: ImportRule | null, detail: string) =>
      rows.push({ file: 'grants', name: f.path, line, subject, outcome, rule, detail });
    const p = permissions.get(legacy.permissionId);
    if (p === undefined) {
      row('rejected', 'unknown_permission', `permission ${legacy.permissionId} is not in the permission register (or has no gridwall counterpart)`);
      continue;
    }
    const g: GrantRecord = { ...legacy, permissionId: p };
    const existing = held(g.userId, p);
    if (!inForce(g, at)) {
      const withdraw = existing?.status === 'requested' && byImport.has(String(existing.id)) ? existing : undefined;
      if (withdraw === undefined) {
        row('skipped', 'not_in_force', `revoked ${g.revokedAt === null ? '' : japanDay(g.revokedAt)} (or granted after now): nothing to import`);
        continue;
      }
      row('updated', 'not_in_force', `revoked in the register: the imported request ${withdraw.id} is withdrawn`);
      writes.push(async (tx) => {
        const { rows: done } = await tx.query(
          `UPDATE grants SET status = 'rejected', decided_by = $2, decided_by_person = $3, decided_at = $4, decision_comment = $5 WHERE id = $1 AND status = 'requested' RETURNING id`,
          [withdraw.id, operator.userId, operator.personId, at, `revoked in the legacy register ${f.path}:${line} (import ${importId})`],
        );
        if (done.length > 0)
          await recordGovernance(tx, {
            at,
            actor: { kind: 'person', ...operator },
            action: 'grant.reject',
            subjectType: 'grant',
            subjectId: withdraw.id,
            outcome: 'done',
            details: { userId: g.userId, permissionId: p, importId, file: f.path, line, comment: 'revoked in the legacy register' },
          });
      });
      continue;
    }
    if (seen.has(`${g.userId} ${p}`)) {
      row('rejected', 'duplicate_row', `${g.userId} is granted ${p} earlier in the file`);
      continue;
    }
    seen.add(`${g.userId} ${p}`);
    if (existing !== undefined) {
      row(
        'unchanged',
        null,
        existing.status === 'approved'
          ? `${g.userId} holds ${p} in gridwall (grant ${existing.id})`
          : `${g.userId}'s request for ${p} awaits approval (grant ${existing.id})`,
      );
      continue;
    }
    let scope: string | null = null;
    if (PERMISSION_CATALOG[p].scoped) {
      const named = lines.get(line)?.get('scope_organization') ?? '';
      const org = named === '' ? null : organizationNamed(facts, named);
      if (named === '') {
        row('refused', 'scope_required', `${p} is granted for one organization: name it in a scope_organization column`);
        continue;
      }
      if (org === null) {
        row('rejected', 'unknown_organization', `scope_organization ${JSON.stringify(named)} is not an organization in gridwall`);
        continue;
      }
      scope = org.id;
    }
    // The rules of `gridwall grants check`, at the instant of the import.
    const [v] = judgeGrant(g, staff, CATALOG_SPECS, at);
    if (v !== undefined) {
      row('refused', v.rule, v.detail);
      continue;
    }
    candidates.push({ g, line, scope, subject });
  }
  // Separation of duties over gridwall's grants and the rows that passed the other rules.
  const separation = judgeSeparation([...liveRecords, ...candidates.map((c) => c.g)], staff, sod, at);
  for (const c of candidates) {
    const subject = c.subject;
    const [v] = separation.get(c.g) ?? [];
    if (v !== undefined) {
      rows.push({ file: 'grants', name: f.path, line: c.line, subject, outcome: 'refused', rule: v.rule, detail: v.detail });
      continue;
    }
    const p = c.g.permissionId;
    rows.push({
      file: 'grants',
      name: f.path,
      line: c.line,
      subject,
      outcome: 'requested',
      rule: null,
      detail: `a request for ${p}, awaiting a second person's approval (granted in the register by ${c.g.grantedBy} on ${japanDay(c.g.grantedAt)})`,
    });
    const personId = people.accounts.get(c.g.userId)?.personId ?? c.g.userId;
    writes.push(async (tx) => {
      await lockPeopleForSod(tx, [personId]);
      const expiresAt = new Date(at.getTime() + (isPermissionId(p) ? PERMISSION_CATALOG[p].maxDays : 1) * DAY_MS);
      const reason = `${IMPORT_MARK} ${f.path}:${c.line}: granted by ${c.g.grantedBy} on ${japanDay(c.g.grantedAt)} (import ${importId})`;
      const { rows: ids } = await tx.query<{ id: string }>(
        `INSERT INTO grants (user_id, permission_id, scope_organization_id, status, reason, requested_by, requested_by_person, requested_at, expires_at)
         VALUES ($1, $2, $3, 'requested', $4, $5, $6, $7, $8) RETURNING id`,
        [c.g.userId, p, c.scope, reason, operator.userId, operator.personId, at, expiresAt],
      );
      await recordGovernance(tx, {
        at,
        actor: { kind: 'person', ...operator },
        action: 'grant.request',
        subjectType: 'grant',
        subjectId: String(ids[0]?.id),
        outcome: 'done',
        details: {
          userId: c.g.userId,
          permissionId: p,
          scope: c.scope,
          expiresAt: expiresAt.toISOString(),
          importId,
          file: f.path,
          line: c.line,
          legacyGrantedBy: c.g.grantedBy,
          legacyGrantedAt: c.g.grantedAt.toISOString(),
        },
      });
    });
  }
  return { rows, writes, encoding: f.encoding, name: f.path, read: f.rows.length };
}

/** A file's counts: `read` is the file's rows as parsed, so an outcome lost on the way shows as counts that do not add up. */
function count(rows: readonly ImportRow[], read: number): ImportCounts {
  const out: Record<string, number> = { read };
  for (const o of IMPORT_OUTCOMES) out[o] = rows.filter((r) => r.outcome === o).length;
  return out as ImportCounts;
}

/** The lock every applying import takes (transaction-scoped): two imports at once run one after the other. */
const IMPORT_LOCK = "SELECT pg_advisory_xact_lock(hashtext('gridwall:import'))";

/**
 * The import's transaction seen as a store, for `saveTerminal` (which opens its own transaction): each terminal
 * runs in a savepoint of the import's one transaction, so a terminal refused on the way undoes only itself.
 */
function withinTransaction(tx: Queryable, kind: Db['kind']): Db {
  let n = 0;
  return {
    kind,
    query: <R extends Record<string, unknown>>(sql: string | Statement, params?: readonly unknown[]) => tx.query<R>(sql, params),
    exec: (sql: string) => tx.exec(sql),
    async transaction<T>(fn: (inner: Queryable) => Promise<T>): Promise<T> {
      n += 1;
      const name = `gridwall_import_${n}`;
      await tx.query(`SAVEPOINT ${name}`);
      try {
        const out = await fn(tx);
        await tx.query(`RELEASE SAVEPOINT ${name}`);
        return out;
      } catch (e) {
        await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw e;
      }
    },
    copyRows: () => Promise.reject(new Error('no bulk load inside an import')),
    close: () => Promise.resolve(),
  };
}

/** Every file planned against the store as `q` reads it. */
async function planAll(q: Queryable, operator: ImportOperator, sources: RegisterSources, sod: SodPolicy, importId: string, at: Date) {
  const facts = await readFacts(q);
  const people = await readPeople(q);
  const staff = sources.staff === undefined ? null : planStaff(sources.staff, facts, people, importId, operator, at);
  const terminals = sources.terminals === undefined ? null : await planTerminals(q, sources.terminals, facts);
  const permissions = planPermissions(sources.permissions);
  const grants = sources.grants === undefined ? null : await planGrants(q, sources.grants, permissions.map, facts, people, sod, importId, operator, at);
  return { staff, terminals, permissions, grants };
}

/**
 * Imports (or with `dryRun`, plans) the registers given. Every file is read and checked before anything is
 * written: a file that cannot be used at all (unreadable, not CSV, a required column missing) throws
 * `CsvFileError` and nothing changes. An import that writes runs as one transaction holding the import lock
 * (`pg_advisory_xact_lock`): it plans again inside it, so a second import at the same time waits and then
 * finds the first one's rows already there. Staff, terminals (each as `saveTerminal` saves it, in a
 * savepoint) and grant requests are written, and the run itself is a governance event `import.run` naming the
 * operator (and, from the command line, the OS user), the files and the counts, with every refused and
 * rejected row.
 */
export async function importRegisters(
  db: Db,
  operator: ImportOperator,
  sources: RegisterSources,
  opts: { readonly dryRun: boolean; readonly at: Date; readonly sod: SodPolicy; readonly osUser?: string },
): Promise<ImportResult> {
  const at = opts.at;
  const importId = `IMP-${randomUUID()}`;
  const by: GovernanceActor = { kind: 'person', ...operator };
  // The files first: one that cannot be used stops the run before any row is planned.
  for (const file of REGISTER_FILES) {
    const s = sources[file];
    if (s !== undefined) readCsvFile(s, []);
  }
  const result = (plan: Awaited<ReturnType<typeof planAll>>): ImportResult => {
    const { staff, terminals, permissions, grants } = plan;
    const files: { file: RegisterFile; name: string; encoding: 'utf-8' | 'shift_jis' }[] = [];
    const perFile: Partial<Record<RegisterFile, { rows: ImportRow[]; read: number }>> = {};
    if (staff !== null) perFile.staff = staff;
    if (terminals !== null) perFile.terminals = terminals;
    if (permissions.name !== null) perFile.permissions = permissions;
    if (grants !== null) perFile.grants = grants;
    if (staff !== null) files.push({ file: 'staff', name: staff.name, encoding: staff.encoding });
    if (terminals !== null) files.push({ file: 'terminals', name: terminals.name, encoding: terminals.encoding });
    if (permissions.name !== null && permissions.encoding !== null) files.push({ file: 'permissions', name: permissions.name, encoding: permissions.encoding });
    if (grants !== null) files.push({ file: 'grants', name: grants.name, encoding: grants.encoding });
    const rows = REGISTER_FILES.flatMap((file) => [...(perFile[file]?.rows ?? [])].sort((a, b) => a.line - b.line));
    const counts: Partial<Record<RegisterFile, ImportCounts>> = {};
    let read = 0;
    for (const file of REGISTER_FILES) {
      const r = perFile[file];
      if (r === undefined) continue;
      counts[file] = count(r.rows, r.read);
      read += r.read;
    }
    return { importId, dryRun: opts.dryRun, at, operator, files, counts, total: count(rows, read), rows };
  };
  if (opts.dryRun) return result(await planAll(db, operator, sources, opts.sod, importId, at));

  return db.transaction(async (tx) => {
    await tx.query(IMPORT_LOCK);
    // Planned again under the lock: what an import that ran meanwhile wrote is read, not written twice.
    const plan = await planAll(tx, operator, sources, opts.sod, importId, at);
    const { staff, terminals, grants } = plan;
    if (staff !== null) for (const w of staff.writes) await w(tx);
    if (terminals !== null) {
      const store = withinTransaction(tx, db.kind);
      for (const s of terminals.saves) {
        const planned = terminals.rows[s.index];
        if (planned === undefined) continue;
        let done: ImportRow;
        try {
          const saved = await saveTerminal(store, by, s.spec, at, `${IMPORT_MARK} ${terminals.name}:${s.line} (import ${importId})`);
          done = saved.kind === 'pending' ? { ...planned, outcome: 'requested', detail: `${planned.detail} (request ${saved.requestId})` } : planned;
        } catch (e) {
          // Another request arrived since the plan was made (the terminal routes take no import lock): refused as the plan would have.
          if (!(e instanceof TerminalError) || e.rule !== 'request_pending') throw e;
          done = { ...planned, outcome: 'refused', rule: 'request_pending', detail: e.message };
        }
        terminals.rows[s.index] = done;
        await recordGovernance(tx, {
          at,
          actor: by,
          action: 'import.terminal',
          subjectType: 'terminal',
          subjectId: s.spec.id,
          outcome: done.outcome === 'refused' ? 'refused' : 'done',
          rule: done.rule,
          details: { importId, file: terminals.name, line: s.line, outcome: done.outcome },
        });
      }
    }
    if (grants !== null) for (const w of grants.writes) await w(tx);
    const out = result(plan);
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'import.run',
      subjectType: 'import',
      subjectId: importId,
      outcome: 'done',
      details: {
        ...(opts.osUser === undefined ? {} : { osUser: opts.osUser }),
        files: out.files.map((x) => ({ file: x.file, name: x.name, encoding: x.encoding })),
        counts: out.counts,
        // Refused and rejected rows by file and line, with the rule: IDs only, never a value a row held.
        notImported: out.rows.filter((r) => r.outcome === 'refused' || r.outcome === 'rejected').map((r) => ({ file: r.file, line: r.line, rule: r.rule })),
      },
    });
    return out;
  });
}
