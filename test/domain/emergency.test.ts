import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SUPPLY_POINT_FIELDS, SUPPLY_POINT_FIELD_KEYS } from '../../src/domain/classification.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import {
  declarationProblem,
  EMERGENCY_CONTACT_FIELDS,
  emergencyCover,
  fieldsBeyondEmergencyContact,
  inForce,
  type Declaration,
  type EmergencyArea,
  type PointLocation,
  type SupportRegistration,
} from '../../src/domain/emergency.ts';
import { principalAt } from '../../src/domain/principal.ts';
import type { StoredSupplyPoint } from '../../src/domain/record.ts';
import { viewRecord } from '../../src/firewall/firewall.ts';

const T0 = Date.UTC(2026, 10, 1);
const HOUR = 3_600_000;
const h = (n: number) => new Date(T0 + n * HOUR);

const POINTS: readonly PointLocation[] = [
  { areaCode: '02', prefecture: '宮城県', city: '仙台市青葉区' },
  { areaCode: '02', prefecture: '宮城県', city: '石巻市' },
  { areaCode: '02', prefecture: '岩手県', city: '盛岡市' },
  { areaCode: '03', prefecture: '東京都', city: '千代田区' },
];
const area: fc.Arbitrary<EmergencyArea> = fc.oneof(
  fc.constantFrom('02', '03', '04').map((areaCode) => ({ kind: 'area_code' as const, areaCode })),
  fc.constantFrom('宮城県', '岩手県', '東京都').map((prefecture) => ({ kind: 'prefecture' as const, prefecture })),
  fc.constantFrom(...POINTS).map((p) => ({ kind: 'municipality' as const, prefecture: p.prefecture, city: p.city })),
);

/** Declarations with every status, confirmed before, during or after their start, some ended early. */
const declaration: fc.Arbitrary<Declaration> = fc
  .record({
    id: fc.integer({ min: 1, max: 99 }).map((n) => `EM-${String(n).padStart(5, '0')}`),
    status: fc.constantFrom('pending', 'confirmed', 'rejected', 'withdrawn') as fc.Arbitrary<Declaration['status']>,
    start: fc.integer({ min: 0, max: 100 }),
    length: fc.integer({ min: 1, max: 72 }),
    confirmedOffset: fc.integer({ min: -10, max: 80 }),
    endedOffset: fc.option(fc.integer({ min: 0, max: 80 }), { nil: null }),
    areas: fc.array(area, { minLength: 1, maxLength: 3 }),
  })
  .map((r) => ({
    id: r.id,
    status: r.status,
    startsAt: h(r.start),
    plannedEndAt: h(r.start + r.length),
    confirmedAt: r.status === 'confirmed' ? h(r.start + r.confirmedOffset) : null,
    endedAt: r.endedOffset === null ? null : h(r.start + r.endedOffset),
    areas: r.areas,
  }));

const registration: fc.Arbitrary<SupportRegistration | null> = fc.option(
  fc.record({ from: fc.integer({ min: 0, max: 100 }), length: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }), fields: fc.subarray([...EMERGENCY_CONTACT_FIELDS], { minLength: 1 }) }).map((r) => ({
    personId: 'p',
    fields: r.fields,
    validFrom: h(r.from),
    validTo: r.length === null ? null : h(r.from + r.length),
  })),
  { nil: null },
);

/** Minutes, so instants fall on and between the hour boundaries of windows. */
const instant = fc.integer({ min: -60, max: 200 * 60 }).map((m) => new Date(T0 + m * 60_000));

/** The rule as the issue states it, written out plainly: the oracle the implementation is checked against. */
function oracleCovered(reg: SupportRegistration | null, ds: readonly Declaration[], p: PointLocation, at: Date): boolean {
  const t = at.getTime();
  if (reg === null || t < reg.validFrom.getTime() || (reg.validTo !== null && t >= reg.validTo.getTime())) return false;
  return ds.some((d) => {
    if (d.status !== 'confirmed' || d.confirmedAt === null) return false;
    const begins = Math.max(d.startsAt.getTime(), d.confirmedAt.getTime());
    const ends = Math.min(d.plannedEndAt.getTime(), d.endedAt === null ? Infinity : d.endedAt.getTime());
    if (t < begins || t >= ends) return false;
    return d.areas.some((a) => (a.kind === 'area_code' ? a.areaCode === p.areaCode : a.kind === 'prefecture' ? a.prefecture === p.prefecture : a.prefecture === p.prefecture && a.city === p.city));
  });
}

test('emergency cover is exactly: registered now, and a confirmed declaration whose window holds the instant covers the point', () => {
  fc.assert(
    fc.property(registration, fc.array(declaration, { maxLength: 4 }), fc.constantFrom(...POINTS), instant, (reg, ds, p, at) => {
      const cover = emergencyCover(reg, ds, p, at);
      assert.equal(cover.kind === 'covered', oracleCovered(reg, ds, p, at));
      if (cover.kind === 'covered') {
        const d = ds.find((x) => x.id === cover.declarationId);
        assert.ok(d !== undefined && inForce(d, at), 'the logged declaration is one in force');
        assert.deepEqual(cover.fields, reg?.fields);
      } else {
        const t = at.getTime();
        const registered = reg !== null && reg.validFrom.getTime() <= t && (reg.validTo === null || t < reg.validTo.getTime());
        const anyInForce = ds.some((d) => oracleCovered({ personId: 'p', fields: [], validFrom: new Date(0), validTo: null }, [{ ...d, areas: [{ kind: 'area_code', areaCode: p.areaCode }] }], p, at));
        assert.equal(cover.reason, !registered ? 'not_emergency_support' : !anyInForce ? 'no_active_emergency' : 'outside_emergency_area');
      }
    }),
    { numRuns: 5000 },
  );
});

