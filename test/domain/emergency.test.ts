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
  inForce as inForceIn,
  linesOf,
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
    // Mostly confirmed: the other statuses give nothing, and the property must reach the cases that give.
    status: fc.oneof(
      { arbitrary: fc.constant('confirmed' as const), weight: 4 },
      fc.constantFrom('pending', 'rejected', 'withdrawn') as fc.Arbitrary<Declaration['status']>,
    ),
    start: fc.integer({ min: 0, max: 60 }),
    length: fc.integer({ min: 1, max: 72 }),
    confirmedOffset: fc.oneof({ arbitrary: fc.integer({ min: -10, max: 0 }), weight: 3 }, fc.integer({ min: 0, max: 80 })),
    endedOffset: fc.option(fc.integer({ min: 0, max: 80 }), { nil: null, freq: 3 }),
    areas: fc.array(area, { minLength: 1, maxLength: 3 }),
  })
  .map((r) => ({
    id: r.id,
    status: r.status,
    startsAt: h(r.start),
    plannedEndAt: h(r.start + r.length),
    confirmedAt: r.status === 'confirmed' ? h(r.start + r.confirmedOffset) : null,
    endedAt: r.endedOffset === null ? null : h(r.start + r.endedOffset),
    extendsId: null,
    areas: r.areas,
  }));

/**
 * Lines of declarations: each may extend an earlier one (from that one's planned end, over its areas, as
 * `extend` makes them), and any of them may be ended early, confirmed late or never — in any combination.
 * Ids are distinct so the line is unambiguous.
 */
const lines: fc.Arbitrary<Declaration[]> = fc
  .array(fc.record({ base: declaration, parent: fc.option(fc.nat(), { nil: null }) }), { maxLength: 6 })
  .map((items) => {
    const out: Declaration[] = [];
    items.forEach(({ base, parent }, i) => {
      const id = `EM-${String(i + 1).padStart(5, '0')}`;
      const p = parent === null || out.length === 0 ? undefined : out[parent % out.length];
      if (p === undefined) {
        out.push({ ...base, id });
        return;
      }
      const span = base.plannedEndAt.getTime() - base.startsAt.getTime();
      const startsAt = p.plannedEndAt;
      const shift = startsAt.getTime() - base.startsAt.getTime();
      const moved = (d: Date | null) => (d === null ? null : new Date(d.getTime() + shift));
      out.push({
        ...base,
        id,
        extendsId: p.id,
        areas: p.areas,
        startsAt,
        plannedEndAt: new Date(startsAt.getTime() + span),
        confirmedAt: moved(base.confirmedAt),
        endedAt: moved(base.endedAt),
      });
    });
    return out;
  });

const registration: fc.Arbitrary<SupportRegistration | null> = fc.option(
  fc
    .record({
      from: fc.integer({ min: 0, max: 100 }),
      length: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
      fields: fc.subarray([...EMERGENCY_CONTACT_FIELDS], { minLength: 1 }),
    })
    .map((r) => ({
      personId: 'p',
      fields: r.fields,
      validFrom: h(r.from),
      validTo: r.length === null ? null : h(r.from + r.length),
    })),
  { nil: null, freq: 6 },
);

/** Minutes, so instants fall on and between the hour boundaries of windows; and boundaries ± 1 ms. */
const instant = fc.oneof(
  fc.integer({ min: -60, max: 160 * 60 }).map((m) => new Date(T0 + m * 60_000)),
  fc.tuple(fc.integer({ min: 0, max: 160 }), fc.constantFrom(-1, 0, 1)).map(([hr, ms]) => new Date(T0 + hr * HOUR + ms)),
);

/**
 * The rule as the issues state it, written out plainly: the oracle the implementation is checked against.
 * A declaration opens from its start (not before its confirmation) to its planned end; an early end of it
 * or of any declaration it extends, at or before the instant, closes it; so does anything up its line that
 * was never confirmed.
 */
