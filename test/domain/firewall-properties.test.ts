import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SUPPLY_POINT_FIELDS, SUPPLY_POINT_FIELD_KEYS } from '../../src/domain/classification.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import { DUTIES, SIDES, type StaffAssignment } from '../../src/domain/organization.ts';
import { principalAt } from '../../src/domain/principal.ts';
import { PURPOSES } from '../../src/domain/purpose.ts';
import type { StoredContract, StoredSupplyPoint } from '../../src/domain/record.ts';
import { contractAt } from '../../src/domain/supply-point.ts';
import { viewRecord } from '../../src/firewall/firewall.ts';
import { applyDecisions, type FieldView } from '../../src/firewall/view.ts';

const table = compileDecisionTable();
const RETAILERS = ['A0001', 'R0002', 'R0003', 'NW000'] as const;
const Y2000 = Date.UTC(2000, 0, 1);
const DAY = 86_400_000;

/** A supply point with a random, non-overlapping contract history (gaps = vacancies). */
const supplyPoint = fc
  .array(fc.record({ gapDays: fc.integer({ min: 0, max: 400 }), lengthDays: fc.integer({ min: 1, max: 3000 }), retailer: fc.constantFrom(...RETAILERS), corporate: fc.boolean() }), { maxLength: 6 })
  .chain((segments) =>
    fc.boolean().map((openEnded): StoredSupplyPoint => {
      let t = Y2000;
      const contracts: StoredContract[] = segments.map((s, i) => {
        const from = t + s.gapDays * DAY;
        const to = from + s.lengthDays * DAY;
        t = to;
        return {
          retailerCode: s.retailer, retailerName: s.retailer, lastResort: s.retailer === 'NW000', capacity: 30, capacityUnit: 'A',
          customerType: s.corporate ? 'corporate' : 'individual', holderName: `holder-${i}`, phone: `0900000000${i}`,
          validFrom: new Date(from), validTo: openEnded && i === segments.length - 1 ? null : new Date(to),
        };
      });
      return {
        id: '0200000000000000000001', areaCode: '02',
        address: { postalCode: '980-0001', prefecture: '宮城県', city: '仙台市青葉区', town: '中央一丁目', street: '1番1号', building: null },
        meterId: 'M0000000001', readingDay: 5, equipment: [], usage: [], networkNotes: 'T-1', contracts,
      };
    }),
  );

const assignment = fc.record({
  side: fc.constantFrom(...SIDES),
  duty: fc.constantFrom(...DUTIES),
  retailer: fc.constantFrom('A0001', 'R0002', 'R0003'),
  employment: fc.constantFrom('employee' as const, 'contractor' as const),
}).map((a): StaffAssignment => ({
  personId: 'p', organizationId: 'o', employment: a.employment, side: a.side, retailerCode: a.side === 'network' ? null : a.retailer,
  office: 'x', duty: a.duty, validFrom: new Date(Y2000), validTo: null,
}));

const instant = fc.integer({ min: 0, max: 30 * 365 }).map((d) => new Date(Y2000 + d * DAY + 3_600_000));

test('no principal, record, instant or context lets a retail-side person see a non-public field of a customer not theirs outside an emergency', () => {
  fc.assert(
    fc.property(assignment, supplyPoint, instant, fc.constantFrom(...PURPOSES), (a, sp, at, purpose) => {
      const principal = principalAt('p', [a], at);
      const { view, logged } = viewRecord(table, principal, sp, SUPPLY_POINT_FIELD_KEYS, { at, purpose, emergency: false, networkOnly: null });
      if (a.side === 'network') return;
      const current = contractAt(sp.contracts, at);
      const ownNow = current !== null && !current.lastResort && current.retailerCode === a.retailerCode;
      for (const f of SUPPLY_POINT_FIELD_KEYS) {
        const fv = view.fields[f];
        assert.ok(fv !== undefined);
        if (fv.shown && SUPPLY_POINT_FIELDS[f].class !== 'public') {
          assert.ok(ownNow, `${f} shown to ${a.side} ${a.retailerCode} though the supplier at that moment is ${current?.retailerCode ?? 'nobody'}`);
          assert.notEqual(SUPPLY_POINT_FIELDS[f].class, 'network_only');
        }
      }
      assert.equal(logged.relation === 'own', ownNow);
    }),
    { numRuns: 3000 },
  );
});

