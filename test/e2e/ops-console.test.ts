import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { STORES } from '../support/stores.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { NOW, SP, USERS, seedEmergencyRoles, seedFixture, seedPersonas } from '../support/fixture.ts';

/** A `datetime-local` value in Japan time, hours from the fixture's NOW (the server's clock). */
const local = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000 + 9 * 3_600_000).toISOString().slice(0, 16);

/**
 * The emergency and analysis screens in Chromium, against the real server: a declaration confirmed by a
 * second person, the banner, an emergency look-up that first asks its reason, the review and sign-off, the
 * regulator's report and the findings queue.
 */
describe('emergency and analysis screens in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;
  let base: string;
  let now = NOW;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db, ['cc', 'nsc', 'retail', 'comp', 'admin']);
    await seedEmergencyRoles(db);
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR, now: () => now }));
    base = ui.base;
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });
  const as = (userId: string, purpose?: string) => ui.as(userId, purpose);

  // One emergency through the screens, in order: registration, declaration and confirmation, a look-up under
  // it, then the review after it — each step stands on the one before, so they are steps of one test.
  test('an emergency through the screens, step by step', async (t) => {
    await t.test('the access administrator registers support staff; a registration beyond contact fields is impossible from the screen', async () => {
      const { context, page } = await as(USERS.admin);
      try {
        await page.click('nav a[href="/emergencies"]');
        await page.waitForSelector('[data-testid="support-staff"]');
        const offered = await page.$$eval('[data-testid="support-staff"] input[name="fields"]', (xs) =>
          xs.map((x) => (x as unknown as { value: string }).value),
        );
        assert.deepEqual(offered.sort(), ['address', 'holder_name', 'phone'], 'only outage-contact fields are offered');
        await page.fill('input[name="personId"]', 'p-retail');
        await page.uncheck('input[name="fields"][value="address"]');
        await page.click('[data-testid="support-staff"] button[type="submit"]');
        await page.waitForSelector('[data-testid="support-staff"] tr[data-person="p-retail"]');
        const { rows } = await db.query<{ fields: unknown }>(`SELECT fields FROM emergency_support_staff WHERE person_id = 'p-retail' AND valid_to IS NULL`);
        assert.deepEqual(String(rows[0]?.fields).replace(/[{}]/g, '').split(',').sort(), ['holder_name', 'phone']);
      } finally {
        await context.close();
      }
    });

    await t.test('a declaration waits for a second person; the declarer is not offered to confirm it; once confirmed, everyone sees the banner', async () => {
      let id: string;
      {
        const { context, page } = await as(USERS.callCentre);
        try {
          await page.click('nav a[href="/emergencies"]');
          await page.waitForSelector('[data-testid="declare-form"]');
          await page.selectOption('select[name="areaKind"]', 'municipality');
          await page.fill('input[name="areaValue"]', '宮城県');
          await page.fill('input[name="areaCity"]', '仙台市青葉区');
          await page.click('text=地域を追加');
          await page.fill('input[name="startsAt"]', local(-1));
          await page.fill('input[name="plannedEndAt"]', local(10));
          await page.fill('input[name="reason"]', '台風による停電');
          await page.click('[data-testid="declare-form"] button[type="submit"]');
          await page.waitForSelector('tr[data-state="pending"]');
          id = (await page.getAttribute('tr[data-state="pending"]', 'data-id')) ?? '';
          assert.match(id, /^EM-\d{5}$/);
          assert.equal(await page.$(`[data-testid="actions-${id}"] >> text=確認して有効にする`), null, 'the declarer cannot confirm their own declaration');
          await screenshot(page, '20-emergency-pending');
        } finally {
          await context.close();
        }
      }
      {
        const { context, page } = await as(USERS.serviceCentre);
        try {
          await page.click('nav a[href="/emergencies"]');
          await page.click(`[data-testid="actions-${id}"] >> text=確認して有効にする`);
          await page.waitForSelector(`tr[data-id="${id}"][data-state="active"]`);
          await page.waitForSelector('[data-testid="emergency-banner"]');
        } finally {
          await context.close();
        }
      }
      const { context, page } = await as(USERS.retail, 'emergency_support');
      try {
        const banner = await page.textContent('[data-testid="emergency-banner"]');
        assert.match(banner ?? '', new RegExp(`非常災害宣言中.*${id}.*仙台市青葉区`));
        assert.match(banner ?? '', /支援要員として登録されています/);
        await screenshot(page, '21-emergency-banner');
      } finally {
        await context.close();
      }
    });

    await t.test('an emergency-support look-up asks its reason first, then shows only the registered contact fields', async () => {
      const { context, page } = await as(USERS.retail, 'emergency_support');
      try {
        await page.goto(`${base}/records/${SP.SWITCHED}?purpose=emergency_support`);
        await page.waitForSelector('form.reason input[name="reason"]');
        const before = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_log WHERE purpose = 'emergency_support'`)).rows[0]?.n;
        assert.equal(before, 0, 'nothing was read before the reason was given');
        await page.fill('form.reason input[name="reason"]', '停電復旧見込みの連絡');
        await page.click('form.reason button[type="submit"]');
        await page.waitForSelector('table.record');
        assert.ok((await page.$('tr[data-field="holder_name"] [data-shown]')) !== null, 'holder name shown');
        assert.ok((await page.$('tr[data-field="phone"] [data-shown]')) !== null, 'phone shown');
        assert.ok((await page.$('tr[data-field="usage"] [data-masked]')) !== null);
        assert.match((await page.textContent('[data-testid="stated-reason"]')) ?? '', /停電復旧見込みの連絡/);
        const { rows } = await db.query<{ emergency_id: string | null; query: unknown }>(
          `SELECT emergency_id, query FROM access_log WHERE purpose = 'emergency_support' AND outcome = 'served'`,
        );
        assert.equal(rows.length, 1);
        assert.match(rows[0]?.emergency_id ?? '', /^EM-/);
        await screenshot(page, '22-emergency-read');
        // Outside the area (Morioka): refused, explained, logged.
        await page.goto(`${base}/records/${SP.R3}?purpose=emergency_support&reason=${encodeURIComponent('確認')}`);
        await page.waitForSelector('[role="alert"][data-error-code="outside_emergency_area"]');
      } finally {
        await context.close();
      }
    });

    await t.test('after the emergency, compliance reviews every read and signs it off; the analysis and the findings queue', async () => {
      now = new Date(NOW.getTime() + 11 * 3_600_000); // past the planned end
      const { context, page } = await as(USERS.compliance);
      try {
        await page.click('nav a[href="/emergencies"]');
        await page.click('text=閲覧の振り返り');
        await page.waitForSelector('[data-testid="review-reads"]');
        assert.match((await page.textContent('[data-testid="review-summary"]')) ?? '', /閲覧 1 件/);
        assert.match((await page.textContent('[data-testid="review-reads"]')) ?? '', /停電復旧見込みの連絡/);
        assert.match((await page.textContent('[data-testid="review-refused"]')) ?? '', /outside_emergency_area/);
        await page.fill('input[name="signOffComment"]', '全件の理由を確認');
        await page.click('text=確認済みとして承認する');
        await page.waitForSelector('[data-testid="signed-off"]');
        await screenshot(page, '23-emergency-review');

        await page.click('nav a[href="/analysis"]');
        await page.fill('input[name="from"]', '2026-11-01');
        await page.fill('input[name="to"]', '2026-11-01');
        await page.click('.filters button[type="submit"]');
        await page.waitForSelector('[data-testid="systems"] tr.total');
        // The emergency read is counted apart, not as a view of another retailer's customer.
        assert.equal(await page.textContent('[data-testid="systems"] tr.total td[data-total="2"]'), '0');
        assert.equal(await page.textContent('[data-testid="systems"] tr.total td[data-total="4"]'), '1');
        assert.ok((await page.$('[data-testid="chart-daily"] svg')) !== null);
        await page.click('text=期間を分析して要確認事項に追加');
        await page.waitForSelector('.alert.ok[role="status"]');
        await screenshot(page, '24-analysis');
        // Beside the tables, the exposure report (issue 22): the declaration with its support staff and its one
        // view of another retailer's customer; the network-only grant the mover kept after moving to retail.
        await page.click('text=閲覧可能性の報告を作成');
        await page.waitForSelector('[data-testid="exposure-emergencies"] tbody tr');
        assert.equal(await page.textContent('[data-testid="exposure-emergencies"] [data-testid="emergency-views"]'), '1');
        assert.match((await page.textContent('[data-testid="exposure-emergencies"] tbody')) ?? '', /加藤 五郎（関係小売：契約名義・電話番号・連絡先）/);
        assert.match(
          (await page.textContent('[data-testid="exposure-grants"]')) ?? '',
          /u-mover\s*network\.equipment\s*この所属区分には与えられない権限\s*side_not_allowed\s*2024-04-01 〜 継続中\s*2025-04-01 〜 継続中/,
        );
        assert.match((await page.textContent('[data-testid="exposure-policies"]')) ?? '', /現在の版いいえ/);
        await screenshot(page, '24b-exposure');

        await page.click('nav a[href="/findings"]');
        await page.waitForSelector('[data-testid="findings"] tr[data-rule="emergency_outside_window"]');
        const row = 'tr[data-rule="emergency_outside_window"][data-status="open"]';
        const open = (await page.$$(row)).length;
        const first = await page.$(row);
        assert.ok(first !== null);
        // One open finding per rule and person (issue 20): the live refusal and the scan's aggregate, counted.
        assert.equal(open, 1, 'the refusal and the scan are one finding');
        assert.equal(await first.$eval('[data-testid="occurrences"]', (e) => e.textContent), '2 回');
        assert.match((await first.$eval('[data-testid="last-seen"]', (e) => e.textContent)) ?? '', /2026/);
        assert.match((await page.textContent('[data-testid="findings"] thead')) ?? '', /発生回数.*最終発生/);
        await (await first.$('input'))?.fill('担当者に確認、誤操作');
        await (await first.$('text=対応済みにする'))?.click();
        // Resolved, the row leaves the open ones (others of the same rule may stay open).
        await page.waitForSelector(`${row} >> nth=${open - 1}`, { state: 'detached' });
        const resolved = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM findings WHERE status = 'resolved' AND review_comment = '担当者に確認、誤操作'`,
        );
        assert.equal(resolved.rows[0]?.n, 1);
        await screenshot(page, '25-findings');
      } finally {
        await context.close();
      }
    });
  });

  test('the screens are hidden from people who may not use them', async () => {
    const { context, page } = await as(USERS.retail, 'own_customer_service');
    try {
      const nav = await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
      assert.ok(!nav.includes('/emergencies') && !nav.includes('/analysis') && !nav.includes('/findings'), nav.join(' '));
    } finally {
      await context.close();
    }
  });
});
