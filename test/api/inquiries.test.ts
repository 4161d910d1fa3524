import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SERVICE_LEVEL_HOURS } from '../../src/domain/inquiry.ts';
import { login, outcomes, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS, seedUnequalInquiryAnswers } from '../support/fixture.ts';
import { encodeCp932 } from '../support/cp932.ts';
import { ownerOf, STORES } from '../support/stores.ts';

/**
 * Inquiries through HTTP (issue 18): SP.R3 is R0003's corporate customer 株式会社青葉精工 (150 kVA), a rival's
 * customer for both the affiliated retailer's agent (A0001) and the other retailer's (R0002). The clock is
 * the test's own, so the service level's timers can be walked.
 */
const MIN = 60_000;
const DAY = 86_400_000;
let clock = NOW;
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const consent = (over: Record<string, unknown> = {}) => ({
  customerName: '株式会社 青葉精工',
  method: 'recorded_call',
  givenAt: at(-DAY),
  reference: 'CALL-2026-1101-0042',
  validUntil: at(30 * DAY),
  ...over,
});
const inquiry = (over: Record<string, unknown> = {}) => ({
  caseType: 'switching',
  supplyPointId: SP.R3,
  items: ['contracted_capacity'],
  consent: consent(),
  ...over,
});

interface InquiryBody {
  id: string;
  status: string;
  atOnce: string[];
  queued: string[];
  never: string[];
  released: string[];
  dueAt: string | null;
  consentState: string;
  refusal: { code: string; reason: string } | null;
  history: { kind: string; by: string | null; items: string[]; note: string | null }[];
}
interface Asked {
  inquiry: InquiryBody;
  answer: { supplyPointId: string; fields: Record<string, { shown: boolean; value?: unknown; reason?: string }> } | null;
}

