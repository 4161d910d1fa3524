import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli } from '../support/cli.ts';
import { encodeCp932 } from '../support/cp932.ts';
import { checkGrants, type GrantRecord, type StaffPeriod } from '../../src/governance/grant-rules.ts';
import type { PermissionSpec } from '../../src/domain/permissions.ts';

/**
 * Shaped after the Kansai case (004): a network-only permission ("託送顧客情報照会", network only) held by
 * retail staff, granted by their managers, one manager granting it to himself; plus an account with no
 * person, a leaver, a grant revoked in time, one given after the day judged, and rows that cannot be used.
 */
function writeRegistry(dir: string) {
  // staff.csv in CP932, as the HR export arrives.
  writeFileSync(
    join(dir, 'staff.csv'),
    encodeCp932(
      [
        'user_id,person_id,organization,side,employment,office,valid_from,valid_to',
        'K001,P1,関西電力,retail,employee,x,2020/04/01,',
        'K002,P2,関西電力,retail,employee,x,2020/04/01,',
        'K003,P3,関西電力,retail,contractor,x,2020/04/01,',
        'K004,P4,関西電力,retail,employee,x,2020/04/01,',
        'MGR1,P5,関西電力,retail,employee,x,2020/04/01,',
        'MGR1B,P5,関西電力,retail,employee,x,2020/04/01,',
        'N001,P6,関西送配電,network,employee,x,2019/04/01,',
        'LEFT,P7,関西電力,retail,employee,x,2019/04/01,2022/03/31',
        'BAD1,P8,関西電力,wholesale,employee,x,2020/04/01,',
        'BAD2,P9,関西電力,retail,employee,x,someday,',
      ].join('\r\n'),
    ),
  );
  writeFileSync(
    join(dir, 'permissions.csv'),
    '\uFEFFpermission_id,name,allowed_sides\nP-NW,託送顧客情報照会,network\nP-ALL,お知らせ閲覧,network;retail;other_retailer\nP-BAD,x,network;wholesale\n',
  );
  writeFileSync(
    join(dir, 'grants.csv'),
    [
      'user_id,permission_id,granted_by,granted_at,revoked_at',
      'K001,P-NW,MGR1,2021-05-10,',
      'K002,P-NW,MGR1,2021-05-10,',
      'K003,P-NW,MGR1,2021-06-01,',
      'K004,P-NW,MGR1,2022-01-15,2023-01-31', // revoked before the day judged
      'MGR1,P-NW,MGR1,2021-05-10,', // granted to himself
      'MGR1B,P-ALL,MGR1,2021-05-10,', // allowed side, but MGR1B is another ID of the grantor's person (P5): a self-grant
      'N001,P-NW,N001,2019-04-01,', // self-grant on the network side: still a self-grant
      'GHOST,P-NW,N001,2020-01-01,', // no person behind the account
      'LEFT,P-ALL,N001,2020-01-01,', // left the organization
      'K001,P-NW,MGR1,2023-04-01,', // given after the day judged
      'K002,P-NONE,MGR1,2021-05-10,', // not in the catalog
      'K003,P-NW,MGR1,last year,', // unreadable date
      'K004,P-NW,MGR1,2022-02-01,2022-02-01', // revoked when granted: a row that cannot be used, not a grant that silently never was
    ].join('\n'),
  );
}

