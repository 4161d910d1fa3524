import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { generateSigningKey } from '../../src/audit/signing.ts';
import { WitnessFile } from '../../src/audit/witness.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { migrate } from '../../src/store/migrate.ts';
import { runCli } from '../support/cli.ts';
import { accessEvent } from '../support/access-events.ts';

/**
 * Backup and restore as docs/DEPLOYMENT.md tells an operator (issue 17): pg_dump of the schema, restored into a
 * new database with psql, and `gridwall audit verify` against the restored copy as the proof — OK for a
 * restore of the latest state; BROKEN, naming the cut, for a restore from before the witness's last seal
 * (events were lost, and the evidence outside the database says so).
 */
const url = process.env['DATABASE_URL'];
if (url !== undefined) {
  test(
    'a pg_dump restored into a new database verifies with the published key and the witness; an older one is shown to be missing events',
    { timeout: 120_000 },
    async () => {
      const id = randomBytes(4).toString('hex');
      const schema = `gw_backup_${id}`;
      const dir = mkdtempSync(join(tmpdir(), 'gridwall-backup-'));
      const admin = await openPostgres(url, { poolSize: 1 });
      const restoredDbs: string[] = [];
      const server = new URL(url);
      const psqlArgs = ['-h', server.hostname, '-p', server.port || '5432', '-U', decodeURIComponent(server.username || 'postgres')];
      try {
        await admin.exec(`CREATE SCHEMA ${schema}`);
        const db = await openPostgres(url, { schema, poolSize: 2 });
        await migrate(db);
        const key = generateSigningKey();
        const keyFile = join(dir, 'key.pem');
        writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
        const witnessFile = join(dir, 'witness.jsonl');
        const event = (i: number) => accessEvent(i, { occurredAt: new Date(Date.UTC(2026, 10, 20, 0, 0, i)) });
        const dump = (name: string) => {
          const file = join(dir, `${name}.sql`);
          const r = spawnSync('pg_dump', [...psqlArgs, '-d', server.pathname.slice(1), '-n', schema, '-f', file], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr);
          return file;
        };
        const restore = async (file: string) => {
          const name = `gw_restored_${id}_${restoredDbs.length}`;
          await admin.exec(`CREATE DATABASE ${name}`);
          restoredDbs.push(name);
          // A dump of one schema leaves out the extension the migrations put in public (docs/DEPLOYMENT.md).
          const ext = spawnSync('psql', [...psqlArgs, '-d', name, '-q', '-c', 'CREATE EXTENSION IF NOT EXISTS pg_trgm'], { encoding: 'utf8' });
          assert.equal(ext.status, 0, ext.stderr);
          const r = spawnSync('psql', [...psqlArgs, '-d', name, '-v', 'ON_ERROR_STOP=1', '-q', '-f', file], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr);
          const restored = new URL(url);
          restored.pathname = `/${name}`;
          restored.searchParams.set('options', `-c search_path=${schema},public`);
          return restored.href;
        };
        const verify = (restoredUrl: string) => {
          const { DATABASE_URL: _u, ...env } = process.env;
          return runCli(['audit', 'verify', '--public-key', join(dir, 'public.pem'), '--witness', witnessFile], {
            env: { ...env, DATABASE_URL: restoredUrl, GRIDWALL_LOG_KEY_FILE: keyFile },
          });
        };
        writeFileSync(join(dir, 'public.pem'), key.publicKeyPem);

        const log = new GroupCommitLog(db, { key, witness: new WitnessFile(witnessFile), checkpointEvery: 5 });
        for (let i = 0; i < 12; i++) await log.append(event(i));
        const older = dump('older');
        for (let i = 12; i < 30; i++) await log.append(event(i));
        await log.close(); // publishes the last seal to the witness
        const latest = dump('latest');
        await db.close();

        const ok = await verify(await restore(latest));
        assert.equal(ok.status, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /OK — .*30 events/);
        const old = await verify(await restore(older));
        assert.equal(old.status, 1, old.stdout + old.stderr);
        assert.match(old.stdout, /BROKEN/);
        assert.match(old.stdout, /witness/);
      } finally {
        for (const name of restoredDbs) await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