for (const store of STORES) {
  describe(`inquiries over HTTP on ${store.name}`, () => {
    const w = seededApp(store, { now: () => clock });
    const s: Record<string, Session> = {};
    before(async () => {
      clock = NOW;
      for (const u of [USERS.retail, USERS.otherRetailer, USERS.serviceCentre, USERS.compliance, USERS.callCentre]) s[u] = await login(w.app, u);
    });
    const call = (userId: string, method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
      const sess = s[userId] ?? assert.fail(`no session for ${userId}`);
      return w.app.inject({
        method,
        url,
        headers: { cookie: sess.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': sess.csrf }), ...headers },
        ...(payload === undefined ? {} : { payload: payload as string }),
      });
    };
    const events = async (inquiryId: string) =>
      (
        await w.db.query<{ purpose: string; outcome: string; refusal: string | null; route: string; query: { consent?: string; customerName?: unknown } }>(
          `SELECT purpose, outcome, refusal, route, query FROM access_log WHERE query->>'inquiryId' = $1 ORDER BY seq`,
          [inquiryId],
        )
      ).rows;

    test("a rival's customer: contracted capacity with the customer's consent, answered at once for every retailer alike, and logged", async () => {
      // Without an inquiry the record screen masks it.
      const direct = await call(USERS.otherRetailer, 'GET', `/api/supply-points/${SP.R3}?purpose=switching_support`);
      assert.equal(outcomes(direct.json())['contracted_capacity'], 'masked:not_own_customer');
      const answers: Record<string, string>[] = [];
      for (const u of [USERS.otherRetailer, USERS.retail]) {
        const res = await call(u, 'POST', '/api/inquiries', inquiry());
        assert.equal(res.statusCode, 201, res.body);
        const body = res.json<Asked>();
        assert.equal(body.inquiry.status, 'answered');
        assert.deepEqual(body.inquiry.atOnce, ['contracted_capacity']);
        assert.equal(body.inquiry.consentState, 'valid');
        assert.deepEqual(body.answer?.fields['contracted_capacity'], { shown: true, value: { value: 150, unit: 'kVA' } });
        const o = outcomes(body.answer ?? assert.fail('no answer'));
        assert.equal(o['phone'], 'masked:outside_inquiry_allowance', 'not asked, not shown');
        assert.equal(o['holder_name'], 'masked:outside_inquiry_allowance');
        assert.equal(o['network_notes'], 'masked:network_only');
        answers.push(o);
        const logged = await events(body.inquiry.id);
        assert.deepEqual(
          logged.map((e) => [e.purpose, e.outcome, e.route, e.query.consent]),
          [['inquiry_answer', 'served', 'POST /api/inquiries', 'valid']],
        );
        assert.equal(JSON.stringify(logged).includes('青葉精工'), false, "the consent's name is evidence in the inquiry, never in the access log");
        assert.deepEqual(
          body.inquiry.history.map((h) => h.kind),
          ['asked', 'answered_at_once'],
        );
        const stored = await call(u, 'GET', `/api/inquiries/${body.inquiry.id}`);
        assert.deepEqual(stored.json(), body.inquiry, 'the inquiry as answered is the inquiry as stored');
      }
      assert.deepEqual(answers[0], answers[1], 'the affiliated retailer is answered exactly as its rival');
    });

    test('without consent nothing non-public is given; a consent that expired or names someone else is refused, kept, and repeated refusals raise a finding', async () => {
      const none = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ consent: null }));
      assert.equal(none.statusCode, 201, none.body);
      assert.deepEqual(none.json<Asked>().inquiry.never, ['contracted_capacity']);
      assert.equal(outcomes(none.json<Asked>().answer ?? assert.fail())['contracted_capacity'], 'masked:outside_inquiry_allowance');

      const expired = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ consent: consent({ validUntil: at(-1) }) }));
      assert.equal(expired.statusCode, 403);
      assert.equal(expired.json<{ error: { code: string; details: { rule: string } } }>().error.details.rule, 'consent_expired');
      const future = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ consent: consent({ givenAt: at(MIN) }) }));
      assert.equal(future.json<{ error: { details: { rule: string } } }>().error.details.rule, 'consent_not_yet_given');
      assert.equal(await findings(), 0, 'two refusals: no finding yet');
      const other = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ consent: consent({ customerName: '山田 太郎' }) }));
      assert.equal(other.statusCode, 403);
      const err = other.json<{ error: { code: string; message: string; details: { rule: string; inquiryId: string } } }>().error;
      assert.equal(err.code, 'inquiry_refused');
      assert.equal(err.details.rule, 'consent_other_customer');
      const kept = await call(USERS.otherRetailer, 'GET', `/api/inquiries/${err.details.inquiryId}`);
      assert.equal(kept.json<InquiryBody>().refusal?.code, 'consent_other_customer', 'the refusal names the inquiry kept as evidence');
      assert.equal(err.message.includes('青葉'), false, 'the refusal never says whose name it would have been');
      assert.equal(await findings(), 1, 'the third refused consent in a day raises one finding');
      await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ consent: consent({ customerName: '佐藤 一郎' }) }));
      assert.equal(await findings(), 1, 'and only one while it is open');
      const stored = await w.db.query<{ status: string; refusal_code: string; consent_customer_name: string }>(
        `SELECT status, refusal_code, consent_customer_name FROM inquiries WHERE consent_state = 'refused' ORDER BY id`,
      );
      assert.deepEqual(
        stored.rows.map((r) => r.refusal_code),
        ['consent_expired', 'consent_not_yet_given', 'consent_other_customer', 'consent_other_customer'],
      );
      assert.ok(stored.rows.every((r) => r.status === 'refused'));
      const refusedReads = await w.db.query<{ refusal: string }>(`SELECT refusal FROM access_log WHERE refusal LIKE 'consent%' ORDER BY seq`);
      assert.equal(refusedReads.rows.length, 4, 'each refused consent is a refused read in the log');
      async function findings() {
        return Number(
          (await w.db.query<{ n: string }>(`SELECT count(*) AS n FROM findings WHERE rule = 'inquiry_consent_refused' AND subject_person_id = 'p-other'`))
            .rows[0]?.n,
        );
      }
    });

    test('asking for nothing the case can give is a 400 before any read; unknown items and IDs are named', async () => {
      const before = Number((await w.db.query<{ n: string }>('SELECT count(*) AS n FROM access_log')).rows[0]?.n);
      const notes = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ items: ['network_notes'] }));
      assert.equal(notes.statusCode, 400);
      assert.equal(notes.json<{ error: { code: string; details: { rule: string } } }>().error.details.rule, 'nothing_allowed');
      const typo = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ items: ['capacity'] }));
      assert.match(typo.json<{ error: { message: string } }>().error.message, /no such item: capacity/);
      const badId = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ supplyPointId: '12345' }));
      assert.equal(badId.json<{ error: { details: { rule: string } } }>().error.details.rule, 'invalid_supply_point_id');
      assert.equal(Number((await w.db.query<{ n: string }>('SELECT count(*) AS n FROM access_log')).rows[0]?.n), before);
      const network = await call(USERS.callCentre, 'POST', '/api/inquiries', inquiry());
      assert.equal(network.statusCode, 403);
      assert.equal(network.json<{ error: { details: { rule: string } } }>().error.details.rule, 'not_a_retailer');
    });

    test('the queue: a queued item waits with its service level; the service centre asks back, the clock stops, then answers within the allowance only', async () => {
      clock = NOW;
      const asked = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry({ items: ['contracted_capacity', 'equipment'] }));
      assert.equal(asked.statusCode, 201, asked.body);
      const q = asked.json<Asked>().inquiry;
      assert.equal(q.status, 'open');
      assert.deepEqual((await call(USERS.otherRetailer, 'GET', `/api/inquiries/${q.id}`)).json(), q, 'queued: as stored');
      assert.deepEqual([q.atOnce, q.queued], [['contracted_capacity'], ['equipment']]);
      assert.equal(q.dueAt, new Date(NOW.getTime() + SERVICE_LEVEL_HOURS.switching * 3_600_000).toISOString());
      assert.equal(outcomes(asked.json<Asked>().answer ?? assert.fail())['equipment'], 'masked:outside_inquiry_allowance', 'queued: not shown yet');

      const queue = await call(USERS.serviceCentre, 'GET', '/api/inquiries?scope=queue');
      assert.ok(queue.json<{ inquiries: { id: string }[] }>().inquiries.some((i) => i.id === q.id));
      const notYours = await call(USERS.retail, 'GET', `/api/inquiries/${q.id}`);
      assert.equal(notYours.statusCode, 403, "a rival retailer does not see another's inquiry");

      clock = new Date(NOW.getTime() + 10 * MIN);
      const back = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${q.id}/ask-back`, { question: '設備の設置場所を教えてください' });
      assert.equal(back.json<InquiryBody>().status, 'asked_back');
      clock = new Date(NOW.getTime() + 20 * MIN);
      const replied = await call(USERS.otherRetailer, 'POST', `/api/inquiries/${q.id}/reply`, { text: '屋外キュービクルです' });
      assert.equal(replied.json<InquiryBody>().status, 'open');
      assert.equal(
        replied.json<InquiryBody>().dueAt,
        new Date(NOW.getTime() + SERVICE_LEVEL_HOURS.switching * 3_600_000 + 10 * MIN).toISOString(),
        'the wait moved the due time',
      );

      const beyond = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${q.id}/release`, { items: ['equipment', 'phone'] });
      assert.equal(beyond.statusCode, 400);
      assert.equal(beyond.json<{ error: { details: { rule: string } } }>().error.details.rule, 'beyond_allowance');
      const byRequester = await call(USERS.otherRetailer, 'POST', `/api/inquiries/${q.id}/release`, { items: ['equipment'] });
      assert.equal(byRequester.statusCode, 403, 'only the service centre answers');

      clock = new Date(NOW.getTime() + 25 * MIN);
      const released = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${q.id}/release`, { items: ['equipment'], note: '屋外キュービクル' });
      assert.equal(released.statusCode, 200, released.body);
      assert.deepEqual(released.json<InquiryBody>().released, ['equipment']);
      assert.deepEqual(
        released.json<InquiryBody>().history.map((h) => h.kind),
        ['asked', 'answered_at_once', 'asked_back', 'replied', 'answered'],
      );
      const again = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${q.id}/release`, { items: ['equipment'] });
      assert.equal(again.statusCode, 409, 'answered once');

      const answer = await call(USERS.otherRetailer, 'GET', `/api/inquiries/${q.id}/answer`);
      assert.equal(answer.statusCode, 200, answer.body);
      const o = outcomes(answer.json<Asked>().answer ?? assert.fail());
      assert.deepEqual([o['contracted_capacity'], o['equipment'], o['phone']], ['shown', 'shown', 'masked:outside_inquiry_allowance']);
      assert.deepEqual(
        (await events(q.id)).map((e) => e.route),
        ['POST /api/inquiries', 'GET /api/inquiries/:id/answer'],
      );
      const notes = await call(USERS.otherRetailer, 'GET', '/api/notifications?unread=true');
      const texts = notes.json<{ unread: number; notifications: { id: number; kind: string; subjectId: string }[] }>();
      assert.deepEqual(
        texts.notifications.filter((n) => n.subjectId === q.id).map((n) => n.kind),
        ['inquiry.answered', 'inquiry.asked_back'],
      );
      const read = await call(USERS.otherRetailer, 'POST', '/api/notifications/read', { ids: texts.notifications.map((n) => n.id) });
      assert.equal(read.statusCode, 204);
      assert.equal((await call(USERS.otherRetailer, 'GET', '/api/notifications')).json<{ unread: number }>().unread, 0);
      clock = NOW;
      const gov = await w.db.query<{ action: string }>(
        `SELECT action FROM governance_events WHERE subject_type = 'inquiry' AND subject_id = $1 AND outcome = 'done' ORDER BY id`,
        [q.id],
      );
      assert.deepEqual(
        gov.rows.map((r) => r.action),
        ['inquiry.ask_back', 'inquiry.answer'],
      );
    });

    test('refused in words: the requester sees why, and there is no answer to read', async () => {
      const asked = await call(USERS.retail, 'POST', '/api/inquiries', inquiry({ items: ['equipment'] }));
      const id = asked.json<Asked>().inquiry.id;
      const refused = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${id}/refuse`, { reason: '同意書の写しが判読できません' });
      assert.deepEqual(refused.json<InquiryBody>().refusal, { code: 'service_centre', reason: '同意書の写しが判読できません' });
      const answer = await call(USERS.retail, 'GET', `/api/inquiries/${id}/answer`);
      assert.equal(answer.statusCode, 409);
    });

    test('a batch: every line taken and answered in one request, bad lines counted and listed with why; CSV in CP932 with Japanese headers', async () => {
      const lines = [
        inquiry(),
        inquiry({ supplyPointId: '0200000000000000009999' }),
        inquiry({ items: ['network_notes'] }),
        inquiry({ items: ['contracted_capacity', 'equipment'] }),
        inquiry({ consent: consent({ customerName: '別人' }) }),
      ];
      const res = await call(USERS.otherRetailer, 'POST', '/api/inquiries/batch', { inquiries: lines });
      assert.equal(res.statusCode, 200, res.body);
      const b = res.json<{ summary: Record<string, number>; lines: { line: number; ok: boolean; code?: string; answer?: Asked['answer'] }[] }>();
      assert.deepEqual(b.summary, { lines: 5, taken: 2, answeredAtOnce: 1, queued: 1, rejected: 3 });
      assert.deepEqual(
        b.lines.map((l) => [l.line, l.ok, l.code ?? null]),
        [
          [1, true, null],
          [2, false, 'unknown_supply_point'],
          [3, false, 'nothing_allowed'],
          [4, true, null],
          [5, false, 'consent_other_customer'],
        ],
      );
      assert.equal(b.lines[0]?.answer?.fields['contracted_capacity']?.shown, true);

      const csv = [
        '案件種別,供給地点特定番号,照会項目,同意者氏名,同意取得方法,同意取得日時,同意記録番号,同意有効期限',
        `switching,${SP.R3},contracted_capacity meter,株式会社青葉精工,signed_form,2026-10-31 09:00,FORM-1,2026-12-31 00:00`,
        `switching,${SP.R3},contracted_capacity,株式会社青葉精工,fax,2026-10-31 09:00,FORM-2,2026-12-31 00:00`,
        `move_in,${SP.R3},contracted_capacity,,,,,`,
      ].join('\r\n');
      const cp932 = encodeCp932(csv);
      const up = await call(USERS.otherRetailer, 'POST', '/api/inquiries/batch.csv', cp932, { 'content-type': 'text/csv' });
      assert.equal(up.statusCode, 200, up.body);
      const u = up.json<{ summary: Record<string, number>; lines: { line: number; ok: boolean; code?: string; message?: string }[] }>();
      assert.deepEqual(u.summary, { lines: 3, taken: 2, answeredAtOnce: 2, queued: 0, rejected: 1 });
      assert.deepEqual(
        u.lines.map((l) => [l.line, l.ok, l.code ?? null]),
        [
          [2, true, null],
          [3, false, 'unreadable_line'],
          [4, true, null],
        ],
      );
      assert.match(u.lines[1]?.message ?? '', /consent_method "fax"/);
      const empty = await call(USERS.otherRetailer, 'POST', '/api/inquiries/batch.csv', 'foo,bar\r\n1,2', { 'content-type': 'text/csv' });
      assert.equal(empty.statusCode, 400);
      assert.match(empty.json<{ error: { message: string } }>().error.message, /columns missing: case_type \(案件種別\)/);
    });

    test('the CSV import takes ?encoding=cp932 as the exports do, shift_jis as its older name, and refuses any other', async () => {
      const header = encodeCp932('案件種別,供給地点特定番号,照会項目\r\n');
      const upload = (encoding: string) =>
        call(USERS.otherRetailer, 'POST', `/api/inquiries/batch.csv?encoding=${encoding}`, header, { 'content-type': 'text/csv' });
      for (const encoding of ['cp932', 'shift_jis']) {
        const res = await upload(encoding);
        assert.equal(res.statusCode, 200, `${encoding}: ${res.body}`);
        assert.deepEqual(res.json<{ summary: Record<string, number> }>().summary, { lines: 0, taken: 0, answeredAtOnce: 0, queued: 0, rejected: 0 });
      }
      const utf8 = await upload('utf-8');
      assert.equal(utf8.statusCode, 400, 'the CP932 header read as UTF-8 names no column');
      assert.match(utf8.json<{ error: { message: string } }>().error.message, /columns missing: case_type/);
      const other = await upload('latin1');
      assert.equal(other.statusCode, 400);
      assert.equal(other.json<{ error: { code: string } }>().error.code, 'validation_failed');
    });

    test("a customer's call taken by the service centre, with the identity check, waits in the same queue", async () => {
      const taken = await call(USERS.serviceCentre, 'POST', '/api/inquiries/direct', {
        channel: 'customer',
        caseType: 'move_in',
        supplyPointId: SP.R3,
        items: ['contracted_capacity', 'network_notes'],
        caller: '青葉精工 総務部',
        identityCheck: 'bill_details',
      });
      assert.equal(taken.statusCode, 201, taken.body);
      const v = taken.json<InquiryBody & { channel: string; identityCheck: string }>();
      assert.deepEqual(
        [v.channel, v.identityCheck, v.status, v.queued, v.never],
        ['customer', 'bill_details', 'open', ['contracted_capacity'], ['network_notes']],
      );
      const done = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${v.id}/release`, { items: ['contracted_capacity'], note: '電話で回答' });
      assert.equal(done.json<InquiryBody>().status, 'answered', 'the taker may answer a customer’s own call');
    });

    test('equal treatment: per retailer, with the affiliated retailer flagged when its queue is answered faster; CSV and XLSX for the compliance report', async () => {
      await seedUnequalInquiryAnswers(ownerOf(w.db));
      const res = await call(USERS.compliance, 'GET', '/api/inquiries/equal-treatment?from=2026-10-01&to=2026-11-01');
      assert.equal(res.statusCode, 200, res.body);
      const t = res.json<{
        retailers: { retailerCode: string; affiliated: boolean; inquiries: number; queueHours: { median: number } }[];
        flags: { caseType: string; measure: string; affiliated: number; others: number }[];
      }>();
      assert.equal(t.retailers[0]?.retailerCode, 'A0001');
      assert.equal(t.retailers[0]?.affiliated, true);
      assert.equal(t.retailers.find((r) => r.retailerCode === 'R0002')?.queueHours.median, 10);
      assert.deepEqual(
        t.flags.filter((f) => f.caseType === 'switching' && f.measure === 'queue_median_hours').map((f) => [f.affiliated, f.others]),
        [[1, 10]],
      );
      const csv = await call(USERS.compliance, 'GET', '/api/inquiries/equal-treatment?from=2026-10-01&to=2026-11-01&format=csv');
      assert.equal(csv.body.charCodeAt(0), 0xfeff);
      assert.match(csv.body, /回答時間（中央値）が短い/);
      const xlsx = await call(USERS.compliance, 'GET', '/api/inquiries/equal-treatment?format=xlsx');
      assert.equal(xlsx.rawPayload.subarray(0, 2).toString(), 'PK');
      // The compliance report carries the same figures after the regulator's tables.
      const report = await call(USERS.compliance, 'GET', '/api/analysis/report?from=2026-10-01&to=2026-11-01&format=csv');
      assert.equal(report.statusCode, 200, report.body);
      assert.match(report.body, /照会対応の公平性（2026-10-01〜2026-11-01）[\s\S]*A0001,北日本電力株式会社,○,\d+[\s\S]*回答時間（中央値）が短い,1,10,2\d,2\d/);
      const workbook = await call(USERS.compliance, 'GET', '/api/analysis/report?from=2026-10-01&to=2026-11-01&format=xlsx');
      assert.equal(workbook.statusCode, 200);
      assert.ok(workbook.rawPayload.includes(Buffer.from('xl/worksheets/sheet7.xml')), 'five report sheets and two of equal treatment');
      const retail = await call(USERS.retail, 'GET', '/api/inquiries/equal-treatment');
      assert.equal(retail.statusCode, 403);
    });

    test('no answer leaves without its log event: a failing log write answers 503 with nothing of the record', async () => {
      const ids = async () => (await w.db.query<{ id: string }>('SELECT id FROM inquiries ORDER BY id')).rows.map((r) => r.id);
      const before = new Set(await ids());
      await ownerOf(w.db).exec(`CREATE FUNCTION gw_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$;
        CREATE TRIGGER gw_test_fail BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION gw_test_fail();`);
      try {
        const res = await call(USERS.otherRetailer, 'POST', '/api/inquiries', inquiry());
        assert.equal(res.statusCode, 503);
        assert.equal(res.json<{ error: { code: string } }>().error.code, 'log_unavailable');
        // (Not '150': the request id in the error may hold those digits by chance.)
        assert.deepEqual(Object.keys(res.json<Record<string, unknown>>()), ['error'], 'the error alone: no record, no inquiry');
        assert.equal(res.body.includes('kVA'), false);
      } finally {
        await ownerOf(w.db).exec('DROP TRIGGER gw_test_fail ON access_log; DROP FUNCTION gw_test_fail();');
      }
      // The inquiry is written beside the log's commit (it may be kept); what was served is the log's to say, and it says nothing.
      const kept = (await ids()).filter((id) => !before.has(id));
      assert.ok(kept.length <= 1);
      for (const id of kept) assert.deepEqual(await events(id), [], `${id} has no read in the log`);
    });

    test("a retailer's system's API token reaches the inquiry routes it needs, never the service centre's", async () => {
      const { tokenMayCall } = await import('../../src/identity/api-tokens.ts');
      assert.equal(tokenMayCall(['customer.read'], 'POST', '/api/inquiries'), true);
      assert.equal(tokenMayCall(['customer.read'], 'POST', '/api/inquiries/batch.csv'), true);
      assert.equal(tokenMayCall(['customer.read'], 'GET', '/api/inquiries/INQ-000001/answer'), true);
      assert.equal(tokenMayCall(['customer.read'], 'POST', '/api/inquiries/INQ-000001/release'), false);
      assert.equal(tokenMayCall(['customer.read'], 'POST', '/api/inquiries/direct'), false);
      assert.equal(tokenMayCall(['customer.read'], 'GET', '/api/inquiries/equal-treatment'), false);
      assert.equal(tokenMayCall(['scim'], 'POST', '/api/inquiries'), false);
    });
  });
}
