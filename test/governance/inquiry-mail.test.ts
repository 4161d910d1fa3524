import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { MAIL_SENDING } from '../../src/governance/mailer.ts';
import type { Db } from '../../src/store/db.ts';
import { login, testApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS, seedFixture } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';
import { readMail, smtpServer } from '../support/smtp.ts';

/**
 * Notifications mailed through SMTP (issue 18), against a real SMTP server on a local port (smtp-server), never
 * a mock transport: the other retailer's inquiry about R0003's customer 株式会社青葉精工 (SP.R3, 150 kVA) waits
 * for the service centre, whose answer is mailed to the requester — the inquiry's id, case type and status, a
 * link, and no customer data. With the server gone, or silent, the answer is unchanged and the failure recorded.
 */
const DAY = 86_400_000;
const ADDRESS = 'nanami.yamamoto@mirai-denki.example.jp';
const FROM = 'gridwall@nw.example.jp';
const PUBLIC_URL = 'https://gridwall.example.jp';
const PASSWORD = 's3cret-pass';

/** Waits until the notifications about an inquiry are settled (mailed, or failed), as the mailer does it after the answer. */
async function settled(db: Db, inquiryId: string, ms = 10_000): Promise<{ kind: string; mailed_at: Date | null; mail_error: string | null }[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { rows } = await db.query<{ kind: string; mailed_at: Date | null; mail_error: string | null }>(
      `SELECT kind, mailed_at, mail_error FROM notifications WHERE subject_type = 'inquiry' AND subject_id = $1 ORDER BY id`,
      [inquiryId],
    );
    if (rows.length > 0 && rows.every((r) => r.mailed_at !== null || (r.mail_error !== null && r.mail_error !== MAIL_SENDING))) return rows;
    if (Date.now() > deadline) assert.fail(`notifications of ${inquiryId} not settled: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const store of STORES) {
  describe(`inquiry notifications mailed through SMTP on ${store.name}`, () => {
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let db: Db;
    let dispose: () => Promise<void>;
    let app: FastifyInstance;
    const logLines: string[] = [];
    const s: Record<string, Session> = {};

    before(async () => {
      smtp = await smtpServer(PASSWORD);
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      app = await testApp(db, {
        mail: { url: `smtp://gridwall:${PASSWORD}@127.0.0.1:${smtp.port}`, from: `gridwall <${FROM}>`, timeoutMs: 5_000 },
        publicUrl: `${PUBLIC_URL}/`,
        logger: { level: 'warn', stream: { write: (l: string) => void logLines.push(l) } },
      });
      await ownerOf(db).query('UPDATE persons SET email = $2 WHERE id = $1', ['p-other', ADDRESS]);
      for (const u of [USERS.otherRetailer, USERS.retail, USERS.serviceCentre]) s[u] = await login(app, u);
    });
    after(async () => {
      await app.close();
      await smtp.stop();
      await dispose();
    });

    const post = (userId: string, url: string, payload: unknown) => {
      const sess = s[userId] ?? assert.fail(`no session for ${userId}`);
      return app.inject({ method: 'POST', url, headers: { cookie: sess.cookie, 'x-csrf-token': sess.csrf }, payload: payload as Record<string, unknown> });
    };
    /** The other retailer (or `asker`) asks for R0003's customer's capacity (at once) and equipment (queued for the service centre). */
    const queuedInquiry = async (asker: string = USERS.otherRetailer): Promise<string> => {
      const res = await post(asker, '/api/inquiries', {
        caseType: 'switching',
        supplyPointId: SP.R3,
        items: ['contracted_capacity', 'equipment'],
        consent: {
          customerName: '株式会社 青葉精工',
          method: 'recorded_call',
          givenAt: new Date(NOW.getTime() - DAY).toISOString(),
          reference: 'CALL-2026-1101-0042',
          validUntil: new Date(NOW.getTime() + 30 * DAY).toISOString(),
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      const q = res.json<{ inquiry: { id: string; status: string } }>().inquiry;
      assert.equal(q.status, 'open');
      return q.id;
    };

    test("the service centre's answer is mailed to the requester: the inquiry's id, case and status and a link, no customer data", async () => {
      const id = await queuedInquiry();
      const answered = await post(USERS.serviceCentre, `/api/inquiries/${id}/release`, { items: ['equipment'] });
      assert.equal(answered.statusCode, 200, answered.body);
      const [n] = await settled(db, id);
      assert.equal(n?.kind, 'inquiry.answered');
      assert.equal(n?.mail_error, null);
      assert.ok(n?.mailed_at instanceof Date, 'mailed_at is set');

      assert.equal(smtp.received.length, 1, 'one mail for one notification');
      const got = smtp.received[0] ?? assert.fail();
      assert.deepEqual(got.rcptTo, [ADDRESS], "to the requester's address");
      assert.equal(got.mailFrom, FROM);
      assert.equal(got.user, 'gridwall', "logged in with the URL's credentials");
      const mail = readMail(got.raw);
      assert.equal(mail.headers['to'], ADDRESS);
      assert.equal(mail.subject, `[gridwall] 照会 ${id} に回答がありました / Inquiry ${id} has been answered`);
      assert.ok(mail.body.includes(`照会番号: ${id}`), mail.body);
      assert.ok(mail.body.includes('案件種別: スイッチング（契約切替）'));
      assert.ok(mail.body.includes('状態: 回答済み'));
      assert.ok(mail.body.includes(`${PUBLIC_URL}/inquiries/${id}`), 'a link to the inquiry in the console');
      assert.ok(mail.body.indexOf('Case type: Switching') > mail.body.indexOf('案件種別'), 'the English below the Japanese');
      assert.ok(mail.body.includes('Status: Answered'));
      for (const text of [mail.subject, mail.body, got.raw]) {
        for (const secret of ['青葉精工', 'CALL-2026-1101-0042', SP.R3, 'kVA', PASSWORD])
          assert.equal(text.includes(secret), false, `no ${secret} in the mail`);
        assert.doesNotMatch(text, /\b150\b/, 'no capacity');
      }
      const replay = await post(USERS.serviceCentre, `/api/inquiries/${id}/release`, { items: ['equipment'] });
      assert.equal(replay.statusCode, 409);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(smtp.received.length, 1, 'a notification is mailed once');
    });

    test('a person without an address is not mailed; the notification stays in the console', async () => {
      const id = await queuedInquiry(USERS.retail);
      const back = await post(USERS.serviceCentre, `/api/inquiries/${id}/ask-back`, { question: '設備の設置場所を教えてください' });
      assert.equal(back.statusCode, 200, back.body);
      await new Promise((r) => setTimeout(r, 200));
      const { rows } = await db.query<{ person_id: string; mailed_at: Date | null; mail_error: string | null }>(
        'SELECT person_id, mailed_at, mail_error FROM notifications WHERE subject_id = $1',
        [id],
      );
      assert.deepEqual(rows, [{ person_id: 'p-retail', mailed_at: null, mail_error: null }]);
      assert.equal(smtp.received.length, 1, 'nothing more was sent');
    });

    test('with the SMTP server stopped the answer is given all the same; mail_error says why, the server log says it without address or content', async () => {
      const id = await queuedInquiry();
      await smtp.stop();
      const refused = await post(USERS.serviceCentre, `/api/inquiries/${id}/refuse`, { reason: '設備の情報は開示対象外です' });
      assert.equal(refused.statusCode, 200, refused.body);
      assert.equal(refused.json<{ status: string }>().status, 'refused');
      const [n] = await settled(db, id);
      assert.equal(n?.mailed_at, null);
      assert.match(n?.mail_error ?? '', /^E[A-Z]+: /, 'a short reason');
      assert.equal(n?.mail_error?.includes(PASSWORD), false);
      const warned = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'a notification could not be mailed');
      assert.equal(warned.length, 1, logLines.join('\n'));
      assert.equal(warned[0]?.['level'], 40, 'at warn');
      assert.equal(warned[0]?.['reason'], n?.mail_error);
      const line = JSON.stringify(warned[0]);
      for (const secret of [ADDRESS, '@', PASSWORD, '設備', id, '青葉']) assert.equal(line.includes(secret), false, `no ${secret} in the log`);
    });

    test('an SMTP server that never answers: the answer does not wait for it, and the mail fails at its time-out', async () => {
      // A listening socket that accepts and never greets, in place of the SMTP server; a second app over the same store.
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => void sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as AddressInfo).port;
      const slowApp = await testApp(db, { mail: { url: `smtp://127.0.0.1:${port}`, from: FROM, timeoutMs: 2_000 } });
      try {
        const id = await queuedInquiry();
        const sess = s[USERS.serviceCentre] ?? assert.fail();
        const t0 = Date.now();
        const res = await slowApp.inject({
          method: 'POST',
          url: `/api/inquiries/${id}/refuse`,
          headers: { cookie: sess.cookie, 'x-csrf-token': sess.csrf },
          payload: { reason: '対象外です' },
        });
        assert.equal(res.statusCode, 200, res.body);
        const meanwhile = await db.query<{ mail_error: string | null }>('SELECT mail_error FROM notifications WHERE subject_id = $1', [id]);
        assert.ok(
          meanwhile.rows.every((r) => r.mail_error === null || r.mail_error === MAIL_SENDING),
          'answered while the mail still waits for the silent server',
        );
        const [n] = await settled(db, id);
        assert.match(n?.mail_error ?? '', /^ETIMEDOUT: /);
        assert.ok(Date.now() - t0 >= 2_000, 'given its whole time-out');
      } finally {
        await slowApp.close();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });
}
