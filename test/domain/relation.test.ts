import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { relationAt, retailerAt, type ContractFact } from '../../src/domain/relation.ts';
import { principalAt } from '../../src/domain/principal.ts';
import { contractAt, parseSupplyPointId } from '../../src/domain/supply-point.ts';
import { DUTIES, SIDES, type StaffAssignment } from '../../src/domain/organization.ts';

const t = (s: string) => new Date(s);
const c = (retailerCode: string, from: string, to: string | null, lastResort = false): ContractFact => ({
  retailerCode,
  lastResort,
  validFrom: t(from),
  validTo: to === null ? null : t(to),
});

// Supplied by A until 2020, then by B; the A→B switch is the classic "former customer".
const switched = [c('A0001', '2010-01-01', '2020-04-01'), c('R0002', '2020-04-01', null)];

test('own customer while the retailer supplies it', () => {
  assert.equal(relationAt('A0001', switched, t('2019-06-01')), 'own');
});
test('former customer after it switched away, never own', () => {
  assert.equal(relationAt('A0001', switched, t('2021-06-01')), 'former');
});
test('the new retailer owns it from the switch on, not before', () => {
  assert.equal(relationAt('R0002', switched, t('2021-06-01')), 'own');
  assert.equal(relationAt('R0002', switched, t('2019-06-01')), 'other');
});
test('last-resort supply is nobody’s customer and has no retailer', () => {
  const lr = [c('A0001', '2010-01-01', '2022-01-01'), c('NW000', '2022-01-01', null, true)];
  assert.equal(relationAt('R0002', lr, t('2023-01-01')), 'none');
  assert.equal(relationAt('A0001', lr, t('2023-01-01')), 'former');
  assert.equal(retailerAt(lr, t('2023-01-01')), null);
});
test('a vacant supply point has no retailer', () => {
  assert.equal(relationAt('R0002', [c('R0003', '2017-01-01', '2024-01-01')], t('2024-06-01')), 'none');
});
test('network principals are neutral', () => {
  assert.equal(relationAt(null, switched, t('2021-06-01')), 'other');
});

const assignment = (side: StaffAssignment['side'], duty: StaffAssignment['duty'], from: string, to: string | null): StaffAssignment => ({
  personId: 'p1',
  organizationId: 'o',
  employment: 'employee',
  side,
  retailerCode: side === 'network' ? null : 'A0001',
  office: 'x',
  duty,
  validFrom: t(from),
  validTo: to === null ? null : t(to),
});

test('a transfer from network to retail changes the class at the transfer instant', () => {
  const history = [assignment('network', 'call_centre', '2018-04-01', '2024-04-01'), assignment('retail', 'retail_sales', '2024-04-01', null)];
  assert.equal(principalAt('p1', history, t('2024-03-31')).principalClass, 'network_call_centre');
  assert.equal(principalAt('p1', history, t('2024-04-01')).principalClass, 'affiliated_retail');
});
test('a leaver is unassigned after the end of the last assignment', () => {
  assert.equal(principalAt('p1', [assignment('network', 'service_centre', '2018-04-01', '2022-04-01')], t('2023-01-01')).principalClass, 'unassigned');
});
test('a retail duty on the network side earns no network rights', () => {
  assert.equal(principalAt('p1', [assignment('network', 'retail_sales', '2018-04-01', null)], t('2023-01-01')).principalClass, 'unassigned');
});

test('supply point IDs: 22 digits, hyphens ignored, area code checked', () => {
  assert.deepEqual(parseSupplyPointId('0300-1122-3333-4444-5555-66'), { kind: 'ok', id: '0300112233334444555566', area: '03' });
  assert.deepEqual(parseSupplyPointId('123'), { kind: 'invalid', problem: 'not_22_digits' });
  assert.deepEqual(parseSupplyPointId('1100112233334444555566'), { kind: 'invalid', problem: 'unknown_area_code' });
  assert.deepEqual(parseSupplyPointId('0000112233334444555566'), { kind: 'invalid', problem: 'unknown_area_code' });
});

// ---------------------------------------------------------------------------------------------------------
// Half-open periods at their edges (issue 14). Every period is [validFrom, validTo): in force at its first
// instant, no longer at its end. Instants are drawn at the edges of the generated periods and 1 ms either
// side, where `<` against `<=` is decided; the oracles below are written from that rule, not from the code.
// ---------------------------------------------------------------------------------------------------------

const MS_DAY = 86_400_000;
const T2000 = Date.UTC(2000, 0, 1);

