import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../../src/identity/api-tokens.ts';
import { ASSIGNMENT_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from '../../src/identity/scim.ts';
import type { Db } from '../../src/store/db.ts';
import { login, testApp } from '../support/app.ts';
import { NOW, SP, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

const SYSTEM = { kind: 'system', job: 'test' } as const;
const NW = { organizationId: 'org-nw', side: 'network', employment: 'employee', office: '青葉NSC', duty: 'service_centre' };
const RETAIL = { organizationId: 'org-a0001', side: 'retail', employment: 'employee', office: '仙台営業所', duty: 'retail_sales', retailerCode: 'A0001' };

/** The HR system provisioning people over SCIM 2.0 with an API token: joiner, mover, leaver. */
for (const store of STORES) {
  describe(`SCIM Users on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let app: FastifyInstance;
    let hr: string;
    let retailerSystem: string;
    /** The HR system acts over days: each test moves the clock on an hour before its changes. */
    let now = NOW;
    const tick = () => (now = new Date(now.getTime() + 3_600_000));

    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      app = await testApp(db, { sessionCacheMs: 0, now: () => now });
      const until = new Date(NOW.getTime() + 30 * 86_400_000);
      hr = (await createToken(db, SYSTEM, { userId: USERS.admin, name: '人事システム', scopes: ['scim'], expiresAt: until }, NOW)).token;
      retailerSystem = (await createToken(db, SYSTEM, { userId: USERS.otherRetailer, name: 'みらいでんき 顧客システム', scopes: ['customer.read'], expiresAt: until }, NOW)).token;
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = hr) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
    const user = (userName: string, assignment: Record<string, unknown> | null, extra: Record<string, unknown> = {}) => ({
      schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA], userName, name: { formatted: '新井 太一' }, active: true, ...(assignment === null ? {} : { [ASSIGNMENT_SCHEMA]: assignment }), ...extra,
    });

    async function grant(userId: string, permissionId: string): Promise<number> {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
         VALUES ($1, $2, 'approved', 'test', 'u-admin', 'p-admin', $3, 'u-comp', 'p-comp', $3, $4) RETURNING id`,
        [userId, permissionId, new Date(NOW.getTime() - 86_400_000), new Date(NOW.getTime() + 100 * 86_400_000)],
      );
      return Number(rows[0]?.id);
    }
    const statusOf = async (id: number) => (await db.query<{ status: string }>('SELECT status FROM grants WHERE id = $1', [id])).rows[0]?.status;

    test('a joiner is created with person, account and assignment; a duplicate userName is a SCIM uniqueness error', async () => {
      const res = await scim('POST', '/scim/v2/Users', user('u-joiner', NW, { externalId: 'E1001' }));
      assert.equal(res.statusCode, 201, res.body);
      assert.match(String(res.headers['content-type']), /application\/scim\+json/);
      const body = res.json() as { id: string; userName: string; active: boolean; meta: { location: string } };
      assert.equal(body.userName, 'u-joiner');
      assert.equal(res.headers['location'], body.meta.location);
      const got = await scim('GET', `/scim/v2/Users/${body.id}`);
      assert.deepEqual((got.json() as Record<string, unknown>)[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null });
      const list = await scim('GET', '/scim/v2/Users?filter=' + encodeURIComponent('externalId eq "E1001"'));
      assert.equal((list.json() as { totalResults: number }).totalResults, 1);
      const dup = await scim('POST', '/scim/v2/Users', user('u-joiner', NW));
      assert.equal(dup.statusCode, 409);
      assert.equal((dup.json() as { scimType: string }).scimType, 'uniqueness');
      const refused = await db.query<{ action: string; rule: string; actor_kind: string }>(`SELECT action, rule, actor_kind FROM governance_events WHERE outcome = 'refused' AND action LIKE 'scim.%' ORDER BY id DESC LIMIT 1`);
      assert.deepEqual(refused.rows[0], { action: 'scim.user.post', rule: 'uniqueness', actor_kind: 'token' }, 'what HR asked for and was refused is evidence too');
    });

    test('bad input is a SCIM 400 naming the attribute; unsupported filters say which are supported', async () => {
      const res = await scim('POST', '/scim/v2/Users', user('u-bad', { ...NW, side: 'everything' }));
      assert.equal(res.statusCode, 400);
      assert.match((res.json() as { detail: string }).detail, /side/);
      const org = await scim('POST', '/scim/v2/Users', user('u-bad2', { ...NW, organizationId: 'org-nowhere' }));
      assert.match((org.json() as { detail: string }).detail, /org-nowhere/);
      const crossed = await scim('POST', '/scim/v2/Users', user('u-bad3', { ...RETAIL, organizationId: 'org-nw' }));
      assert.equal(crossed.statusCode, 400, 'the network operator’s staff cannot be put on the retail side');
      const filter = await scim('GET', '/scim/v2/Users?filter=' + encodeURIComponent('name co "x"'));
      assert.equal(filter.statusCode, 400);
      assert.equal((filter.json() as { scimType: string }).scimType, 'invalidFilter');
    });

    test('mover: a move from the network to the retail side revokes exactly the grants retail may not hold, in the same transaction, and ends the sessions', async () => {
      const created = (await scim('POST', '/scim/v2/Users', user('u-move', NW))).json() as { id: string };
      const read = await grant('u-move', 'customer.read');
      const equipment = await grant('u-move', 'network.equipment');
      const audit = await grant('u-move', 'audit.read');
      const support = await grant('u-move', 'emergency.support');
      const s = await login(app, 'u-move');
      assert.equal((await app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } })).statusCode, 200);
      const movedAt = tick();

      const res = await scim('PATCH', `/scim/v2/Users/${created.id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'replace', path: ASSIGNMENT_SCHEMA, value: RETAIL }],
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(
        [await statusOf(read), await statusOf(equipment), await statusOf(audit), await statusOf(support)],
        ['approved', 'revoked', 'revoked', 'approved'],
        'customer.read and emergency.support may be held on the retail side; network.equipment and audit.read may not',
      );
      const { rows } = await db.query<{ subject_id: string; rule: string }>(`SELECT subject_id, rule FROM governance_events WHERE action = 'grant.revoke' AND subject_id = ANY($1::text[]) ORDER BY subject_id`, [[String(equipment), String(audit)]]);
      assert.deepEqual(rows.map((r) => r.rule), ['side_not_allowed', 'side_not_allowed']);
      assert.equal((await app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } })).statusCode, 401, 'the old session ended');
      const history = await db.query<{ side: string; valid_to: Date | null }>('SELECT side, valid_to FROM staff_assignments s JOIN persons p ON p.id = s.person_id WHERE p.id = $1 ORDER BY valid_from', [created.id]);
      assert.deepEqual(history.rows.map((r) => [r.side, r.valid_to === null ? null : new Date(r.valid_to).getTime()]), [['network', movedAt.getTime()], ['retail', null]], 'the old assignment ends at the move, the new one starts then');
    });

    test('a failure during the move leaves nothing half-done', async () => {
      const created = (await scim('POST', '/scim/v2/Users', user('u-move2', NW))).json() as { id: string };
      const equipment = await grant('u-move2', 'network.equipment');
      tick();
      await db.exec(`CREATE FUNCTION gw_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'log full'; END; $$;
        CREATE TRIGGER gw_test_fail BEFORE INSERT ON governance_events FOR EACH ROW EXECUTE FUNCTION gw_test_fail();`);
      try {
        const res = await scim('PUT', `/scim/v2/Users/${created.id}`, user('u-move2', RETAIL));
        assert.equal(res.statusCode, 500);
      } finally {
        await db.exec('DROP TRIGGER gw_test_fail ON governance_events; DROP FUNCTION gw_test_fail();');
      }
      assert.equal(await statusOf(equipment), 'approved', 'grant untouched');
      const sides = await db.query<{ side: string }>('SELECT side FROM staff_assignments WHERE person_id = $1', [created.id]);
      assert.deepEqual(sides.rows.map((r) => r.side), ['network'], 'assignment untouched');
    });

    test('leaver: DELETE (or active=false) disables the account, ends sessions at once, revokes every grant; the person stays for the log', async () => {
      const created = (await scim('POST', '/scim/v2/Users', user('u-leave', RETAIL))).json() as { id: string };
      const read = await grant('u-leave', 'customer.read');
      const s = await login(app, 'u-leave');
      const lookup = () => app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: s.cookie } });
      assert.equal((await lookup()).statusCode, 200);
      tick();
      assert.equal((await scim('DELETE', `/scim/v2/Users/${created.id}`)).statusCode, 204);
      assert.equal((await lookup()).statusCode, 401, 'the session ended at once');
      assert.equal(await statusOf(read), 'revoked');
      const relogin = await app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'u-leave' } });
      assert.equal(relogin.statusCode, 401);
      const after = (await scim('GET', `/scim/v2/Users/${created.id}`)).json() as { active: boolean };
      assert.equal(after.active, false);
    });

    test('only a token with the scim scope provisions; a retailer system’s token reads customers through the firewall only', async () => {
      assert.equal((await scim('GET', '/scim/v2/Users', undefined, retailerSystem)).statusCode, 403);
      assert.equal((await scim('GET', '/scim/v2/Users', undefined, 'gw_AAAAAAAAAAAA_' + 'x'.repeat(43))).statusCode, 401);
      const s = await login(app, USERS.admin);
      assert.equal((await app.inject({ method: 'GET', url: '/scim/v2/Users', headers: { cookie: s.cookie } })).statusCode, 403, 'a console session is not the HR system');

      const own = await app.inject({ method: 'GET', url: `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`, headers: { authorization: `Bearer ${retailerSystem}` } });
      assert.equal(own.statusCode, 200);
      assert.equal((own.json() as { fields: Record<string, { shown: boolean }> }).fields['holder_name']?.shown, true, 'R0002’s own customer');
      const rival = await app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { authorization: `Bearer ${retailerSystem}` } });
      assert.equal((rival.json() as { fields: Record<string, { shown: boolean }> }).fields['holder_name']?.shown, false, 'the affiliated retailer’s customer stays masked');
      const { rows } = await db.query<{ session_id: string; person_id: string }>('SELECT session_id, person_id FROM access_log WHERE request_id = $1', [String(rival.headers['x-request-id'])]);
      assert.equal(rows[0]?.person_id, 'p-other');
      assert.match(rows[0]?.session_id ?? '', /^token:/);
      assert.equal((await app.inject({ method: 'GET', url: '/api/grants', headers: { authorization: `Bearer ${retailerSystem}` } })).statusCode, 403, 'scopes fix what a token may call');
    });
  });
}
