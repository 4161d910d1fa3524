import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readSheet } from 'read-excel-file/node';
import { runCli } from '../support/cli.ts';
import { encodeCp932 } from '../support/cp932.ts';
import { checkGrants, inForce, type GrantRecord, type StaffPeriod } from '../../src/governance/grant-rules.ts';
import { grantExposures } from '../../src/governance/grant-exposure.ts';
import type { PermissionSpec } from '../../src/domain/permissions.ts';
import { sodPolicy } from '../../src/domain/separation-of-duties.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2022-04-01T00:00:00+09:00');

// --- The windows agree with grants check at every instant -------------------------------------------------

const PERMISSIONS: PermissionSpec[] = [
  { id: 'audit.read', name: '監査ログ閲覧', allowedSides: ['network'] },
  { id: 'access.admin', name: 'アクセス管理', allowedSides: ['network'] },
  { id: 'P-NW', name: '託送顧客情報照会', allowedSides: ['network'] },
  { id: 'P-ALL', name: 'お知らせ閲覧', allowedSides: ['network', 'retail', 'other_retailer'] },
  { id: 'P-RT', name: '小売の需要家管理', allowedSides: ['retail'] },
];
const USERS = ['U0', 'U0b', 'U1', 'U2', 'U3'] as const;
const PERSON: Record<string, string> = { U0: 'P0', U0b: 'P0', U1: 'P1', U2: 'P2', U3: 'P3' };

const registry = fc.record({
  // Each user's staff periods: consecutive, each on a side, the last one open or ended.
  periods: fc.array(
    fc.record({
      user: fc.constantFrom(...USERS),
      sides: fc.array(fc.constantFrom<'network' | 'retail' | 'other_retailer'>('network', 'retail', 'other_retailer'), {
        minLength: 1,
        maxLength: 3,
      }),
      start: fc.integer({ min: 0, max: 60 }),
      lengths: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 3, maxLength: 3 }),
      ends: fc.boolean(),
    }),
    { maxLength: 5 },
  ),
  grants: fc.array(
    fc.record({
      // The separation-of-duties pair and one person's two IDs come often: a window that closes when the other half
      // of a pair is revoked needs both halves on one person.
      user: fc.constantFrom(...USERS, 'U0', 'U0b', 'GHOST'),
      permission: fc.constantFrom('audit.read', 'access.admin', 'audit.read', 'access.admin', 'P-NW', 'P-ALL', 'P-RT', 'P-UNKNOWN'),
      by: fc.constantFrom(...USERS),
      day: fc.integer({ min: 0, max: 120 }),
      revokedAfter: fc.option(fc.integer({ min: 1, max: 80 }), { nil: null }),
    }),
    { maxLength: 12 },
  ),
  reciprocalDays: fc.constantFrom(0, 30),
  at: fc.integer({ min: 40, max: 150 }),
});

