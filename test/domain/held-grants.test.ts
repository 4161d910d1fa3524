import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SIDES } from '../../src/domain/organization.ts';
import { loginRefusal, networkOnlyGate, standingOf, TERMINAL_STANDINGS } from '../../src/domain/terminal.ts';
import { grantsAt, PERMISSION_CATALOG, PERMISSION_IDS, type HeldGrant } from '../../src/domain/permissions.ts';

const T0 = Date.parse('2020-01-01T00:00:00+09:00');
const instant = fc.integer({ min: 0, max: 3000 }).map((d) => new Date(T0 + d * 86_400_000));
const held: fc.Arbitrary<HeldGrant> = fc
  .record({
    id: fc.nat(),
    perm: fc.constantFrom(...PERMISSION_IDS, 'legacy.everything'),
    from: fc.integer({ min: 0, max: 3000 }),
    len: fc.integer({ min: 1, max: 400 }),
  })
  .map((g) => ({
    grantId: g.id,
    permissionId: g.perm,
    scopeOrganizationId: null,
    from: new Date(T0 + g.from * 86_400_000),
    until: new Date(T0 + (g.from + g.len) * 86_400_000),
  }));

/**
 * Grants with an instant on the start or end of one of them, or 1 ms either side (where `<` against `<=` is
 * decided: a grant no longer counts at its `until`), or anywhere; issue 14.
 */
const heldAndInstant = fc.array(held, { maxLength: 12 }).chain((grants) => {
  const edges = grants.flatMap((g) => [g.from.getTime(), g.until.getTime()]);
  const near = edges.length === 0 ? instant : fc.tuple(fc.constantFrom(...edges), fc.constantFrom(-1, 0, 1)).map(([e, d]) => new Date(e + d));
  return fc.tuple(fc.constant(grants), fc.oneof({ weight: 3, arbitrary: near }, { weight: 1, arbitrary: instant }));
});

test('a grant counts only inside its period, for a known permission, on a side that may hold it; without a side nothing counts', () => {
  let atUntil = 0;
  fc.assert(
    fc.property(heldAndInstant, fc.option(fc.constantFrom(...SIDES), { nil: null }), ([grants, at], side) => {
      const counted = grantsAt(grants, side, at);
      if (side === null) assert.equal(counted.length, 0);
      for (const g of counted) {
        assert.ok(g.from.getTime() <= at.getTime() && at.getTime() < g.until.getTime());
        const perm = PERMISSION_CATALOG[g.permissionId as keyof typeof PERMISSION_CATALOG];
        assert.ok(perm !== undefined, `${g.permissionId} is not in the catalog`);
        assert.ok(side !== null && perm.allowedSides.includes(side));
      }
      // And nothing that meets every condition is dropped.
      const expected = grants.filter(
        (g) =>
          side !== null &&
          g.from.getTime() <= at.getTime() &&
          at.getTime() < g.until.getTime() &&
          (PERMISSION_CATALOG[g.permissionId as keyof typeof PERMISSION_CATALOG]?.allowedSides.includes(side) ?? false),
      );
      assert.equal(counted.length, expected.length);
      if (
        side !== null &&
        grants.some(
          (g) => g.until.getTime() === at.getTime() && PERMISSION_CATALOG[g.permissionId as keyof typeof PERMISSION_CATALOG]?.allowedSides.includes(side),
        )
      )
        atUntil++;
    }),
    { numRuns: 2000 },
  );
  assert.ok(atUntil > 15, `runs exactly at the end of a grant that would otherwise count: ${atUntil}`);
});

test('network-only data is open only with the grant and a network-set terminal at a network site; a retired terminal always refuses login', () => {
  for (const standing of TERMINAL_STANDINGS) {
    for (const grant of [true, false]) {
      const gate = networkOnlyGate(grant, standing);
      assert.equal(gate === null, grant && standing === 'network_site', `${standing} grant=${grant}`);
    }
    if (standing === 'retired') {
      assert.equal(loginRefusal(standing, 'limit'), 'retired_terminal');
      assert.equal(loginRefusal(standing, 'refuse'), 'retired_terminal');
    }
  }
  const at = new Date(T0);
  assert.equal(standingOf('T1', { setting: 'network', siteSide: 'retail', retiredAt: null }, at), 'misplaced');
  assert.equal(standingOf('T1', { setting: 'network', siteSide: 'shared', retiredAt: null }, at), 'misplaced');
  assert.equal(standingOf('T1', { setting: 'network', siteSide: 'network', retiredAt: new Date(T0 - 1) }, at), 'retired');
  assert.equal(standingOf('T1', { setting: 'network', siteSide: 'network', retiredAt: new Date(T0 + 1) }, at), 'network_site');
  assert.equal(standingOf('T1', null, at), 'unregistered');
  assert.equal(standingOf(null, null, at), 'none');
  assert.equal(loginRefusal('unregistered', 'refuse'), 'unknown_terminal');
  assert.equal(loginRefusal('unregistered', 'limit'), null);
});
