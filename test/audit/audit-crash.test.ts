import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyStore } from '../../src/audit/store-verify.ts';
import { generateSigningKey, loadSigningKey, publicKeys } from '../../src/audit/signing.ts';
import type { Db } from '../../src/store/db.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { runCli } from '../support/cli.ts';
import { LOAD_READ_LIMITS_ENV } from '../../scripts/reliability/gridwall.ts';

const url = process.env['DATABASE_URL'];

interface Backend {
  readonly name: string;
  /** The server's environment, and how to open its store afterwards. */
  setup(dir: string): Promise<{ env: NodeJS.ProcessEnv; open: () => Promise<Db>; cleanup: () => Promise<void> }>;
}

const { DATABASE_URL: _unset, ...baseEnv } = process.env;

const BACKENDS: Backend[] = [
  {
    name: 'embedded PGlite',
    async setup(dir) {
      return {
        env: { ...baseEnv, GRIDWALL_DATA_DIR: dir, GRIDWALL_DEMO_SUPPLY_POINTS: '300' },
        open: () => openPglite(dir),
        cleanup: async () => undefined,
      };
    },
  },
  ...(url === undefined
    ? []
    : [
        {
          name: 'PostgreSQL',
          async setup(dir: string) {
            const schema = `gw_crash_${randomBytes(4).toString('hex')}`;
            const admin = await openPostgres(url, { poolSize: 1 });
            await admin.exec(`CREATE SCHEMA ${schema}`);
            const keyFile = join(dir, 'key.pem');
            writeFileSync(keyFile, generateSigningKey().privateKey.export({ type: 'pkcs8', format: 'pem' }));
            const schemaUrl = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
            const env = { ...baseEnv, DATABASE_URL: schemaUrl, GRIDWALL_DEMO_LOGIN: 'true', GRIDWALL_LOG_KEY_FILE: keyFile };
            const demo = await runCli(['demo', '--supply-points', '300'], { env });
            assert.equal(demo.status, 0, demo.stderr);
            return {
              env,
              open: () => openPostgres(url, { schema, poolSize: 2 }),
              cleanup: async () => {
                await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
                await admin.close();
              },
            };
          },
        },
      ]),
];

for (const backend of BACKENDS) {
  test(
    `kill -9 during a load on ${backend.name}: every response the client got has its committed event, and the chain verifies`,
    { timeout: 180_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gridwall-crash-'));
      const { env, open, cleanup } = await backend.setup(dir);
      try {
        const child = spawn(process.execPath, ['bin/gridwall.js', 'start'], {
          env: { ...env, ...LOAD_READ_LIMITS_ENV, PORT: '0', GRIDWALL_LOG_CHECKPOINT_EVENTS: '50' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        const base = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /gridwall is running: (http:\/\/\S+)[\s\S]*Press Ctrl\+C/.exec(out);
            if (m?.[1] !== undefined) resolve(m[1]);
          });
          child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
        });
        const login = await fetch(`${base}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'demo-nw-cc' }),
        });
        assert.equal(login.status, 201);
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
        const found = (await (
          await fetch(`${base}/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('丁目')}&limit=50`, { headers: { cookie } })
        ).json()) as { items: { supplyPointId: string }[] };
        const ids = found.items.map((i) => i.supplyPointId);
        assert.ok(ids.length > 10);

        // The load: 16 clients in a loop; each 2xx response's request id is what the client "got".
        const got: string[] = [];
        let stop = false;
        const client = async (c: number) => {
          for (let i = c; !stop; i += 16) {
            try {
              const res = await fetch(`${base}/api/supply-points/${ids[i % ids.length]}?purpose=customer_inquiry`, { headers: { cookie } });
              await res.arrayBuffer();
              if (res.status === 200) got.push(res.headers.get('x-request-id') ?? 'missing');
            } catch {
              return; // the server is gone
            }
          }
        };
        const clients = Array.from({ length: 16 }, (_, c) => client(c));
        while (got.length < 300) await new Promise((r) => setTimeout(r, 10));
        child.kill('SIGKILL');
        await exited;
        stop = true;
        await Promise.all(clients);
        assert.ok(got.length >= 300, `responses before the kill: ${got.length}`);

        const db = await open();
        try {
          const keyFile = env['GRIDWALL_LOG_KEY_FILE'] ?? join(dir, 'log-signing-key.pem');
          const result = await verifyStore(db, { keys: publicKeys([loadSigningKey(keyFile, false).key.publicKeyPem]) });
          assert.equal(result.ok, true, JSON.stringify(result.firstBreak));
          const { rows } = await db.query<{ request_id: string }>(
            `SELECT request_id FROM access_log WHERE request_id = ANY($1::text[]) AND outcome = 'served'`,
            [got],
          );
          const logged = new Set(rows.map((r) => r.request_id));
          const unlogged = got.filter((id) => !logged.has(id));
          assert.deepEqual(unlogged, [], `${unlogged.length} of ${got.length} responses have no committed event`);
          assert.ok((result.lastSeq ?? 0) >= got.length);
        } finally {
          await db.close();
        }
      } finally {
        await cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