function oracleLive(d: Declaration, ds: readonly Declaration[], t: number): boolean {
  if (d.status !== 'confirmed' || d.confirmedAt === null) return false;
  if (t < d.startsAt.getTime() || t < d.confirmedAt.getTime() || t >= d.plannedEndAt.getTime()) return false;
  if (d.endedAt !== null && d.endedAt.getTime() <= t) return false;
  if (d.extendsId === null) return true;
  const parent = ds.find((x) => x.id === d.extendsId);
  if (parent === undefined || parent.status !== 'confirmed' || parent.confirmedAt === null) return false;
  if (parent.endedAt !== null && parent.endedAt.getTime() <= t) return false;
  // The parent's own planned span is over by now (the child starts at its end); what counts is its line.
  return parent.extendsId === null || oracleLive({ ...parent, startsAt: new Date(0), confirmedAt: new Date(0), plannedEndAt: new Date(8.64e15) }, ds, t);
}

function oracleCovered(reg: SupportRegistration | null, ds: readonly Declaration[], p: PointLocation, at: Date): boolean {
  const t = at.getTime();
  if (reg === null || t < reg.validFrom.getTime() || (reg.validTo !== null && t >= reg.validTo.getTime())) return false;
  return ds.some(
    (d) =>
      oracleLive(d, ds, t) &&
      d.areas.some((a) =>
        a.kind === 'area_code'
          ? a.areaCode === p.areaCode
          : a.kind === 'prefecture'
            ? a.prefecture === p.prefecture
            : a.prefecture === p.prefecture && a.city === p.city,
      ),
  );
}

test('emergency cover is exactly: registered now, and a confirmed declaration whose line holds the instant covers the point', () => {
  let covered = 0;
  let coveredByExtension = 0;
  let endedLine = 0;
  fc.assert(
    fc.property(
      registration,
      fc.oneof(fc.uniqueArray(declaration, { maxLength: 4, selector: (d) => d.id }), lines),
      fc.constantFrom(...POINTS),
      instant,
      (reg, ds, p, at) => {
        const cover = emergencyCover(reg, ds, p, at);
        assert.equal(cover.kind === 'covered', oracleCovered(reg, ds, p, at));
        const t = at.getTime();
        if (
          ds.some(
            (d) =>
              d.extendsId !== null && t >= d.startsAt.getTime() && t < d.plannedEndAt.getTime() && ds.some((a) => a.id === d.extendsId && a.endedAt !== null),
          )
        )
          endedLine++;
        if (cover.kind === 'covered') {
          covered++;
          const d = ds.find((x) => x.id === cover.declarationId);
          assert.ok(d !== undefined && inForce(d, at, linesOf(ds)), 'the logged declaration is one in force');
          if (d.extendsId !== null) coveredByExtension++;
          assert.deepEqual(cover.fields, reg?.fields);
        } else {
          const registered = reg !== null && reg.validFrom.getTime() <= t && (reg.validTo === null || t < reg.validTo.getTime());
          const anyLive = ds.some((d) => oracleLive(d, ds, t));
          assert.equal(cover.reason, !registered ? 'not_emergency_support' : !anyLive ? 'no_active_emergency' : 'outside_emergency_area');
        }
      },
    ),
    { numRuns: 8000 },
  );
  // The property must reach the cases it is about, or it checks nothing.
  assert.ok(covered > 200, `covered cases reached: ${covered}`);
  assert.ok(coveredByExtension > 20, `cases covered by an extension: ${coveredByExtension}`);
  assert.ok(endedLine > 50, `instants inside an extension whose parent was ended early: ${endedLine}`);
});

