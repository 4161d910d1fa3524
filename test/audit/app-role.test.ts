import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRegisteredKey } from '../../src/audit/log-keys.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { APP_WRITES, grantAppRole, LOG_FUNCTIONS, privilegedRoleWarning, READ_ONLY_TABLES } from '../../src/audit/roles.ts';
import { generateSigningKey, SigningKeyError } from '../../src/audit/signing.ts';
import type { Db, Queryable, Statement } from '../../src/store/db.ts';
import { migrate, migrationVersions, SchemaVersionError } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { runCli } from '../support/cli.ts';
import { STORES } from '../support/stores.ts';

// Issue 15: migrations run as the schema's owner (`gridwall db migrate`); the server runs as an application role
// (`gridwall db grant-app`) that can write the access log only through the writer's SECURITY DEFINER functions.

const url = process.env['DATABASE_URL'];
const { DATABASE_URL: _unset, ...baseEnv } = process.env;

function gridwall(args: string[], env: NodeJS.ProcessEnv) {
  return runCli(args, { env });
}

const AT = new Date('2026-11-02T00:00:00Z');

/**
 * `n` handles on `db` that each wait, after their first query, until all `n` have made theirs: callers started
 * together all read the store before any of them writes — the race at its worst, every time.
 */
function inStep(db: Db, n: number): Queryable[] {
  let arrived = 0;
  let release = () => {};
  const all = new Promise<void>((r) => (release = r));
  return Array.from({ length: n }, () => {
    let first = true;
    return {
      async query<R extends Record<string, unknown>>(sql: string | Statement, params?: readonly unknown[]) {
        const r = await db.query<R>(sql, params);
        if (first) {
          first = false;
          if (++arrived === n) release();
          await all;
        }
        return r;
      },
      exec: (sql: string) => db.exec(sql),
    };
  });
}

async function logKeyEvents(q: Queryable): Promise<{ subject_id: string; actor_kind: string; outcome: string; details: unknown }[]> {
  return (
    await q.query<{ subject_id: string; actor_kind: string; outcome: string; details: unknown }>(
      `SELECT subject_id, actor_kind, outcome, details FROM governance_events WHERE action = 'log_key.register' ORDER BY id`,
    )
  ).rows;
}

async function logKeys(q: Queryable): Promise<string[]> {
  return (await q.query<{ key_id: string }>('SELECT key_id FROM access_log_keys ORDER BY key_id')).rows.map((r) => r.key_id);
}