test('inside an emergency a retail-side person sees only outage-contact fields of others’ customers', () => {
  fc.assert(
    fc.property(assignment, supplyPoint, instant, fc.constantFrom(...PURPOSES), (a, sp, at, purpose) => {
      if (a.side === 'network') return;
      const { view, logged } = viewRecord(table, principalAt('p', [a], at), sp, SUPPLY_POINT_FIELD_KEYS, { at, purpose, emergency: true, networkOnly: null });
      if (logged.relation === 'own') return;
      for (const f of SUPPLY_POINT_FIELD_KEYS) {
        if (view.fields[f]?.shown === true && SUPPLY_POINT_FIELDS[f].class !== 'public') {
          assert.ok(SUPPLY_POINT_FIELDS[f].emergencyContact, `${f} is not an outage-contact field`);
          assert.equal(purpose, 'emergency_support');
          assert.equal(a.side, 'retail');
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('every served field is in the log record, every masked one with its reason, and nothing else', () => {
  fc.assert(
    fc.property(assignment, supplyPoint, instant, fc.constantFrom(...PURPOSES), fc.boolean(), fc.subarray([...SUPPLY_POINT_FIELD_KEYS], { minLength: 1 }), (a, sp, at, purpose, emergency, fields) => {
      const { view, logged } = viewRecord(table, principalAt('p', [a], at), sp, fields, { at, purpose, emergency, networkOnly: null });
      const shown = Object.entries(view.fields).filter(([, v]) => v.shown).map(([k]) => k).sort();
      assert.deepEqual([...logged.shown].sort(), shown);
      assert.deepEqual(Object.keys(logged.masked).sort(), Object.entries(view.fields).filter(([, v]) => !v.shown).map(([k]) => k).sort());
      assert.deepEqual(Object.keys(view.fields).sort(), [...fields].sort());
    }),
    { numRuns: 1000 },
  );
});

test('a grant missing or a terminal not at a network site only ever narrows: nothing shown with the gate closed that is hidden with it open', () => {
  fc.assert(
    fc.property(assignment, supplyPoint, instant, fc.constantFrom(...PURPOSES), fc.boolean(), fc.constantFrom('permission_not_granted' as const, 'terminal_not_permitted' as const), (a, sp, at, purpose, emergency, gate) => {
      const principal = principalAt('p', [a], at);
      const open = viewRecord(table, principal, sp, SUPPLY_POINT_FIELD_KEYS, { at, purpose, emergency, networkOnly: null });
      const closed = viewRecord(table, principal, sp, SUPPLY_POINT_FIELD_KEYS, { at, purpose, emergency, networkOnly: gate });
      for (const f of SUPPLY_POINT_FIELD_KEYS) {
        if (closed.view.fields[f]?.shown === true) assert.deepEqual(closed.view.fields[f], open.view.fields[f]);
        if (SUPPLY_POINT_FIELDS[f].class === 'network_only') {
          assert.equal(closed.view.fields[f]?.shown, false, `${f} shown with the network-only gate closed`);
          if (open.view.fields[f]?.shown === true) assert.equal(closed.logged.masked[f], gate);
        } else {
          assert.deepEqual(closed.view.fields[f], open.view.fields[f], `${f} is not network-only and must not change`);
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('masking is idempotent and never reveals', () => {
  const fieldView: fc.Arbitrary<FieldView> = fc.oneof(
    fc.record({ shown: fc.constant(true as const), value: fc.jsonValue() }),
    fc.record({ shown: fc.constant(false as const), reason: fc.constantFrom('network_only' as const, 'other_retailer_customer' as const) }),
  );
  fc.assert(
    fc.property(assignment, instant, fc.dictionary(fc.constantFrom(...SUPPLY_POINT_FIELD_KEYS, 'unknown_field'), fieldView), fc.constantFrom(...PURPOSES), fc.constantFrom('own' as const, 'other' as const, 'former' as const, 'none' as const), (a, at, fields, purpose, relation) => {
      const pc = principalAt('p', [a], at).principalClass;
      const decisionOf = (f: string) => table.lookup(pc, relation, SUPPLY_POINT_FIELD_KEYS.indexOf(f as never), false, purpose);
      const once = applyDecisions(fields, decisionOf, pc);
      assert.deepEqual(applyDecisions(once, decisionOf, pc), once);
      for (const [k, v] of Object.entries(fields)) if (!v.shown) assert.equal(once[k]?.shown, false);
      assert.equal(once['unknown_field']?.shown ?? false, false);
    }),
    { numRuns: 1000 },
  );
});
