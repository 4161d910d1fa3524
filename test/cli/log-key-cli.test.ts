import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { generateSigningKey, loadSigningKey, SigningKeyError } from '../../src/audit/signing.ts';
import type { Db } from '../../src/store/db.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { runCli } from '../support/cli.ts';

/**
 * On a PostgreSQL server the signing key is explicit configuration, and a key is registered for the log only
 * on purpose (issue 17: a second instance started in another directory made and registered a key of its own
 * without a word). Against a schema of its own on the real server, through the command line in-process.
 */
const url = process.env['DATABASE_URL'];
if (url !== undefined) {
  describe('the log signing key on a PostgreSQL server (command line)', () => {
    const hex = randomBytes(4).toString('hex');
    const schema = `gw_keys_${hex}`;
    const options = `options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
    const schemaUrl = `${url}${url.includes('?') ? '&' : '?'}${options}`;
    // The application role (`gridwall db grant-app`), logging in as itself (trust authentication here).
    const role = `gw_keys_app_${hex}`;
    const app = new URL(url);
    app.username = role;
    app.password = '';
    const appUrl = `${app.toString()}${app.search === '' ? '?' : '&'}${options}`;
    const { DATABASE_URL: _unset, GRIDWALL_LOG_KEY_FILE: _none, ...baseEnv } = process.env;
    let dir: string;
    let admin: Db;
    let db: Db;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gridwall-keys-'));
      admin = await openPostgres(url, { poolSize: 1 });
      await admin.exec(`CREATE SCHEMA ${schema}`);
      const migrated = await runCli(['db', 'migrate'], { env: { ...baseEnv, DATABASE_URL: schemaUrl } });
      assert.equal(migrated.status, 0, migrated.stderr);
      const granted = await runCli(['db', 'grant-app', role], { env: { ...baseEnv, DATABASE_URL: schemaUrl } });
      assert.equal(granted.status, 0, granted.stderr);
      await admin.exec(`ALTER ROLE ${role} LOGIN`);
      db = await openPostgres(url, { schema, poolSize: 2 });
    });
    after(async () => {
      await db?.close();
      await admin?.exec(`DROP SCHEMA ${schema} CASCADE; DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`);
      await admin?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('without GRIDWALL_LOG_KEY_FILE the key commands refuse (exit 2) and say what to set; nothing is generated under the working directory', async () => {
      for (const args of [
        ['audit', 'public-key'],
        ['audit', 'key', 'register', '--generate'],
      ]) {
        const r = await runCli(args, { env: { ...baseEnv, DATABASE_URL: schemaUrl } });
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /set GRIDWALL_LOG_KEY_FILE/);
      }
      assert.equal(existsSync('.gridwall/log-signing-key.pem'), false);
    });

    test('register: a missing file is refused unless --generate; the key is registered once, on the record; a writer with another key does not start', async () => {
      const first = join(dir, 'first.pem');
      const env = { ...baseEnv, DATABASE_URL: schemaUrl, GRIDWALL_LOG_KEY_FILE: first };
      const missing = await runCli(['audit', 'key', 'register'], { env });
      assert.equal(missing.status, 2, missing.stderr);
      assert.match(missing.stderr, /no such key file/);

      const made = await runCli(['audit', 'key', 'register', '--generate'], { env });
      assert.equal(made.status, 0, made.stderr);
      const { key } = loadSigningKey(first, false);
      assert.match(made.stdout, new RegExp(`registered key ${key.keyId}`));
      const again = await runCli(['audit', 'key', 'register'], { env });
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /already registered/);
      const { rows } = await db.query<{ action: string; subject_id: string; details: { job?: string } }>(
        `SELECT action, subject_id, details FROM governance_events WHERE subject_type = 'log_key'`,
      );
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0]?.action, rows[0]?.subject_id], ['log_key.register', key.keyId]);
      assert.match(rows[0]?.details.job ?? '', /^cli audit key register/);

      // The registered key writes; another key is refused at the writer's start, naming the command.
      const writer = new GroupCommitLog(db, { key });
      await writer.open();
      await writer.close();
      const stranger = generateSigningKey();
      await assert.rejects(
        new GroupCommitLog(db, { key: stranger }).open(),
        (e: Error) => e instanceof SigningKeyError && e.message.includes(stranger.keyId) && /gridwall audit key register/.test(e.message),
      );
      const { rows: keys } = await db.query<{ key_id: string }>('SELECT key_id FROM access_log_keys');
      assert.deepEqual(
        keys.map((k) => k.key_id),
        [key.keyId],
        'the stranger left no key behind',
      );
    });

    test("register as the application role: refused (exit 2), saying to run it with the schema owner's DATABASE_URL; as the owner the same key is registered", async () => {
      const next = join(dir, 'next.pem');
      const asApp = await runCli(['audit', 'key', 'register', '--generate'], { env: { ...baseEnv, DATABASE_URL: appUrl, GRIDWALL_LOG_KEY_FILE: next } });
      assert.equal(asApp.status, 2, asApp.stderr);
      assert.match(
        asApp.stderr,
        /^gridwall: the connected role may not register signing keys \(permission denied for function access_log_add_key\): run `gridwall audit key register` as the schema's owner, with the schema owner's DATABASE_URL/m,
      );
      const { key } = loadSigningKey(next, false);
      const before = await db.query<{ key_id: string }>('SELECT key_id FROM access_log_keys WHERE key_id = $1', [key.keyId]);
      assert.deepEqual(before.rows, [], 'the application role registered nothing');
      const noEvent = await db.query(`SELECT 1 FROM governance_events WHERE subject_type = 'log_key' AND subject_id = $1`, [key.keyId]);
      assert.deepEqual(noEvent.rows, []);

      const asOwner = await runCli(['audit', 'key', 'register'], { env: { ...baseEnv, DATABASE_URL: schemaUrl, GRIDWALL_LOG_KEY_FILE: next } });
      assert.equal(asOwner.status, 0, asOwner.stderr);
      assert.match(asOwner.stdout, new RegExp(`registered key ${key.keyId}`));
      const { rows } = await db.query<{ subject_id: string; details: { job?: string } }>(
        `SELECT subject_id, details FROM governance_events WHERE subject_type = 'log_key' AND subject_id = $1`,
        [key.keyId],
      );
      assert.equal(rows.length, 1);
      assert.match(rows[0]?.details.job ?? '', /^cli audit key register/);
    });
  });
}
