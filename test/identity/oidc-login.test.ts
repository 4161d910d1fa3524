import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import * as jose from 'jose';
import { bindOidcSubject, OidcLogin, type OidcSettings } from '../../src/identity/oidc.ts';
import type { TerminalProxy } from '../../src/api/context.ts';
import { terminalProxy } from '../../src/api/terminal-binding.ts';
import type { Db } from '../../src/store/db.ts';
import { testApp } from '../support/app.ts';
import { NOW, TERMINALS, USERS, seedFixture } from '../support/fixture.ts';
import { CookieJar, signInAtProvider, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.ts';
import { STORES } from '../support/stores.ts';

const REDIRECT = 'https://gridwall.test/api/auth/oidc/callback';

/** The end of one login attempt at gridwall: where it sent the browser, and the browser's gridwall cookies. */
interface Outcome {
  readonly status: number;
  readonly location: string;
  readonly jar: CookieJar;
}

for (const store of STORES) {
  describe(`single sign-on through a real OpenID provider on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let idp: TestIdentityProvider;
    let app: FastifyInstance;

    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      idp = await startIdentityProvider(REDIRECT);
      const settings: OidcSettings = {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUri: REDIRECT,
        label: '社内SSO',
        scopes: 'openid',
      };
      app = await testApp(db, { oidc: new OidcLogin(settings, db) });
      await bindOidcSubject(db, USERS.callCentre, idp.issuer, 'kc-0001-takahashi');
      await bindOidcSubject(db, USERS.admin2, idp.issuer, 'kc-0002-saito');
      await db.query('UPDATE accounts SET disabled_at = $2 WHERE user_id = $1', [USERS.admin2, NOW]);
    });
    after(async () => {
      await app.close();
      await idp.close();
      await dispose();
    });

    const get = (url: string, jar: CookieJar) => app.inject({ method: 'GET', url, headers: { cookie: jar.header() } });
    const keep = (jar: CookieJar, res: LightMyRequestResponse) => jar.store(([] as string[]).concat(res.headers['set-cookie'] ?? []));

    /** gridwall's login → the provider (as `subject`) → gridwall's callback, with `alter` changing the callback first. */
    async function login(
      subject: string,
      opts: { terminalId?: string; alter?: (callback: URL) => void; abort?: boolean } = {},
    ): Promise<Outcome & { callback: URL }> {
      const jar = new CookieJar();
      const start = await get(`/api/auth/oidc/login${opts.terminalId === undefined ? '' : `?terminalId=${opts.terminalId}`}`, jar);
      assert.equal(start.statusCode, 303, start.body);
      keep(jar, start);
      const callback = await signInAtProvider(String(start.headers.location), subject, opts.abort === true ? { abort: true } : {});
      assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT, 'the provider sends the browser back to the registered callback');
      opts.alter?.(callback);
      const done = await get(`${callback.pathname}${callback.search}`, jar);
      keep(jar, done);
      return { status: done.statusCode, location: String(done.headers.location), jar, callback };
    }

    async function lastRefusal(): Promise<{ subject_id: string; rule: string; details: Record<string, unknown> }> {
      const { rows } = await db.query<{ subject_id: string; rule: string; details: unknown }>(
        `SELECT subject_id, rule, details FROM governance_events WHERE action = 'session.login' AND outcome = 'refused' ORDER BY id DESC LIMIT 1`,
      );
      const row = rows[0] ?? assert.fail('no refusal recorded');
      return { ...row, details: (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as Record<string, unknown> };
    }

    test('the login screen learns the methods; the authorization request uses PKCE (S256), state and nonce', async () => {
      const methods = await app.inject({ method: 'GET', url: '/api/auth/methods' });
      assert.deepEqual(methods.json(), { demo: true, password: true, oidc: { label: '社内SSO', loginUrl: '/api/auth/oidc/login' } });
      const start = await app.inject({ method: 'GET', url: '/api/auth/oidc/login' });
      assert.equal(start.statusCode, 303);
      const to = new URL(String(start.headers.location));
      assert.equal(to.origin, idp.issuer);
      assert.equal(to.searchParams.get('response_type'), 'code');
      assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
      assert.match(to.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok((to.searchParams.get('state') ?? '').length >= 32 && (to.searchParams.get('nonce') ?? '').length >= 32);
      assert.equal(to.searchParams.get('redirect_uri'), REDIRECT);
      const cookie = ([] as string[]).concat(start.headers['set-cookie'] ?? []).find((c) => c.startsWith('gw_oidc='));
      assert.match(cookie ?? '', /HttpOnly/i);
      assert.match(cookie ?? '', /SameSite=Lax/i);
      assert.match(cookie ?? '', /Path=\/api\/auth\/oidc\//);
    });

    test('a bound person logs in: session with auth method oidc on the terminal given at the start', async () => {
      const out = await login('kc-0001-takahashi', { terminalId: TERMINALS.CC });
      assert.equal(out.status, 303);
      assert.equal(out.location, '/search');
      const sid = out.jar.get('gw_session');
      assert.ok(sid !== undefined, 'a session cookie');
      assert.equal(out.jar.get('gw_oidc'), undefined, 'the login cookie is cleared');
      const me = await app.inject({ method: 'GET', url: '/api/me', headers: { cookie: `gw_session=${sid}` } });
      assert.equal(me.statusCode, 200, me.body);
      const body = me.json<{ userId: string; authMethod: string; terminalId: string }>();
      assert.deepEqual([body.userId, body.authMethod, body.terminalId], [USERS.callCentre, 'oidc', TERMINALS.CC]);

      // The same callback again (a replayed or leaked redirect): the login it belonged to is spent.
      const again = await get(`${out.callback.pathname}${out.callback.search}`, out.jar);
      assert.equal(again.statusCode, 303);
      assert.equal(again.headers.location, '/?loginError=oidc_no_login_in_progress');
    });

    test('a subject no account is bound to is refused and recorded, never created', async () => {
      const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts')).rows[0]?.n;
      const out = await login('kc-9999-stranger');
      assert.equal(out.location, '/?loginError=oidc_unknown_subject');
      assert.equal(out.jar.get('gw_session'), undefined);
      assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts')).rows[0]?.n, before);
      const r = await lastRefusal();
      assert.deepEqual(
        [r.subject_id, r.rule, r.details['subject'], r.details['method']],
        ['oidc:kc-9999-stranger', 'oidc_unknown_subject', 'kc-9999-stranger', 'oidc'],
      );
    });

    test('a disabled account is refused even though the provider vouches for the person', async () => {
      const out = await login('kc-0002-saito');
      assert.equal(out.location, '/?loginError=oidc_account_disabled');
      assert.equal(out.jar.get('gw_session'), undefined);
      assert.equal((await lastRefusal()).subject_id, USERS.admin2);
    });

    test('a callback whose state differs is refused, and the login it interrupted cannot be finished afterwards', async () => {
      let genuine = '';
      const out = await login('kc-0001-takahashi', {
        alter: (cb) => {
          genuine = cb.search;
          cb.searchParams.set('state', 'forged-state');
        },
      });
      assert.equal(out.location, '/?loginError=oidc_state_mismatch');
      assert.equal(out.jar.get('gw_session'), undefined);
      const retry = await get(`/api/auth/oidc/callback${genuine}`, out.jar);
      assert.equal(retry.headers.location, '/?loginError=oidc_no_login_in_progress');
    });

    test('a callback in a browser that did not start the login (login CSRF) is refused', async () => {
      const out = await login('kc-0001-takahashi');
      assert.equal(out.location, '/search');
      // The attacker's own fresh callback, planted in a victim's browser without the attacker's gw_oidc cookie.
      const jar = new CookieJar();
      const start = await get('/api/auth/oidc/login', jar);
      const callback = await signInAtProvider(String(start.headers.location), 'kc-0001-takahashi');
      const planted = await get(`${callback.pathname}${callback.search}`, new CookieJar());
      assert.equal(planted.headers.location, '/?loginError=oidc_no_login_in_progress');
    });

    test('the person cancelling at the provider comes back as a provider error', async () => {
      const out = await login('kc-0001-takahashi', { abort: true });
      assert.equal(out.callback.searchParams.get('error'), 'access_denied');
      assert.equal(out.location, '/?loginError=oidc_provider_error');
    });

    describe('ID tokens that must be refused (the provider’s answer rewritten in flight)', () => {
      after(() => {
        idp.tamper = null;
      });
      const resign = (change: (c: jose.JWTPayload) => jose.JWTPayload) => async (token: string) => idp.signAsProvider(change(jose.decodeJwt(token)));
      const now = () => Math.floor(Date.now() / 1000);

      test('control: re-signed by the provider’s key with nothing changed, the token is accepted', async () => {
        idp.tamper = resign((c) => c);
        const out = await login('kc-0001-takahashi');
        assert.equal(out.location, '/search', 'the rewriting itself does not break a login, so the refusals below are the checks');
      });

      // Each with the check that must catch it, so a refusal for some other reason does not pass.
      const cases: readonly [string, (token: string) => Promise<string>, RegExp][] = [
        ['expired an hour ago', resign((c) => ({ ...c, iat: now() - 7200, exp: now() - 3600 })), /"exp" \(expiration time\)/],
        ['issued for another client (wrong audience)', resign((c) => ({ ...c, aud: 'another-client' })), /"aud" \(audience\)/],
        ['from another issuer', resign((c) => ({ ...c, iss: 'https://idp.attacker.example' })), /"iss" \(issuer\)/],
        ['for another login (nonce differs)', resign((c) => ({ ...c, nonce: 'replayed-from-elsewhere' })), /"nonce"/],
        ['unsigned (alg none)', async (token) => new jose.UnsecuredJWT(jose.decodeJwt(token)).encode(), /"alg" header/],
        ['signed by a key the provider never published', async (token) => idp.signAsImpostor(jose.decodeJwt(token)), /signature verification failed/],
        [
          'signature bytes altered',
          async (token) => `${token.slice(0, -6)}${token.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`,
          /signature verification failed/,
        ],
      ];
      for (const [what, tamper, check] of cases) {
        test(`refused: ${what}`, async () => {
          idp.tamper = tamper;
          const out = await login('kc-0001-takahashi');
          assert.equal(out.location, '/?loginError=oidc_token_rejected', what);
          assert.equal(out.jar.get('gw_session'), undefined, `${what}: no session`);
          const r = await lastRefusal();
          assert.equal(r.rule, 'oidc_token_rejected');
          assert.match(String(r.details['detail']), check, 'the check that caught it is kept as evidence');
        });
      }
    });

    test('a provider that cannot be reached: the login screen gets oidc_unavailable, nothing breaks', async () => {
      const down: OidcSettings = { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: null, redirectUri: REDIRECT, label: 'SSO', scopes: 'openid' };
      const other = await testApp(db, { oidc: new OidcLogin(down, db) });
      try {
        const res = await other.inject({ method: 'GET', url: '/api/auth/oidc/login' });
        assert.equal(res.statusCode, 303);
        assert.equal(res.headers.location, '/?loginError=oidc_unavailable');
      } finally {
        await other.close();
      }
    });

    test('without an identity provider configured the routes say so', async () => {
      const plain = await testApp(db);
      try {
        assert.equal((await plain.inject({ method: 'GET', url: '/api/auth/methods' })).json().oidc, null);
        const res = await plain.inject({ method: 'GET', url: '/api/auth/oidc/login' });
        assert.equal(res.statusCode, 404);
        assert.equal(res.json().error.code, 'oidc_disabled');
      } finally {
        await plain.close();
      }
    });
  });
}

/**
 * Single sign-on on shared call-centre PCs (issue 19): the terminal comes from the browser's device binding
 * (the SSO link carries none), a shared terminal makes the provider authenticate the person again — and a
 * provider that lets an earlier session through is caught by `auth_time` — and logging out of gridwall sends
 * the browser to the provider's logout.
 */
for (const store of STORES) {
  describe(`single sign-on on shared PCs on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let idp: TestIdentityProvider;
    let plainIdp: TestIdentityProvider;
    const apps: FastifyInstance[] = [];
    let app: FastifyInstance;
    /** Device cookies (`gw_device=…`) of browsers bound to a shared, a personal and an unmarked terminal. */
    let sharedPc = '';
    let personalPc = '';
    let unmarkedPc = '';

    const settings = (issuer: string, reauth?: OidcSettings['reauth']): OidcSettings => ({
      issuer,
      clientId: 'gridwall-test',
      clientSecret: 'a-client-secret-long-enough-for-client-secret-basic',
      redirectUri: REDIRECT,
      label: '社内SSO',
      scopes: 'openid',
      ...(reauth === undefined ? {} : { reauth }),
    });
    const appWith = async (
      oidc: OidcSettings,
      opts: { unknownTerminal?: 'refuse' | 'limit'; terminalClaims?: 'accept' | 'ignore'; trustProxy?: string; terminalProxy?: TerminalProxy } = {},
    ) => {
      const made = await testApp(db, { oidc: new OidcLogin(oidc, db), ...opts });
      apps.push(made);
      return made;
    };
    const bindDevice = async (terminalId: string, secret: string) => {
      await db.query(
        `INSERT INTO terminal_devices (terminal_id, secret_sha256, label, method, enrolled_at, enrolled_by, issued_by, issued_by_person, decision, decided_at, decided_by, decided_by_person)
         VALUES ($1, sha256(convert_to($2, 'UTF8')), 'test', 'browser', $3, $4, $4, 'p-admin', 'confirmed', $3, 'u-admin2', 'p-admin2')`,
        [terminalId, secret, NOW, USERS.admin],
      );
      return `gw_device=${secret}`;
    };

    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      idp = await startIdentityProvider(REDIRECT);
      plainIdp = await startIdentityProvider(REDIRECT, { rpLogout: false });
      await bindOidcSubject(db, USERS.callCentre, idp.issuer, 'kc-0001-takahashi');
      await bindOidcSubject(db, USERS.serviceCentre, plainIdp.issuer, 'kc-0003-sato');
      await db.query(
        `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side, shared) VALUES ('T-CC-S1', 'org-nw', '仙台CC', 'dedicated', 'network', 'network', true)`,
      );
      sharedPc = await bindDevice('T-CC-S1', 'shared-pc-secret-0001');
      // Shared is the default: a PC one person uses is marked personal explicitly.
      await db.query('UPDATE terminals SET shared = false WHERE id = $1', [TERMINALS.CC]);
      personalPc = await bindDevice(TERMINALS.CC, 'personal-pc-secret-0002');
      unmarkedPc = await bindDevice(TERMINALS.NSC, 'unmarked-pc-secret-0003');
      app = await appWith(settings(idp.issuer));
    });
    after(async () => {
      for (const a of apps) await a.close();
      await idp.close();
      await plainIdp.close();
      await dispose();
    });

    /** The authorization request gridwall sends for a browser holding `cookie`, with `query` on the login link. */
    async function authorization(on: FastifyInstance, cookie: string, query = ''): Promise<URL> {
      const start = await on.inject({ method: 'GET', url: `/api/auth/oidc/login${query}`, headers: cookie === '' ? {} : { cookie } });
      assert.equal(start.statusCode, 303, start.body);
      return new URL(String(start.headers.location));
    }

    /** A whole single sign-on from a browser holding `device`; the session cookie when one was opened. */
    async function ssoFrom(on: FastifyInstance, device: string, subject: string): Promise<{ location: string; session: string | undefined }> {
      const jar = new CookieJar();
      if (device !== '') jar.store([device]);
      const start = await on.inject({ method: 'GET', url: '/api/auth/oidc/login', headers: { cookie: jar.header() } });
      // A login that does not go to the provider says why here (a full run under load once met it without a location).
      assert.equal(start.statusCode, 303, start.body);
      jar.store(([] as string[]).concat(start.headers['set-cookie'] ?? []));
      const callback = await signInAtProvider(String(start.headers.location), subject);
      const done = await on.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { cookie: jar.header() } });
      jar.store(([] as string[]).concat(done.headers['set-cookie'] ?? []));
      return { location: String(done.headers.location), session: jar.get('gw_session') };
    }

    test('by default a shared terminal (or an unbound browser, or a claimed terminal) asks the provider to authenticate again; a personal terminal does not', async () => {
      const forced = (u: URL) => [u.searchParams.get('prompt'), u.searchParams.get('max_age')];
      assert.deepEqual(forced(await authorization(app, sharedPc)), ['login', '0']);
      assert.deepEqual(forced(await authorization(app, unmarkedPc)), ['login', '0'], 'a terminal nobody marked personal is shared');
      assert.deepEqual(forced(await authorization(app, '')), ['login', '0'], 'an unbound browser may be a shared PC nobody registered');
      assert.deepEqual(forced(await authorization(app, '', `?terminalId=${TERMINALS.CC}`)), ['login', '0'], 'a typed terminal is only a claim');
      assert.deepEqual(forced(await authorization(app, personalPc)), [null, null]);
      const never = await appWith(settings(idp.issuer, 'never'));
      assert.deepEqual(forced(await authorization(never, sharedPc)), [null, null]);
      const always = await appWith(settings(idp.issuer, 'always'));
      assert.deepEqual(forced(await authorization(always, personalPc)), ['login', '0']);
    });

    test('an SSO login from an enrolled browser carries the enrolled terminal, though the link carries none', async () => {
      const out = await ssoFrom(app, personalPc, 'kc-0001-takahashi');
      assert.equal(out.location, '/search');
      const me = await app.inject({ method: 'GET', url: '/api/me', headers: { cookie: `gw_session=${out.session ?? ''}` } });
      const body = me.json<{ terminalId: string; terminalSource: string; authMethod: string }>();
      assert.deepEqual([body.terminalId, body.terminalSource, body.authMethod], [TERMINALS.CC, 'device', 'oidc']);
    });

    describe('a provider that lets an earlier authentication through on a shared PC', () => {
      after(() => {
        idp.tamper = null;
      });
      const resign = (change: (c: jose.JWTPayload) => jose.JWTPayload) => async (token: string) => idp.signAsProvider(change(jose.decodeJwt(token)));

      test('control: the provider’s own auth_time passes', async () => {
        idp.tamper = resign((c) => c);
        const out = await ssoFrom(app, sharedPc, 'kc-0001-takahashi');
        assert.equal(out.location, '/search');
      });

      for (const [what, change] of [
        ['auth_time an hour before the login', (c: jose.JWTPayload) => ({ ...c, auth_time: Math.floor(NOW.getTime() / 1000) - 3600 })],
        ['no auth_time at all', (c: jose.JWTPayload) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'auth_time'))],
      ] as const) {
        test(`refused: ${what}`, async () => {
          idp.tamper = resign(change);
          const out = await ssoFrom(app, sharedPc, 'kc-0001-takahashi');
          assert.equal(out.location, '/?loginError=oidc_reauth_missing');
          assert.equal(out.session, undefined);
          const { rows } = await db.query<{ rule: string; details: unknown }>(
            `SELECT rule, details FROM governance_events WHERE action = 'session.login' AND outcome = 'refused' ORDER BY id DESC LIMIT 1`,
          );
          const details = (typeof rows[0]?.details === 'string' ? JSON.parse(rows[0].details) : rows[0]?.details) as Record<string, unknown>;
          assert.deepEqual([rows[0]?.rule, details['terminalId'], details['terminalSource']], ['oidc_reauth_missing', 'T-CC-S1', 'device']);
        });
      }
    });

    test('logout sends the browser to the provider’s end_session_endpoint with id_token_hint, client_id, the login page and a state', async () => {
      idp.tamper = null;
      const out = await ssoFrom(app, personalPc, 'kc-0001-takahashi');
      const cookie = `gw_session=${out.session ?? ''}`;
      const me = await app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
      const kept = await db.query<{ oidc_id_token: string | null }>('SELECT oidc_id_token FROM sessions WHERE id = $1', [out.session]);
      assert.ok((kept.rows[0]?.oidc_id_token ?? '') !== '', 'the ID token is kept server-side with the session');
      const res = await app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie, 'x-csrf-token': me.json<{ csrfToken: string }>().csrfToken } });
      assert.equal(res.statusCode, 200, res.body);
      const provider = res.json<{ providerLogout: { kind: string; url: string; state: string } }>().providerLogout;
      assert.equal(provider.kind, 'redirect');
      const url = new URL(provider.url);
      assert.equal(url.origin, idp.issuer);
      assert.equal(url.searchParams.get('client_id'), 'gridwall-test');
      assert.equal(url.searchParams.get('post_logout_redirect_uri'), 'https://gridwall.test/');
      assert.equal(url.searchParams.get('state'), provider.state);
      assert.ok(provider.state.length >= 32);
      const hint = jose.decodeJwt(url.searchParams.get('id_token_hint') ?? '');
      assert.deepEqual([hint.sub, hint.aud, hint.iss], ['kc-0001-takahashi', 'gridwall-test', idp.issuer]);
      const cleared = await db.query<{ oidc_id_token: string | null; ended: boolean }>(
        'SELECT oidc_id_token, ended_at IS NOT NULL AS ended FROM sessions WHERE id = $1',
        [out.session],
      );
      assert.deepEqual(cleared.rows[0], { oidc_id_token: null, ended: true }, 'forgotten when the session ends');
      // The provider accepts that request (a hint it did not issue would be its error page): it goes on to end its session.
      const page = await fetch(url, { redirect: 'manual' });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /action="[^"]*\/session\/end\/confirm"[\s\S]*name="logout" value="yes"/);
      const forged = new URL(url);
      forged.searchParams.set('id_token_hint', await idp.signAsImpostor(hint));
      assert.equal((await fetch(forged, { redirect: 'manual' })).status, 400, 'control: the provider does check the hint');
    });

    test('a provider without an end_session_endpoint: the logout says so instead of pretending', async () => {
      const plain = await appWith(settings(plainIdp.issuer));
      const out = await ssoFrom(plain, personalPc, 'kc-0003-sato');
      assert.equal(out.location, '/search');
      const cookie = `gw_session=${out.session ?? ''}`;
      const csrf = (await plain.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).json<{ csrfToken: string }>().csrfToken;
      const res = await plain.inject({ method: 'DELETE', url: '/api/session', headers: { cookie, 'x-csrf-token': csrf } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { providerLogout: { kind: 'unsupported' } });
    });

    test('behind a trusted reverse proxy (GRIDWALL_TERMINAL_HEADER) an SSO session carries the terminal the proxy asserts, which also decides the re-authentication; the header from anyone else is ignored', async () => {
      const strict = await appWith(settings(idp.issuer), {
        unknownTerminal: 'refuse',
        terminalClaims: 'ignore',
        trustProxy: '10.0.0.5',
        terminalProxy: terminalProxy('x-client-cert-cn', '10.0.0.5'),
      });
      /** A whole single sign-on whose requests to gridwall come from `peer` with the header set to `terminal`. */
      const through = async (peer: string, terminal: string) => {
        const jar = new CookieJar();
        const headers = () => ({ cookie: jar.header(), 'x-client-cert-cn': terminal });
        const start = await strict.inject({ method: 'GET', url: '/api/auth/oidc/login', remoteAddress: peer, headers: headers() });
        assert.equal(start.statusCode, 303, start.body);
        jar.store(([] as string[]).concat(start.headers['set-cookie'] ?? []));
        const authorization = new URL(String(start.headers.location));
        const callback = await signInAtProvider(authorization.href, 'kc-0001-takahashi');
        const done = await strict.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, remoteAddress: peer, headers: headers() });
        jar.store(([] as string[]).concat(done.headers['set-cookie'] ?? []));
        const session = jar.get('gw_session');
        const me = session === undefined ? null : await strict.inject({ method: 'GET', url: '/api/me', headers: { cookie: `gw_session=${session}` } });
        return { prompt: authorization.searchParams.get('prompt'), location: String(done.headers.location), me: me?.json<Record<string, unknown>>() ?? null };
      };
      const personal = await through('10.0.0.5', TERMINALS.CC);
      assert.equal(personal.location, '/search', 'the login is not refused as from an unknown terminal');
      assert.deepEqual(
        [personal.me?.['userId'], personal.me?.['authMethod'], personal.me?.['terminalId'], personal.me?.['terminalSource']],
        [USERS.callCentre, 'oidc', TERMINALS.CC, 'proxy'],
      );
      assert.equal(personal.prompt, null, 'a personal terminal the proxy vouches for is spared the re-authentication');
      const shared = await through('10.0.0.5', 'T-CC-S1');
      assert.deepEqual([shared.prompt, shared.me?.['terminalId'], shared.me?.['terminalSource']], ['login', 'T-CC-S1', 'proxy']);
      const forged = await through('10.0.0.9', TERMINALS.CC);
      assert.deepEqual(
        [forged.prompt, forged.location, forged.me],
        ['login', '/?loginError=unknown_terminal', null],
        'the header set by the client itself names nothing',
      );
    });

    test('GRIDWALL_UNKNOWN_TERMINAL=refuse: an unenrolled browser is refused after the provider, an enrolled one logs in', async () => {
      const strict = await appWith(settings(idp.issuer), { unknownTerminal: 'refuse' });
      const refused = await ssoFrom(strict, '', 'kc-0001-takahashi');
      assert.deepEqual([refused.location, refused.session], ['/?loginError=unknown_terminal', undefined]);
      const ok = await ssoFrom(strict, sharedPc, 'kc-0001-takahashi');
      assert.equal(ok.location, '/search');
      const me = await strict.inject({ method: 'GET', url: '/api/me', headers: { cookie: `gw_session=${ok.session ?? ''}` } });
      assert.deepEqual([me.json().terminalId, me.json().terminalSource], ['T-CC-S1', 'device']);
    });
  });
}
