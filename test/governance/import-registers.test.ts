import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Db } from '../../src/store/db.ts';
import { DEFAULT_SOD_POLICY } from '../../src/domain/separation-of-duties.ts';
import { REGISTER_FILES, type RegisterFile } from '../../src/domain/register-import.ts';
import { CsvFileError } from '../../src/legacy/csv-file.ts';
import { IMPORT_MARK, importOperator, importRegisters, type ImportResult, type RegisterSources } from '../../src/governance/legacy-import.ts';
import { handOverToScim } from '../../src/identity/scim.ts';
import { NOW, seedFixture, USERS } from '../support/fixture.ts';
import { expectedRows, legacyRegisters, staffWithChangedOffice } from '../support/legacy-registers.ts';
import { STORES } from '../support/stores.ts';

/**
 * `gridwall import`'s service (governance/legacy-import.ts) over generated registers with known ground truth
 * (test/support/legacy-registers.ts), on both stores: every row ends as its expected outcome and rule, a dry
 * run changes nothing, the import writes what it planned, and the same files again change nothing.
 */

const OPERATOR = { userId: USERS.admin, personId: 'p-admin' };

function uploads(files: Partial<Record<RegisterFile, Buffer>>): RegisterSources {
  const out: RegisterSources = {};
  for (const f of REGISTER_FILES) {
    const bytes = files[f];
    if (bytes !== undefined) out[f] = { name: `${f}.csv`, bytes };
  }
  return out;
}

const run = (db: Db, files: Partial<Record<RegisterFile, Buffer>>, dryRun: boolean, at = NOW) =>
  importRegisters(db, OPERATOR, uploads(files), { dryRun, at, sod: DEFAULT_SOD_POLICY });

/** What the store holds that an import could change, as one comparable value. */
async function snapshot(db: Db): Promise<string> {
  const parts: unknown[] = [];
  for (const sql of [
    'SELECT id, name FROM persons ORDER BY id',
    'SELECT user_id, person_id, disabled_at FROM accounts ORDER BY user_id',
    'SELECT person_id, organization_id, side, retailer_code, employment, office, duty, valid_from, valid_to FROM staff_assignments ORDER BY person_id, valid_from',
    'SELECT id, organization_id, office, kind, setting, site_side FROM terminals ORDER BY id',
    'SELECT terminal_id, status FROM terminal_requests ORDER BY id',
    'SELECT id, user_id, permission_id, status FROM grants ORDER BY id',
    'SELECT count(*) AS n FROM governance_events',
  ])
    parts.push((await db.query(sql)).rows);
  return JSON.stringify(parts);
}

const outcomes = (r: ImportResult) => r.rows.map((x) => ({ file: x.file, line: x.line, outcome: x.outcome, rule: x.rule }));
const changes = (r: ImportResult) => r.total.created + r.total.updated + r.total.requested;

