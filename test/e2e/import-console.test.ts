import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { REGISTER_FILES } from '../../src/domain/register-import.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { USERS, seedFixture, seedPersonas } from '../support/fixture.ts';
import { expectedRows, legacyRegisters } from '../support/legacy-registers.ts';
import { STORES } from '../support/stores.ts';

/**
 * 既存台帳の取り込み on the people page in Chromium (issue 20): access administration uploads the four
 * registers (staff in CP932), sees the dry run — counts, and every row not imported by file and line with its
 * rule in Japanese — with nothing changed, then imports.
 */
describe('the legacy registers uploaded in the console (Chromium)', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let ui: ConsoleHarness;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db, ['admin']);
    app = await testApp(db, { consoleDir: CONSOLE_DIR });
    ui = await startConsole(app);
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });

  test('upload, dry run (nothing changed, rows not imported by line in Japanese), then import', async () => {
    const { context, page } = await ui.as(USERS.admin);
    try {
      await page.goto(`${ui.base}/people`);
      await page.waitForSelector('[data-testid="import-panel"]');
      const files = legacyRegisters();
      for (const f of REGISTER_FILES)
        await page.setInputFiles(`[data-testid="import-file-${f}"]`, { name: `${f}.csv`, mimeType: 'text/csv', buffer: files[f] });
      await page.click('[data-testid="import-dry-run"]');
      await page.waitForSelector('[data-testid="import-report"][data-dry-run="true"]');
      const notImported = expectedRows().filter((r) => r.outcome === 'refused' || r.outcome === 'rejected');
      assert.equal(await page.locator('[data-testid="import-not-imported"] tbody tr').count(), notImported.length);
      const row = (await page.textContent('[data-testid="import-not-imported"] tr[data-row="staff:7"]')) ?? '';
      assert.match(row, /staff\.csv\s*7\s*u-imp5\s*不正な行\s*gridwall に登録されていない組織です/);
      const grant = (await page.textContent('[data-testid="import-not-imported"] tr[data-row="grants:3"]')) ?? '';
      assert.match(grant, /ルールにより拒否\s*この所属区分には与えられない権限/);
      assert.equal(await page.textContent('[data-testid="import-counts"] tr[data-file="total"] td[data-outcome="requested"]'), '3');
      const persons = async () => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM persons WHERE id LIKE 'p-imp%'`)).rows[0]?.n);
      assert.equal(await persons(), 0, 'the dry run changed nothing');
      await screenshot(page, '80-import-dry-run');

      await page.click('[data-testid="import-apply"]');
      await page.waitForSelector('[data-testid="import-report"][data-dry-run="false"]');
      assert.match((await page.textContent('[data-testid="import-summary"]')) ?? '', /取り込みました：新規 4、更新 0、承認待ち 3/);
      assert.equal(await persons(), 3);
      // The imported people are in the accounts table above the panel.
      await page.waitForSelector('[data-testid="accounts"] tr[data-user="u-imp1"]');
    } finally {
      await context.close();
    }
  });
});
