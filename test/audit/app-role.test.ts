import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_WRITES, privilegedRoleWarning, READ_ONLY_TABLES } from '../../src/audit/roles.ts';
import { generateSigningKey } from '../../src/audit/signing.ts';
import { migrate, SchemaVersionError } from '../../src/store/migrate.ts';
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
        const again = await gridwall(['db', 'migrate'], ownerEnv);
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stdout, new RegExp(`db: schema ${schema} is up to date \\(010_log_seals\\); nothing applied`));

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
        await admin.query(`DELETE FROM ${schema}.schema_migrations WHERE version = '010_log_seals'`);
        // `start` is a server: it runs as its own process (were it to start, the test would time out and kill it).
        const behind = spawnSync(process.execPath, ['bin/gridwall.js', 'start'], { env: appEnv, encoding: 'utf8', timeout: 120_000 });
        assert.equal(behind.status, 2, behind.stdout + behind.stderr);
        assert.match(
          behind.stderr,
          /the database schema is at version 009_service_accounts; this gridwall needs 010_log_seals: run `gridwall db migrate` as the schema's owner/,
        );
        await admin.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ('010_log_seals')`);

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