for (const store of STORES) {
  describe(`gridwall import: the legacy registers into a live gridwall (${store.name})`, () => {
    test('every row becomes what the ground truth says, by file and line; the dry run plans exactly what the import then does and changes nothing', async () => {
      const { db, dispose } = await store.open();
      try {
        await seedFixture(db);
        const files = legacyRegisters();
        const before = await snapshot(db);
        const dry = await run(db, files, true);
        assert.equal(await snapshot(db), before, 'a dry run writes nothing, not even a governance event');
        assert.deepEqual(outcomes(dry), expectedRows());
        // Nothing is lost: each file's rows add up to the rows read.
        for (const f of REGISTER_FILES) {
          const c = dry.counts[f];
          assert.ok(c !== undefined);
          assert.equal(c.created + c.updated + c.unchanged + c.requested + c.skipped + c.refused + c.rejected, c.read, f);
        }
        assert.deepEqual(
          dry.files.map((f) => [f.file, f.encoding]),
          [
            ['staff', 'shift_jis'],
            ['terminals', 'utf-8'],
            ['permissions', 'utf-8'],
            ['grants', 'utf-8'],
          ],
        );

        const done = await run(db, files, false);
        assert.deepEqual(outcomes(done), expectedRows(), 'the import does what its dry run said');
        assert.deepEqual(done.counts.staff, { read: 8, created: 3, updated: 0, unchanged: 1, requested: 0, skipped: 0, refused: 2, rejected: 2 });
        assert.deepEqual(done.counts.grants, { read: 10, created: 0, updated: 0, unchanged: 1, requested: 1, skipped: 1, refused: 5, rejected: 2 });

        // Staff: the person, the account and the assignment, the side's narrowest duty, the leaver's last day inclusive.
        const a = await db.query<{ person_id: string; organization_id: string; side: string; duty: string; office: string; valid_to: Date | string | null }>(
          'SELECT person_id, organization_id, side, duty, office, valid_to FROM staff_assignments WHERE person_id IN ($1, $2) ORDER BY person_id',
          ['p-imp1', 'p-imp3'],
        );
        assert.deepEqual(
          a.rows.map((r) => [r.person_id, r.organization_id, r.side, r.duty, r.office]),
          [
            ['p-imp1', 'org-nw', 'network', 'call_centre', '本店'],
            ['p-imp3', 'org-nw', 'network', 'call_centre', '仙台コールセンター'],
          ],
        );
        assert.equal(new Date(a.rows[1]?.valid_to ?? 0).toISOString(), '2025-03-31T15:00:00.000Z');
        const names = await db.query<{ name: string }>(`SELECT name FROM persons WHERE id = 'p-imp2'`);
        assert.equal(names.rows[0]?.name, '青木 二', 'the CP932 register decoded');
        const retail = await db.query<{ retailer_code: string }>(`SELECT retailer_code FROM staff_assignments WHERE person_id = 'p-imp2'`);
        assert.equal(retail.rows[0]?.retailer_code, 'A0001', 'the retailer follows from the organization');
        for (const refused of ['p-imp4', 'p-imp5', 'p-imp6', 'p-imp7'])
          assert.equal((await db.query('SELECT 1 FROM persons WHERE id = $1', [refused])).rows.length, 0, `${refused} is not imported`);

        // Terminals: the plain one written, the two that widen kept as requests, nothing else.
        const t = await db.query<{ id: string }>(`SELECT id FROM terminals WHERE id LIKE 'T-IMP%' ORDER BY id`);
        assert.deepEqual(
          t.rows.map((r) => r.id),
          ['T-IMP1'],
        );
        const tr = await db.query<{ terminal_id: string; requested_by: string; status: string }>(
          'SELECT terminal_id, requested_by, status FROM terminal_requests ORDER BY terminal_id',
        );
        assert.deepEqual(
          tr.rows.map((r) => [r.terminal_id, r.requested_by, r.status]),
          [
            ['T-IMP2', USERS.admin, 'pending'],
            ['T-IMP3', USERS.admin, 'pending'],
          ],
        );

        // Grants: one request by the operator, awaiting a second person; nothing approved by the import.
        const g = await db.query<{ user_id: string; permission_id: string; status: string; requested_by: string; reason: string }>(
          `SELECT user_id, permission_id, status, requested_by, reason FROM grants WHERE user_id LIKE 'u-imp%' OR (user_id = 'u-comp' AND permission_id = 'access.admin')`,
        );
        assert.deepEqual(
          g.rows.map((r) => [r.user_id, r.permission_id, r.status, r.requested_by]),
          [['u-imp1', 'customer.read', 'requested', USERS.admin]],
        );
        assert.match(g.rows[0]?.reason ?? '', /grants\.csv:2: granted by u-admin on 2024-04-01 \(import IMP-/);

        // The governance log: the run names the operator, the files, the counts and every row not imported.
        const ev = await db.query<{ action: string; actor_user_id: string; subject_id: string; details: unknown }>(
          `SELECT action, actor_user_id, subject_id, details FROM governance_events WHERE action IN ('import.run', 'import.staff', 'import.terminal', 'grant.request') ORDER BY id`,
        );
        const actions = ev.rows.map((r) => r.action);
        assert.deepEqual(actions, [
          'import.staff',
          'import.staff',
          'import.staff',
          'import.terminal',
          'import.terminal',
          'import.terminal',
          'grant.request',
          'import.run',
        ]);
        assert.ok(ev.rows.every((r) => r.actor_user_id === USERS.admin));
        const runEvent = ev.rows.at(-1);
        assert.equal(runEvent?.subject_id, done.importId);
        const details = (typeof runEvent?.details === 'string' ? JSON.parse(runEvent.details) : runEvent?.details) as {
          notImported: { file: string; line: number }[];
        };
        assert.equal(details.notImported.length, done.total.refused + done.total.rejected);
        assert.ok(
          ev.rows.slice(0, -1).every((r) => JSON.stringify(r.details).includes(done.importId)),
          'each act names the import',
        );

        // The same files again: nothing to do, and it says so.
        const afterImport = await snapshot(db);
        const again = await run(db, files, false);
        assert.equal(changes(again), 0);
        assert.equal(again.total.created, 0);
        const rerunEvents = (await db.query<{ action: string }>(`SELECT action FROM governance_events ORDER BY id`)).rows.map((r) => r.action);
        assert.equal(rerunEvents.at(-1), 'import.run');
        assert.equal(
          JSON.parse(await snapshot(db))
            .slice(0, -1)
            .join(),
          JSON.parse(afterImport).slice(0, -1).join(),
          'a re-run writes nothing but its own run event',
        );
        // Every row that changed something the first time is unchanged now; the refused stay refused.
        for (const [i, row] of again.rows.entries()) {
          const first = done.rows[i];
          if (first?.outcome === 'created' || first?.outcome === 'requested') assert.equal(row.outcome, 'unchanged', `${row.file}:${row.line}`);
          else assert.equal(row.outcome, first?.outcome, `${row.file}:${row.line}`);
        }

        // A changed row updates that row, and only it.
        const changed = await run(db, { staff: staffWithChangedOffice() }, false);
        assert.deepEqual(
          changed.rows.filter((r) => r.outcome === 'updated').map((r) => [r.line, r.subject]),
          [[2, 'u-imp1']],
        );
        assert.equal(changed.total.created, 0);
        const office = await db.query<{ office: string }>(`SELECT office FROM staff_assignments WHERE person_id = 'p-imp1'`);
        assert.equal(office.rows[0]?.office, '仙台コールセンター');
      } finally {
        await dispose();
      }
    });

    test('a register revoking a grant an import asked for withdraws the request; a file that cannot be used changes nothing', async () => {
      const { db, dispose } = await store.open();
      try {
        await seedFixture(db);
        const files = legacyRegisters();
        await run(db, files, false);
        const revoked = Buffer.from('user_id,permission_id,granted_by,granted_at,revoked_at\r\nu-imp1,P01,u-admin,2024-04-01,2026-10-01\r\n', 'utf8');
        const r = await run(db, { permissions: files.permissions, grants: revoked }, false);
        assert.deepEqual(
          r.rows.filter((x) => x.file === 'grants').map((x) => [x.outcome, x.rule]),
          [['updated', 'not_in_force']],
        );
        const g = await db.query<{ status: string }>(`SELECT status FROM grants WHERE user_id = 'u-imp1'`);
        assert.deepEqual(
          g.rows.map((x) => x.status),
          ['rejected'],
        );

        const before = await snapshot(db);
        const noColumn = Buffer.from('user_id,organization,valid_from\r\nu-x,org-nw,2024-04-01\r\n', 'utf8');
        await assert.rejects(run(db, { staff: noColumn, terminals: files.terminals }, false), (e: unknown) => {
          assert.ok(e instanceof CsvFileError);
          assert.match(e.message, /staff\.csv: missing column side/);
          return true;
        });
        assert.equal(await snapshot(db), before, 'nothing of the other file was written either');
      } finally {
        await dispose();
      }
    });

    test('the operator is a person holding access.admin in force', async () => {
      const { db, dispose } = await store.open();
      try {
        await seedFixture(db);
        assert.deepEqual(await importOperator(db, USERS.admin, NOW), OPERATOR);
        assert.equal(await importOperator(db, USERS.admin2, NOW), 'not_permitted');
        assert.equal(await importOperator(db, 'u-nobody', NOW), null);
        // The grant expired a second before: no longer an operator.
        assert.equal(await importOperator(db, USERS.admin, new Date('2027-04-01T00:00:00Z')), 'not_permitted');
      } finally {
        await dispose();
      }
    });
  });
}

const STAFF_WITH_DUTY = 'user_id,person_id,organization,side,employment,office,valid_from,valid_to,name,duty';
const staffFile = (...rows: string[]) => Buffer.from(`${[STAFF_WITH_DUTY, ...rows].join('\r\n')}\r\n`, 'utf8');
const assignments = async (db: Db) =>
  JSON.stringify(
    (
      await db.query(
        'SELECT person_id, organization_id, side, employment, office, duty, valid_from, valid_to FROM staff_assignments ORDER BY person_id, valid_from',
      )
    ).rows,
  );

for (const store of STORES) {
  describe(`gridwall import: one administrator's staff rows never widen reading (${store.name})`, () => {
    test('a duty widened, a period reopened or extended, a new period for a leaver, the own person, a SCIM person: refused and unwritten; ending a period earlier is written', async () => {
      const { db, dispose } = await store.open();
      try {
        await seedFixture(db);
        // HR manages u-nsc through SCIM (the hand-over marks the account provisioned_by scim).
        await db.query(`UPDATE accounts SET user_name = 'nsc@example.jp' WHERE user_id = $1`, [USERS.serviceCentre]);
        const handed = await handOverToScim(db, { userIds: [USERS.serviceCentre] }, { by: { kind: 'system', job: 'test' }, at: NOW, dryRun: false });
        assert.equal(handed.handedOver.length, 1);
        const before = await assignments(db);
        const r = await run(
          db,
          {
            staff: staffFile(
              // Compliance (public-only on the network side) made a call-centre agent.
              'u-comp,p-comp,org-nw,network,employee,本店,2019-04-01,,渡辺 三郎,call_centre',
              // The leaver's ended period reopened, then extended, then a new period after it.
              'u-leaver,p-leaver,org-nw,network,employee,仙台コールセンター,2015-04-01,,中村 八重,call_centre',
              'u-leaver,p-leaver,org-nw,network,employee,仙台コールセンター,2015-04-01,2022-04-01,中村 八重,call_centre',
              'u-leaver,p-leaver,org-nw,network,employee,本店,2026-01-01,,中村 八重,call_centre',
              // The operator's own person, with only a neutral office change.
              'u-admin,p-admin,org-nw,network,employee,本社別館,2019-04-01,,小林 四郎,access_admin',
              // A SCIM person, with only a neutral office change.
              'u-nsc,p-nsc,org-nw,network,employee,泉NSC,2019-04-01,,伊藤 二郎,service_centre',
              // Narrowing: the agent's period ends.
              'u-cc,p-cc,org-nw,network,employee,仙台コールセンター,2019-04-01,2026-12-31,高橋 一郎,call_centre',
              // Neutral: an office change.
              'u-retail,p-retail,org-a0001,retail,employee,仙台駅前営業所,2019-04-01,,加藤 五郎,retail_customer_service',
            ),
          },
          false,
        );
        assert.deepEqual(
          r.rows.map((x) => [x.line, x.subject, x.outcome, x.rule]),
          [
            [2, 'u-comp', 'refused', 'widens_reading'],
            [3, 'u-leaver', 'refused', 'widens_reading'],
            [4, 'u-leaver', 'refused', 'widens_reading'],
            [5, 'u-leaver', 'refused', 'widens_reading'],
            [6, 'u-admin', 'refused', 'own_person'],
            [7, 'u-nsc', 'refused', 'scim_managed'],
            [8, 'u-cc', 'updated', null],
            [9, 'u-retail', 'updated', null],
          ],
        );
        assert.match(r.rows[0]?.detail ?? '', /duty compliance → call_centre/);
        assert.match(r.rows[1]?.detail ?? '', /reopened/);
        assert.match(r.rows[2]?.detail ?? '', /extended/);
        assert.match(r.rows[3]?.detail ?? '', /a new period from 2026-01-01/);
        // Only the agent's end and the office were written.
        const after = JSON.parse(await assignments(db)) as { person_id: string; valid_to: unknown; office: string }[];
        const expected = (JSON.parse(before) as { person_id: string; valid_to: unknown; office: string }[]).map((x) =>
          x.person_id === 'p-cc'
            ? { ...x, valid_to: after.find((y) => y.person_id === 'p-cc')?.valid_to }
            : x.person_id === 'p-retail'
              ? { ...x, office: '仙台駅前営業所' }
              : x,
        );
        assert.deepEqual(after, expected);
        const cc = await db.query<{ valid_to: Date | string }>(`SELECT valid_to FROM staff_assignments WHERE person_id = 'p-cc'`);
        assert.equal(new Date(cc.rows[0]?.valid_to ?? 0).toISOString(), '2026-12-31T15:00:00.000Z');
        const staffEvents = await db.query<{ subject_id: string }>(`SELECT subject_id FROM governance_events WHERE action = 'import.staff'`);
        assert.deepEqual(
          staffEvents.rows.map((x) => x.subject_id),
          ['p-cc', 'p-retail'],
        );
      } finally {
        await dispose();
      }
    });

    test('a request is withdrawn only when an import made it, whatever its reason says', async () => {
      const { db, dispose } = await store.open();
      try {
        await seedFixture(db);
        // An ordinary request whose reason imitates the import's mark.
        await db.query(
          `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, expires_at)
           VALUES ('u-cc', 'network.equipment', 'requested', $1, 'u-admin2', 'p-admin2', $2, '2027-01-01')`,
          [`${IMPORT_MARK} grants.csv:2: granted by u-admin on 2024-04-01 (import IMP-x)`, NOW],
        );
        const revoked = Buffer.from(
          'user_id,permission_id,granted_by,granted_at,revoked_at\r\nu-cc,network.equipment,u-admin,2024-04-01,2026-10-01\r\n',
          'utf8',
        );
        const r = await run(db, { grants: revoked }, false);
        assert.deepEqual(
          r.rows.map((x) => [x.outcome, x.rule]),
          [['skipped', 'not_in_force']],
        );
        const g = await db.query<{ status: string }>(`SELECT status FROM grants WHERE user_id = 'u-cc' AND permission_id = 'network.equipment'`);
        assert.deepEqual(
          g.rows.map((x) => x.status),
          ['requested'],
        );
      } finally {
        await dispose();
      }
    });
  });
}

describe('gridwall import: two imports at once (postgres)', () => {
  const store = STORES.find((s) => s.name === 'postgres');
  test('end as one import would: no duplicate request, person or assignment', { skip: store === undefined }, async () => {
    assert.ok(store !== undefined);
    const { db, dispose } = await store.open();
    try {
      await seedFixture(db);
      const files = legacyRegisters();
      const [a, b] = await Promise.all([run(db, files, false), run(db, files, false)]);
      // One of them made the changes, the other found them made.
      assert.deepEqual([changes(a) === 0, changes(b) === 0].sort(), [false, true]);
      const dup = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT user_id, permission_id FROM grants WHERE status = 'requested' GROUP BY 1, 2 HAVING count(*) > 1) d`,
      );
      assert.equal(Number(dup.rows[0]?.n), 0);
      const asg = await db.query<{ n: string }>(`SELECT count(*) AS n FROM staff_assignments WHERE person_id LIKE 'p-imp%'`);
      assert.equal(Number(asg.rows[0]?.n), 3);
      const tr = await db.query<{ n: string }>(`SELECT count(*) AS n FROM terminal_requests WHERE terminal_id LIKE 'T-IMP%'`);
      assert.equal(Number(tr.rows[0]?.n), 2);
      const runs = await db.query<{ n: string }>(`SELECT count(*) AS n FROM governance_events WHERE action = 'import.run'`);
      assert.equal(Number(runs.rows[0]?.n), 2);
    } finally {
      await dispose();
    }
  });
});

describe('gridwall import: properties', () => {
  const store = STORES[0];
  test('for any subset and order of the register rows, every row is reported once, and a second run changes nothing', async () => {
    assert.ok(store !== undefined);
    const full = legacyRegisters();
    const decode = (b: Buffer, f: RegisterFile) => (f === 'staff' ? null : b.toString('utf8').replace(/^\uFEFF/, ''));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<RegisterFile>('terminals', 'grants'), fc.integer({ min: 0, max: 1_000 }), async (file, seed) => {
        const text = decode(full[file], file);
        assert.ok(text !== null);
        const [head, ...rows] = text.trimEnd().split('\r\n');
        const picked = fc.sample(fc.shuffledSubarray(rows), { numRuns: 1, seed })[0] ?? [];
        const files: Partial<Record<RegisterFile, Buffer>> = { staff: full.staff, permissions: full.permissions };
        files[file] = Buffer.from(`${[head, ...picked].join('\r\n')}\r\n`, 'utf8');
        const { db, dispose } = await store.open();
        try {
          await seedFixture(db);
          const first = await run(db, files, false);
          const mine = first.rows.filter((r) => r.file === file);
          assert.equal(mine.length, picked.length);
          assert.deepEqual(
            mine.map((r) => r.line),
            picked.map((_, i) => i + 2),
          );
          const second = await run(db, files, false);
          assert.equal(changes(second), 0, JSON.stringify(second.rows.filter((r) => r.outcome !== 'unchanged')));
        } finally {
          await dispose();
        }
      }),
      { numRuns: 6 },
    );
  });
});