/** Back-to-back periods (a gap of 0 is a switch at one instant, drawn often), some with gaps; the last may be open. */
function periods<T>(extra: fc.Arbitrary<T>) {
  return fc
    .tuple(
      fc.array(fc.record({ gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })), length: fc.integer({ min: 1, max: 900 }), extra }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.boolean(),
    )
    .map(([segments, openEnded]) => {
      let t = T2000;
      return segments.map((s, i) => {
        const from = t + s.gap * MS_DAY;
        t = from + s.length * MS_DAY;
        return { extra: s.extra, validFrom: new Date(from), validTo: openEnded && i === segments.length - 1 ? null : new Date(t) };
      });
    });
}

/** An instant on an edge of one of the periods, 1 ms before or after it, or anywhere in their span. */
function instantNear(ps: readonly { validFrom: Date; validTo: Date | null }[]): fc.Arbitrary<Date> {
  const edges = ps.flatMap((p) => (p.validTo === null ? [p.validFrom.getTime()] : [p.validFrom.getTime(), p.validTo.getTime()]));
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...edges), fc.constantFrom(-1, 0, 1)).map(([e, d]) => new Date(e + d)) },
    { weight: 1, arbitrary: fc.integer({ min: T2000 - MS_DAY, max: T2000 + 5 * 1000 * MS_DAY }).map((t) => new Date(t)) },
  );
}

/** The period holding `t` under the rule [from, to), found without the code under test. */
function oracleInForce<P extends { validFrom: Date; validTo: Date | null }>(ps: readonly P[], t: number): P | null {
  const holding = ps.filter((p) => !(t < p.validFrom.getTime()) && (p.validTo === null || !(p.validTo.getTime() <= t)));
  assert.ok(holding.length <= 1, 'the generated periods overlap');
  return holding[0] ?? null;
}

const contractHistory = periods(fc.record({ retailer: fc.constantFrom('A0001', 'R0002', 'R0003'), lastResort: fc.boolean() })).map((ps) =>
  ps.map((p): ContractFact => ({
    retailerCode: p.extra.lastResort ? 'NW000' : p.extra.retailer,
    lastResort: p.extra.lastResort,
    validFrom: p.validFrom,
    validTo: p.validTo,
  })),
);

test('at a switch instant and 1 ms either side, the contract in force, the retailer and the relation follow [valid_from, valid_to)', () => {
  let onSwitch = 0;
  fc.assert(
    fc.property(
      contractHistory.chain((cs) => fc.tuple(fc.constant(cs), instantNear(cs), fc.constantFrom<string | null>('A0001', 'R0002', 'R0003', null))),
      ([contracts, at, retailer]) => {
        const t = at.getTime();
        const current = oracleInForce(contracts, t);
        assert.equal(contractAt(contracts, at), current);
        const supplier = current === null || current.lastResort ? null : current.retailerCode;
        assert.equal(retailerAt(contracts, at), supplier);
        const suppliedBefore = contracts.some((c) => c.retailerCode === retailer && !c.lastResort && !(t < c.validFrom.getTime()));
        const expected =
          retailer !== null && supplier === retailer ? 'own' : retailer !== null && suppliedBefore ? 'former' : supplier !== null ? 'other' : 'none';
        assert.equal(relationAt(retailer, contracts, at), expected);
        if (contracts.some((c) => c.validTo !== null && c.validTo.getTime() === t) && contracts.some((c) => c.validFrom.getTime() === t)) onSwitch++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(onSwitch > 100, `runs exactly on a switch instant: ${onSwitch}`);
});

test('at a transfer instant and 1 ms either side, the principal comes from the staff assignment in force under [valid_from, valid_to)', () => {
  let onTransfer = 0;
  const assignments = periods(fc.record({ side: fc.constantFrom(...SIDES), duty: fc.constantFrom(...DUTIES) })).map((ps) =>
    ps.map((p): StaffAssignment => ({
      personId: 'p1',
      organizationId: 'o',
      employment: 'employee',
      side: p.extra.side,
      retailerCode: p.extra.side === 'network' ? null : 'A0001',
      office: 'x',
      duty: p.extra.duty,
      validFrom: p.validFrom,
      validTo: p.validTo,
    })),
  );
  fc.assert(
    fc.property(
      assignments.chain((as) => fc.tuple(fc.constant(as), instantNear(as))),
      ([history, at]) => {
        const t = at.getTime();
        const expected = oracleInForce(history, t);
        const principal = principalAt('p1', history, at);
        assert.equal(principal.assignment, expected);
        if (expected === null) assert.equal(principal.principalClass, 'unassigned');
        if (history.some((a) => a.validTo !== null && a.validTo.getTime() === t) && history.some((a) => a.validFrom.getTime() === t)) onTransfer++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(onTransfer > 100, `runs exactly on a transfer instant: ${onTransfer}`);
});
