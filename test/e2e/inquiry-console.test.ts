import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import type { Db } from '../../src/store/db.ts';
import { ownerOf, STORES } from '../support/stores.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { NOW, SP, USERS, seedFixture, seedPersonas, seedUnequalInquiryAnswers } from '../support/fixture.ts';

const HOUR = 3_600_000;
/** A `datetime-local` value in Japan time, hours from the fixture's NOW. */
const local = (hours: number) => new Date(NOW.getTime() + hours * HOUR + 9 * HOUR).toISOString().slice(0, 16);

/**
 * Inquiries to the network operator in Chromium, against the real server (issue 18). SP.R3 is R0003's corporate
 * customer 株式会社青葉精工 (150 kVA): a rival's customer both for the other retailer's agent (R0002) and for the
 * affiliated retailer's (A0001). The server's clock is the test's; each browser's clock is set to the same
 * instant, as the two agree in production, so the time left to a due time reads as the server judges it.
 */
describe('inquiries in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;
  let base: string;
  let now = NOW;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db, ['other', 'retail', 'nsc', 'comp']);
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR, now: () => now }));
    base = ui.base;
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });

  /** Logs a persona in, the browser's clock at the server's. */
  async function as(userId: string, purpose?: string) {
    const { context, page } = await ui.open();
    await page.clock.setFixedTime(now);
    await page.reload();
    await ui.loginAs(page, userId, purpose);
    return { context, page };
  }
  const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();
  const values = (page: Page, selector: string) => page.$$eval(selector, (xs) => xs.map((x) => (x as unknown as { value: string }).value).sort());
  async function fillConsent(page: Page, over: { validUntil?: string } = {}) {
    await page.fill('input[name="consentCustomerName"]', '株式会社 青葉精工');
    await page.selectOption('select[name="consentMethod"]', 'recorded_call');
    await page.fill('input[name="consentGivenAt"]', local(-24));
    await page.fill('input[name="consentReference"]', 'CALL-2026-1101-0042');
    await page.fill('input[name="consentValidUntil"]', over.validUntil ?? local(30 * 24));
  }
  /** Leaves only `keep` checked among the offered items. */
  async function only(page: Page, keep: readonly string[]) {
    for (const v of await values(page, '[data-testid="item-choice"] input[name="items"]:checked'))
      if (!keep.includes(v)) await page.uncheck(`[data-testid="item-choice"] input[value="${v}"]`);
    for (const v of keep) await page.check(`[data-testid="item-choice"] input[value="${v}"]`);
  }

  // One inquiry through the screens, in order: each step stands on the one before, so they are steps of one test.
  test('an inquiry from a rival’s record to the answer, the queue and the equal-treatment figures', async (t) => {
    let queuedId = '';

    await t.test("the other retailer's agent sees why the capacity is masked and what to do, asks with consent, and gets 150 kVA at once", async () => {
      const { context, page } = await as(USERS.otherRetailer, 'switching_support');
      try {
        await page.goto(`${base}/records/${SP.R3}?purpose=switching_support`);
        await page.waitForSelector('table.record');
        assert.ok((await page.$('tr[data-field="contracted_capacity"] [data-masked="not_own_customer"]')) !== null, 'capacity masked: not our customer');
        const guidance = '[data-testid="proper-flows"]';
        assert.equal(
          await text(page, `${guidance} p[data-reason="not_own_customer"]`),
          '表示できない項目（非公開情報：自社の需要家ではありません）：契約名義、電話番号・連絡先、契約容量・契約電力、小売電気事業者、使用電力量、深夜機器設備情報、計器情報・検針日、契約履歴、個人・法人、最終保障供給',
          'every masked non-public field, once, with its reason; the network-only notes have no flow',
        );
        const actions = await page.$$eval(`${guidance} li`, (xs) => xs.map((x) => `${x.getAttribute('data-pattern')}:${x.getAttribute('data-action')}`));
        // Under switching support, for a rival's customer: the inquiry, asking the customer, the move-in route, public statistics —
        // not the collection of a former customer's bills (pattern 2), which is about former customers.
        assert.deepEqual(actions, ['4:inquiry', '4:ask_customer', '3:send_to_network', '6:public_statistics']);
        assert.match(await text(page, `${guidance} li[data-action="inquiry"]`), /スイッチングの申込みなら、お客さまの同意を得て/);
        await screenshot(page, '30-inquiry-guidance');

        await page.click('[data-testid="ask-network"]');
        await page.waitForSelector('[data-testid="inquiry-form"]');
        const url = new URL(page.url());
        assert.equal(url.pathname, '/inquiries/new');
        assert.equal(url.searchParams.get('caseType'), 'switching');
        assert.equal(await page.inputValue('input[name="supplyPointId"]'), SP.R3);
        assert.equal(await page.inputValue('select[name="caseType"]'), 'switching');
        // Pre-selected: the masked items a switching case gives; the phone (never given for switching) is offered disabled.
        assert.deepEqual(await values(page, '[data-testid="item-choice"] input[name="items"]:checked'), [
          'contracted_capacity',
          'customer_type',
          'equipment',
          'holder_name',
          'last_resort',
          'meter',
          'usage',
        ]);
        assert.equal(await page.getAttribute('li[data-item="phone"]', 'data-answering'), 'never');
        assert.equal(await page.isDisabled('input[name="items"][value="phone"]'), true);
        assert.equal(await text(page, 'li[data-item="equipment"] .answering'), '送配電が確認して回答');
        assert.equal(await text(page, 'li[data-item="contracted_capacity"] .answering'), 'すぐに回答');
        assert.match(await text(page, '[data-testid="service-level"]'), /24 時間以内/);

        // An expired consent: refused, and the screen says why in words.
        await only(page, ['contracted_capacity']);
        await fillConsent(page, { validUntil: local(-1) });
        await page.click('[data-testid="inquiry-form"] button[type="submit"]');
        await page.waitForSelector('[role="alert"][data-error-code="inquiry_refused"]');
        assert.equal(await page.getAttribute('[data-testid="refusal-rule"]', 'data-rule'), 'consent_expired');
        assert.match(await text(page, '[data-testid="refusal-rule"]'), /同意の有効期限が切れています/);
        assert.equal(await page.$('[data-testid="inquiry-result"]'), null);

        await page.fill('input[name="consentValidUntil"]', local(30 * 24));
        await page.click('[data-testid="inquiry-form"] button[type="submit"]');
        await page.waitForSelector('[data-testid="inquiry-result"][data-status="answered"]');
        assert.equal(await page.$('[role="alert"]'), null, 'the earlier error is gone');
        assert.equal(await text(page, '[data-testid="inquiry-result"] [data-status="answered"]'), '回答済み');
        assert.equal(await text(page, '[data-testid="at-once"]'), '契約容量・契約電力');
        assert.equal(await text(page, '[data-testid="inquiry-answer"] tr[data-field="contracted_capacity"] [data-shown]'), '150 kVA');
        assert.ok((await page.$('[data-testid="inquiry-answer"] tr[data-field="phone"] [data-masked="outside_inquiry_allowance"]')) !== null);
        assert.ok((await page.$('[data-testid="inquiry-answer"] tr[data-field="holder_name"] [data-masked="outside_inquiry_allowance"]')) !== null);
        const answered = await text(page, '[data-testid="inquiry-id"]');
        const stored = await db.query<{ status: string; consent_given_at: Date; consent_valid_until: Date }>(
          'SELECT status, consent_given_at, consent_valid_until FROM inquiries WHERE id = $1',
          [answered],
        );
        assert.equal(stored.rows[0]?.status, 'answered');
        // The datetime-local inputs are Japan time, whatever the browser's zone.
        assert.equal(new Date(stored.rows[0]?.consent_given_at ?? 0).toISOString(), new Date(NOW.getTime() - 24 * HOUR).toISOString());
        assert.equal(new Date(stored.rows[0]?.consent_valid_until ?? 0).toISOString(), new Date(NOW.getTime() + 30 * 24 * HOUR).toISOString());
        await screenshot(page, '31-inquiry-answered');

        // The night-time equipment goes to the service centre's queue, with its due time.
        await page.check('input[name="items"][value="equipment"]');
        await page.click('[data-testid="inquiry-form"] button[type="submit"]');
        await page.waitForSelector('[data-testid="inquiry-result"][data-status="open"]');
        queuedId = await text(page, '[data-testid="inquiry-id"]');
        assert.notEqual(queuedId, answered);
        assert.match(await text(page, '[data-testid="queued"]'), /^深夜機器設備情報（2026\/11\/02 10:00 までに回答します）$/);
        assert.equal(await text(page, '[data-testid="inquiry-answer"] tr[data-field="contracted_capacity"] [data-shown]'), '150 kVA');
        assert.ok((await page.$('[data-testid="inquiry-answer"] tr[data-field="equipment"] [data-masked="outside_inquiry_allowance"]')) !== null, 'not yet');

        await page.click('nav a[href="/inquiries"]');
        await page.waitForSelector(`[data-testid="inquiry-list"] tr[data-id="${queuedId}"]`);
        const row = `[data-testid="inquiry-list"] tr[data-id="${queuedId}"]`;
        assert.equal(await page.getAttribute(row, 'data-status'), 'open');
        assert.equal(await text(page, `${row} .inquiry-status`), '回答待ち');
        assert.equal(await page.getAttribute(row, 'data-timeliness'), 'on_time');
        assert.equal(await text(page, `${row} [data-testid="remaining"]`), '（残り 24時間0分）');
        assert.equal(await page.getAttribute(`[data-testid="inquiry-list"] tr[data-id="${answered}"]`, 'data-status'), 'answered');
        assert.equal(await page.$$eval('[data-testid="inquiry-list"] tbody tr[data-status="refused"]', (xs) => xs.length), 1, 'the refused consent is kept');
        await screenshot(page, '32-my-inquiries');

        // In English, the server's words and the console's switch together.
        await page.click('button.lang');
        await page.waitForSelector(`${row} .inquiry-status:text-is("In the queue")`);
        assert.equal(await text(page, 'nav a[href="/inquiries"]'), 'Inquiries');
        assert.equal(await text(page, `${row} [data-testid="remaining"]`), '（24 h 0 min left）');
        await page.click('button.lang');
      } finally {
        await context.close();
      }
    });

    await t.test("the affiliated retailer's agent is guided by the purpose declared, and answered exactly as its rival", async () => {
      const { context, page } = await as(USERS.retail, 'own_customer_service');
      try {
        const nav = await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
        assert.ok(nav.includes('/inquiries') && !nav.includes('/inquiries/queue') && !nav.includes('/inquiries/equal-treatment'), nav.join(' '));
        await page.goto(`${base}/records/${SP.R3}?purpose=own_customer_service`);
        await page.waitForSelector('[data-testid="proper-flows"]');
        const actions = await page.$$eval('[data-testid="proper-flows"] li', (xs) =>
          xs.map((x) => `${x.getAttribute('data-pattern')}:${x.getAttribute('data-action')}`),
        );
        assert.deepEqual(actions, ['4:ask_customer', '1:send_to_network', '6:public_statistics'], 'no switching inquiry flow for own-customer service');
        assert.equal(await page.$('[data-testid="ask-network"]'), null, 'no inquiry offered where no flow names a case');
        await page.goto(`${base}/records/${SP.R3}?purpose=switching_support`);
        await page.waitForSelector('[data-testid="proper-flows"]');
        await page.click('[data-testid="ask-network"]');
        await page.waitForSelector('[data-testid="inquiry-form"]');
        assert.equal(new URL(page.url()).searchParams.get('caseType'), 'switching');
        assert.equal(await page.inputValue('select[name="caseType"]'), 'switching');
        await only(page, ['contracted_capacity']);
        await fillConsent(page);
        await page.click('[data-testid="inquiry-form"] button[type="submit"]');
        await page.waitForSelector('[data-testid="inquiry-result"][data-status="answered"]');
        assert.equal(await text(page, '[data-testid="inquiry-answer"] tr[data-field="contracted_capacity"] [data-shown]'), '150 kVA');
      } finally {
        await context.close();
      }
    });

    await t.test('the service centre sees the late inquiry first, releases only its queued items, and asks back', async () => {
      now = new Date(NOW.getTime() + 25 * HOUR); // an hour past the switching service level
      const { context, page } = await as(USERS.serviceCentre);
      try {
        await page.click('nav a[href="/inquiries/queue"]');
        const row = `[data-testid="inquiry-queue"] tr[data-id="${queuedId}"]`;
        await page.waitForSelector(row);
        assert.equal(await page.getAttribute('[data-testid="inquiry-queue"] tbody tr:first-child', 'data-id'), queuedId);
        assert.equal(await page.getAttribute(row, 'data-timeliness'), 'late');
        assert.equal(await text(page, `${row} .timeliness-late`), '期限超過');
        assert.equal(await text(page, `${row} [data-testid="remaining"]`), '（1時間0分 超過）');
        await screenshot(page, '33-inquiry-queue');
        await page.click(`${row} a`);
        await page.waitForSelector('[data-testid="answer-panel"]');
        assert.deepEqual(await values(page, 'input[name="release"]'), ['equipment'], 'only the items the case left to the service centre');
        await page.fill('input[name="question"]', '深夜機器の設置場所を教えてください');
        await page.click('[data-testid="ask-back"]');
        await page.waitForSelector('[data-testid="inquiry-facts"][data-status="asked_back"]');
        assert.equal(await text(page, '[data-testid="inquiry-facts"] .inquiry-status'), '確認依頼中');
        assert.match(
          await text(page, '[data-testid="history"] li[data-kind="asked_back"]'),
          /^2026\/11\/02 11:00 確認依頼（u-nsc） — 深夜機器の設置場所を教えてください$/,
        );
      } finally {
        await context.close();
      }
    });

    await t.test('the requester is notified in the header and replies; the service centre answers', async () => {
      now = new Date(NOW.getTime() + 26 * HOUR);
      {
        const { context, page } = await as(USERS.otherRetailer);
        try {
          await page.waitForSelector('[data-testid="notification-bell"][data-unread="1"]');
          await page.click('[data-testid="notification-bell"]');
          assert.match(await text(page, '.notification-list li[data-kind="inquiry.asked_back"]'), new RegExp(`照会 ${queuedId} について確認依頼があります`));
          await page.click('.notification-list li[data-kind="inquiry.asked_back"] a');
          await page.waitForSelector('[data-testid="reply-form"]');
          await page.waitForSelector('[data-testid="notification-bell"][data-unread="0"]');
          await page.fill('input[name="reply"]', '屋外のキュービクル内です');
          await page.click('[data-testid="reply-form"] button[type="submit"]');
          await page.waitForSelector('[data-testid="inquiry-facts"][data-status="open"]');
          assert.equal(await page.$('[data-testid="reply-form"]'), null);
        } finally {
          await context.close();
        }
      }
      now = new Date(NOW.getTime() + 27 * HOUR);
      const { context, page } = await as(USERS.serviceCentre);
      try {
        await page.goto(`${base}/inquiries/${queuedId}`);
        await page.waitForSelector('[data-testid="answer-panel"]');
        await page.fill('input[name="releaseNote"]', '深夜機器の登録はありません');
        await page.click('[data-testid="release"]');
        await page.waitForSelector('[data-testid="inquiry-facts"][data-status="answered"]');
        assert.equal(await text(page, '[data-testid="released"]'), '深夜機器設備情報');
        assert.deepEqual(await page.$$eval('[data-testid="history"] li', (xs) => xs.map((x) => x.getAttribute('data-kind'))), [
          'asked',
          'answered_at_once',
          'asked_back',
          'replied',
          'answered',
        ]);
        assert.equal(await page.$('[data-testid="answer-panel"]'), null, 'nothing left to answer');
        await screenshot(page, '34-inquiry-answered-from-queue');
      } finally {
        await context.close();
      }
    });

    await t.test('the requester reads the answer through the firewall, and marks the notification read', async () => {
      const { context, page } = await as(USERS.otherRetailer);
      try {
        await page.waitForSelector('[data-testid="notification-bell"][data-unread="1"]');
        await page.click('[data-testid="notification-bell"]');
        assert.match(await text(page, '.notification-list li[data-kind="inquiry.answered"]'), new RegExp(`照会 ${queuedId} に回答がありました`));
        await page.click('text=すべて既読にする');
        await page.waitForSelector('[data-testid="notification-bell"][data-unread="0"]');
        await page.goto(`${base}/inquiries/${queuedId}`);
        await page.click('[data-testid="show-answer"]');
        await page.waitForSelector('[data-testid="answer"] table.record');
        assert.equal(await text(page, '[data-testid="answer"] tr[data-field="contracted_capacity"] [data-shown]'), '150 kVA');
        assert.equal(await text(page, '[data-testid="answer"] tr[data-field="equipment"] [data-shown]'), '該当なし');
        assert.ok((await page.$('[data-testid="answer"] tr[data-field="phone"] [data-masked="outside_inquiry_allowance"]')) !== null);
        assert.match(await text(page, '[data-testid="answer"] .logged'), /アクセスログに記録されました/);
        const reads = await db.query<{ route: string }>(`SELECT route FROM access_log WHERE query->>'inquiryId' = $1 ORDER BY seq`, [queuedId]);
        assert.deepEqual(
          reads.rows.map((r) => r.route),
          ['POST /api/inquiries', 'GET /api/inquiries/:id/answer'],
        );
      } finally {
        await context.close();
      }
    });

    await t.test("compliance sees both retailers' figures, the affiliated one first and marked, the flags when it is favoured, and the files", async () => {
      const { context, page } = await as(USERS.compliance);
      try {
        await page.click('nav a[href="/inquiries/equal-treatment"]');
        await page.waitForSelector('[data-testid="equal-table"]');
        assert.equal(await page.inputValue('input[name="to"]'), '2026-11-02', "the server's default period, by its clock");
        const rows = await page.$$eval('[data-testid="equal-table"] tbody tr', (xs) =>
          xs.map((x) => [x.getAttribute('data-retailer'), x.getAttribute('data-kind'), ...[...x.querySelectorAll('td')].map((c) => c.textContent)]),
        );
        // inquiries, at once, share, queued, from queue, median, p95, refused, refused at intake, open, late
        assert.deepEqual(rows, [
          ['A0001', 'affiliated', '1', '1', '100%', '0', '0', '—', '—', '0', '0', '0', '0'],
          ['R0002', 'retailer', '3', '1', '33.3%', '1', '1', '26 時間', '26 時間', '0', '1', '0', '1'],
          ['*', 'others', '3', '1', '33.3%', '1', '1', '26 時間', '26 時間', '0', '1', '0', '1'],
        ]);
        assert.match(await text(page, 'tr[data-kind="affiliated"] th'), /北日本電力株式会社（A0001）関係小売/);
        assert.equal(await text(page, 'tr[data-kind="others"] th'), '関係小売以外（合計）');
        await page.waitForSelector('[data-testid="no-flags"]');

        await seedUnequalInquiryAnswers(ownerOf(db));
        await page.click('.filters button[type="submit"]');
        await page.waitForSelector('[data-testid="flags"]');
        const flags = await page.$$eval('[data-testid="flags"] li', (xs) => xs.map((x) => x.textContent));
        assert.deepEqual(flags, [
          'スイッチング（契約切替）：回答時間（中央値）が短い（関係小売 1 時間 ／ それ以外 10 時間。件数 20 ／ 21）',
          'スイッチング（契約切替）：回答時間（95パーセンタイル）が短い（関係小売 1 時間 ／ それ以外 10 時間。件数 20 ／ 21）',
        ]);
        assert.equal(await page.textContent('[data-testid="equal-table"] tr[data-retailer="A0001"] td[data-col="0"]'), '21');
        await screenshot(page, '35-equal-treatment');

        const csvHref = (await page.getAttribute('a[href*="format=csv"]', 'href')) ?? '';
        assert.match(csvHref, /from=2026-10-03&to=2026-11-02&format=csv$/);
        const csv = await context.request.get(`${base}${csvHref}`);
        assert.equal(csv.status(), 200);
        const body = await csv.text();
        assert.match(body, /みらいでんき株式会社/);
        assert.match(body, /回答時間（中央値）が短い/);
        const xlsx = await context.request.get(`${base}${(await page.getAttribute('a[href*="format=xlsx"]', 'href')) ?? ''}`);
        assert.equal((await xlsx.body()).subarray(0, 2).toString(), 'PK');
        // The Shift_JIS choice (issue 19): CP932 bytes that decode to the same Japanese.
        const sjisHref = (await page.getAttribute('a[href*="encoding=cp932"]', 'href')) ?? '';
        assert.match(sjisHref, /format=csv&encoding=cp932$/);
        assert.equal(await page.textContent(`a[href="${sjisHref}"]`), 'CSV（Shift_JIS・古いExcel向け）');
        const sjis = await context.request.get(`${base}${sjisHref}`);
        assert.equal(sjis.headers()['content-type'], 'text/csv; charset=windows-31j');
        assert.match(new TextDecoder('shift_jis').decode(await sjis.body()), /みらいでんき株式会社/);

        // The regulator's report counts the affiliated retailer's inquiry answers apart from its views.
        await page.goto(`${base}/analysis?from=2026-11-01&to=2026-11-01`);
        await page.waitForSelector('[data-testid="systems"] tr.total');
        assert.ok((await page.$$eval('[data-testid="systems"] thead th', (xs) => xs.map((x) => x.textContent))).includes('照会への回答'));
        assert.equal(await page.textContent('[data-testid="systems"] tr.total td[data-total="5"]'), '1');
        assert.equal(await page.textContent('[data-testid="systems"] tr.total td[data-total="2"]'), '0');
      } finally {
        await context.close();
      }
    });
  });

  test('the inquiry screens are offered only to those who may use them', async () => {
    const { context, page } = await as(USERS.compliance);
    try {
      const nav = await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
      assert.ok(nav.includes('/inquiries/equal-treatment') && !nav.includes('/inquiries') && !nav.includes('/inquiries/queue'), nav.join(' '));
      // A screen not offered is not there: the address falls back to the look-up.
      await page.goto(`${base}/inquiries/queue`);
      await page.waitForSelector('h1');
      assert.equal(await page.$('[data-testid="inquiry-queue"], [data-testid="direct-form"]'), null);
    } finally {
      await context.close();
    }
  });
});
