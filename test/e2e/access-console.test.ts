import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { STORES } from '../support/stores.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { TERMINALS, USERS, seedFixture, seedPersonas } from '../support/fixture.ts';

/**
 * The access-governance screens in Chromium against the real server: requests refused by the rule that
 * forbids them, approval by a second person through the queue, the terminal reconciliation, tokens shown
 * once, the governance log, and the login screen's methods.
 */
describe('access-governance screens in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db, ['cc', 'retail', 'comp', 'admin']);
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR }));
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });
  const as = (userId: string) => ui.as(userId);

  async function requestGrant(page: Page, g: { userId?: string; permissionId: string; reason: string }): Promise<void> {
    await page.click('nav a[href="/grants"]');
    await page.waitForSelector('[data-testid="grant-request"]');
    if (g.userId !== undefined) await page.fill('input[name="userId"]', g.userId);
    await page.selectOption('select[name="permissionId"]', g.permissionId);
    await page.fill('input[name="reason"]', g.reason);
    await page.click('[data-testid="grant-request"] button[type="submit"]');
  }

  test('the login screen offers the password form beside the personas, and explains a refused single sign-on', async () => {
    const { context, page } = await ui.open({ path: '/?loginError=oidc_unknown_subject' });
    try {
      await page.waitForSelector('[data-testid="password-login"]');
      assert.match((await page.textContent('[data-login-error="oidc_unknown_subject"]')) ?? '', /対応するアカウントがありません/);
      assert.equal(await page.$('[data-testid="sso"]'), null, 'no identity provider configured: no SSO button');
      await page.fill('input[name="userId"]', USERS.callCentre);
      await page.fill('input[name="password"]', 'not-the-password-at-all');
      await page.fill('input[name="code"]', '123456');
      await page.click('[data-testid="password-login"] button[type="submit"]');
      await page.waitForSelector('[role="alert"][data-error-code="login_failed"]');
      await screenshot(page, '30-login-methods');
    } finally {
      await context.close();
    }
  });

  test('a retail person asking for a network-only permission is refused by the rule that names it', async () => {
    const { context, page } = await as(USERS.retail);
    try {
      await requestGrant(page, { permissionId: 'network.equipment', reason: '設備情報を見たい' });
      await page.waitForSelector('[data-testid="refusal-rule"][data-rule="side_not_allowed"]');
      assert.match((await page.textContent('[data-testid="allowed-sides"]')) ?? '', /送配電/, 'the side in words (issue 20), not its code');
      const nav = await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
      assert.ok(!nav.includes('/grants/queue') && !nav.includes('/people') && !nav.includes('/tokens'), nav.join(' '));
      await screenshot(page, '31-grant-refused');
    } finally {
      await context.close();
    }
  });

  test('a request waits for a second person: the requester cannot approve it, an approver in scope can', async () => {
    let grantId: string;
    {
      const { context, page } = await as(USERS.admin);
      try {
        await requestGrant(page, { userId: USERS.callCentre, permissionId: 'audit.read', reason: '苦情調査のため' });
        await page.waitForSelector(`tr[data-user="${USERS.callCentre}"][data-permission="audit.read"][data-status="requested"]`);
        grantId = (await page.getAttribute(`tr[data-user="${USERS.callCentre}"][data-permission="audit.read"][data-status="requested"]`, 'data-grant')) ?? '';
        await page.click('nav a[href="/grants/queue"]');
        await page.click(`tr[data-grant="${grantId}"] >> text=承認する`);
        await page.waitForSelector('[data-testid="refusal-rule"][data-rule="self_approval"]');
      } finally {
        await context.close();
      }
    }
    const { context, page } = await as(USERS.compliance);
    try {
      await page.click('nav a[href="/grants/queue"]');
      await page.fill(`tr[data-grant="${grantId}"] input`, '確認しました');
      await page.click(`tr[data-grant="${grantId}"] >> text=承認する`);
      await page.waitForSelector(`tr[data-grant="${grantId}"]`, { state: 'detached' });
      const { rows } = await db.query<{ status: string; decided_by: string }>('SELECT status, decided_by FROM grants WHERE id = $1', [Number(grantId)]);
      assert.deepEqual(rows[0], { status: 'approved', decided_by: USERS.compliance });
      await page.click('nav a[href="/governance"]');
      await page.waitForSelector('tr[data-action="grant.approve"][data-outcome="refused"]');
      await page.waitForSelector('tr[data-action="grant.approve"][data-outcome="done"]');
      await screenshot(page, '32-governance-log');
    } finally {
      await context.close();
    }
  });

  test('terminals: the misplaced network-set terminal is in the reconciliation; tokens are shown once and revocable', async () => {
    const { context, page } = await as(USERS.admin);
    try {
      await page.click('nav a[href="/terminals"]');
      await page.waitForSelector(`[data-testid="reconciliation"] tr[data-terminal="${TERMINALS.MISPLACED}"][data-misplaced="true"]`);
      assert.equal(await page.$(`[data-testid="reconciliation"] tr[data-terminal="${TERMINALS.CC}"][data-misplaced="true"]`), null);
      await screenshot(page, '33-terminals');

      await page.click('nav a[href="/tokens"]');
      // A token is for a system: first its service account (nobody logs in as it), answered for by a person.
      await page.fill('input[name="serviceUser"]', 'svc-mirai');
      await page.fill('input[name="serviceName"]', 'みらいでんき 顧客システム');
      await page.fill('input[name="serviceOrg"]', 'org-r0002');
      await page.fill('input[name="serviceOwner"]', 'p-other');
      await page.click('form.panel:has(input[name="serviceUser"]) button[type="submit"]');
      await page.waitForSelector('text=サービスアカウント svc-mirai を作成しました。');
      await page.fill('input[name="tokenUser"]', 'svc-mirai');
      await page.fill('input[name="tokenName"]', 'みらいでんき 顧客照会連携');
      await page.click('form.panel:has(input[name="tokenUser"]) button[type="submit"]');
      const secret = (await page.textContent('[data-testid="token-secret"]')) ?? '';
      assert.match(secret, /^gw_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      const { rows } = await db.query<{ id: string; secret_sha256: string }>('SELECT id, secret_sha256 FROM api_tokens');
      assert.equal(rows.length, 1);
      // The secret part may itself contain '_' (base64url): take everything after the 12-character id.
      const secretPart = secret.slice('gw_'.length + 12 + 1);
      assert.equal(secretPart.length, 43);
      assert.ok(!JSON.stringify(rows).includes(secretPart), 'only the hash is stored');
      await page.waitForSelector(`tr[data-token="${rows[0]?.id ?? ''}"] [data-testid="token-status"]:has-text("pending")`);
      // The requester's own approval is refused by the server, and the refusal is shown.
      await page.click(`tr[data-token="${rows[0]?.id ?? ''}"] >> button:has-text("承認")`);
      await page.waitForSelector('[role="alert"]');
      assert.equal((await db.query<{ status: string }>('SELECT status FROM api_tokens')).rows[0]?.status, 'pending');
      await page.click(`tr[data-token="${rows[0]?.id ?? ''}"] >> text=取り消す`);
      await page.waitForSelector(`tr[data-token="${rows[0]?.id ?? ''}"] >> text=失効`);

      await page.click('nav a[href="/people"]');
      await page.click('text=長期未使用のアカウントを確認（変更なし）');
      await page.waitForSelector('[data-testid="sweep-preview"]');
      const disabled = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts WHERE disabled_at IS NOT NULL');
      assert.equal(disabled.rows[0]?.n, 0, 'the preview changes nothing');
    } finally {
      await context.close();
    }
  });
});
