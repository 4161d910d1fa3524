import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { terminalProxy, TrustedProxyError } from '../../src/api/terminal-binding.ts';
import { decideDevice, normalizeEnrollmentCode, unboundTerminalsWarning } from '../../src/identity/terminal-devices.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import type { Db } from '../../src/store/db.ts';

/**
 * Terminals bound to browsers by access administration (issue 19): a one-time enrolment code or the
 * administrator's own browser sets the device cookie; every login method reads the terminal from it the same
 * way; a binding to a terminal that opens network-only data binds only once a second access administrator
 * confirmed it; a revoked device, a replaced one or a retired terminal binds no more; each act is a
 * governance event.
 */

const MINUTE = 60_000;

/** The test clock: NOW unless a test moves it. */
let now = NOW;
const clock = () => now;

const setCookies = (res: LightMyRequestResponse) => ([] as string[]).concat(res.headers['set-cookie'] ?? []);
const deviceCookieOf = (res: LightMyRequestResponse): string => {
  const line = setCookies(res).find((c) => c.startsWith('gw_device=')) ?? assert.fail(`no device cookie in ${res.statusCode} ${res.body}`);
  return line.split(';')[0] ?? '';
};

async function governance(db: Db, action: string): Promise<{ outcome: string; rule: string | null; subject_id: string; details: Record<string, unknown> }[]> {
  const { rows } = await db.query<{ outcome: string; rule: string | null; subject_id: string; details: unknown }>(
    'SELECT outcome, rule, subject_id, details FROM governance_events WHERE action = $1 ORDER BY id',
    [action],
  );
  return rows.map((r) => ({ ...r, details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown> }));
}

