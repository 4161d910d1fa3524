import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  actingForOptions,
  checkAssignment,
  derivedRetailer,
  type ContractorEngagement,
  type Organization,
  type StaffAssignment,
} from '../../src/domain/organization.ts';
import { makePeople } from '../../src/demo/people.ts';
import { AREAS } from '../../src/demo/places.ts';
import { AFFILIATED_CODE, makeRetailers } from '../../src/demo/retailers.ts';
import { Rng, streamSeed } from '../../src/demo/rng.ts';

const t = (s: string) => new Date(`${s}T00:00:00+09:00`);
const AT = t('2026-11-01');

const NW: Organization = { id: 'org-nw', name: 'NW', kind: 'network_operator', retailerCode: null };
const A: Organization = { id: 'org-a0001', name: 'A', kind: 'retailer', retailerCode: 'A0001' };
const R2: Organization = { id: 'org-r0002', name: 'R2', kind: 'retailer', retailerCode: 'R0002' };
const R3: Organization = { id: 'org-r0003', name: 'R3', kind: 'retailer', retailerCode: 'R0003' };
const CTR: Organization = { id: 'org-ctr', name: 'CTR', kind: 'contractor', retailerCode: null };

const engaged = (client: Organization, from = '2018-01-01', to: string | null = null, contractor = CTR.id): ContractorEngagement => ({
  contractorOrganizationId: contractor,
  client,
  validFrom: t(from),
  validTo: to === null ? null : t(to),
});
const ctx = (engagements: ContractorEngagement[] = []) => ({ affiliatedCode: 'A0001', engagements });
const assignment = (over: Partial<StaffAssignment>): StaffAssignment => ({
  personId: 'p1',
  organizationId: 'org-a0001',
  employment: 'employee',
  side: 'retail',
  retailerCode: 'A0001',
  office: '仙台営業所',
  duty: 'retail_sales',
  validFrom: AT,
  validTo: null,
  ...over,
});
const network = (over: Partial<StaffAssignment>) =>
  assignment({ organizationId: 'org-nw', side: 'network', retailerCode: null, duty: 'service_centre', ...over });

describe('checkAssignment: the side and retailer follow from the organization', () => {
  test('accepts each organization’s staff on the side and for the retailer the organization gives', () => {
    assert.deepEqual(checkAssignment(assignment({}), A, ctx()), []);
    assert.deepEqual(checkAssignment(network({}), NW, ctx()), []);
    assert.deepEqual(checkAssignment(assignment({ organizationId: R2.id, side: 'other_retailer', retailerCode: 'R0002' }), R2, ctx()), []);
  });

  test('refuses an affiliated-retail employee pointed at a rival retailer (issue 14: the rival’s customers read as own)', () => {
    assert.deepEqual(checkAssignment(assignment({ retailerCode: 'R0002' }), A, ctx()), ['retailer_mismatch', 'side_retailer_mismatch']);
  });

  test('refuses an employee on a side other than the organization’s', () => {
    assert.deepEqual(checkAssignment(assignment({ side: 'other_retailer', retailerCode: 'R0003' }), A, ctx()), ['employee_side_mismatch']);
    assert.deepEqual(checkAssignment(network({ organizationId: A.id }), A, ctx()), ['employee_side_mismatch']);
    assert.deepEqual(checkAssignment(assignment({ organizationId: NW.id }), NW, ctx()), ['employee_side_mismatch']);
    assert.deepEqual(checkAssignment(assignment({ organizationId: R3.id, side: 'retail', retailerCode: 'R0003' }), R3, ctx()), [
      'employee_side_mismatch',
      'side_retailer_mismatch',
    ]);
  });

  test('refuses a retailer code on the network side and a missing one off it', () => {
    assert.deepEqual(checkAssignment(network({ retailerCode: 'A0001' }), NW, ctx()), ['retailer_on_network_side']);
    assert.deepEqual(checkAssignment(assignment({ retailerCode: null }), A, ctx()), ['retailer_missing']);
  });

  test('refuses a network duty off the network side and a retail duty on it', () => {
    assert.deepEqual(checkAssignment(assignment({ duty: 'service_centre' }), A, ctx()), ['duty_side_mismatch']);
    assert.deepEqual(checkAssignment(network({ duty: 'retail_sales' }), NW, ctx()), ['duty_side_mismatch']);
  });

  test('refuses a contractor at a retailer and an employee at a contractor company', () => {
    assert.deepEqual(checkAssignment(assignment({ employment: 'contractor' }), A, ctx()), ['employment_mismatch']);
    assert.deepEqual(checkAssignment(assignment({ organizationId: CTR.id }), CTR, ctx([engaged(A)])), ['employment_mismatch']);
  });

  test('refuses an empty period', () => {
    assert.deepEqual(checkAssignment(assignment({ validTo: AT }), A, ctx()), ['empty_period']);
  });
});

