import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';

/**
 * The read replica (issue 21, docs/DEPLOYMENT.md "Read replicas"): a streaming copy of the PostgreSQL server,
 * so only beside DATABASE_URL; its lag limit has a default and bounds.
 */

const SERVER = { DATABASE_URL: 'postgres://gridwall@db1.example.jp:5432/gridwall', GRIDWALL_LOG_KEY_FILE: '/nonexistent/key.pem' };
const REPLICA = 'postgres://gridwall@db2.example.jp:5432/gridwall';

test('DATABASE_REPLICA_URL: none by default; beside DATABASE_URL it is the replica, 30 s behind at most unless told', () => {
  assert.equal(loadConfig(SERVER).replica, null);
  assert.deepEqual(loadConfig({ ...SERVER, DATABASE_REPLICA_URL: REPLICA }).replica, { url: REPLICA, maxLagSeconds: 30 });
  assert.equal(loadConfig({ ...SERVER, DATABASE_REPLICA_URL: REPLICA, GRIDWALL_REPLICA_MAX_LAG_SECONDS: '5' }).replica?.maxLagSeconds, 5);
  for (const bad of ['0', '-1', '3601', 'soon'])
    assert.throws(() => loadConfig({ ...SERVER, DATABASE_REPLICA_URL: REPLICA, GRIDWALL_REPLICA_MAX_LAG_SECONDS: bad }), /GRIDWALL_REPLICA_MAX_LAG_SECONDS/);
  assert.throws(() => loadConfig({ ...SERVER, DATABASE_REPLICA_URL: 'db2.example.jp' }), /DATABASE_REPLICA_URL/);
});

test('DATABASE_REPLICA_URL without DATABASE_URL is refused, saying why: the embedded store has no replica', () => {
  assert.throws(
    () => loadConfig({ DATABASE_REPLICA_URL: REPLICA }),
    (e: unknown) => e instanceof ConfigError && /DATABASE_REPLICA_URL needs DATABASE_URL/.test(e.message) && !e.message.includes('db2.example.jp'),
  );
});
