import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sodPolicy } from '../../src/domain/separation-of-duties.ts';
import type { Db } from '../../src/store/db.ts';
import { login, seededApp, testApp, type Session } from '../support/app.ts';
import { NOW, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * The reciprocal-approval rule covers every second-person approval that widens reading, not only grants
 * (review of issue 20): a terminal registration or change, a device binding to a network-site terminal, an
 * API token, an emergency declaration — and the earlier approval of any kind counts (B approves A's terminal,
 * then A may not approve B's grant). Each is refused 403 with the rule named in words and recorded as a
 * refused governance event; a third person, or the rule switched off, lets the same approval through.
 */
const HOUR = 3_600_000;

/** u-admin2 and u-admin3 are access administrators beside u-admin; u-admin3 is a person of its own. */
async function administrators(db: Db): Promise<void> {
  await seedEmergencyRoles(db);
  await db.exec(`INSERT INTO persons (id, name) VALUES ('p-admin3', '第三 承認');
    INSERT INTO accounts (user_id, person_id, provisioned_by) VALUES ('u-admin3', 'p-admin3', 'demo');
    INSERT INTO staff_assignments (person_id, organization_id, employment, side, retailer_code, office, duty, valid_from)
      VALUES ('p-admin3', 'org-nw', 'employee', 'network', NULL, '本店', 'access_admin', '2020-04-01');
    INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at) VALUES
      ('u-admin3', 'access.admin', 'approved', '管理', 'u-admin', 'p-admin', '2019-04-01', 'u-comp', 'p-comp', '2019-04-01', '2027-04-01'),
      ('u-admin2', 'access.admin', 'approved', '管理', 'u-admin', 'p-admin', '2019-04-01', 'u-comp', 'p-comp', '2019-04-01', '2027-04-01');`);
}

const errorOf = (res: LightMyRequestResponse) => res.json<{ error: { code: string; message: string; details?: Record<string, unknown> } }>().error;

async function refusedEvents(db: Db, action: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM governance_events WHERE action = $1 AND outcome = 'refused' AND rule = 'reciprocal_approval'`,
    [action],
  );
  return rows[0]?.n ?? 0;
}

/** Refused as reciprocal, the rule named in words, the refusal a governance event. */
async function assertReciprocal(db: Db, res: LightMyRequestResponse, action: string, earlier: RegExp): Promise<void> {
  assert.equal(res.statusCode, 403, res.body);
  const e = errorOf(res);
  assert.equal(e.details?.['rule'], 'reciprocal_approval', res.body);
  assert.equal(e.details?.['withinDays'], 90);
  assert.match(e.message, /^reciprocal approval: /);
  assert.match(e.message, earlier);
  assert.match(e.message, /within 90 days/);
  assert.equal(await refusedEvents(db, action), 1, `one refused ${action} event`);
}

for (const store of STORES) {
  describe(`reciprocal approvals of every kind on ${store.name}`, () => {
    const w = seededApp(store, { sessionCacheMs: 0, now: () => NOW }, administrators);
    const sessions = new Map<string, Session>();
    const as = async (userId: string, app: FastifyInstance = w.app): Promise<Session> => {
      if (app !== w.app) return login(app, userId);
      const s = sessions.get(userId) ?? (await login(w.app, userId));
      sessions.set(userId, s);
      return s;
    };
    const send = async (who: string, method: 'POST' | 'PUT', url: string, payload: Record<string, unknown> = {}, app: FastifyInstance = w.app) => {
      const s = await as(who, app);
      return app.inject({ method, url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    };
    /** A network-set terminal at a retail site (F1): kept as a request for a second administrator; its id. */
    const terminalRequest = async (who: string, terminalId: string): Promise<number> => {
      const res = await send(who, 'PUT', `/api/terminals/${terminalId}`, {
        organizationId: 'org-a0001',
        office: '仙台営業所',
        kind: 'dedicated',
        setting: 'network',
        siteSide: 'retail',
        reason: '託送システム端末の移設',
      });
      assert.equal(res.statusCode, 202, res.body);
      return res.json<{ requestId: number }>().requestId;
    };

    test('B approved A’s terminal request: A may not approve B’s terminal request, device binding, token or grant; a third person may', async () => {
      // B (u-admin2) approves the terminal request A (u-admin) asked for.
      const first = await terminalRequest(USERS.admin, 'T-LEFT1');
      const approved = await send(USERS.admin2, 'POST', `/api/terminal-requests/${first}/approve`, { reason: '現地確認済み' });
      assert.equal(approved.statusCode, 200, approved.body);
      const earlier = /u-admin2 approved a registration or change of terminal T-LEFT1 for u-admin on 2026-11-01/;

      // A terminal request of B's, approved by A in return.
      const second = await terminalRequest(USERS.admin2, 'T-LEFT2');
      await assertReciprocal(
        w.db,
        await send(USERS.admin, 'POST', `/api/terminal-requests/${second}/approve`, { reason: 'お返しに' }),
        'terminal.request_approve',
        earlier,
      );
      const third = await send('u-admin3', 'POST', `/api/terminal-requests/${second}/approve`, { reason: '第三者として確認' });
      assert.equal(third.statusCode, 200, third.body);

      // A device binding B issued the code for, to a network-site terminal, confirmed by A in return.
      const code = await send(USERS.admin2, 'POST', `/api/terminals/${TERMINALS.NSC}/enrollment-codes`);
      assert.equal(code.statusCode, 201, code.body);
      const enrolled = await w.app.inject({ method: 'POST', url: '/api/device/enroll', payload: { code: code.json<{ code: string }>().code, label: '席12' } });
      assert.equal(enrolled.json<{ pending: boolean }>().pending, true, enrolled.body);
      const deviceId = enrolled.json<{ deviceId: number }>().deviceId;
      await assertReciprocal(w.db, await send(USERS.admin, 'POST', `/api/terminal-devices/${deviceId}/confirm`), 'terminal.device_confirm', earlier);
      assert.equal((await send('u-admin3', 'POST', `/api/terminal-devices/${deviceId}/confirm`)).statusCode, 200);

      // An API token B asked for, approved by A in return (the owner of its service account is the third administrator).
      const account = await send(USERS.admin2, 'POST', '/api/service-accounts', {
        userId: 'svc-left',
        name: 'みらいでんき 顧客システム',
        organizationId: 'org-r0002',
        ownerPersonId: 'p-admin3',
      });
      assert.equal(account.statusCode, 201, account.body);
      const token = await send(USERS.admin2, 'POST', '/api/tokens', {
        userId: 'svc-left',
        name: '顧客照会連携',
        scopes: ['customer.read'],
        expiresOn: '2027-03-31',
      });
      assert.equal(token.statusCode, 201, token.body);
      const tokenId = token.json<{ id: string }>().id;
      await assertReciprocal(w.db, await send(USERS.admin, 'POST', `/api/tokens/${tokenId}/approve`), 'token.approve', earlier);

      // A grant B asked for, approved by A in return: the earlier approval of another kind counts for grants too.
      const grant = await send(USERS.admin2, 'POST', '/api/grants', {
        userId: USERS.admin2,
        permissionId: 'network.equipment',
        reason: '設備情報の確認',
        expiresOn: '2027-03-31',
      });
      assert.equal(grant.statusCode, 201, grant.body);
      const grantId = grant.json<{ id: number }>().id;
      const refused = await send(USERS.admin, 'POST', `/api/grants/${grantId}/approve`, {});
      await assertReciprocal(w.db, refused, 'grant.approve', earlier);
      assert.equal(errorOf(refused).code, 'grant_refused');
      assert.deepEqual([errorOf(refused).details?.['earlierKind'], errorOf(refused).details?.['earlierId']], ['terminal_request', String(first)]);

      // The rule switched off (GRIDWALL_SOD_RECIPROCAL_DAYS=0): the same approvals go through.
      const lenient = await testApp(w.db, { sessionCacheMs: 0, now: () => NOW, separationOfDuties: sodPolicy(['audit_and_access_admin'], 0) });
      try {
        assert.equal((await send(USERS.admin, 'POST', `/api/tokens/${tokenId}/approve`, {}, lenient)).statusCode, 200);
        assert.equal((await send(USERS.admin, 'POST', `/api/grants/${grantId}/approve`, {}, lenient)).statusCode, 200);
      } finally {
        await lenient.close();
      }
    });

    test('emergency declarations: one declarer confirming the other’s in return is refused', async () => {
      const declare = async (who: string, city: string) => {
        const res = await send(who, 'POST', '/api/emergencies', {
          areas: [{ kind: 'municipality', prefecture: '宮城県', city }],
          startsAt: new Date(NOW.getTime() + HOUR).toISOString(),
          plannedEndAt: new Date(NOW.getTime() + 25 * HOUR).toISOString(),
          reason: '台風による広域停電',
        });
        assert.equal(res.statusCode, 201, res.body);
        return res.json<{ id: string }>().id;
      };
      const e1 = await declare(USERS.callCentre, '仙台市青葉区');
      assert.equal((await send(USERS.serviceCentre, 'POST', `/api/emergencies/${e1}/confirm`)).statusCode, 200);
      const e2 = await declare(USERS.serviceCentre, '仙台市宮城野区');
      await assertReciprocal(
        w.db,
        await send(USERS.callCentre, 'POST', `/api/emergencies/${e2}/confirm`),
        'emergency.confirm',
        new RegExp(`u-nsc approved emergency declaration ${e1} for u-cc`),
      );
      const e = errorOf(await send(USERS.callCentre, 'POST', `/api/emergencies/${e2}/confirm`));
      assert.equal(e.code, 'emergency_refused');
    });
  });
}
