import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loginAll, seededApp, type Session } from '../support/app.ts';
import { SP, USERS } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';

/**
 * The grant workflow over HTTP: request → approval by a different person who may approve in that scope.
 * Fixture approvers: u-comp (grants.approve for every organization), u-admin2 (only for org-a0001).
 * u-admin holds access.admin and grants.approve for every organization.
 */
for (const store of STORES) {
  describe(`grant workflow on ${store.name}`, () => {
    const w = seededApp(store, { sessionCacheMs: 0 });
    let s: Record<string, Session>;
    before(async () => {
      s = await loginAll(w.app, [USERS.admin, USERS.admin2, USERS.compliance, USERS.callCentre, USERS.retail, USERS.serviceCentre]);
    });

    const post = (who: string, url: string, payload: unknown) =>
      w.app.inject({
        method: 'POST',
        url,
        payload: payload as Record<string, unknown>,
        headers: { cookie: s[who]?.cookie ?? '', 'x-csrf-token': s[who]?.csrf ?? '' },
      });
    const get = (who: string, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s[who]?.cookie ?? '' } });
    const error = (res: { json: <T>() => T }) => res.json<{ error: { code: string; message: string; details?: { rule?: string } } }>().error;
    const request = (who: string, userId: string, permissionId: string, extra: Record<string, unknown> = {}) =>
      post(who, '/api/grants', { userId, permissionId, reason: 'テスト', expiresOn: '2027-03-31', ...extra });

    async function refusedEvents(rule: string): Promise<number> {
      const { rows } = await w.db.query<{ n: string }>(`SELECT count(*) AS n FROM governance_events WHERE outcome = 'refused' AND rule = $1`, [rule]);
      return Number(rows[0]?.n);
    }

    test('request then approval by a second person in scope puts the grant in force; both steps are logged', async () => {
      const req = await request(USERS.admin, USERS.callCentre, 'emergency.declare');
      assert.equal(req.statusCode, 201, req.body);
      const g = req.json<{ id: number; status: string }>();
      assert.equal(g.status, 'requested');
      const queue = (await get(USERS.compliance, '/api/grants/queue')).json<{ grants: { id: number }[] }>();
      assert.ok(
        queue.grants.some((x) => x.id === g.id),
        'the second approver sees the request in the queue',
      );
      const ok = await post(USERS.compliance, `/api/grants/${g.id}/approve`, { comment: '確認済み' });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json<{ status: string; decidedBy: string }>().status, 'approved');
      const { rows } = await w.db.query<{ action: string; actor_user_id: string }>(
        `SELECT action, actor_user_id FROM governance_events WHERE subject_type = 'grant' AND subject_id = $1 ORDER BY id`,
        [String(g.id)],
      );
      assert.deepEqual(
        rows.map((r) => [r.action, r.actor_user_id]),
        [
          ['grant.request', USERS.admin],
          ['grant.approve', USERS.compliance],
        ],
      );
    });

    test('self-approval is refused: the requester may not approve their own request', async () => {
      const g = (await request(USERS.admin, USERS.callCentre, 'emergency.support')).json<{ id: number }>();
      const before = await refusedEvents('self_approval');
      const res = await post(USERS.admin, `/api/grants/${g.id}/approve`, {});
      assert.equal(res.statusCode, 403);
      assert.equal(error(res).code, 'grant_refused');
      assert.equal(error(res).details?.rule, 'self_approval');
      // The rule travels in details, the message is the sentence alone (the console no longer parses it).
      assert.match(error(res).message, /requested this grant and may not also approve it/);
      assert.doesNotMatch(error(res).message, /^self_approval/);
      assert.equal(await refusedEvents('self_approval'), before + 1, 'the refusal is evidence too');
      const after = (await get(USERS.admin, `/api/grants?userId=${USERS.callCentre}&status=requested`)).json<{ grants: { id: number }[] }>();
      assert.ok(
        after.grants.some((x) => x.id === g.id),
        'still waiting',
      );
    });

    test('self-grant is refused: nobody approves a grant to themself, even one a colleague requested', async () => {
      const g = (await request(USERS.admin, USERS.compliance, 'emergency.declare')).json<{ id: number }>();
      const res = await post(USERS.compliance, `/api/grants/${g.id}/approve`, {});
      assert.equal(res.statusCode, 403);
      assert.equal(error(res).details?.rule, 'self_grant');
    });

    test('a grant to a side the permission forbids is refused at request (the Kansai case)', async () => {
      const res = await request(USERS.admin, USERS.retail, 'network.equipment');
      assert.equal(res.statusCode, 403);
      assert.equal(error(res).details?.rule, 'side_not_allowed');
      assert.match(error(res).message, /network\.equipment.*retail side/);
      const { rows } = await w.db.query<{ n: string }>(`SELECT count(*) AS n FROM grants WHERE user_id = $1 AND permission_id = 'network.equipment'`, [
        USERS.retail,
      ]);
      assert.equal(Number(rows[0]?.n), 0, 'nothing was stored');
    });

    test('approval outside the approver’s scope is refused; inside it, allowed', async () => {
      // u-admin2 approves for the affiliated retailer's people only.
      const nw = (await request(USERS.admin, USERS.serviceCentre, 'emergency.support')).json<{ id: number }>();
      const out = await post(USERS.admin2, `/api/grants/${nw.id}/approve`, {});
      assert.equal(out.statusCode, 403);
      assert.equal(error(out).details?.rule, 'approval_outside_scope');
      const queue = (await get(USERS.admin2, '/api/grants/queue')).json<{ grants: { id: number }[] }>();
      assert.ok(!queue.grants.some((x) => x.id === nw.id), 'a request out of scope is not offered in the queue');

      const retail = (await request(USERS.admin, USERS.retail, 'emergency.support')).json<{ id: number }>();
      const inScope = await post(USERS.admin2, `/api/grants/${retail.id}/approve`, {});
      assert.equal(inScope.statusCode, 200, inScope.body);
    });

    test('someone without grants.approve cannot approve; someone without rights cannot request for others', async () => {
      const g = (await request(USERS.admin, USERS.serviceCentre, 'emergency.declare')).json<{ id: number }>();
      const res = await post(USERS.callCentre, `/api/grants/${g.id}/approve`, {});
      assert.equal(error(res).details?.rule, 'not_an_approver');
      const forOther = await request(USERS.callCentre, USERS.serviceCentre, 'audit.read');
      assert.equal(forOther.statusCode, 403);
      assert.equal(error(forOther).details?.rule, 'not_permitted');
      const forSelf = await request(USERS.callCentre, USERS.callCentre, 'audit.read');
      assert.equal(forSelf.statusCode, 201, 'asking for oneself is allowed; approving it is another person’s job');
    });

    test('every grant expires: no expiry beyond the catalog’s maximum, none in the past; scopes as the catalog says', async () => {
      assert.equal(error(await request(USERS.admin, USERS.callCentre, 'audit.read', { expiresOn: '2030-01-01' })).details?.rule, 'expiry_invalid');
      assert.equal(error(await request(USERS.admin, USERS.callCentre, 'audit.read', { expiresOn: '2026-10-01' })).details?.rule, 'expiry_invalid');
      assert.equal(error(await request(USERS.admin, USERS.callCentre, 'grants.approve')).details?.rule, 'scope_required');
      assert.equal(error(await request(USERS.admin, USERS.callCentre, 'audit.read', { scopeOrganizationId: 'org-nw' })).details?.rule, 'scope_not_allowed');
      assert.equal(error(await request(USERS.admin, USERS.callCentre, 'everything.all')).details?.rule, 'unknown_permission');
      assert.equal((await request(USERS.admin, USERS.leaver, 'customer.read')).statusCode, 403, 'a leaver gets nothing');
      assert.equal((await request(USERS.admin, USERS.callCentre, 'audit.read', { expiresOn: '2026-02-30' })).statusCode, 400);
    });

    test('a revoked grant stops counting at once: customer look-ups are refused and logged', async () => {
      const mine = (await get(USERS.admin, `/api/grants?userId=${USERS.callCentre}&status=approved&permissionId=customer.read`)).json<{
        grants: { id: number }[];
      }>();
      const id = mine.grants[0]?.id;
      assert.ok(id !== undefined);
      const lookup = () => get(USERS.callCentre, `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`);
      assert.equal((await lookup()).statusCode, 200);
      const res = await post(USERS.admin, `/api/grants/${id}/revoke`, { reason: '異動のため' });
      assert.equal(res.statusCode, 200, res.body);
      const after = await lookup();
      assert.equal(after.statusCode, 403);
      assert.equal(error(after).code, 'permission_not_granted');
      // The refused look-up is in the access log, with the supply point asked for.
      const access = await w.db.query<{ outcome: string; refusal: string; supply_point_ids: string[] }>(
        'SELECT outcome, refusal, supply_point_ids FROM access_log WHERE request_id = $1',
        [String(after.headers['x-request-id'])],
      );
      assert.deepEqual(
        access.rows.map((e) => [e.outcome, e.refusal, e.supply_point_ids]),
        [['refused', 'permission_not_granted', [SP.OWN_A]]],
      );
      assert.equal((await post(USERS.admin, `/api/grants/${id}/revoke`, { reason: 'again' })).statusCode, 409);
      // The governance log holds the revocation and the refused second one, with its rule.
      const { rows } = await w.db.query<{ action: string; outcome: string; rule: string | null; actor_user_id: string }>(
        `SELECT action, outcome, rule, actor_user_id FROM governance_events WHERE subject_type = 'grant' AND subject_id = $1 AND action = 'grant.revoke' ORDER BY id`,
        [String(id)],
      );
      assert.deepEqual(
        rows.map((r) => [r.outcome, r.rule, r.actor_user_id]),
        [
          ['done', null, USERS.admin],
          ['refused', 'not_in_force', USERS.admin],
        ],
      );
    });

    test('people see their own grants only; the governance log is for administrators and auditors', async () => {
      const own = await get(USERS.retail, '/api/grants');
      assert.equal(own.statusCode, 200);
      const grants = own.json<{ grants: { userId: string; permissionId: string }[] }>().grants;
      // The fixture's customer.read, and the emergency.support approved in scope above.
      assert.deepEqual(grants.map((g) => g.permissionId).sort(), ['customer.read', 'emergency.support']);
      assert.ok(grants.every((g) => g.userId === USERS.retail));
      assert.equal((await get(USERS.retail, `/api/grants?userId=${USERS.callCentre}`)).statusCode, 403);
      assert.equal((await get(USERS.retail, '/api/governance/events')).statusCode, 403);
      const events = await get(USERS.compliance, '/api/governance/events?subjectType=grant');
      assert.equal(events.statusCode, 200);
      assert.ok(events.json<{ events: unknown[] }>().events.length > 0);
    });

    test('the governance log is append-only', async () => {
      // The trigger refuses even the schema's owner; the application role (PostgreSQL) may not even try.
      const owner = ownerOf(w.db);
      await assert.rejects(owner.query(`UPDATE governance_events SET outcome = 'done'`), /append-only/);
      await assert.rejects(owner.query('DELETE FROM governance_events'), /append-only/);
      if (owner !== w.db) await assert.rejects(w.db.query(`UPDATE governance_events SET outcome = 'done'`), /permission denied/);
    });
  });
}