test('a grant’s exposure windows hold exactly the instants at which grants check reports it (property)', () => {
  let violatingInstants = 0;
  let cleanInstants = 0;
  let closedWindows = 0;
  let closedByAnother = 0;
  fc.assert(
    fc.property(registry, (r) => {
      const staff: StaffPeriod[] = [];
      const seen = new Set<string>();
      for (const p of r.periods) {
        if (seen.has(p.user)) continue; // one run of periods per user
        seen.add(p.user);
        let from = T0 + p.start * DAY;
        // P0 (two IDs) stays on the network side, where the pair's permissions are allowed: what breaks a rule
        // there is separation of duties (or a self-grant), which other grants open and close.
        p.sides.forEach((drawn, i) => {
          const side = PERSON[p.user] === 'P0' ? 'network' : drawn;
          const last = i === p.sides.length - 1;
          const to = last && !p.ends ? null : from + (p.lengths[i] ?? 1) * DAY;
          staff.push({
            userId: p.user,
            personId: PERSON[p.user] ?? p.user,
            organization: side === 'network' ? 'NW' : 'RT',
            side,
            from: new Date(from),
            to: to === null ? null : new Date(to),
          });
          if (to !== null) from = to;
        });
      }
      // Distinct instants per grant (an index in milliseconds), so each violation names its grant.
      const grants: GrantRecord[] = r.grants.map((g, i) => {
        const at = T0 + g.day * DAY + i;
        return {
          userId: g.user,
          permissionId: g.permission,
          grantedBy: g.by,
          grantedAt: new Date(at),
          revokedAt: g.revokedAfter === null ? null : new Date(at + g.revokedAfter * DAY),
        };
      });
      const at = new Date(T0 + r.at * DAY);
      const policy = sodPolicy(['audit_and_access_admin'], r.reciprocalDays);
      const exposures = grantExposures(staff, PERMISSIONS, grants, at, policy);
      const byGrant = new Map(exposures.map((x) => [x.grant, x]));
      // Every instant where anything changes, a millisecond either side, and every tenth day.
      const instants = new Set<number>();
      for (const g of grants)
        for (const t of [g.grantedAt.getTime(), g.revokedAt?.getTime()]) if (t !== undefined) for (const d of [-1, 0, 1]) instants.add(t + d);
      for (const p of staff) for (const t of [p.from.getTime(), p.to?.getTime()]) if (t !== undefined) for (const d of [-1, 0, 1]) instants.add(t + d);
      for (let d = 0; d <= r.at; d += 10) instants.add(T0 + d * DAY);
      instants.add(at.getTime());
      for (const t of instants) {
        if (t > at.getTime()) continue;
        const when = new Date(t);
        const check = checkGrants(staff, PERMISSIONS, grants, when, policy);
        for (const g of grants) {
          if (!inForce(g, when)) continue;
          const reported = check.violations.filter(
            (v) => v.userId === g.userId && v.permissionId === g.permissionId && v.grantedAt.getTime() === g.grantedAt.getTime(),
          );
          const x = byGrant.get(g);
          const open = x?.windows.some((w) => w.from.getTime() <= t && (w.to === null || t < w.to.getTime())) ?? false;
          assert.equal(
            open,
            reported.length > 0,
            `grant ${g.userId}/${g.permissionId} at ${when.toISOString()}: reported ${reported.map((v) => v.rule).join(',') || 'nothing'}`,
          );
          for (const v of reported) assert.ok(x?.rules.includes(v.rule), `rule ${v.rule} listed`);
          if (open) violatingInstants++;
          else cleanInstants++;
        }
      }
      for (const x of exposures) {
        // Windows lie inside the grant's time in force, oldest first, apart from each other.
        const stop = x.grant.revokedAt?.getTime() ?? Number.POSITIVE_INFINITY;
        x.windows.forEach((w, i) => {
          assert.ok(w.from.getTime() >= x.grant.grantedAt.getTime() && w.from.getTime() <= at.getTime());
          assert.ok(w.to === null ? stop > at.getTime() && i === x.windows.length - 1 : w.to.getTime() > w.from.getTime() && w.to.getTime() <= stop);
          const next = x.windows[i + 1];
          if (next !== undefined) assert.ok(w.to !== null && next.from.getTime() > w.to.getTime());
          if (w.to !== null) closedWindows++;
          if (w.to !== null && w.to.getTime() !== stop && x.rules.includes('incompatible_permissions')) closedByAnother++;
        });
      }
    }),
    {
      numRuns: 300,
      // P0 holds access.admin from day 0 to day 30 and gets audit.read on day 10: the second grant breaks the
      // pair from day 10 until the first one's revocation, then holds rightfully.
      examples: [
        [
          {
            periods: [
              { user: 'U0', sides: ['network'], start: 0, lengths: [1, 1, 1], ends: false },
              { user: 'U1', sides: ['network'], start: 0, lengths: [1, 1, 1], ends: false },
            ],
            grants: [
              { user: 'U0', permission: 'access.admin', by: 'U1', day: 0, revokedAfter: 30 },
              { user: 'U0', permission: 'audit.read', by: 'U1', day: 10, revokedAfter: null },
            ],
            reciprocalDays: 0,
            at: 100,
          },
        ],
      ],
    },
  );
  // The property was exercised both ways, and with windows that close before the day judged.
  assert.ok(
    violatingInstants > 500 && cleanInstants > 500 && closedWindows > 50 && closedByAnother > 0,
    `${violatingInstants} violating, ${cleanInstants} clean, ${closedWindows} closed windows, ${closedByAnother} closed by another grant's end`,
  );
});

