import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { ImportReport } from '../../src/contract/import.ts';
import { REGISTER_FILES, type RegisterFile } from '../../src/domain/register-import.ts';
import { loginAll, seededApp, type Session } from '../support/app.ts';
import { USERS } from '../support/fixture.ts';
import { REFUSAL_RULE_LABELS } from '../../src/domain/refusal-labels.ts';
import { expectedRows, legacyRegisters } from '../support/legacy-registers.ts';
import { STORES } from '../support/stores.ts';

/**
 * `POST /api/access/import` (the console's 台帳の取り込み), on both stores: access administration only; a dry
 * run answers every row's outcome and changes nothing; the import's grants wait for a second person, who is
 * never the operator; the same files again change nothing; a file that cannot be used is a 400 naming it.
 */

type Wire = Omit<ImportReport, 'at'> & { at: string };

function body(files: Partial<Record<RegisterFile, Buffer>>, dryRun: boolean) {
  const out: Record<string, { name: string; contentBase64: string }> = {};
  for (const f of REGISTER_FILES) {
    const b = files[f];
    if (b !== undefined) out[f] = { name: `${f}.csv`, contentBase64: b.toString('base64') };
  }
  return { dryRun, files: out };
}

for (const store of STORES) {
  describe(`the legacy registers over HTTP (${store.name})`, () => {
    const w = seededApp(store, { sessionCacheMs: 0 });
    let s: Record<string, Session>;
    before(async () => {
      s = await loginAll(w.app, [USERS.admin, USERS.compliance, USERS.callCentre]);
    });
    const post = (who: string, url: string, payload: unknown) =>
      w.app.inject({
        method: 'POST',
        url,
        payload: payload as Record<string, unknown>,
        headers: { cookie: s[who]?.cookie ?? '', 'x-csrf-token': s[who]?.csrf ?? '' },
      });
    const error = (res: { json: <T>() => T }) => res.json<{ error: { code: string; message: string; requestId: string; details?: { rule?: string } } }>().error;
    const count = async (sql: string) => Number((await w.db.query<{ n: string }>(sql)).rows[0]?.n);

    test('only access administration imports (403 for others, nothing written)', async () => {
      const before = await count('SELECT count(*) AS n FROM governance_events');
      for (const who of [USERS.compliance, USERS.callCentre]) {
        const res = await post(who, '/api/access/import', body(legacyRegisters(), false));
        assert.equal(res.statusCode, 403, `${who}: ${res.body}`);
      }
      assert.equal(await count(`SELECT count(*) AS n FROM persons WHERE id LIKE 'p-imp%'`), 0);
      // The refusals are evidence; nothing else is.
      assert.equal(await count(`SELECT count(*) AS n FROM governance_events WHERE action LIKE 'import.%'`), 0);
      assert.ok((await count('SELECT count(*) AS n FROM governance_events')) >= before);
    });

    test('dry run, import, a second person approves, the same files again change nothing', async () => {
      const files = legacyRegisters();
      const dry = await post(USERS.admin, '/api/access/import', body(files, true));
      assert.equal(dry.statusCode, 200, dry.body);
      const plan = dry.json<Wire>();
      assert.equal(plan.dryRun, true);
      assert.deepEqual(
        plan.rows.map((r) => ({ file: r.file, line: r.line, outcome: r.outcome, rule: r.rule })),
        expectedRows(),
      );
      // Every refused or rejected row carries its rule in Japanese and English, in the words every grant refusal uses.
      const refusedRow = plan.rows.find((r) => r.rule === 'side_not_allowed');
      assert.deepEqual(refusedRow?.ruleText, REFUSAL_RULE_LABELS['side_not_allowed']);
      assert.deepEqual(plan.rows.find((r) => r.rule === 'employment_mismatch')?.ruleText, REFUSAL_RULE_LABELS['employment_mismatch']);
      assert.ok(plan.rows.every((r) => (r.rule === null) === (r.ruleText === null)));
      assert.equal(await count(`SELECT count(*) AS n FROM persons WHERE id LIKE 'p-imp%'`), 0, 'the dry run changed nothing');
      assert.equal(await count(`SELECT count(*) AS n FROM grants WHERE user_id = 'u-imp1'`), 0);

      const done = await post(USERS.admin, '/api/access/import', body(files, false));
      assert.equal(done.statusCode, 200, done.body);
      const report = done.json<Wire>();
      assert.deepEqual(report.total, { read: 28, created: 4, updated: 0, unchanged: 7, requested: 3, skipped: 1, refused: 7, rejected: 6 });
      assert.equal(report.operator.userId, USERS.admin);

      // The imported grant is a request the operator made: they may not approve it; a second person may.
      const g = await w.db.query<{ id: string }>(`SELECT id FROM grants WHERE user_id = 'u-imp1' AND status = 'requested'`);
      const id = Number(g.rows[0]?.id);
      const self = await post(USERS.admin, `/api/grants/${id}/approve`, { comment: '移行分の確認' });
      assert.equal(self.statusCode, 403, self.body);
      assert.equal(error(self).details?.rule, 'self_approval');
      const second = await post(USERS.compliance, `/api/grants/${id}/approve`, { comment: '移行分の確認' });
      assert.equal(second.statusCode, 200, second.body);
      assert.equal(second.json<{ status: string }>().status, 'approved');

      const again = await post(USERS.admin, '/api/access/import', body(files, false));
      assert.equal(again.statusCode, 200, again.body);
      const rerun = again.json<Wire>();
      assert.equal(rerun.total.created + rerun.total.updated + rerun.total.requested, 0);
      assert.equal(rerun.rows.find((r) => r.file === 'grants' && r.line === 2)?.outcome, 'unchanged', 'the approved grant is held now');
      assert.equal(await count(`SELECT count(*) AS n FROM governance_events WHERE action = 'import.run'`), 2);
    });

    test('a file that cannot be used is a 400 naming it and why, in the one error shape; so is a malformed upload', async () => {
      const bad = Buffer.from('user_id,organization\r\nu-x,org-nw\r\n', 'utf8');
      const res = await post(USERS.admin, '/api/access/import', body({ staff: bad }, true));
      assert.equal(res.statusCode, 400, res.body);
      const e = error(res);
      assert.match(e.message, /staff\.csv: missing columns side, valid_from/);
      assert.equal(typeof e.requestId, 'string');
      const noName = await post(USERS.admin, '/api/access/import', { dryRun: true, files: { staff: { name: '../etc/passwd', contentBase64: 'AA==' } } });
      assert.equal(noName.statusCode, 400, noName.body);
      const extra = await post(USERS.admin, '/api/access/import', { dryRun: true, files: { roster: { name: 'a.csv', contentBase64: 'AA==' } } });
      assert.equal(extra.statusCode, 400, extra.body);
      // No register at all: a 400 saying so, and no empty import.run recorded.
      const runs = await count(`SELECT count(*) AS n FROM governance_events WHERE action = 'import.run'`);
      const empty = await post(USERS.admin, '/api/access/import', { dryRun: false, files: {} });
      assert.equal(empty.statusCode, 400, empty.body);
      assert.equal(error(empty).code, 'validation_failed');
      assert.match(error(empty).message, /no register given/);
      assert.equal(await count(`SELECT count(*) AS n FROM governance_events WHERE action = 'import.run'`), runs);
    });
  });
}
