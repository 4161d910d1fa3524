import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { SUPPLY_POINT_FIELDS, SUPPLY_POINT_FIELD_KEYS, classify, type SupplyPointField } from '../../src/domain/classification.ts';
import { ALLOW_BASES, MASK_REASONS, decide, type Decision } from '../../src/domain/decision.ts';
import { compileDecisionTable, keySpace } from '../../src/domain/decision-table.ts';
import { PRINCIPAL_CLASSES, type PrincipalClass } from '../../src/domain/principal.ts';
import { PURPOSES, type Purpose } from '../../src/domain/purpose.ts';
import { RELATIONS, type Relation } from '../../src/domain/relation.ts';

const NON_PUBLIC = SUPPLY_POINT_FIELD_KEYS.filter((f) => SUPPLY_POINT_FIELDS[f].class === 'non_public');

function d(principalClass: PrincipalClass, relation: Relation, field: SupplyPointField, purpose: Purpose, emergency = false, inquiry = false): Decision {
  return decide({ principalClass, relation, field: SUPPLY_POINT_FIELDS[field], emergency, purpose, inquiry });
}

describe('misuse patterns of the regulator (003): all refused for retail principals', () => {
  // Each pattern is a retail-side look-up of a non-public item of a customer that is not theirs now.
  const cases: { pattern: string; relation: Relation; purpose: Purpose }[] = [
    { pattern: '1. contractor asks about a new entrant’s customer', relation: 'other', purpose: 'own_customer_service' },
    { pattern: '2. unpaid bills of a former customer', relation: 'former', purpose: 'own_customer_service' },
    { pattern: '3. move-in blocked by the previous occupant’s contract', relation: 'other', purpose: 'switching_support' },
    { pattern: '4. switching applicant checked against network data', relation: 'other', purpose: 'switching_support' },
    { pattern: '5. outbound sales to former customers', relation: 'former', purpose: 'own_customer_service' },
    { pattern: '6. analysing new entrants’ customers', relation: 'other', purpose: 'own_customer_service' },
  ];
  for (const c of cases) {
    for (const pc of ['affiliated_retail', 'other_retailer'] as const) {
      test(`${c.pattern}: ${pc} sees no non-public field`, () => {
        for (const f of NON_PUBLIC) {
          const decision = d(pc, c.relation, f, c.purpose);
          assert.equal(decision.kind, 'mask', `${f} must be masked`);
          assert.equal(decision.kind === 'mask' && decision.reason, c.relation === 'former' ? 'former_customer' : 'other_retailer_customer');
        }
      });
    }
  }
});

describe('retail principals', () => {
  test('see every non-public field of their own customers', () => {
    for (const f of NON_PUBLIC) assert.deepEqual(d('affiliated_retail', 'own', f, 'own_customer_service'), { kind: 'allow', basis: 'own_customer' });
  });
  test('never see network-only fields, even of their own customers', () => {
    assert.deepEqual(d('affiliated_retail', 'own', 'network_notes', 'own_customer_service'), { kind: 'mask', reason: 'network_only' });
  });
  test('see nothing non-public of last-resort or vacant supply points', () => {
    for (const f of NON_PUBLIC) assert.deepEqual(d('affiliated_retail', 'none', f, 'own_customer_service'), { kind: 'mask', reason: 'no_retailer' });
  });
  test('see public fields of any supply point', () => {
    for (const rel of ['own', 'former', 'other', 'none'] as const) {
      assert.deepEqual(d('affiliated_retail', rel, 'address', 'own_customer_service'), { kind: 'allow', basis: 'public' });
      assert.deepEqual(d('other_retailer', rel, 'supply_point_id', 'switching_support'), { kind: 'allow', basis: 'public' });
    }
  });
  test('a purpose outside their duty masks even their own customers', () => {
    assert.deepEqual(d('affiliated_retail', 'own', 'holder_name', 'outage_response'), { kind: 'mask', reason: 'purpose_not_permitted' });
  });
  test('inside a declared emergency, affiliated support staff see outage-contact fields only', () => {
    assert.deepEqual(d('affiliated_retail', 'other', 'holder_name', 'emergency_support', true), { kind: 'allow', basis: 'emergency' });
    assert.deepEqual(d('affiliated_retail', 'other', 'phone', 'emergency_support', true), { kind: 'allow', basis: 'emergency' });
    for (const f of ['usage', 'contracted_capacity', 'retailer', 'customer_type'] as const) {
      assert.equal(d('affiliated_retail', 'other', f, 'emergency_support', true).kind, 'mask');
    }
  });
  test('outside an emergency the emergency purpose opens nothing', () => {
    assert.deepEqual(d('affiliated_retail', 'other', 'holder_name', 'emergency_support', false), { kind: 'mask', reason: 'other_retailer_customer' });
  });
  test('other retailers cannot use the emergency purpose at all', () => {
    assert.deepEqual(d('other_retailer', 'other', 'phone', 'emergency_support', true), { kind: 'mask', reason: 'purpose_not_permitted' });
  });
});

