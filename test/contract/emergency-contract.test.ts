import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { z } from 'zod';
import * as analysis from '../../src/contract/analysis.ts';
import { InstantOut } from '../../src/contract/common.ts';
import * as emergency from '../../src/contract/emergency.ts';
import { contract, jsonSchema, route, type ReplyOf, type RouteTypes, type Same, type Served, type Wire } from '../../src/contract/schema.ts';
import type { DeclarationView } from '../../src/governance/emergency-declarations.ts';
import type { Review } from '../../src/governance/emergency-review.ts';
import type { SupportStaffView } from '../../src/governance/emergency-support.ts';
import { login, seededApp } from '../support/app.ts';
import { NOW, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { assertRegistered, openApi, type JsonOperation } from '../support/openapi.ts';
import { STORES } from '../support/stores.ts';

/**
 * The second slice of the HTTP contract: the emergency and analysis routes, whose services answer with
 * instants as `Date` (issue 16, "presenters at the edge"). A `Date` goes out as the ISO 8601 string
 * `JSON.stringify` writes; the handler's type is the `Date`, the console's the string.
 */

/** Every route of src/api/emergency-routes.ts and src/api/analysis-routes.ts, with the contract it declares. */
const OPERATIONS: readonly JsonOperation[] = [
  ['get', '/api/emergencies/active', 200, emergency.activeEmergencies],
  ['get', '/api/emergencies', 200, emergency.declarationList],
  ['post', '/api/emergencies', 201, emergency.declare],
  ['get', '/api/emergencies/{id}', 200, emergency.declarationGet],
  ['post', '/api/emergencies/{id}/confirm', 200, emergency.declarationConfirm],
  ['post', '/api/emergencies/{id}/reject', 200, emergency.declarationReject],
  ['post', '/api/emergencies/{id}/withdraw', 200, emergency.declarationWithdraw],
  ['post', '/api/emergencies/{id}/end', 200, emergency.declarationEnd],
  ['post', '/api/emergencies/{id}/extend', 201, emergency.declarationExtend],
  ['get', '/api/emergencies/{id}/review', 200, emergency.declarationReview],
  ['post', '/api/emergencies/{id}/sign-off', 200, emergency.reviewSignOff],
  ['get', '/api/emergency-support', 200, emergency.supportStaffList],
  ['put', '/api/emergency-support/{personId}', 200, emergency.supportRegister],
  ['delete', '/api/emergency-support/{personId}', 204, emergency.supportUnregister],
  ['get', '/api/analysis/report', 200, analysis.analysisReport],
  ['get', '/api/analysis/exposure', 200, analysis.analysisExposure],
  ['post', '/api/analysis/scan', 200, analysis.analysisScan],
  ['get', '/api/analysis/digests', 200, analysis.digestList],
  ['get', '/api/findings', 200, analysis.findingList],
  ['post', '/api/findings/{id}/acknowledge', 200, analysis.findingReview],
  ['post', '/api/findings/{id}/resolve', 200, analysis.findingReview],
];

/** The tags these two route files use; no other file does. */
const TAGS = new Set(['emergency', 'analysis']);

// What the compiler holds to (a line that does not compile fails `npm run typecheck`): the handler answers
// with the services' own views, instants as `Date`; the console reads them as strings.
const typesHold: [
  Same<Wire<Date>, string>,
  Same<Wire<{ at: Date; maybe: Date | null; list: Date[] }>, { at: string; maybe: string | null; list: string[] }>,
  Same<ReplyOf<typeof emergency.declarationGet, 200>['startsAt'], string>,
  Same<NonNullable<ReplyOf<typeof emergency.declarationGet, 200>['window']>['to'], string>,
  Same<RouteTypes<typeof emergency.declarationGet>['Reply'][200]['startsAt'], Date>,
  DeclarationView extends RouteTypes<typeof emergency.declarationGet>['Reply'][200] ? true : never,
  Review extends RouteTypes<typeof emergency.declarationReview>['Reply'][200] ? true : never,
  SupportStaffView extends Served<emergency.SupportStaff> ? true : never,
] = [true, true, true, true, true, true, true, true];
void typesHold;

describe('instants on the wire', () => {
  test('InstantOut is a date-time string in a response schema, and refused in a request schema', () => {
    assert.deepEqual(jsonSchema(InstantOut, 'output'), { type: 'string', format: 'date-time', description: 'an instant, ISO 8601 in UTC' });
    assert.deepEqual(jsonSchema(InstantOut.nullable(), 'output'), {
      anyOf: [{ type: 'string', format: 'date-time', description: 'an instant, ISO 8601 in UTC' }, { type: 'null' }],
    });
    assert.throws(() => jsonSchema(z.object({ at: InstantOut }), 'input'), /Date cannot be represented/);
    assert.throws(() => jsonSchema(z.bigint(), 'output'), /BigInt cannot be represented/, 'anything else JSON cannot say still throws');
  });

  test('a Date-valued field goes out as the ISO string JSON.stringify gives, whatever the process time zone', async () => {
    const Shape = z.object({
      at: InstantOut,
      early: InstantOut,
      none: InstantOut.nullable(),
      some: InstantOut.nullable(),
      window: z.object({ from: InstantOut, to: InstantOut }).nullable(),
      list: z.array(z.object({ occurredAt: InstantOut })),
    });
    const c = contract({ response: { 200: Shape } });
    const value = {
      at: new Date('2026-11-02T10:00:00+09:00'),
      early: new Date(Date.UTC(1999, 0, 1, 0, 0, 0, 7)),
      none: null,
      some: new Date('2026-12-31T23:59:59.999Z'),
      window: { from: new Date('2026-11-01T15:00:00.000Z'), to: new Date('2026-11-02T14:59:59.500Z') },
      list: [{ occurredAt: new Date('2026-01-01T00:00:00+09:00') }],
    };
    const app = Fastify();
    app.get<RouteTypes<typeof c>>('/t', { schema: route(c, { tags: ['t'], summary: 's' }) }, async () => value);
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/t' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, JSON.stringify(value), 'byte for byte what JSON.stringify writes');
    const wire = res.json<ReplyOf<typeof c, 200>>();
    assert.equal(wire.at, '2026-11-02T01:00:00.000Z');
    assert.equal(wire.early, '1999-01-01T00:00:00.007Z');
    assert.equal(wire.list[0]?.occurredAt, '2025-12-31T15:00:00.000Z');
    await app.close();
  });
});

for (const store of STORES) {
  describe(`the emergency and analysis routes as the application registers them, on ${store.name}`, () => {
    const w = seededApp(store, {}, seedEmergencyRoles);

    test('/api/openapi.json shows a response schema, the contract’s, for every emergency and analysis route', async () => {
      assertRegistered(await openApi(w.app), TAGS, OPERATIONS);
    });

    test('a declaration’s instants travel as UTC ISO strings, as the client wrote them', async () => {
      const s = await login(w.app, USERS.callCentre);
      const payload = {
        areas: [{ kind: 'area_code', areaCode: '02' }],
        startsAt: '2026-11-01T11:00:00+09:00',
        plannedEndAt: '2026-11-02T10:00:00+09:00',
        reason: '台風による停電',
      };
      const res = await w.app.inject({ method: 'POST', url: '/api/emergencies', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
      assert.equal(res.statusCode, 201, res.body);
      const d = res.json<ReplyOf<typeof emergency.declare, 201>>();
      assert.deepEqual(
        [d.startsAt, d.plannedEndAt, d.declaredAt, d.decidedAt, d.window],
        ['2026-11-01T02:00:00.000Z', '2026-11-02T01:00:00.000Z', NOW.toISOString(), null, null],
      );
      const list = (await w.app.inject({ method: 'GET', url: '/api/emergencies', headers: { cookie: s.cookie } })).json<
        ReplyOf<typeof emergency.declarationList, 200>
      >();
      assert.deepEqual(
        list.declarations.find((x) => x.id === d.id),
        d,
        'the list shows the same declaration, field for field',
      );
    });
  });
}
