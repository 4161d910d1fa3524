import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { login, testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { FIXTURE_PERSONAS, USERS, seedFixture } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';

/**
 * A network-set terminal at a retail site is written only once a second access administrator approves it with
 * a reason (issue 20), on the 端末 screen in Chromium: the administrator who asked sees the request with its
 * reason and no approve button; a second administrator gives a reason and approves it, and the terminal is in
 * the registry, misplaced first in the reconciliation.
 */
describe('terminal registrations awaiting a second access administrator in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
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
    app = await testApp(db, { consoleDir: CONSOLE_DIR });
    ui = await startConsole(app);
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });

  test('asked by one administrator it waits with its reason; the same one cannot approve it; a second one approves it with a reason', async () => {
    const asker = await login(app, USERS.admin);
    const put = await app.inject({
      method: 'PUT',
      url: '/api/terminals/T20001',
      headers: { cookie: asker.cookie, 'x-csrf-token': asker.csrf },
      payload: {
        organizationId: 'org-a0001',
        office: '仙台営業所',
        kind: 'dedicated',
        setting: 'network',
        siteSide: 'retail',
        reason: '託送システム端末の移設',
      },
    });
    assert.equal(put.statusCode, 202, put.body);
    const row = '[data-testid="terminal-requests"] tr[data-terminal="T20001"]';

    const first = await ui.as(USERS.admin);
    try {
      await first.page.click('nav a[href="/terminals"]');
      await first.page.waitForSelector(row);
      const text = (await first.page.textContent(row)) ?? '';
      assert.match(text, /新規登録/);
      assert.match(text, /送配電設定 \/ 小売側の拠点/);
      assert.match(text, /託送システム端末の移設/);
      assert.equal(await first.page.$(`${row} [data-action="approve-terminal-request"]`), null, 'no approve for the one who asked');
      assert.ok((await first.page.$(`${row} [data-testid="terminal-request-own"]`)) !== null);
      assert.equal(await first.page.$('[data-testid="terminals"] tr[data-terminal="T20001"]'), null, 'not in the registry yet');
      await screenshot(first.page, '70-terminal-request-awaiting-approval');
    } finally {
      await first.context.close();
    }

    const second = await ui.as(USERS.admin2);
    try {
      await second.page.click('nav a[href="/terminals"]');
      const approve = `${row} [data-action="approve-terminal-request"]`;
      await second.page.waitForSelector(approve);
      assert.equal(await second.page.isDisabled(approve), true, 'no approval without a reason');
      await second.page.fill(`${row} [data-field="decision-reason"]`, '棚卸で設置場所を確認済み');
      await second.page.click(approve);
      await second.page.waitForSelector('[data-testid="terminal-requests-none"]');
      assert.match((await second.page.textContent('[data-testid="terminal-request-decided"]')) ?? '', /T20001/);
      await second.page.waitForSelector('[data-testid="terminals"] tr[data-terminal="T20001"][data-misplaced="true"]');
      // The reconciliation puts misplaced terminals first.
      const flags = await second.page.$$eval('[data-testid="reconciliation"] tbody tr', (rows) => rows.map((r) => r.getAttribute('data-misplaced')));
      assert.ok(flags.includes('true'));
      assert.deepEqual(flags, [...flags].sort().reverse(), 'misplaced rows before the others');
    } finally {
      await second.context.close();
    }
    const { rows } = await db.query<{ status: string; decided_by: string; decision_reason: string }>(
      `SELECT status, decided_by, decision_reason FROM terminal_requests WHERE terminal_id = 'T20001'`,
    );
    assert.deepEqual(rows, [{ status: 'approved', decided_by: USERS.admin2, decision_reason: '棚卸で設置場所を確認済み' }]);
  });
});