// --- Exposure over a log with known ground truth (the Kansai case's shape) ----------------------------------

const OTHER = '0200000000000000000011'; // R0002's customer all along
const OTHER2 = '0200000000000000000022'; // R0003's customer all along
const OWN = '0200000000000000000033'; // the affiliate's own customer
const LAST = '0200000000000000000044'; // last-resort supply
const SWITCHER = '0200000000000000000055'; // the affiliate's until 2022-12-01, then R0002's

interface CaseFiles {
  readonly staff: string;
  readonly permissions: string;
  readonly grants: string;
  readonly contracts: string;
  readonly log: string;
}

function writeCase(dir: string): CaseFiles {
  const files = {
    staff: join(dir, 'staff.csv'),
    permissions: join(dir, 'permissions.csv'),
    grants: join(dir, 'grants.csv'),
    contracts: join(dir, 'contracts.csv'),
    log: join(dir, 'access_log.csv'),
  };
  writeFileSync(
    files.staff,
    encodeCp932(
      [
        'user_id,person_id,organization,side,employment,office,valid_from,valid_to',
        'K001,P1,関西電力,retail,employee,大阪,2020/04/01,',
        'K002,P2,関西電力,retail,employee,大阪,2020/04/01,',
        'K003,P3,関西電力,retail,contractor,京都,2020/04/01,',
        'K004,P4,関西電力,retail,employee,神戸,2020/04/01,',
        'K005,P5,関西電力,retail,employee,大阪,2020/04/01,',
        'M001,P6,関西送配電,network,employee,本店,2019/04/01,2022/10/31',
        'M001,P6,関西電力,retail,employee,大阪,2022/11/01,',
        'N001,P7,関西送配電,network,employee,本店,2019/04/01,',
        'MGR1,P8,関西電力,retail,employee,大阪,2019/04/01,',
        'K006,P9,関西電力,retail,社員,大阪,2020/04/01,', // an employment the analysis does not know: its views cannot be counted, so it is listed
      ].join('\r\n'),
    ),
  );
  writeFileSync(
    files.permissions,
    'permission_id,name,allowed_sides\nP-NW,託送顧客情報照会,network\nP-NW2,配電設備照会,network\nP-ALL,お知らせ閲覧,network;retail;other_retailer\n',
  );
  writeFileSync(
    files.grants,
    [
      'user_id,permission_id,granted_by,granted_at,revoked_at',
      'K001,P-NW,MGR1,2021-05-10,', // in force across the whole log
      'K001,P-NW2,MGR1,2022-12-01,', // a second wrongful grant of K001's: its views are K001's again, counted once in the summary
      'K002,P-NW,MGR1,2022-11-17,', // granted inside it
      'K003,P-NW,MGR1,2021-06-01,2022-12-01', // revoked inside it
      'K004,P-NW,MGR1,2021-06-01,', // a holder who never viewed
      'K005,P-ALL,MGR1,2021-06-01,', // allowed: not an exposure, whatever K005 reads
      'M001,P-NW,N001,2020-04-01,', // rightful while network; wrongful from the move to retail
      'N001,P-NW,N001,2019-04-01,', // a network self-grant: a violation, but no retail-side views
    ].join('\n'),
  );
  writeFileSync(
    files.contracts,
    [
      'supply_point_id,customer_id,customer_type,retailer_code,retailer_name,last_resort,valid_from,valid_to',
      `${OTHER},C1,individual,R0002,みらいでんき,false,2015-04-01,`,
      `${OTHER2},C2,corporate,R0003,あおばエナジー,false,2015-04-01,`,
      `${OWN},C3,individual,A0001,関西電力,false,2015-04-01,`,
      `${LAST},C4,corporate,NW000,最終保障供給,true,2015-04-01,`,
      `${SWITCHER},C5,individual,A0001,関西電力,false,2015-04-01,2022-11-30`,
      `${SWITCHER},C5,individual,R0002,みらいでんき,false,2022-12-01,`,
    ].join('\n'),
  );
  const rows: [string, string, string, string][] = [
    // K001: three views of two other retailers' customers count; own, last-resort, public-only do not.
    ['2022-10-03 10:00:00', 'K001', OTHER, ''],
    ['2022-12-20 11:00:00', 'K001', OTHER, 'holder_name;phone'],
    ['2023-01-10 09:30:00', 'K001', OTHER2, 'usage'],
    ['2023-03-05 10:00:00', 'K001', OTHER2, ''], // after the day judged (--at 2023-03-01): not counted
    ['2022-11-01 10:00:00', 'K001', OWN, ''],
    ['2022-11-02 10:00:00', 'K001', LAST, ''],
    ['2022-11-03 10:00:00', 'K001', OTHER, 'supply_point_id;address'],
    // K002: before the grant it does not count, after it does.
    ['2022-11-10 10:00:00', 'K002', OTHER, ''],
    ['2022-11-17 00:00:00', 'K002', OTHER, ''], // the grant's first instant counts
    ['2022-11-17 13:00:00', 'K002', OTHER2, ''],
    // K003: before the revocation it counts, after it does not.
    ['2022-11-05 10:00:00', 'K003', OTHER2, ''],
    ['2022-12-01 00:00:00', 'K003', OTHER, ''], // the revocation's instant does not
    ['2022-12-05 10:00:00', 'K003', OTHER, ''],
    // K005 holds only an allowed permission: never in the exposure.
    ['2022-11-05 10:00:00', 'K005', OTHER, ''],
    // M001: as network staff (before the move) not counted; as retail, counted; the switcher only once it is another retailer's.
    ['2022-10-20 10:00:00', 'M001', OTHER, ''],
    ['2022-11-20 10:00:00', 'M001', SWITCHER, ''],
    ['2022-12-02 10:00:00', 'M001', SWITCHER, ''],
    // N001 reads as network staff: the self-grant's exposure has no retail-side views.
    ['2022-11-21 10:00:00', 'N001', OTHER, ''],
  ];
  writeFileSync(
    files.log,
    [
      'accessed_at,system,user_id,terminal_id,supply_point_id,screen,fields',
      ...rows.map(([at, u, sp, f]) => `${at},託送システム,${u},T-1,${sp},照会,${f}`),
      'someday,託送システム,K001,T-1,x,,',
    ].join('\n'),
  );
  return files;
}