describe('network principals, by duty', () => {
  test('call centre sees non-public fields for its duties but not network-only ones', () => {
    assert.deepEqual(d('network_call_centre', 'other', 'holder_name', 'customer_inquiry'), { kind: 'allow', basis: 'network_duty' });
    assert.deepEqual(d('network_call_centre', 'none', 'usage', 'wheeling_billing'), { kind: 'allow', basis: 'network_duty' });
    assert.deepEqual(d('network_call_centre', 'other', 'network_notes', 'outage_response'), { kind: 'mask', reason: 'network_only' });
  });
  test('service centre sees network-only fields for outage and construction work only', () => {
    assert.deepEqual(d('network_service_centre', 'other', 'network_notes', 'outage_response'), { kind: 'allow', basis: 'network_duty' });
    assert.deepEqual(d('network_service_centre', 'other', 'network_notes', 'customer_inquiry'), { kind: 'mask', reason: 'network_only' });
  });
  test('a network person with a retail purpose sees nothing non-public', () => {
    assert.deepEqual(d('network_call_centre', 'other', 'phone', 'own_customer_service'), { kind: 'mask', reason: 'purpose_not_permitted' });
  });
  test('compliance and access administration see no customer data beyond public fields', () => {
    for (const pc of ['network_compliance', 'network_access_admin'] as const) {
      for (const f of NON_PUBLIC) assert.deepEqual(d(pc, 'other', f, 'audit_review'), { kind: 'mask', reason: 'not_needed_for_duty' });
      assert.deepEqual(d(pc, 'other', 'address', 'audit_review'), { kind: 'allow', basis: 'public' });
    }
  });
});

describe('fail closed', () => {
  test('an unclassified field is masked for everyone', () => {
    assert.equal(classify('supply_point', 'mothers_maiden_name'), null);
    assert.deepEqual(
      decide({ principalClass: 'network_service_centre', relation: 'other', field: null, emergency: true, purpose: 'outage_response', inquiry: true }),
      {
        kind: 'mask',
        reason: 'unclassified',
      },
    );
  });
  test('a person without an assignment in force sees nothing, not even public fields', () => {
    assert.deepEqual(d('unassigned', 'own', 'address', 'customer_inquiry'), { kind: 'mask', reason: 'no_active_assignment' });
  });
  test('an unknown record type has no classified fields', () => {
    assert.equal(classify('meter_reading', 'supply_point_id'), null);
  });
});

describe('the compiled decision table', () => {
  const table = compileDecisionTable();
  test('agrees with the policy function over the whole key space', () => {
    let n = 0;
    for (const k of keySpace()) {
      const field = SUPPLY_POINT_FIELD_KEYS[k.fieldIndex];
      assert.ok(field !== undefined);
      const expected = decide({
        principalClass: k.principalClass,
        relation: k.relation,
        field: SUPPLY_POINT_FIELDS[field],
        emergency: k.emergency,
        purpose: k.purpose,
        inquiry: k.inquiry,
      });
      assert.deepEqual(table.lookup(k.principalClass, k.relation, k.fieldIndex, k.emergency, k.purpose, k.inquiry), expected);
      n++;
    }
    assert.equal(n, table.size);
  });
  test('answers unclassified for a field index outside the manifest', () => {
    assert.deepEqual(table.lookup('network_service_centre', 'own', -1, false, 'outage_response'), { kind: 'mask', reason: 'unclassified' });
    assert.deepEqual(table.lookup('network_service_centre', 'own', SUPPLY_POINT_FIELD_KEYS.length, false, 'outage_response'), {
      kind: 'mask',
      reason: 'unclassified',
    });
  });
  test('has a stable version that changes with the policy', () => {
    assert.equal(compileDecisionTable().version, table.version);
    assert.match(table.version, /^[0-9a-f]{64}$/);
    // The version is SHA-256 over the dimensions and the code of every decision of the policy, in key-space
    // order: recomputed here from `decide`, so a version that stopped covering the decisions fails.
    const decisions: Decision[] = [
      ...ALLOW_BASES.map((basis): Decision => ({ kind: 'allow', basis })),
      ...MASK_REASONS.map((reason): Decision => ({ kind: 'mask', reason })),
    ];
    const codes = (policy: typeof decide) =>
      Uint8Array.from(keySpace(), (k) => {
        const field = SUPPLY_POINT_FIELD_KEYS[k.fieldIndex] ?? 'network_notes';
        return decisions.findIndex((x) =>
          isDeepStrictEqual(
            x,
            policy({
              principalClass: k.principalClass,
              relation: k.relation,
              field: SUPPLY_POINT_FIELDS[field],
              emergency: k.emergency,
              purpose: k.purpose,
              inquiry: k.inquiry,
            }),
          ),
        );
      });
    const versionOf = (bytes: Uint8Array) =>
      createHash('sha256')
        .update(JSON.stringify({ PRINCIPAL_CLASSES, RELATIONS, SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS, PURPOSES, DECISIONS: decisions }))
        .update(bytes)
        .digest('hex');
    const current = codes(decide);
    assert.equal(versionOf(current), table.version);
    // A policy that differs from it in one decision only (the service centre's own-customer address, at an outage) has another version.
    const changed: typeof decide = (input) =>
      input.principalClass === 'network_service_centre' &&
      input.relation === 'own' &&
      input.field === SUPPLY_POINT_FIELDS.address &&
      !input.emergency &&
      !input.inquiry &&
      input.purpose === 'outage_response'
        ? { kind: 'mask', reason: 'purpose_not_permitted' }
        : decide(input);
    const changedCodes = codes(changed);
    assert.equal(changedCodes.filter((c, i) => c !== current[i]).length, 1);
    assert.notEqual(versionOf(changedCodes), table.version);
  });
});

