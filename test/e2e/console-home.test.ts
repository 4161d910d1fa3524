import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { raiseFinding } from '../../src/analysis/findings.ts';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { NOW, SP, USERS, seedEmergencyRoles, seedFixture, seedPersonas } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';

const HOUR = 3_600_000;
const iso = (hours: number) => new Date(NOW.getTime() + hours * HOUR).toISOString();

/** The groups of the menu, in order, as the console labels them in Japanese. */
const GROUPS = ['照会', '権限管理', '監査・分析', '非常災害'];

/** What waits for people in the fixture, so that every home section has something to count. */
async function seedWork(db: Db): Promise<void> {
  const owner = ownerOf(db);
  // A request waiting for an approver (the affiliated retailer's agent asks for support duty).
  await owner.query(
    `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, expires_at)
     VALUES ('u-other', 'customer.read', 'requested', '自社顧客対応（追加）', 'u-other', 'p-other', $1, '2027-03-01')`,
    [NOW],
  );
  // An inquiry past its due time in the service centre's queue.
  await owner.query(
    `INSERT INTO inquiries (id, case_type, supply_point_id, items, channel, retailer_code, requested_by, requested_by_person, consent_customer_name, consent_method,
        consent_given_at, consent_reference, consent_valid_until, consent_state, at_once, queued, status, created_at, due_at)
     VALUES ('INQ-700001', 'switching', $1, '{contracted_capacity,equipment}', 'retailer', 'R0002', 'u-other', 'p-other', '株式会社青葉精工', 'recorded_call', $2, 'CALL-0042', $3,
        'valid', '{contracted_capacity}', '{equipment}', 'open', $2, $4)`,
    [SP.R3, iso(-72), iso(720), iso(-2)],
  );
  // Findings with the long summaries real ones have, naming accounts and supply points: identifiers do not
  // break, so they leave the other columns little room (the table must not squeeze the badges and buttons).
  const long =
    'みらいでんき株式会社の連携用アカウント svc_mirai_inquiry_batch_gateway が、平常時の自身の平均の12倍にあたる件数の需要家情報を短時間に照会しました（0200000000000000000011,0200000000000000000022,0200000000000000000033 ほか）。';
  for (const [i, severity] of (['high', 'high', 'medium', 'low'] as const).entries())
    await raiseFinding(db, {
      rule: i % 2 === 0 ? 'bulk_reading' : 'off_hours',
      severity,
      occurredAt: NOW,
      detectedAt: NOW,
      source: 'live',
      subjectPersonId: null,
      subjectUserId: i < 2 ? USERS.otherRetailer : USERS.retail,
      summary: `${long}（${i + 1}）`,
      evidence: {},
    });
  // Terminals as a utility's registry has them: asset-register IDs (which do not break), long office names, one
  // more misplaced, some used lately and one not for months.
  await owner.query(
    `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side, shared, registered_at, last_used_at) VALUES
      ('NW_SENDAI_OUTAGE_RECEPTION_DESK_0001', 'org-nw', '仙台配電ネットワークセンター 停電受付第一グループ', 'dedicated', 'network', 'network', true, '2020-04-01', $1),
      ('NW_SENDAI_OUTAGE_RECEPTION_DESK_0002', 'org-nw', '仙台配電ネットワークセンター 停電受付第二グループ', 'virtual', 'network', 'network', false, '2020-04-01', $1),
      ('RT_SENDAI_CORPORATE_SALES_3RD_0007', 'org-a0001', '北日本電力 仙台中央営業所 法人営業部 第三課（旧 青葉営業所）', 'dedicated', 'retail', 'retail', true, '2020-04-01', '2026-03-01'),
      ('NW_SENDAI_SHARED_BUILDING_3F_0003', 'org-nw', '仙台共用ビル 3階 共用会議室（送配電・小売 共用）', 'dedicated', 'network', 'shared', true, '2020-04-01', '2026-02-01')`,
    [iso(-20)],
  );
}

/** What a box's height has besides its lines of text. */
type Edge = 'paddingTop' | 'paddingBottom' | 'borderTopWidth' | 'borderBottomWidth';

/**
 * The badges and buttons of a table whose label is broken over more than one line (each: its text and
 * height). Squeezed by a wide table, a Japanese label breaks between any two characters — down to one
 * character per line; a badge or button keeps its label whole and the table scrolls instead.
 */
