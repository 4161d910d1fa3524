import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPLY_POINT_FIELD_KEYS } from '../../src/domain/classification.ts';
import { compileDecisionTable, type DecisionTable } from '../../src/domain/decision-table.ts';
import { checklist, checklistDoc, checklistMarkdown, findViolations } from '../../src/firewall/verify.ts';
import { csvFile } from '../../src/spreadsheet/csv-file.ts';
import { DATA_ROUTES } from '../../src/firewall/firewall.ts';
import { PRINCIPAL_CLASSES } from '../../src/domain/principal.ts';
import { runCli } from '../support/cli.ts';

const table = compileDecisionTable();

/** The real table with one decision flipped, as a careless policy edit would. */
function leaky(leak: { principalClass: string; relation: string; field: string; emergency?: boolean }): DecisionTable {
  const fi = SUPPLY_POINT_FIELD_KEYS.indexOf(leak.field as never);
  return {
    ...table,
    lookup: (pc, rel, f, e, p, i) =>
      pc === leak.principalClass && rel === leak.relation && f === fi && e === (leak.emergency ?? false)
        ? { kind: 'allow', basis: 'own_customer' }
        : table.lookup(pc, rel, f, e, p, i),
  };
}

test('the shipped policy has no violation', () => {
  assert.deepEqual(findViolations(table), []);
});

test('a retail principal seeing a former customer’s phone is a violation', () => {
  const v = findViolations(leaky({ principalClass: 'affiliated_retail', relation: 'former', field: 'phone' }));
  assert.ok(v.length > 0);
  assert.ok(v.every((x) => x.rule === 'retail_sees_non_own_non_public' && x.field === 'phone' && x.relation === 'former'));
});

test('an other-retailer principal seeing network notes of its own customer is a violation', () => {
  const v = findViolations(leaky({ principalClass: 'other_retailer', relation: 'own', field: 'network_notes' }));
  assert.ok(v.some((x) => x.rule === 'network_only_outside_network'));
});

test('emergency access to a non-contact field is a violation even inside an emergency', () => {
  const v = findViolations(leaky({ principalClass: 'affiliated_retail', relation: 'other', field: 'usage', emergency: true }));
  assert.ok(v.some((x) => x.rule === 'retail_sees_non_own_non_public' && x.emergency));
});

test('the checklist covers every route × principal class × relation × emergency × field', () => {
  const rows = checklist(table);
  const expected = DATA_ROUTES.filter((r) => r.via === 'lookup').reduce((n, r) => n + r.fields.length, 0) * PRINCIPAL_CLASSES.length * 4 * 2;
  assert.equal(PRINCIPAL_CLASSES.length, 8, 'seven kinds of person and the retailer system');
  assert.equal(rows.length, expected);
  const own = rows.find(
    (r) => r.route === 'GET /api/supply-points/:id' && r.principalClass === 'affiliated_retail' && r.relation === 'own' && !r.emergency && r.field === 'phone',
  );
  assert.equal(own?.outcome, 'shown');
  assert.deepEqual(own?.shownFor, ['own_customer_service', 'switching_support']);
  const other = rows.find((r) => r.principalClass === 'other_retailer' && r.relation === 'other' && r.field === 'holder_name');
  assert.equal(other?.outcome, 'masked');
  assert.deepEqual(other?.reasons, ['other_retailer_customer']);
  const system = rows.find((r) => r.principalClass === 'retailer_system' && r.relation === 'other' && r.emergency && r.field === 'phone');
  assert.equal(system?.outcome, 'masked', 'a retailer system never reads as emergency support');
  const md = checklistMarkdown(rows, table, []);
  assert.match(md, /Result: \*\*PASS\*\*/);
  assert.equal(csvFile(checklistDoc(rows), 'utf-8').body.toString('utf8').split('\r\n').length, rows.length + 2);
});

test('`gridwall verify` prints the checklist and exits 0; bad options exit 2', async () => {
  const ok = await runCli(['verify', '--format', 'csv']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.stdout.startsWith('\uFEFF照会経路,利用者区分,需要家との関係,非常災害時,項目,'));
  assert.match(ok.stderr, /verify: PASS/);
  const bad = await runCli(['verify', '--format', 'pdf']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /pdf/);
});