describe('emergency support (found by the mutation run: the whole condition could be `true` unnoticed)', () => {
  const CONTACT = SUPPLY_POINT_KEYS_WITH((f) => SUPPLY_POINT_FIELDS[f].class === 'non_public' && SUPPLY_POINT_FIELDS[f].emergencyContact === true);
  const BEYOND = SUPPLY_POINT_KEYS_WITH((f) => SUPPLY_POINT_FIELDS[f].class === 'non_public' && SUPPLY_POINT_FIELDS[f].emergencyContact !== true);

  test('the fields are what the rule is about: some outage-contact fields, and non-public fields beyond them', () => {
    assert.deepEqual(
      [...CONTACT].sort(),
      ['address', 'holder_name', 'phone'].filter((f) => SUPPLY_POINT_FIELDS[f as SupplyPointField].class === 'non_public').sort(),
    );
    assert.ok(BEYOND.length > 0);
  });

  for (const relation of RELATIONS) {
    test(`affiliated retail staff under emergency_support, ${relation} customer: contact fields only while an emergency covers the point`, () => {
      for (const f of CONTACT) {
        assert.deepEqual(d('affiliated_retail', relation, f, 'emergency_support', true), { kind: 'allow', basis: 'emergency' }, `${f} in an emergency`);
        assert.equal(d('affiliated_retail', relation, f, 'emergency_support', false).kind, 'mask', `${f} with no emergency`);
      }
      for (const f of BEYOND) {
        assert.equal(d('affiliated_retail', relation, f, 'emergency_support', true).kind, 'mask', `${f} is beyond outage contact`);
        assert.equal(d('affiliated_retail', relation, f, 'emergency_support', false).kind, 'mask', `${f} with no emergency`);
      }
    });
  }

  test('nobody else gets the emergency basis: other retailers and retailer systems, even during an emergency', () => {
    for (const pc of ['other_retailer', 'retailer_system'] as const) {
      for (const relation of RELATIONS) {
        for (const f of [...CONTACT, ...BEYOND]) {
          const decision = d(pc, relation, f, 'emergency_support', true);
          assert.ok(!(decision.kind === 'allow' && decision.basis === 'emergency'), `${pc} ${relation} ${f}: ${JSON.stringify(decision)}`);
          if (relation !== 'own') assert.equal(decision.kind, 'mask', `${pc} ${relation} ${f}`);
        }
      }
    }
  });

  test('compliance and access administration see no non-public field for their duty, and say which kind of field it was', () => {
    for (const pc of ['network_compliance', 'network_access_admin'] as const) {
      for (const f of SUPPLY_POINT_FIELD_KEYS.filter((k) => SUPPLY_POINT_FIELDS[k].class !== 'public')) {
        const decision = d(pc, 'none', f, 'audit_review');
        assert.deepEqual(
          decision,
          { kind: 'mask', reason: SUPPLY_POINT_FIELDS[f].class === 'network_only' ? 'network_only' : 'not_needed_for_duty' },
          `${pc} ${f}`,
        );
      }
    }
  });
});

function SUPPLY_POINT_KEYS_WITH(p: (f: SupplyPointField) => boolean): SupplyPointField[] {
  return SUPPLY_POINT_FIELD_KEYS.filter(p);
}