test('a pending, rejected or withdrawn declaration never gives access, whatever the clock says', () => {
  fc.assert(
    fc.property(declaration.filter((d) => d.status !== 'confirmed'), instant, (d, at) => assert.equal(inForce(d, at), false)),
  );
});

test('the window is half-open: in force at its first instant, not at its planned end', () => {
  const d: Declaration = { id: 'EM-00001', status: 'confirmed', startsAt: h(1), plannedEndAt: h(25), confirmedAt: h(0), endedAt: null, areas: [{ kind: 'area_code', areaCode: '02' }] };
  assert.equal(inForce(d, new Date(h(1).getTime() - 1)), false);
  assert.equal(inForce(d, h(1)), true);
  assert.equal(inForce(d, new Date(h(25).getTime() - 1)), true);
  assert.equal(inForce(d, h(25)), false);
  assert.equal(inForce({ ...d, confirmedAt: h(5) }, h(3)), false, 'not before confirmation, even inside the planned span');
  assert.equal(inForce({ ...d, endedAt: h(10) }, h(10)), false, 'not from an early end');
});

test('only outage-contact fields may be registered; anything else is named', () => {
  assert.deepEqual([...EMERGENCY_CONTACT_FIELDS].sort(), ['address', 'holder_name', 'phone']);
  fc.assert(
    fc.property(fc.subarray([...SUPPLY_POINT_FIELD_KEYS]), (fields) => {
      assert.deepEqual(fieldsBeyondEmergencyContact(fields), fields.filter((f) => !SUPPLY_POINT_FIELDS[f].emergencyContact));
    }),
  );
});

test('a declaration names an area, ends after it starts and after now, and lasts at most the maximum', () => {
  const areas = [{ kind: 'area_code', areaCode: '02' }] as const;
  const max = 72 * HOUR;
  assert.equal(declarationProblem({ startsAt: h(1), plannedEndAt: h(73), areas }, max, h(0)), null);
  assert.equal(declarationProblem({ startsAt: h(1), plannedEndAt: h(74), areas }, max, h(0))?.rule, 'too_long');
  assert.equal(declarationProblem({ startsAt: h(5), plannedEndAt: h(5), areas }, max, h(0))?.rule, 'end_before_start');
  assert.equal(declarationProblem({ startsAt: h(1), plannedEndAt: h(2), areas: [] }, max, h(0))?.rule, 'no_area');
  assert.equal(declarationProblem({ startsAt: h(1), plannedEndAt: h(2), areas }, max, h(3))?.rule, 'end_in_past');
});

const table = compileDecisionTable();
const SP: StoredSupplyPoint = {
  id: '0200000000000000000001',
  areaCode: '02',
  address: { postalCode: '980-0001', prefecture: '宮城県', city: '仙台市青葉区', town: '中央一丁目', street: '1番1号', building: null },
  meterId: 'M1',
  readingDay: 5,
  equipment: [],
  usage: [],
  networkNotes: 'T-1',
  contracts: [{ retailerCode: 'R0002', retailerName: 'R0002', lastResort: false, capacity: 30, capacityUnit: 'A', customerType: 'individual', holderName: '山田', phone: '090', validFrom: new Date(0), validTo: null }],
};

test('under an emergency a support person sees no non-public field beyond those registered', () => {
  const principal = principalAt('p', [{ personId: 'p', organizationId: 'o', employment: 'employee', side: 'retail', retailerCode: 'A0001', office: 'x', duty: 'retail_customer_service', validFrom: new Date(0), validTo: null }], h(0));
  fc.assert(
    fc.property(fc.subarray([...EMERGENCY_CONTACT_FIELDS]), (registered) => {
      const { view } = viewRecord(table, principal, SP, SUPPLY_POINT_FIELD_KEYS, { at: h(0), purpose: 'emergency_support', emergency: true, networkOnly: null, emergencyFields: new Set(registered) });
      const shownNonPublic = SUPPLY_POINT_FIELD_KEYS.filter((f) => view.fields[f]?.shown === true && SUPPLY_POINT_FIELDS[f].class !== 'public');
      assert.deepEqual(shownNonPublic, SUPPLY_POINT_FIELD_KEYS.filter((f) => registered.includes(f) && SUPPLY_POINT_FIELDS[f].class !== 'public'));
      for (const f of EMERGENCY_CONTACT_FIELDS) {
        const v = view.fields[f];
        if (!registered.includes(f) && SUPPLY_POINT_FIELDS[f].class !== 'public') assert.deepEqual(v, { shown: false, reason: 'outside_emergency_fields' });
      }
    }),
  );
});