test('an extension whose emergency was ended early never opens, even after the original planned end (issue 14)', () => {
  const root: Declaration = {
    id: 'EM-00001',
    status: 'confirmed',
    startsAt: h(0),
    plannedEndAt: h(2),
    confirmedAt: h(0),
    endedAt: h(1),
    extendsId: null,
    areas: [{ kind: 'area_code', areaCode: '02' }],
  };
  const ext: Declaration = { ...root, id: 'EM-00002', startsAt: h(2), plannedEndAt: h(10), endedAt: null, extendsId: 'EM-00001' };
  const reg: SupportRegistration = { personId: 'p', fields: ['holder_name'], validFrom: h(-1), validTo: null };
  const p = POINTS[0] ?? assert.fail('no point');
  for (const t of [h(1), h(2), new Date(h(2).getTime() + 1), h(5)]) {
    assert.deepEqual(emergencyCover(reg, [root, ext], p, t), { kind: 'refused', reason: 'no_active_emergency' }, t.toISOString());
  }
  assert.equal(inForce(ext, h(5), linesOf([ext])), false, 'an extension whose line is not given is not in force (fail closed)');
  assert.equal(inForce(ext, h(5), linesOf([{ ...root, endedAt: null }, ext])), true, 'the control: the same line not ended is in force');
});

test('a pending, rejected or withdrawn declaration never gives access, whatever the clock says', () => {
  fc.assert(
    fc.property(
      declaration.filter((d) => d.status !== 'confirmed'),
      instant,
      (d, at) => assert.equal(inForce(d, at, linesOf([d])), false),
    ),
  );
});

test('the window is half-open: in force at its first instant, not at its planned end', () => {
  const d: Declaration = {
    id: 'EM-00001',
    status: 'confirmed',
    startsAt: h(1),
    plannedEndAt: h(25),
    confirmedAt: h(0),
    endedAt: null,
    extendsId: null,
    areas: [{ kind: 'area_code', areaCode: '02' }],
  };
  const inForce = (x: Declaration, at: Date) => inForceIn(x, at, linesOf([x]));
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
      assert.deepEqual(
        fieldsBeyondEmergencyContact(fields),
        fields.filter((f) => !SUPPLY_POINT_FIELDS[f].emergencyContact),
      );
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
  contracts: [
    {
      retailerCode: 'R0002',
      retailerName: 'R0002',
      lastResort: false,
      capacity: 30,
      capacityUnit: 'A',
      customerType: 'individual',
      holderName: '山田',
      phone: '090',
      validFrom: new Date(0),
      validTo: null,
    },
  ],
};

test('under an emergency a support person sees no non-public field beyond those registered', () => {
  const principal = principalAt(
    'p',
    [
      {
        personId: 'p',
        organizationId: 'o',
        employment: 'employee',
        side: 'retail',
        retailerCode: 'A0001',
        office: 'x',
        duty: 'retail_customer_service',
        validFrom: new Date(0),
        validTo: null,
      },
    ],
    h(0),
  );
  fc.assert(
    fc.property(fc.subarray([...EMERGENCY_CONTACT_FIELDS]), (registered) => {
      const { view } = viewRecord(table, principal, SP, SUPPLY_POINT_FIELD_KEYS, {
        at: h(0),
        purpose: 'emergency_support',
        emergency: true,
        networkOnly: null,
        emergencyFields: new Set(registered),
      });
      const shownNonPublic = SUPPLY_POINT_FIELD_KEYS.filter((f) => view.fields[f]?.shown === true && SUPPLY_POINT_FIELDS[f].class !== 'public');
      assert.deepEqual(
        shownNonPublic,
        SUPPLY_POINT_FIELD_KEYS.filter((f) => registered.includes(f) && SUPPLY_POINT_FIELDS[f].class !== 'public'),
      );
      for (const f of EMERGENCY_CONTACT_FIELDS) {
        const v = view.fields[f];
        if (!registered.includes(f) && SUPPLY_POINT_FIELDS[f].class !== 'public') assert.deepEqual(v, { shown: false, reason: 'outside_emergency_fields' });
      }
    }),
  );
});
