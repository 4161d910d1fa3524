import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SUPPLY_POINT_FIELDS, SUPPLY_POINT_FIELD_KEYS, type SupplyPointField } from '../../src/domain/classification.ts';
import { decide } from '../../src/domain/decision.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import { allowedItems, answering, CASE_TYPES, CONSENT_FROM, CONSENT_STATES, consentProblem, type Consent } from '../../src/domain/inquiry.ts';
import { RETAIL_CLASSES, type PrincipalClass } from '../../src/domain/principal.ts';
import { RELATIONS, type Relation } from '../../src/domain/relation.ts';
import { findViolations, inquiryChecklist, inquiryViolations } from '../../src/firewall/verify.ts';

const AT = new Date('2026-11-20T10:00:00+09:00');
const consent = (over: Partial<Consent> = {}): Consent => ({
  customerName: '山田 太郎',
  method: 'signed_form',
  givenAt: new Date(AT.getTime() - 86_400_000),
  reference: 'FORM-2026-0001',
  validUntil: new Date(AT.getTime() + 30 * 86_400_000),
  ...over,
});

describe('the case allowances', () => {
  test('only non-public items are ever given: public ones are shown anyway, network-only ones never leave', () => {
    for (const c of CASE_TYPES)
      for (const consentState of CONSENT_STATES)
        for (const item of SUPPLY_POINT_FIELD_KEYS)
          if (SUPPLY_POINT_FIELDS[item].class !== 'non_public') assert.equal(answering(c, item, consentState), 'never', `${c} ${item}`);
  });

  test("nothing is given without the customer's consent, in any case", () => {
    for (const c of CASE_TYPES) assert.deepEqual(allowedItems(c, 'none'), { atOnce: [], queued: [] }, c);
  });

  test('switching with consent answers capacity at once, as the switching support system would; the previous contract of a move-in never', () => {
    assert.equal(answering('switching', 'contracted_capacity', 'valid'), 'at_once');
    assert.equal(answering('switching', 'equipment', 'valid'), 'queue');
    assert.equal(answering('move_in', 'retailer', 'valid'), 'never');
    assert.equal(answering('move_in', 'contract_history', 'valid'), 'never');
    assert.ok(allowedItems('switching', 'valid').atOnce.length > 0 && allowedItems('other', 'valid').atOnce.length === 0);
  });

  test("a case whose consent cannot be matched to the holder (a move-in's incoming occupant) answers nothing at once", () => {
    const unmatched = CASE_TYPES.filter((c) => CONSENT_FROM[c] === 'new_occupant');
    assert.deepEqual(unmatched, ['move_in']);
    for (const c of unmatched) {
      assert.deepEqual(allowedItems(c, 'valid').atOnce, [], c);
      assert.ok(allowedItems(c, 'valid').queued.length > 0, `${c} still answers from the queue`);
    }
  });
});

describe('a consent', () => {
  test('holds from the moment it is given until (not at) its end, for the contract holder written either width', () => {
    assert.equal(consentProblem(consent(), '山田 太郎', AT), null);
    assert.equal(consentProblem(consent({ customerName: '山田　太郎' }), '山田太郎', AT), null, 'a full-width space, or none');
    assert.equal(consentProblem(consent({ customerName: 'ﾔﾏﾀﾞ ﾀﾛｳ' }), 'ヤマダタロウ', AT), null, 'half-width kana');
    assert.equal(consentProblem(consent({ givenAt: AT }), '山田 太郎', AT), null, 'given this very moment');
    assert.equal(consentProblem(consent({ givenAt: new Date(AT.getTime() + 1) }), '山田 太郎', AT), 'not_yet_given');
    assert.equal(consentProblem(consent({ validUntil: new Date(AT.getTime() + 1) }), '山田 太郎', AT), null, 'the last millisecond');
    assert.equal(consentProblem(consent({ validUntil: AT }), '山田 太郎', AT), 'expired', 'its end is not inside');
  });

  test('naming another customer, or a point without a holder, is refused', () => {
    assert.equal(consentProblem(consent(), '佐藤 花子', AT), 'other_customer');
    assert.equal(consentProblem(consent(), null, AT), 'other_customer');
    assert.equal(consentProblem(consent({ customerName: '山田 太' }), '山田 太郎', AT), 'other_customer', 'a part of the name is not the name');
  });

  test("a move-in's consent is the incoming occupant's: not matched to the holder, but still dated", () => {
    assert.equal(consentProblem(consent({ customerName: '木村 健' }), '佐藤 花子', AT, 'move_in'), null);
    assert.equal(consentProblem(consent({ customerName: '木村 健' }), null, AT, 'move_in'), null, 'a vacant point');
    assert.equal(consentProblem(consent({ customerName: '木村 健', validUntil: AT }), '佐藤 花子', AT, 'move_in'), 'expired');
    assert.equal(consentProblem(consent({ customerName: '木村 健' }), '佐藤 花子', AT, 'switching'), 'other_customer');
  });
});