for (const store of STORES) {
  describe(`the log's first key on ${store.name}`, () => {
    test('two writers starting together with one key on an empty log both start, and the key is registered once, on the record', async () => {
      const { db, dispose } = await store.open();
      try {
        const key = generateSigningKey();
        const [a, b] = inStep(db, 2);
        await Promise.all([requireRegisteredKey(a!, key, AT), requireRegisteredKey(b!, key, AT)]);
        assert.deepEqual(await logKeys(db), [key.keyId]);
        assert.deepEqual(await logKeyEvents(db), [
          { subject_id: key.keyId, actor_kind: 'system', outcome: 'done', details: { first: true, job: 'log-writer' } },
        ]);
        // Both writers go on to write.
        for (const w of [new GroupCommitLog(db, { key }), new GroupCommitLog(db, { key })]) {
          await w.open();
          await w.close();
        }
        assert.equal((await logKeyEvents(db)).length, 1);
      } finally {
        await dispose();
      }
    });

    test('two writers starting together with different keys on an empty log: one registers its key, the other does not start', async () => {
      const { db, dispose } = await store.open();
      try {
        const keys = [generateSigningKey(), generateSigningKey()];
        const [a, b] = inStep(db, 2);
        const started = await Promise.allSettled([requireRegisteredKey(a!, keys[0]!, AT), requireRegisteredKey(b!, keys[1]!, AT)]);
        const won = started.findIndex((r) => r.status === 'fulfilled');
        const lost = started.find((r) => r.status === 'rejected');
        assert.ok(won >= 0, 'one writer starts');
        assert.ok(lost !== undefined, 'the other does not');
        assert.ok(lost.reason instanceof SigningKeyError, String(lost.reason));
        assert.match(lost.reason.message, /is not registered for this log, which is signed with other keys.*gridwall audit key register/);
        const winner = keys[won]!.keyId;
        assert.deepEqual(await logKeys(db), [winner]);
        assert.deepEqual(
          (await logKeyEvents(db)).map((e) => e.subject_id),
          [winner],
        );
      } finally {
        await dispose();
      }
    });

    test('the first-key function checks the key as access_log_add_key does: a malformed key or a key id not its own registers nothing', async () => {
      const { db, dispose } = await store.open();
      try {
        const key = generateSigningKey();
        await assert.rejects(db.query('SELECT access_log_add_first_key($1, $2, $3)', ['evil', 'x', AT]), /not a PEM public key/);
        await assert.rejects(db.query('SELECT access_log_add_first_key($1, $2, $3)', ['0123456789abcdef', key.publicKeyPem, AT]), /key id is not the key's/);
        assert.deepEqual(await logKeys(db), []);
        assert.deepEqual(await logKeyEvents(db), []);
      } finally {
        await dispose();
      }
    });
  });
}

test('`db grant-app` is for a PostgreSQL server: on the embedded store, and for a bad role name, it exits 2 saying why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-approle-'));
  try {
    const embedded = await gridwall(['db', 'grant-app', 'gridwall_app'], { ...baseEnv, GRIDWALL_DATA_DIR: dir });
    assert.equal(embedded.status, 2, embedded.stderr);
    assert.match(embedded.stderr, /grant-app is for a PostgreSQL server \(set DATABASE_URL\)/);
    const bad = await gridwall(['db', 'grant-app', 'Robert"; DROP TABLE x'], { ...baseEnv, GRIDWALL_DATA_DIR: dir });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /role name .*: use lower-case letters, digits and _/);
    const old = await gridwall(['db', 'grant-writer', 'gridwall_app'], { ...baseEnv, GRIDWALL_DATA_DIR: dir });
    assert.equal(old.status, 2, old.stderr);
    assert.match(old.stderr, /`db grant-writer` is deprecated; it now runs `db grant-app`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const store of STORES.filter((s) => s.name === 'postgres')) {
  describe(`the application role on ${store.name}`, () => {
    test('every table of the schema is either written by the application (APP_WRITES) or read-only on purpose, and the role holds exactly that', async () => {
      const { db, owner, dispose } = await store.open();
      try {
        const { rows } = await owner.query<{ t: string }>(
          `SELECT c.relname AS t FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
        );
        const tables = rows.map((r) => r.t);
        const classified = [...Object.keys(APP_WRITES), ...READ_ONLY_TABLES].sort();
        assert.deepEqual(tables, classified, 'a new table needs a decision in src/audit/roles.ts: APP_WRITES or READ_ONLY_TABLES');
        for (const t of tables) {
          const { rows: p } = await db.query<Record<string, boolean>>(
            `SELECT has_table_privilege(current_user, $1, 'SELECT') AS "SELECT", has_table_privilege(current_user, $1, 'INSERT') AS "INSERT",
                    has_table_privilege(current_user, $1, 'UPDATE') AS "UPDATE", has_table_privilege(current_user, $1, 'DELETE') AS "DELETE",
                    has_table_privilege(current_user, $1, 'TRUNCATE') AS "TRUNCATE", has_table_privilege(current_user, $1, 'TRIGGER') AS "TRIGGER",
                    has_table_privilege(current_user, $1, 'REFERENCES') AS "REFERENCES"`,
            [t],
          );
          const writes: readonly string[] = APP_WRITES[t] ?? [];
          assert.deepEqual(
            p[0],
            {
              SELECT: true,
              INSERT: writes.includes('INSERT'),
              UPDATE: writes.includes('UPDATE'),
              DELETE: writes.includes('DELETE'),
              TRUNCATE: false,
              TRIGGER: false,
              REFERENCES: false,
            },
            t,
          );
        }
        const { rows: s } = await db.query<{ create: boolean }>(`SELECT has_schema_privilege(current_user, current_schema(), 'CREATE') AS create`);
        assert.equal(s[0]?.create, false);
      } finally {
        await dispose();
      }
    });

    test('the application role registers no signing key but the first of an empty log: access_log_add_key is refused, the first-key function registers nothing once a key exists', async () => {
      const { db, owner, dispose } = await store.open();
      try {
        const own = generateSigningKey();
        const attacker = generateSigningKey();
        const denied = (e: unknown) => (e as { code?: unknown }).code === '42501' && /permission denied for function access_log_add_key/.test(String(e));
        // On an empty log, and after the first writer registered its key: the attacker's well-formed key is refused.
        await assert.rejects(db.query('SELECT access_log_add_key($1, $2)', [attacker.keyId, attacker.publicKeyPem]), denied);
        const writer = new GroupCommitLog(db, { key: own });
        await writer.open();
        await writer.close();
        await assert.rejects(db.query('SELECT access_log_add_key($1, $2)', [attacker.keyId, attacker.publicKeyPem]), denied);
        const first = await db.query<{ registered: boolean }>('SELECT access_log_add_first_key($1, $2, $3) AS registered', [
          attacker.keyId,
          attacker.publicKeyPem,
          AT,
        ]);
        assert.equal(first.rows[0]?.registered, false);
        assert.deepEqual(await logKeys(db), [own.keyId]);
        assert.deepEqual(
          (await logKeyEvents(db)).map((e) => e.subject_id),
          [own.keyId],
          "the first writer's key, once; nothing of the attacker's",
        );
        // The role holds exactly the writer's functions; the owner still registers keys.
        for (const f of [...LOG_FUNCTIONS, 'access_log_add_key(text, text)']) {
          const { rows } = await db.query<{ me: boolean }>(`SELECT has_function_privilege(current_user, $1, 'EXECUTE') AS me`, [f]);
          assert.equal(rows[0]?.me, LOG_FUNCTIONS.includes(f), f);
        }
        const stale = await db.query<{ moved: boolean }>(`SELECT * FROM access_log_append(5, repeat('a', 64), '[]'::jsonb, '{}'::jsonb)`);
        assert.equal(stale.rows[0]?.moved, false);
        assert.equal((await db.query<{ seal: boolean }>(`SELECT access_log_seal_existing('{}'::jsonb) AS seal`)).rows[0]?.seal, false);
        assert.match((await db.query<{ p: string }>(`SELECT access_log_ensure_partition($1) AS p`, [AT])).rows[0]?.p ?? '', /^access_log_y2026m11$/);
        await owner.query('SELECT access_log_add_key($1, $2)', [attacker.keyId, attacker.publicKeyPem]);
        assert.deepEqual(await logKeys(db), [own.keyId, attacker.keyId].sort());
      } finally {
        await dispose();
      }
    });

    test('migrating takes access_log_add_key from a role an older `db grant-app` gave it to; granting again gives the first-key function', async () => {
      const { db, owner, server, dispose } = await store.open();
      try {
        const role = server?.role ?? '';
        const may = async (f: string) =>
          (await owner.query<{ may: boolean }>(`SELECT has_function_privilege($1, $2, 'EXECUTE') AS may`, [role, f])).rows[0]?.may;
        // The schema as the previous gridwall left it: migrated to 010, the role granted the key function.
        await owner.exec(
          `DROP FUNCTION access_log_add_first_key(text, text, timestamptz); GRANT EXECUTE ON FUNCTION access_log_add_key(text, text) TO ${role}`,
        );
        await owner.query('DELETE FROM schema_migrations WHERE version = $1', ['011_log_first_key']);
        assert.equal(await may('access_log_add_key(text, text)'), true);
        assert.deepEqual(await migrate(owner), ['011_log_first_key']);
        assert.equal(await may('access_log_add_key(text, text)'), false, 'taken away by the migration itself');
        assert.equal(await may('access_log_add_first_key(text, text, timestamptz)'), false, 'not yet granted');
        // A server started before grant-app is run again does not start, and says which command to run.
        const early = generateSigningKey();
        await assert.rejects(
          requireRegisteredKey(db, early, AT),
          (e: Error) => e instanceof SigningKeyError && /run `gridwall db grant-app <role>` again/.test(e.message),
        );
        await grantAppRole(owner, role, server?.schema ?? '');
        assert.equal(await may('access_log_add_first_key(text, text, timestamptz)'), true);
        assert.equal(await may('access_log_add_key(text, text)'), false);
        const writer = new GroupCommitLog(db, { key: generateSigningKey() });
        await writer.open();
        await writer.close();
      } finally {
        await dispose();
      }
    });

    test('the start-up warning names a role that owns the log (or is a superuser), and is silent for the application role', async () => {
      const { db, owner, dispose } = await store.open();
      try {
        assert.equal(await privilegedRoleWarning(db), null);
        assert.match(
          (await privilegedRoleWarning(owner)) ?? '',
          /warning: connected to PostgreSQL as \w+, which (is a superuser|owns the access log).*switch the log's append-only triggers off.*gridwall db grant-app/,
        );
      } finally {
        await dispose();
      }
    });

    test('an up-to-date store opens as the application role without DDL; a pending migration it may not apply says what to do', async () => {
      const { db, owner, dispose } = await store.open();
      try {
        assert.deepEqual(await migrate(db), []);
        const last = (await owner.query<{ v: string }>('SELECT max(version) AS v FROM schema_migrations')).rows[0]?.v ?? '';
        const previous = (await owner.query<{ v: string }>('SELECT max(version) AS v FROM schema_migrations WHERE version < $1', [last])).rows[0]?.v ?? '';
        await owner.query('DELETE FROM schema_migrations WHERE version = $1', [last]);
        await assert.rejects(migrate(db), (e: unknown) => {
          assert.ok(e instanceof SchemaVersionError, String(e));
          assert.match(
            e.message,
            new RegExp(
              `^the database schema is at version ${previous}; this gridwall needs ${last}: run \`gridwall db migrate\` as the schema's owner \\(permission denied`,
            ),
          );
          return true;
        });
        await owner.query('INSERT INTO schema_migrations (version) VALUES ($1)', [last]);
      } finally {
        await dispose();
      }
    });
  });
}