interface ExposureJson {
  violations: { rule: string; userId: string }[];
  exposure: {
    userId: string;
    permissionId: string;
    rules: string[];
    from: string;
    to: string | null;
    windows: { from: string; to: string | null }[];
    views: number;
    supplyPoints: number;
    first: string | null;
    last: string | null;
  }[];
  exposureSummary: { holders: number; viewers: number; views: number; supplyPoints: number };
  rejected: { file: string; line: number; reason: string }[];
  exposureRows: { read: number; rejected: number };
}

test('grants check with the log: each wrongful grant’s window and what its holder viewed of other retailers’ customers (formats.md)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-exposure-'));
  try {
    const f = writeCase(dir);
    const args = ['grants', 'check', '--staff', f.staff, '--permissions', f.permissions, '--grants', f.grants, '--at', '2023-03-01'];
    const withLog = [...args, '--log', f.log, '--contracts', f.contracts, '--affiliate', 'A0001'];
    const r = await runCli([...withLog, '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as ExposureJson;
    const row = (u: string) => {
      const x = out.exposure.find((e) => e.userId === u);
      assert.ok(x !== undefined, `${u} has an exposure row`);
      return x;
    };
    // In force across the log: three views of two points, first and last instants as logged (Japan time).
    assert.deepEqual(
      { ...row('K001'), rules: row('K001').rules },
      {
        userId: 'K001',
        permissionId: 'P-NW',
        grantedBy: 'MGR1',
        grantedAt: '2021-05-10',
        rules: ['side_not_allowed'],
        from: '2021-05-10',
        to: null,
        windows: [{ from: '2021-05-10', to: null }],
        views: 3,
        supplyPoints: 2,
        first: new Date('2022-10-03T10:00:00+09:00').toISOString(),
        last: new Date('2023-01-10T09:30:00+09:00').toISOString(),
      },
    );
    assert.deepEqual([row('K002').from, row('K002').to, row('K002').views, row('K002').supplyPoints], ['2022-11-17', null, 2, 2]);
    // Revoked inside the log: not among the violations at --at, but its window and views are reported.
    assert.equal(
      out.violations.some((v) => v.userId === 'K003'),
      false,
    );
    assert.deepEqual([row('K003').from, row('K003').to, row('K003').views], ['2021-06-01', '2022-12-01', 1]);
    assert.deepEqual([row('K004').views, row('K004').supplyPoints, row('K004').first, row('K004').last], [0, 0, null, null]);
    // Rightful while its holder was on the network side: in force since 2020 (formats.md's from/to), wrongful from
    // the move to retail (`windows`); the reads as network staff are no views.
    assert.deepEqual(
      [row('M001').from, row('M001').to, row('M001').windows, row('M001').views, row('M001').rules],
      ['2020-04-01', null, [{ from: '2022-11-01', to: null }], 1, ['side_not_allowed']],
    );
    // K001's second wrongful grant: its own views (from its grant on), the same reads counted once in the summary.
    const second = out.exposure.find((x) => x.userId === 'K001' && x.permissionId === 'P-NW2');
    assert.deepEqual([second?.from, second?.views, second?.supplyPoints], ['2022-12-01', 2, 2]);
    assert.deepEqual([row('N001').rules, row('N001').views], [['self_grant'], 0]);
    assert.equal(
      out.exposure.some((e) => e.userId === 'K005'),
      false,
    );
    assert.deepEqual(out.exposureSummary, { holders: 6, viewers: 4, views: 7, supplyPoints: 3 });
    // The log's unusable row is listed with its file and line, not silently dropped.
    assert.ok(out.rejected.some((x) => x.file === f.log && x.line === 20 && /accessed_at/.test(x.reason)));
    assert.ok(out.rejected.some((x) => x.file === f.staff && x.line === 11 && /employment "社員"/.test(x.reason)));
    assert.deepEqual(out.exposureRows, { read: 19 + 6, rejected: 2 });

    // The same in a table and in a spreadsheet.
    const table = await runCli(withLog);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /exposure \(閲覧可能期間と閲覧実績\): 6 holders of wrongful grants, 4 of them viewed: 7 views of 3 supply points/);
    assert.match(table.stdout, /K003\s+P-NW\s+2021-06-01 – 2022-12-01\s+1 views/);
    const xlsx = join(dir, 'grants.xlsx');
    const book = await runCli([...withLog, '--format', 'xlsx', '--out', xlsx]);
    assert.equal(book.status, 0, book.stderr);
    const sheet = await readSheet(readFileSync(xlsx), 'exposure');
    const head = sheet.findIndex((cells) => cells[0] === 'user_id');
    assert.ok(head >= 0, 'the exposure sheet has its header');
    const k001 = sheet.slice(head + 1).find((cells) => cells[0] === 'K001');
    assert.deepEqual([k001?.[5], k001?.[6]], [3, 2], 'views and points are numbers in the sheet');
    const csv = await runCli([...withLog, '--format', 'csv']);
    assert.equal(csv.status, 0, csv.stderr);
    assert.match(csv.stdout, /K003,P-NW,side_not_allowed,2021-06-01,2022-12-01,1,1,/);

    // Without the log, the output is as before: no exposure keys.
    const plain = JSON.parse((await runCli([...args, '--format', 'json'])).stdout) as Partial<ExposureJson>;
    assert.equal(plain.exposure, undefined);
    // The three options go together: one without the others is a usage error naming what is missing.
    const half = await runCli([...args, '--log', f.log]);
    assert.equal(half.status, 2);
    assert.match(half.stderr, /--contracts and --affiliate missing/);
    const badLog = await runCli([...args, '--log', join(dir, 'nope.csv'), '--contracts', f.contracts, '--affiliate', 'A0001']);
    assert.equal(badLog.status, 2);
    assert.match(badLog.stderr, /nope\.csv/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- Views under wrongful grants over generated registries and logs, against a count made here ---------------

/** `YYYY-MM-DD HH:MM:SS`, Japan time: how the legacy files write instants (read as Japan time by both loaders). */
function jst(ms: number): string {
  return new Date(ms + 9 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

const POINTS = ['0200000000000000000101', '0200000000000000000102', '0200000000000000000103', '0200000000000000000104'];
const HOUR = 3_600_000;

const world = fc.record({
  // Per user: consecutive staff periods (sides), starting at hour offsets.
  staff: fc.array(
    fc.record({
      sides: fc.array(fc.constantFrom<'network' | 'retail' | 'other_retailer'>('network', 'retail', 'other_retailer'), { minLength: 1, maxLength: 3 }),
      cut: fc.integer({ min: 1, max: 80 }),
    }),
    { minLength: 4, maxLength: 4 },
  ),
  // Per point: consecutive contracts.
  contracts: fc.array(fc.array(fc.constantFrom('R0002', 'R0003', 'A0001', 'NW000', 'R0002'), { minLength: 1, maxLength: 3 }), { minLength: 4, maxLength: 4 }),
  grants: fc.array(
    fc.record({
      user: fc.integer({ min: 0, max: 3 }),
      permission: fc.constantFrom('P-NW', 'P-NW', 'P-ALL'),
      start: fc.integer({ min: 0, max: 100 }),
      length: fc.option(fc.integer({ min: 60, max: 200 }), { nil: null }),
    }),
    { minLength: 3, maxLength: 6 },
  ),
  reads: fc.array(
    fc.record({
      user: fc.integer({ min: 0, max: 3 }),
      point: fc.integer({ min: 0, max: 3 }),
      hour: fc.integer({ min: 0, max: 260 }),
      fields: fc.constantFrom('', 'holder_name;phone', 'supply_point_id;address'),
    }),
    { minLength: 60, maxLength: 90 },
  ),
  at: fc.integer({ min: 150, max: 260 }),
});

test('views under wrongful grants equal a count made here from the generated files (property, DuckDB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-exposure-prop-'));
  let counted = 0;
  let dropped = 0;
  try {
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        const T = Date.parse('2022-10-01T00:00:00+09:00');
        const users = ['U0', 'U1', 'U2', 'U3'];
        const periods = w.staff.flatMap((s, u) =>
          s.sides.map((side, i) => ({
            user: users[u] ?? 'U0',
            side,
            from: T + (i === 0 ? -1000 : s.cut * i) * HOUR,
            to: i === s.sides.length - 1 ? null : T + s.cut * (i + 1) * HOUR,
          })),
        );
        const contracts = w.contracts.flatMap((retailers, p) =>
          retailers.map((r, i) => ({
            point: POINTS[p] ?? '',
            retailer: r,
            from: T + (i === 0 ? -5000 : 70 * i) * HOUR,
            to: i === retailers.length - 1 ? null : T + 70 * (i + 1) * HOUR,
          })),
        );
        const drawn = w.grants.map((g) => ({
          user: users[g.user] ?? 'U0',
          permission: g.permission,
          from: T + g.start * HOUR,
          to: g.length === null ? null : T + (g.start + g.length) * HOUR,
        }));
        // One grant per user, permission and day: the output names a grant by them (formats.md), so the count made
        // here can tell which grant a row is.
        const grants = drawn.filter(
          (g, k) => drawn.findIndex((y) => y.user === g.user && y.permission === g.permission && jst(y.from).slice(0, 10) === jst(g.from).slice(0, 10)) === k,
        );
        const reads = w.reads.map((r) => ({ user: users[r.user] ?? 'U0', point: POINTS[r.point] ?? '', at: T + r.hour * HOUR + 1_800_000, fields: r.fields }));
        const at = T + w.at * HOUR;
        const files = {
          staff: join(dir, 'staff.csv'),
          permissions: join(dir, 'permissions.csv'),
          grants: join(dir, 'grants.csv'),
          contracts: join(dir, 'contracts.csv'),
          log: join(dir, 'log.csv'),
        };
        writeFileSync(
          files.staff,
          [
            'user_id,person_id,organization,side,employment,office,valid_from,valid_to',
            ...periods.map((p) => `${p.user},P-${p.user},org-${p.side},${p.side},employee,x,${jst(p.from)},${p.to === null ? '' : jst(p.to)}`),
          ].join('\n'),
        );
        writeFileSync(files.permissions, 'permission_id,name,allowed_sides\nP-NW,託送,network\nP-ALL,お知らせ,network;retail;other_retailer\n');
        writeFileSync(
          files.grants,
          [
            'user_id,permission_id,granted_by,granted_at,revoked_at',
            ...grants.map((g) => `${g.user},${g.permission},ADMIN,${jst(g.from)},${g.to === null ? '' : jst(g.to)}`),
          ].join('\n'),
        );
        writeFileSync(
          files.contracts,
          [
            'supply_point_id,customer_id,customer_type,retailer_code,retailer_name,last_resort,valid_from,valid_to',
            ...contracts.map(
              (c) => `${c.point},C-${c.point},individual,${c.retailer},x,${c.retailer === 'NW000'},${jst(c.from)},${c.to === null ? '' : jst(c.to)}`,
            ),
          ].join('\n'),
        );
        writeFileSync(
          files.log,
          ['accessed_at,system,user_id,terminal_id,supply_point_id,fields', ...reads.map((r) => `${jst(r.at)},S,${r.user},T,${r.point},${r.fields}`)].join(
            '\n',
          ),
        );

        // The count made here: a read is a view when its reader was on the retail side at that moment, it showed
        // non-public items, and the point's retailer then was neither the affiliate nor last-resort supply.
        const inForce = <X extends { from: number; to: number | null }>(xs: readonly X[], t: number) =>
          xs.find((x) => x.from <= t && (x.to === null || t < x.to));
        const isView = (r: (typeof reads)[number]) => {
          const side = inForce(
            periods.filter((p) => p.user === r.user),
            r.at,
          )?.side;
          const c = inForce(
            contracts.filter((x) => x.point === r.point),
            r.at,
          );
          return side === 'retail' && r.fields !== 'supply_point_id;address' && c !== undefined && c.retailer !== 'A0001' && c.retailer !== 'NW000';
        };
        const out = JSON.parse(
          (
            await runCli([
              'grants',
              'check',
              '--staff',
              files.staff,
              '--permissions',
              files.permissions,
              '--grants',
              files.grants,
              '--at',
              jst(at).slice(0, 10),
              '--log',
              files.log,
              '--contracts',
              files.contracts,
              '--affiliate',
              'A0001',
              '--format',
              'json',
            ])
          ).stdout,
        ) as ExposureJson & { at: string };
        const until = Date.parse(out.at);
        const viewed = new Set<number>();
        for (const x of out.exposure) {
          const g = grants.find((y) => y.user === x.userId && y.permission === x.permissionId && jst(y.from).slice(0, 10) === x.from);
          assert.ok(g !== undefined);
          const end = g.to !== null && g.to <= until ? g.to : until + 1;
          const mine = reads.map((r, i) => ({ r, i })).filter(({ r }) => r.user === g.user && r.at >= g.from && r.at < end && isView(r));
          assert.equal(x.views, mine.length, `${x.userId} ${x.permissionId} ${x.from}`);
          assert.equal(x.supplyPoints, new Set(mine.map(({ r }) => r.point)).size);
          for (const { i } of mine) viewed.add(i);
          counted += x.views;
        }
        if (out.exposure.length > 0) assert.equal(out.exposureSummary.views, viewed.size);
        else dropped++;
      }),
      { numRuns: 25 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Views were counted at all, and most runs had a wrongful grant (twelve seeds tried: 51–100 views, at most 3
  // runs without one).
  assert.ok(counted > 20 && dropped < 20, `${counted} views counted; ${dropped} runs without a wrongful grant`);
});
