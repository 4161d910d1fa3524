import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ASSIGNMENT_SCHEMA, ENTERPRISE_SCHEMA, handOverToScim, PATCH_SCHEMA, ScimUsers, USER_SCHEMA } from '../../src/identity/scim.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import { revokeForRetailerChange, revokeForSide } from '../../src/governance/grant-service.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Db } from '../../src/store/db.ts';
import { seededApp, type Session } from '../support/app.ts';
import { NOW, SP } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import { serviceToken } from '../support/tokens.ts';

/**
 * Issue 19, part 1: what real HR provisioning clients (Entra ID, Okta) and the conformance suites sent, and
 * gridwall refused or got wrong — each through HTTP, on both stores.
 */

const NW = { organizationId: 'org-nw', side: 'network', employment: 'employee', office: '青葉NSC', duty: 'service_centre' };
const RETAIL = { organizationId: 'org-a0001', side: 'retail', employment: 'employee', office: '仙台営業所', duty: 'retail_sales' };

const sessionsOf = (db: Db) => new Sessions(db, { idleMs: 30 * 60_000, absoluteMs: 10 * 3_600_000, cacheMs: 0, unknownTerminal: 'limit' });

/** HR's people log in as a real login method would, through the store's sessions. */
async function signIn(db: Db, userId: string, at: Date): Promise<Session> {
  const opened = await sessionsOf(db).open(userId, null, at);
  if (opened.kind !== 'opened') throw new Error(`login ${userId}: ${opened.code}`);
  return { cookie: `gw_session=${opened.session.id}`, csrf: opened.session.csrfToken };
}

interface ScimUser {
  schemas: string[];
  id: string;
  userName: string;
  displayName: string;
  name: { formatted: string };
  active: boolean;
  externalId?: string;
  emails?: { value: string }[];
  [key: string]: unknown;
}

