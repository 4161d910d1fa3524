import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli } from '../support/cli.ts';
import { checkGrants, type GrantRecord, type StaffPeriod } from '../../src/governance/grant-rules.ts';
import { DAY_MS } from '../../src/domain/japan-time.ts';
import { PERMISSION_IDS, PERMISSION_CATALOG } from '../../src/domain/permissions.ts';
import { SOD_PAIR_IDS, SOD_PAIRS, sodPolicy } from '../../src/domain/separation-of-duties.ts';

/**
 * Separation of duties in `gridwall grants check` (issue 20): a generated registry of clean grants with known
 * violations planted in it — an incompatible pair, the same pair across two IDs of one person, an exchange of
 * approvals within the period — and the cases that must not be reported: a pair whose first half was revoked
 * before the second came, an exchange beyond the period, a pair policy does not enforce.
 */

/** A small deterministic generator (mulberry32), so the registry is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLEAN = ['customer.read', 'network.equipment', 'inquiries.answer'] as const;

/** Writes staff.csv, permissions.csv, grants.csv and sod.csv; returns the violations planted, as `rule user permission`. */
function writeRegistry(dir: string): string[] {
  const rnd = random(20);
  const staff = ['user_id,person_id,organization,side,employment,office,valid_from,valid_to'];
  const grants = ['user_id,permission_id,granted_by,granted_at,revoked_at'];
  for (let i = 1; i <= 150; i++) {
    const id = `S${String(i).padStart(3, '0')}`;
    staff.push(`${id},P${i},東北送配電,network,employee,本店,2018/04/01,`);
    // Clean grants: permissions no pair names, from an administrator who receives nothing from staff.
    for (const p of CLEAN) if (rnd() < 0.5) grants.push(`${id},${p},HR${1 + Math.floor(rnd() * 3)},2021-0${1 + Math.floor(rnd() * 9)}-10,`);
  }
  for (const id of ['HR1', 'HR2', 'HR3', 'ADM1', 'ADM2', 'ADM3', 'ADM4']) staff.push(`${id},P-${id},東北送配電,network,employee,本店,2015/04/01,`);
  staff.push('S900A,P900,東北送配電,network,employee,本店,2018/04/01,', 'S900B,P900,東北送配電,network,employee,本店,2018/04/01,');
  grants.push(
    'S010,audit.read,HR1,2022-01-10,',
    'S010,access.admin,HR2,2022-06-01,', // planted: completes audit.read + access.admin
    'S011,audit.read,HR1,2022-01-10,2022-03-01',
    'S011,access.admin,HR2,2022-06-01,', // not reported: audit.read was revoked before
    'S900A,audit.read,HR1,2022-02-01,',
    'S900B,access.admin,HR2,2022-07-01,', // planted: the same person P900 under another ID
    'S012,grants.approve,HR1,2022-01-10,',
    'S012,emergency.declare,HR2,2022-01-11,', // not reported by default: approve_and_declare is policy's choice
    'ADM2,network.equipment,ADM1,2022-09-01,',
    'ADM1,customer.read,ADM2,2022-10-15,', // planted: ADM2 returns ADM1's approval 44 days later
    'ADM4,network.equipment,ADM3,2021-01-01,',
    'ADM3,customer.read,ADM4,2021-06-01,', // not reported: 151 days later
    'S013,P-BILL,HR1,2022-01-10,',
    'S013,P-PAY,HR2,2022-01-10,', // planted, with --incompatible: the registry's own pair
  );
  writeFileSync(join(dir, 'staff.csv'), staff.join('\n'));
  writeFileSync(
    join(dir, 'permissions.csv'),
    [
      'permission_id,name,allowed_sides',
      ...PERMISSION_IDS.map((id) => `${id},${PERMISSION_CATALOG[id].name},${PERMISSION_CATALOG[id].allowedSides.join(';')}`),
      'P-BILL,請求の登録,network',
      'P-PAY,支払の承認,network',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'grants.csv'), grants.join('\n'));
  writeFileSync(join(dir, 'sod.csv'), 'permission_a,permission_b,reason\nP-BILL,P-PAY,請求の登録と支払の承認は同じ人が行わない\nP-X,P-X,同じ権限\n');
  return [
    'incompatible_permissions S010 access.admin',
    'incompatible_permissions S900B access.admin',
    'reciprocal_approval ADM1 customer.read',
    'incompatible_permissions S013 P-PAY',
  ];
}

interface Out {
  violations: { rule: string; userId: string; permissionId: string; detail: string }[];
  summary: Record<string, number>;
  rejected: { file: string; line: number; reason: string }[];
  separationOfDuties: {
    pairs: { rule: string; id: string; permissions: string[]; enforced: boolean; reason: string; reasonEn: string }[];
    reciprocal: { rule: string; days: number; enforced: boolean; reason: string };
  };
}

async function check(dir: string, ...extra: string[]) {
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
    ...extra,
  ]);
  return r;
}

