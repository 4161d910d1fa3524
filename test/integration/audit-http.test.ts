import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/store/db.ts';
import { login, testApp, type Session } from '../support/app.ts';
import { SP, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

for (const store of STORES) {
  describe(`access log API on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let app: FastifyInstance;
    let compliance: Session;
    let retail: Session;
    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      app = await testApp(db);
      compliance = await login(app, USERS.compliance);
      retail = await login(app, USERS.retail);
      // Some reads to find: the retail agent looks at its own customer and at a rival's.
      for (const sp of [SP.OWN_A, SP.R3, SP.R3]) {
        const r = await app.inject({ method: 'GET', url: `/api/supply-points/${sp}?purpose=own_customer_service`, headers: { cookie: retail.cookie } });
        assert.equal(r.statusCode, 200);
      }
      await app.inject({ method: 'GET', url: `/api/supply-points?purpose=own_customer_service&phone=09011112222`, headers: { cookie: (await login(app, USERS.compliance)).cookie } });
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    const get = (s: Session, url: string) => app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

    test('only compliance and access administration may read the log', async () => {
      const r = await get(retail, '/api/audit/events');
      assert.equal(r.statusCode, 403);
      assert.equal((r.json() as { error: { code: string } }).error.code, 'forbidden');
      assert.equal((await get(retail, '/api/audit/status')).statusCode, 403);
      const me = (await get(compliance, '/api/me')).json() as { abilities: { viewAuditLog: boolean } };
      assert.equal(me.abilities.viewAuditLog, true);
    });

    test('search by supply point, person and retailer finds exactly the matching reads, newest first', async () => {
      const bySp = (await get(compliance, `/api/audit/events?supplyPoint=${SP.R3}`)).json() as { items: { seq: number; userId: string; records: { relation: string; retailerCode: string }[] }[] };
      assert.equal(bySp.items.length, 2);
      assert.ok((bySp.items[0]?.seq ?? 0) > (bySp.items[1]?.seq ?? 0));
      assert.deepEqual(bySp.items.map((i) => [i.userId, i.records[0]?.relation, i.records[0]?.retailerCode]), [[USERS.retail, 'other', 'R0003'], [USERS.retail, 'other', 'R0003']]);
      const byRetailer = (await get(compliance, '/api/audit/events?retailer=A0001')).json() as { items: unknown[] };
      assert.equal(byRetailer.items.length, 1);
      const refused = (await get(compliance, '/api/audit/events?outcome=refused')).json() as { items: { personId: string; refusal: string }[] };
      assert.deepEqual(refused.items.map((i) => [i.personId, i.refusal]), [['p-comp', 'search_field_not_permitted']]);
      const byPerson = (await get(compliance, `/api/audit/events?person=${USERS.retail}&from=2026-11-01&to=2026-11-01`)).json() as { items: unknown[] };
      assert.equal(byPerson.items.length, 3);
      const none = (await get(compliance, `/api/audit/events?person=${USERS.retail}&from=2026-11-02`)).json() as { items: unknown[] };
      assert.equal(none.items.length, 0);
      const bad = await get(compliance, '/api/audit/events?from=2026/11/01');
      assert.equal(bad.statusCode, 400);
    });

    test('status shows the chain head; verify (a state-changing call, CSRF-protected) checks the whole chain', async () => {
      const status = (await get(compliance, '/api/audit/status')).json() as { head: { seq: number } };
      assert.ok(status.head.seq >= 4);
      const noCsrf = await app.inject({ method: 'POST', url: '/api/audit/verify', headers: { cookie: compliance.cookie } });
      assert.equal(noCsrf.statusCode, 403);
      const ok = await app.inject({ method: 'POST', url: '/api/audit/verify', headers: { cookie: compliance.cookie, 'x-csrf-token': compliance.csrf } });
      const body = ok.json() as { ok: boolean; events: number };
      assert.equal(body.ok, true);
      assert.equal(body.events, status.head.seq);
    });

    test('a period downloads as CSV for Excel and as self-verifying JSON Lines', async () => {
      const csv = await get(compliance, '/api/audit/export?format=csv&from=2026-11-01&to=2026-11-01');
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-disposition']), /access-log_2026-11-01_2026-11-01\.csv/);
      assert.deepEqual([...csv.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      const jsonl = await get(compliance, '/api/audit/export?format=jsonl');
      const lines = jsonl.body.trim().split('\n');
      assert.match(lines[0] ?? '', /"format":"gridwall-access-log"/);
      assert.match(lines[lines.length - 1] ?? '', /^\{"end":/);
      assert.equal((await get(retail, '/api/audit/export?format=csv')).statusCode, 403);
    });
  });
}
