import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import { bindOidcSubject, OidcLogin } from '../../src/identity/oidc.ts';
import { decideDevice, issueEnrollmentCode } from '../../src/identity/terminal-devices.ts';
import type { Db } from '../../src/store/db.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { SP, TERMINALS, USERS, seedFixture } from '../support/fixture.ts';
import { startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.ts';
import { STORES } from '../support/stores.ts';

/**
 * Single sign-on on a shared call-centre PC, in Chromium against the real oidc-provider (issue 19): with
 * GRIDWALL_UNKNOWN_TERMINAL=refuse an unenrolled browser is refused with a Japanese explanation; a one-time
 * code entered on the login screen binds the browser to its terminal, which the SSO session then carries;
 * logging out of gridwall logs out of the provider, so pressing SSO again asks for credentials and the next
 * person logs in as themselves; and on a shared terminal (the default) the provider is asked to authenticate
 * again (prompt=login) even when the previous person left its session alive.
 */

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('single sign-on on a shared PC in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;
  let idp: TestIdentityProvider;
  let base = '';

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startIdentityProvider(`${base}/api/auth/oidc/callback`, { postLogoutRedirectUris: [`${base}/`] });
    await bindOidcSubject(db, USERS.callCentre, idp.issuer, 'kc-0001-takahashi');
    await bindOidcSubject(db, USERS.serviceCentre, idp.issuer, 'kc-0003-sato');
    // Marked personal (terminals are shared by default), so that the provider's remembered session shows what
    // the provider logout is for; on a shared terminal prompt=login would hide it.
    await db.query('UPDATE terminals SET shared = false WHERE id = $1', [TERMINALS.CC]);
    const oidc = new OidcLogin(
      {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUri: `${base}/api/auth/oidc/callback`,
        postLogoutRedirectUri: `${base}/`,
        label: '社内SSO',
        scopes: 'openid',
      },
      db,
    );
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR, oidc, unknownTerminal: 'refuse' }), port);
  });
  after(async () => {
    await ui?.close();
    await idp?.close();
    await dispose?.();
  });

  /** At the provider's development screens: log in as `subject` (and consent) until the browser is back at gridwall. */
  async function atProvider(page: Page, subject: string): Promise<{ askedForCredentials: boolean }> {
    let asked = false;
    for (let step = 0; step < 6 && new URL(page.url()).origin === idp.issuer; step++) {
      if ((await page.$('input[name="login"]')) !== null) {
        asked = true;
        await page.fill('input[name="login"]', subject);
        await page.fill('input[name="password"]', 'any password');
      }
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    }
    assert.equal(new URL(page.url()).origin, base, 'back at gridwall');
    return { askedForCredentials: asked };
  }

  /** Presses the SSO button; returns whether the provider asked for credentials. */
  async function pressSso(page: Page, subject: string): Promise<{ askedForCredentials: boolean }> {
    await Promise.all([page.waitForURL((u) => u.origin === idp.issuer || u.pathname === '/search'), page.click('[data-testid="sso"]')]);
    if (new URL(page.url()).origin !== idp.issuer) return { askedForCredentials: false };
    return atProvider(page, subject);
  }

  const me = (page: Page) =>
    page.evaluate(async () => {
      const r = await fetch('/api/me');
      return (await r.json()) as { userId: string; terminalId: string | null; terminalSource: string | null; authMethod: string };
    });

  test('unenrolled: refused in Japanese; enrolled by code: the session carries the terminal; logout ends the provider session too', async () => {
    const { context, page } = await ui.open();
    try {
      await page.waitForSelector('[data-testid="device"]');
      assert.match((await page.textContent('[data-testid="device"]')) ?? '', /端末として登録されていません/);

      // (c) An unenrolled browser: the provider lets the person in, gridwall refuses the terminal and says why.
      await pressSso(page, 'kc-0001-takahashi');
      await page.waitForSelector('[data-login-error="unknown_terminal"]');
      assert.match((await page.textContent('[data-login-error="unknown_terminal"]')) ?? '', /アクセス管理で端末として登録されていない/);
      await screenshot(page, '60-sso-unenrolled-refused');

      // Someone at the PC enters the one-time code access administration issued for the call centre's terminal.
      const issued = await issueEnrollmentCode(db, { kind: 'person', userId: USERS.admin, personId: 'p-admin' }, TERMINALS.CC, 30, new Date());
      await page.click('[data-testid="device-enroll"] summary');
      await page.fill('input[name="enrollmentCode"]', issued.code.toLowerCase().replace(/-/g, ' '));
      await page.click('[data-testid="device-enroll"] button[type="submit"]');
      await page.waitForSelector('[data-testid="device-enrolled"]');
      // The call centre's terminal opens network-only data: the binding waits for a second access administrator.
      await page.waitForSelector(`[data-testid="device"][data-terminal="${TERMINALS.CC}"][data-pending="true"]`);
      assert.match((await page.textContent('[data-testid="device"]')) ?? '', /別のアクセス管理者の確認待ち/);
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM terminal_devices WHERE terminal_id = $1 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1',
        [TERMINALS.CC],
      );
      await decideDevice(db, { kind: 'person', userId: USERS.admin2, personId: 'p-admin2' }, Number(rows[0]?.id), 'confirmed', null, new Date());
      await page.reload();
      await page.waitForSelector(`[data-testid="device"][data-terminal="${TERMINALS.CC}"][data-pending="false"]`);

      // The provider still has the first person's session: without a provider logout, SSO goes straight through.
      const first = await pressSso(page, 'kc-0001-takahashi');
      await page.waitForURL((u) => u.pathname === '/search');
      assert.equal(first.askedForCredentials, false, 'the provider remembered the person: this is what a shared PC must not keep');
      const m1 = await me(page);
      assert.deepEqual([m1.userId, m1.authMethod, m1.terminalId, m1.terminalSource], [USERS.callCentre, 'oidc', TERMINALS.CC, 'device']);
      // The access log records the enrolled terminal for a read of this session.
      const requestId = await page.evaluate(
        async (sp) => (await fetch(`/api/supply-points/${sp}?purpose=customer_inquiry`)).headers.get('x-request-id'),
        SP.OWN_A,
      );
      const logged = await db.query<{ terminal_id: string }>('SELECT terminal_id FROM access_log WHERE request_id = $1', [requestId]);
      assert.deepEqual(
        logged.rows.map((r) => r.terminal_id),
        [TERMINALS.CC],
      );

      // (a) Log out: gridwall sends the browser to the provider's logout, which comes back to the login screen.
      await Promise.all([page.waitForURL((u) => u.origin === idp.issuer), page.getByRole('button', { name: 'ログアウト', exact: true }).click()]);
      for (let step = 0; step < 4 && new URL(page.url()).origin === idp.issuer; step++) {
        const yes = await page.$('button[value="yes"]');
        if (yes !== null) await Promise.all([page.waitForNavigation(), yes.click()]);
        else await page.waitForNavigation();
      }
      await page.waitForSelector('[data-testid="provider-logout"][data-notice="ssoLoggedOut"]');
      assert.match((await page.textContent('[data-testid="provider-logout"]')) ?? '', /シングルサインオンの両方からログアウト/);
      assert.equal(new URL(page.url()).search, '', 'the state is checked and taken off the address');
      await screenshot(page, '61-sso-logged-out');

      // The next person presses SSO: the provider asks for credentials, and they log in as themselves.
      const second = await pressSso(page, 'kc-0003-sato');
      assert.equal(second.askedForCredentials, true, 'the provider asked for credentials again');
      await page.waitForURL((u) => u.pathname === '/search');
      const m2 = await me(page);
      assert.deepEqual([m2.userId, m2.terminalId, m2.terminalSource], [USERS.serviceCentre, TERMINALS.CC, 'device']);
    } finally {
      await context.close();
    }
  });

  test('a shared terminal (the default): the next person who presses SSO is asked for credentials though the provider still holds the previous person’s session, and the session is theirs', async () => {
    // A browser bound to the NSC's terminal, which nobody marked personal: shared, as every terminal is by default.
    const secret = 'shared-terminal-browser-0001';
    await db.query(
      `INSERT INTO terminal_devices (terminal_id, secret_sha256, label, method, enrolled_at, enrolled_by, issued_by, issued_by_person, decision, decided_at, decided_by, decided_by_person)
       VALUES ($1, sha256(convert_to($2, 'UTF8')), 'shared PC', 'browser', now(), $3, $3, 'p-admin', 'confirmed', now(), $4, 'p-admin2')`,
      [TERMINALS.NSC, secret, USERS.admin, USERS.admin2],
    );
    const shared = await db.query<{ shared: boolean }>('SELECT shared FROM terminals WHERE id = $1', [TERMINALS.NSC]);
    assert.deepEqual(shared.rows, [{ shared: true }]);
    const { context, page } = await ui.open();
    try {
      await context.addCookies([{ name: 'gw_device', value: secret, domain: '127.0.0.1', path: '/api/', httpOnly: true, secure: true, sameSite: 'Strict' }]);
      await page.reload();
      await page.waitForSelector(`[data-testid="device"][data-terminal="${TERMINALS.NSC}"][data-pending="false"]`);

      const first = await pressSso(page, 'kc-0001-takahashi');
      await page.waitForURL((u) => u.pathname === '/search');
      assert.equal(first.askedForCredentials, true);
      const a = await me(page);
      assert.deepEqual([a.userId, a.authMethod, a.terminalId, a.terminalSource], [USERS.callCentre, 'oidc', TERMINALS.NSC, 'device']);

      // The first person leaves without the provider's logout: only gridwall's session ends.
      const ended = await page.evaluate(async () => {
        const { csrfToken } = (await (await fetch('/api/me')).json()) as { csrfToken: string };
        return (await fetch('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } })).status;
      });
      assert.equal(ended, 200);
      assert.ok(
        (await context.cookies(idp.issuer)).some((c) => c.name === '_session'),
        'the provider still holds the first person’s session in this browser',
      );
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-testid="sso"]');

      // The next person presses SSO on the same browser: prompt=login makes the provider ask for credentials.
      const second = await pressSso(page, 'kc-0003-sato');
      assert.equal(second.askedForCredentials, true, 'the provider showed its login form, not the previous person’s session');
      await page.waitForURL((u) => u.pathname === '/search');
      const b = await me(page);
      assert.deepEqual([b.userId, b.authMethod, b.terminalId, b.terminalSource], [USERS.serviceCentre, 'oidc', TERMINALS.NSC, 'device']);
    } finally {
      await context.close();
    }
  });
});