test('grants check finds exactly the separation-of-duties violations planted in a generated registry, with the rules listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-sod-'));
  try {
    const planted = writeRegistry(dir);
    const r = await check(dir, '--format', 'json', '--incompatible', join(dir, 'sod.csv'));
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.deepEqual(out.violations.map((v) => `${v.rule} ${v.userId} ${v.permissionId}`).sort(), [...planted].sort());
    // formats.md's keys are kept.
    assert.deepEqual(Object.keys(out.summary).slice(0, 3), ['holders', 'grantors', 'selfGrants']);
    assert.deepEqual(
      { holders: out.summary['holders'], grantors: out.summary['grantors'], selfGrants: out.summary['selfGrants'] },
      {
        holders: 4,
        grantors: 2, // HR2 (the second half of each pair) and ADM2 (the returned approval)
        selfGrants: 0,
      },
    );
    const reciprocal = out.violations.find((v) => v.rule === 'reciprocal_approval');
    assert.match(reciprocal?.detail ?? '', /ADM2 granted customer\.read to ADM1 44 days after ADM1 granted network\.equipment to ADM2 \(within 90 days\)/);
    const person = out.violations.find((v) => v.userId === 'S900B');
    assert.match(person?.detail ?? '', /also holds audit\.read \(granted 2022-02-01 by HR1\)/);
    // The rules applied, with their reasons: the catalog (what is enforced) and the registry's own pair.
    assert.deepEqual(
      out.separationOfDuties.pairs.map((p) => [p.id, p.permissions.join('+'), p.enforced]),
      [
        ['audit_and_access_admin', 'audit.read+access.admin', true],
        ['approve_and_declare', 'grants.approve+emergency.declare', false],
        ['declare_and_support', 'emergency.declare+emergency.support', false],
        ['sod.csv:2', 'P-BILL+P-PAY', true],
      ],
    );
    assert.equal(out.separationOfDuties.pairs[0]?.reason, SOD_PAIRS.audit_and_access_admin.reason);
    assert.equal(out.separationOfDuties.pairs[3]?.reason, '請求の登録と支払の承認は同じ人が行わない');
    assert.deepEqual([out.separationOfDuties.reciprocal.days, out.separationOfDuties.reciprocal.enforced], [90, true]);
    assert.deepEqual(
      out.rejected.map((x) => [x.file.split('/').pop(), x.line]),
      [['sod.csv', 3]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('which pairs and what period are options: a pair policy enforces, the reciprocal rule off, bad values exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-sod-'));
  try {
    writeRegistry(dir);
    const r = await check(dir, '--format', 'json', '--pairs', 'approve_and_declare,audit_and_access_admin', '--reciprocal-days', '0');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.deepEqual(out.violations.map((v) => `${v.rule} ${v.userId} ${v.permissionId}`).sort(), [
      'incompatible_permissions S010 access.admin',
      'incompatible_permissions S012 emergency.declare',
      'incompatible_permissions S900B access.admin',
    ]);
    assert.equal(out.separationOfDuties.reciprocal.enforced, false);
    const longer = JSON.parse((await check(dir, '--format', 'json', '--pairs', 'none', '--reciprocal-days', '200')).stdout) as Out;
    assert.deepEqual(longer.violations.map((v) => `${v.rule} ${v.userId} ${v.permissionId}`).sort(), [
      'reciprocal_approval ADM1 customer.read',
      'reciprocal_approval ADM3 customer.read',
    ]);
    const table = await check(dir);
    assert.equal(table.status, 0, table.stderr);
    assert.match(
      table.stdout,
      /separation of duties \(職務分離\):\n {2}enforced {2}incompatible_permissions audit_and_access_admin: audit\.read \+ access\.admin — Whoever administers/,
    );
    assert.match(table.stdout, /not enforced {2}incompatible_permissions approve_and_declare/);
    assert.match(table.stdout, /^reciprocal_approval\s+ADM1\s+customer\.read/m);
    const bad = await check(dir, '--pairs', 'audit_and_everything');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--pairs: audit_and_everything is not a pair/);
    const days = await check(dir, '--reciprocal-days', 'ninety');
    assert.equal(days.status, 2);
    assert.match(days.stderr, /whole number of days/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a registry where one person holds both permissions of an enforced pair in force is never judged clean', () => {
  const at = new Date('2023-03-01T00:00:00+09:00');
  const perms = [...PERMISSION_IDS];
  const grant = fc.record({
    user: fc.constantFrom('u1', 'u2', 'u3'),
    perm: fc.constantFrom(...perms),
    by: fc.constantFrom('a1', 'a2'),
    day: fc.integer({ min: 0, max: 800 }),
    revokedAfter: fc.option(fc.integer({ min: 1, max: 800 })),
  });
  fc.assert(
    fc.property(fc.array(grant, { maxLength: 12 }), fc.subarray([...SOD_PAIR_IDS]), (raw, enforced) => {
      const staff: StaffPeriod[] = ['u1', 'u2', 'u3', 'a1', 'a2'].map((u) => ({
        userId: u,
        personId: u === 'u3' ? 'p1' : `p-${u}`, // u3 is another ID of u1's person
        organization: 'o',
        side: 'network',
        from: new Date('2018-01-01'),
        to: null,
      }));
      const start = new Date('2021-01-01').getTime();
      const grants: GrantRecord[] = raw.map((g) => ({
        userId: g.user,
        permissionId: g.perm,
        grantedBy: g.by,
        grantedAt: new Date(start + g.day * DAY_MS),
        revokedAt: g.revokedAfter === null ? null : new Date(start + (g.day + g.revokedAfter) * DAY_MS),
      }));
      const policy = sodPolicy(enforced, 0);
      const result = checkGrants(
        staff,
        perms.map((id) => PERMISSION_CATALOG[id]),
        grants,
        at,
        policy,
      );
      const person = (u: string) => (u === 'u3' ? 'p1' : `p-${u}`);
      const inForce = grants.filter((g) => g.grantedAt <= at && (g.revokedAt === null || g.revokedAt > at));
      for (const p of ['p1', 'p-u2']) {
        const held = new Set(inForce.filter((g) => person(g.userId) === p).map((g) => g.permissionId));
        const broken = policy.pairs.some((pair) => pair.permissions.every((x) => held.has(x)));
        const reported = result.violations.some((v) => v.rule === 'incompatible_permissions' && person(v.userId) === p);
        assert.equal(reported, broken, `${p} holds ${[...held].join(', ')}`);
      }
    }),
    { numRuns: 300 },
  );
});
