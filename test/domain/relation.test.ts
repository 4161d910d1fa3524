import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relationAt, retailerAt, type ContractFact } from '../../src/domain/relation.ts';
import { principalAt } from '../../src/domain/principal.ts';
import { parseSupplyPointId } from '../../src/domain/supply-point.ts';
import type { StaffAssignment } from '../../src/domain/organization.ts';

const t = (s: string) => new Date(s);
const c = (retailerCode: string, from: string, to: string | null, lastResort = false): ContractFact => ({ retailerCode, lastResort, validFrom: t(from), validTo: to === null ? null : t(to) });

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
  personId: 'p1', organizationId: 'o', employment: 'employee', side, retailerCode: side === 'network' ? null : 'A0001', office: 'x', duty,
  validFrom: t(from), validTo: to === null ? null : t(to),
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