test('gridwall grants check judges a legacy registry as formats.md specifies (JSON)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-grants-'));
  try {
    writeRegistry(dir);
    const r = await runCli([
      'grants',
      'check',
      '--staff',
      join(dir, 'staff.csv'),
      '--permissions',
      join(dir, 'permissions.csv'),
      '--grants',
      join(dir, 'grants.csv'),
      '--at',
      '2023-03-01',
      '--format',
      'json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      violations: { rule: string; userId: string; permissionId: string; grantedBy: string; grantedAt: string }[];
      summary: Record<string, number>;
      rows: Record<string, number>;
      rejected: { file: string; line: number; reason: string }[];
    };
    const got = out.violations.map((v) => `${v.rule} ${v.userId} ${v.permissionId} ${v.grantedBy} ${v.grantedAt}`).sort();
    assert.deepEqual(got, [
      'left_organization LEFT P-ALL N001 2020-01-01',
      'self_grant MGR1 P-NW MGR1 2021-05-10',
      'self_grant MGR1B P-ALL MGR1 2021-05-10',
      'self_grant N001 P-NW N001 2019-04-01',
      'side_not_allowed K001 P-NW MGR1 2021-05-10',
      'side_not_allowed K002 P-NW MGR1 2021-05-10',
      'side_not_allowed K003 P-NW MGR1 2021-06-01',
      'side_not_allowed MGR1 P-NW MGR1 2021-05-10',
      'unknown_permission K002 P-NONE MGR1 2021-05-10',
      'unknown_user GHOST P-NW N001 2020-01-01',
    ]);
    // Holders: K001 K002 K003 MGR1 MGR1B N001 GHOST LEFT; grantors: MGR1 N001; self-grants: MGR1, MGR1B (same person P5), N001.
    assert.deepEqual(
      { holders: out.summary['holders'], grantors: out.summary['grantors'], selfGrants: out.summary['selfGrants'] },
      { holders: 8, grantors: 2, selfGrants: 3 },
    );
    assert.deepEqual(
      out.rejected.map((x) => [x.file.split('/').pop(), x.line]),
      [
        ['staff.csv', 10],
        ['staff.csv', 11],
        ['permissions.csv', 4],
        ['grants.csv', 13],
        ['grants.csv', 14],
      ],
    );
    assert.match(out.rejected[4]?.reason ?? '', /revoked_at "2022-02-01" is not after granted_at/);
    assert.match(out.rejected[0]?.reason ?? '', /wholesale/);
    assert.deepEqual(out.rows, { read: 10 + 3 + 13, used: 26 - 5, rejected: 5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments and unreadable files exit 2 naming the file and what is wrong', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-grants-'));
  try {
    writeRegistry(dir);
    writeFileSync(join(dir, 'nocols.csv'), 'user,perm\nx,y\n');
    const run = (...args: string[]) => runCli(['grants', 'check', ...args]);
    const base = ['--staff', join(dir, 'staff.csv'), '--permissions', join(dir, 'permissions.csv')];
    const cases: [string[], RegExp][] = [
      [[...base, '--grants', join(dir, 'missing.csv')], /missing\.csv: cannot read \(ENOENT\)/],
      [[...base, '--grants', join(dir, 'nocols.csv')], /nocols\.csv: missing columns user_id, permission_id, granted_by, granted_at/],
      [[...base], /required option '--grants <file>'/],
      [[...base, '--grants', join(dir, 'grants.csv'), '--at', '2023-02-30'], /must be a calendar day/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, message);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a grant is never judged clean when the holder’s side is not allowed to hold the permission', () => {
  const sides = ['network', 'retail', 'other_retailer'] as const;
  fc.assert(
    fc.property(fc.constantFrom(...sides), fc.subarray([...sides]), fc.boolean(), (side, allowed, self) => {
      const staff: StaffPeriod[] = [
        { userId: 'u', personId: 'p', organization: 'o', side, from: new Date('2020-01-01'), to: null },
        { userId: 'boss', personId: 'b', organization: 'o', side, from: new Date('2020-01-01'), to: null },
      ];
      const permissions: PermissionSpec[] = [{ id: 'x', name: 'x', allowedSides: allowed }];
      const grants: GrantRecord[] = [{ userId: 'u', permissionId: 'x', grantedBy: self ? 'u' : 'boss', grantedAt: new Date('2021-01-01'), revokedAt: null }];
      const rules = checkGrants(staff, permissions, grants, new Date('2022-01-01')).violations.map((v) => v.rule);
      assert.equal(rules.includes('side_not_allowed'), !allowed.includes(side));
      assert.equal(rules.includes('self_grant'), self);
    }),
  );
});
