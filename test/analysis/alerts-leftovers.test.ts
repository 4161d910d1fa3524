import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertDispatcher, deliveriesOf, NO_RECIPIENTS, type AlertSettings, type Delivery } from '../../src/analysis/alert-dispatcher.ts';
import { raiseFinding } from '../../src/analysis/findings.ts';
import { dailyDigest } from '../../src/analysis/review.ts';
import type { Db } from '../../src/store/db.ts';
import { seededApp } from '../support/app.ts';
import { NOW } from '../support/fixture.ts';
import { smtpServer } from '../support/smtp.ts';
import { STORES } from '../support/stores.ts';

/**
 * The review's leftovers on alerts (issue 20): one receiver that hangs must not hold up any other alert or
 * channel (each delivery runs on its own, a few at once, each within its time-out, still claimed once), and a
 * mail with nobody to go to is given up as such, never counted as sent — against a real HTTP receiver and the
 * real SMTP server the alert tests start.
 */
const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const FROM = 'gridwall@nw.example.jp';

/** An HTTP receiver that holds the requests of the alerts named in `slow` (until `release`) and answers the others at once. */
async function receiver(): Promise<{
  url: string;
  slow: Set<string>;
  received: string[];
  held: () => number;
  release(status: number): void;
  stop(): Promise<void>;
}> {
  const held: ServerResponse[] = [];
  const received: string[] = [];
  const slow = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['x-gridwall-delivery']);
      received.push(id);
      if (slow.has(id)) held.push(res);
      else res.writeHead(200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    slow,
    received,
    held: () => held.length,
    release: (status) => {
      for (const res of held.splice(0)) res.writeHead(status).end();
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits (polling the store) until `check` holds; the test's own time-out bounds it. */
async function until<T>(what: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await what();
    if (check(v)) return v;
    await sleep(20);
  }
}

let seq = 0;
/** A new high finding (each its own subject): the findings queue puts its alert in the outbox; returns the outbox id. */
async function highFinding(db: Db): Promise<number> {
  seq++;
  const id = await raiseFinding(db, {
    rule: 'test_alert_leftovers',
    severity: 'high',
    occurredAt: NOW,
    detectedAt: NOW,
    source: 'live',
    subjectPersonId: null,
    subjectUserId: null,
    subjectKey: `terminal:T-LEFT-${seq}`,
    summary: 'テスト',
    evidence: {},
  });
  const { rows } = await db.query<{ id: string | number }>('SELECT id FROM alert_outbox WHERE finding_id = $1', [id]);
  return Number(rows[0]?.id ?? assert.fail('no alert queued'));
}

const state = (d: Delivery | undefined) =>
  d === undefined ? 'none' : d.deliveredAt !== null ? 'delivered' : d.gaveUpAt !== null ? `gave up: ${d.lastError}` : `pending: ${d.lastError}`;
const byChannel = async (db: Db, outbox: number) => Object.fromEntries((await deliveriesOf(db, outbox)).map((d) => [d.channel, d]));

for (const store of STORES) {
  describe(`alert deliveries run independently on ${store.name}`, () => {
    const w = seededApp(store, {}, async (_db, owner) => {
      await owner.query('UPDATE persons SET email = $2 WHERE id = $1', ['p-comp', 'compliance@nw.example.jp']);
    });
    let hook: Awaited<ReturnType<typeof receiver>>;
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let alerts: AlertDispatcher;
    const warnings: string[] = [];

    before(async () => {
      hook = await receiver();
      smtp = await smtpServer();
      const settings: AlertSettings = {
        webhook: { url: hook.url, secret: SECRET },
        syslog: null,
        email: true,
        // Long enough that a delivery still under way is told from one that timed out.
        timeoutMs: 10_000,
        maxAttempts: 3,
        pollMs: 60_000,
        concurrency: 2,
      };
      alerts = new AlertDispatcher(w.db, settings, {
        mail: { url: `smtp://127.0.0.1:${smtp.port}`, from: `gridwall <${FROM}>`, timeoutMs: 10_000 },
        clock: () => NOW,
        publicUrl: null,
        log: { warn: (fields, message) => void warnings.push(`${message} ${JSON.stringify(fields)}`) },
      });
    });
    after(async () => {
      hook.release(200);
      await alerts.close();
      await hook.stop();
      await smtp.stop();
    });

    test('a webhook that hangs holds up neither its alert’s mail nor a later alert; it is claimed and sent once', async () => {
      const first = await highFinding(w.db);
      hook.slow.add(String(first));
      alerts.nudge();
      await until(
        async () => hook.held(),
        (n) => n === 1,
      );
      // The same alert's mail went while its webhook hangs.
      await until(
        async () => state((await byChannel(w.db, first))['email']),
        (s) => s === 'delivered',
      );

      // A later alert, raised while the first webhook still hangs, goes out on both channels.
      const second = await highFinding(w.db);
      alerts.nudge();
      const later = await until(
        async () => byChannel(w.db, second),
        (d) => state(d['webhook']) === 'delivered' && state(d['email']) === 'delivered',
      );
      assert.equal(later['webhook']?.attempts, 1);
      const stuck = (await byChannel(w.db, first))['webhook'];
      assert.deepEqual(
        [stuck?.attempts, stuck?.deliveredAt, stuck?.lastError, hook.held()],
        [1, null, null, 1],
        'the first webhook is still under way (not timed out first): the later alert did not wait for it',
      );

      hook.release(200);
      await alerts.idle();
      const done = await byChannel(w.db, first);
      assert.deepEqual([state(done['webhook']), done['webhook']?.attempts], ['delivered', 1]);
      assert.equal(hook.received.filter((id) => id === String(first)).length, 1, 'claimed once: the rounds meanwhile did not send it again');
      const outbox = await w.db.query<{ id: string | number; done_at: Date | null }>('SELECT id, done_at FROM alert_outbox WHERE id = ANY($1::bigint[])', [
        [first, second],
      ]);
      assert.ok(
        outbox.rows.every((r) => r.done_at !== null),
        'both alerts done',
      );
    });

    test('a delivery another process claimed first is neither sent nor failed by the round that found it due', async () => {
      const settings: AlertSettings = {
        webhook: { url: hook.url, secret: SECRET },
        syslog: null,
        email: false,
        timeoutMs: 10_000,
        maxAttempts: 3,
        pollMs: 60_000,
      };
      const opts = {
        mail: null,
        clock: () => NOW,
        publicUrl: null,
        log: { warn: (fields: object, message: string) => void warnings.push(`${message} ${JSON.stringify(fields)}`) },
      };
      const other = new AlertDispatcher(w.db, settings, opts);
      const id = await highFinding(w.db);
      let otherRound: { delivered: number; failed: number } | null = null;
      // This process found the delivery due; just before its claim reaches the store, another process claims and sends it.
      const racing = new Proxy(w.db, {
        get(target, prop) {
          if (prop === 'query')
            return async (sql: string, params?: unknown[]) => {
              if (otherRound === null && sql.includes('SET attempts = attempts + 1') && params?.[0] === id) otherRound = await other.runOnce();
              return target.query(sql, params);
            };
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const mine = new AlertDispatcher(racing, settings, opts);
      try {
        assert.deepEqual(await mine.runOnce(), { delivered: 0, failed: 0 }, 'claimed elsewhere: not a failure here');
        assert.deepEqual(otherRound, { delivered: 1, failed: 0 }, 'the other process sent it');
        assert.equal(hook.received.filter((r) => r === String(id)).length, 1, 'sent once');
        const d = (await byChannel(w.db, id))['webhook'];
        assert.deepEqual([state(d), d?.attempts], ['delivered', 1]);
      } finally {
        await mine.close();
        await other.close();
      }
    });

    test('deliveries under way at once stay within the bound: more hanging receivers than slots wait their turn', async () => {
      const ids = [await highFinding(w.db), await highFinding(w.db), await highFinding(w.db)];
      for (const id of ids) hook.slow.add(String(id));
      alerts.nudge();
      // Two slots: two webhooks hang; everything else of the three alerts waits behind them.
      await until(
        async () => hook.held(),
        (n) => n === 2,
      );
      assert.equal(hook.held(), 2, 'never more than the bound at once');
      hook.release(200);
      await until(
        async () => hook.held(),
        (n) => n === 1,
      );
      hook.release(200);
      await alerts.idle();
      for (const id of ids) {
        const d = await byChannel(w.db, id);
        assert.deepEqual([state(d['webhook']), state(d['email'])], ['delivered', 'delivered'], `alert ${id}`);
      }
    });
  });

  describe(`a mail with nobody to go to is not sent on ${store.name}`, () => {
    // The fixture's compliance people have no e-mail address.
    const w = seededApp(store);
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let alerts: AlertDispatcher;
    const warnings: string[] = [];

    before(async () => {
      smtp = await smtpServer();
      alerts = new AlertDispatcher(
        w.db,
        { webhook: null, syslog: null, email: true, timeoutMs: 5_000, maxAttempts: 3, pollMs: 60_000 },
        {
          mail: { url: `smtp://127.0.0.1:${smtp.port}`, from: `gridwall <${FROM}>`, timeoutMs: 5_000 },
          clock: () => NOW,
          publicUrl: null,
          log: { warn: (fields, message) => void warnings.push(`${message} ${JSON.stringify(fields)}`) },
        },
      );
    });
    after(async () => {
      await alerts.close();
      await smtp.stop();
    });

    test('an alert and the digest with no compliance address are given up as undeliverable, logged, never sent', async () => {
      const finding = await highFinding(w.db);
      await dailyDigest(w.db, new Date(NOW.getTime() + 86_400_000));
      const digest = Number(
        (await w.db.query<{ id: string | number }>(`SELECT id FROM alert_outbox WHERE kind = 'digest'`)).rows[0]?.id ?? assert.fail('no digest queued'),
      );
      assert.deepEqual(await alerts.runOnce(), { delivered: 0, failed: 2 });
      for (const id of [finding, digest]) {
        const [d, ...more] = await deliveriesOf(w.db, id);
        assert.equal(more.length, 0);
        assert.deepEqual([d?.channel, d?.attempts, d?.deliveredAt, d?.lastError], ['email', 1, null, NO_RECIPIENTS], `outbox ${id}`);
        assert.ok(d?.gaveUpAt instanceof Date, 'given up at once: retrying would find nobody either');
      }
      assert.equal(smtp.received.length, 0);
      assert.equal(warnings.filter((l) => l.includes('"alert":"gave_up"') && l.includes('no_recipients')).length, 2, 'each in the server log');
      const done = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_outbox WHERE done_at IS NOT NULL AND id = ANY($1::bigint[])', [
        [finding, digest],
      ]);
      assert.equal(done.rows[0]?.n, 2, 'nothing left to try');
      assert.deepEqual(await alerts.runOnce(), { delivered: 0, failed: 0 }, 'not tried again');

      // The control: once compliance has an address, the same dispatcher mails the next alert.
      await w.owner.query('UPDATE persons SET email = $2 WHERE id = $1', ['p-comp', 'compliance@nw.example.jp']);
      const next = await highFinding(w.db);
      assert.deepEqual(await alerts.runOnce(), { delivered: 1, failed: 0 });
      assert.equal(state((await byChannel(w.db, next))['email']), 'delivered');
      assert.equal(smtp.received.length, 1);
    });
  });
}
