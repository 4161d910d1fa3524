import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { vocabulary } from '../../src/api/vocabulary-routes.ts';
import { LOG_HEADS } from '../../src/audit/export.ts';
import { checklistDoc } from '../../src/firewall/verify.ts';
import { reviewDoc } from '../../src/governance/emergency-review-output.ts';
import type { Review } from '../../src/governance/emergency-review.ts';
import { reconciliationDoc } from '../../src/identity/terminal-report.ts';
import { encodeCp932 } from '../../src/spreadsheet/cp932.ts';
import type { SpreadsheetDoc } from '../../src/spreadsheet/table.ts';
import { ReviewRefused } from '../../src/analysis/review.ts';
import { SideCrossingRefused } from '../../src/api/session-routes.ts';
import { SWEEP_RULES } from '../../src/contract/admin.ts';
import { ACCESS_REFUSALS } from '../../src/domain/access-refusals.ts';
import { ANALYSIS_RULES, FINDING_RULES, findingRuleLabel, LIVE_RULES } from '../../src/domain/finding-rules.ts';
import { GOVERNANCE_ACTIONS, GOVERNANCE_OUTCOMES, GOVERNANCE_SUBJECT_TYPES } from '../../src/domain/governance-actions.ts';
import { ASSIGNMENT_PROBLEMS, SIDES } from '../../src/domain/organization.ts';
import { PURPOSES } from '../../src/domain/purpose.ts';
import { READ_LIMIT_RULES } from '../../src/domain/read-limits.ts';
import { REFUSAL_RULE_LABELS } from '../../src/domain/refusal-labels.ts';
import { SOD_RULES } from '../../src/domain/separation-of-duties.ts';
import { SITE_SIDES, TERMINAL_SETTINGS } from '../../src/domain/terminal.ts';
import { DATA_ROUTES } from '../../src/firewall/firewall.ts';
import { EmergencyActionRefused } from '../../src/governance/emergency-refusals.ts';
import { GRANT_RULES } from '../../src/governance/grant-rules.ts';
import { GrantRefusal } from '../../src/governance/grant-service.ts';
import { InquiryRefused } from '../../src/governance/inquiries.ts';
import { TokenError } from '../../src/identity/api-tokens.ts';
import { AccountError } from '../../src/identity/local-accounts.ts';
import { OidcBindingError } from '../../src/identity/oidc.ts';
import { DeviceError } from '../../src/identity/terminal-devices.ts';
import { TerminalRequestError } from '../../src/identity/terminal-requests.ts';
import { TerminalError } from '../../src/identity/terminals.ts';

/**
 * Issue 20, "Japanese everywhere a person reads": every code the console, a mail or a spreadsheet can show —
 * finding rules (analysis and live), the access log's routes and refusals, sides, terminal settings, governance
 * actions and the rules that refuse them — has its label in Japanese and English in the vocabulary the console
 * reads (GET /api/vocabulary), from one place each. The codes come from the sources' own lists, and the
 * finding rules and governance actions also from the source text, so a rule raised or an action recorded
 * without a label fails here.
 */

const SRC = join(import.meta.dirname, '../../src');
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;
const v = vocabulary();

function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [{ file: join(dir, d.name), text: readFileSync(join(dir, d.name), 'utf8') }] : [],
  );
}

function assertLabelled(what: string, labels: Readonly<Partial<Record<string, { ja: string; en: string }>>>, codes: readonly string[]): void {
  for (const code of codes) {
    const l = labels[code];
    assert.ok(l !== undefined, `${what} ${code} has no label`);
    assert.match(l.ja, JAPANESE, `${what} ${code}: the Japanese label is in Japanese (${l.ja})`);
    assert.ok(l.en.trim() !== '' && l.en !== code, `${what} ${code}: an English label other than the code`);
    assert.notEqual(l.ja, code);
  }
}

