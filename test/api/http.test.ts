import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS } from '../../src/domain/classification.ts';
import { DATA_ROUTES } from '../../src/firewall/firewall.ts';
import { SP, USERS, TERMINALS } from '../support/fixture.ts';
import { login, outcomes, seededApp, testApp, type Session } from '../support/app.ts';
import { ownerOf, STORES } from '../support/stores.ts';
import { REPLICA_STORES } from '../support/replica-pair.ts';

const NON_PUBLIC = [
  'holder_name',
  'phone',
  'contracted_capacity',
  'retailer',
  'usage',
  'equipment',
  'meter',
  'contract_history',
  'customer_type',
  'last_resort',
];

/** Expected outcome per field: public fields shown, the non-public ones as given, network_notes as given. */
function expect(nonPublic: string, networkNotes: string): Record<string, string> {
  return Object.fromEntries(
    SUPPLY_POINT_FIELD_KEYS.map((f) => [f, f === 'supply_point_id' || f === 'address' ? 'shown' : f === 'network_notes' ? networkNotes : nonPublic]),
  );
}

// And on PostgreSQL with a streaming replica (issue 21): the same answers, searches finding their IDs on the replica.
for (const store of [...STORES, ...REPLICA_STORES]) {
  describe(`HTTP API on ${store.label ?? store.name}`, () => {
    const w = seededApp(store);
    const sessions: Record<string, Session> = {};
    before(async () => {
      // The leaver cannot log in (issue 14): nobody is assigned behind the account.
      for (const u of Object.values(USERS).filter((x) => x !== USERS.leaver))
        sessions[u] = await login(w.app, u, u === USERS.serviceCentre ? TERMINALS.NSC : undefined);
    });

    async function get(user: string, url: string) {
      const s = sessions[user];
      assert.ok(s !== undefined);
      return w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    }
    async function view(user: string, sp: string, purpose: string) {
      const res = await get(user, `/api/supply-points/${sp}?purpose=${purpose}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ supplyPointId: string; fields: Record<string, { shown: boolean; value?: unknown; reason?: string }> }>();
    }

    test('the affiliated retailer’s agent sees everything but network notes of its own customer', async () => {
      const v = await view(USERS.retail, SP.OWN_A, 'own_customer_service');
      assert.deepEqual(outcomes(v), expect('shown', 'masked:network_only'));
      assert.equal(v.fields['holder_name']?.value, '山田 太郎');
      assert.deepEqual(v.fields['retailer']?.value, { code: 'A0001', name: '北日本電力株式会社' });
    });

    test('the affiliated retailer’s agent and contractor see only public fields of a former customer', async () => {
      for (const u of [USERS.retail, USERS.retailContractor]) {
        const v = await view(u, SP.SWITCHED, 'own_customer_service');
        assert.deepEqual(outcomes(v), expect('masked:former_customer', 'masked:network_only'));
        assert.equal(JSON.stringify(v).includes('佐藤'), false, 'no trace of the holder name anywhere in the body');
      }
    });

    test('another retailer’s customer and a last-resort point look alike to a retail agent', async () => {
      const other = await view(USERS.retail, SP.R3, 'own_customer_service');
      const last = await view(USERS.otherRetailer, SP.LAST, 'own_customer_service');
      assert.deepEqual(outcomes(other), expect('masked:not_own_customer', 'masked:network_only'));
      assert.deepEqual(outcomes(last), expect('masked:not_own_customer', 'masked:network_only'));
    });

    test('the new retailer sees its own customer that switched from the affiliated one', async () => {
      const v = await view(USERS.otherRetailer, SP.SWITCHED, 'own_customer_service');
      assert.deepEqual(outcomes(v), expect('shown', 'masked:network_only'));
      assert.equal(v.fields['holder_name']?.value, '佐藤 花子');
    });

    test('network staff see by duty: call centre without network notes, service centre with them for outages', async () => {
      assert.deepEqual(outcomes(await view(USERS.callCentre, SP.R3, 'customer_inquiry')), expect('shown', 'masked:network_only'));
      assert.deepEqual(outcomes(await view(USERS.serviceCentre, SP.R3, 'outage_response')), expect('shown', 'shown'));
      assert.deepEqual(outcomes(await view(USERS.callCentre, SP.R3, 'own_customer_service')), expect('masked:purpose_not_permitted', 'masked:network_only'));
    });

    test('compliance sees public fields only; a leaver is refused a session at all (nobody is assigned behind the account)', async () => {
      assert.deepEqual(outcomes(await view(USERS.compliance, SP.OWN_A, 'audit_review')), expect('masked:not_needed_for_duty', 'masked:network_only'));
      const res = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.leaver } });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'account_without_person');
      const { rows } = await w.db.query<{ rule: string }>(`SELECT rule FROM governance_events WHERE action = 'session.login' AND subject_id = $1`, [
        USERS.leaver,
      ]);
      assert.deepEqual(
        rows.map((r) => r.rule),
        ['account_without_person'],
      );
    });

    test('a person moved from network to retail is treated as retail from the move on', async () => {
      assert.deepEqual(outcomes(await view(USERS.mover, SP.R3, 'customer_inquiry')), expect('masked:purpose_not_permitted', 'masked:network_only'));
      assert.deepEqual(outcomes(await view(USERS.mover, SP.R3, 'own_customer_service')), expect('masked:not_own_customer', 'masked:network_only'));
    });

    test('every look-up is logged with the exact reasons, including the ones the screen generalises', async () => {
      const res = await get(USERS.retail, `/api/supply-points/${SP.LAST}?purpose=own_customer_service`);
      const requestId = String(res.headers['x-request-id']);
      const { rows } = await w.db.query<{ records: unknown; principal_class: string; side: string; outcome: string; person_id: string }>(
        'SELECT records, principal_class, side, outcome, person_id FROM access_log WHERE request_id = $1',
        [requestId],
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.person_id, 'p-retail');
      assert.equal(rows[0]?.principal_class, 'affiliated_retail');
      assert.equal(rows[0]?.side, 'retail');
      assert.equal(rows[0]?.outcome, 'served');
      const rec = (
        rows[0]?.records as { relation: string; retailerCode: string | null; lastResort: boolean; masked: Record<string, string> }[] | undefined
      )?.[0];
      assert.ok(rec !== undefined);
      assert.equal(rec.relation, 'former');
      assert.equal(rec.retailerCode, null);
      assert.equal(rec.lastResort, true);
      assert.equal(rec.masked['phone'], 'former_customer');
    });

    test('search by address is open to all and returns public fields of any supply point', async () => {
      const res = await get(USERS.otherRetailer, `/api/supply-points?purpose=switching_support&address=${encodeURIComponent('仙台市青葉区')}`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ items: { supplyPointId: string; fields: Record<string, { shown: boolean }> }[]; page: { hasMore: boolean } }>();
      // In address order (the address read from the city, in code-point order: 一番町一丁目, 一番町三丁目, 一番町二丁目).
      assert.deepEqual(
        body.items.map((i) => i.supplyPointId),
        [SP.OWN_A, SP.CORP_A, SP.SWITCHED],
      );
      assert.deepEqual(
        body.items.map((i) => i.fields['holder_name']?.shown),
        [false, false, true],
      );
      assert.equal(body.page.hasMore, false);
    });

    test('search by name matches only records whose holder the person may see', async () => {
      const retail = await get(USERS.retail, `/api/supply-points?purpose=own_customer_service&name=${encodeURIComponent('佐藤')}`);
      assert.deepEqual(retail.json<{ items: unknown[] }>().items, []);
      const other = await get(USERS.otherRetailer, `/api/supply-points?purpose=own_customer_service&name=${encodeURIComponent('佐藤')}`);
      assert.deepEqual(
        other.json<{ items: { supplyPointId: string }[] }>().items.map((i) => i.supplyPointId),
        [SP.SWITCHED],
      );
    });

    test('search by phone is refused, and logged, for someone who may not see phones', async () => {
      const res = await get(USERS.compliance, '/api/supply-points?purpose=audit_review&phone=090-1111-2222');
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'search_field_not_permitted');
      const { rows } = await w.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM access_log WHERE person_id = 'p-comp' AND outcome = 'refused' AND refusal = 'search_field_not_permitted'`,
      );
      assert.equal(rows[0]?.n, 1);
      const cc = await get(USERS.callCentre, '/api/supply-points?purpose=customer_inquiry&phone=090-1111-2222');
      assert.deepEqual(
        cc.json<{ items: { supplyPointId: string }[] }>().items.map((i) => i.supplyPointId),
        [SP.OWN_A],
      );
    });

    test('paging walks the results without repeats', async () => {
      const q = `/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('丁目')}&limit=4`;
      const p1 = (await get(USERS.callCentre, q)).json<{ items: { supplyPointId: string }[]; page: { hasMore: boolean } }>();
      const p2 = (await get(USERS.callCentre, `${q}&offset=4`)).json<{ items: { supplyPointId: string }[]; page: { hasMore: boolean } }>();
      assert.equal(p1.items.length, 4);
      assert.equal(p1.page.hasMore, true);
      assert.equal(p2.items.length, 2);
      assert.equal(p2.page.hasMore, false);
      assert.equal(new Set([...p1.items, ...p2.items].map((i) => i.supplyPointId)).size, 6);
    });

    test('keyset paging: page.next as `after` gives the next page, the same results as offset, and null at the end', async () => {
      type Page = { items: { supplyPointId: string }[]; page: { hasMore: boolean; next: string | null } };
      const q = `/api/supply-points?purpose=customer_inquiry&address=${encodeURIComponent('丁目')}&limit=4`;
      const p1 = (await get(USERS.callCentre, q)).json<Page>();
      assert.equal(p1.page.next, p1.items.at(-1)?.supplyPointId);
      const p2 = (await get(USERS.callCentre, `${q}&after=${p1.page.next ?? ''}`)).json<Page>();
      const byOffset = (await get(USERS.callCentre, `${q}&offset=4`)).json<Page>();
      assert.deepEqual(p2.items, byOffset.items);
      assert.equal(p2.page.hasMore, false);
      assert.equal(p2.page.next, null);
      const bad = await get(USERS.callCentre, `${q}&after=12345`);
      assert.equal(bad.statusCode, 400);
    });

    test('bad input gets a clear 4xx with a stable code', async () => {
      const cases: [string, number, string][] = [
        [`/api/supply-points/123?purpose=customer_inquiry`, 400, 'invalid_supply_point_id'],
        [`/api/supply-points/1100000000000000000011?purpose=customer_inquiry`, 400, 'invalid_supply_point_id'],
        [`/api/supply-points/${SP.OWN_A}?purpose=curiosity`, 400, 'validation_failed'],
        [`/api/supply-points/${SP.OWN_A}`, 400, 'validation_failed'],
        [`/api/supply-points/0299999999999999999999?purpose=customer_inquiry`, 404, 'not_found'],
        [`/api/supply-points?purpose=customer_inquiry`, 400, 'search_criteria'],
        [`/api/supply-points?purpose=customer_inquiry&address=仙台&name=山田`, 400, 'search_criteria'],
        [`/api/supply-points?purpose=customer_inquiry&address=仙台&limit=1000`, 400, 'validation_failed'],
      ];
      for (const [url, status, code] of cases) {
        const res = await get(USERS.callCentre, encodeURI(url));
        assert.equal(res.statusCode, status, `${url}: ${res.body}`);
        assert.equal(res.json<{ error: { code: string } }>().error.code, code, url);
      }
      const missing = await get(USERS.callCentre, `/api/supply-points/${SP.OWN_A}`);
      assert.match(missing.json<{ error: { message: string } }>().error.message, /purpose/);
    });

    test('no session, no data', async () => {
      const res = await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry` });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'not_authenticated');
    });

    test('state changes need the CSRF token; logout ends the session', async () => {
      const s = await login(w.app, USERS.callCentre);
      const bad = await w.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: s.cookie } });
      assert.equal(bad.statusCode, 403);
      const ok = await w.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
      assert.equal(ok.statusCode, 204);
      const after = await w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: s.cookie } });
      assert.equal(after.statusCode, 401);
    });

    test('login sets a secure, HttpOnly, SameSite=Strict cookie and security headers', async () => {
      const res = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.retail } });
      const c = res.cookies.find((x) => x.name === 'gw_session');
      assert.equal(c?.httpOnly, true);
      assert.equal(c?.secure, true);
      assert.equal(c?.sameSite, 'Strict');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.ok(String(res.headers['content-security-policy']).includes("default-src 'self'"));
      const unknown = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: 'nobody' } });
      assert.equal(unknown.statusCode, 401);
    });

    test('login is rate-limited per user ID, and per client address at ten times that: a call centre behind one proxy is not locked out', async () => {
      const limited = await testApp(w.db, { loginRateLimit: 3 });
      try {
        // An address and user IDs of the test's own: the counts are kept in the store, shared with every app on it (issue 21).
        const post = (userId: string) => limited.inject({ method: 'POST', url: '/api/session', remoteAddress: '192.0.2.66', payload: { userId } });
        const codes: number[] = [];
        for (let i = 0; i < 5; i++) codes.push((await post(i % 2 === 0 ? 'nobody-limited' : 'NOBODY-LIMITED')).statusCode);
        assert.deepEqual(codes, [401, 401, 401, 429, 429], 'one user ID, however it is cased');
        const last = await post('nobody-limited');
        assert.equal(last.json<{ error: { code: string } }>().error.code, 'rate_limited');
        // Another person from the same address still logs in…
        assert.equal((await post(USERS.retail)).statusCode, 201);
        // …until the address has made 3 × 10 attempts in the minute (7 so far).
        const more: number[] = [];
        for (let i = 0; i < 24; i++) more.push((await post(`guess-${i}`)).statusCode);
        assert.deepEqual(more, [...Array<number>(23).fill(401), 429]);
      } finally {
        await limited.close();
      }
    });

    test('two servers on one store count one login limit together (issue 21: N processes allow what one allows)', async () => {
      const a = await testApp(w.db, { loginRateLimit: 3 });
      const b = await testApp(w.db, { loginRateLimit: 3 });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 4; i++)
          codes.push(
            (await (i % 2 === 0 ? a : b).inject({ method: 'POST', url: '/api/session', remoteAddress: '192.0.2.67', payload: { userId: 'two-servers' } }))
              .statusCode,
          );
        assert.deepEqual(codes, [401, 401, 401, 429], 'the fourth attempt is refused, whichever server takes it');
        // The window is the store's: its row says when it ends, and only a digest of the user ID is kept.
        const { rows } = await w.db.query<{ key_digest: string; hits: number }>('SELECT key_digest, hits FROM rate_limit_windows');
        assert.ok(rows.length > 0 && rows.every((r) => !r.key_digest.includes('two-servers') && /^[A-Za-z0-9_-]{43}$/.test(r.key_digest)));
        assert.ok(rows.some((r) => r.hits === 4));
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('behind a trusted proxy the address limit counts each client (X-Forwarded-For), not the proxy', async () => {
      const behind = await testApp(w.db, { loginRateLimit: 1, trustProxy: '127.0.0.1' });
      try {
        const post = (userId: string, client: string) =>
          behind.inject({ method: 'POST', url: '/api/session', payload: { userId }, headers: { 'x-forwarded-for': client } });
        const a: number[] = [];
        for (let i = 0; i < 11; i++) a.push((await post(`proxied-guess-${i}`, '192.0.2.10')).statusCode);
        assert.deepEqual(a, [...Array<number>(10).fill(401), 429]);
        assert.equal((await post('proxied-guess-x', '192.0.2.11')).statusCode, 401, 'another client behind the same proxy is not limited');
      } finally {
        await behind.close();
      }
    });

    test('abilities come from the server: a retail agent may search by name for own customers only', async () => {
      const me = (await get(USERS.retail, '/api/me')).json<{ principalClass: string; abilities: { searchByHolderName: string[]; viewChecklist: boolean } }>();
      assert.equal(me.principalClass, 'affiliated_retail');
      assert.deepEqual(me.abilities.searchByHolderName, ['own_customer_service', 'switching_support']);
      assert.equal(me.abilities.viewChecklist, false);
      const comp = (await get(USERS.compliance, '/api/me')).json<{ abilities: { searchByHolderName: string[]; viewChecklist: boolean } }>();
      assert.deepEqual(comp.abilities.searchByHolderName, []);
      assert.equal(comp.abilities.viewChecklist, true);
    });

    test('the checklist is served to compliance only', async () => {
      assert.equal((await get(USERS.retail, '/api/policy/checklist')).statusCode, 403);
      const res = await get(USERS.compliance, '/api/policy/checklist');
      const body = res.json<{ pass: boolean; rows: unknown[]; inquiry: { pass: boolean; rows: { answering: string; outcome: string }[] } }>();
      assert.equal(body.pass, true);
      assert.ok(body.rows.length > 100);
      // The inquiry allowances, as `gridwall verify` enumerates them: some answered at once, and shown.
      assert.equal(body.inquiry.pass, true);
      assert.ok(body.inquiry.rows.some((r) => r.answering === 'at_once' && r.outcome === 'shown'));
      const md = await get(USERS.compliance, '/api/policy/checklist?format=md');
      assert.match(md.body, /## Inquiry allowances/);
      const csv = await get(USERS.compliance, '/api/policy/checklist?format=csv');
      assert.ok(csv.body.startsWith('\uFEFF照会経路,利用者区分,'));
    });

    test('every route that returns customer data is in the verified route list', async () => {
      const spec = (await w.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
      const dataRoutes = Object.entries(spec.paths).flatMap(([path, ops]) =>
        Object.entries(ops)
          .filter(([, op]) => op.tags?.includes('customer data'))
          .map(([method]) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      );
      assert.deepEqual(dataRoutes.sort(), DATA_ROUTES.map((r) => r.route).sort());
    });

    test('a failing log write returns 503 and no customer data', async () => {
      // A failing trigger stands in for a full disk; only the schema's owner may add one.
      await ownerOf(w.db).exec(`CREATE FUNCTION gw_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$;
        CREATE TRIGGER gw_test_fail BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION gw_test_fail();`);
      try {
        const res = await get(USERS.retail, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`);
        assert.equal(res.statusCode, 503);
        assert.equal(res.json<{ error: { code: string } }>().error.code, 'log_unavailable');
        assert.equal(res.body.includes('山田'), false);
        assert.equal(res.body.includes(SP.OWN_A), false);
      } finally {
        await ownerOf(w.db).exec('DROP TRIGGER gw_test_fail ON access_log; DROP FUNCTION gw_test_fail();');
      }
    });

    test('the clock decides: before the switch the affiliated agent saw the customer as its own', async () => {
      const past = await testApp(w.db, { now: () => new Date('2019-06-01T10:00:00+09:00') });
      try {
        const s = await login(past, USERS.retail);
        const res = await past.inject({ method: 'GET', url: `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`, headers: { cookie: s.cookie } });
        assert.equal(res.json<{ fields: Record<string, { value?: unknown }> }>().fields['holder_name']?.value, '佐藤 花子');
      } finally {
        await past.close();
      }
      // The same read at NOW (after the 2020-04-01 switch) finds a former customer.
      assert.equal(outcomes(await view(USERS.retail, SP.SWITCHED, 'own_customer_service'))['holder_name'], 'masked:former_customer');
    });
  });
}

test('non-public fields listed in the test match the manifest', () => {
  assert.deepEqual(
    NON_PUBLIC,
    SUPPLY_POINT_FIELD_KEYS.filter((f) => SUPPLY_POINT_FIELDS[f].class === 'non_public'),
  );
});