for (const store of STORES) {
  describe(`SCIM for real provisioning clients (issue 19) on ${store.name}`, () => {
    let hr: string;
    let now = NOW;
    const tick = () => (now = new Date(now.getTime() + 60_000));
    const w = seededApp(store, { sessionCacheMs: 0, now: () => now });
    before(async () => {
      hr = (await serviceToken(w.db, { userId: 'svc-hr', name: '人事システム', organizationId: null, scopes: ['scim'], at: NOW })).token;
    });
    const scim = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
      w.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${hr}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    const user = (userName: string, extra: Record<string, unknown> = {}) => ({
      schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA],
      userName,
      displayName: '新井 太一',
      name: { formatted: '新井 太一' },
      active: true,
      [ASSIGNMENT_SCHEMA]: NW,
      ...extra,
    });
    const patch = (...ops: unknown[]) => ({ schemas: [PATCH_SCHEMA], Operations: ops });
    async function created(userName: string, extra: Record<string, unknown> = {}): Promise<ScimUser> {
      tick();
      const res = await scim('POST', '/scim/v2/Users', user(userName, extra));
      assert.equal(res.statusCode, 201, res.body);
      return res.json<ScimUser>();
    }
    const filter = async (f: string) =>
      (await scim('GET', '/scim/v2/Users?filter=' + encodeURIComponent(f))).json<{ totalResults: number; Resources: ScimUser[] }>();
    const events = async (action: string, subject: string) =>
      (
        await w.db.query<{ details: Record<string, unknown> }>(
          `SELECT details FROM governance_events WHERE action = $1 AND subject_id = $2 AND outcome = 'done' ORDER BY id`,
          [action, subject],
        )
      ).rows.map(({ details: { tokenId: _token, ...rest } }) => rest);
    const accountOf = async (personId: string) =>
      (
        await w.db.query<{ user_id: string; user_name: string | null; provisioned_by: string; disabled_at: Date | null }>(
          'SELECT user_id, user_name, provisioned_by, disabled_at FROM accounts WHERE person_id = $1 ORDER BY created_at',
          [personId],
        )
      ).rows;

    test('RFC 7643 §4.1.1: userName is unique ignoring case and found ignoring case, and keeps the spelling HR gave', async () => {
      const arai = await created('k.arai');
      tick();
      const again = await scim('POST', '/scim/v2/Users', user('K.Arai'));
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(again.json<{ scimType: string }>().scimType, 'uniqueness');
      const found = await filter('userName eq "K.ARAI"');
      assert.equal(found.totalResults, 1);
      assert.equal(found.Resources[0]?.id, arai.id);
      assert.equal(found.Resources[0]?.userName, 'k.arai', 'stored as given');
      const sato = await created('H.Sato@nw.example.jp');
      assert.equal((await filter('userName eq "h.sato@NW.example.jp"')).Resources[0]?.id, sato.id);
      assert.equal((await filter('userName Eq "nobody@nw.example.jp"')).totalResults, 0);
      // The store holds it too, whatever path writes an account (migration 013's unique index).
      await assert.rejects(
        w.db
          .query(`INSERT INTO persons (id, name) VALUES ('p-dup', 'x'); `)
          .then(() => w.db.query(`INSERT INTO accounts (user_id, person_id, provisioned_by) VALUES ('K.ARAI', 'p-dup', 'manual')`)),
        /unique|duplicate/i,
      );
    });

    test('one userName sent by four requests at once (case varied): one person, the others 409 uniqueness — never a 500', async () => {
      tick();
      const answers = await Promise.all(['m.ono', 'M.Ono', 'm.ONO', 'M.ONO'].map((n) => scim('POST', '/scim/v2/Users', user(n))));
      const statuses = answers.map((a) => a.statusCode).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409], answers.map((a) => a.body).join('\n'));
      for (const a of answers.filter((x) => x.statusCode === 409)) assert.equal(a.json<{ scimType: string }>().scimType, 'uniqueness');
      assert.equal((await filter('userName eq "m.ono"')).totalResults, 1);
    });

    test('displayName is what gridwall shows: the attribute the client changed wins, by PUT and by PATCH', async () => {
      const u = await created('dn.test', { displayName: '田中 一', name: { formatted: '田中 一' } });
      // scim-sanity's PUT: the created resource sent back with displayName changed (name.formatted still the old one).
      tick();
      const { meta: _meta, ...back } = u;
      const put = await scim('PUT', `/scim/v2/Users/${u.id}`, { ...back, displayName: '鈴木 一' });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual([put.json<ScimUser>().displayName, put.json<ScimUser>().name.formatted], ['鈴木 一', '鈴木 一']);
      tick();
      const formatted = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: 'name.formatted', value: '佐藤 一' }));
      assert.equal(formatted.json<ScimUser>().displayName, '佐藤 一', 'only name.formatted changed: it wins');
      tick();
      const both = await scim('PUT', `/scim/v2/Users/${u.id}`, user('dn.test', { displayName: '高橋 一', name: { formatted: '高橋 はじめ' } }));
      assert.equal(both.json<ScimUser>().displayName, '高橋 一', 'both changed: displayName wins');
      assert.equal((await scim('GET', `/scim/v2/Users/${u.id}`)).json<ScimUser>().displayName, '高橋 一');
      const names = await w.db.query<{ name: string }>('SELECT name FROM persons WHERE id = $1', [u.id]);
      assert.equal(names.rows[0]?.name, '高橋 一');
    });

    test('Entra ID’s update PATCHes as its documentation shows them are accepted; what gridwall keeps is changed, the rest dropped', async () => {
      const u = await created('entra.user', { emails: [{ value: 'old@nw.example.jp', type: 'work', primary: true }] });
      const ok = async (body: unknown) => {
        tick();
        const res = await scim('PATCH', `/scim/v2/Users/${u.id}`, body);
        assert.equal(res.statusCode, 200, `${JSON.stringify(body)} → ${res.body}`);
        return res.json<ScimUser>();
      };
      // learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups,
      // "Update User [Multi-valued properties]".
      const multi = await ok(
        patch(
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
          { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        ),
      );
      assert.deepEqual(multi.emails, [{ value: 'updatedEmail@microsoft.com', type: 'work', primary: true }]);
      // …/application-provisioning-config-problem-scim-compatibility, "Requests to replace multiple attributes",
      // without the aadOptscim062020 flag (what Entra sends by default) …
      const many = await ok(
        patch(
          { op: 'Replace', path: 'displayName', value: 'Pvlo' },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'TestBcwqnm@test.microsoft.com' },
          { op: 'Replace', path: 'name.givenName', value: 'Gtfd' },
          { op: 'Replace', path: 'name.familyName', value: 'Pkqf' },
          { op: 'Replace', path: 'externalId', value: 'Eqpj' },
          { op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', value: 'Eqpj' },
        ),
      );
      assert.deepEqual([many.displayName, many.externalId, many.emails?.[0]?.value], ['Pvlo', 'Eqpj', 'TestBcwqnm@test.microsoft.com']);
      // … and with it: a no-path value object whose keys are paths.
      const flagged = await ok(
        patch(
          { op: 'replace', path: 'emails[type eq "work"].value', value: 'TestMhvaes@test.microsoft.com' },
          {
            op: 'replace',
            value: {
              displayName: 'Bjfe',
              'name.givenName': 'Kkom',
              'name.familyName': 'Unua',
              'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber': 'Aklq',
            },
          },
        ),
      );
      assert.deepEqual([flagged.displayName, flagged.emails?.[0]?.value], ['Bjfe', 'TestMhvaes@test.microsoft.com']);
      // "Requests to add a single-value string attribute", both forms.
      await ok(patch({ op: 'Add', path: 'nickName', value: 'Babs' }));
      await ok(patch({ op: 'add', path: 'nickName', value: 'Babs' }));
      // The rest of a default Entra ID / Okta attribute mapping: accepted, not kept.
      const rest = await ok(
        patch(
          { op: 'Replace', path: 'title', value: '主任' },
          { op: 'Replace', path: 'preferredLanguage', value: 'ja-JP' },
          { op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '022-000-0000' },
          { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '090-0000-0000' },
          { op: 'Add', path: 'addresses[type eq "work"].streetAddress', value: '青葉区1-1' },
          { op: 'Add', path: 'addresses[type eq "work"].locality', value: '仙台市' },
          { op: 'Replace', path: `${ENTERPRISE_SCHEMA}:department`, value: 'ネットワークサービスセンター' },
          { op: 'Add', path: `${ENTERPRISE_SCHEMA}:manager`, value: 'p-admin' },
          { op: 'replace', value: { [ENTERPRISE_SCHEMA]: { department: 'NSC', manager: { value: 'p-admin' } } } },
        ),
      );
      for (const dropped of ['title', 'preferredLanguage', 'phoneNumbers', 'addresses', ENTERPRISE_SCHEMA]) assert.equal(dropped in rest, false, dropped);
      assert.equal(rest.displayName, 'Bjfe', 'nothing gridwall keeps changed');
    });

    test('truly invalid PATCHes are refused with RFC 7644’s scimType, and change nothing', async () => {
      const u = await created('bad.patch');
      const refused: [unknown, number, string][] = [
        [patch({ op: 'replace', path: 'favouriteColour', value: 'red' }), 400, 'invalidPath'],
        [patch({ op: 'replace', path: 'name.nickname', value: 'x' }), 400, 'invalidPath'],
        [patch({ op: 'replace', path: 'urn:example:unknown:2.0:User:x', value: 'x' }), 400, 'invalidPath'],
        [patch({ op: 'replace', path: 'id', value: 'p-other' }), 400, 'mutability'],
        [patch({ op: 'add', path: 'groups', value: [{ value: 'g1' }] }), 400, 'mutability'],
        [patch({ op: 'remove', path: 'active' }), 400, 'mutability'],
        [patch({ op: 'move', path: 'title', value: 'x' }), 400, 'invalidSyntax'],
        [patch({ op: 'replace', path: 'displayName' }), 400, 'invalidSyntax'],
        [patch({ op: 'remove' }), 400, 'noTarget'],
        [patch({ op: 'replace', path: 'emails[value co "x"].value', value: 'a@b.jp' }), 400, 'invalidFilter'],
        [patch({ op: 'replace', path: 'emails[primary eq true].value', value: 'a@b.jp' }), 400, 'noTarget'],
        [patch({ op: 'replace', path: 'active', value: 'maybe' }), 400, 'invalidValue'],
        [{ Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, 400, 'invalidSyntax'],
      ];
      for (const [body, status, scimType] of refused) {
        const res = await scim('PATCH', `/scim/v2/Users/${u.id}`, body);
        assert.deepEqual([res.statusCode, res.json<{ scimType?: string }>().scimType], [status, scimType], JSON.stringify(body));
        assert.deepEqual(res.json<{ schemas: string[] }>().schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
      }
      const after = (await scim('GET', `/scim/v2/Users/${u.id}`)).json<ScimUser>();
      assert.deepEqual([after.displayName, after.active], [u.displayName, true]);
    });

    test('leave → rejoin: Entra ID’s "False" disables, and "True" (with or without a path) re-enables with the last assignment, checked again', async () => {
      const u = await created('rejoin.user', { [ASSIGNMENT_SCHEMA]: RETAIL });
      const s = await signIn(w.db, 'rejoin.user', now);
      const lookup = (x: Session) =>
        w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: x.cookie } });
      assert.equal((await lookup(s)).statusCode, 403, 'the control: the session is live (no grant yet)');
      tick();
      // learn.microsoft.com/…/application-provisioning-config-problem-scim-compatibility, "Requests made to disable
      // users", without the flag (Entra ID's default): the string "False".
      const left = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
      assert.equal(left.statusCode, 200, left.body);
      assert.equal(left.json<ScimUser>().active, false);
      assert.equal((await lookup(s)).statusCode, 401, 'the session ended at once');
      assert.notEqual((await accountOf(u.id))[0]?.disabled_at, null);
      assert.deepEqual(left.json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...RETAIL, retailerCode: 'A0001', inForce: false }, 'a leaver shows the last assignment');
      tick();
      const back = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', value: { active: 'True' } }));
      assert.equal(back.statusCode, 200, back.body);
      assert.equal(back.json<ScimUser>().active, true);
      assert.equal((await accountOf(u.id))[0]?.disabled_at, null, 'the account is enabled again');
      const assignments = await w.db.query<{ valid_to: Date | null }>('SELECT valid_to FROM staff_assignments WHERE person_id = $1 ORDER BY valid_from', [
        u.id,
      ]);
      assert.deepEqual(
        assignments.rows.map((r) => r.valid_to === null),
        [false, true],
        'the old assignment ended when they left; a new one from the rejoin',
      );
      assert.equal((await lookup(await signIn(w.db, 'rejoin.user', now))).statusCode, 403, 'logs in again; grants must be asked for again');
      tick();
      // Okta deactivates with a no-path value object (developer.okta.com, SCIM 2.0 protocol reference,
      // "Update a specific user (PATCH)"); the path form with "True" re-enables too.
      const okta = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', value: { active: false } }));
      assert.equal(okta.json<ScimUser>().active, false);
      tick();
      const again = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'Replace', path: 'active', value: 'True' }));
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json<ScimUser>().active, true);
      const rejoined = (await events('scim.user.update', u.id)).filter((d) => d['rejoined'] === true);
      assert.equal(rejoined.length, 2);
    });

    test('RFC 7644 §3.6: a deleted User is gone from SCIM (404, not listed) but stays in gridwall; a new POST of its userName is a new person with a new user ID', async () => {
      const u = await created('gone.user', { externalId: 'E-GONE' });
      const s = await signIn(w.db, 'gone.user', now);
      tick();
      assert.equal((await scim('DELETE', `/scim/v2/Users/${u.id}`)).statusCode, 204);
      for (const [method, body] of [
        ['GET'],
        ['PUT', user('gone.user')],
        ['PATCH', patch({ op: 'replace', path: 'active', value: true })],
        ['DELETE'],
      ] as const) {
        const res = await scim(method, `/scim/v2/Users/${u.id}`, body);
        assert.equal(res.statusCode, 404, `${method}: ${res.body}`);
        assert.deepEqual(res.json<{ schemas: string[]; status: string }>().status, '404');
      }
      assert.equal((await filter('userName eq "gone.user"')).totalResults, 0);
      assert.equal((await filter('externalId eq "E-GONE"')).totalResults, 0);
      const listed = (await scim('GET', '/scim/v2/Users?count=200')).json<{ Resources: ScimUser[] }>().Resources.map((r) => r.id);
      assert.equal(listed.includes(u.id), false);
      assert.equal((await w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } })).statusCode, 401, 'a leaver');
      const person = await w.db.query<{ active: boolean }>('SELECT active FROM persons WHERE id = $1', [u.id]);
      assert.deepEqual(person.rows, [{ active: false }], 'the person stays for the log');
      assert.equal((await events('scim.user.delete', u.id)).length, 1);

      const rehired = await created('gone.user', { externalId: 'E-GONE' });
      assert.notEqual(rehired.id, u.id, 'a new person');
      assert.deepEqual(
        (await accountOf(rehired.id)).map((a) => [a.user_id, a.user_name]),
        [['gone.user-2', 'gone.user']],
        'the old user ID stays the old person’s: nothing the new hire reads is logged under it',
      );
      assert.deepEqual(
        (await accountOf(u.id)).map((a) => [a.user_id, a.user_name]),
        [['gone.user', null]],
      );
    });

    test('userName can change (RFC 7643 readWrite): the account’s user ID and person stay, the log keeps attributing reads to them, the rename is a governance event', async () => {
      const u = await created('m.tanaka', { [ASSIGNMENT_SCHEMA]: RETAIL });
      const s = await signIn(w.db, 'm.tanaka', now);
      const read = async () => {
        const res = await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: s.cookie } });
        const logged = await w.db.query<{ person_id: string; user_id: string }>('SELECT person_id, user_id FROM access_log WHERE request_id = $1', [
          String(res.headers['x-request-id']),
        ]);
        return logged.rows[0];
      };
      const before = await read();
      tick();
      // Entra ID's "Update User [Single-valued properties]" (use-scim-to-provision-users-and-groups).
      const renamed = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'Replace', path: 'userName', value: 'm.suzuki' }));
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal(renamed.json<ScimUser>().userName, 'm.suzuki');
      assert.deepEqual(await accountOf(u.id).then((a) => a.map((x) => [x.user_id, x.user_name])), [['m.tanaka', 'm.suzuki']]);
      const after = await read();
      assert.deepEqual(before, { person_id: u.id, user_id: 'm.tanaka' });
      assert.deepEqual(after, before, 'the session lives on and its reads are the same person’s, under the same account');
      assert.deepEqual(await events('scim.user.rename', u.id), [{ userId: 'm.tanaka', from: 'm.tanaka', to: 'm.suzuki' }]);
      assert.equal((await filter('userName eq "m.tanaka"')).totalResults, 0);
      assert.equal((await filter('userName eq "M.Suzuki"')).Resources[0]?.id, u.id);
      // By PUT, and to a name another User has: refused.
      const other = await created('k.sasaki');
      tick();
      const clash = await scim('PUT', `/scim/v2/Users/${other.id}`, user('M.SUZUKI'));
      assert.deepEqual([clash.statusCode, clash.json<{ scimType: string }>().scimType], [409, 'uniqueness']);
      const put = await scim('PUT', `/scim/v2/Users/${other.id}`, user('K.Sasaki'));
      assert.equal(put.json<ScimUser>().userName, 'K.Sasaki', 'a change of spelling is a rename too');
    });

    test('existing accounts are not SCIM’s until an operator hands them over; then the HR system matches and manages them — control holders only by name, service accounts never', async () => {
      assert.equal((await filter('userName eq "u-nsc"')).totalResults, 0, 'an account gridwall had before HR sync is not listed');
      assert.equal((await scim('GET', '/scim/v2/Users/p-nsc')).statusCode, 404);
      tick();
      assert.equal((await scim('PATCH', '/scim/v2/Users/p-admin', patch({ op: 'replace', path: 'active', value: 'False' }))).statusCode, 404, 'nor changed');
      tick();
      const dup = await scim('POST', '/scim/v2/Users', user('U-NSC'));
      assert.equal(dup.statusCode, 409, dup.body);
      assert.match(dup.json<{ detail: string }>().detail, /gridwall accounts scim-handover u-nsc/, 'the 409 names the step that hands it over');
      const at = tick();
      const by = { kind: 'system', job: 'test' } as const;
      const dry = await handOverToScim(w.db, { all: true }, { by, at, dryRun: true });
      assert.ok(
        dry.handedOver.some((h) => h.userId === 'u-nsc'),
        JSON.stringify(dry),
      );
      assert.deepEqual(
        dry.skipped.map((x) => [x.userId, x.reason]),
        [
          ['u-admin', 'holds access.admin, audit.read, grants.approve: name it to hand it over'],
          ['u-admin2', 'holds grants.approve: name it to hand it over'],
          ['u-comp', 'holds audit.read, grants.approve: name it to hand it over'],
        ],
      );
      assert.equal((await filter('userName eq "u-nsc"')).totalResults, 0, 'a dry run changes nothing');
      const done = await handOverToScim(w.db, { all: true }, { by, at, dryRun: false });
      assert.deepEqual(
        done.handedOver.map((h) => h.userId),
        dry.handedOver.map((h) => h.userId),
      );
      assert.equal(
        done.handedOver.some((h) => h.userId.startsWith('svc-')),
        false,
        'no service account',
      );
      const nsc = await filter('userName eq "U-NSC"');
      assert.equal(nsc.Resources[0]?.id, 'p-nsc', 'matched ignoring case once handed over');
      assert.deepEqual(await events('scim.user.adopt', 'u-nsc'), [{ job: 'test', userName: 'u-nsc', provisionedBefore: 'demo', named: false }]);
      assert.equal((await filter('userName eq "u-admin"')).totalResults, 0, 'a control holder stays out of reach');
      const named = await handOverToScim(w.db, { userIds: ['u-admin', 'svc-hr', 'nobody'] }, { by, at, dryRun: false });
      assert.deepEqual(
        named.handedOver.map((h) => h.userId),
        ['u-admin'],
      );
      assert.deepEqual(
        named.skipped.map((x) => x.userId),
        ['nobody', 'svc-hr'],
      );
      assert.equal((await filter('userName eq "u-admin"')).Resources[0]?.id, 'p-admin', 'named, then handed over');
      tick();
      const managed = await scim('PATCH', '/scim/v2/Users/p-nsc', patch({ op: 'replace', path: 'externalId', value: 'E-0002' }));
      assert.equal(managed.statusCode, 200, managed.body);
      assert.equal((await accountOf('p-nsc'))[0]?.provisioned_by, 'scim');
      tick();
      const svc = await scim('POST', '/scim/v2/Users', user('svc-hr'));
      assert.deepEqual([svc.statusCode, svc.json<{ scimType: string }>().scimType], [409, 'uniqueness'], 'no person under a service account’s ID');
    });

    test('a rename to another account’s user ID (a person’s or a service account’s) is refused: the IdP and a local login would mean somebody else', async () => {
      const u = await created('r.ito');
      for (const taken of ['svc-hr', 'U-CC']) {
        tick();
        const res = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: 'userName', value: taken }));
        assert.deepEqual([res.statusCode, res.json<{ scimType: string }>().scimType], [409, 'uniqueness'], `${taken}: ${res.body}`);
      }
      assert.equal((await accountOf(u.id))[0]?.user_name, 'r.ito', 'unchanged');
    });

    test('RFC 7643 §6: an active person whose assignment has ended shows it, not in force; echoed back (a name PATCH, a PUT of the User as read) it is not placed again, one that states where they work is', async () => {
      const u = await created('t.kato');
      const past = tick();
      await w.db.query('UPDATE staff_assignments SET valid_to = $2 WHERE person_id = $1', [u.id, past]);
      tick();
      const shown = (await scim('GET', `/scim/v2/Users/${u.id}`)).json<ScimUser>();
      assert.deepEqual(shown.schemas, [USER_SCHEMA, ASSIGNMENT_SCHEMA], 'the required extension is there');
      assert.deepEqual(shown[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null, inForce: false }, 'the last assignment, flagged as not in force');
      const listed = (await filter('userName eq "t.kato"')).Resources[0];
      assert.deepEqual(listed?.[ASSIGNMENT_SCHEMA], shown[ASSIGNMENT_SCHEMA], 'the list shows the same');
      const inForce = async () =>
        (await w.db.query('SELECT 1 FROM staff_assignments WHERE person_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)', [u.id, now]))
          .rows.length;
      tick();
      const res = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: 'displayName', value: '加藤 太郎' }));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json<ScimUser>().displayName, '加藤 太郎', 'the name change is kept');
      assert.deepEqual(res.json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null, inForce: false });
      assert.equal(await inForce(), 0, 'no assignment placed by a name change');
      tick();
      // Okta updates by PUT of the User as it read it: the ended assignment comes back as shown, and stays ended.
      const { id: _id, meta: _meta, ...echoed } = res.json<ScimUser & { meta: unknown }>();
      const put = await scim('PUT', `/scim/v2/Users/${u.id}`, { ...echoed, emails: [{ value: 't.kato@nw.example.jp', type: 'work', primary: true }] });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual(put.json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null, inForce: false });
      assert.equal(await inForce(), 0, 'no assignment placed by a PUT that echoes the User');
      tick();
      const readOnly = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: `${ASSIGNMENT_SCHEMA}:inForce`, value: true }));
      assert.deepEqual([readOnly.statusCode, readOnly.json<{ scimType: string }>().scimType], [400, 'mutability'], 'inForce is gridwall’s to say');
      tick();
      const stated = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: `${ASSIGNMENT_SCHEMA}:office`, value: '仙台NSC' }));
      assert.equal(stated.statusCode, 200, stated.body);
      assert.deepEqual(stated.json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...NW, office: '仙台NSC', retailerCode: null, inForce: true });
      assert.equal(await inForce(), 1);
    });

    test('an account switched off and on again (Entra ID, Okta) does not bring back an assignment that had ended before: a leaver’s own does come back', async () => {
      const inForce = async (id: string) =>
        (await w.db.query('SELECT 1 FROM staff_assignments WHERE person_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)', [id, now])).rows
          .length;
      const ended = await created('t.ended');
      const left = await created('t.left');
      const past = tick();
      await w.db.query('UPDATE staff_assignments SET valid_to = $2 WHERE person_id = $1', [ended.id, past]);
      for (const u of [ended, left]) {
        tick();
        const off = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
        assert.equal(off.statusCode, 200, off.body);
        tick();
        const on = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'Replace', path: 'active', value: 'True' }));
        assert.equal(on.statusCode, 200, on.body);
        assert.equal(on.json<ScimUser>().active, true);
      }
      assert.equal(await inForce(ended.id), 0, 'the assignment that had ended stays ended');
      assert.deepEqual((await scim('GET', `/scim/v2/Users/${ended.id}`)).json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null, inForce: false });
      assert.equal(await inForce(left.id), 1, 'a leaver’s assignment, ended by leaving, is placed again');
    });

    test('a User created inactive (as Entra ID and Okta create them) carries its assignment, not in force, and "True" or true places it with the usual rules', async () => {
      const refused = await scim('POST', '/scim/v2/Users', user('held.bad', { active: false, [ASSIGNMENT_SCHEMA]: { ...RETAIL, organizationId: 'org-nw' } }));
      assert.deepEqual([refused.statusCode, refused.json<{ scimType: string }>().scimType], [400, 'invalidValue'], 'checked when stated, inactive or not');
      for (const [userName, enable] of [
        // Entra ID (without the aadOptscim062020 flag): the path form with the string "True".
        ['held.entra', patch({ op: 'Replace', path: 'active', value: 'True' })],
        // Okta: a no-path value object with the boolean.
        ['held.okta', patch({ op: 'replace', value: { active: true } })],
      ] as const) {
        const u = await created(userName, { active: false, [ASSIGNMENT_SCHEMA]: RETAIL });
        assert.equal(u.active, false);
        assert.deepEqual(u.schemas, [USER_SCHEMA, ASSIGNMENT_SCHEMA]);
        assert.deepEqual(u[ASSIGNMENT_SCHEMA], { ...RETAIL, retailerCode: 'A0001', inForce: false }, 'the 201 carries the required extension');
        assert.deepEqual((await scim('GET', `/scim/v2/Users/${u.id}`)).json<ScimUser>()[ASSIGNMENT_SCHEMA], u[ASSIGNMENT_SCHEMA]);
        const placed = await w.db.query('SELECT 1 FROM staff_assignments WHERE person_id = $1', [u.id]);
        assert.equal(placed.rows.length, 0, 'held, not placed: the person reads nothing');
        await assert.rejects(signIn(w.db, userName, now), /unknown_account/, 'no login while inactive');
        tick();
        const back = await scim('PATCH', `/scim/v2/Users/${u.id}`, enable);
        assert.equal(back.statusCode, 200, back.body);
        assert.equal(back.json<ScimUser>().active, true);
        assert.deepEqual(back.json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...RETAIL, retailerCode: 'A0001', inForce: true });
        const rows = await w.db.query<{ organization_id: string; side: string; retailer_code: string; valid_from: Date; valid_to: Date | null }>(
          'SELECT organization_id, side, retailer_code, valid_from, valid_to FROM staff_assignments WHERE person_id = $1',
          [u.id],
        );
        assert.deepEqual(
          rows.rows.map((r) => [r.organization_id, r.side, r.retailer_code, new Date(r.valid_from).getTime(), r.valid_to]),
          [['org-a0001', 'retail', 'A0001', now.getTime(), null]],
          'placed from the enable, in force',
        );
        const held = await w.db.query<{ held: unknown }>('SELECT scim_assignment_held AS held FROM persons WHERE id = $1', [u.id]);
        assert.deepEqual(held.rows, [{ held: null }], 'nothing held any more');
        // Used as before: logs in, acts for the affiliated retailer, and must ask for grants (none yet).
        const s = await signIn(w.db, userName, now);
        const me = await w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } });
        assert.equal(me.statusCode, 200, me.body);
        assert.equal(me.json<{ assignment: { side: string } | null }>().assignment?.side, 'retail');
        const read = await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: s.cookie } });
        assert.equal(read.statusCode, 403, 'no grant yet: refused by the firewall, not by the session');
      }
      // Moved while still inactive: the new assignment is held instead, and it is the one the enable places.
      const moved = await created('held.moved', { active: false, [ASSIGNMENT_SCHEMA]: RETAIL });
      tick();
      const put = await scim('PUT', `/scim/v2/Users/${moved.id}`, user('held.moved', { active: false }));
      assert.deepEqual(put.json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null, inForce: false });
      tick();
      const on = await scim('PATCH', `/scim/v2/Users/${moved.id}`, patch({ op: 'replace', path: 'active', value: true }));
      assert.deepEqual(on.json<ScimUser>()[ASSIGNMENT_SCHEMA], { ...NW, retailerCode: null, inForce: true });
    });

    test("userName takes what Entra ID and Okta send (printable ASCII up to 256: ' + and long UPNs); the user ID stays in the safe pattern, derived from it", async () => {
      const long = `${'taro.yamada-long-name.'.repeat(4)}x@${'department.'.repeat(4)}example.co.jp`;
      assert.ok(long.length > 113, String(long.length));
      for (const userName of ["o'neil@example.co.jp", 'a+b@example.co.jp', long, '#^~!{}|`$%&*=?/@example.co.jp']) {
        tick();
        const res = await scim('POST', '/scim/v2/Users', user(userName));
        assert.equal(res.statusCode, 201, `${userName}: ${res.body}`);
        assert.equal(res.json<ScimUser>().userName, userName, 'kept as given');
        const [account] = await accountOf(res.json<ScimUser>().id);
        assert.equal(account?.user_name, userName);
        assert.match(account?.user_id ?? '', /^[A-Za-z0-9._@-]{1,64}$/, `${userName}: the user ID is what the log, URLs and CSV take`);
        assert.equal((await filter(`userName eq "${userName.toUpperCase()}"`)).Resources[0]?.userName, userName, 'found, ignoring case');
        // The account is used as any other: it logs in under its user ID.
        await signIn(w.db, account?.user_id ?? '', now);
      }
      const ids = (
        await w.db.query<{ user_id: string }>(`SELECT user_id FROM accounts WHERE user_name IN ($1, $2)`, ["o'neil@example.co.jp", 'a+b@example.co.jp'])
      ).rows
        .map((r) => r.user_id)
        .sort();
      assert.equal(ids.length, 2);
      assert.match(ids[0] ?? '', /^a_b@example\.co\.jp-[0-9a-f]{8}$/);
      assert.match(ids[1] ?? '', /^o_neil@example\.co\.jp-[0-9a-f]{8}$/);
      // A name that is itself a user ID made safe is another person, not a clash (the digest tells them apart).
      tick();
      assert.equal((await scim('POST', '/scim/v2/Users', user('o_neil@example.co.jp'))).statusCode, 201);
      // Renamed to one of them, as a marriage name in the UPN would be.
      const renamed = await created('plain.name');
      tick();
      const r = await scim('PATCH', `/scim/v2/Users/${renamed.id}`, patch({ op: 'replace', path: 'userName', value: "d'arcy+gw@example.co.jp" }));
      assert.equal(r.json<ScimUser>().userName, "d'arcy+gw@example.co.jp", r.body);
      for (const bad of [
        'two words@example.co.jp',
        'tab\there@example.co.jp',
        'nul\u0000@example.co.jp',
        'del\u007f@example.co.jp',
        '名前@example.co.jp',
        'x'.repeat(257),
        '',
      ]) {
        tick();
        const res = await scim('POST', '/scim/v2/Users', user(bad));
        assert.deepEqual([res.statusCode, res.json<{ scimType: string }>().scimType], [400, 'invalidValue'], `${JSON.stringify(bad)}: ${res.body}`);
        assert.match(res.json<{ detail: string }>().detail, /userName/);
      }
      assert.equal((await scim('POST', '/scim/v2/Users', user('y'.repeat(256)))).statusCode, 201, '256 is the most');
    });

    test('a change of name.familyName or name.givenName alone rebuilds the name shown (familyName givenName), by PUT and by PATCH; unchanged parts keep it', async () => {
      const parts = (familyName: string, givenName: string) => ({ familyName, givenName });
      const u = await created('parts.user', { displayName: undefined, name: parts('新井', '太一') });
      assert.deepEqual([u.displayName, u.name], ['新井 太一', { formatted: '新井 太一', familyName: '新井', givenName: '太一' }]);
      const { meta: _meta, ...back } = u;
      tick();
      // PUT: no displayName, only the parts (Okta's form).
      const put = await scim('PUT', `/scim/v2/Users/${u.id}`, user('parts.user', { displayName: undefined, name: parts('鈴木', '太一') }));
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual([put.json<ScimUser>().displayName, put.json<ScimUser>().name.formatted], ['鈴木 太一', '鈴木 太一']);
      tick();
      // PUT of the resource as returned with only name.familyName edited: displayName and name.formatted unchanged.
      const echo = await scim('PUT', `/scim/v2/Users/${u.id}`, {
        ...back,
        displayName: '鈴木 太一',
        name: { formatted: '鈴木 太一', ...parts('高橋', '太一') },
      });
      assert.equal(echo.json<ScimUser>().displayName, '高橋 太一', echo.body);
      tick();
      // PATCH name.familyName (Entra ID's "Update User" without name.formatted).
      const patched = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'Replace', path: 'name.familyName', value: '佐藤' }));
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(
        [patched.json<ScimUser>().displayName, patched.json<ScimUser>().name],
        ['佐藤 太一', { formatted: '佐藤 太一', familyName: '佐藤', givenName: '太一' }],
      );
      const stored = await w.db.query<{ name: string }>('SELECT name FROM persons WHERE id = $1', [u.id]);
      assert.equal(stored.rows[0]?.name, '佐藤 太一');
      tick();
      const given = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', path: 'name.givenName', value: '一郎' }));
      assert.equal(given.json<ScimUser>().displayName, '佐藤 一郎');
      // Controls: a name the client changed still wins over the parts, and unchanged parts never rebuild it.
      tick();
      const both = await scim('PATCH', `/scim/v2/Users/${u.id}`, patch({ op: 'replace', value: { displayName: 'S. Ichiro', 'name.familyName': '佐々木' } }));
      assert.equal(both.json<ScimUser>().displayName, 'S. Ichiro');
      const roman = await created('parts.roman', { displayName: '新井 太一', name: { formatted: '新井 太一', ...parts('Arai', 'Taichi') } });
      tick();
      const same = await scim('PUT', `/scim/v2/Users/${roman.id}`, user('parts.roman', { displayName: '新井 太一', name: parts('Arai', 'Taichi') }));
      assert.equal(same.json<ScimUser>().displayName, '新井 太一', 'the parts did not change: the name shown stays');
    });

    test('RFC 7644 §3.4.2.4–5: attributes and excludedAttributes shape the answer (id and schemas always); startIndex < 1 is 1, count < 0 is 0', async () => {
      const u = await created('attr.user', { emails: [{ value: 'attr@nw.example.jp', type: 'work' }] });
      const only = (await scim('GET', `/scim/v2/Users/${u.id}?attributes=userName,name.formatted`)).json<Record<string, unknown>>();
      assert.deepEqual(only, { schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA], id: u.id, userName: 'attr.user', name: { formatted: '新井 太一' } });
      const ext = (
        await scim(
          'GET',
          `/scim/v2/Users/${u.id}?attributes=${encodeURIComponent(`${ASSIGNMENT_SCHEMA}:side`)},urn:ietf:params:scim:schemas:core:2.0:User:active`,
        )
      ).json<Record<string, unknown>>();
      assert.deepEqual(ext, { schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA], id: u.id, active: true, [ASSIGNMENT_SCHEMA]: { side: 'network' } });
      const without = (await scim('GET', `/scim/v2/Users/${u.id}?excludedAttributes=emails,meta,id`)).json<Record<string, unknown>>();
      assert.equal('emails' in without, false);
      assert.equal('meta' in without, false);
      assert.equal(without['id'], u.id, 'id is always returned');
      assert.equal(without['userName'], 'attr.user');
      const listed = (await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "attr.user"')}&attributes=displayName`)).json<{
        Resources: Record<string, unknown>[];
      }>();
      assert.deepEqual(listed.Resources, [{ schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA], id: u.id, displayName: '新井 太一' }]);
      const unknown = await scim('GET', `/scim/v2/Users/${u.id}?attributes=shoeSize`);
      assert.deepEqual([unknown.statusCode, unknown.json<{ scimType: string }>().scimType], [400, 'invalidPath']);

      const zero = await scim('GET', '/scim/v2/Users?startIndex=0&count=2');
      assert.equal(zero.statusCode, 200, zero.body);
      assert.deepEqual([zero.json<{ startIndex: number }>().startIndex, zero.json<{ itemsPerPage: number }>().itemsPerPage], [1, 2]);
      const negative = await scim('GET', '/scim/v2/Users?startIndex=-5&count=-1');
      assert.equal(negative.statusCode, 200, negative.body);
      const page = negative.json<{ startIndex: number; itemsPerPage: number; totalResults: number; Resources: unknown[] }>();
      assert.deepEqual([page.startIndex, page.itemsPerPage, page.Resources.length], [1, 0, 0]);
      assert.ok(page.totalResults > 10, 'count=0 still says how many there are');
      const big = (await scim('GET', '/scim/v2/Users?count=100000')).json<{ itemsPerPage: number }>();
      assert.ok(big.itemsPerPage <= 200, 'cut to filter.maxResults');
    });
  });
}

