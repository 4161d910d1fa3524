import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { FIXTURE_PERSONAS, TERMINALS, USERS, seedFixture } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';

/**
 * A browser bound to a network-site terminal counts only once a second access administrator confirms it
 * (issue 19, docs/SECURITY.md "No widening by one person"), on the 端末 screen in Chromium: the administrator
 * who registered it sees it waiting without a confirm button; a second administrator confirms it there.
 */
describe('device bindings awaiting a second access administrator in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    const admin = FIXTURE_PERSONAS.find((p) => p.key === 'admin') ?? assert.fail('admin persona');
    const admin2 = { ...admin, key: 'admin2', userId: USERS.admin2, name: '斎藤 十和' };
    await ownerOf(db).query(`INSERT INTO settings (key, value) VALUES ('demo_personas', $1::jsonb)`, [JSON.stringify([admin, admin2])]);
    await db.query(
      `INSERT INTO grants (user_id, permission_id, scope_organization_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
       VALUES ('u-admin2', 'access.admin', NULL, 'approved', 'アクセス管理（第二）', 'u-admin2', 'p-admin2', '2019-04-01', 'u-admin', 'p-admin', '2019-04-01', '2027-04-01')`,
    );
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR }));
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });

  test('registered by one administrator it waits; the same one cannot confirm it; a second one does', async () => {
    const first = await ui.as(USERS.admin);
    try {
      await first.page.click('nav a[href="/terminals"]');
      await first.page.waitForSelector('[data-testid="devices-pending-none"]');
      await first.page.click(`[data-testid="terminals"] tr[data-terminal="${TERMINALS.CC}"] [data-action="enroll-browser"]`);
      await first.page.waitForSelector('[data-testid="browser-enrolled"]');
      assert.match((await first.page.textContent('[data-testid="browser-enrolled"]')) ?? '', /別のアクセス管理者が確認するまで有効になりません/);
      const row = `[data-testid="devices-pending"] tr[data-terminal="${TERMINALS.CC}"]`;
      await first.page.waitForSelector(row);
      assert.equal(await first.page.$(`${row} [data-action="confirm-device"]`), null, 'no confirm for the one who registered it');
      assert.ok((await first.page.$(`${row} [data-action="reject-device"]`)) !== null);
      await screenshot(first.page, '62-device-awaiting-confirmation');
    } finally {
      await first.context.close();
    }

    const second = await ui.as(USERS.admin2);
    try {
      await second.page.click('nav a[href="/terminals"]');
      const button = `[data-testid="devices-pending"] tr[data-terminal="${TERMINALS.CC}"] [data-action="confirm-device"]`;
      await second.page.waitForSelector(button);
      await second.page.click(button);
      await second.page.waitForSelector('[data-testid="devices-pending-none"]');
    } finally {
      await second.context.close();
    }
    const { rows } = await db.query<{ decision: string; decided_by: string; issued_by: string }>(
      'SELECT decision, decided_by, issued_by FROM terminal_devices WHERE terminal_id = $1',
      [TERMINALS.CC],
    );
    assert.deepEqual(rows, [{ decision: 'confirmed', decided_by: USERS.admin2, issued_by: USERS.admin }]);
    const events = await db.query<{ outcome: string; actor_user_id: string }>(
      `SELECT outcome, actor_user_id FROM governance_events WHERE action = 'terminal.device_confirm' ORDER BY id`,
    );
    assert.deepEqual(events.rows, [{ outcome: 'done', actor_user_id: USERS.admin2 }]);
  });
});
