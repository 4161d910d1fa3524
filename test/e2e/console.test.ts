import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import { SUPPLY_POINT_FIELD_KEYS } from '../../src/domain/classification.ts';
import type { Db } from '../../src/store/db.ts';
import { STORES } from '../support/stores.ts';
import { testApp } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { FIXTURE_PERSONAS, SP, USERS, seedFixture, seedPersonas } from '../support/fixture.ts';

/** Per field: 'shown', or the masked reason code the screen must carry. Public fields are always shown. */
function expected(nonPublic: string, networkNotes: string): Record<string, string> {
  return Object.fromEntries(
    SUPPLY_POINT_FIELD_KEYS.map((f) => [f, f === 'supply_point_id' || f === 'address' ? 'shown' : f === 'network_notes' ? networkNotes : nonPublic]),
  );
}

/**
 * Ground truth from the fixture's story (see fixture.ts), written out by hand: who sees what of which
 * supply point under which purpose. The screen must show exactly this.
 */
const CASES: readonly { user: string; purpose: string; records: Readonly<Record<string, Record<string, string>>> }[] = [
  {
    user: USERS.callCentre,
    purpose: 'customer_inquiry',
    records: { [SP.OWN_A]: expected('shown', 'network_only'), [SP.R3]: expected('shown', 'network_only'), [SP.LAST]: expected('shown', 'network_only') },
  },
  { user: USERS.serviceCentre, purpose: 'outage_response', records: { [SP.OWN_A]: expected('shown', 'shown'), [SP.SWITCHED]: expected('shown', 'shown') } },
  {
    user: USERS.retail,
    purpose: 'own_customer_service',
    records: {
      [SP.OWN_A]: expected('shown', 'network_only'),
      [SP.SWITCHED]: expected('former_customer', 'network_only'),
      [SP.R3]: expected('not_own_customer', 'network_only'),
      [SP.LAST]: expected('former_customer', 'network_only'),
      [SP.VACANT]: expected('not_own_customer', 'network_only'),
    },
  },
  {
    user: USERS.retailContractor,
    purpose: 'own_customer_service',
    records: { [SP.CORP_A]: expected('shown', 'network_only'), [SP.R3]: expected('not_own_customer', 'network_only') },
  },
  {
    user: USERS.otherRetailer,
    purpose: 'own_customer_service',
    records: {
      [SP.SWITCHED]: expected('shown', 'network_only'),
      [SP.OWN_A]: expected('not_own_customer', 'network_only'),
      [SP.VACANT]: expected('former_customer', 'network_only'),
    },
  },
  { user: USERS.compliance, purpose: 'audit_review', records: { [SP.OWN_A]: expected('not_needed_for_duty', 'network_only') } },
];