/** A store at migration 012 (before this issue), with accounts whose user IDs differ only by case. */
async function storeBefore013(kind: 'pglite' | 'postgres'): Promise<{ db: Db; dispose: () => Promise<void> }> {
  const dir = new URL('../../src/store/migrations/', import.meta.url);
  const older = readdirSync(dir)
    .filter((f) => f.endsWith('.sql') && f < '013')
    .sort();
  let db: Db;
  let dispose: () => Promise<void>;
  if (kind === 'pglite') {
    db = await openPglite(null);
    dispose = () => db.close();
  } else {
    const url = process.env['DATABASE_URL'] ?? '';
    const schema = `gw_test_${randomBytes(6).toString('hex')}`;
    const admin = await openPostgres(url, { poolSize: 1 });
    await admin.exec(`CREATE SCHEMA ${schema}`);
    db = await openPostgres(url, { schema, poolSize: 2 });
    dispose = async () => {
      await db.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    };
  }
  await db.exec(
    'CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  for (const f of older) {
    await db.exec(readFileSync(new URL(f, dir), 'utf8'));
    await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [f.replace(/\.sql$/, '')]);
  }
  await db.exec(`
    INSERT INTO organizations (id, name, kind, retailer_code) VALUES ('org-nw', 'NW', 'network_operator', NULL);
    INSERT INTO persons (id, name) VALUES ('p-1', '新井 太一'), ('p-2', '新井 太一'), ('p-3', '佐藤 花子');
    INSERT INTO accounts (user_id, person_id, provisioned_by) VALUES ('k.arai', 'p-1', 'scim'), ('K.Arai', 'p-2', 'scim'), ('h.sato', 'p-3', 'manual');
    INSERT INTO staff_assignments (person_id, organization_id, employment, side, office, duty, valid_from) VALUES
      ('p-1', 'org-nw', 'employee', 'network', '本店', 'call_centre', '2020-04-01'), ('p-2', 'org-nw', 'employee', 'network', '本店', 'call_centre', '2020-04-01');`);
  return { db, dispose };
}

