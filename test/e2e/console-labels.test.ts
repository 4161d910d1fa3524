import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { raiseFinding } from '../../src/analysis/findings.ts';
import { CONSOLE_DIR } from '../../src/api/console.ts';
import { recordGovernance } from '../../src/audit/governance-log.ts';
import { ACCESS_REFUSAL_LABELS, ACCESS_REFUSALS, isAccessRefusal } from '../../src/domain/access-refusals.ts';
import { FINDING_RULES } from '../../src/domain/finding-rules.ts';
import { FINDING_STATUSES, SEVERITIES } from '../../src/domain/finding.ts';
import { GOVERNANCE_ACTIONS, GOVERNANCE_OUTCOMES, GOVERNANCE_SUBJECT_TYPES } from '../../src/domain/governance-actions.ts';
import { SIDES } from '../../src/domain/organization.ts';
import { PURPOSES } from '../../src/domain/purpose.ts';
import { REFUSAL_RULE_LABELS } from '../../src/domain/refusal-labels.ts';
import { SITE_SIDES, TERMINAL_SETTINGS } from '../../src/domain/terminal.ts';
import { DATA_ROUTES } from '../../src/firewall/firewall.ts';
import type { Db } from '../../src/store/db.ts';
import { login, testApp, type Session } from '../support/app.ts';
import { screenshot, startConsole, type ConsoleHarness } from '../support/browser.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles, seedFixture, seedPersonas } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * Issue 20, "Japanese everywhere a person reads", walked in Chromium: the findings, analysis, access log,
 * terminals, governance log and grants screens, as the personas who see them, show no known code standing
 * alone — every rule, side, purpose, terminal setting, route, refusal, governance action and outcome is in
 * words; a code may stand only in its small print beside the words (`<code class="code">`). The codes are
 * collected from the same lists the labels are made from (src/domain/*), and the screens are filled first
 * with one finding of every rule, one governance event of every action and refused reads, so each list shows.
 * Options are not read: they cannot hold markup, and each gives its words first with the ID in brackets.
 * `GRIDWALL_TEST_CONSOLE_DIR` runs the same walk against another build of the console (e.g. an older one).
 */

/** Tokens that are codes: a screen's text may not hold one as a word of its own. */
const CODES: ReadonlySet<string> = new Set([
  ...FINDING_RULES,
  ...ACCESS_REFUSALS,
  ...SIDES,
  ...PURPOSES,
  ...TERMINAL_SETTINGS,
  ...SITE_SIDES,
  ...GOVERNANCE_ACTIONS,
  ...GOVERNANCE_SUBJECT_TYPES,
  ...GOVERNANCE_OUTCOMES,
  ...Object.keys(REFUSAL_RULE_LABELS),
  ...SEVERITIES,
  ...FINDING_STATUSES,
]);
/** Routes are matched as they are written, spaces and all (`GET /api/supply-points/:id`), and by their path. */
const ROUTES: readonly string[] = DATA_ROUTES.flatMap((r) => [r.route, r.route.slice(r.route.indexOf(' ') + 1)]);

/**
 * The text a person reads: every text node of the page but those inside a code's small print, scripts and
 * styles. A string, so the test's TypeScript needs no DOM types.
 */
const VISIBLE_TEXT = `(() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
    const el = n.parentElement;
    // An option cannot hold markup: the console's options give the words, then the ID in brackets.
    if (el === null || el.closest('code.code, option, script, style, noscript') !== null) continue;
    if (n.textContent.trim() !== '') out.push(n.textContent);
  }
  return out;
})()`;

/** Each code that stands alone in the page's text, with the text it stands in. */
async function bareCodes(page: Page): Promise<string[]> {
  const texts = await page.evaluate<string[]>(VISIBLE_TEXT);
  const found: string[] = [];
  for (const text of texts) {
    for (const token of text.split(/[^A-Za-z0-9_.-]+/)) if (CODES.has(token.replace(/\.$/, ''))) found.push(`${token} in "${text.trim().slice(0, 80)}"`);
    for (const route of ROUTES) if (text.includes(route)) found.push(`${route} in "${text.trim().slice(0, 80)}"`);
  }
  return [...new Set(found)];
}

describe('no code without its words on the screens (issue 20)', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let ui: ConsoleHarness;

  before(async () => {
    ({ db, dispose } = await STORES[0]!.open());
    await seedFixture(db);
    await seedPersonas(db, ['cc', 'nsc', 'retail', 'comp', 'admin']);
    await seedEmergencyRoles(db);
    app = await testApp(db, { consoleDir: process.env['GRIDWALL_TEST_CONSOLE_DIR'] ?? CONSOLE_DIR, now: () => NOW });
    // What fills the screens: reads served and refused (the access log), one finding of every rule, one
    // governance event of every action (refused under a rule), a terminal registered today and never used.
    const retail = await login(app, USERS.retail, TERMINALS.RETAIL);
    const get = (s: Session, url: string) => app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    assert.equal((await get(retail, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`)).statusCode, 200);
    assert.equal((await get(retail, `/api/supply-points?purpose=own_customer_service&address=${encodeURIComponent('仙台')}`)).statusCode, 200);
    assert.equal((await get(retail, `/api/supply-points/${SP.R3}?purpose=emergency_support&reason=${encodeURIComponent('停電対応')}`)).statusCode, 403);
    for (const [i, rule] of FINDING_RULES.entries())
      await raiseFinding(db, {
        rule,
        severity: SEVERITIES[i % SEVERITIES.length] ?? 'low',
        occurredAt: NOW,
        detectedAt: NOW,
        source: 'live',
        subjectPersonId: null,
        subjectUserId: null,
        subjectKey: `terminal:T-LABEL-${i}`,
        summary: `確認用の要確認事項 ${i + 1}`,
        evidence: {},
      });
    const rules = Object.keys(REFUSAL_RULE_LABELS);
    for (const [i, action] of GOVERNANCE_ACTIONS.entries())
      await recordGovernance(db, {
        at: new Date(NOW.getTime() - i * 1000),
        actor: { kind: 'system', job: 'test' },
        action,
        subjectType: GOVERNANCE_SUBJECT_TYPES[i % GOVERNANCE_SUBJECT_TYPES.length] ?? 'grant',
        subjectId: `S-${i}`,
        outcome: i % 2 === 0 ? 'refused' : 'done',
        rule: rules[i % rules.length] ?? null,
      });
    const admin = await login(app, USERS.admin, TERMINALS.NSC);
    const saved = await app.inject({
      method: 'PUT',
      url: '/api/terminals/T-LABEL-NEW',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      payload: { organizationId: 'org-nw', office: '仙台', kind: 'dedicated', setting: 'retail', siteSide: 'shared' },
    });
    assert.ok(saved.statusCode === 200 || saved.statusCode === 201, saved.body);
    ui = await startConsole(app);
  });
  after(async () => {
    await ui?.close();
    await dispose?.();
  });

  /**
   * The screens that must show coded labels (each filled by the setup above), grouped by who opens them: one
   * session per persona, its screens in turn (a login per screen doubled the file's time).
   */
  const SCREENS: readonly { who: string; screens: readonly { path: string; ready: string; name: string }[] }[] = [
    {
      who: USERS.compliance,
      screens: [
        { path: '/findings', ready: '[data-testid="findings"] tr[data-rule="emergency_not_registered"]', name: 'findings' },
        { path: '/analysis', ready: '[data-testid="report"]', name: 'analysis' },
        { path: '/audit', ready: 'table.audit tr.refused', name: 'audit' },
        { path: '/grants', ready: '[data-testid="grants"], [data-testid="grant-request"]', name: 'grants-compliance' },
      ],
    },
    {
      who: USERS.admin,
      screens: [
        { path: '/terminals', ready: '[data-testid="terminals"] tr[data-terminal="T-LABEL-NEW"]', name: 'terminals' },
        { path: '/governance', ready: '[data-testid="governance-events"] tr[data-action="terminal.device_enroll"]', name: 'governance' },
        { path: '/grants', ready: '[data-testid="grants"]', name: 'grants-admin' },
        { path: '/grants/queue', ready: 'h1', name: 'grant-queue' },
      ],
    },
    { who: USERS.retail, screens: [{ path: '/grants', ready: '[data-testid="grant-request"]', name: 'grants-retail' }] },
  ];
  /**
   * The rest of the console, as each persona opens it (issue 20: "a walk through the console as each persona
   * shows no untranslated code"): these screens need not show a coded label, but none may show a bare code.
   */
  const WALK: readonly { who: string; paths: readonly string[] }[] = [
    { who: USERS.admin, paths: ['/', '/people', '/tokens', '/campaigns', '/emergencies', '/checklist', '/audit'] },
    { who: USERS.compliance, paths: ['/', '/emergencies', '/checklist', '/governance', '/campaigns'] },
    { who: USERS.retail, paths: ['/', '/grants', '/inquiries'] },
    { who: USERS.callCentre, paths: ['/', '/grants'] },
    { who: USERS.serviceCentre, paths: ['/', '/inquiries/queue', '/inquiries/equal-treatment'] },
  ];
  for (const w of WALK)
    test(`walk as ${w.who}: ${w.paths.join(' ')} show no code without its words`, async () => {
      // One session per persona, its screens in turn (a login per screen would double the walk's time).
      const { context, page } = await ui.as(w.who);
      try {
        for (const path of w.paths) {
          await page.goto(`${ui.base}${path}`);
          await page.waitForSelector('main h1, main h2');
          await page.waitForLoadState('networkidle');
          assert.deepEqual(await bareCodes(page), [], `${path}: codes standing alone`);
          const missing = await page.$$eval('[data-missing-label]', (els) => els.map((e) => e.textContent ?? ''));
          assert.deepEqual(missing, [], `${path}: codes shown without their words`);
        }
      } finally {
        await context.close();
      }
    });

  for (const p of SCREENS)
    test(`${p.screens.map((s) => s.path).join(' ')} as ${p.who}: every code in words`, async () => {
      const { context, page } = await ui.as(p.who);
      try {
        for (const s of p.screens) {
          await page.goto(`${ui.base}${s.path}`);
          await page.waitForSelector(s.ready);
          await page.waitForLoadState('networkidle');
          await screenshot(page, `labels-${s.name}`);
          assert.deepEqual(await bareCodes(page), [], `${s.path}: codes standing alone`);
          // A code in small print must have its words beside it: CodedLabel marks one that has none.
          const missing = await page.$$eval('[data-missing-label]', (els) => els.map((e) => e.textContent ?? ''));
          assert.deepEqual(missing, [], `${s.path}: codes shown without their words`);
          // The walk saw coded labels at all (an empty page would pass the two checks above).
          assert.ok((await page.$$('code.code')).length > 0, `${s.path}: no coded label on the screen`);
        }
      } finally {
        await context.close();
      }
    });

  test('the words are there, with the code in small print beside them', async () => {
    const { context, page } = await ui.as(USERS.compliance);
    try {
      await page.goto(`${ui.base}/findings`);
      const cell = await page.waitForSelector('tr[data-rule="emergency_not_registered"] [data-testid="finding-rule"]');
      await page.waitForFunction(
        `document.querySelector('tr[data-rule="emergency_not_registered"] [data-testid="finding-rule"]').textContent.includes('登録')`,
      );
      assert.equal(await cell.$eval('code.code', (c) => c.textContent), 'emergency_not_registered');
      assert.match((await cell.textContent()) ?? '', /^非常災害時の支援者として登録されていない人による支援目的の照会 emergency_not_registered$/);
      await page.goto(`${ui.base}/audit`);
      const refusal = await page.waitForSelector('table.audit tr.refused [data-testid="refusal"]');
      const code = (await refusal.$eval('code.code', (c) => c.textContent)) ?? '';
      assert.ok(isAccessRefusal(code), code);
      assert.equal(await refusal.textContent(), `${ACCESS_REFUSAL_LABELS[code].ja} ${code}`);
      assert.match((await page.textContent('table.audit tr.refused [data-testid="route"]')) ?? '', /^供給地点の照会 GET \/api\/supply-points\/:id$/);
    } finally {
      await context.close();
    }
  });

  test('a terminal registered today is not called unused: it says how long since its registration', async () => {
    const { context, page } = await ui.as(USERS.admin);
    try {
      await page.goto(`${ui.base}/terminals`);
      const usage = await page.waitForSelector('[data-testid="terminals"] tr[data-terminal="T-LABEL-NEW"] [data-testid="usage"]');
      assert.equal(await usage.getAttribute('data-unused'), 'false');
      assert.match((await usage.textContent()) ?? '', /^未使用（登録から\d+日）$/);
      assert.equal(await page.$('[data-testid="reconciliation"] tr[data-terminal="T-LABEL-NEW"]'), null, 'not in the reconciliation');
      const misplaced = await page.$$eval('[data-testid="reconciliation"] tbody tr', (rows) => rows.map((r) => r.getAttribute('data-misplaced')));
      assert.ok(misplaced.length > 0 && misplaced[0] === 'true', 'misplaced terminals first');
      assert.deepEqual(
        misplaced,
        [...misplaced].sort((a, b) => Number(b === 'true') - Number(a === 'true')),
      );
    } finally {
      await context.close();
    }
  });

  test("a refused grant request names the rule in words (the refusal's small print keeps the code)", async () => {
    const { context, page } = await ui.as(USERS.retail);
    try {
      await page.goto(`${ui.base}/grants`);
      await page.waitForSelector('select[name="permissionId"] option[value="access.admin"]', { state: 'attached' });
      await page.selectOption('select[name="permissionId"]', 'access.admin');
      await page.fill('input[name="reason"]', '権限の申請の確認');
      await page.click('[data-testid="grant-request"] button[type="submit"]');
      const note = await page.waitForSelector('[data-testid="refusal-rule"][data-rule="side_not_allowed"]');
      assert.match((await note.$eval('strong', (x) => x.textContent)) ?? '', /^[^a-z]*所属区分[^a-z]*$/, 'the rule in words');
      assert.equal(await note.$eval('code.code', (x) => x.textContent), 'side_not_allowed', 'the code in small print');
      assert.deepEqual(await bareCodes(page), []);
    } finally {
      await context.close();
    }
  });
});
