import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { STORES } from '../support/stores.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { USERS, seedFixture, seedPersonas } from '../support/fixture.ts';

/**
 * 職務分離のルール in Chromium (issue 20): the grants screen lists the rules with their reasons and what policy
 * enforces, in Japanese; a request the catalog forbids is refused with the rule named in words.
 */
describe('separation of duties on the console in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db, ['comp', 'admin']);
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR }));
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });

  test('compliance sees the rules in Japanese, and asking for access administration is refused naming separation of duties', async () => {
    const { context, page } = await ui.as(USERS.compliance);
    try {
      await page.goto(`${ui.base}/grants`);
      await page.waitForSelector('[data-testid="separation-rules"] tr[data-pair="audit_and_access_admin"]');
      assert.match((await page.textContent('[data-testid="separation-rules"] h2')) ?? '', /職務分離のルール/);
      const pair = (await page.textContent('tr[data-pair="audit_and_access_admin"]')) ?? '';
      assert.match(pair, /アクセスログの閲覧（audit\.read）/);
      assert.match(pair, /人・端末・棚卸の管理（access\.admin）/);
      assert.match(pair, /監査の独立性/);
      assert.match(pair, /適用中/);
      assert.match((await page.textContent('tr[data-pair="approve_and_declare"]')) ?? '', /適用しない/);
      assert.match((await page.textContent('tr[data-pair="reciprocal_approval"]')) ?? '', /相互承認（90日以内）/);

      await page.selectOption('select[name="permissionId"]', 'access.admin');
      await page.fill('input[name="reason"]', 'アクセス管理を兼務するため');
      await page.click('[data-testid="grant-request"] button[type="submit"]');
      await page.waitForSelector('[data-testid="refusal-rule"][data-rule="incompatible_permissions"]');
      assert.match((await page.textContent('[data-testid="refusal-rule"]')) ?? '', /職務分離：この人がすでに持つ/);
      await screenshot(page, '60-separation-of-duties');
    } finally {
      await context.close();
    }
  });
});