async function brokenLabels(page: Page, table: string): Promise<string[]> {
  return page.$$eval(`${table} :is(span.state, span.severity, span.side, button)`, (els) =>
    els
      .map((el) => {
        // No named function in here: the test's compiler would wrap it in a helper the page does not have.
        const cs = (globalThis as unknown as { getComputedStyle(e: unknown): Record<'lineHeight' | 'fontSize' | Edge, string> }).getComputedStyle(el);
        const line = Number.isNaN(Number.parseFloat(cs.lineHeight)) ? Number.parseFloat(cs.fontSize) * 1.2 : Number.parseFloat(cs.lineHeight);
        const frame = [cs.paddingTop, cs.paddingBottom, cs.borderTopWidth, cs.borderBottomWidth].reduce((a, v) => a + (Number.parseFloat(v) || 0), 0);
        const h = el.getBoundingClientRect().height;
        return { text: (el.textContent ?? '').trim(), h, lines: (h - frame) / line };
      })
      .filter((x) => x.lines > 1.5)
      .map((x) => `${x.text} (${Math.round(x.h)} px: ${x.lines.toFixed(1)} lines)`),
  );
}

/**
 * The console opens on what needs each person now (issue 20): the home screen per duty, the menu grouped by
 * duty, and the tables that must stay legible on a 1366 px office screen.
 */