describe('every code a person reads has its label in Japanese and English', () => {
  test('finding rules: every analysis and live rule, in the vocabulary', () => {
    assert.deepEqual([...new Set([...ANALYSIS_RULES, ...LIVE_RULES])].sort(), [...FINDING_RULES].sort(), 'FINDING_RULES is the analysis and the live rules');
    for (const r of READ_LIMIT_RULES) assert.ok((FINDING_RULES as readonly string[]).includes(r), `the read limit ${r} raises findings`);
    assertLabelled('finding rule', v.findingRules, FINDING_RULES);
  });

  test('every rule a finding is raised under in the source is a labelled finding rule', () => {
    const raised = new Set<string>();
    for (const { file, text } of sources(SRC))
      for (const m of text.matchAll(/\brule:\s*([^\n]+?),\s*\n\s*severity\b/g))
        for (const lit of (m[1] ?? '').replace(/[!=]==\s*'[a-z_]+'/g, '').matchAll(/(?<!\[)'([a-z_]+)'/g)) raised.add(`${lit[1]}\t${file}`);
    const codes = [...raised].map((x) => x.split('\t')[0] ?? '');
    assert.ok(
      codes.includes('bulk_reading') && codes.includes('retail_on_network_terminal') && codes.includes('emergency_not_registered'),
      'the scan finds raises',
    );
    for (const x of raised) {
      const [code, file] = x.split('\t');
      assert.ok(
        (FINDING_RULES as readonly string[]).includes(code ?? ''),
        `${file} raises ${code}, which is not in FINDING_RULES (domain/finding-rules.ts): give it a label there`,
      );
    }
  });

  test('a finding rule is named in words; a code from elsewhere is named by itself (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...FINDING_RULES), fc.string()), (code) => {
        const l = findingRuleLabel(code);
        if ((FINDING_RULES as readonly string[]).includes(code)) assert.ok(JAPANESE.test(l.ja) && !l.ja.includes(code));
        else assert.deepEqual(l, { ja: code, en: code });
      }),
    );
  });

  test('the access log: every data route and every refusal of a read', () => {
    assert.deepEqual(
      Object.keys(v.routes).sort(),
      DATA_ROUTES.map((r) => r.route).sort(),
      'the routes the access log can show (route-access.test.ts: exactly DATA_ROUTES)',
    );
    assertLabelled(
      'route',
      v.routes,
      DATA_ROUTES.map((r) => r.route),
    );
    assertLabelled('access refusal', v.accessRefusals, ACCESS_REFUSALS);
    for (const r of READ_LIMIT_RULES) assert.ok((ACCESS_REFUSALS as readonly string[]).includes(r), `a read refused by ${r} is named`);
  });

  test('sides, purposes, terminal settings and where a terminal stands', () => {
    assertLabelled('side', v.sides, SIDES);
    assertLabelled('purpose', v.purposes, PURPOSES);
    assertLabelled('terminal setting', v.terminalSettings, TERMINAL_SETTINGS);
    assertLabelled('site side', v.siteSides, SITE_SIDES);
  });

  test('the governance log: every action, subject and outcome', () => {
    assertLabelled('governance action', v.governanceActions, GOVERNANCE_ACTIONS);
    assertLabelled('governance subject', v.governanceSubjects, GOVERNANCE_SUBJECT_TYPES);
    assertLabelled('governance outcome', v.governanceOutcomes, GOVERNANCE_OUTCOMES);
    const recorded = new Set<string>();
    for (const { file, text } of sources(SRC)) for (const m of text.matchAll(/\baction: '([a-z_.]+\.[a-z_.]+)'/g)) recorded.add(`${m[1]}\t${file}`);
    assert.ok(recorded.size > 30, 'the scan finds recorded actions');
    for (const x of recorded) {
      const [code, file] = x.split('\t');
      assert.ok((GOVERNANCE_ACTIONS as readonly string[]).includes(code ?? ''), `${file} records ${code}, which has no label in domain/governance-actions.ts`);
    }
  });

  test('the rules that refuse: every rule of every refusal family, and the login, sweep and HR-system rules', () => {
    const families = [
      GrantRefusal,
      TokenError,
      EmergencyActionRefused,
      InquiryRefused,
      TerminalError,
      TerminalRequestError,
      DeviceError,
      AccountError,
      OidcBindingError,
      ReviewRefused,
      SideCrossingRefused,
    ];
    const rules = [
      ...families.flatMap((f) => Object.keys(f.kinds)),
      ...GRANT_RULES,
      ...SOD_RULES,
      ...SWEEP_RULES,
      ...ASSIGNMENT_PROBLEMS,
      // The login's refusals (identity/session-store.ts) and the enrolment code's (identity/terminal-devices.ts).
      'dormant_account',
      'account_without_person',
      'code_unknown',
      'code_used',
      'code_expired',
    ];
    assert.ok(rules.includes('self_approval') && rules.includes('consent_expired'), 'the families are read');
    assertLabelled('refusal rule', REFUSAL_RULE_LABELS, rules);
    assert.deepEqual(v.refusalRules, REFUSAL_RULE_LABELS, 'served as they are');
  });
});

describe("the console's downloads are headed in Japanese (formats.md's files keep their own names)", () => {
  const docs: readonly [string, SpreadsheetDoc][] = [
    ['terminal reconciliation', reconciliationDoc({ at: new Date('2026-11-01T00:00:00Z'), unusedDays: 30, terminals: 0, misplaced: [], unused: [] })],
    ['emergency review', reviewDoc('E-1', { reads: [], refused: [] } as unknown as Review)],
    ['masking checklist', checklistDoc([])],
  ];
  test('every column head is Japanese and survives CP932 (the ?encoding=cp932 download)', () => {
    const heads = [
      ...Object.values(LOG_HEADS).map((h) => ['access log', h] as const),
      ...docs.flatMap(([n, d]) => d.tables.flatMap((t) => t.columns.map((c) => [n, c.head] as const))),
    ];
    assert.ok(heads.length > 40);
    for (const [what, head] of heads) {
      assert.match(head, JAPANESE, `${what}: the head ${head} is in Japanese`);
      assert.equal(encodeCp932(head).replaced, 0, `${what}: ${head} in CP932`);
    }
    assert.equal(new Set(Object.values(LOG_HEADS)).size, Object.keys(LOG_HEADS).length, 'no two access-log columns headed alike');
  });
});
