import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';

test('separation of duties: audit.read with access.admin and a 90-day reciprocal period by default; each variable sets its part', () => {
  const d = loadConfig({}).separationOfDuties;
  assert.deepEqual(
    d.pairs.map((p) => p.id),
    ['audit_and_access_admin'],
  );
  assert.equal(d.reciprocalDays, 90);
  const c = loadConfig({ GRIDWALL_SOD_PAIRS: 'declare_and_support, approve_and_declare', GRIDWALL_SOD_RECIPROCAL_DAYS: '0' }).separationOfDuties;
  assert.deepEqual(
    c.pairs.map((p) => p.id),
    ['approve_and_declare', 'declare_and_support'],
  );
  assert.equal(c.reciprocalDays, 0);
  assert.deepEqual(loadConfig({ GRIDWALL_SOD_PAIRS: 'none' }).separationOfDuties.pairs, []);
});

test('separation of duties: an unknown pair or a bad period is refused naming the variable', () => {
  assert.throws(
    () => loadConfig({ GRIDWALL_SOD_PAIRS: 'audit_and_access_admin,everyone' }),
    /GRIDWALL_SOD_PAIRS: everyone is not a pair \(give some of audit_and_access_admin/,
  );
  assert.throws(() => loadConfig({ GRIDWALL_SOD_RECIPROCAL_DAYS: '-1' }), /GRIDWALL_SOD_RECIPROCAL_DAYS/);
});

test('separation of duties: an empty variable is refused naming it; only none and 0 turn a rule off', () => {
  for (const empty of ['', ' ', ' , ']) {
    assert.throws(() => loadConfig({ GRIDWALL_SOD_PAIRS: empty }), /GRIDWALL_SOD_PAIRS is empty/, JSON.stringify(empty));
  }
  for (const empty of ['', '  ']) {
    assert.throws(() => loadConfig({ GRIDWALL_SOD_RECIPROCAL_DAYS: empty }), /GRIDWALL_SOD_RECIPROCAL_DAYS is empty/, JSON.stringify(empty));
  }
  const off = loadConfig({ GRIDWALL_SOD_PAIRS: ' none ', GRIDWALL_SOD_RECIPROCAL_DAYS: '0' }).separationOfDuties;
  assert.deepEqual(off, { pairs: [], reciprocalDays: 0 });
});
