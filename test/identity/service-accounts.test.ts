import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceAccount, createToken, TokenError } from '../../src/identity/api-tokens.ts';
import { login, outcomes, seededApp, testApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import { serviceToken } from '../support/tokens.ts';

/**
 * API tokens are for systems (issue 14, "an access administrator can become anyone"): issued only to service
 * accounts, working only once a second person approved them, never carrying a person's rights, named with
 * their owner in every logged read, and ending with their owner.
 */
for (const store of STORES) {
  describe(`service accounts and their tokens on ${store.name}`, () => {
    const w = seededApp(store);

    const post = (s: Session, url: string, payload: unknown = {}) =>
      w.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: payload as Record<string, unknown> });
    const bearer = (token: string, url: string) => w.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const until = '2026-12-01';

    test('the reproduction: an access administrator cannot issue a token to a network person and read through it', async () => {
      const admin = await login(w.app, USERS.admin);
      for (const userId of [USERS.callCentre, USERS.serviceCentre, USERS.retail, USERS.admin, USERS.admin2]) {
        const res = await post(admin, '/api/tokens', { userId, name: 'なりすまし', scopes: ['customer.read'], expiresOn: until });
        assert.equal(res.statusCode, 403, `${userId}: ${res.body}`);
        assert.equal(res.json().error.details.rule, 'not_a_service_account');
      }
      const { rows } = await w.db.query<{ n: string }>('SELECT count(*)::text AS n FROM api_tokens');
      assert.equal(rows[0]?.n, '0', 'nothing was issued');
      const refused = await w.db.query<{ n: string }>("SELECT count(*)::text AS n FROM governance_events WHERE action = 'token.create'");
      assert.equal(refused.rows[0]?.n, '0');
    });

    test('a service account is placed at a retailer, never on the network side, and answered for by a person in force', async () => {
      const admin = await login(w.app, USERS.admin);
      const network = await post(admin, '/api/service-accounts', {
        userId: 'svc-nw',
        name: '送配電システム',
        organizationId: 'org-nw',
        ownerPersonId: 'p-admin',
      });
      assert.equal(network.statusCode, 403, network.body);
      assert.equal(network.json().error.details.rule, 'not_a_retailer_organization');
      const leaverOwner = await post(admin, '/api/service-accounts', { userId: 'svc-x', name: 'x', organizationId: 'org-r0002', ownerPersonId: 'p-leaver' });
      assert.equal(leaverOwner.json().error.details.rule, 'owner_not_in_force');
      const other = await login(w.app, USERS.otherRetailer);
      assert.equal(
        (await post(other, '/api/service-accounts', { userId: 'svc-y', name: 'y', organizationId: 'org-r0002', ownerPersonId: 'p-other' })).statusCode,
        403,
        'access administration only',
      );
    });

    test('a token works only once a second person — neither the requester nor the owner — approves it', async () => {
      // Three access administrators: u-admin requests, u-admin3 owns the service account, u-admin2 approves.
      await w.db.exec(`INSERT INTO persons (id, name) VALUES ('p-admin3', '第三 承認');
        INSERT INTO accounts (user_id, person_id, provisioned_by) VALUES ('u-admin3', 'p-admin3', 'demo');
        INSERT INTO staff_assignments (person_id, organization_id, employment, side, retailer_code, office, duty, valid_from) VALUES ('p-admin3', 'org-nw', 'employee', 'network', NULL, '本店', 'access_admin', '2020-04-01');
        INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at) VALUES
          ('u-admin3', 'access.admin', 'approved', '管理', 'u-admin', 'p-admin', '2026-04-01', 'u-comp', 'p-comp', '2026-04-01', '2027-04-01'),
          ('u-admin2', 'access.admin', 'approved', '管理', 'u-admin', 'p-admin', '2026-04-01', 'u-comp', 'p-comp', '2026-04-01', '2027-04-01');`);
      const admin = await login(w.app, USERS.admin);
      const created = await post(admin, '/api/service-accounts', {
        userId: 'svc-mirai',
        name: 'みらいでんき 顧客システム',
        organizationId: 'org-r0002',
        ownerPersonId: 'p-admin3',
      });
      assert.equal(created.statusCode, 201, created.body);
      const requested = await post(admin, '/api/tokens', { userId: 'svc-mirai', name: '顧客照会連携', scopes: ['customer.read'], expiresOn: until });
      assert.equal(requested.statusCode, 201, requested.body);
      const { id, token, status } = requested.json<{ id: string; token: string; status: string }>();
      assert.equal(status, 'pending');
      assert.equal((await bearer(token, `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`)).statusCode, 401, 'pending: not yet');

      const self = await post(admin, `/api/tokens/${id}/approve`);
      assert.equal(self.statusCode, 403);
      assert.equal(self.json().error.details.rule, 'self_approval');
      const owner = await post(await login(w.app, 'u-admin3'), `/api/tokens/${id}/approve`);
      assert.equal(owner.json().error?.details?.rule, 'self_approval', `${owner.body}: the owner of the service account is no second person either`);
      const { rows } = await w.db.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM governance_events WHERE action = 'token.approve' AND outcome = 'refused'",
      );
      assert.equal(rows[0]?.n, '2', 'both refusals are evidence');
      assert.equal((await bearer(token, `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`)).statusCode, 401, 'still not');

      const second = await post(await login(w.app, USERS.admin2), `/api/tokens/${id}/approve`);
      assert.equal(second.statusCode, 200, second.body);

      // Now it reads as R0002's system: R0002's customer in full, another retailer's masked.
      const own = await bearer(token, `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`);
      assert.equal(own.statusCode, 200, own.body);
      assert.equal(outcomes(own.json())['holder_name'], 'shown');
      const rival = await bearer(token, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`);
      assert.equal(outcomes(rival.json())['holder_name'], 'masked:not_own_customer');
      assert.equal(outcomes(rival.json())['phone'], 'masked:not_own_customer');
      const event = (
        await w.db.query<{ session_id: string; principal_class: string; query: unknown }>(
          'SELECT session_id, principal_class, query FROM access_log ORDER BY seq DESC LIMIT 1',
        )
      ).rows[0];
      const query = (typeof event?.query === 'string' ? JSON.parse(event.query) : event?.query) as { token?: { id: string; owner: string } };
      assert.deepEqual(
        [event?.session_id, event?.principal_class, query.token],
        [`token:${id}`, 'retailer_system', { id, owner: 'p-admin3' }],
        'the log names the token and its owner',
      );
      assert.equal(
        (await bearer(token, `/api/supply-points/${SP.SWITCHED}?purpose=emergency_support&reason=x`)).statusCode !== 200,
        true,
        'a system never reads as emergency support',
      );
    });

    test('nobody logs in as a service account, by any path, and the store refuses a session for one', async () => {
      await serviceToken(w.db, { userId: 'svc-login', organizationId: 'org-r0002', scopes: ['customer.read'] });
      await w.db.query("UPDATE accounts SET provisioned_by = 'demo' WHERE user_id = 'svc-login'");
      const res = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'svc-login' } });
      assert.equal(res.statusCode, 401, res.body);
      await assert.rejects(
        w.db.query(
          `INSERT INTO sessions (id, user_id, person_id, terminal_id, csrf_token, created_at, last_seen_at, expires_at, auth_method) VALUES ('x', 'svc-login', 'sys-svc-login', NULL, 'c', $1, $1, $1, 'demo')`,
          [NOW],
        ),
        /only a person's account logs in/,
      );
      await assert.rejects(
        w.db.query(`INSERT INTO accounts (user_id, person_id) VALUES ('u-as-system', 'sys-svc-login')`),
        /must belong to a human identity/,
        'a personal account on a system identity',
      );
    });

    test('a token ends with its owner: when the owner has no assignment in force, it no longer answers', async () => {
      const { token } = await serviceToken(w.db, { userId: 'svc-owned', organizationId: 'org-r0002', scopes: ['customer.read'], ownerPersonId: 'p-mover' });
      assert.equal((await bearer(token, `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`)).statusCode, 200, 'the control: it works');
      await w.db.query(`UPDATE staff_assignments SET valid_to = $1 WHERE person_id = 'p-mover' AND (valid_to IS NULL OR valid_to > $1)`, [
        new Date(NOW.getTime() - 1000),
      ]);
      assert.equal((await bearer(token, `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`)).statusCode, 401);
    });
  });
}

for (const store of STORES.slice(0, 1)) {
  test(`a grant is never given to a service account (${store.name})`, async () => {
    const { db, dispose } = await store.open();
    try {
      await seedFixture(db);
      const app = await testApp(db);
      await serviceToken(db, { userId: 'svc-grant', organizationId: 'org-r0002', scopes: ['customer.read'] });
      const admin = await login(app, USERS.admin);
      const res = await app.inject({
        method: 'POST',
        url: '/api/grants',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        payload: { userId: 'svc-grant', permissionId: 'customer.read', reason: '顧客照会連携', expiresOn: '2027-01-31' },
      });
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().error.details.rule, 'unknown_user');
      await app.close();
    } finally {
      await dispose();
    }
  });
}

for (const store of STORES) {
  test(`a token is requested by a person, with the scope its kind of system may hold, and the store holds the two-person rule (${store.name}) — review of issue 14`, async () => {
    const { db, dispose } = await store.open();
    try {
      await seedFixture(db);
      const cli = { kind: 'system', job: 'cli' } as const;
      const admin = { kind: 'person', userId: USERS.admin, personId: 'p-admin' } as const;
      const until = new Date(NOW.getTime() + 30 * 86_400_000);
      await createServiceAccount(db, cli, { userId: 'svc-r2', name: 'R0002', organizationId: 'org-r0002', ownerPersonId: 'p-comp' }, NOW);
      await createServiceAccount(db, cli, { userId: 'svc-hr', name: '人事', organizationId: null, ownerPersonId: 'p-comp' }, NOW);
      const rule = (e: unknown) => (e instanceof TokenError ? e.rule : String(e));
      // The operator at the command line cannot request a token: nobody could tell them apart from the approver.
      assert.equal(
        await createToken(db, cli, { userId: 'svc-r2', name: 'x', scopes: ['customer.read'], expiresAt: until }, NOW).then(() => 'issued', rule),
        'invalid_request',
      );
      // A retailer's system looks customers up; the HR system provisions; never both.
      assert.equal(
        await createToken(db, admin, { userId: 'svc-r2', name: 'x', scopes: ['customer.read', 'scim'], expiresAt: until }, NOW).then(() => 'issued', rule),
        'scope_not_allowed',
      );
      assert.equal(
        await createToken(db, admin, { userId: 'svc-r2', name: 'x', scopes: ['scim'], expiresAt: until }, NOW).then(() => 'issued', rule),
        'scope_not_allowed',
      );
      assert.equal(
        await createToken(db, admin, { userId: 'svc-hr', name: 'x', scopes: ['customer.read'], expiresAt: until }, NOW).then(() => 'issued', rule),
        'scope_not_allowed',
      );
      // Nobody answers for a system whose owner has left.
      await createServiceAccount(db, cli, { userId: 'svc-moving', name: 'x', organizationId: 'org-r0002', ownerPersonId: 'p-mover' }, NOW);
      await db.query(`UPDATE staff_assignments SET valid_to = $1 WHERE person_id = 'p-mover' AND (valid_to IS NULL OR valid_to > $1)`, [
        new Date(NOW.getTime() - 1000),
      ]);
      assert.equal(
        await createToken(db, admin, { userId: 'svc-moving', name: 'x', scopes: ['customer.read'], expiresAt: until }, NOW).then(() => 'issued', rule),
        'owner_not_in_force',
      );

      // The store refuses what the code refuses: a token no person requested, an approval by the requester or the owner.
      const { id } = await createToken(db, admin, { userId: 'svc-r2', name: 'x', scopes: ['customer.read'], expiresAt: until }, NOW);
      await assert.rejects(
        db.query(
          `INSERT INTO api_tokens (id, secret_sha256, name, user_id, scopes, created_by, created_at, expires_at) VALUES ('AAAAAAAAAAAA', '\\x00', 'x', 'svc-r2', '{customer.read}', 'system:cli', $1, $2)`,
          [NOW, until],
        ),
        /requested by a person/,
      );
      for (const [userId, personId] of [
        ['u-admin', 'p-admin'],
        ['u-comp', 'p-comp'],
      ] as const) {
        await assert.rejects(
          db.query(`UPDATE api_tokens SET status = 'approved', decided_by = $2, decided_by_person = $3, decided_at = $4 WHERE id = $1`, [
            id,
            userId,
            personId,
            NOW,
          ]),
          /second person/,
          `${personId} (requester or owner) approving in the store`,
        );
      }
      await db.query(`UPDATE api_tokens SET status = 'approved', decided_by = 'u-admin2', decided_by_person = 'p-admin2', decided_at = $2 WHERE id = $1`, [
        id,
        NOW,
      ]);
    } finally {
      await dispose();
    }
  });
}