describe('the firewall answering an inquiry', () => {
  const table = compileDecisionTable();
  const fieldsOf = (cls: string) => SUPPLY_POINT_FIELD_KEYS.filter((f) => SUPPLY_POINT_FIELDS[f].class === cls);

  test('a retail requester sees an item its case allows of a customer not its own — and only with the inquiry, only for that purpose', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RETAIL_CLASSES),
        fc.constantFrom<Relation>('other', 'former', 'none'),
        fc.constantFrom(...fieldsOf('non_public')),
        (pc: PrincipalClass, relation: Relation, f: SupplyPointField) => {
          const field = SUPPLY_POINT_FIELDS[f];
          assert.deepEqual(decide({ principalClass: pc, relation, field, emergency: false, purpose: 'inquiry_answer', inquiry: true }), {
            kind: 'allow',
            basis: 'inquiry',
          });
          assert.deepEqual(decide({ principalClass: pc, relation, field, emergency: false, purpose: 'inquiry_answer', inquiry: false }), {
            kind: 'mask',
            reason: 'outside_inquiry_allowance',
          });
          // The inquiry flag opens nothing under any other purpose.
          for (const purpose of ['own_customer_service', 'switching_support'] as const)
            assert.equal(decide({ principalClass: pc, relation, field, emergency: false, purpose, inquiry: true }).kind, 'mask');
        },
      ),
    );
  });

  test('network-only items stay masked, own customers are shown as ever, and the network side does not answer as a requester', () => {
    for (const pc of RETAIL_CLASSES)
      for (const f of fieldsOf('network_only'))
        for (const relation of RELATIONS)
          assert.deepEqual(
            decide({ principalClass: pc, relation, field: SUPPLY_POINT_FIELDS[f], emergency: false, purpose: 'inquiry_answer', inquiry: true }),
            { kind: 'mask', reason: 'network_only' },
          );
    assert.deepEqual(
      decide({
        principalClass: 'affiliated_retail',
        relation: 'own',
        field: SUPPLY_POINT_FIELDS.phone,
        emergency: false,
        purpose: 'inquiry_answer',
        inquiry: false,
      }),
      { kind: 'allow', basis: 'own_customer' },
    );
    assert.deepEqual(
      decide({
        principalClass: 'network_call_centre',
        relation: 'other',
        field: SUPPLY_POINT_FIELDS.phone,
        emergency: false,
        purpose: 'inquiry_answer',
        inquiry: true,
      }),
      { kind: 'mask', reason: 'purpose_not_permitted' },
    );
  });

  test('the shipped policy keeps the invariant and the inquiry rules: every retailer alike, never beyond the case', () => {
    assert.deepEqual(findViolations(table), []);
    const rows = inquiryChecklist(table);
    assert.equal(rows.length, CASE_TYPES.length * SUPPLY_POINT_FIELD_KEYS.length * CONSENT_STATES.length * RETAIL_CLASSES.length);
    assert.ok(rows.some((r) => r.answering === 'at_once' && r.outcome === 'shown'));
    assert.deepEqual(inquiryViolations(rows), []);
  });

  test('an allowance that favours the affiliated retailer, goes beyond its case or promises what is never served is caught', () => {
    // The group's retailer gets the phone at once; the others do not.
    const favour = inquiryChecklist(table).map((r) =>
      r.requester === 'affiliated_retail' && r.caseType === 'switching' && r.item === 'phone' && r.consent === 'valid'
        ? { ...r, answering: 'at_once' as const, outcome: 'shown' as const }
        : r,
    );
    assert.deepEqual(
      inquiryViolations(favour).map((v) => [v.rule, v.caseType, v.item, v.consent]),
      [['unequal_treatment', 'switching', 'phone', 'valid']],
    );
    const beyond = inquiryChecklist({ ...table, lookup: () => ({ kind: 'allow', basis: 'inquiry' }) });
    assert.ok(inquiryViolations(beyond).some((v) => v.rule === 'beyond_allowance' && v.item === 'contract_history'));
    const promised = inquiryChecklist(table, (c, item, s) => (c === 'other' && item === 'network_notes' && s === 'valid' ? 'queue' : answering(c, item, s)));
    assert.deepEqual(
      inquiryViolations(promised).map((v) => [v.rule, v.item]),
      [['allowance_not_served', 'network_notes']],
    );
  });
});
