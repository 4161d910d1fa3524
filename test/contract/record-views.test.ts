import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import Fastify from 'fastify';
import * as audit from '../../src/contract/audit.ts';
import * as inquiry from '../../src/contract/inquiry.ts';
import * as policy from '../../src/contract/policy.ts';
import { route } from '../../src/contract/schema.ts';
import * as session from '../../src/contract/session.ts';
import * as supplyPoint from '../../src/contract/supply-point.ts';
import * as vocabulary from '../../src/contract/vocabulary.ts';
import { SEARCH_FIELDS, SUPPLY_POINT_FIELD_KEYS } from '../../src/domain/classification.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import { SHOWN_REASONS } from '../../src/domain/decision.ts';
import { DUTIES, SIDES, type StaffAssignment } from '../../src/domain/organization.ts';
import { principalAt } from '../../src/domain/principal.ts';
import { DECLARABLE_PURPOSES } from '../../src/domain/purpose.ts';
import type { StoredContract, StoredSupplyPoint } from '../../src/domain/record.ts';
import { viewRecord } from '../../src/firewall/firewall.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { SP, USERS } from '../support/fixture.ts';
import { assertHonestView, rawValuesOf, seededRawValues } from '../support/honest-view.ts';
import { assertRegistered, openApi, type JsonOperation, type OtherOperation } from '../support/openapi.ts';
import { STORES } from '../support/stores.ts';

/**
 * The HTTP contract of the sessions, the firewall's look-up and search, the vocabulary, the access log and
 * the masking checklist (src/contract/session.ts, supply-point.ts, vocabulary.ts, audit.ts, policy.ts).
 *
 * A record view's response schema is part of the firewall: fast-json-stringify writes each field as
 * `{shown: true, value}` or `{shown: false, reason}` only, so a masked field can never carry its value to
 * the client, and every field the firewall decided — shown or masked — arrives whole.
 */

/** Every JSON route of the six route files, with the contract it declares. */
const OPERATIONS: readonly JsonOperation[] = [
  ['get', '/api/personas', 200, session.personas],
  ['post', '/api/session', 201, session.personaLogin],
  ['post', '/api/session/password', 201, session.passwordLogin],
  ['get', '/api/me', 200, session.me],
  ['delete', '/api/session', [200, 204], session.logout],
  ['post', '/api/session/logout-everywhere', [200, 204], session.logout],
  ['get', '/api/auth/methods', 200, session.authMethods],
  ['get', '/api/vocabulary', 200, vocabulary.vocabulary],
  ['get', '/api/supply-points/{id}', 200, supplyPoint.lookup],
  ['get', '/api/supply-points', 200, supplyPoint.search],
  ['get', '/api/audit/events', 200, audit.auditEvents],
  ['get', '/api/audit/status', 200, audit.auditStatus],
  ['post', '/api/audit/verify', 200, audit.auditVerify],
  ['get', '/api/policy/checklist', 200, policy.checklist],
  // Inquiries answer with a record view too (src/api/inquiry-routes.ts; test/contract/inquiry-contract.test.ts).
  ['post', '/api/inquiries', 201, inquiry.ask],
  ['post', '/api/inquiries/batch', 200, inquiry.batch],
  ['post', '/api/inquiries/batch.csv', 200, inquiry.batchCsv],
  ['get', '/api/inquiries/{id}/answer', 200, inquiry.answer],
];

/** The routes of those files that answer no JSON: a redirect (303), a streamed download. */
const NO_JSON: readonly OtherOperation[] = [
  ['get', '/api/auth/oidc/login', session.oidcLogin, []],
  ['get', '/api/auth/oidc/callback', session.oidcCallback, []],
  ['get', '/api/audit/export', audit.auditExport, []],
];

/** The tags these six route files use. */
const TAGS = new Set(['session', 'console', 'customer data', 'audit', 'policy']);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : assert.fail(`not an object: ${JSON.stringify(v)}`));

/** The one value a schema allows (`const`, which the OpenAPI document writes as a one-member `enum`). */
const constOf = (s: unknown): unknown => {
  const o = obj(s);
  return 'const' in o ? o['const'] : Array.isArray(o['enum']) && o['enum'].length === 1 ? o['enum'][0] : assert.fail(`no single value: ${JSON.stringify(o)}`);
};