describe('checkAssignment: a contractor company’s staff act for the clients it is engaged by', () => {
  const ctr = (over: Partial<StaffAssignment>) => assignment({ organizationId: CTR.id, employment: 'contractor', ...over });

  test('accepts a contractor on the side and for the retailer of an engagement in force', () => {
    assert.deepEqual(checkAssignment(ctr({}), CTR, ctx([engaged(A)])), []);
    assert.deepEqual(checkAssignment(ctr({ side: 'network', retailerCode: null, duty: 'call_centre' }), CTR, ctx([engaged(NW)])), []);
  });

  test('refuses a contractor of the retail side placed on the network side as service centre', () => {
    assert.deepEqual(checkAssignment(ctr({ side: 'network', retailerCode: null, duty: 'service_centre' }), CTR, ctx([engaged(A)])), [
      'contractor_side_mismatch',
    ]);
  });

  test('refuses a contractor for a retailer its company does not work for', () => {
    assert.deepEqual(checkAssignment(ctr({ side: 'other_retailer', retailerCode: 'R0003' }), CTR, ctx([engaged(R2)])), ['retailer_mismatch']);
  });

  test('refuses a contractor whose company has no engagement in force, or only another company’s', () => {
    assert.deepEqual(checkAssignment(ctr({}), CTR, ctx()), ['contractor_not_engaged']);
    assert.deepEqual(checkAssignment(ctr({}), CTR, ctx([engaged(A, '2018-01-01', '2026-04-01')])), ['contractor_not_engaged'], 'ended');
    assert.deepEqual(checkAssignment(ctr({}), CTR, ctx([engaged(A, '2027-01-01')])), ['contractor_not_engaged'], 'not begun');
    assert.deepEqual(checkAssignment(ctr({}), CTR, ctx([engaged(A, '2018-01-01', null, 'org-ctr-other')])), ['contractor_not_engaged'], 'someone else’s');
  });

  test('a company engaged by the network operator and a retailer may have staff on either side', () => {
    const both = [engaged(NW), engaged(A)];
    assert.deepEqual(actingForOptions(CTR, both, 'A0001', AT), [
      { side: 'network', retailerCode: null },
      { side: 'retail', retailerCode: 'A0001' },
    ]);
    assert.deepEqual(checkAssignment(ctr({}), CTR, ctx(both)), []);
    assert.deepEqual(checkAssignment(ctr({ side: 'network', retailerCode: null, duty: 'call_centre' }), CTR, ctx(both)), []);
  });
});

describe('derivedRetailer', () => {
  test('gives the organization’s own retailer, and nothing on the network side', () => {
    assert.equal(derivedRetailer('retail', A, [], 'A0001', AT), 'A0001');
    assert.equal(derivedRetailer('other_retailer', R2, [], 'A0001', AT), 'R0002');
    assert.equal(derivedRetailer('network', A, [], 'A0001', AT), null);
    assert.equal(derivedRetailer('other_retailer', A, [], 'A0001', AT), null, 'not on a side the organization does not give');
  });

  test('gives a contractor company’s client on that side, and nothing when two clients could be meant', () => {
    assert.equal(derivedRetailer('other_retailer', CTR, [engaged(R2)], 'A0001', AT), 'R0002');
    assert.equal(derivedRetailer('other_retailer', CTR, [engaged(R2), engaged(R3)], 'A0001', AT), null);
  });
});

test('every staff assignment of the demo area passes checkAssignment with the demo’s engagements', () => {
  const area = AREAS['02'];
  const retailers = makeRetailers(new Rng(streamSeed(7, 0)), area);
  const people = makePeople(new Rng(streamSeed(7, 1)), area, retailers);
  const orgs = new Map(people.organizations.map((o) => [o.id, { ...o }]));
  const engagements: ContractorEngagement[] = people.engagements.map((e) => {
    const client = orgs.get(e.clientOrganizationId);
    assert.ok(client !== undefined, e.clientOrganizationId);
    return {
      contractorOrganizationId: e.contractorOrganizationId,
      client,
      validFrom: new Date(e.validFrom),
      validTo: e.validTo === null ? null : new Date(e.validTo),
    };
  });
  assert.ok(
    people.assignments.some((a) => a.employment === 'contractor'),
    'the demo has contractors to check',
  );
  for (const a of people.assignments) {
    const org = orgs.get(a.organizationId);
    assert.ok(org !== undefined, a.organizationId);
    const staff: StaffAssignment = { ...a, validFrom: new Date(a.validFrom), validTo: a.validTo === null ? null : new Date(a.validTo) };
    assert.deepEqual(
      checkAssignment(staff, org, { affiliatedCode: AFFILIATED_CODE, engagements }),
      [],
      `${a.personId} at ${a.organizationId} from ${a.validFrom}`,
    );
  }
});