describe('the console in Chromium', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let ui: ConsoleHarness;
  let base: string;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db);
    ui = await startConsole(await testApp(db, { consoleDir: CONSOLE_DIR }));
    base = ui.base;
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });
  const open = (opts: { width?: number; height?: number; timezoneId?: string } = {}) => ui.open({ height: 800, ...opts });
  const loginAs = (page: Page, userId: string, purpose?: string) => ui.loginAs(page, userId, purpose);

  /** Field key → 'shown' / masked reason / 'blank' (a row that is neither: never acceptable). */
  async function recordOutcomes(page: Page): Promise<Record<string, string>> {
    await page.waitForSelector('table.record');
    const rows = await page.$$eval('table.record > tbody > tr', (trs) =>
      trs.map((tr) => {
        const masked = tr.querySelector('[data-masked]');
        return [
          tr.getAttribute('data-field') ?? '?',
          masked?.getAttribute('data-masked') ?? (tr.querySelector('[data-shown]') !== null ? 'shown' : 'blank'),
        ] as const;
      }),
    );
    return Object.fromEntries(rows);
  }

  test('the login screen offers every persona, each labelled with its side, in Japanese by default', async () => {
    const { context, page } = await open();
    try {
      await page.waitForSelector('button.persona');
      assert.equal(await page.getAttribute('html', 'lang'), 'ja');
      assert.equal(await page.textContent('h1'), 'ログイン');
      const personas = await page.$$eval('button.persona', (bs) => bs.map((b) => [b.getAttribute('data-user'), b.querySelector('.side')?.textContent]));
      assert.equal(personas.length, FIXTURE_PERSONAS.length);
      const sideOf = Object.fromEntries(personas);
      assert.equal(sideOf[USERS.retail], '関係小売');
      assert.equal(sideOf[USERS.retailContractor], '関係小売');
      assert.equal(sideOf[USERS.otherRetailer], '他の小売電気事業者');
      assert.equal(sideOf[USERS.callCentre], '送配電');
      await screenshot(page, '01-login');
    } finally {
      await context.close();
    }
  });

  test('each persona logs in, looks up supply points and sees exactly the fields the firewall allows', async () => {
    for (const c of CASES) {
      const { context, page } = await open();
      try {
        await loginAs(page, c.user, c.purpose);
        // The look-up from the menu: whoever has a home screen (the service centre) opens on it instead.
        await page.click('nav a[href="/search"]');
        const ids = Object.keys(c.records);
        // The first record through the ID search, as a user would type it (with hyphens); the rest by URL.
        const [first, ...rest] = ids;
        assert.ok(first !== undefined);
        await page.check('input[name="by"][value="id"]');
        await page.fill('#term', first.replace(/(\d{4})(?=\d)/g, '$1-'));
        await page.click('form.search button[type="submit"]');
        for (const id of [first, ...rest]) {
          if (id !== first) await page.goto(`${base}/records/${id}?purpose=${c.purpose}`);
          assert.deepEqual(await recordOutcomes(page), c.records[id], `${c.user} on ${id}`);
          assert.match((await page.textContent('[data-testid="declared-purpose"]')) ?? '', /利用目的/);
          assert.match((await page.textContent('.logged')) ?? '', /アクセスログに記録されました/);
        }
        await screenshot(page, `02-record-${c.user}`);
      } finally {
        await context.close();
      }
    }
  });

  test('an access administrator holds no customer.read grant: the record is refused, and the refusal is logged', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.admin, 'audit_review');
      await page.goto(`${base}/records/${SP.R3}?purpose=audit_review`);
      await page.waitForSelector('[role="alert"][data-error-code="permission_not_granted"]');
      assert.equal(await page.$('table.record'), null);
      const { rows } = await db.query<{ refusal: string }>(`SELECT refusal FROM access_log WHERE user_id = $1 ORDER BY seq DESC LIMIT 1`, [USERS.admin]);
      assert.equal(rows[0]?.refusal, 'permission_not_granted');
    } finally {
      await context.close();
    }
  });

  test('masked fields state their reason in words, and their values never reach the page', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.retail, 'own_customer_service');
      await page.goto(`${base}/records/${SP.SWITCHED}?purpose=own_customer_service`);
      await page.waitForSelector('table.record');
      assert.equal(await page.textContent('tr[data-field="holder_name"] [data-masked]'), '非表示: 非公開情報：過去の自社需要家');
      const html = await page.content();
      for (const secret of ['佐藤 花子', '080-3333-4444', 'みらいでんき']) assert.ok(!html.includes(secret), `${secret} must not be in the page`);
      await screenshot(page, '03-record-masked-former');

      await page.goto(`${base}/records/${SP.R3}?purpose=own_customer_service`);
      await page.waitForSelector('table.record');
      assert.equal(await page.textContent('tr[data-field="phone"] [data-masked]'), '非表示: 非公開情報：自社の需要家ではありません');
      assert.ok(!(await page.content()).includes('株式会社青葉精工'));

      await page.goto(`${base}/records/${SP.OWN_A}?purpose=own_customer_service`);
      await page.waitForSelector('table.record');
      assert.equal(await page.textContent('tr[data-field="holder_name"] td'), '山田 太郎');
      assert.equal(await page.textContent('tr[data-field="network_notes"] [data-masked]'), '非表示: 送配電専用情報');
    } finally {
      await context.close();
    }
  });

  test('search by address lists public fields of any point; name search is offered only where allowed and finds only own customers', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.retail, 'own_customer_service');
      await page.fill('#term', '一番町');
      await page.click('form.search button[type="submit"]');
      await page.waitForSelector('table.results');
      const rows = await page.$$eval('table.results tbody tr', (trs) =>
        trs.map((tr) => [
          tr.getAttribute('data-supply-point'),
          tr.querySelector('td[data-field="holder_name"] [data-masked]')?.getAttribute('data-masked') ??
            tr.querySelector('td[data-field="holder_name"]')?.textContent,
        ]),
      );
      assert.deepEqual(Object.fromEntries(rows), { [SP.OWN_A]: '山田 太郎', [SP.SWITCHED]: 'former_customer', [SP.CORP_A]: '株式会社青葉精工' });
      await screenshot(page, '04-search-address');

      assert.equal(await page.isVisible('input[name="by"][value="name"]'), true);
      await page.check('input[name="by"][value="name"]');
      await page.fill('#term', '山田');
      await page.click('form.search button[type="submit"]');
      await page.waitForSelector('table.results');
      assert.deepEqual(await page.$$eval('table.results tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-supply-point'))), [SP.OWN_A]);
      // 佐藤 花子 is a former customer: searching her name must find nothing, not a masked row.
      await page.fill('#term', '佐藤');
      await page.click('form.search button[type="submit"]');
      await page.waitForSelector('text=該当する供給地点はありません。');
      assert.equal(await page.$('table.results'), null);
      await screenshot(page, '05-search-name-none');
    } finally {
      await context.close();
    }
    const compliance = await open();
    try {
      await loginAs(compliance.page, USERS.compliance, 'audit_review');
      // Compliance opens on its home screen; the look-up is in the menu.
      await compliance.page.click('nav a[href="/search"]');
      await compliance.page.waitForSelector('input[name="by"][value="address"]');
      assert.equal(await compliance.page.$('input[name="by"][value="name"]'), null, 'compliance may not search by name');
      assert.equal(await compliance.page.$('input[name="by"][value="phone"]'), null);
    } finally {
      await compliance.context.close();
    }
  });

  test('nothing is looked up before a purpose is declared', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.callCentre);
      assert.equal(await page.inputValue('#purpose'), '');
      assert.equal(await page.isDisabled('#term'), true);
      const before = await logCount(db);
      await page.goto(`${base}/records/${SP.OWN_A}`);
      await page.waitForSelector('text=照会の前に利用目的を選んでください');
      assert.equal(await page.$('table.record'), null);
      assert.equal(await logCount(db), before, 'no read was made');
      await screenshot(page, '06-purpose-required');
    } finally {
      await context.close();
    }
  });

  test('English is one click away, remembered, and dates stay in Japan time in any browser zone', async () => {
    const { context, page } = await open({ timezoneId: 'America/New_York' });
    try {
      await page.click('button.lang');
      assert.equal(await page.textContent('h1'), 'Log in');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await loginAs(page, USERS.callCentre, 'customer_inquiry');
      await page.goto(`${base}/records/${SP.SWITCHED}?purpose=customer_inquiry`);
      await page.waitForSelector('table.record');
      assert.equal(await page.textContent('tr[data-field="holder_name"] th'), 'Contract holder');
      assert.equal(await page.textContent('tr[data-field="network_notes"] [data-masked]'), 'Masked: Network-only information');
      // Contracts change at midnight Japan time; New York's calendar would show the day before.
      const history = (await page.textContent('tr[data-field="contract_history"] td')) ?? '';
      assert.match(history, /1 Apr 2020 〜 current/);
      assert.doesNotMatch(history, /31 Mar 2020/);
      await screenshot(page, '07-record-english');
      await page.reload();
      await page.waitForSelector('table.record');
      assert.equal(await page.textContent('tr[data-field="holder_name"] th'), 'Contract holder', 'language kept after reload');
    } finally {
      await context.close();
    }
  });

  test('compliance sees the masking checklist; other people are not offered it', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.compliance);
      await page.click('nav a[href="/checklist"]');
      await page.waitForSelector('[data-testid="checklist-verdict"]');
      assert.match((await page.textContent('[data-testid="checklist-verdict"]')) ?? '', /^検証合格/);
      // Affiliated retail, other retailer's customer, normal times: holder masked; own customer: shown.
      await page.selectOption('.filters select >> nth=1', 'affiliated_retail');
      assert.equal(
        await page.getAttribute('table.matrix tr[data-field="holder_name"] td[data-relation="other"][data-emergency="false"]', 'class'),
        'cell-masked',
      );
      assert.equal(await page.getAttribute('table.matrix tr[data-field="holder_name"] td[data-relation="own"][data-emergency="false"]', 'class'), 'cell-shown');
      assert.equal(
        await page.getAttribute('table.matrix tr[data-field="holder_name"] td[data-relation="other"][data-emergency="true"]', 'class'),
        'cell-shown',
        'emergency support sees outage contacts',
      );
      assert.equal(await page.getAttribute('table.matrix tr[data-field="usage"] td[data-relation="other"][data-emergency="true"]', 'class'), 'cell-masked');
      // The inquiry allowances beside it: with consent, a switching case gives the capacity at once, a move-in only from the queue.
      assert.match((await page.textContent('[data-testid="inquiry-verdict"]')) ?? '', /^照会の規則：問題なし/);
      const allowance = (item: string, c: string) =>
        page.getAttribute(`[data-testid="inquiry-checklist"] tr[data-field="${item}"] td[data-case="${c}"]`, 'data-answering');
      assert.equal(await allowance('contracted_capacity', 'switching'), 'at_once');
      assert.equal(await allowance('contracted_capacity', 'move_in'), 'queue');
      assert.equal(await allowance('phone', 'switching'), 'never');
      await screenshot(page, '08-checklist');
      const head = await page.evaluate(async () => [...new Uint8Array(await (await fetch('/api/policy/checklist?format=csv')).arrayBuffer()).slice(0, 3)]);
      assert.deepEqual(head, [0xef, 0xbb, 0xbf], 'the CSV opens cleanly in Excel (UTF-8 with BOM)');
    } finally {
      await context.close();
    }
    const retail = await open();
    try {
      await loginAs(retail.page, USERS.retail, 'own_customer_service');
      assert.equal(await retail.page.$('nav a[href="/checklist"]'), null);
      await retail.page.goto(`${base}/checklist`);
      await retail.page.waitForSelector('#search-title');
      assert.equal(await retail.page.$('table.matrix'), null);
    } finally {
      await retail.context.close();
    }
  });

  test('changing the purpose on a record re-reads it under the new purpose, and the log says so', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.serviceCentre, 'customer_inquiry');
      await page.goto(`${base}/records/${SP.OWN_A}?purpose=customer_inquiry`);
      assert.equal((await recordOutcomes(page))['network_notes'], 'network_only');
      const before = await logCount(db);
      await page.selectOption('#purpose', 'outage_response');
      await page.waitForSelector('tr[data-field="network_notes"] [data-shown]');
      assert.match(page.url(), /purpose=outage_response/);
      assert.match((await page.textContent('[data-testid="declared-purpose"]')) ?? '', /停電・故障対応/);
      const { rows } = await db.query<{ purpose: string }>('SELECT purpose FROM access_log ORDER BY seq DESC LIMIT 1');
      assert.equal(await logCount(db), before + 1);
      assert.equal(rows[0]?.purpose, 'outage_response');
    } finally {
      await context.close();
    }
  });

  test('a session ended on the server sends the console back to the login screen', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.callCentre, 'customer_inquiry');
      await db.query(`UPDATE sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL`, [USERS.callCentre]);
      await new Promise((r) => setTimeout(r, 1100)); // the server's session cache period (1 s)
      await page.fill('#term', '一番町');
      await page.click('form.search button[type="submit"]');
      await page.waitForSelector('button.persona');
      assert.equal(await page.textContent('h1'), 'ログイン');
    } finally {
      await context.close();
    }
  });

  test('compliance searches the access log and verifies the chain; a changed row is caught and named', async () => {
    const { context, page } = await open();
    try {
      await loginAs(page, USERS.compliance);
      await page.click('nav a[href="/audit"]');
      await page.waitForSelector('table.audit');
      // The XLSX download's limit is said beside it (a longer period is refused: CSV or JSON Lines).
      assert.match((await page.textContent('main')) ?? '', /Excel は 20,000 行まで/);
      await page.fill('input[name="person"]', USERS.retail);
      await page.click('.audit-filters button[type="submit"]');
      await page.waitForURL(/person=u-retail/);
      // The URL changes before the filtered page arrives: wait for the table to show only that person's rows (a
      // loaded run once read the unfiltered table still on screen), or fail on the time-out with the rows below.
      await page
        .waitForFunction(
          `[...document.querySelectorAll('table.audit tbody tr td:nth-child(3)')].every((td) => td.textContent.includes('${USERS.retail}')) && document.querySelectorAll('table.audit tbody tr').length > 0`,
          undefined,
          { timeout: 15_000 },
        )
        .catch(() => undefined);
      const users = await page.$$eval('table.audit tbody tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent ?? ''));
      assert.ok(users.length > 0 && users.every((u) => u.includes(USERS.retail)), users.join(' | '));
      await page.click('[data-testid="chain-status"] button');
      await page.waitForSelector('[data-testid="verify-result"]');
      assert.match((await page.textContent('[data-testid="verify-result"]')) ?? '', /^検証合格/);
      await screenshot(page, '10-audit-log');

      const { rows } = await db.query<{ seq: string }>(`SELECT min(seq)::text AS seq FROM access_log WHERE user_id = $1`, [USERS.retail]);
      const seq = rows[0]?.seq ?? '0';
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`UPDATE access_log SET purpose = 'switching_support' WHERE seq = $1`, [seq]);
      });
      await page.click('[data-testid="chain-status"] button');
      await page.waitForSelector('[data-testid="verify-result"].error');
      assert.match((await page.textContent('[data-testid="verify-result"]')) ?? '', new RegExp(`^改ざんを検知しました：記録 ${seq} — 内容が改変されています`));
      await screenshot(page, '11-audit-tampered');
    } finally {
      await context.close();
    }
    const retail = await open();
    try {
      await loginAs(retail.page, USERS.retail, 'own_customer_service');
      assert.equal(await retail.page.$('nav a[href="/audit"]'), null, 'retail staff are not offered the log');
    } finally {
      await retail.context.close();
    }
  });

  test('works from the keyboard and in a narrow window; logging out ends the session', async () => {
    const { context, page } = await open({ width: 390, height: 800 });
    try {
      await page.waitForSelector('button.persona');
      await page.focus(`button.persona[data-user="${USERS.otherRetailer}"]`);
      await page.keyboard.press('Enter');
      await page.waitForSelector('#purpose');
      await page.focus('#purpose');
      await page.selectOption('#purpose', 'own_customer_service');
      await page.focus('#term');
      await page.keyboard.type('一番町');
      await page.keyboard.press('Enter');
      await page.waitForSelector('table.results');
      await page.goto(`${base}/records/${SP.SWITCHED}?purpose=own_customer_service`);
      await page.waitForSelector('table.record');
      const overflow = await page.$eval('html', (html) => html.scrollWidth - html.clientWidth);
      assert.ok(overflow <= 0, `no sideways scrolling at 390 px (overflow ${overflow} px)`);
      await screenshot(page, '09-record-narrow');
      await page.click('button.secondary');
      await page.waitForSelector('button.persona');
      const status = await page.evaluate(async () => (await fetch('/api/me')).status);
      assert.equal(status, 401, 'the session is gone after logout');
    } finally {
      await context.close();
    }
  });
});

async function logCount(db: Db): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log')).rows[0]?.n ?? 0;
}