for (const kind of STORES.map((s) => s.name)) {
  test(`migration 013 on ${kind}: accounts differing only by case are kept, marked, reported in the governance log and left for HR to resolve over SCIM`, async () => {
    const { db, dispose } = await storeBefore013(kind);
    try {
      assert.ok((await migrate(db)).includes('013_scim_conformance'));
      const accounts = await db.query<{ user_id: string; user_name: string; user_name_clash: boolean }>(
        'SELECT user_id, user_name, user_name_clash FROM accounts ORDER BY user_id COLLATE "C"',
      );
      assert.deepEqual(
        accounts.rows.map((r) => [r.user_id, r.user_name, r.user_name_clash]),
        [
          ['K.Arai', 'K.Arai', true],
          ['h.sato', 'h.sato', false],
          ['k.arai', 'k.arai', true],
        ],
      );
      const reported = await db.query<{ action: string; outcome: string; details: { userIds: string[] } }>(
        `SELECT action, outcome, details FROM governance_events WHERE action = 'scim.user_name_clash'`,
      );
      assert.deepEqual(
        reported.rows.map((r) => [r.action, r.outcome, r.details.userIds]),
        [['scim.user_name_clash', 'refused', ['K.Arai', 'k.arai']]],
      );
      const hr = { kind: 'system', job: 'test' } as const;
      const users = new ScimUsers(db, '/scim/v2', (tx, personId, at) => sessionsOf(db).endAllOf(personId, at, tx), {
        forSide: revokeForSide,
        forRetailerChange: revokeForRetailerChange,
      });
      const at = new Date();
      assert.equal((await users.list('userName eq "k.arai"', 1, 10, at)).totalResults, 2, 'HR sees the duplicate');
      const again = { schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA], userName: 'K.ARAI', displayName: 'x', [ASSIGNMENT_SCHEMA]: NW };
      await assert.rejects(users.create(hr, again, at), (e: { status?: number }) => e.status === 409);
      await users.delete(hr, 'p-2', at);
      const left = await users.list('userName eq "K.ARAI"', 1, 10, at);
      assert.deepEqual(
        left.Resources.map((r) => r['id']),
        ['p-1'],
        'deleting the wrong one resolves it',
      );
      await assert.rejects(users.create(hr, again, at), (e: { status?: number }) => e.status === 409, 'the name is still held, by p-1');
    } finally {
      await dispose();
    }
  });
}
