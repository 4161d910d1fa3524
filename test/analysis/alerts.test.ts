import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { AlertDispatcher, deliveriesOf, retryDelayMs, type AlertSettings } from '../../src/analysis/alert-dispatcher.ts';
import { openSyslog } from '../../src/audit/feed.ts';
import { logAlert, shouldAlert, supplyPointCount, verifyWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../../src/analysis/alerts.ts';
import { dailyDigest, reviewFinding } from '../../src/analysis/review.ts';
import { SEVERITIES } from '../../src/domain/finding.ts';
import { FINDING_RULE_LABELS } from '../../src/domain/finding-rules.ts';
import type { Db } from '../../src/store/db.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { readMail, smtpServer } from '../support/smtp.ts';
import { STORES } from '../support/stores.ts';

/**
 * Alerts leave gridwall (issue 20): a high finding goes to a webhook (JSON, signed), to syslog and by mail to
 * compliance as it is raised, and the daily digest is mailed — each against a real receiver on a local port
 * (an HTTP server, a UDP socket, smtp-server). Sending happens from the outbox, never inside the read: a
 * receiver that hangs or fails neither slows nor fails the read, and is retried. No alert carries customer data.
 */
const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const COMPLIANCE_ADDRESS = 'compliance@nw.example.jp';
const FROM = 'gridwall@nw.example.jp';
const PUBLIC_URL = 'https://gridwall.example.jp';

interface Hook {
  readonly url: string;
  readonly received: { headers: IncomingMessage['headers']; body: string }[];
  /** What the next requests get: 200, a status, or held until `release`. */
  mode: 'ok' | 'fail' | 'hold';
  /** Answers every held request with `status`. */
  release(status: number): void;
  /** Resolves when the server has received `n` requests. */
  receivedCount(n: number): Promise<void>;
  stop(): Promise<void>;
}

async function webhookServer(): Promise<Hook> {
  const held: ServerResponse[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const hook: Hook = {
    url: '',
    received: [],
    mode: 'ok',
    release(status) {
      for (const res of held.splice(0)) res.writeHead(status).end();
    },
    receivedCount: (n) => new Promise((resolve) => (hook.received.length >= n ? resolve() : waiters.push({ n, resolve }))),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hook.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      for (const w of waiters.filter((x) => hook.received.length >= x.n)) w.resolve();
      if (hook.mode === 'hold') held.push(res);
      else res.writeHead(hook.mode === 'ok' ? 200 : 500).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  Object.assign(hook, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/gridwall` });
  return hook;
}

async function syslogReceiver(): Promise<{ port: number; messages: string[]; close(): void; sock: UdpSocket }> {
  const sock = createSocket('udp4');
  const messages: string[] = [];
  sock.on('message', (m) => messages.push(m.toString('utf8')));
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, messages, close: () => sock.close(), sock };
}

/** Every customer value in the store a leak would show: names, kana, phones, addresses, supply point IDs, meter IDs; and staff names. */
async function customerData(owner: Db): Promise<string[]> {
  const { rows } = await owner.query<{ v: string | null }>(
    `SELECT name AS v FROM customers UNION SELECT name_kana FROM customers UNION SELECT phone FROM customers UNION SELECT phone_digits FROM customers
     UNION SELECT address_text FROM supply_points UNION SELECT street FROM supply_points UNION SELECT id FROM supply_points UNION SELECT meter_id FROM supply_points
     UNION SELECT name FROM persons`,
  );
  return rows.map((r) => r.v).filter((v): v is string => v !== null && v.length >= 3);
}

test('the alert rule: high findings when new or when they become high; never again for an update', () => {
  assert.equal(shouldAlert(null, 'high'), true);
  assert.equal(shouldAlert('medium', 'high'), true);
  assert.equal(shouldAlert('high', 'high'), false);
  assert.equal(shouldAlert(null, 'medium'), false);
  fc.assert(
    fc.property(fc.option(fc.constantFrom(...SEVERITIES), { nil: null }), fc.constantFrom(...SEVERITIES), (before, after) => {
      assert.equal(shouldAlert(before, after), after === 'high' && before !== 'high');
    }),
  );
});

test('supply points reach an alert as a count of distinct IDs, wherever the evidence names them', () => {
  assert.equal(supplyPointCount([{ supplyPointId: SP.R3 }, { supplyPointId: SP.R3 }, { nested: { supplyPointIds: [SP.OWN_A, SP.R3] } }]), 2);
  assert.equal(supplyPointCount([{ supplyPointId: null, requestId: 'r-1', terminalId: 'T-1' }]), 0);
});

test('the log stopping the line is alerted at once to the webhook (signed) and syslog, with its database gone', async () => {
  const opened = await STORES[0]!.open();
  await opened.dispose();
  const hook = await webhookServer();
  const syslog = await syslogReceiver();
  const warnings: string[] = [];
  try {
    const alerts = new AlertDispatcher(
      opened.db,
      { webhook: { url: hook.url, secret: SECRET }, syslog: `udp://127.0.0.1:${syslog.port}`, email: true, timeoutMs: 5_000, maxAttempts: 3, pollMs: 60_000 },
      { mail: null, clock: () => NOW, publicUrl: null, log: { warn: (f) => warnings.push(JSON.stringify(f)) } },
    );
    const reason = 'events 11–11, written since event 10, cannot be accounted for: bad_signature at event 11';
    await alerts.sendNow(logAlert('halted', reason, NOW));
    assert.deepEqual(warnings, []);
    assert.equal(hook.received.length, 1);
    const { headers, body } = hook.received[0]!;
    assert.ok(verifyWebhook(SECRET, String(headers[WEBHOOK_TIMESTAMP_HEADER]), String(headers[WEBHOOK_SIGNATURE_HEADER]), body, NOW));
    const sent = JSON.parse(body) as { type: string; event: string; reason: string; text: { ja: string } };
    assert.deepEqual([sent.type, sent.event, sent.reason], ['gridwall.log', 'halted', reason]);
    assert.match(sent.text.ja, /顧客情報は提供されません/);
    for (let i = 0; i < 50 && syslog.messages.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(syslog.messages[0] ?? '', /^<105>1 .* alert - \{"type":"gridwall.log","event":"halted"/);
    // A receiver that fails is logged, never thrown.
    hook.mode = 'fail';
    await alerts.sendNow(logAlert('witness_failed', 'the witness cannot be written', NOW));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /"channel":"webhook".*"reason":"HTTP 500"/);
  } finally {
    syslog.close();
    await hook.stop();
  }
});

test('a syslog receiver over TCP that resets the connection fails the next send; the process goes on', async () => {
  // It takes the first message, then resets the connection.
  const server = createNetServer((sock) => sock.once('data', () => sock.resetAndDestroy()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const sink = await openSyslog(`tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, { msgid: 'alert', severity: 1 });
    // Wait for the reset to arrive (an 'error' event on the socket: with no listener it would end the process).
    for (let i = 0; i < 50; i++) {
      try {
        await sink.send('{"type":"gridwall.log"}');
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await assert.rejects(sink.send('{"type":"gridwall.log"}'), /ECONNRESET|EPIPE/);
    await sink.close().catch(() => undefined);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

for (const store of STORES) {
  describe(`alerts of high findings on ${store.name}`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now }, async (db, owner) => {
      await seedEmergencyRoles(db);
      await owner.query('UPDATE persons SET email = $2 WHERE id = $1', ['p-comp', COMPLIANCE_ADDRESS]);
    });
    let hook: Hook;
    let syslog: Awaited<ReturnType<typeof syslogReceiver>>;
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let alerts: AlertDispatcher;
    const warnings: string[] = [];
    const settings = (): AlertSettings => ({
      webhook: { url: hook.url, secret: SECRET },
      syslog: `udp://127.0.0.1:${syslog.port}`,
      email: true,
      timeoutMs: 5_000,
      maxAttempts: 3,
      pollMs: 60_000,
    });
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    const put = (s: Session, url: string, payload: Record<string, unknown>) =>
      w.app.inject({ method: 'PUT', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    const refusedEmergencyRead = async (s: Session, sp: string) => {
      const res = await get(s, `/api/supply-points/${sp}?purpose=emergency_support&reason=${encodeURIComponent('停電の連絡')}`);
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'no_active_emergency');
    };
    const outbox = async () =>
      (
        await w.db.query<{ id: string | number; finding_id: string | number | null; done_at: Date | null }>(
          'SELECT id, finding_id, done_at FROM alert_outbox ORDER BY id',
        )
      ).rows;

    before(async () => {
      hook = await webhookServer();
      syslog = await syslogReceiver();
      smtp = await smtpServer();
      alerts = new AlertDispatcher(w.db, settings(), {
        mail: { url: `smtp://127.0.0.1:${smtp.port}`, from: `gridwall <${FROM}>`, timeoutMs: 5_000 },
        clock: () => now,
        publicUrl: PUBLIC_URL,
        log: { warn: (fields, message) => void warnings.push(`${message} ${JSON.stringify(fields)}`) },
      });
      const admin = await login(w.app, USERS.admin);
      for (const p of ['p-retail', 'p-rctr'])
        assert.equal((await put(admin, `/api/emergency-support/${p}`, { fields: ['holder_name', 'phone'] })).statusCode, 200);
    });
    after(async () => {
      await alerts.close();
      await hook.stop();
      syslog.close();
      await smtp.stop();
    });

    test('a high finding goes to the webhook signed, to syslog and by mail to compliance, without customer data', async () => {
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      await refusedEmergencyRead(retail, SP.R3);
      const [queued, ...more] = await outbox();
      assert.equal(more.length, 0, 'one alert queued, in the read’s own transaction');
      assert.equal(queued?.done_at, null, 'not sent by the read');
      assert.equal(hook.received.length, 0, 'nothing sent until the dispatcher runs');

      assert.deepEqual(await alerts.runOnce(), { delivered: 3, failed: 0 });
      await new Promise<void>((resolve) => (syslog.messages.length > 0 ? resolve() : syslog.sock.once('message', () => resolve())));

      // The webhook: JSON, signed over the timestamp and the body with the shared secret.
      assert.equal(hook.received.length, 1);
      const req = hook.received[0] ?? assert.fail();
      assert.equal(req.headers['content-type'], 'application/json');
      const timestamp = String(req.headers[WEBHOOK_TIMESTAMP_HEADER]);
      const signature = String(req.headers[WEBHOOK_SIGNATURE_HEADER]);
      assert.equal(timestamp, String(Math.floor(now.getTime() / 1000)));
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${req.body}`).digest('hex')}`;
      assert.equal(signature, expected, 'HMAC-SHA256 of "<timestamp>.<body>" with the secret (computed here independently)');
      assert.equal(verifyWebhook(SECRET, timestamp, signature, req.body, now), true);
      assert.equal(verifyWebhook(`${SECRET}x`, timestamp, signature, req.body, now), false, 'a receiver holding another secret detects it');
      assert.equal(verifyWebhook(SECRET, timestamp, signature, req.body.replace('"high"', '"low"'), now), false, 'a changed body is detected');
      assert.equal(verifyWebhook(SECRET, timestamp, signature, req.body, new Date(now.getTime() + 3_600_000)), false, 'a replay an hour later is refused');
      const { deliveryId, ...alert } = JSON.parse(req.body) as Record<string, unknown>;
      assert.equal(deliveryId, req.headers['x-gridwall-delivery'], 'the delivery id is inside the signed body too');
      assert.equal(deliveryId, String(queued?.id));
      assert.equal(alert['type'], 'gridwall.finding');
      assert.equal(alert['rule'], 'emergency_outside_window', 'the code, for machines');
      assert.deepEqual(alert['ruleLabel'], FINDING_RULE_LABELS.emergency_outside_window, 'and the rule in words beside it');
      assert.equal(alert['severity'], 'high');
      assert.equal(alert['occurrences'], 1);
      assert.equal(alert['supplyPoints'], 1, 'the supply point as a count');
      assert.equal(alert['findingId'], Number(queued?.finding_id));
      assert.deepEqual(alert['subject'], { key: 'person:p-retail', personId: 'p-retail', userId: USERS.retail });

      // Syslog: RFC 5424, facility 13 (log audit), severity 1 (alert), MSGID alert, the same JSON.
      const line = syslog.messages[0] ?? assert.fail();
      assert.match(line, /^<105>1 \S+ \S+ gridwall \d+ alert - \{/);
      assert.deepEqual(JSON.parse(line.slice(line.indexOf('{'))), alert);

      // Mail: to compliance (audit.read with an address), Japanese first.
      assert.equal(smtp.received.length, 1);
      const got = smtp.received[0] ?? assert.fail();
      assert.deepEqual(got.rcptTo, [COMPLIANCE_ADDRESS], 'compliance only: the other audit.read holder has no address');
      const mail = readMail(got.raw);
      // The rule in words in the subject and the body (issue 20), the code only beside it in the body.
      assert.match(
        mail.subject,
        /^\[gridwall\] 重大な要確認事項 #\d+：非常災害時の権限の期間外・地域外での使用 \/ High finding #\d+: Emergency rights used outside their period or area$/,
      );
      assert.equal(mail.subject.includes('emergency_outside_window'), false, 'no bare code in the subject');
      assert.ok(mail.body.includes('ルール: 非常災害時の権限の期間外・地域外での使用（emergency_outside_window）'), mail.body);
      assert.ok(mail.body.includes('Rule: Emergency rights used outside their period or area (emergency_outside_window)'), mail.body);
      assert.ok(mail.body.startsWith('重大な要確認事項 #') && mail.body.split('\n')[0]?.includes('非常災害時の権限の期間外・地域外での使用'), mail.body);
      assert.ok(mail.body.includes('発生回数: 1'), mail.body);
      assert.ok(mail.body.includes(`${PUBLIC_URL}/findings`));
      assert.equal(mail.headers['to'], undefined, 'addresses in Bcc only');

      // No customer data anywhere it went (nor a staff member's name): the summary and evidence stay inside.
      const secrets = await customerData(w.owner);
      assert.ok(secrets.includes(SP.R3) && secrets.some((s) => s.includes('加藤')), 'the control: the list holds what the finding is about');
      for (const [where, text] of [
        ['webhook', req.body],
        ['syslog', line],
        ['mail', `${mail.subject}\n${mail.body}\n${got.raw}`],
      ] as const)
        for (const s of secrets) assert.equal(text.includes(s), false, `no ${s} in the ${where} alert`);

      const deliveries = await deliveriesOf(w.db, Number(queued?.id));
      assert.deepEqual(
        deliveries.map((d) => `${d.channel} ${d.attempts} ${d.deliveredAt === null ? 'pending' : 'delivered'}`),
        ['email 1 delivered', 'syslog 1 delivered', 'webhook 1 delivered'],
      );
      assert.notEqual((await outbox())[0]?.done_at, null, 'done');
      assert.deepEqual(await alerts.runOnce(), { delivered: 0, failed: 0 }, 'nothing is sent twice');
      assert.equal(hook.received.length, 1);
    });

    test('the open finding updated by another refusal does not alert again', async () => {
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      now = new Date(NOW.getTime() + 60_000);
      await refusedEmergencyRead(retail, SP.OWN_A);
      assert.equal((await outbox()).length, 1, 'no second alert');
      await alerts.runOnce();
      assert.equal(hook.received.length, 1);
      assert.equal(smtp.received.length, 1);
    });

    test('a webhook that hangs and then fails neither slows nor fails the read; it is retried until delivered', async () => {
      hook.mode = 'hold';
      const contractor = await login(w.app, USERS.retailContractor, TERMINALS.RETAIL);
      now = new Date(NOW.getTime() + 2 * 60_000);
      await refusedEmergencyRead(contractor, SP.R3);
      const queued = (await outbox()).at(-1) ?? assert.fail();
      const round = alerts.runOnce();
      await hook.receivedCount(2); // the dispatcher is now waiting on the webhook, which does not answer
      // Reads go on meanwhile: a refusal (updating the open finding) and a served read.
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      await refusedEmergencyRead(contractor, SP.OWN_A);
      assert.equal((await get(retail, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`)).statusCode, 200);
      hook.release(500);
      assert.deepEqual(await round, { delivered: 2, failed: 1 }, 'syslog and mail went; the webhook failed');
      let [d] = (await deliveriesOf(w.db, Number(queued.id))).filter((x) => x.channel === 'webhook');
      assert.deepEqual([d?.attempts, d?.deliveredAt, d?.lastError], [1, null, 'HTTP 500']);
      assert.ok(
        warnings.some((l) => l.includes('"channel":"webhook"') && l.includes('HTTP 500')),
        'the failure is in the server log',
      );
      assert.equal((await outbox()).at(-1)?.done_at, null, 'not done while the webhook has not had it');

      hook.mode = 'ok';
      assert.deepEqual(await alerts.runOnce(), { delivered: 0, failed: 0 }, 'not retried before its pause');
      assert.equal(hook.received.length, 2);
      now = new Date(now.getTime() + retryDelayMs(1));
      assert.deepEqual(await alerts.runOnce(), { delivered: 1, failed: 0 }, 'retried after the pause');
      [d] = (await deliveriesOf(w.db, Number(queued.id))).filter((x) => x.channel === 'webhook');
      assert.deepEqual([d?.attempts, d?.lastError], [2, null]);
      assert.ok(d?.deliveredAt instanceof Date);
      assert.notEqual((await outbox()).at(-1)?.done_at, null);
      const retried = hook.received.at(-1) ?? assert.fail();
      assert.equal(retried.headers['x-gridwall-delivery'], String(queued.id), 'the same delivery id on the retry: a receiver can drop a repeat');
    });

    test('a webhook that keeps failing is given up after the attempts allowed, recorded', async () => {
      hook.mode = 'fail';
      const finding = (await w.db.query<{ id: string | number }>(`SELECT id FROM findings WHERE status <> 'resolved' AND subject_key = 'person:p-rctr'`))
        .rows[0];
      await reviewFinding(w.db, { kind: 'person', userId: USERS.compliance, personId: 'p-comp' }, Number(finding?.id), 'resolved', '確認済み', now);
      const contractor = await login(w.app, USERS.retailContractor, TERMINALS.RETAIL);
      await refusedEmergencyRead(contractor, SP.R3);
      const queued = (await outbox()).at(-1) ?? assert.fail();
      assert.notEqual(Number(queued.finding_id), Number(finding?.id), 'a new finding after the resolved one: a new alert');
      for (let i = 1; i <= 3; i++) {
        await alerts.runOnce();
        now = new Date(now.getTime() + retryDelayMs(i));
      }
      const [d] = (await deliveriesOf(w.db, Number(queued.id))).filter((x) => x.channel === 'webhook');
      assert.equal(d?.attempts, 3);
      assert.ok(d?.gaveUpAt instanceof Date, 'given up');
      assert.equal(d?.deliveredAt, null);
      assert.notEqual((await outbox()).at(-1)?.done_at, null, 'done: nothing more will be tried');
      hook.mode = 'ok';
    });

    test('alerts waiting for a retry never keep a newer alert from being sent (more of them than a round takes)', async () => {
      const sample = (await w.db.query<{ finding_id: string | number; payload: unknown }>('SELECT finding_id, payload FROM alert_outbox ORDER BY id LIMIT 1'))
        .rows[0];
      if (sample === undefined) assert.fail('an alert from the tests above');
      const later = new Date(now.getTime() + 3_600_000);
      // 150 alerts whose webhook delivery waits an hour for its retry (the receiver was down), listed first.
      await w.db.query(
        `WITH o AS (INSERT INTO alert_outbox (created_at, kind, finding_id, payload)
                    SELECT $1, 'finding', $2, $3::jsonb FROM generate_series(1, 150) RETURNING id)
         INSERT INTO alert_deliveries (outbox_id, channel, attempts, next_attempt_at) SELECT id, 'webhook', 1, $4 FROM o`,
        [now, Number(sample.finding_id), JSON.stringify(sample.payload), later],
      );
      const fresh = await w.db.query<{ id: string | number }>(
        `INSERT INTO alert_outbox (created_at, kind, finding_id, payload) VALUES ($1, 'finding', $2, $3::jsonb) RETURNING id`,
        [now, Number(sample.finding_id), JSON.stringify(sample.payload)],
      );
      const before = hook.received.length;
      await alerts.runOnce();
      const [d] = (await deliveriesOf(w.db, Number(fresh.rows[0]?.id))).filter((x) => x.channel === 'webhook');
      assert.ok(d?.deliveredAt instanceof Date, 'the newest alert went out in the first round');
      assert.equal(hook.received.length, before + 1, 'and none of the waiting ones before their time');
      await w.db.query('UPDATE alert_outbox SET done_at = $1 WHERE done_at IS NULL', [now]);
    });

    test('the daily digest is mailed to compliance, once a day, with counts only', async () => {
      const mailsBefore = smtp.received.length;
      const hooksBefore = hook.received.length;
      const digest = await dailyDigest(w.db, new Date(NOW.getTime() + 86_400_000));
      await dailyDigest(w.db, new Date(NOW.getTime() + 86_400_000 + 60_000));
      await alerts.runOnce();
      assert.equal(smtp.received.length, mailsBefore + 1, 'one digest mail, however often the digest ran');
      assert.equal(hook.received.length, hooksBefore, 'the digest goes by mail only');
      const got = smtp.received.at(-1) ?? assert.fail();
      assert.deepEqual(got.rcptTo, [COMPLIANCE_ADDRESS]);
      const mail = readMail(got.raw);
      assert.equal(mail.subject, `[gridwall] 日次ダイジェスト ${digest.day} / Daily digest ${digest.day}`);
      assert.ok(mail.body.includes(`拒否 ${digest.refused} 件`), mail.body);
      assert.ok(mail.body.includes(`重大 ${digest.open.high}`));
      for (const s of await customerData(w.owner)) assert.equal(got.raw.includes(s) || mail.body.includes(s), false, `no ${s} in the digest`);
    });
  });
}
