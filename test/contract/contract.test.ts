import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import * as admin from '../../src/contract/admin.ts';
import * as governance from '../../src/contract/governance.ts';
import * as device from '../../src/contract/terminal-device.ts';
import * as terminalRequest from '../../src/contract/terminal-request.ts';
import * as registerImport from '../../src/contract/import.ts';
import { IMPORT_OUTCOMES } from '../../src/domain/register-import.ts';
import { TERMINAL_REQUEST_STATUSES } from '../../src/identity/terminal-requests.ts';
import { jsonSchema, route, type RouteTypes } from '../../src/contract/schema.ts';
import { TerminalId } from '../../src/contract/common.ts';
import { TOKEN_SCOPES } from '../../src/identity/api-tokens.ts';
import { TERMINAL_ID_SCHEMA } from '../../src/identity/terminals.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { USERS } from '../support/fixture.ts';
import { assertRegistered, openApi, type JsonOperation } from '../support/openapi.ts';
import { STORES } from '../support/stores.ts';

/**
 * The HTTP contract (src/contract/) is what Fastify registers: every route of the governance and
 * administration areas declares its request and success-response schemas from it, a response carries the
 * contract's fields only, and a bad request is refused with a clear message.
 */

/** Every route of src/api/governance-routes.ts and src/api/admin-routes.ts, with the contract it declares. */
const OPERATIONS: readonly JsonOperation[] = [
  ['get', '/api/permissions', 200, governance.permissionList],
  ['get', '/api/grants', 200, governance.grantList],
  ['get', '/api/grants/queue', 200, governance.grantQueue],
  ['get', '/api/grants/separation-rules', 200, governance.separationRules],
  ['post', '/api/grants', 201, governance.grantRequest],
  ['post', '/api/grants/{id}/approve', 200, governance.grantApprove],
  ['post', '/api/grants/{id}/reject', 200, governance.grantReject],
  ['post', '/api/grants/{id}/revoke', 200, governance.grantRevoke],
  ['get', '/api/governance/events', 200, governance.governanceEvents],
  ['get', '/api/accounts', 200, admin.accountList],
  ['post', '/api/accounts/sweep', 200, admin.accountSweep],
  ['get', '/api/terminals', 200, admin.terminalList],
  ['get', '/api/terminals/reconciliation', 200, admin.terminalReconciliation],
  ['put', '/api/terminals/{id}', 200, admin.terminalSave],
  ['post', '/api/terminals/{id}/retire', 200, admin.terminalRetire],
  ['get', '/api/device', 200, device.deviceStatus],
  ['post', '/api/device/enroll', 201, device.deviceEnroll],
  ['get', '/api/terminal-devices', 200, device.deviceList],
  ['post', '/api/terminals/{id}/devices', 201, device.deviceEnrollThisBrowser],
  ['post', '/api/terminals/{id}/enrollment-codes', 201, device.enrollmentCodeIssue],
  ['post', '/api/terminal-devices/{id}/revoke', 200, device.deviceRevoke],
  ['post', '/api/terminal-devices/{id}/confirm', 200, device.deviceConfirm],
  ['post', '/api/terminal-devices/{id}/reject', 200, device.deviceReject],
  ['get', '/api/terminal-requests', 200, terminalRequest.terminalRequestList],
  ['post', '/api/terminal-requests/{id}/approve', 200, terminalRequest.terminalRequestApprove],
  ['post', '/api/terminal-requests/{id}/reject', 200, terminalRequest.terminalRequestReject],
  ['post', '/api/access/import', 200, registerImport.registerImport],
  ['get', '/api/tokens', 200, admin.tokenList],
  ['post', '/api/tokens', 201, admin.tokenCreate],
  ['post', '/api/tokens/{id}/approve', 200, admin.tokenDecide],
  ['post', '/api/tokens/{id}/reject', 200, admin.tokenDecide],
  ['post', '/api/tokens/{id}/revoke', 200, admin.tokenRevoke],
  ['post', '/api/service-accounts', 201, admin.serviceAccountCreate],
  ['get', '/api/campaigns', 200, admin.campaignList],
  ['post', '/api/campaigns', 201, admin.campaignStart],
  ['get', '/api/campaigns/{id}/items', 200, admin.campaignItems],
  ['post', '/api/campaigns/{id}/items/{grantId}', 200, admin.campaignDecide],
];

/** The tags these two route files use; no other file does. */
const TAGS = new Set(['governance', 'people', 'terminals', 'tokens', 'recertification']);