if (url !== undefined) {
  test(
    'migrated by the owner with `db migrate`, granted with `db grant-app`, the server runs as the application role and serves logged look-ups',
    { timeout: 300_000 },
    async () => {
      const hex = randomBytes(5).toString('hex');
      const schema = `gw_approle_${hex}`;
      const role = `gw_app_${hex}`;
      const dir = mkdtempSync(join(tmpdir(), 'gridwall-approle-'));
      const admin = await openPostgres(url, { poolSize: 1 });
      await admin.exec(`CREATE SCHEMA ${schema}`);
      const options = `options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
      const ownerUrl = `${url}${url.includes('?') ? '&' : '?'}${options}`;
      const app = new URL(url);
      app.username = role;
      app.password = '';
      const appUrl = `${app.toString()}${app.search === '' ? '?' : '&'}${options}`;
      const keyFile = join(dir, 'key.pem');
      writeFileSync(keyFile, generateSigningKey().privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const ownerEnv = { ...baseEnv, DATABASE_URL: ownerUrl };
      const appEnv = { ...baseEnv, DATABASE_URL: appUrl, GRIDWALL_DEMO_LOGIN: 'true', GRIDWALL_LOG_KEY_FILE: keyFile, PORT: '0' };
      try {
        const migrated = await gridwall(['db', 'migrate'], ownerEnv);
        assert.equal(migrated.status, 0, migrated.stderr);
        assert.match(migrated.stdout, /^db: applied 001_core$/m);
        assert.match(migrated.stdout, /^db: applied 010_log_seals$/m);
        assert.match(migrated.stdout, /^db: applied 011_log_first_key$/m);
        assert.match(migrated.stdout, /^db: applied 012_inquiries$/m);
        const again = await gridwall(['db', 'migrate'], ownerEnv);
        assert.equal(again.status, 0, again.stderr);
        assert.match(migrated.stdout, /^db: applied 014_terminal_devices$/m);
        const latest = migrationVersions().at(-1) ?? assert.fail('no migrations');
        assert.match(again.stdout, new RegExp(`db: schema ${schema} is up to date \\(${latest}\\); nothing applied`));

        const granted = await gridwall(['db', 'grant-app', role], ownerEnv);
        assert.equal(granted.status, 0, granted.stderr);
        assert.match(granted.stderr, new RegExp(`ALTER ROLE ${role} LOGIN`));
        const owned = await gridwall(['db', 'grant-app', 'postgres'], ownerEnv);
        assert.equal(owned.status, 2, 'the owner is never made the application role');
        assert.match(owned.stderr, /owns tables in schema .* \(or is a superuser\): the application role must be another role/);
        await admin.exec(`ALTER ROLE ${role} LOGIN`);

        const demo = await gridwall(['demo', '--supply-points', '300'], ownerEnv);
        assert.equal(demo.status, 0, demo.stderr);

        // The application role may not apply a migration: the server says what to do and exits 2.
        const previous = migrationVersions().at(-2) ?? assert.fail('fewer than two migrations');
        await admin.query(`DELETE FROM ${schema}.schema_migrations WHERE version = $1`, [latest]);
        // `start` is a server: it runs as its own process (were it to start, the test would time out and kill it).
        const behind = spawnSync(process.execPath, ['bin/gridwall.js', 'start'], { env: appEnv, encoding: 'utf8', timeout: 120_000 });
        assert.equal(behind.status, 2, behind.stdout + behind.stderr);
        assert.match(
          behind.stderr,
          new RegExp(`the database schema is at version ${previous}; this gridwall needs ${latest}: run \`gridwall db migrate\` as the schema's owner`),
        );
        await admin.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ($1)`, [latest]);

        const child = spawn(process.execPath, ['bin/gridwall.js', 'start'], { env: appEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        try {
          const base = await new Promise<string>((resolve, reject) => {
            child.stdout.on('data', (d: Buffer) => {
              out += d.toString();
              const m = /gridwall is running: (http:\/\/\S+)[\s\S]*Press Ctrl\+C/.exec(out);
              if (m?.[1] !== undefined) resolve(m[1]);
            });
            child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}${err}`)));
          });
          assert.doesNotMatch(out, /warning: connected to PostgreSQL as/, 'the application role is not warned about');
          const health = (await (await fetch(`${base}/api/health`)).json()) as { status: string; store: string };
          assert.deepEqual([health.status, health.store], ['ok', 'postgres']);
          const login = await fetch(`${base}/api/session`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ userId: 'demo-nw-cc' }),
          });
          assert.equal(login.status, 201);
          const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
          const search = await fetch(`${base}/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('丁目')}&limit=3`, {
            headers: { cookie },
          });
          assert.equal(search.status, 200, await search.clone().text());
          const found = (await search.json()) as { items: { supplyPointId: string }[] };
          const id = found.items[0]?.supplyPointId ?? '';
          const one = await fetch(`${base}/api/supply-points/${id}?purpose=customer_inquiry`, { headers: { cookie } });
          assert.equal(one.status, 200, await one.clone().text());
          const requestId = one.headers.get('x-request-id') ?? '';
          const { rows } = await admin.query<{ outcome: string; ids: string[] }>(
            `SELECT outcome, supply_point_ids AS ids FROM ${schema}.access_log WHERE request_id = $1`,
            [requestId],
          );
          assert.deepEqual(rows, [{ outcome: 'served', ids: [id] }], 'the look-up is in the log, written by the application role');
          const { rows: seals } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.access_log_seals`);
          assert.ok((seals[0]?.n ?? 0) >= 1, 'each group commit is sealed');
        } finally {
          child.kill('SIGTERM');
          await exited;
        }
      } finally {
        await admin.exec(`DROP SCHEMA ${schema} CASCADE; DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
        await admin.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
