import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { ReadLimits } from '../../src/domain/read-limits.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

// Issue 20, the read limits' open holes: a search holds its page from admission (n concurrent searches cannot
// overshoot by n pages); a total per person across purposes (k purposes are not k × the limit); answered
// inquiries have a volume limit of their own. And an emergency-support search that finds only points outside
// the declared area is raised at once, as the scan's emergency_outside_window would after the fact.

const LIMITS: ReadLimits = {
  normal: { recordsPerMinute: 60, recordsPerDay: 100, searchRowsPerMinute: 3 },
  emergency: { recordsPerMinute: 20, recordsPerDay: 50, searchRowsPerMinute: 3 },
  personRecordsPerDay: 6,
  consentRefusalsPerDay: 20,
  inquiryAnswersPerDay: 2,
};

const at = (ms: number) => new Date(NOW.getTime() + ms);
const DAY = 86_400_000;

interface Problem {
  error: { code: string; requestId: string; details?: { rule?: string; limit?: number } };
}

for (const store of STORES) {
  describe(`read limits across purposes, searches and inquiry answers, through HTTP on ${store.name}`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now, readLimits: LIMITS, sessionCacheMs: 0 }, seedEmergencyRoles);
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    const post = (s: Session, url: string, payload: Record<string, unknown> = {}) =>
      w.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    const refusedEvents = async (person: string, rule: string) => {
      const res = await get(await login(w.app, USERS.compliance), `/api/audit/events?person=${person}&outcome=refused&limit=100`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ items: { refusal: string | null }[] }>().items.filter((e) => e.refusal === rule);
    };
    const findings = async (rule: string, person: string) => {
      const res = await get(await login(w.app, USERS.compliance), `/api/findings?rule=${rule}&limit=200`);
      assert.equal(res.statusCode, 200, res.body);
      return res
        .json<{ findings: { subjectPersonId: string | null; severity: string; occurrences: number; evidence: Record<string, unknown> }[] }>()
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
      const d = await post(await login(w.app, USERS.callCentre), '/api/emergencies', {
        areas: [{ kind: 'prefecture', prefecture: '宮城県' }],
        startsAt: at(-3_600_000).toISOString(),
        plannedEndAt: at(48 * 3_600_000).toISOString(),
        reason: '台風',
      });
      assert.equal(d.statusCode, 201, d.body);
      assert.equal((await post(await login(w.app, USERS.serviceCentre), `/api/emergencies/${d.json<{ id: string }>().id}/confirm`)).statusCode, 200);
      now = NOW;
    });

    test('a person entitled to several purposes reads the per-person total, not a day limit under each: the next read is refused, logged, raised once', async () => {
      const cc = await login(w.app, USERS.callCentre);
      for (const purpose of ['customer_inquiry', 'outage_response'])
        for (let i = 0; i < 3; i++) assert.equal((await get(cc, `/api/supply-points/${SP.OWN_A}?purpose=${purpose}`)).statusCode, 200, `${purpose} ${i + 1}`);
      for (const purpose of ['customer_inquiry', 'switching_support']) {
        const res = await get(cc, `/api/supply-points/${SP.OWN_A}?purpose=${purpose}`);
        assert.equal(res.statusCode, 429, res.body);
        assert.deepEqual([res.json<Problem>().error.details?.rule, res.json<Problem>().error.details?.limit], ['person_daily_read_limit', 6]);
        assert.match(res.body, /all purposes together/);
      }
      assert.equal((await refusedEvents('p-cc', 'person_daily_read_limit')).length, 2);
      assert.deepEqual(
        (await findings('person_daily_read_limit', 'p-cc')).map((f) => [f.occurrences, f.severity]),
        [[1, 'medium']],
      );
    });

    test('searches hold their page from admission: of three sent at once with a page of 2 under 3 rows a minute, the rows served stay within 3', async () => {
      now = at(DAY);
      const nsc = await login(w.app, USERS.serviceCentre);
      const search = (term: string, limit: number) =>
        get(nsc, `/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent(term)}&limit=${limit}`);
      const all = await Promise.all([search('一番町', 2), search('一番町', 2), search('一番町', 2)]);
      const served = all.filter((r) => r.statusCode === 200);
      const rows = served.reduce((n, r) => n + r.json<{ items: unknown[] }>().items.length, 0);
      assert.ok(rows <= 3, `${rows} rows served in the minute`);
      assert.equal(served.length, 1, 'the first holds 2 of the 3 rows; a second page of 2 does not fit');
      assert.deepEqual(
        all.filter((r) => r.statusCode !== 200).map((r) => [r.statusCode, r.json<Problem>().error.details?.rule]),
        [
          [429, 'search_rate_limit'],
          [429, 'search_rate_limit'],
        ],
      );
      // A page only partly filled gives back the rest: 1 row of a page of 2 leaves room for a page of 2.
      now = at(DAY + 60_000);
      const one = await search('盛岡', 2);
      assert.equal(one.json<{ items: unknown[] }>().items.length, 1, one.body);
      assert.equal((await search('一番町', 2)).statusCode, 200, '1 + 2 rows fit under 3 once the unused row is given back');
      assert.equal((await search('一番町', 1)).statusCode, 429, 'and the minute is full');
      now = NOW;
    });

    test('inquiries answered with consent have a limit of their own: past it, answers are refused (429, in a batch listed), logged and raised once', async () => {
      now = at(2 * DAY);
      const other = await login(w.app, USERS.otherRetailer);
      const inquiry = (k: number) => ({
        caseType: 'switching',
        supplyPointId: SP.R3,
        items: ['contracted_capacity'],
        consent: {
          customerName: '株式会社 青葉精工',
          method: 'recorded_call',
          givenAt: at(DAY).toISOString(),
          reference: `CALL-2026-1107-000${k}`,
          validUntil: at(30 * DAY).toISOString(),
        },
      });
      for (const k of [1, 2]) assert.equal((await post(other, '/api/inquiries', inquiry(k))).statusCode, 201, `answer ${k} of 2`);
      const over = await post(other, '/api/inquiries', inquiry(3));
      assert.equal(over.statusCode, 429, over.body);
      assert.deepEqual([over.json<Problem>().error.details?.rule, over.json<Problem>().error.details?.limit], ['inquiry_answer_limit', 2]);
      const batch = await post(other, '/api/inquiries/batch', { inquiries: [inquiry(4)] });
      assert.equal(batch.statusCode, 200, batch.body);
      assert.deepEqual(
        batch.json<{ lines: { ok: boolean; code?: string }[] }>().lines.map((l) => [l.ok, l.code]),
        [[false, 'inquiry_answer_limit']],
      );
      assert.equal((await refusedEvents('p-other', 'inquiry_answer_limit')).length, 2);
      assert.deepEqual(
        (await findings('inquiry_answer_limit', 'p-other')).map((f) => f.occurrences),
        [1],
      );
      // An inquiry without consent shows nothing non-public and is not counted.
      const noConsent = await post(other, '/api/inquiries', { caseType: 'switching', supplyPointId: SP.R3, items: ['contracted_capacity'] });
      assert.notEqual(noConsent.statusCode, 429, noConsent.body);
      now = NOW;
    });

    test('an emergency-support search that finds only points outside the declared area raises emergency_outside_window at once; one inside does not', async () => {
      now = at(3_600_000);
      const agent = await login(w.app, USERS.retail);
      const search = (term: string) =>
        get(agent, `/api/supply-points?purpose=emergency_support&reason=${encodeURIComponent('停電の連絡')}&address=${encodeURIComponent(term)}&limit=1`);
      const inside = await search('一番町');
      assert.equal(inside.statusCode, 200, inside.body);
      assert.deepEqual(await findings('emergency_outside_window', 'p-retail'), [], 'a point inside the area');
      now = at(3_600_000 + 60_000);
      const outside = await search('盛岡');
      assert.equal(outside.statusCode, 200, outside.body);
      const holder = outside.json<{ items: { fields: Record<string, { shown: boolean }> }[] }>().items[0]?.fields['holder_name'];
      assert.equal(holder?.shown, false, 'no emergency allowance outside the area');
      const raised = await findings('emergency_outside_window', 'p-retail');
      assert.deepEqual(
        raised.map((f) => [f.severity, f.occurrences, f.evidence['refusal'], f.evidence['outsideArea']]),
        [['high', 1, 'outside_emergency_area', 1]],
      );
      now = NOW;
    });
  });
}