describe('the HTTP contract', () => {
  test('its closed sets are the services’ own', () => {
    assert.deepEqual([...admin.TOKEN_SCOPES], [...TOKEN_SCOPES]);
    assert.deepEqual(jsonSchema(TerminalId, 'input'), TERMINAL_ID_SCHEMA);
    assert.deepEqual([...terminalRequest.TERMINAL_REQUEST_STATUSES], [...TERMINAL_REQUEST_STATUSES]);
    assert.deepEqual(Object.keys(registerImport.ImportCounts.shape), ['read', ...IMPORT_OUTCOMES]);
  });

  test('a response carries the contract’s fields only; Ajv takes the request schemas as they are', async () => {
    const app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } } });
    const grant = {
      id: 7,
      userId: 'u1',
      personId: 'p1',
      personName: 'A',
      permissionId: 'customer.read',
      scopeOrganizationId: null,
      status: 'approved' as const,
      reason: 'work',
      requestedBy: 'u1',
      requestedAt: new Date('2024-01-01T00:00:00.000Z'),
      decidedBy: 'u2',
      decidedAt: new Date('2024-01-02T00:00:00.000Z'),
      decisionComment: null,
      expiresAt: new Date('2025-01-01T00:00:00.000Z'),
      revokedAt: null,
      revokedBy: null,
      revokeReason: null,
      holderOrganizationId: 'org',
      holderSide: 'network',
    };
    // The service's instants are Dates; the wire has them as ISO 8601 in UTC.
    const wire = { ...grant, requestedAt: '2024-01-01T00:00:00.000Z', decidedAt: '2024-01-02T00:00:00.000Z', expiresAt: '2025-01-01T00:00:00.000Z' };
    app.post<RouteTypes<typeof governance.grantApprove>>(
      '/grants/:id/approve',
      { schema: route(governance.grantApprove, { tags: ['t'], summary: 's' }) },
      async (req) => ({
        ...grant,
        id: req.params.id,
        ...{ passwordHash: 'never on the wire', secret: { nested: true } },
      }),
    );
    await app.ready();
    const res = await app.inject({ method: 'POST', url: '/grants/7/approve', payload: { comment: 'ok' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), wire, 'every field of the contract, and nothing else');
    const bad = await app.inject({ method: 'POST', url: '/grants/7/approve', payload: { comment: 'ok', extra: 1 } });
    assert.equal(bad.statusCode, 400);
    await app.close();
  });

  for (const store of STORES) {
    describe(`as the application registers it, on ${store.name}`, () => {
      const w = seededApp(store);
      let adminSession: Session;
      before(async () => {
        adminSession = await login(w.app, USERS.admin);
      });

      test('/api/openapi.json shows the contract’s request and response schemas for every governance and administration route', async () => {
        assertRegistered(await openApi(w.app), TAGS, OPERATIONS);
      });

      test('a request the contract refuses gets a clear validation_failed message', async () => {
        const headers = { cookie: adminSession.cookie, 'x-csrf-token': adminSession.csrf };
        const cases: [method: 'GET' | 'POST', url: string, payload: Record<string, unknown> | undefined, message: string][] = [
          ['GET', '/api/grants?limit=0', undefined, 'querystring/limit must be >= 1'],
          ['GET', '/api/grants?status=pending', undefined, 'querystring/status must be equal to one of the allowed values'],
          ['POST', '/api/grants', { userId: 'x', permissionId: 'customer.read', expiresOn: '2024-12-31' }, "body/reason must have required property 'reason'"],
          ['POST', '/api/service-accounts', { userId: 'a b', name: 'n', ownerPersonId: 'p' }, 'body/userId must match pattern "^[A-Za-z0-9._@-]{1,64}$"'],
          [
            'POST',
            '/api/tokens',
            { userId: 'svc', name: 'n', scopes: ['scim', 'scim'], expiresOn: '2024-12-31' },
            'body/scopes must NOT have duplicate items (items ## 1 and 0 are identical)',
          ],
          ['POST', '/api/campaigns/1/items/2', { decision: 'maybe' }, 'body/decision must be equal to one of the allowed values'],
        ];
        for (const [method, url, payload, message] of cases) {
          const res = await w.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
          assert.equal(res.statusCode, 400, `${method} ${url}`);
          const error = res.json<{ error: { code: string; message: string } }>().error;
          assert.equal(error.code, 'validation_failed');
          assert.equal(error.message, message);
        }
      });
    });
  }
});