describe('home screen, menu by duty and legible tables in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db);
    await seedEmergencyRoles(db);
    await seedWork(db);
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR }));
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });

  /** The counts on the home screen: section → count → number. */
  const countsOn = (page: Page) =>
    page.$$eval('[data-testid="home"] [data-section]', (sections) =>
      Object.fromEntries(
        sections.map((s) => [
          s.getAttribute('data-section'),
          Object.fromEntries([...s.querySelectorAll('[data-count]')].map((c) => [c.getAttribute('data-count'), Number(c.getAttribute('data-n'))])),
        ]),
      ),
    );

  test('each persona opens on the home screen of their duties: counts that link to their lists; an agent opens on the look-up', async () => {
    const expected: Readonly<Record<string, Record<string, Record<string, number>>>> = {
      [USERS.admin]: {
        approvals: { waiting: 1 },
        findings: { high: 2, medium: 1, low: 1, unacknowledged: 4 },
        emergencies: { active: 0, pending: 0, awaitingReview: 0 },
        terminals: { misplaced: 2 },
        recertifications: { waitingForYou: 0, open: 0 },
      },
      [USERS.serviceCentre]: { inquiries: { waiting: 1, late: 1 }, emergencies: { active: 0, pending: 0, awaitingReview: 0 } },
      [USERS.compliance]: {
        approvals: { waiting: 1 },
        findings: { high: 2, medium: 1, low: 1, unacknowledged: 4 },
        emergencies: { active: 0, pending: 0, awaitingReview: 0 },
        terminals: { misplaced: 2 },
        recertifications: { waitingForYou: 0, open: 0 },
      },
      [USERS.callCentre]: { emergencies: { active: 0, pending: 0, awaitingReview: 0 } },
    };
    for (const [user, counts] of Object.entries(expected)) {
      const { context, page } = await ui.as(user);
      try {
        await page.waitForSelector('[data-testid="home"] [data-section]');
        assert.equal(new URL(page.url()).pathname, '/');
        assert.match((await page.textContent('h1')) ?? '', /いま対応が必要なこと/);
        assert.deepEqual(await countsOn(page), counts, user);
        assert.equal(await page.getAttribute('nav a[href="/"]', 'aria-current'), 'page');
        await screenshot(page, `home-${user}`);
      } finally {
        await context.close();
      }
    }
    // A count is a link to its list.
    const { context, page } = await ui.as(USERS.admin);
    try {
      await page.click('[data-section="terminals"] [data-count="misplaced"] a');
      await page.waitForSelector('table[data-testid] tr[data-misplaced="true"]');
      assert.equal(new URL(page.url()).pathname, '/terminals');
      assert.equal(await page.getAttribute('nav a[href="/terminals"]', 'aria-current'), 'page');
      await page.click('nav a[href="/"]');
      await page.click('[data-section="findings"] [data-count="high"] a');
      await page.waitForSelector('table[data-testid="findings"] tr[data-severity="high"]');
      // In English too.
      await page.click('nav a[href="/"]');
      await page.click('button.lang');
      await page.waitForSelector('text=Home: what needs you now');
      assert.match((await page.textContent('[data-section="terminals"]')) ?? '', /Misplaced/);
      await screenshot(page, `home-${USERS.admin}-en`);
      await page.click('button.lang');
    } finally {
      await context.close();
    }
    // Someone with no duty beyond looking up customers opens on the look-up, as before, and has no home link.
    const agent = await ui.as(USERS.otherRetailer);
    try {
      await agent.page.waitForSelector('form.search');
      assert.equal(await agent.page.$('nav a[href="/"]'), null);
      assert.equal(await agent.page.$('[data-testid="home"]'), null);
      assert.equal(await agent.page.getAttribute('nav a[href="/search"]', 'aria-current'), 'page');
      await screenshot(agent.page, `home-${USERS.otherRetailer}`);
    } finally {
      await agent.context.close();
    }
  });

  test('the menu is grouped by duty: only groups with a screen for the person, every link visible and reachable by keyboard', async () => {
    const groupsOf = (page: Page) => page.$$eval('nav .nav-group h2', (hs) => hs.map((h) => (h.textContent ?? '').trim()));
    const admin = await ui.as(USERS.admin);
    try {
      assert.deepEqual(await groupsOf(admin.page), GROUPS);
      const links = await admin.page.$$('nav a');
      assert.equal(links.length, 15, 'home, the look-up, seven of access administration, five of audit and analysis, emergencies');
      for (const a of links) assert.ok(await a.isVisible(), `${(await a.getAttribute('href')) ?? ''} is visible without opening anything`);
      // Each link in its duty's group.
      const groupOf = (href: string) => admin.page.$eval(`nav a[href="${href}"]`, (a) => a.closest('section')?.querySelector('h2')?.textContent ?? '');
      assert.equal(await groupOf('/search'), '照会');
      assert.equal(await groupOf('/terminals'), '権限管理');
      assert.equal(await groupOf('/findings'), '監査・分析');
      assert.equal(await groupOf('/inquiries/equal-treatment'), '監査・分析');
      assert.equal(await groupOf('/emergencies'), '非常災害');
      // From the keyboard: focus a link, Tab to the next, Enter opens it.
      await admin.page.focus('nav a[href="/grants"]');
      await admin.page.keyboard.press('Tab');
      assert.equal(await admin.page.$eval(':focus', (e) => e.getAttribute('href')), '/grants/queue');
      await admin.page.keyboard.press('Enter');
      await admin.page.waitForSelector('#queue-title');
      assert.equal(await admin.page.getAttribute('nav a[href="/grants/queue"]', 'aria-current'), 'page');
      assert.equal(await admin.page.$$eval('nav a[aria-current="page"]', (as) => as.length), 1, 'one current link');
    } finally {
      await admin.context.close();
    }
    const retail = await ui.as(USERS.retail);
    try {
      assert.deepEqual(await groupsOf(retail.page), ['照会', '権限管理'], 'no audit or emergency group for a retailer’s agent');
      assert.equal(await retail.page.$('nav a[href="/terminals"]'), null);
    } finally {
      await retail.context.close();
    }
  });

  test('legible at 1366 × 768: every badge and button in the terminals and findings tables keeps its label on one line', async () => {
    const { context, page } = await ui.open({ width: 1366, height: 768 });
    try {
      await ui.loginAs(page, USERS.admin);
      await page.click('nav a[href="/terminals"]');
      await page.waitForSelector('table[data-testid] tr[data-misplaced="true"] button');
      const tables = await page.$$eval('table[data-testid]', (ts) => ts.map((t) => t.getAttribute('data-testid') ?? ''));
      assert.ok(tables.length > 0);
      for (const id of tables) assert.deepEqual(await brokenLabels(page, `table[data-testid="${id}"]`), [], `terminals: ${id}`);
      await screenshot(page, 'terminals-1366');
      await page.click('nav a[href="/findings"]');
      await page.waitForSelector('table[data-testid="findings"] tr[data-severity="high"] button');
      assert.deepEqual(await brokenLabels(page, 'table[data-testid="findings"]'), [], 'findings');
      await screenshot(page, 'findings-1366');
      const overflow = await page.$eval('html', (html) => html.scrollWidth - html.clientWidth);
      assert.ok(overflow <= 0, `a wide table scrolls inside the page, not the page sideways (${overflow} px)`);
    } finally {
      await context.close();
    }
  });
});
