import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { terminalProxy } from '../../src/api/terminal-binding.ts';
import { Secret, TOTP } from 'otpauth';
import { enrollTotp, setPassword } from '../../src/identity/local-accounts.ts';
import { bindOidcSubject, OidcLogin } from '../../src/identity/oidc.ts';
import { deviceBinding, issueEnrollmentCode, revokeDevice } from '../../src/identity/terminal-devices.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import type { Db } from '../../src/store/db.ts';
import { testApp } from '../support/app.ts';
import { NOW, TERMINALS, USERS, seedFixture } from '../support/fixture.ts';
import { CookieJar, signInAtProvider, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.ts';
import { STORES } from '../support/stores.ts';

/**
 * The retail-on-network login rule judges every way a login learns its terminal (review of issue 20): a
 * password login, single sign-on, a device binding — also one still awaiting a second administrator's
 * confirmation, which binds nothing but says where the browser is — and a trusted proxy's header, a terminal
 * ID spelt in another case included. A retail person naming a terminal the registry does not know is let in
 * under GRIDWALL_UNKNOWN_TERMINAL=limit with a live finding (retail_on_unknown_terminal); a network person is not.
 */
const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'https://gridwall.test/api/auth/oidc/callback';
const PROXY = '10.0.0.5';
const ADMIN = { kind: 'person', userId: USERS.admin, personId: 'p-admin' } as const;

for (const store of STORES) {
  describe(`the side rule at every way into a login on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let idp: TestIdentityProvider;
    let app: FastifyInstance;
    let now = NOW;
    const secrets = new Map<string, string>();

    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      for (const u of [USERS.retail, USERS.callCentre, USERS.otherRetailer]) {
        await setPassword(db, u, PASSWORD);
        secrets.set(u, (await enrollTotp(db, u, 'gridwall test')).secret);
      }
      idp = await startIdentityProvider(REDIRECT);
      const oidc = new OidcLogin(
        { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUri: REDIRECT, label: '社内SSO', scopes: 'openid' },
        db,
      );
      app = await testApp(db, {
        now: () => now,
        sessionCacheMs: 0,
        oidc,
        trustProxy: PROXY,
        terminalProxy: terminalProxy('x-client-cert-cn', PROXY),
      });
      await bindOidcSubject(db, USERS.retailContractor, idp.issuer, 'kc-0100-retail-ctr');
    });
    after(async () => {
      await app.close();
      await idp.close();
      await dispose();
    });

    const findings = async (rule: string, userId: string) =>
      (
        await db.query<{ severity: string; occurrences: number; evidence: unknown }>(
          'SELECT severity, occurrences, evidence FROM findings WHERE rule = $1 AND subject_user_id = $2 ORDER BY id',
          [rule, userId],
        )
      ).rows.map((r) => ({ ...r, evidence: (typeof r.evidence === 'string' ? JSON.parse(r.evidence) : r.evidence) as Record<string, unknown> }));
    /** A password login with the authenticator's code of a fresh 30-second step (a code is taken once). */
    const password = (userId: string, opts: { terminalId?: string; cookie?: string; proxyCn?: string } = {}) => {
      now = new Date(now.getTime() + 31_000);
      const code = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secrets.get(userId) ?? assert.fail(userId)) }).generate({
        timestamp: now.getTime(),
      });
      return app.inject({
        method: 'POST',
        url: '/api/session/password',
        payload: { userId, password: PASSWORD, code, ...(opts.terminalId === undefined ? {} : { terminalId: opts.terminalId }) },
        headers: { ...(opts.cookie === undefined ? {} : { cookie: opts.cookie }), ...(opts.proxyCn === undefined ? {} : { 'x-client-cert-cn': opts.proxyCn }) },
        ...(opts.proxyCn === undefined ? {} : { remoteAddress: PROXY }),
      });
    };
    const refusedByRule = (res: LightMyRequestResponse) => {
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json<{ error: { details?: { rule?: string } } }>().error.details?.rule, 'retail_on_network_terminal');
    };
    /** A browser bound to the call centre's PC by a code only one administrator has handled: the binding waits. */
    const pendingDevice = async (): Promise<string> => {
      const { code } = await issueEnrollmentCode(db, ADMIN, TERMINALS.CC, 30, now);
      const res = await app.inject({ method: 'POST', url: '/api/device/enroll', payload: { code, label: '仙台CC 席3' } });
      assert.equal(res.json<{ pending: boolean }>().pending, true, res.body);
      const line = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('gw_device=')) ?? assert.fail('no device cookie');
      return line.slice(0, line.indexOf(';'));
    };

    test('a password login from a browser whose binding to a network-site PC still waits is refused with the finding', async () => {
      const device = await pendingDevice();
      refusedByRule(await password(USERS.retail, { cookie: device }));
      const [f, ...more] = await findings('retail_on_network_terminal', USERS.retail);
      assert.equal(more.length, 0);
      assert.deepEqual(
        [f?.severity, f?.evidence['terminalId'], f?.evidence['terminalSource'], f?.evidence['unconfirmedBinding'], f?.evidence['method']],
        ['high', TERMINALS.CC, 'device', true, 'password'],
      );
      // The waiting binding still binds nothing: a network person logging in there has no terminal.
      const cc = await password(USERS.callCentre, { cookie: device });
      assert.equal(cc.statusCode, 201, cc.body);
      assert.deepEqual([cc.json<{ me: { terminalId: string | null } }>().me.terminalId], [null]);
    });

    test('single sign-on from that browser is refused too: the terminal learned at the start of the login is judged at its end', async () => {
      const device = await pendingDevice();
      const jar = new CookieJar();
      jar.store([device]);
      const start = await app.inject({ method: 'GET', url: '/api/auth/oidc/login', headers: { cookie: jar.header() } });
      assert.equal(start.statusCode, 303, start.body);
      jar.store(([] as string[]).concat(start.headers['set-cookie'] ?? []));
      const callback = await signInAtProvider(String(start.headers.location), 'kc-0100-retail-ctr');
      const done = await app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { cookie: jar.header() } });
      assert.equal(done.statusCode, 303, done.body);
      assert.match(String(done.headers.location), /retail_on_network_terminal/);
      const [f] = await findings('retail_on_network_terminal', USERS.retailContractor);
      assert.deepEqual([f?.evidence['method'], f?.evidence['terminalId'], f?.evidence['unconfirmedBinding']], ['oidc', TERMINALS.CC, true]);
    });

    test('a binding revoked after the browser was read binds nothing and is not called unconfirmed; one still waiting is', async () => {
      const sessions = new Sessions(db, { idleMs: 30 * 60_000, absoluteMs: 10 * 3_600_000, cacheMs: 0, unknownTerminal: 'limit', dormantDays: 90 });
      /** The edge's reading of a fresh waiting binding's cookie (api/terminal-binding.ts), as a login starts. */
      const readBinding = async () => {
        const cookie = await pendingDevice();
        const read = await deviceBinding(db, cookie.slice(cookie.indexOf('=') + 1));
        assert.ok(read?.pending === true && read.binding.deviceId !== null, 'a waiting binding to the call-centre PC');
        return read.binding;
      };
      const crossingOf = (r: Awaited<ReturnType<typeof sessions.open>>) => {
        if (r.kind !== 'refused') return assert.fail('the login was let in');
        return r.crossing ?? assert.fail(`refused as ${r.code}, not by the side rule`);
      };
      const waiting = await readBinding();
      assert.equal(crossingOf(await sessions.open(USERS.retail, waiting, now, 'password')).unconfirmedBinding, true, 'still waiting');

      const revoked = await readBinding();
      await revokeDevice(db, ADMIN, revoked.deviceId ?? assert.fail(), '席替え', now);
      const crossing = crossingOf(await sessions.open(USERS.retail, revoked, now, 'password'));
      assert.deepEqual(
        [crossing.terminalId, crossing.terminalSource, crossing.unconfirmedBinding],
        [TERMINALS.CC, 'device', false],
        'revoked between the read and the login: where the browser was still counts, but nothing awaits confirmation',
      );
    });

    test('a terminal named in another case — by the proxy or by a claim — is the registered terminal: no escape by spelling', async () => {
      const before = (await findings('retail_on_network_terminal', USERS.otherRetailer)).length;
      refusedByRule(await password(USERS.otherRetailer, { proxyCn: TERMINALS.NSC.toLowerCase() }));
      refusedByRule(await password(USERS.otherRetailer, { terminalId: TERMINALS.CC.toLowerCase() }));
      const raised = await findings('retail_on_network_terminal', USERS.otherRetailer);
      assert.equal(raised.length, before + 1, 'one open finding, counted');
      assert.equal(raised.at(-1)?.occurrences, 2);
      assert.deepEqual([raised.at(-1)?.evidence['terminalId'], raised.at(-1)?.evidence['namedAs']], [TERMINALS.CC, TERMINALS.CC.toLowerCase()]);
      // The registered spelling from the proxy, as before.
      refusedByRule(await password(USERS.otherRetailer, { proxyCn: TERMINALS.NSC }));
    });

    test('a retail person at a terminal the registry does not know is let in (limit) with a medium finding; a network person raises none', async () => {
      const res = await password(USERS.retail, { terminalId: 'T-NOWHERE-9' });
      assert.equal(res.statusCode, 201, res.body);
      const [f, ...more] = await findings('retail_on_unknown_terminal', USERS.retail);
      assert.equal(more.length, 0);
      assert.deepEqual([f?.severity, f?.evidence['terminalId'], f?.evidence['terminalSource']], ['medium', 'T-NOWHERE-9', 'claimed']);
      assert.equal((await password(USERS.callCentre, { terminalId: 'T-NOWHERE-9' })).statusCode, 201);
      assert.equal((await findings('retail_on_unknown_terminal', USERS.callCentre)).length, 0);
      // Its own registered terminal, and no terminal at all, raise nothing.
      assert.equal((await password(USERS.retail, { terminalId: TERMINALS.RETAIL })).statusCode, 201);
      assert.equal((await password(USERS.retail)).statusCode, 201);
      assert.equal((await findings('retail_on_unknown_terminal', USERS.retail)).length, 1);
      assert.equal((await findings('retail_on_network_terminal', USERS.retail)).length, 1, 'only the earlier one');
    });
  });
}
