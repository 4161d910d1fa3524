import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { serviceToken } from '../support/tokens.ts';
import { ASSIGNMENT_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from '../../src/identity/scim.ts';
import type { Db } from '../../src/store/db.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';

const NW = { organizationId: 'org-nw', side: 'network', employment: 'employee', office: '青葉NSC', duty: 'service_centre' };
const RETAIL = { organizationId: 'org-a0001', side: 'retail', employment: 'employee', office: '仙台営業所', duty: 'retail_sales', retailerCode: 'A0001' };

/** The HR system provisioning people over SCIM 2.0 with an API token: joiner, mover, leaver. */
/**
 * People HR provisioned are no demo personas: they log in as a real login method would, through the store's
 * sessions (the persona login opens only seeded demo accounts).
 */
async function signIn(db: Db, userId: string, at: Date): Promise<Session> {
  const opened = await new Sessions(db, { idleMs: 30 * 60_000, absoluteMs: 10 * 3_600_000, cacheMs: 0, unknownTerminal: 'limit' }).open(userId, null, at);
  if (opened.kind !== 'opened') throw new Error(`login ${userId}: ${opened.code}`);
  return { cookie: `gw_session=${opened.session.id}`, csrf: opened.session.csrfToken };
}

for (const store of STORES) {
  describe(`SCIM Users on ${store.name}`, () => {
    let hr: string;
    let retailerSystem: string;
    /** The HR system acts over days: each test moves the clock on an hour before its changes. */
    let now = NOW;
    const tick = () => (now = new Date(now.getTime() + 3_600_000));
    const w = seededApp(store, { sessionCacheMs: 0, now: () => now });

    before(async () => {
      const until = new Date(NOW.getTime() + 30 * 86_400_000);
      hr = (
        await serviceToken(w.db, {
          userId: 'svc-hr',
          name: '人事システム',
          organizationId: null,
          scopes: ['scim'],
          at: NOW,
          days: (until.getTime() - NOW.getTime()) / 86_400_000,
        })
      ).token;
      retailerSystem = (
        await serviceToken(w.db, {
          userId: 'svc-r0002',
          name: 'みらいでんき 顧客システム',
          organizationId: 'org-r0002',
          scopes: ['customer.read'],
          at: NOW,
          days: (until.getTime() - NOW.getTime()) / 86_400_000,
        })
      ).token;
    });

    const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = hr) =>
      w.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    const user = (userName: string, assignment: Record<string, unknown> | null, extra: Record<string, unknown> = {}) => ({
      schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA],
      userName,
      name: { formatted: '新井 太一' },
      active: true,
      ...(assignment === null ? {} : { [ASSIGNMENT_SCHEMA]: assignment }),
      ...extra,
    });

    async function grant(userId: string, permissionId: string): Promise<number> {
      const { rows } = await w.db.query<{ id: string }>(
        `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
         VALUES ($1, $2, 'approved', 'test', 'u-admin', 'p-admin', $3, 'u-comp', 'p-comp', $3, $4) RETURNING id`,
        [userId, permissionId, new Date(NOW.getTime() - 86_400_000), new Date(NOW.getTime() + 100 * 86_400_000)],
      );
      return Number(rows[0]?.id);
    }
    const statusOf = async (id: number) => (await w.db.query<{ status: string }>('SELECT status FROM grants WHERE id = $1', [id])).rows[0]?.status;

    test('a joiner is created with person, account and assignment; a duplicate userName is a SCIM uniqueness error', async () => {
      const res = await scim('POST', '/scim/v2/Users', user('u-joiner', NW, { externalId: 'E1001' }));
      assert.equal(res.statusCode, 201, res.body);
      assert.match(String(res.headers['content-type']), /application\/scim\+json/);
      const body = res.json<{ id: string; userName: string; active: boolean; meta: { location: string } }>();
      assert.equal(body.userName, 'u-joiner');
      assert.equal(res.headers['location'], body.meta.location);
      const got = await scim('GET', `/scim/v2/Users/${body.id}`);
      assert.deepEqual(got.json<Record<string, unknown>>()[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null, inForce: true });
      const list = await scim('GET', '/scim/v2/Users?filter=' + encodeURIComponent('externalId eq "E1001"'));
      assert.equal(list.json<{ totalResults: number }>().totalResults, 1);
      const dup = await scim('POST', '/scim/v2/Users', user('u-joiner', NW));
      assert.equal(dup.statusCode, 409);
      assert.equal(dup.json<{ scimType: string }>().scimType, 'uniqueness');
      const refused = await w.db.query<{ action: string; rule: string; actor_kind: string }>(
        `SELECT action, rule, actor_kind FROM governance_events WHERE outcome = 'refused' AND action LIKE 'scim.%' ORDER BY id DESC LIMIT 1`,
      );
      assert.deepEqual(
        refused.rows[0],
        { action: 'scim.user.post', rule: 'uniqueness', actor_kind: 'token' },
        'what HR asked for and was refused is evidence too',
      );
    });

    test('bad input is a SCIM 400 naming the attribute; unsupported filters say which are supported', async () => {
      const res = await scim('POST', '/scim/v2/Users', user('u-bad', { ...NW, side: 'everything' }));
      assert.equal(res.statusCode, 400);
      assert.match(res.json<{ detail: string }>().detail, /side/);
      const org = await scim('POST', '/scim/v2/Users', user('u-bad2', { ...NW, organizationId: 'org-nowhere' }));
      assert.match(org.json<{ detail: string }>().detail, /org-nowhere/);
      const crossed = await scim('POST', '/scim/v2/Users', user('u-bad3', { ...RETAIL, organizationId: 'org-nw' }));
      assert.equal(crossed.statusCode, 400, 'the network operator’s staff cannot be put on the retail side');
      const filter = await scim('GET', '/scim/v2/Users?filter=' + encodeURIComponent('name co "x"'));
      assert.equal(filter.statusCode, 400);
      assert.equal(filter.json<{ scimType: string }>().scimType, 'invalidFilter');
    });

    test('the work (or primary) e-mail is where notifications are mailed: stored on create, changed by PUT and by PATCH as Entra ID sends it', async () => {
      const emailOf = async (id: string) => (await w.db.query<{ email: string | null }>('SELECT email FROM persons WHERE id = $1', [id])).rows[0]?.email;
      const emails = [
        { value: 'taichi@home.example.jp', type: 'home' },
        { value: 'arai.taichi@nw.example.jp', type: 'work' },
      ];
      const created = await scim('POST', '/scim/v2/Users', user('u-mail', NW, { emails }));
      assert.equal(created.statusCode, 201, created.body);
      const { id } = created.json<{ id: string }>();
      assert.equal(await emailOf(id), 'arai.taichi@nw.example.jp', 'the work address, not the home one');
      assert.deepEqual(created.json<{ emails: unknown }>().emails, [{ value: 'arai.taichi@nw.example.jp', type: 'work', primary: true }]);
      tick();
      const put = await scim('PUT', `/scim/v2/Users/${id}`, user('u-mail', NW, { emails: [{ value: 'taichi.arai@nw.example.jp', primary: true }] }));
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(await emailOf(id), 'taichi.arai@nw.example.jp', 'no work address: the primary one');
      tick();
      const patched = await scim('PATCH', `/scim/v2/Users/${id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'arai@nw.example.jp' }],
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(await emailOf(id), 'arai@nw.example.jp');
      const other = await scim('PATCH', `/scim/v2/Users/${id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'replace', path: 'displayName', value: '新井 太一' }],
      });
      assert.equal(other.statusCode, 200, other.body);
      assert.equal(await emailOf(id), 'arai@nw.example.jp', 'a PATCH of something else keeps the address');
      const bad = await scim('PUT', `/scim/v2/Users/${id}`, user('u-mail', NW, { emails: [{ value: 'arai@nw.example.jp\r\nBcc: x@y.jp', type: 'work' }] }));
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ detail: string }>().detail, /emails/);
      const logged = await w.db.query<{ details: unknown }>(`SELECT details FROM governance_events WHERE action LIKE 'scim.user.%' AND subject_id = $1`, [id]);
      assert.ok(logged.rows.length >= 4, 'create, PUT and PATCHes are logged');
      assert.ok(JSON.stringify(logged.rows).includes('"emailChanged":true'));
      assert.equal(JSON.stringify(logged.rows).includes('nw.example.jp'), false, 'the governance log says an address changed, never which');
      tick();
      assert.equal((await scim('PUT', `/scim/v2/Users/${id}`, user('u-mail', NW))).statusCode, 200);
      assert.equal(await emailOf(id), null, 'a PUT without emails states that there is none');
    });

    test('mover: a move from the network to the retail side revokes exactly the grants retail may not hold, in the same transaction, and ends the sessions', async () => {
      const created = (await scim('POST', '/scim/v2/Users', user('u-move', NW))).json<{ id: string }>();
      const read = await grant('u-move', 'customer.read');
      const equipment = await grant('u-move', 'network.equipment');
      const audit = await grant('u-move', 'audit.read');
      const support = await grant('u-move', 'emergency.support');
      const s = await signIn(w.db, 'u-move', now);
      assert.equal((await w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } })).statusCode, 200);
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
      const { rows } = await w.db.query<{ subject_id: string; rule: string }>(
        `SELECT subject_id, rule FROM governance_events WHERE action = 'grant.revoke' AND subject_id = ANY($1::text[]) ORDER BY subject_id`,
        [[String(equipment), String(audit)]],
      );
      assert.deepEqual(
        rows.map((r) => r.rule),
        ['side_not_allowed', 'side_not_allowed'],
      );
      assert.equal((await w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } })).statusCode, 401, 'the old session ended');
      // The hour the clock moved on is past the idle time-out too: the store says the move ended it.
      const ended = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE person_id = $1 AND ended_at = $2', [created.id, movedAt]);
      assert.equal(ended.rows[0]?.n, 1, 'ended by the move, at its instant');
      const history = await w.db.query<{ side: string; valid_to: Date | null }>(
        'SELECT side, valid_to FROM staff_assignments s JOIN persons p ON p.id = s.person_id WHERE p.id = $1 ORDER BY valid_from',
        [created.id],
      );
      assert.deepEqual(
        history.rows.map((r) => [r.side, r.valid_to === null ? null : new Date(r.valid_to).getTime()]),
        [
          ['network', movedAt.getTime()],
          ['retail', null],
        ],
        'the old assignment ends at the move, the new one starts then',
      );
    });

    test('a failure during the move leaves nothing half-done', async () => {
      const created = (await scim('POST', '/scim/v2/Users', user('u-move2', NW))).json<{ id: string }>();
      const equipment = await grant('u-move2', 'network.equipment');
      tick();
      // A failing trigger stands in for a full disk; only the schema's owner may add one.
      await ownerOf(w.db).exec(`CREATE FUNCTION gw_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'log full'; END; $$;
        CREATE TRIGGER gw_test_fail BEFORE INSERT ON governance_events FOR EACH ROW EXECUTE FUNCTION gw_test_fail();`);
      try {
        const res = await scim('PUT', `/scim/v2/Users/${created.id}`, user('u-move2', RETAIL));
        assert.equal(res.statusCode, 500);
      } finally {
        await ownerOf(w.db).exec('DROP TRIGGER gw_test_fail ON governance_events; DROP FUNCTION gw_test_fail();');
      }
      assert.equal(await statusOf(equipment), 'approved', 'grant untouched');
      const sides = await w.db.query<{ side: string }>('SELECT side FROM staff_assignments WHERE person_id = $1', [created.id]);
      assert.deepEqual(
        sides.rows.map((r) => r.side),
        ['network'],
        'assignment untouched',
      );
    });

    test('leaver: DELETE (or active=false) disables the account, ends sessions at once, revokes every grant; the person stays for the log', async () => {
      const created = (await scim('POST', '/scim/v2/Users', user('u-leave', RETAIL))).json<{ id: string }>();
      const read = await grant('u-leave', 'customer.read');
      const s = await signIn(w.db, 'u-leave', now);
      const lookup = () => w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: s.cookie } });
      assert.equal((await lookup()).statusCode, 200);
      tick();
      assert.equal((await scim('DELETE', `/scim/v2/Users/${created.id}`)).statusCode, 204);
      assert.equal((await lookup()).statusCode, 401, 'the session ended at once');
      assert.equal(await statusOf(read), 'revoked');
      const relogin = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'u-leave' } });
      assert.equal(relogin.statusCode, 401);
      assert.equal((await scim('GET', `/scim/v2/Users/${created.id}`)).statusCode, 404, 'RFC 7644 §3.6: gone from SCIM');
      const person = await w.db.query<{ active: boolean }>('SELECT active FROM persons WHERE id = $1', [created.id]);
      assert.deepEqual(person.rows, [{ active: false }], 'the person stays, for the log');
    });

    test("a leaver's tokens end with them and stay ended when they rejoin (issue 14)", async () => {
      tick();
      const created = (await scim('POST', '/scim/v2/Users', user('u-owner', NW))).json<{ id: string }>();
      const { token } = await serviceToken(w.db, {
        userId: 'svc-owned-by-leaver',
        organizationId: 'org-r0002',
        scopes: ['customer.read'],
        ownerPersonId: created.id,
        at: now,
      });
      const read = () =>
        w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`, headers: { authorization: `Bearer ${token}` } });
      assert.equal((await read()).statusCode, 200, 'the control: it works while its owner is here');
      tick();
      // Disabled as Entra ID disables (a DELETE would end the SCIM User for good: no rejoin).
      const left = await scim('PATCH', `/scim/v2/Users/${created.id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
      });
      assert.equal(left.statusCode, 200, left.body);
      assert.equal((await read()).statusCode, 401);
      const revoked = await w.db.query<{ revoke_reason: string }>("SELECT revoke_reason FROM api_tokens WHERE user_id = 'svc-owned-by-leaver'");
      assert.deepEqual(
        revoked.rows.map((r) => r.revoke_reason),
        ['owner left'],
      );
      // Away for half a year: the last login before leaving is long past.
      await w.db.query(`UPDATE accounts SET created_at = $2, last_login_at = $2 WHERE user_id = $1`, ['u-owner', new Date(now.getTime() - 200 * 86_400_000)]);
      tick();
      assert.equal((await scim('PUT', `/scim/v2/Users/${created.id}`, user('u-owner', NW))).statusCode, 200, 'rejoins');
      assert.equal((await read()).statusCode, 401, 'a rejoin does not bring the token back');
      await signIn(w.db, 'u-owner', now); // not refused as dormant: dormancy counts from the rejoin
    });

    test('only a token with the scim scope provisions; a retailer system’s token reads customers through the firewall only', async () => {
      assert.equal((await scim('GET', '/scim/v2/Users', undefined, retailerSystem)).statusCode, 403);
      assert.equal((await scim('GET', '/scim/v2/Users', undefined, 'gw_AAAAAAAAAAAA_' + 'x'.repeat(43))).statusCode, 401);
      const s = await login(w.app, USERS.admin);
      assert.equal(
        (await w.app.inject({ method: 'GET', url: '/scim/v2/Users', headers: { cookie: s.cookie } })).statusCode,
        403,
        'a console session is not the HR system',
      );

      const own = await w.app.inject({
        method: 'GET',
        url: `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`,
        headers: { authorization: `Bearer ${retailerSystem}` },
      });
      assert.equal(own.statusCode, 200);
      assert.equal(own.json<{ fields: Record<string, { shown: boolean }> }>().fields['holder_name']?.shown, true, 'R0002’s own customer');
      const rival = await w.app.inject({
        method: 'GET',
        url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`,
        headers: { authorization: `Bearer ${retailerSystem}` },
      });
      assert.equal(
        rival.json<{ fields: Record<string, { shown: boolean }> }>().fields['holder_name']?.shown,
        false,
        'the affiliated retailer’s customer stays masked',
      );
      const { rows } = await w.db.query<{ session_id: string; person_id: string }>('SELECT session_id, person_id FROM access_log WHERE request_id = $1', [
        String(rival.headers['x-request-id']),
      ]);
      assert.equal(rows[0]?.person_id, 'sys-svc-r0002', 'the read is the system’s, not a person’s');
      assert.match(rows[0]?.session_id ?? '', /^token:/);
      assert.equal(
        (await w.app.inject({ method: 'GET', url: '/api/grants', headers: { authorization: `Bearer ${retailerSystem}` } })).statusCode,
        403,
        'scopes fix what a token may call',
      );
    });
  });
}

/**
 * Issue 14: HR provisioning could make a rival's customers "own" by typing a retailer code. The side and the
 * retailer a person acts for follow from the organization (and, for a contractor company's staff, from the
 * engagement it works under); a move to another organization, side or retailer ends the sessions and takes
 * the grants the new assignment may not keep.
 */
for (const store of STORES) {
  describe(`SCIM assignments follow the organization on ${store.name}`, () => {
    let hr: string;
    /** Steps of a minute: well inside the sessions' 30-minute idle time-out, so only a move ends them. */
    let now = NOW;
    const step = () => (now = new Date(now.getTime() + 60_000));
    const w = seededApp(store, { sessionCacheMs: 0, now: () => now }, async (db) => {
      // R0003's own staff, a contractor company with no contract yet, and the fixture's contractor company
      // engaged by the affiliated retailer (whose staff, like u-retail-ctr, act for A0001 on the retail side).
      await ownerOf(db).exec(`
        INSERT INTO organizations (id, name, kind, retailer_code) VALUES
          ('org-r0003', 'あおばエナジー株式会社', 'retailer', 'R0003'), ('org-ctr2', 'みやぎ業務サービス株式会社', 'contractor', NULL);
        INSERT INTO contractor_engagements (contractor_organization_id, client_organization_id, valid_from) VALUES ('org-ctr', 'org-a0001', '2018-01-01');`);
    });

    before(async () => {
      hr = (await serviceToken(w.db, { userId: 'svc-hr', name: '人事システム', organizationId: null, scopes: ['scim'], at: NOW })).token;
    });

    const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, body?: unknown) =>
      w.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${hr}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    const user = (userName: string, assignment: Record<string, unknown>) => ({
      schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA],
      userName,
      name: { formatted: '佐藤 次郎' },
      active: true,
      [ASSIGNMENT_SCHEMA]: assignment,
    });
    const patch = (value: Record<string, unknown>) => ({ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: ASSIGNMENT_SCHEMA, value }] });
    const assignmentOf = async (id: string) =>
      (await scim('GET', `/scim/v2/Users/${id}`)).json<Record<string, unknown>>()[ASSIGNMENT_SCHEMA] as Record<string, unknown>;
    const lastRefusal = async () =>
      (
        await w.db.query<{ action: string; rule: string; subject_id: string }>(
          `SELECT action, rule, subject_id FROM governance_events WHERE outcome = 'refused' AND action LIKE 'scim.%' ORDER BY id DESC LIMIT 1`,
        )
      ).rows[0];
    const grantStatus = async (id: number) => (await w.db.query<{ status: string }>('SELECT status FROM grants WHERE id = $1', [id])).rows[0]?.status;
    async function approvedGrant(userId: string, permissionId: string): Promise<number> {
      const { rows } = await w.db.query<{ id: string }>(
        `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
         VALUES ($1, $2, 'approved', 'test', 'u-admin', 'p-admin', $3, 'u-comp', 'p-comp', $3, $4) RETURNING id`,
        [userId, permissionId, new Date(NOW.getTime() - 86_400_000), new Date(NOW.getTime() + 100 * 86_400_000)],
      );
      return Number(rows[0]?.id);
    }

    const logIn = (userId: string) => signIn(w.db, userId, now);
    const lookup = (s: Session, sp: string) =>
      w.app.inject({ method: 'GET', url: `/api/supply-points/${sp}?purpose=own_customer_service`, headers: { cookie: s.cookie } });
    const holderShown = (res: { json: <T>() => T }) => res.json<{ fields: Record<string, { shown: boolean }> }>().fields['holder_name']?.shown;
    const loggedRelation = async (res: { headers: Record<string, unknown> }) =>
      (
        await w.db.query<{ relation: string | null }>(`SELECT records->0->>'relation' AS relation FROM access_log WHERE request_id = $1`, [
          String(res.headers['x-request-id']),
        ])
      ).rows[0]?.relation;

    test('issue 14 reproduced: an affiliated-retail employee re-pointed at R0002 by PATCH is refused, keeps A0001, and R0002’s customer stays masked', async () => {
      // HR creates rt2.sato at the affiliated retailer; the retailer code follows from the organization.
      const created = await scim(
        'POST',
        '/scim/v2/Users',
        user('rt2.sato', { organizationId: 'org-a0001', side: 'retail', employment: 'employee', office: '仙台営業所', duty: 'retail_customer_service' }),
      );
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json<{ id: string }>().id;
      assert.equal((await assignmentOf(id))['retailerCode'], 'A0001');

      // customer.read asked for and approved by a second person, through the grant workflow.
      step();
      const sato = await logIn('rt2.sato');
      const asked = await w.app.inject({
        method: 'POST',
        url: '/api/grants',
        headers: { cookie: sato.cookie, 'x-csrf-token': sato.csrf },
        payload: { userId: 'rt2.sato', permissionId: 'customer.read', reason: '自社顧客対応', expiresOn: '2027-03-31' },
      });
      assert.equal(asked.statusCode, 201, asked.body);
      const grantId = asked.json<{ id: number }>().id;
      const comp = await logIn(USERS.compliance);
      const approved = await w.app.inject({
        method: 'POST',
        url: `/api/grants/${grantId}/approve`,
        headers: { cookie: comp.cookie, 'x-csrf-token': comp.csrf },
        payload: {},
      });
      assert.equal(approved.statusCode, 200, approved.body);
      const own = await lookup(sato, SP.OWN_A);
      assert.equal(own.statusCode, 200, own.body);
      assert.equal(holderShown(own), true, 'A0001’s own customer: the session and grant work');

      // The HR token re-points the retailer code at R0002.
      step();
      const res = await scim('PATCH', `/scim/v2/Users/${id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'replace', path: `${ASSIGNMENT_SCHEMA}:retailerCode`, value: 'R0002' }],
      });
      assert.equal(res.statusCode, 400, res.body);
      const err = res.json<{ scimType: string; detail: string }>();
      assert.equal(err.scimType, 'invalidValue');
      assert.match(err.detail, /retailer_mismatch/);
      assert.deepEqual(
        await lastRefusal(),
        { action: 'scim.user.patch', rule: 'retailer_mismatch', subject_id: id },
        'the refused change is evidence, with the rule it broke',
      );
      assert.equal((await assignmentOf(id))['retailerCode'], 'A0001');
      const rows = await w.db.query<{ retailer_code: string }>('SELECT retailer_code FROM staff_assignments WHERE person_id = $1', [id]);
      assert.deepEqual(
        rows.rows.map((r) => r.retailer_code),
        ['A0001'],
        'no assignment for R0002 was stored, not even for a moment',
      );

      // R0002's customer (SP.SWITCHED left A0001 for R0002) is a former customer of A0001: masked, not "own".
      const rival = await lookup(sato, SP.SWITCHED);
      assert.equal(rival.statusCode, 200, rival.body);
      assert.equal(holderShown(rival), false, 'R0002’s customer’s holder name is masked');
      assert.equal(await loggedRelation(rival), 'former', 'logged as what it is, so the regulator’s tables count it');
      assert.equal(await grantStatus(grantId), 'approved', 'a refused change takes nothing');

      // Sent whole (PUT) or without a path, the same change is refused the same way.
      const put = await scim(
        'PUT',
        `/scim/v2/Users/${id}`,
        user('rt2.sato', {
          organizationId: 'org-a0001',
          side: 'retail',
          employment: 'employee',
          office: '仙台営業所',
          duty: 'retail_customer_service',
          retailerCode: 'R0002',
        }),
      );
      assert.equal(put.statusCode, 400, put.body);
      assert.match(put.json<{ detail: string }>().detail, /retailer_mismatch/);
      const pathless = await scim('PATCH', `/scim/v2/Users/${id}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'replace', value: { [`${ASSIGNMENT_SCHEMA}:retailerCode`]: 'R0002' } }],
      });
      assert.equal(pathless.statusCode, 400, pathless.body);

      // A real move to R0002 (its organization, its side): the old session ends at once and the customer-data
      // grant goes in the same transaction, to be approved again for R0002.
      const supportGrant = await approvedGrant('rt2.sato', 'emergency.support');
      const movedAt = step();
      assert.equal(holderShown(await lookup(sato, SP.OWN_A)), true, 'the session is live up to the move');
      const moved = await scim('PATCH', `/scim/v2/Users/${id}`, patch({ organizationId: 'org-r0002', side: 'other_retailer' }));
      assert.equal(moved.statusCode, 200, moved.body);
      assert.equal(
        moved.json<Record<string, Record<string, unknown>>>()[ASSIGNMENT_SCHEMA]?.['retailerCode'],
        'R0002',
        'R0002 follows from org-r0002; A0001 is not carried over',
      );
      assert.equal((await lookup(sato, SP.SWITCHED)).statusCode, 401, 'the old session is gone');
      const ended = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE person_id = $1 AND ended_at = $2', [id, movedAt]);
      assert.equal(ended.rows[0]?.n, 1, 'ended by the move, at its instant');
      assert.deepEqual([await grantStatus(grantId), await grantStatus(supportGrant)], ['revoked', 'revoked']);
      const revocations = await w.db.query<{ subject_id: string; rule: string; occurred_at: Date }>(
        `SELECT subject_id, rule FROM governance_events WHERE action = 'grant.revoke' AND subject_id = ANY($1::text[]) ORDER BY subject_id::int`,
        [[String(grantId), String(supportGrant)]],
      );
      assert.deepEqual(
        revocations.rows.map((r) => [Number(r.subject_id), r.rule]),
        [
          [grantId, 'retailer_changed'],
          [supportGrant, 'side_not_allowed'],
        ],
      );
      const update = await w.db.query<{ details: { retailerChanged?: unknown; sideChanged?: unknown; organizationChanged?: unknown; endedSessions?: number } }>(
        `SELECT details FROM governance_events WHERE action = 'scim.user.update' AND subject_id = $1 ORDER BY id DESC LIMIT 1`,
        [id],
      );
      const details = update.rows[0]?.details;
      assert.deepEqual(
        [details?.retailerChanged, details?.sideChanged, details?.organizationChanged, details?.endedSessions],
        [{ from: 'A0001', to: 'R0002' }, { from: 'retail', to: 'other_retailer' }, { from: 'org-a0001', to: 'org-r0002' }, 1],
      );
      const again = await logIn('rt2.sato');
      const refused = await lookup(again, SP.SWITCHED);
      assert.equal(refused.statusCode, 403, 'no customer data for R0002 until customer.read is approved again');
    });

    test('a move between retailers on the same side (R0002 → R0003) ends the sessions and revokes customer.read', async () => {
      const created = await scim(
        'POST',
        '/scim/v2/Users',
        user('ot.kimura', { organizationId: 'org-r0002', side: 'other_retailer', employment: 'employee', office: '本社', duty: 'retail_customer_service' }),
      );
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json<{ id: string }>().id;
      const read = await approvedGrant('ot.kimura', 'customer.read');
      step();
      const s = await logIn('ot.kimura');
      assert.equal(holderShown(await lookup(s, SP.SWITCHED)), true, 'R0002’s own customer before the move');
      step();
      const res = await scim('PATCH', `/scim/v2/Users/${id}`, patch({ organizationId: 'org-r0003' }));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await assignmentOf(id))['retailerCode'], 'R0003');
      assert.equal((await lookup(s, SP.SWITCHED)).statusCode, 401, 'the session acting for R0002 is gone');
      assert.equal(await grantStatus(read), 'revoked');
      const reapproved = await approvedGrant('ot.kimura', 'customer.read');
      const s2 = await logIn('ot.kimura');
      assert.equal(holderShown(await lookup(s2, SP.SWITCHED)), false, 'R0002’s customer is masked for R0003');
      assert.equal(holderShown(await lookup(s2, SP.R3)), true, 'R0003’s own customer is shown');
      assert.equal(await grantStatus(reapproved), 'approved');
    });

    test('a move to another organization acting for the same retailer ends the sessions and keeps the grants that side may hold', async () => {
      const created = await scim(
        'POST',
        '/scim/v2/Users',
        user('rt.ota', { organizationId: 'org-a0001', side: 'retail', employment: 'employee', office: '仙台営業所', duty: 'retail_sales' }),
      );
      const id = created.json<{ id: string }>().id;
      const read = await approvedGrant('rt.ota', 'customer.read');
      step();
      const s = await logIn('rt.ota');
      assert.equal((await lookup(s, SP.OWN_A)).statusCode, 200);
      step();
      // From the affiliated retailer's payroll to its contractor's: still A0001 on the retail side.
      const res = await scim('PATCH', `/scim/v2/Users/${id}`, patch({ organizationId: 'org-ctr', employment: 'contractor' }));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(await assignmentOf(id), {
        organizationId: 'org-ctr',
        side: 'retail',
        employment: 'contractor',
        office: '仙台営業所',
        duty: 'retail_sales',
        retailerCode: 'A0001',
        inForce: true,
      });
      assert.equal((await lookup(s, SP.OWN_A)).statusCode, 401, 'the session of the old organization is gone');
      assert.equal(await grantStatus(read), 'approved', 'same side, same retailer: customer.read stays');
    });

    const AFFILIATED_EMPLOYEE = { organizationId: 'org-a0001', side: 'retail', employment: 'employee', office: '仙台営業所', duty: 'retail_sales' };
    const RETAIL_CONTRACTOR = { organizationId: 'org-ctr', side: 'retail', employment: 'contractor', office: '仙台営業所', duty: 'retail_sales' };
    /** Each assignment HR must not be able to give, with the rule that refuses it. */
    const WRONG: ReadonlyArray<{ what: string; assignment: Record<string, unknown>; rule: string }> = [
      {
        what: 'an affiliated employee as other_retailer R0003',
        assignment: { ...AFFILIATED_EMPLOYEE, side: 'other_retailer', retailerCode: 'R0003' },
        rule: 'employee_side_mismatch',
      },
      { what: 'an affiliated employee for R0002', assignment: { ...AFFILIATED_EMPLOYEE, retailerCode: 'R0002' }, rule: 'retailer_mismatch' },
      {
        what: 'a retailer’s employee on the network side',
        assignment: { ...AFFILIATED_EMPLOYEE, side: 'network', duty: 'service_centre' },
        rule: 'employee_side_mismatch',
      },
      {
        what: 'a contractor of the retail side on the network side as service centre',
        assignment: { ...RETAIL_CONTRACTOR, side: 'network', duty: 'service_centre' },
        rule: 'contractor_side_mismatch',
      },
      {
        what: 'a contractor of the affiliated retailer for R0002',
        assignment: { ...RETAIL_CONTRACTOR, side: 'other_retailer', retailerCode: 'R0002' },
        rule: 'contractor_side_mismatch',
      },
      { what: 'a contractor of a company engaged by no one', assignment: { ...RETAIL_CONTRACTOR, organizationId: 'org-ctr2' }, rule: 'contractor_not_engaged' },
      {
        what: 'the network operator’s employee with a retailer code',
        assignment: { organizationId: 'org-nw', side: 'network', employment: 'employee', office: '青葉NSC', duty: 'service_centre', retailerCode: 'A0001' },
        rule: 'retailer_on_network_side',
      },
      { what: 'an unknown retailer code', assignment: { ...AFFILIATED_EMPLOYEE, retailerCode: 'ZZZZ' }, rule: 'unknown_retailer' },
      { what: 'an unknown organization', assignment: { ...AFFILIATED_EMPLOYEE, organizationId: 'org-nowhere' }, rule: 'unknown_organization' },
    ];

    test('a contractor is placed on the side and for the retailer of its company’s engagement (the control for the refusals below)', async () => {
      const res = await scim('POST', '/scim/v2/Users', user('ctr.endo', RETAIL_CONTRACTOR));
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json<Record<string, Record<string, unknown>>>()[ASSIGNMENT_SCHEMA]?.['retailerCode'], 'A0001', 'from the engagement by org-a0001');
    });

    for (const [i, c] of WRONG.entries()) {
      test(`create: ${c.what} is a 400 invalidValue naming ${c.rule}, and nobody is created`, async () => {
        const userName = `bad.create${i}`;
        const res = await scim('POST', '/scim/v2/Users', user(userName, c.assignment));
        assert.equal(res.statusCode, 400, res.body);
        const body = res.json<{ scimType: string; detail: string }>();
        assert.equal(body.scimType, 'invalidValue');
        assert.match(body.detail, new RegExp(`^${c.rule}\\b`));
        assert.deepEqual(await lastRefusal(), { action: 'scim.user.post', rule: c.rule, subject_id: '(new)' });
        const found = await scim('GET', '/scim/v2/Users?filter=' + encodeURIComponent(`userName eq "${userName}"`));
        assert.equal(found.json<{ totalResults: number }>().totalResults, 0);
      });

      for (const method of ['PUT', 'PATCH'] as const) {
        test(`${method}: ${c.what} is a 400 invalidValue naming ${c.rule}; the assignment, grant and session stay as they were`, async () => {
          const userName = `bad.${method.toLowerCase()}${i}`;
          const created = await scim('POST', '/scim/v2/Users', user(userName, AFFILIATED_EMPLOYEE));
          assert.equal(created.statusCode, 201, created.body);
          const id = created.json<{ id: string }>().id;
          const read = await approvedGrant(userName, 'customer.read');
          step();
          const s = await logIn(userName);
          step();
          // A PATCH states only what changes, as connectors send it; a PUT states the whole user.
          const res =
            method === 'PUT'
              ? await scim('PUT', `/scim/v2/Users/${id}`, user(userName, c.assignment))
              : await scim('PATCH', `/scim/v2/Users/${id}`, patch(c.assignment));
          assert.equal(res.statusCode, 400, res.body);
          const body = res.json<{ scimType: string; detail: string }>();
          assert.equal(body.scimType, 'invalidValue');
          assert.match(body.detail, new RegExp(`^${c.rule}\\b`));
          assert.deepEqual(await lastRefusal(), { action: `scim.user.${method.toLowerCase()}`, rule: c.rule, subject_id: id });
          assert.deepEqual(await assignmentOf(id), { ...AFFILIATED_EMPLOYEE, retailerCode: 'A0001', inForce: true });
          assert.equal(await grantStatus(read), 'approved');
          assert.equal((await lookup(s, SP.OWN_A)).statusCode, 200, 'the session lives on');
        });
      }
    }
  });
}