async function issueCode(app: FastifyInstance, admin: Session, terminalId: string, minutes?: number): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/terminals/${terminalId}/enrollment-codes`,
    headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    payload: minutes === undefined ? {} : { minutes },
  });
  assert.equal(res.statusCode, 201, res.body);
  const body = res.json<{ code: string; terminalId: string; expiresAt: string }>();
  assert.equal(body.terminalId, terminalId);
  assert.match(body.code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.equal(new Date(body.expiresAt).getTime(), now.getTime() + (minutes ?? 30) * MINUTE);
  return body.code;
}

const enroll = (app: FastifyInstance, code: string) => app.inject({ method: 'POST', url: '/api/device/enroll', payload: { code, label: '仙台CC 席12' } });

/** A persona login from a browser holding `device` (a cookie pair), with a typed terminal if given. */
async function loginFrom(app: FastifyInstance, userId: string, device: string | null, typed?: string): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/session',
    headers: device === null ? {} : { cookie: device },
    payload: typed === undefined ? { userId } : { userId, terminalId: typed },
  });
}

/** A second access administrator: u-admin2 is given access.admin (u-admin approved it, as the fixture's grants go). */
async function secondAdministrator(db: Db): Promise<void> {
  await db.query(
    `INSERT INTO grants (user_id, permission_id, scope_organization_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
     VALUES ('u-admin2', 'access.admin', NULL, 'approved', 'アクセス管理（第二）', 'u-admin2', 'p-admin2', '2019-04-01', 'u-admin', 'p-admin', '2019-04-01', '2027-04-01')`,
  );
}

/** A decision on a device binding over HTTP by `by`; the response. */
const decide = (app: FastifyInstance, by: Session, deviceId: number, what: 'confirm' | 'reject') =>
  app.inject({
    method: 'POST',
    url: `/api/terminal-devices/${deviceId}/${what}`,
    headers: { cookie: by.cookie, 'x-csrf-token': by.csrf },
    payload: what === 'confirm' ? {} : { reason: '心当たりのない登録' },
  });

const sessionCookie = (res: LightMyRequestResponse) => `gw_session=${res.cookies.find((c) => c.name === 'gw_session')?.value ?? assert.fail('no session')}`;

async function meOf(
  app: FastifyInstance,
  cookie: string,
): Promise<{ status: number; terminalId?: string | null; terminalSource?: string | null; terminal?: string }> {
  const res = await app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
  return res.statusCode === 200
    ? { status: 200, ...res.json<{ terminalId: string | null; terminalSource: string | null; terminal: string }>() }
    : { status: res.statusCode };
}

test('enrolment codes are read as typed: case, spaces, hyphens, full-width and look-alike letters', () => {
  assert.equal(normalizeEnrollmentCode('ab12-cd34-ef56'), 'AB12CD34EF56');
  assert.equal(normalizeEnrollmentCode('ＡＢ１２ ＣＤ３４ ＥＦ５６'), 'AB12CD34EF56');
  assert.equal(normalizeEnrollmentCode('O0IL'), '0011');
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{12}$/), (code) => {
      const shown = code.match(/.{4}/g)?.join('-') ?? '';
      assert.equal(normalizeEnrollmentCode(shown), code);
      assert.equal(normalizeEnrollmentCode(shown.toLowerCase()), code);
      assert.equal(normalizeEnrollmentCode(normalizeEnrollmentCode(shown)), code, 'idempotent');
    }),
  );
});

test('a terminal header is believed only from the proxies named by address', () => {
  const proxy = terminalProxy('X-Client-Cert-CN', '10.0.0.5, 192.168.10.0/24, ::1') ?? assert.fail('a proxy');
  assert.equal(proxy.header, 'x-client-cert-cn');
  assert.ok(proxy.trusted('10.0.0.5') && proxy.trusted('::ffff:10.0.0.5') && proxy.trusted('192.168.10.77') && proxy.trusted('::1'));
  assert.ok(!proxy.trusted('10.0.0.6') && !proxy.trusted('192.168.11.1') && !proxy.trusted('127.0.0.1') && !proxy.trusted(''));
  assert.throws(() => terminalProxy('x-t', 'true'), TrustedProxyError, 'not `true`: it does not say which peer is the proxy');
  for (const bad of ['10.0.0', '10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/x'])
    assert.throws(
      () => terminalProxy('x-t', `10.0.0.5, ${bad}`),
      (e: unknown) => e instanceof TrustedProxyError && e.entry === bad,
      bad,
    );
});

for (const store of STORES) {
  describe(`terminals bound to browsers on ${store.name}`, () => {
    const w = seededApp(store, { now: clock }, secondAdministrator);
    let admin: Session;
    let admin2: Session;
    const adminSession = async () => (admin ??= await login(w.app, USERS.admin));
    const secondSession = async () => (admin2 ??= await login(w.app, USERS.admin2));
    const confirmed = async (res: LightMyRequestResponse) => {
      const c = await decide(w.app, await secondSession(), res.json<{ deviceId: number }>().deviceId, 'confirm');
      assert.equal(c.statusCode, 200, c.body);
      return res;
    };

    test('a one-time code binds the browser: HttpOnly, Secure, SameSite=Strict; the login carries the enrolled terminal', async () => {
      now = NOW;
      const code = await issueCode(w.app, await adminSession(), TERMINALS.CC);
      const res = await enroll(w.app, code.toLowerCase());
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(res.json(), { terminalId: TERMINALS.CC, deviceId: res.json<{ deviceId: number }>().deviceId, pending: true });
      await confirmed(res);
      const line = setCookies(res).find((c) => c.startsWith('gw_device=')) ?? '';
      for (const attr of [/HttpOnly/i, /Secure/i, /SameSite=Strict/i, /Path=\/api\//, /Max-Age=\d{8}/]) assert.match(line, attr);
      const device = deviceCookieOf(res);
      // The store keeps the secret's SHA-256 against the terminal, and the secret is 32 random bytes.
      const secret = device.slice('gw_device='.length);
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      const stored = await w.db.query<{ terminal_id: string }>(
        `SELECT terminal_id FROM terminal_devices WHERE secret_sha256 = sha256(convert_to($1, 'UTF8'))`,
        [secret],
      );
      assert.deepEqual(
        stored.rows.map((r) => r.terminal_id),
        [TERMINALS.CC],
      );

      const status = await w.app.inject({ method: 'GET', url: '/api/device', headers: { cookie: device } });
      assert.deepEqual(status.json(), { terminal: { id: TERMINALS.CC, source: 'device', shared: true, retired: false, pending: false } });
      assert.deepEqual((await w.app.inject({ method: 'GET', url: '/api/device' })).json(), { terminal: null });

      // The typed terminal is the person's claim; the enrolled one wins over it.
      const opened = await loginFrom(w.app, USERS.callCentre, device, TERMINALS.RETAIL);
      assert.equal(opened.statusCode, 201, opened.body);
      const me = await meOf(w.app, sessionCookie(opened));
      assert.deepEqual([me.terminalId, me.terminalSource, me.terminal], [TERMINALS.CC, 'device', 'network_site']);

      // The access log records the enrolled terminal for the reads of that session.
      const read = await w.app.inject({
        method: 'GET',
        url: `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`,
        headers: { cookie: sessionCookie(opened) },
      });
      assert.equal(read.statusCode, 200, read.body);
      const logged = await w.db.query<{ terminal_id: string | null }>('SELECT terminal_id FROM access_log WHERE request_id = $1', [
        read.headers['x-request-id'],
      ]);
      assert.deepEqual(
        logged.rows.map((r) => r.terminal_id),
        [TERMINALS.CC],
      );

      const enrolled = await governance(w.db, 'terminal.device_enroll');
      const last = enrolled.at(-1) ?? assert.fail('no enrolment event');
      assert.deepEqual([last.outcome, last.subject_id, last.details['method']], ['done', TERMINALS.CC, 'code']);
      assert.equal((await governance(w.db, 'terminal.enrollment_code')).at(-1)?.subject_id, TERMINALS.CC);
    });

    test('a code works once: the second use is refused alike, the reason (code_used) only in the governance log', async () => {
      now = NOW;
      const code = await issueCode(w.app, await adminSession(), TERMINALS.NSC);
      assert.equal((await enroll(w.app, code)).statusCode, 201);
      const again = await enroll(w.app, code);
      assert.equal(again.statusCode, 403, again.body);
      assert.deepEqual([again.json().error.code, again.json().error.details.rule], ['forbidden', 'enrollment_code_rejected']);
      assert.equal(
        setCookies(again).some((c) => c.startsWith('gw_device=')),
        false,
        'no cookie for a refused code',
      );
      const refused = (await governance(w.db, 'terminal.device_enroll')).filter((e) => e.outcome === 'refused').at(-1);
      assert.deepEqual([refused?.rule, refused?.subject_id], ['code_used', TERMINALS.NSC]);
      const unknown = await enroll(w.app, 'ZZZZ-ZZZZ-ZZZZ');
      assert.equal(unknown.statusCode, 403);
      assert.equal((await governance(w.db, 'terminal.device_enroll')).at(-1)?.rule, 'code_unknown');
    });

    test('a code expires: a minute past its time it is refused, a minute before it binds', async () => {
      now = NOW;
      const late = await issueCode(w.app, await adminSession(), TERMINALS.RETAIL, 10);
      const inTime = await issueCode(w.app, await adminSession(), TERMINALS.RETAIL, 10);
      now = new Date(NOW.getTime() + 9 * MINUTE);
      assert.equal((await enroll(w.app, inTime)).statusCode, 201);
      now = new Date(NOW.getTime() + 11 * MINUTE);
      const res = await enroll(w.app, late);
      assert.equal(res.statusCode, 403);
      assert.equal((await governance(w.db, 'terminal.device_enroll')).at(-1)?.rule, 'code_expired');
      now = NOW;
    });

    test('a revoked device no longer binds, and the sessions opened through it end', async () => {
      now = NOW;
      const enrolled = await confirmed(await enroll(w.app, await issueCode(w.app, await adminSession(), TERMINALS.NSC)));
      const device = deviceCookieOf(enrolled);
      const deviceId = enrolled.json<{ deviceId: number }>().deviceId;
      const opened = await loginFrom(w.app, USERS.serviceCentre, device);
      const cookie = sessionCookie(opened);
      assert.equal((await meOf(w.app, cookie)).terminalId, TERMINALS.NSC);

      const a = await adminSession();
      const revoke = await w.app.inject({
        method: 'POST',
        url: `/api/terminal-devices/${deviceId}/revoke`,
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
        payload: { reason: 'PC入替え' },
      });
      assert.equal(revoke.statusCode, 200, revoke.body);
      assert.equal(revoke.json<{ sessionsEnded: number }>().sessionsEnded >= 1, true);
      assert.equal((await meOf(w.app, cookie)).status, 401, 'the session through the revoked device has ended');

      const after = await loginFrom(w.app, USERS.serviceCentre, device);
      const me = await meOf(w.app, sessionCookie(after));
      assert.deepEqual(
        [me.terminalId, me.terminalSource, me.terminal],
        [null, null, 'none'],
        'the revoked device binds nothing (limit: narrowed, no terminal)',
      );
      assert.deepEqual((await w.app.inject({ method: 'GET', url: '/api/device', headers: { cookie: device } })).json(), { terminal: null });
      const twice = await w.app.inject({
        method: 'POST',
        url: `/api/terminal-devices/${deviceId}/revoke`,
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
        payload: { reason: 'again' },
      });
      assert.equal(twice.statusCode, 409);
      const events = await governance(w.db, 'terminal.device_revoke');
      assert.deepEqual(
        events.slice(-2).map((e) => [e.outcome, e.rule]),
        [
          ['done', null],
          ['refused', 'device_revoked'],
        ],
      );
    });

    test('an administrator registers the browser they use; retiring the terminal revokes its devices', async () => {
      now = NOW;
      await w.db.query(
        `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side, shared) VALUES ('T-CC-SHARED', 'org-nw', '仙台CC', 'dedicated', 'network', 'network', true)`,
      );
      const a = await adminSession();
      const res = await w.app.inject({
        method: 'POST',
        url: '/api/terminals/T-CC-SHARED/devices',
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
        payload: { label: '席3' },
      });
      assert.equal(res.statusCode, 201, res.body);
      const device = deviceCookieOf(res);
      assert.deepEqual((await w.app.inject({ method: 'GET', url: '/api/device', headers: { cookie: device } })).json(), {
        terminal: { id: 'T-CC-SHARED', source: 'device', shared: true, retired: false, pending: true },
      });
      const listed = await w.app.inject({ method: 'GET', url: '/api/terminal-devices?terminalId=T-CC-SHARED', headers: { cookie: a.cookie } });
      assert.deepEqual(
        listed
          .json<{ devices: { method: string; enrolledBy: string; revokedAt: string | null }[] }>()
          .devices.map((d) => [d.method, d.enrolledBy, d.revokedAt]),
        [['browser', USERS.admin, null]],
      );
      const retire = await w.app.inject({
        method: 'POST',
        url: '/api/terminals/T-CC-SHARED/retire',
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
        payload: {},
      });
      assert.equal(retire.statusCode, 200, retire.body);
      const relisted = await w.app.inject({ method: 'GET', url: '/api/terminal-devices?terminalId=T-CC-SHARED', headers: { cookie: a.cookie } });
      assert.ok(
        relisted
          .json<{ devices: { revokedAt: string | null; revokeReason: string | null }[] }>()
          .devices.every((d) => d.revokedAt !== null && d.revokeReason === 'terminal retired'),
      );
      // A code for a retired terminal is not issued.
      const code = await w.app.inject({
        method: 'POST',
        url: '/api/terminals/T-CC-SHARED/enrollment-codes',
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
        payload: {},
      });
      assert.equal(code.statusCode, 409, code.body);
      assert.equal((await governance(w.db, 'terminal.enrollment_code')).at(-1)?.rule, 'retired_terminal');
    });

    test('a binding to a terminal that only narrows binds at once; one to a network-site terminal waits for a second administrator', async () => {
      now = NOW;
      const retail = await enroll(w.app, await issueCode(w.app, await adminSession(), TERMINALS.RETAIL));
      assert.equal(retail.json<{ pending: boolean }>().pending, false, 'a retail-set terminal only narrows: one person suffices');
      const atRetail = await meOf(w.app, sessionCookie(await loginFrom(w.app, USERS.retail, deviceCookieOf(retail))));
      assert.deepEqual([atRetail.terminalId, atRetail.terminalSource], [TERMINALS.RETAIL, 'device']);

      // One administrator issues a code for the service centre's terminal and redeems it in any browser.
      const res = await enroll(w.app, await issueCode(w.app, await adminSession(), TERMINALS.NSC));
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json<{ pending: boolean }>().pending, true);
      const device = deviceCookieOf(res);
      const deviceId = res.json<{ deviceId: number }>().deviceId;
      assert.deepEqual((await w.app.inject({ method: 'GET', url: '/api/device', headers: { cookie: device } })).json(), {
        terminal: { id: TERMINALS.NSC, source: 'device', shared: true, retired: false, pending: true },
      });
      // Pending, it binds nothing — and a typed terminal does not stand in for it — so the network-only gate stays shut.
      const before = await meOf(w.app, sessionCookie(await loginFrom(w.app, USERS.serviceCentre, device, TERMINALS.NSC)));
      assert.deepEqual([before.terminalId, before.terminalSource, before.terminal], [null, null, 'none']);
      const listed = await w.app.inject({
        method: 'GET',
        url: `/api/terminal-devices?terminalId=${TERMINALS.NSC}`,
        headers: { cookie: (await adminSession()).cookie },
      });
      const row = listed
        .json<{ devices: { id: number; awaitsConfirmation: boolean; issuedBy: string; decision: string | null }[] }>()
        .devices.find((d) => d.id === deviceId);
      assert.deepEqual([row?.awaitsConfirmation, row?.issuedBy, row?.decision], [true, USERS.admin, null]);

      // The administrator who issued the code cannot confirm it (code and store).
      const self = await decide(w.app, await adminSession(), deviceId, 'confirm');
      assert.equal(self.statusCode, 403, self.body);
      assert.equal(self.json().error.details.rule, 'self_confirmation');
      await assert.rejects(
        w.db.query(`UPDATE terminal_devices SET decision = 'confirmed', decided_at = $2, decided_by = 'u-admin', decided_by_person = 'p-admin' WHERE id = $1`, [
          deviceId,
          NOW,
        ]),
        /check/i,
        'the store refuses the issuer as the second person too',
      );
      const refusedConfirm = (await governance(w.db, 'terminal.device_confirm')).at(-1);
      assert.deepEqual([refusedConfirm?.outcome, refusedConfirm?.rule], ['refused', 'self_confirmation']);

      // A second access administrator confirms: from the next login the browser carries the terminal.
      const ok = await decide(w.app, await secondSession(), deviceId, 'confirm');
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json<{ decision: string }>().decision, 'confirmed');
      const after = await meOf(w.app, sessionCookie(await loginFrom(w.app, USERS.serviceCentre, device)));
      assert.deepEqual([after.terminalId, after.terminalSource, after.terminal], [TERMINALS.NSC, 'device', 'network_site']);
      const done = (await governance(w.db, 'terminal.device_confirm')).at(-1);
      assert.deepEqual([done?.outcome, done?.subject_id, done?.details['deviceId']], ['done', TERMINALS.NSC, deviceId]);
      assert.equal((await decide(w.app, await secondSession(), deviceId, 'confirm')).statusCode, 409, 'decided once');
    });

    test('a rejected binding is revoked and never binds; the administrator’s own browser waits like a code', async () => {
      now = NOW;
      const a = await adminSession();
      const here = await w.app.inject({
        method: 'POST',
        url: `/api/terminals/${TERMINALS.CC}/devices`,
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
        payload: { label: '自宅のブラウザ' },
      });
      assert.equal(here.statusCode, 201, here.body);
      assert.equal(here.json<{ pending: boolean }>().pending, true);
      const device = deviceCookieOf(here);
      const deviceId = here.json<{ deviceId: number }>().deviceId;
      const rejected = await decide(w.app, await secondSession(), deviceId, 'reject');
      assert.equal(rejected.statusCode, 200, rejected.body);
      const me = await meOf(w.app, sessionCookie(await loginFrom(w.app, USERS.callCentre, device)));
      assert.deepEqual([me.terminalId, me.terminal], [null, 'none']);
      assert.deepEqual((await w.app.inject({ method: 'GET', url: '/api/device', headers: { cookie: device } })).json(), { terminal: null });
      const event = (await governance(w.db, 'terminal.device_reject')).at(-1);
      assert.deepEqual([event?.outcome, event?.subject_id], ['done', TERMINALS.CC]);
      assert.equal((await decide(w.app, await secondSession(), deviceId, 'confirm')).statusCode, 409, 'a rejected binding cannot be confirmed after');
    });

    test('re-setting a terminal to a network site ends the sessions of its unconfirmed bindings, which wait from then on', async () => {
      now = NOW;
      await w.db.query(
        `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side) VALUES ('T-MOVE', 'org-nw', '仙台CC', 'dedicated', 'retail', 'retail')`,
      );
      const res = await enroll(w.app, await issueCode(w.app, await adminSession(), 'T-MOVE'));
      assert.equal(res.json<{ pending: boolean }>().pending, false);
      const device = deviceCookieOf(res);
      const session = sessionCookie(await loginFrom(w.app, USERS.serviceCentre, device));
      assert.equal((await meOf(w.app, session)).terminal, 'retail_set');
      const a = await adminSession();
      const put = await w.app.inject({
        method: 'PUT',
        url: '/api/terminals/T-MOVE',
        headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
        payload: { organizationId: 'org-nw', office: '仙台CC', kind: 'dedicated', setting: 'network', siteSide: 'network' },
      });
      // Re-setting a terminal so that it opens network-only data waits for a second access administrator.
      assert.equal(put.statusCode, 202, put.body);
      assert.equal((await meOf(w.app, session)).status, 200, 'nothing changes while the request waits');
      const b = await secondSession();
      const approved = await w.app.inject({
        method: 'POST',
        url: `/api/terminal-requests/${put.json<{ requestId: number }>().requestId}/approve`,
        headers: { cookie: b.cookie, 'x-csrf-token': b.csrf },
        payload: { reason: '仙台CCへの移設を確認' },
      });
      assert.equal(approved.statusCode, 200, approved.body);
      assert.equal((await meOf(w.app, session)).status, 401, 'the session through the unconfirmed binding ended');
      const again = await meOf(w.app, sessionCookie(await loginFrom(w.app, USERS.serviceCentre, device)));
      assert.deepEqual([again.terminalId, again.terminal], [null, 'none'], 're-setting a terminal does not widen its unconfirmed bindings');
    });

    test('enrolling a browser again revokes the binding its cookie named, and ends the sessions through it', async () => {
      now = NOW;
      const first = await enroll(w.app, await issueCode(w.app, await adminSession(), TERMINALS.RETAIL));
      const old = deviceCookieOf(first);
      const session = sessionCookie(await loginFrom(w.app, USERS.retail, old));
      assert.equal((await meOf(w.app, session)).terminalId, TERMINALS.RETAIL);
      const code = await issueCode(w.app, await adminSession(), TERMINALS.RETAIL);
      const second = await w.app.inject({ method: 'POST', url: '/api/device/enroll', headers: { cookie: old }, payload: { code } });
      assert.equal(second.statusCode, 201, second.body);
      const fresh = deviceCookieOf(second);
      assert.notEqual(fresh, old);
      assert.equal((await meOf(w.app, session)).status, 401, 'the session through the replaced binding ended');
      const viaOld = await meOf(w.app, sessionCookie(await loginFrom(w.app, USERS.retail, old)));
      assert.deepEqual([viaOld.terminalId, viaOld.terminal], [null, 'none'], 'a copy of the old secret binds nothing');
      const viaNew = await meOf(w.app, sessionCookie(await loginFrom(w.app, USERS.retail, fresh)));
      assert.equal(viaNew.terminalId, TERMINALS.RETAIL);
      const revoked = (await governance(w.db, 'terminal.device_revoke')).at(-1);
      assert.deepEqual(
        [revoked?.outcome, revoked?.details['deviceId'], revoked?.details['reason'], revoked?.details['replacedBy']],
        ['done', first.json<{ deviceId: number }>().deviceId, 'enrolled again', second.json<{ deviceId: number }>().deviceId],
      );
      // The administrator's own browser likewise: registering it again replaces its binding.
      const a = await adminSession();
      const mine = async (cookie: string) =>
        w.app.inject({
          method: 'POST',
          url: `/api/terminals/${TERMINALS.RETAIL}/devices`,
          headers: { cookie, 'x-csrf-token': a.csrf },
          payload: { label: '管理者PC' },
        });
      const one = await mine(a.cookie);
      const two = await mine(`${a.cookie}; ${deviceCookieOf(one)}`);
      assert.equal(two.statusCode, 201, two.body);
      const devices = (await w.app.inject({ method: 'GET', url: `/api/terminal-devices?terminalId=${TERMINALS.RETAIL}`, headers: { cookie: a.cookie } })).json<{
        devices: { id: number; revokeReason: string | null }[];
      }>().devices;
      assert.equal(devices.find((d) => d.id === one.json<{ deviceId: number }>().deviceId)?.revokeReason, 'enrolled again');
      assert.equal(devices.find((d) => d.id === two.json<{ deviceId: number }>().deviceId)?.revokeReason, null);
    });

    test('the start-up warning: typed terminals ignored, no proxy header and no browser bound', async () => {
      const fresh = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM terminal_devices WHERE revoked_at IS NULL');
      assert.ok((fresh.rows[0]?.n ?? 0) > 0, 'this store has bindings by now');
      assert.equal(await unboundTerminalsWarning(w.db, 'ignore', false), null, 'bindings exist');
      assert.equal(await unboundTerminalsWarning(w.db, 'accept', false), null);
    });

    test('only access administration enrols, issues codes and revokes', async () => {
      const cc = await login(w.app, USERS.callCentre);
      for (const [url, payload] of [
        [`/api/terminals/${TERMINALS.CC}/devices`, { label: 'x' }],
        [`/api/terminals/${TERMINALS.CC}/enrollment-codes`, {}],
        ['/api/terminal-devices/1/revoke', { reason: 'x' }],
      ] as const) {
        const res = await w.app.inject({ method: 'POST', url, headers: { cookie: cc.cookie, 'x-csrf-token': cc.csrf }, payload });
        assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
        assert.equal(
          setCookies(res).some((c) => c.startsWith('gw_device=')),
          false,
        );
      }
    });
  });

  describe(`GRIDWALL_UNKNOWN_TERMINAL=refuse, typed terminals ignored, on ${store.name}`, () => {
    const w = seededApp(store, { now: clock, unknownTerminal: 'refuse', terminalClaims: 'ignore' });

    test('at start, a server that believes no terminal says so and what to do', async () => {
      const warning = await unboundTerminalsWarning(w.db, 'ignore', false);
      assert.match(warning ?? '', /GRIDWALL_TERMINAL_CLAIMS=ignore/);
      assert.match(warning ?? '', /no browser is bound/);
      assert.match(warning ?? '', /GRIDWALL_TERMINAL_HEADER/);
      assert.equal(await unboundTerminalsWarning(w.db, 'ignore', true), null, 'a proxy names terminals');
      assert.equal(await unboundTerminalsWarning(w.db, 'accept', false), null, 'typed terminals are believed');
    });

    test('an unenrolled browser is refused with the reason; a typed terminal does not help; an enrolled browser logs in, by persona and by password alike', async () => {
      now = NOW;
      const refused = await loginFrom(w.app, USERS.callCentre, null, TERMINALS.CC);
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(refused.json().error.code, 'unknown_terminal');
      assert.match(refused.json().error.message, /not registered as a terminal/);
      const { rows } = await w.db.query<{ details: unknown }>(`SELECT details FROM governance_events WHERE action = 'session.login' ORDER BY id DESC LIMIT 1`);
      const details = (typeof rows[0]?.details === 'string' ? JSON.parse(rows[0].details) : rows[0]?.details) as Record<string, unknown>;
      assert.deepEqual([details['terminalId'], details['terminalSource']], [null, null], 'the claim was ignored');

      // The administrator logs in from a browser bound to the service centre's terminal (seeded: under refuse nobody gets in unbound).
      const seed = await w.db.query<{ id: string }>(
        `INSERT INTO terminal_devices (terminal_id, secret_sha256, label, method, enrolled_at, enrolled_by, issued_by, issued_by_person, decision, decided_at, decided_by, decided_by_person)
         VALUES ($1, sha256('seeded-secret'::bytea), 'seed', 'browser', $2, 'u-admin', 'u-admin', 'p-admin', 'confirmed', $2, 'u-admin2', 'p-admin2') RETURNING id`,
        [TERMINALS.NSC, NOW],
      );
      assert.ok(seed.rows[0]?.id !== undefined);
      const adminLogin = await loginFrom(w.app, USERS.admin, 'gw_device=seeded-secret');
      assert.equal(adminLogin.statusCode, 201, adminLogin.body);
      const admin = { cookie: `${sessionCookie(adminLogin)}; gw_device=seeded-secret`, csrf: adminLogin.json<{ csrfToken: string }>().csrfToken };
      const issued = await w.app.inject({
        method: 'POST',
        url: `/api/terminals/${TERMINALS.CC}/enrollment-codes`,
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        payload: {},
      });
      const enrolledCc = await enroll(w.app, issued.json<{ code: string }>().code);
      const device = deviceCookieOf(enrolledCc);
      // The call centre's terminal opens network-only data: the binding waits for a second administrator.
      const waiting = await loginFrom(w.app, USERS.callCentre, device);
      assert.equal(waiting.statusCode, 403, 'a pending binding binds nothing: under refuse, no terminal is no login');
      await decideDevice(
        w.db,
        { kind: 'person', userId: USERS.admin2, personId: 'p-admin2' },
        enrolledCc.json<{ deviceId: number }>().deviceId,
        'confirmed',
        null,
        NOW,
      );
      const ok = await loginFrom(w.app, USERS.callCentre, device);
      assert.equal(ok.statusCode, 201, ok.body);
      assert.deepEqual(
        [ok.json<{ me: { terminalId: string; terminalSource: string } }>().me.terminalId, ok.json<{ me: { terminalSource: string } }>().me.terminalSource],
        [TERMINALS.CC, 'device'],
      );
      // The password login reads the terminal the same way: it gets as far as the credentials (no local account here: 401).
      const password = await w.app.inject({
        method: 'POST',
        url: '/api/session/password',
        headers: { cookie: device },
        payload: { userId: USERS.callCentre, password: 'not the password', code: '000000' },
      });
      assert.equal(password.statusCode, 401);
      const last = await w.db.query<{ details: unknown }>(`SELECT details FROM governance_events WHERE action = 'session.login' ORDER BY id DESC LIMIT 1`);
      const d = (typeof last.rows[0]?.details === 'string' ? JSON.parse(last.rows[0].details) : last.rows[0]?.details) as Record<string, unknown>;
      assert.deepEqual([d['method'], d['terminalId'], d['terminalSource']], ['password', TERMINALS.CC, 'device']);
    });
  });

  describe(`a terminal asserted by a trusted reverse proxy on ${store.name}`, () => {
    const proxy = terminalProxy('x-client-cert-cn', '10.0.0.5') ?? assert.fail('proxy');
    const w = seededApp(store, { now: clock, unknownTerminal: 'refuse', terminalClaims: 'ignore', trustProxy: '10.0.0.5', terminalProxy: proxy });

    test('from the proxy the header names the terminal; from anyone else it is ignored', async () => {
      now = NOW;
      const via = await w.app.inject({
        method: 'POST',
        url: '/api/session',
        remoteAddress: '10.0.0.5',
        headers: { 'x-client-cert-cn': TERMINALS.NSC, 'x-forwarded-for': '172.16.0.20' },
        payload: { userId: USERS.serviceCentre },
      });
      assert.equal(via.statusCode, 201, via.body);
      const me = via.json<{ me: { terminalId: string; terminalSource: string; terminal: string } }>().me;
      assert.deepEqual([me.terminalId, me.terminalSource, me.terminal], [TERMINALS.NSC, 'proxy', 'network_site']);

      const direct = await w.app.inject({
        method: 'POST',
        url: '/api/session',
        remoteAddress: '10.0.0.9',
        headers: { 'x-client-cert-cn': TERMINALS.NSC },
        payload: { userId: USERS.serviceCentre },
      });
      assert.equal(direct.statusCode, 403, 'a client that sets the header itself gets nothing from it');
      assert.equal(direct.json().error.code, 'unknown_terminal');

      const malformed = await w.app.inject({
        method: 'POST',
        url: '/api/session',
        remoteAddress: '10.0.0.5',
        headers: { 'x-client-cert-cn': 'T-NW1=HYPERLINK(1)' },
        payload: { userId: USERS.serviceCentre },
      });
      assert.equal(malformed.statusCode, 403, 'a malformed assertion is no terminal');
    });
  });
}
