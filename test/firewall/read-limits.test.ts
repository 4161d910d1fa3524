import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadLimits } from '../../src/domain/read-limits.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

// Issue 20: inside a declared emergency a retail agent paged 972 names in 0.8 s and 300 phone numbers in 5 s,
// and a call-centre agent read 400 corporate records in 1.7 s: nothing stopped them. Limits per person and
// purpose, tightest under emergency_support; over one, reads are refused (429, logged) and raised once.

const LIMITS: ReadLimits = {
  normal: { recordsPerMinute: 3, recordsPerDay: 5, searchRowsPerMinute: 2 },
  emergency: { recordsPerMinute: 1, recordsPerDay: 3, searchRowsPerMinute: 1 },
  personRecordsPerDay: 1000,
  consentRefusalsPerDay: 2,
  inquiryAnswersPerDay: 1000,
};

const at = (ms: number) => new Date(NOW.getTime() + ms);

interface Problem {
  error: { code: string; message: string; requestId: string; details?: { rule?: string; limit?: number; retryAfterSeconds?: number } };
}

for (const store of STORES) {
  describe(`rate and volume limits on reading, through HTTP on ${store.name}`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now, readLimits: LIMITS, sessionCacheMs: 0 }, seedEmergencyRoles);
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    const post = (s: Session, url: string, payload: Record<string, unknown> = {}) =>
      w.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    /** Compliance, logged in at the test's instant (the clock moves by hours here; sessions end after 30 idle minutes). */
    const compliance = () => login(w.app, USERS.compliance);

    /** The access log's refused events of one person under one rule (read as compliance, through the API). */
    const refusedEvents = async (person: string, rule: string) => {
      const res = await get(await compliance(), `/api/audit/events?person=${person}&outcome=refused&limit=100`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ items: { refusal: string | null; records: { supplyPointId: string; shown: string[] }[] }[] }>().items.filter((e) => e.refusal === rule);
    };
    const findings = async (rule: string, person: string) => {
      const res = await get(await compliance(), `/api/findings?rule=${rule}&limit=200`);
      assert.equal(res.statusCode, 200, res.body);
      return res
        .json<{
          findings: {
            subjectPersonId: string | null;
            severity: string;
            source: string;
            summary: string;
            occurrences: number;
            evidence: { purpose?: string };
          }[];
        }>()
        .findings.filter((f) => f.subjectPersonId === person);
    };

    before(async () => {
      now = at(-3_600_000);
      const admin = await login(w.app, USERS.admin);
      const put = await w.app.inject({
        method: 'PUT',
        url: '/api/emergency-support/p-retail',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        payload: { fields: ['holder_name', 'phone'] },
      });
      assert.equal(put.statusCode, 200, put.body);
      const cc = await login(w.app, USERS.callCentre);
      const d = await post(cc, '/api/emergencies', {
        areas: [{ kind: 'prefecture', prefecture: '宮城県' }],
        startsAt: at(-3_600_000).toISOString(),
        plannedEndAt: at(48 * 3_600_000).toISOString(),
        reason: '台風',
      });
      assert.equal(d.statusCode, 201, d.body);
      const confirmed = await post(await login(w.app, USERS.serviceCentre), `/api/emergencies/${d.json<{ id: string }>().id}/confirm`);
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      now = NOW;
    });

    test('look-ups under the limit are served; the next is refused 429 with Retry-After, logged as refused, and raised once', async () => {
      const retail = await login(w.app, USERS.retail);
      const url = `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`;
      for (let i = 0; i < 3; i++) assert.equal((await get(retail, url)).statusCode, 200, `read ${i + 1} of 3 is within the limit`);
      for (let i = 0; i < 3; i++) {
        const res = await get(retail, url);
        assert.equal(res.statusCode, 429, res.body);
        assert.equal(res.headers['retry-after'], '60', 'the oldest read leaves the minute in 60 s');
        const body = res.json<Problem>();
        assert.equal(body.error.code, 'rate_limited');
        assert.ok(body.error.requestId.length > 0, 'the one error shape');
        assert.deepEqual([body.error.details?.rule, body.error.details?.limit, body.error.details?.retryAfterSeconds], ['read_rate_limit', 3, 60]);
        assert.match(body.error.message, /records read per minute/);
      }
      const refused = await refusedEvents('p-retail', 'read_rate_limit');
      assert.equal(refused.length, 3, 'every refused read is in the access log');
      for (const e of refused) {
        assert.deepEqual(
          e.records.map((r) => [r.supplyPointId, r.shown]),
          [[SP.OWN_A, []]],
          'the point asked for, nothing shown',
        );
      }
      const raised = await findings('read_rate_limit', 'p-retail');
      assert.equal(raised.length, 1, 'one finding for the window, not one per refused read');
      assert.equal(raised[0]?.occurrences, 1, 'raised once: three refused reads in one window are not three raisings');
      assert.deepEqual([raised[0]?.severity, raised[0]?.source], ['medium', 'live']);
      assert.match(raised[0]?.summary ?? '', /1分あたりの照会件数の上限（3件）/);
    });

    test('the minute slides: one millisecond before it ends still refused, at its end served again; then the 24-hour limit holds', async () => {
      now = at(59_999);
      const retail = await login(w.app, USERS.retail);
      const url = `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`;
      const early = await get(retail, url);
      assert.equal(early.statusCode, 429);
      assert.equal(early.headers['retry-after'], '1');
      now = at(60_000);
      assert.equal((await get(retail, url)).statusCode, 200, 'the three reads at NOW have left the window');
      assert.equal((await get(retail, url)).statusCode, 200, 'five in 24 h');
      const daily = await get(retail, url);
      assert.equal(daily.statusCode, 429);
      assert.equal(daily.json<Problem>().error.details?.rule, 'daily_read_limit');
      assert.equal(daily.headers['retry-after'], String(86_400 - 60), 'room again when the first reads are 24 h old');
      assert.equal((await findings('daily_read_limit', 'p-retail')).length, 1);
      assert.equal((await refusedEvents('p-retail', 'daily_read_limit')).length, 1);
      now = at(86_400_000);
      assert.equal((await get(await login(w.app, USERS.retail), url)).statusCode, 200, 'a day later the reads at NOW are out of the window');
      now = NOW;
    });

    test('searches count their rows: admitted while under the limit, then refused search_rate_limit', async () => {
      const cc = await login(w.app, USERS.callCentre);
      const page = (offset: number) => `/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('仙台市')}&limit=1&offset=${offset}`;
      for (const offset of [0, 1]) {
        const res = await get(cc, page(offset));
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json<{ items: unknown[] }>().items.length, 1);
      }
      const over = await get(cc, page(2));
      assert.equal(over.statusCode, 429);
      assert.equal(over.json<Problem>().error.details?.rule, 'search_rate_limit');
      assert.equal((await refusedEvents('p-cc', 'search_rate_limit')).length, 1);
      assert.equal((await findings('search_rate_limit', 'p-cc')).length, 1);
      // Another purpose is counted apart; the look-ups of this person are not touched by the search rows.
      assert.equal((await get(cc, `/api/supply-points/${SP.R3}?purpose=customer_inquiry`)).statusCode, 200);
    });

    test('under emergency_support the limits are tighter than under own_customer_service, and the finding is high', async () => {
      now = at(26 * 3_600_000);
      const agent = await login(w.app, USERS.retail);
      const emergency = (sp: string) => `/api/supply-points/${sp}?purpose=emergency_support&reason=${encodeURIComponent('停電の連絡')}`;
      assert.equal((await get(agent, emergency(SP.OWN_A))).statusCode, 200, 'one record a minute under an emergency');
      const over = await get(agent, emergency(SP.SWITCHED));
      assert.equal(over.statusCode, 429, over.body);
      assert.deepEqual([over.json<Problem>().error.details?.rule, over.json<Problem>().error.details?.limit], ['read_rate_limit', 1]);
      // One open finding per rule and person (analysis/findings.ts folds them): the emergency refusal made it high.
      const high = (await findings('read_rate_limit', 'p-retail')).filter((f) => f.severity === 'high');
      assert.equal(high.length, 1, 'the emergency refusal raised one high finding');
      assert.equal(high[0]?.evidence.purpose, 'emergency_support');
      for (let i = 0; i < 3; i++)
        assert.equal((await get(agent, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`)).statusCode, 200, 'own service: three a minute');
      assert.equal((await get(agent, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`)).statusCode, 429);
      const contractor = await login(w.app, USERS.retailContractor);
      assert.equal(
        (await get(contractor, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`)).statusCode,
        200,
        'another person has their own count',
      );
      now = NOW;
    });

    test('refused consent checks are capped per person: past the cap the check is not made (429), logged, raised once', async () => {
      now = at(5 * 86_400_000);
      const other = await login(w.app, USERS.otherRetailer);
      const consent = (customerName: string) => ({
        customerName,
        method: 'recorded_call',
        givenAt: at(4 * 86_400_000).toISOString(),
        reference: 'CALL-2026-1106-0001',
        validUntil: at(30 * 86_400_000).toISOString(),
      });
      const ask = (name: string) =>
        post(other, '/api/inquiries', { caseType: 'switching', supplyPointId: SP.R3, items: ['contracted_capacity'], consent: consent(name) });
      for (const name of ['山田 太郎', '佐藤 一郎']) {
        const res = await ask(name);
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(res.json<Problem>().error.details?.rule, 'consent_other_customer');
      }
      for (const name of ['鈴木 一', '株式会社 青葉精工']) {
        const res = await ask(name);
        assert.equal(res.statusCode, 429, res.body);
        assert.equal(res.json<Problem>().error.code, 'rate_limited');
        assert.deepEqual([res.json<Problem>().error.details?.rule, res.json<Problem>().error.details?.limit], ['consent_refusal_limit', 2]);
        assert.equal(res.headers['retry-after'], '86400');
      }
      const batch = await post(other, '/api/inquiries/batch', {
        inquiries: [{ caseType: 'switching', supplyPointId: SP.R3, items: ['contracted_capacity'], consent: consent('株式会社 青葉精工') }],
      });
      assert.equal(batch.statusCode, 200, batch.body);
      assert.deepEqual(
        batch.json<{ lines: { ok: boolean; code?: string }[] }>().lines.map((l) => [l.ok, l.code]),
        [[false, 'consent_refusal_limit']],
      );
      assert.equal((await refusedEvents('p-other', 'consent_refusal_limit')).length, 3, 'each check not made is a refused event');
      const raised = await findings('consent_refusal_limit', 'p-other');
      assert.deepEqual(
        raised.map((f) => [f.occurrences, f.severity]),
        [[1, 'medium']],
      );
      now = at(6 * 86_400_000);
      const later = await post(await login(w.app, USERS.otherRetailer), '/api/inquiries', {
        caseType: 'switching',
        supplyPointId: SP.R3,
        items: ['contracted_capacity'],
        consent: { ...consent('株式会社 青葉精工'), givenAt: at(5 * 86_400_000).toISOString() },
      });
      assert.equal(later.statusCode, 201, `24 h after the refusals the check is made again: ${later.body}`);
      now = NOW;
    });
  });
}
