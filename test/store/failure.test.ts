import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { LogUnavailableError } from '../../src/audit/access-event.ts';
import { singleFlight, storeFailure, withinDeadline } from '../../src/store/failure.ts';
import { openPostgres } from '../../src/store/postgres.ts';

// Real errors from the real driver and server, classified: only failures of the store itself become 503s.

const url = process.env['DATABASE_URL'];

/** A local port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a server that refuses the connection is unreachable, also behind the log error that wraps it', async () => {
  const port = await closedPort();
  const err = await openPostgres(`postgres://postgres@127.0.0.1:${port}/test`, { poolSize: 1 }).then(
    () => assert.fail('connected to a closed port'),
    (e: unknown) => e,
  );
  assert.equal(storeFailure(err), 'unreachable', String(err));
  assert.equal(storeFailure(new LogUnavailableError(err)), 'unreachable');
});

test('a server that accepts and never answers times out on connect', async () => {
  const held = new Set<net.Socket>();
  const silent = net.createServer((s) => held.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const { port } = silent.address() as net.AddressInfo;
    const err = await openPostgres(`postgres://postgres@127.0.0.1:${port}/test`, {
      poolSize: 1,
      timeouts: { connectMs: 300, statementMs: 1000, queryMs: 1000, idleInTransactionMs: 1000 },
    }).then(
      () => assert.fail('connected to a silent server'),
      (e: unknown) => e,
    );
    assert.equal(storeFailure(err), 'timeout', String(err));
  } finally {
    for (const s of held) s.destroy();
    silent.close();
  }
});

if (url !== undefined) {
  test('on PostgreSQL: a statement past statement_timeout is a timeout; a bad query or a broken rule is not a store failure', async () => {
    const db = await openPostgres(url, { poolSize: 1, timeouts: { connectMs: 2000, statementMs: 100, queryMs: 5000, idleInTransactionMs: 5000 } });
    try {
      const slow = await db.query('SELECT pg_sleep(2)').then(
        () => assert.fail('pg_sleep(2) finished under a 100 ms statement_timeout'),
        (e: unknown) => e,
      );
      assert.equal((slow as { code?: string }).code, '57014');
      assert.equal(storeFailure(slow), 'timeout');
      const syntax = await db.query('SELEC 1').then(
        () => assert.fail('bad SQL ran'),
        (e: unknown) => e,
      );
      assert.equal(storeFailure(syntax), null);
      const rule = await db.query('SELECT 1 / 0').then(
        () => assert.fail('division by zero ran'),
        (e: unknown) => e,
      );
      assert.equal(storeFailure(rule), null);
      // The same pool answers again: the timed-out statement did not take the connection with it.
      assert.deepEqual((await db.query<{ n: number }>('SELECT 1 AS n')).rows, [{ n: 1 }]);
    } finally {
      await db.close();
    }
  });
  test('on PostgreSQL: a connection lost between two queries of a transaction fails the transaction, not the process', async () => {
    const db = await openPostgres(url, { poolSize: 2 });
    const admin = await openPostgres(url, { poolSize: 1 });
    try {
      const lost = await db
        .transaction(async (tx) => {
          const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
          // The server ends this connection while the transaction waits between its queries: the client hears of
          // it as an 'error' event with no query running (which, unheard, ended the process).
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          await new Promise((r) => setTimeout(r, 300));
          await tx.query('SELECT 1');
        })
        .then(
          () => assert.fail('the transaction went on over a lost connection'),
          (e: unknown) => e,
        );
      assert.ok(lost instanceof Error);
      // The pool serves again on a new connection.
      assert.deepEqual((await db.query<{ n: number }>('SELECT 1 AS n')).rows, [{ n: 1 }]);
    } finally {
      await db.close();
      await admin.close();
    }
  });
}

test('a programming error is not a store failure, nor is an error without a code', () => {
  assert.equal(storeFailure(new TypeError("Cannot read properties of undefined (reading 'x')")), null);
  assert.equal(storeFailure(new Error('something')), null);
  assert.equal(storeFailure(null), null);
  assert.equal(storeFailure('ECONNREFUSED'), null);
});

test('a wait given up on by withinDeadline is a timeout; work done in time is returned as it is', async () => {
  const late = await withinDeadline(new Promise<never>(() => undefined), 20).then(
    () => assert.fail('a promise that never settles was answered'),
    (e: unknown) => e,
  );
  assert.equal(storeFailure(late), 'timeout');
  assert.equal(await withinDeadline(Promise.resolve(7), 20), 7);
});

test('single flight: a call while a run is in flight shares it, a failure included; the next call after it settles runs again', async () => {
  let runs = 0;
  let settle: (ok: boolean) => void = () => undefined;
  const check = singleFlight(() => {
    runs++;
    const n = runs;
    return new Promise<number>((resolve, reject) => (settle = (ok) => (ok ? resolve(n) : reject(new Error(`run ${n} failed`)))));
  });
  const [a, b] = [check(), check()];
  assert.equal(runs, 1, 'one run for two calls');
  settle(false);
  await assert.rejects(a, /run 1 failed/);
  await assert.rejects(b, /run 1 failed/);
  const c = check();
  assert.equal(runs, 2, 'a settled run is not kept');
  settle(true);
  assert.equal(await c, 2);
});