/** The schema of each field of a record view's `fields`: exactly the two shapes, every field required. */
function assertViewSchema(view: Json, fields: readonly string[]): void {
  const f = obj(obj(view['properties'])['fields']);
  assert.deepEqual(Object.keys(obj(f['properties'])), [...fields], 'a property per field, in manifest order');
  assert.deepEqual(f['required'], [...fields], 'every field required');
  assert.equal(f['additionalProperties'], false);
  for (const [field, s] of Object.entries(obj(f['properties']))) {
    const branches = obj(s)['oneOf'];
    assert.ok(Array.isArray(branches) && branches.length === 2, `${field}: oneOf two shapes`);
    const [shown, masked] = branches.map(obj);
    for (const b of [shown, masked]) assert.equal(b?.['additionalProperties'], false, `${field}: each shape exact`);
    assert.deepEqual(Object.keys(obj(shown?.['properties'])), ['shown', 'value']);
    assert.equal(constOf(obj(shown?.['properties'])['shown']), true);
    assert.deepEqual(Object.keys(obj(masked?.['properties'])), ['shown', 'reason'], `${field}: a masked field has no value`);
    assert.equal(constOf(obj(masked?.['properties'])['shown']), false);
    assert.deepEqual(obj(obj(masked?.['properties'])['reason'])['enum'], [...SHOWN_REASONS]);
  }
}

const table = compileDecisionTable();
const DAY = 86_400_000;
const Y2020 = Date.UTC(2020, 0, 1);

/** A supply point with one to three contracts (own, another retailer's, last resort), values of every kind. */
const supplyPointArb = fc
  .record({
    retailers: fc.array(fc.constantFrom('A0001', 'R0002', 'NW000'), { minLength: 0, maxLength: 3 }),
    building: fc.option(fc.constant('コーポ青葉 101'), { nil: null }),
    notes: fc.option(fc.constant('高圧引込・変圧器 T-77'), { nil: null }),
    equipment: fc.subarray(['エコキュート', '電気温水器', '蓄熱暖房機']),
    usage: fc.array(fc.integer({ min: 0, max: 9000 }), { maxLength: 3 }),
    unit: fc.constantFrom('A' as const, 'kVA' as const, 'kW' as const),
  })
  .map(({ retailers, building, notes, equipment, usage, unit }): StoredSupplyPoint => ({
    id: '0200000000000000000077',
    areaCode: '02',
    address: { postalCode: '980-0811', prefecture: '宮城県', city: '仙台市青葉区', town: '一番町', street: '4-7-17', building },
    meterId: 'M9900000077',
    readingDay: 12,
    equipment,
    usage: usage.map((kwh, i) => ({ month: `2026-0${i + 1}`, kwh })),
    networkNotes: notes,
    contracts: retailers.map((r, i): StoredContract => ({
      retailerCode: r,
      retailerName: `小売${r}`,
      lastResort: r === 'NW000',
      capacity: 6 + i * 0.5,
      capacityUnit: unit,
      customerType: i % 2 === 0 ? 'individual' : 'corporate',
      holderName: `名義人${i}号`,
      phone: `0227770${i}123`,
      validFrom: new Date(Y2020 + i * 400 * DAY),
      validTo: i === retailers.length - 1 ? null : new Date(Y2020 + (i + 1) * 400 * DAY),
    })),
  }));

const assignmentArb = fc
  .record({ side: fc.constantFrom(...SIDES), duty: fc.constantFrom(...DUTIES), retailer: fc.constantFrom('A0001', 'R0002') })
  .map((a): StaffAssignment => ({
    personId: 'p',
    organizationId: 'o',
    employment: 'employee',
    side: a.side,
    retailerCode: a.side === 'network' ? null : a.retailer,
    office: 'x',
    duty: a.duty,
    validFrom: new Date(Y2020),
    validTo: null,
  }));

