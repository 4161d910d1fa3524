import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/store/db.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { REGISTER_FILES } from '../../src/domain/register-import.ts';
import { runCli } from '../support/cli.ts';
import { seedFixture, USERS } from '../support/fixture.ts';
import { expectedRows, legacyRegisters } from '../support/legacy-registers.ts';
import { openEmbeddedDir } from '../support/stores.ts';

/**
 * `gridwall import` at the command line, on an embedded store holding the fixture: the dry run lists every
 * row not imported by file and line with its rule in Japanese and English and changes nothing; the import
 * writes; the same files again say nothing changed; exit 2 for a file or an argument that cannot be used, 3
 * for an operator who may not import.
 */

function env(dir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, GRIDWALL_DATA_DIR: dir };
}

describe('gridwall import (command line, embedded store)', () => {
  let dir: string;
  const paths: Record<string, string> = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridwall-import-cli-'));
    const db = await openEmbeddedDir(join(dir, 'data'));
    await seedFixture(db);
    await db.close();
    const files = legacyRegisters();
    for (const f of REGISTER_FILES) {
      paths[f] = join(dir, `${f}.csv`);
      writeFileSync(join(dir, `${f}.csv`), files[f]);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const gridwall = (args: string[]) => runCli(['import', ...args], { env: env(join(dir, 'data')) });
  const all = () => REGISTER_FILES.flatMap((f) => [`--${f}`, paths[f] ?? '']);
  async function withStore<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const db = await openPglite(join(dir, 'data'));
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  const imported = () =>
    withStore(async (db) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM persons WHERE id LIKE 'p-imp%'`)).rows[0]?.n));

  test('the dry run lists each row not imported by file and line, the rule in Japanese and English, and changes nothing', async () => {
    const r = await gridwall(['--operator', USERS.admin, '--dry-run', ...all()]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^取り込みの試行（何も変更していません） \/ import dry run \(nothing changed\)/);
    assert.match(
      r.stdout,
      /staff\.csv:7 {2}不正 rejected {2}u-imp5 {2}unknown_organization gridwall に登録されていない組織です \/ the organization is not known to gridwall: /,
    );
    assert.match(r.stdout, /grants\.csv:3 {2}拒否 refused {2}u-imp2 P02 {2}side_not_allowed この所属区分には与えられない権限 \/ Not allowed for this side/);
    assert.match(r.stdout, /staff\.csv \(shift_jis\)/);
    const notImported = expectedRows().filter((x) => x.outcome === 'refused' || x.outcome === 'rejected').length;
    assert.match(r.stdout, new RegExp(`rows not imported \\(${notImported}\\)`));
    assert.match(r.stderr, new RegExp(`${notImported} rows not imported`));
    assert.equal(await imported(), 0);
  });

  test('the import writes; the same files again change nothing and say so', async () => {
    const r = await gridwall(['--operator', USERS.admin, '--format', 'json', ...all()]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      dryRun: boolean;
      total: Record<string, number>;
      rows: { file: string; line: number; outcome: string; rule: string | null }[];
    };
    assert.equal(out.dryRun, false);
    assert.deepEqual(
      out.rows.map((x) => ({ file: x.file, line: x.line, outcome: x.outcome, rule: x.rule })),
      expectedRows(),
    );
    assert.equal(await imported(), 3);
    const again = await gridwall(['--operator', USERS.admin, ...all()]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /変更はありません \/ nothing changed \(0 created, 0 updated, 0 requested\)/);
    const runs = await withStore(
      async (db) =>
        (await db.query<{ actor_user_id: string; details: unknown }>(`SELECT actor_user_id, details FROM governance_events WHERE action = 'import.run'`)).rows,
    );
    assert.deepEqual(
      runs.map((x) => x.actor_user_id),
      [USERS.admin, USERS.admin],
    );
    // The command line's run names the OS user who ran it, as `audit key register` does.
    for (const x of runs) {
      const details = (typeof x.details === 'string' ? JSON.parse(x.details) : x.details) as { osUser?: string };
      assert.equal(details.osUser, userInfo().username);
    }
  });

  test('exit 2 for an unusable file or argument, 3 for an operator without access.admin; nothing written', async () => {
    const events = () => withStore(async (db) => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM governance_events')).rows[0]?.n));
    const before = await events();
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'user_id,organization\r\nu-x,org-nw\r\n');
    const noColumn = await gridwall(['--operator', USERS.admin, '--staff', bad]);
    assert.equal(noColumn.status, 2);
    assert.match(noColumn.stderr, /bad\.csv: missing columns side, valid_from/);
    const missing = await gridwall(['--operator', USERS.admin, '--staff', join(dir, 'nowhere.csv')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nowhere\.csv: cannot read \(ENOENT\)/);
    const none = await gridwall(['--operator', USERS.admin]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /give at least one register/);
    const nobody = await gridwall(['--operator', 'u-nobody', ...all()]);
    assert.equal(nobody.status, 2);
    assert.match(nobody.stderr, /--operator u-nobody: no enabled person's account/);
    const notAdmin = await gridwall(['--operator', USERS.admin2, ...all()]);
    assert.equal(notAdmin.status, 3);
    assert.match(notAdmin.stderr, /not_permitted: u-admin2 holds no access\.admin in force/);
    const noOperator = await gridwall(all());
    assert.equal(noOperator.status, 2);
    assert.equal(await events(), before, 'none of them wrote anything');
  });
});
