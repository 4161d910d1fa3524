import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS, type SupplyPointField } from '../../src/domain/classification.ts';
import { CASE_TYPES, properFlowsFor, type ProperFlowAction } from '../../src/domain/inquiry.ts';
import type { Vocabulary } from '../../src/contract/vocabulary.ts';
import { login, outcomes, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * The six misuse patterns the regulator listed (../shared/docs/domain.md, 003), end to end over HTTP (issue 18):
 * for each, the look-up the affiliated retailer's people made is masked and logged, the masked field's guidance
 * (GET /api/vocabulary, properFlows, chosen by the declared purpose and the shown reason) names the proper flow
 * for that pattern in words, and that flow works where it is an action in gridwall.
 *
 * Fixture points from the affiliated retailer A0001's side: SP.R3 is R0003's customer and never was A0001's
 * (not_own_customer); SP.SWITCHED was A0001's until 2020 and is R0002's now (former_customer); SP.LAST was
 * A0001's until 2022 and is under last-resort supply now (former_customer); SP.VACANT never was A0001's.
 */
const DAY = 86_400_000;
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const NON_PUBLIC = SUPPLY_POINT_FIELD_KEYS.filter((f) => SUPPLY_POINT_FIELDS[f].class === 'non_public');

/** Every field of a record as a retail person sees a point that is not theirs: public shown, the rest masked. */
function notTheirs(shownReason: string): Record<string, string> {
  return Object.fromEntries(
    SUPPLY_POINT_FIELD_KEYS.map((f) => [
      f,
      SUPPLY_POINT_FIELDS[f].class === 'public' ? 'shown' : SUPPLY_POINT_FIELDS[f].class === 'network_only' ? 'masked:network_only' : `masked:${shownReason}`,
    ]),
  );
}

interface RecordBody {
  supplyPointId: string;
  fields: Record<string, { shown: boolean; value?: unknown; reason?: string }>;
}
interface InquiryBody {
  id: string;
  channel: string;
  caseType: string;
  retailerCode: string | null;
  requestedBy: string | null;
  caller: string | null;
  identityCheck: string | null;
  status: string;
  atOnce: string[];
  queued: string[];
  never: string[];
  released: string[];
  history: { kind: string }[];
}
interface Asked {
  inquiry: InquiryBody;
  answer: RecordBody | null;
}
interface LoggedRecord {
  supplyPointId: string;
  relation: string;
  retailerCode: string | null;
  lastResort: boolean;
  shown: string[];
  masked: Record<string, string>;
}
/** A row of access_log, as the query below selects it. */
type LogRow = { route: string; purpose: string; outcome: string; person_id: string; records: LoggedRecord[] };
type Flow = Vocabulary['properFlows'][number];

for (const store of STORES) {
  describe(`the six misuse patterns end to end on ${store.name}`, () => {
    const w = seededApp(store);
    const s: Record<string, Session> = {};
    let vocabulary: Vocabulary;
    before(async () => {
      for (const u of [USERS.retail, USERS.retailContractor, USERS.serviceCentre]) s[u] = await login(w.app, u);
      const res = await w.app.inject({ method: 'GET', url: '/api/vocabulary' });
      assert.equal(res.statusCode, 200, res.body);
      vocabulary = res.json<Vocabulary>();
    });

    const call = (userId: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const sess = s[userId] ?? assert.fail(`no session for ${userId}`);
      return w.app.inject({
        method,
        url,
        headers: { cookie: sess.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': sess.csrf }) },
        ...(payload === undefined ? {} : { payload: payload as string }),
      });
    };

    /** The one access-log event of a request. */
    async function loggedEvent(requestId: string): Promise<LogRow> {
      const { rows } = await w.db.query<LogRow>('SELECT route, purpose, outcome, person_id, records FROM access_log WHERE request_id = $1', [requestId]);
      assert.equal(rows.length, 1, `one access-log event for request ${requestId}`);
      return rows[0] ?? assert.fail();
    }

    /**
     * The direct look-up: every non-public field masked with the reason the person is shown, nothing of them
     * anywhere in the body, and the attempt in the access log with the point, its relation and the exact reasons.
     */
    async function directLookUp(
      userId: string,
      personId: string,
      supplyPointId: string,
      purpose: string,
      shown: { reason: string; logged: string; relation: string },
      secrets: readonly string[],
    ): Promise<LoggedRecord> {
      const res = await call(userId, 'GET', `/api/supply-points/${supplyPointId}?purpose=${purpose}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(outcomes(res.json<RecordBody>()), notTheirs(shown.reason));
      for (const secret of secrets) assert.equal(res.body.includes(secret), false, `${secret} is nowhere in the body`);
      const event = await loggedEvent(String(res.headers['x-request-id']));
      assert.deepEqual([event.route, event.purpose, event.outcome, event.person_id], ['GET /api/supply-points/:id', purpose, 'served', personId]);
      assert.equal(event.records.length, 1);
      const rec = event.records[0] ?? assert.fail('no record logged');
      assert.equal(rec.supplyPointId, supplyPointId, 'the log names the supply point looked up');
      assert.equal(rec.relation, shown.relation);
      assert.deepEqual([...rec.shown].sort(), ['address', 'supply_point_id']);
      assert.deepEqual(
        NON_PUBLIC.map((f) => [f, rec.masked[f]]),
        NON_PUBLIC.map((f) => [f, shown.logged]),
        'the log keeps the exact reason for each non-public field',
      );
      return rec;
    }

    /** The proper flows the console offers for a field masked for `reason` under `purpose`, from the served vocabulary. */
    function flowsFor(purpose: string, reason: string): Flow[] {
      const served = vocabulary.properFlows.filter((f) => f.reasons.includes(reason) && (f.purposes.length === 0 || f.purposes.includes(purpose)));
      assert.deepEqual(
        served.map((f) => [f.pattern, f.action]),
        properFlowsFor(purpose, reason).map((f) => [f.pattern, f.action]),
        'the vocabulary serves the domain’s proper flows',
      );
      return served;
    }

    /** The flow for `pattern` is offered there, with its action and words that say so. */
    function offered(purpose: string, reason: string, pattern: number, action: ProperFlowAction, phrase: string): Flow {
      const flows = flowsFor(purpose, reason);
      const flow = flows.find((f) => f.pattern === pattern && f.action === action);
      assert.ok(
        flow !== undefined,
        `pattern ${pattern} (${action}) is offered under ${purpose} for ${reason}; offered: ${JSON.stringify(flows.map((f) => [f.pattern, f.action]))}`,
      );
      assert.ok(flow.ja.includes(phrase), `pattern ${pattern}'s words say 「${phrase}」: ${flow.ja}`);
      assert.ok(flow.en.length > 0);
      return flow;
    }

    function notOffered(purpose: string, reason: string, action: ProperFlowAction): void {
      const flows = flowsFor(purpose, reason);
      assert.ok(flows.length > 0, `some guidance is offered under ${purpose} for ${reason}`);
      assert.deepEqual(
        flows.filter((f) => f.action === action).map((f) => f.pattern),
        [],
        `${action} is not offered under ${purpose} for ${reason}`,
      );
    }

    async function inquiryCount(): Promise<number> {
      return Number((await w.db.query<{ n: string }>('SELECT count(*) AS n FROM inquiries')).rows[0]?.n);
    }

    /**
     * Misuse patterns 1 and 3: the caller is sent to the network operator, whose service centre takes the call
     * itself — with an identity check and no retailer in between — queues it and answers it. A retailer's
     * people can neither take such a call nor read it.
     */
    async function takenDirectlyAndAnswered(input: {
      channel: 'customer' | 'contractor';
      caseType: string;
      supplyPointId: string;
      items: string[];
      caller: string;
      identityCheck: string;
    }): Promise<void> {
      const before = await inquiryCount();
      for (const u of [USERS.retail, USERS.retailContractor]) {
        const refused = await call(u, 'POST', '/api/inquiries/direct', input);
        assert.equal(refused.statusCode, 403, `${u} cannot take a direct inquiry: ${refused.body}`);
        const err = refused.json<{ error: { code: string; details: { rule: string } } }>().error;
        assert.deepEqual([err.code, err.details.rule], ['inquiry_refused', 'not_an_answerer']);
      }
      assert.equal(await inquiryCount(), before, 'a refused direct inquiry stores nothing');

      const taken = await call(USERS.serviceCentre, 'POST', '/api/inquiries/direct', input);
      assert.equal(taken.statusCode, 201, taken.body);
      const v = taken.json<InquiryBody>();
      assert.deepEqual(
        [v.channel, v.caseType, v.identityCheck, v.caller, v.retailerCode, v.requestedBy, v.status, v.queued, v.never],
        [input.channel, input.caseType, input.identityCheck, input.caller, null, USERS.serviceCentre, 'open', input.items, []],
      );

      const queue = await call(USERS.serviceCentre, 'GET', '/api/inquiries?scope=queue');
      assert.equal(queue.statusCode, 200, queue.body);
      const queued = queue.json<{ inquiries: InquiryBody[] }>().inquiries.find((i) => i.id === v.id);
      assert.deepEqual([queued?.channel, queued?.status], [input.channel, 'open'], 'the call waits in the service centre’s queue');
      const byRetailer = await call(USERS.retail, 'GET', `/api/inquiries/${v.id}`);
      assert.equal(byRetailer.statusCode, 403, 'no retailer in between: the affiliated retailer does not see the call');

      const released = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${v.id}/release`, { items: input.items, note: '電話で回答' });
      assert.equal(released.statusCode, 200, released.body);
      const done = released.json<InquiryBody>();
      assert.deepEqual([done.status, done.released, done.history.map((h) => h.kind)], ['answered', input.items, ['asked', 'answered']]);
      const after = await call(USERS.serviceCentre, 'GET', '/api/inquiries?scope=queue');
      assert.equal(
        after.json<{ inquiries: InquiryBody[] }>().inquiries.some((i) => i.id === v.id),
        false,
        'answered: out of the queue',
      );
    }

    test('pattern 1: a contractor’s call about a new entrant’s customer — the look-up is masked and logged, the caller is sent to the network operator, whose service centre takes and answers it', async () => {
      // The affiliated retailer's contractor checks the own customer system first: own customer service.
      const purpose = 'own_customer_service';
      await directLookUp(
        USERS.retailContractor,
        'p-rctr',
        SP.R3,
        purpose,
        { reason: 'not_own_customer', logged: 'other_retailer_customer', relation: 'other' },
        ['青葉精工', 'R0003', '022-777-8888'],
      );
      // A new entrant's customer is as often one that left the affiliated retailer: the same guidance applies.
      await directLookUp(USERS.retailContractor, 'p-rctr', SP.SWITCHED, purpose, { reason: 'former_customer', logged: 'former_customer', relation: 'former' }, [
        '佐藤',
        'R0002',
        '080-3333-4444',
      ]);
      for (const reason of ['not_own_customer', 'former_customer']) {
        const flow = offered(purpose, reason, 1, 'send_to_network', '一般送配電事業者の窓口');
        assert.equal(flow.caseType, null);
        // The retailer does not ask for the contractor: no inquiry by the retailer is suggested.
        notOffered(purpose, reason, 'inquiry');
      }
      notOffered(purpose, 'not_own_customer', 'no_lookup');

      await takenDirectlyAndAnswered({
        channel: 'contractor',
        caseType: 'construction',
        supplyPointId: SP.R3,
        items: ['contracted_capacity', 'equipment'],
        caller: 'みやぎ電設株式会社 佐々木',
        identityCheck: 'callback',
      });
    });

    test('pattern 2: unpaid bills of a former customer — no look-up shows whether or by whom the premises are supplied now, and the guidance is no look-up', async () => {
      const purpose = 'own_customer_service';
      const switched = await directLookUp(
        USERS.retail,
        'p-retail',
        SP.SWITCHED,
        purpose,
        { reason: 'former_customer', logged: 'former_customer', relation: 'former' },
        ['佐藤', 'R0002', 'みらいでんき', '080-3333-4444'],
      );
      assert.equal(switched.retailerCode, 'R0002', 'the log keeps who supplies it, for review; the screen does not');
      const last = await directLookUp(
        USERS.retail,
        'p-retail',
        SP.LAST,
        purpose,
        { reason: 'former_customer', logged: 'former_customer', relation: 'former' },
        ['田中', 'NW000', '最終保障', '070-9999-0000'],
      );
      assert.deepEqual([last.retailerCode, last.lastResort], [null, true]);
      // Nor does a search by the debtor's phone or name find the premises.
      for (const q of ['phone=080-3333-4444', `name=${encodeURIComponent('佐藤 花子')}`]) {
        const res = await call(USERS.retail, 'GET', `/api/supply-points?purpose=${purpose}&${q}`);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json<{ items: unknown[] }>().items, [], q);
      }

      offered(purpose, 'former_customer', 2, 'no_lookup', '現在の小売電気事業者を調べることはできません');
      notOffered(purpose, 'former_customer', 'inquiry');
      assert.deepEqual(
        flowsFor(purpose, 'former_customer').filter((f) => f.caseType !== null),
        [],
        'no flow suggests an inquiry case for a former customer’s unpaid bill',
      );
    });

    test('pattern 3: a move-in blocked by the previous occupant’s open contract — the look-up is masked and logged, the customer is sent to the network operator, whose service centre takes and answers the call', async () => {
      // The move-in is handled under switching support (スイッチング・再点対応).
      const purpose = 'switching_support';
      await directLookUp(USERS.retail, 'p-retail', SP.SWITCHED, purpose, { reason: 'former_customer', logged: 'former_customer', relation: 'former' }, [
        '佐藤',
        'R0002',
        '080-3333-4444',
      ]);
      await directLookUp(USERS.retail, 'p-retail', SP.R3, purpose, { reason: 'not_own_customer', logged: 'other_retailer_customer', relation: 'other' }, [
        '青葉精工',
        'R0003',
      ]);
      for (const reason of ['not_own_customer', 'former_customer']) {
        const flow = offered(purpose, reason, 3, 'send_to_network', 'お客さまから一般送配電事業者へご連絡いただく');
        assert.equal(flow.caseType, 'move_in');
        notOffered(purpose, reason, 'no_lookup');
      }

      await takenDirectlyAndAnswered({
        channel: 'customer',
        caseType: 'move_in',
        supplyPointId: SP.SWITCHED,
        items: ['contracted_capacity', 'meter'],
        caller: '入居予定者 木村 健',
        identityCheck: 'id_document',
      });
    });

    test('pattern 3: with the new occupant’s consent, a move-in inquiry by the retailer goes to the service centre, which checks it and answers', async () => {
      const res = await call(USERS.retail, 'POST', '/api/inquiries', {
        caseType: 'move_in',
        supplyPointId: SP.SWITCHED,
        items: ['contracted_capacity'],
        consent: { customerName: '木村 健', method: 'signed_form', givenAt: at(-DAY), reference: 'FORM-MOVE-IN-1', validUntil: at(30 * DAY) },
      });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json<Asked>();
      // The consent names the incoming occupant, not the holder: nothing at once, the service centre checks the move-in.
      assert.deepEqual([body.inquiry.status, body.inquiry.atOnce, body.inquiry.queued], ['open', [], ['contracted_capacity']]);
      assert.equal(
        outcomes(body.answer ?? assert.fail('no answer'))['contracted_capacity'],
        'masked:outside_inquiry_allowance',
        'not before the service centre answers',
      );
      const released = await call(USERS.serviceCentre, 'POST', `/api/inquiries/${body.inquiry.id}/release`, { items: ['contracted_capacity'] });
      assert.equal(released.statusCode, 200, released.body);
      const answer = await call(USERS.retail, 'GET', `/api/inquiries/${body.inquiry.id}/answer`);
      assert.deepEqual(answer.json<Asked>().answer?.fields['contracted_capacity'], { shown: true, value: { value: 30, unit: 'A' } });
      const o = outcomes(answer.json<Asked>().answer ?? assert.fail('no answer'));
      assert.equal(o['holder_name'], 'masked:outside_inquiry_allowance', 'nothing of the previous occupant’s contract beyond the case');
    });

    test('pattern 4: checking a switching applicant’s details — the look-up is masked and logged; ask the customer (their bill), or ask the network operator with consent: answered at once, never without', async () => {
      const purpose = 'switching_support';
      await directLookUp(USERS.retail, 'p-retail', SP.R3, purpose, { reason: 'not_own_customer', logged: 'other_retailer_customer', relation: 'other' }, [
        '青葉精工',
        'R0003',
        '022-777-8888',
      ]);
      const ask = offered(purpose, 'not_own_customer', 4, 'ask_customer', '検針票');
      assert.ok(ask.ja.includes('供給地点特定番号と契約名義'), 'the bill shows the supply point ID and the holder’s name');
      const inquiry = offered(purpose, 'not_own_customer', 4, 'inquiry', '同意');
      assert.equal(inquiry.caseType, 'switching');
      notOffered(purpose, 'not_own_customer', 'no_lookup');
      assert.equal(
        flowsFor(purpose, 'not_own_customer').some((f) => f.pattern === 5),
        false,
        'the former-customer sales guidance is not offered for a rival’s customer',
      );

      const items: SupplyPointField[] = ['holder_name', 'contracted_capacity'];
      const consent = { customerName: '株式会社青葉精工', method: 'recorded_call', givenAt: at(-DAY), reference: 'CALL-SW-1', validUntil: at(30 * DAY) };
      const withConsent = await call(USERS.retail, 'POST', '/api/inquiries', { caseType: 'switching', supplyPointId: SP.R3, items, consent });
      assert.equal(withConsent.statusCode, 201, withConsent.body);
      const yes = withConsent.json<Asked>();
      assert.deepEqual([yes.inquiry.status, yes.inquiry.atOnce, yes.inquiry.queued], ['answered', items, []]);
      const answer = yes.answer ?? assert.fail('no answer');
      assert.deepEqual(answer.fields['holder_name'], { shown: true, value: '株式会社青葉精工' });
      assert.deepEqual(answer.fields['contracted_capacity'], { shown: true, value: { value: 150, unit: 'kVA' } });

      const without = await call(USERS.retail, 'POST', '/api/inquiries', { caseType: 'switching', supplyPointId: SP.R3, items, consent: null });
      assert.equal(without.statusCode, 201, without.body);
      const no = without.json<Asked>();
      assert.deepEqual([no.inquiry.atOnce, no.inquiry.queued, no.inquiry.never], [[], [], items]);
      const o = outcomes(no.answer ?? assert.fail('no answer'));
      assert.deepEqual(
        items.map((f) => o[f]),
        items.map(() => 'masked:outside_inquiry_allowance'),
      );
      assert.equal(without.body.includes('青葉精工'), false);
      assert.equal(without.body.includes('kVA'), false);
    });

    test('pattern 5: outbound sales to former customers — their non-public fields stay masked under either purpose, name searches find nothing, the guidance is to ask the customer, and no inquiry case gives anything without consent', async () => {
      for (const purpose of ['own_customer_service', 'switching_support']) {
        await directLookUp(USERS.retail, 'p-retail', SP.SWITCHED, purpose, { reason: 'former_customer', logged: 'former_customer', relation: 'former' }, [
          '佐藤',
          'R0002',
          '080-3333-4444',
        ]);
        const byName = await call(USERS.retail, 'GET', `/api/supply-points?purpose=${purpose}&name=${encodeURIComponent('佐藤 花子')}`);
        assert.equal(byName.statusCode, 200, byName.body);
        assert.deepEqual(byName.json<{ items: unknown[] }>().items, [], 'a list of former customers’ names finds nothing');
        offered(purpose, 'former_customer', 5, 'ask_customer', 'お客さまご本人に伺ってください');
        notOffered(purpose, 'former_customer', 'inquiry');
      }

      for (const caseType of CASE_TYPES) {
        const allowance = vocabulary.caseAllowances[caseType] ?? assert.fail(`no allowance for ${caseType}`);
        const items = [...allowance.atOnce, ...allowance.queued];
        assert.ok(items.length > 0, `${caseType} may give something with consent`);
        const res = await call(USERS.retail, 'POST', '/api/inquiries', { caseType, supplyPointId: SP.SWITCHED, items, consent: null });
        assert.equal(res.statusCode, 201, `${caseType}: ${res.body}`);
        const body = res.json<Asked>();
        assert.deepEqual(
          [body.inquiry.status, body.inquiry.atOnce, body.inquiry.queued, [...body.inquiry.never].sort()],
          ['answered', [], [], [...items].sort()],
          `${caseType} without consent gives nothing, now or later`,
        );
        const o = outcomes(body.answer ?? assert.fail('no answer'));
        assert.deepEqual(
          NON_PUBLIC.map((f) => o[f]),
          NON_PUBLIC.map(() => 'masked:outside_inquiry_allowance'),
          caseType,
        );
        assert.equal(res.body.includes('佐藤'), false, caseType);
      }
    });

    test('pattern 6: analysing new entrants’ customers — a search by address over many points shows only public fields of the points not its own, is logged point by point, and the guidance is public statistics', async () => {
      const purpose = 'own_customer_service';
      const res = await call(USERS.retail, 'GET', `/api/supply-points?purpose=${purpose}&address=${encodeURIComponent('丁目')}`);
      assert.equal(res.statusCode, 200, res.body);
      const items = res.json<{ items: RecordBody[] }>().items;
      const expected: Record<string, string> = {
        [SP.OWN_A]: 'own',
        [SP.SWITCHED]: 'former_customer',
        [SP.R3]: 'not_own_customer',
        [SP.LAST]: 'former_customer',
        [SP.VACANT]: 'not_own_customer',
        [SP.CORP_A]: 'own',
      };
      assert.deepEqual(items.map((i) => i.supplyPointId).sort(), Object.keys(expected).sort(), 'every point in the area');
      for (const item of items) {
        const reason = expected[item.supplyPointId] ?? assert.fail();
        const got = Object.fromEntries(Object.entries(item.fields).map(([k, v]) => [k, v.shown ? 'shown' : `masked:${v.reason ?? '?'}`]));
        const want = Object.fromEntries(
          Object.keys(item.fields).map((f) => [
            f,
            SUPPLY_POINT_FIELDS[f as SupplyPointField].class === 'public' || reason === 'own' ? 'shown' : `masked:${reason}`,
          ]),
        );
        assert.ok(
          Object.keys(item.fields).some((f) => SUPPLY_POINT_FIELDS[f as SupplyPointField].class === 'non_public'),
          'the search shows a non-public field',
        );
        assert.deepEqual(got, want, item.supplyPointId);
      }
      // 株式会社青葉精工 is also A0001's own customer (SP.CORP_A), so its name is shown there, and only there.
      for (const secret of ['佐藤', '田中', 'R0002', 'R0003']) assert.equal(res.body.includes(secret), false, secret);

      const event = await loggedEvent(String(res.headers['x-request-id']));
      assert.deepEqual([event.route, event.purpose, event.outcome, event.person_id], ['GET /api/supply-points', purpose, 'served', 'p-retail']);
      assert.deepEqual(
        event.records.map((r) => [r.supplyPointId, r.relation, r.masked['holder_name'] ?? null]).sort(),
        [
          [SP.OWN_A, 'own', null],
          [SP.SWITCHED, 'former', 'former_customer'],
          [SP.R3, 'other', 'other_retailer_customer'],
          [SP.LAST, 'former', 'former_customer'],
          [SP.VACANT, 'none', 'no_retailer'],
          [SP.CORP_A, 'own', null],
        ].sort(),
      );

      for (const p of ['own_customer_service', 'switching_support'])
        for (const reason of ['not_own_customer', 'former_customer']) {
          const flow = offered(p, reason, 6, 'public_statistics', '公表統計');
          assert.equal(flow.caseType, null);
        }
      // Analysing other retailers' customers is no case for an inquiry.
      notOffered(purpose, 'not_own_customer', 'inquiry');
      notOffered(purpose, 'former_customer', 'inquiry');
    });
  });
}