describe('the HTTP contract of sessions, record views, the vocabulary, the access log and the checklist', () => {
  test('a record view goes out exactly as the firewall decided it: every field, each with its value or its reason only', async () => {
    const app = Fastify();
    let payload: unknown = null;
    app.get('/view/:id', { schema: route(supplyPoint.lookup, { tags: ['t'], summary: 's' }) }, async () => payload);
    app.get('/search', { schema: route(supplyPoint.search, { tags: ['t'], summary: 's' }) }, async () => payload);
    await app.ready();
    const at = new Date(Y2020 + 1000 * DAY);
    const masked: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        supplyPointArb,
        assignmentArb,
        // The purposes a person declares on these routes (an inquiry's answer has routes of its own).
        fc.constantFrom(...DECLARABLE_PURPOSES),
        fc.boolean(),
        fc.constantFrom(null, 'permission_not_granted' as const),
        async (sp, a, purpose, emergency, networkOnly) => {
          const ctx = { at, purpose, emergency, networkOnly, emergencyFields: new Set(['holder_name', 'phone']) };
          const principal = principalAt('p', [a], at);
          const full = viewRecord(table, principal, sp, SUPPLY_POINT_FIELD_KEYS, ctx).view;
          const found = viewRecord(table, principal, sp, SEARCH_FIELDS, ctx).view;
          const search = { items: [found, found], page: { limit: 20, offset: 0, hasMore: false, next: null } };
          for (const [url, body] of [
            [`/view/${sp.id}?purpose=${purpose}`, full],
            [`/search?purpose=${purpose}&address=仙台`, search],
          ] as const) {
            payload = body;
            const res = await app.inject({ method: 'GET', url });
            assert.equal(res.statusCode, 200, res.body);
            assert.deepEqual(res.json(), JSON.parse(JSON.stringify(body)), 'nothing the firewall decided is dropped or added');
            const stats = assertHonestView(res.json(), rawValuesOf(sp));
            for (const [r, n] of Object.entries(stats.masked)) masked[r] = (masked[r] ?? 0) + n;
          }
        },
      ),
      { numRuns: 300 },
    );
    // The property reached masked fields of several kinds, not only shown ones.
    for (const reason of ['not_own_customer', 'former_customer', 'network_only', 'purpose_not_permitted'])
      assert.ok((masked[reason] ?? 0) > 0, `${reason}: ${JSON.stringify(masked)}`);
    await app.close();
  });

  test('a view the firewall did not make — a masked field with its value, an unnamed part of a value, a field missing — fails whole, with no data', async () => {
    const app = Fastify({ logger: false });
    let payload: Json = {};
    app.get('/view/:id', { schema: route(supplyPoint.lookup, { tags: ['t'], summary: 's' }) }, async () => payload);
    await app.ready();
    const sp =
      fc.sample(
        supplyPointArb.filter((s) => s.contracts.length > 0),
        { numRuns: 1, seed: 1 },
      )[0] ?? assert.fail('no sample');
    const at = new Date(Y2020 + 1000 * DAY);
    const nsc = principalAt(
      'p',
      [
        {
          personId: 'p',
          organizationId: 'o',
          employment: 'employee',
          side: 'network',
          retailerCode: null,
          office: 'x',
          duty: 'service_centre',
          validFrom: new Date(Y2020),
          validTo: null,
        },
      ],
      at,
    );
    const view = viewRecord(table, nsc, sp, SUPPLY_POINT_FIELD_KEYS, { at, purpose: 'customer_inquiry', emergency: false, networkOnly: null }).view;
    const holder = view.fields.holder_name;
    assert.ok(holder.shown && typeof holder.value === 'string');
    const fields = view.fields as unknown as Json;
    const cases: [what: string, fields: Json][] = [
      ['a masked field that kept its value', { ...fields, holder_name: { shown: false, reason: 'not_own_customer', value: holder.value } }],
      [
        'a shown value with a part the contract does not name',
        { ...fields, address: { shown: true, value: { ...obj(obj(fields['address'])['value']), gps: '38.26,140.87' } } },
      ],
      ['a field missing', Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'phone'))],
      ['a reason outside the closed set', { ...fields, holder_name: { shown: false, reason: holder.value } }],
    ];
    for (const [what, f] of cases) {
      payload = { supplyPointId: sp.id, fields: f };
      const res = await app.inject({ method: 'GET', url: `/view/${sp.id}?purpose=customer_inquiry` });
      assert.equal(res.statusCode, 500, what);
      assert.ok(!res.body.includes(holder.value) && !res.body.includes('38.26'), `${what}: ${res.body}`);
    }
    await app.close();
  });

  for (const store of STORES) {
    describe(`as the application registers it, on ${store.name}`, () => {
      const w = seededApp(store);
      let retail: Session;
      before(async () => {
        retail = await login(w.app, USERS.retail);
      });

      test('/api/openapi.json shows a response schema for every JSON route of the six files, and none for the others', async () => {
        const spec = await openApi(w.app);
        assertRegistered(spec, TAGS, OPERATIONS, NO_JSON);
        const lookup = spec.paths['/api/supply-points/{id}']?.['get']?.responses?.['200']?.content?.['application/json']?.schema ?? assert.fail('look-up');
        assertViewSchema(lookup, SUPPLY_POINT_FIELD_KEYS);
        const search = spec.paths['/api/supply-points']?.['get']?.responses?.['200']?.content?.['application/json']?.schema ?? assert.fail('search');
        assertViewSchema(obj(obj(obj(search['properties'])['items'])['items']), SEARCH_FIELDS);
        const asked = spec.paths['/api/inquiries/{id}/answer']?.['get']?.responses?.['200']?.content?.['application/json']?.schema ?? assert.fail('answer');
        assertViewSchema(obj(obj(asked['properties'])['answer']), SUPPLY_POINT_FIELD_KEYS);
      });

      test('a masked field of a look-up arrives with its reason and without its value', async () => {
        const raw = await seededRawValues(w.db);
        // The affiliated retailer's agent, on another retailer's customer: the holder, phone and the rest masked.
        const res = await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.R3}?purpose=own_customer_service`, headers: { cookie: retail.cookie } });
        assert.equal(res.statusCode, 200, res.body);
        const stats = assertHonestView(res.json(), raw);
        assert.ok(stats.searched > 0, 'stored values of masked fields were looked for');
        const fields = obj(obj(res.json())['fields']);
        assert.deepEqual(Object.keys(fields), [...SUPPLY_POINT_FIELD_KEYS], 'every field of the record, decided');
        assert.deepEqual(fields['holder_name'], { shown: false, reason: 'not_own_customer' });
        assert.deepEqual(fields['network_notes'], { shown: false, reason: 'network_only' });
        for (const name of raw.get(SP.R3)?.holder_name ?? []) assert.ok(!res.body.includes(String(name)), 'the holder name is nowhere in the body');
        assert.equal(obj(fields['address'])['shown'], true);
      });

      test('what /api/me answers is the contract exactly: every ability a boolean', async () => {
        const res = await w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: retail.cookie } });
        assert.equal(res.statusCode, 200);
        const me = obj(res.json());
        assert.deepEqual(Object.keys(me).sort(), Object.keys(session.Me.shape).concat('csrfToken').sort());
        const abilities = obj(me['abilities']);
        assert.deepEqual(Object.keys(abilities).sort(), Object.keys(session.Abilities.shape).sort());
        for (const [k, v] of Object.entries(abilities))
          if (!['purposes', 'searchByHolderName', 'searchByPhone'].includes(k)) assert.equal(typeof v, 'boolean', k);
      });

      test('a request the contract refuses gets a clear validation_failed message', async () => {
        const cases: [url: string, message: string][] = [
          [`/api/supply-points/${SP.R3}?purpose=curiosity`, 'querystring/purpose must be equal to one of the allowed values'],
          [`/api/supply-points/${SP.R3}`, "querystring/purpose must have required property 'purpose'"],
          [`/api/supply-points/${SP.R3}?purpose=own_customer_service&fields=all`, 'querystring must NOT have additional properties'],
          ['/api/supply-points?purpose=own_customer_service&address=仙台&limit=1000', 'querystring/limit must be <= 100'],
          ['/api/supply-points?purpose=own_customer_service&phone=abc', 'querystring/phone must NOT have fewer than 10 characters'],
          ['/api/audit/events?outcome=maybe', 'querystring/outcome must be equal to one of the allowed values'],
          ['/api/policy/checklist?format=pdf', 'querystring/format must be equal to one of the allowed values'],
        ];
        for (const [url, message] of cases) {
          const res = await w.app.inject({ method: 'GET', url, headers: { cookie: retail.cookie } });
          assert.equal(res.statusCode, 400, url);
          const error = res.json<{ error: { code: string; message: string } }>().error;
          assert.equal(error.code, 'validation_failed', url);
          assert.equal(error.message, message, url);
        }
      });
    });
  }
});
