import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { chainEvents } from '../../src/audit/chain.ts';
import { lastSeal, readHead } from '../../src/audit/log-reader.ts';
import { generateSigningKey, publicKeys, sealDigest, signSeal } from '../../src/audit/signing.ts';
import { verifyStore } from '../../src/audit/store-verify.ts';
import { login, seededApp, TEST_KEY, type Session } from '../support/app.ts';
import { NOW, SP, USERS } from '../support/fixture.ts';
import { asSuperuser, rehashAndReseal } from '../support/log-tamper.ts';
import { STORES } from '../support/stores.ts';

for (const store of STORES) {
  describe(`access log API on ${store.name}`, () => {
    const w = seededApp(store);
    let compliance: Session;
    let retail: Session;
    before(async () => {
      compliance = await login(w.app, USERS.compliance);
      retail = await login(w.app, USERS.retail);
      // Some reads to find: the retail agent looks at its own customer and at a rival's.
      for (const sp of [SP.OWN_A, SP.R3, SP.R3]) {
        const r = await w.app.inject({ method: 'GET', url: `/api/supply-points/${sp}?purpose=own_customer_service`, headers: { cookie: retail.cookie } });
        assert.equal(r.statusCode, 200);
      }
      await w.app.inject({
        method: 'GET',
        url: `/api/supply-points?purpose=own_customer_service&phone=09011112222`,
        headers: { cookie: (await login(w.app, USERS.compliance)).cookie },
      });
    });

    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

    test('only compliance and access administration may read the log', async () => {
      const r = await get(retail, '/api/audit/events');
      assert.equal(r.statusCode, 403);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'forbidden');
      assert.equal((await get(retail, '/api/audit/status')).statusCode, 403);
      const me = (await get(compliance, '/api/me')).json<{ abilities: { viewAuditLog: boolean } }>();
      assert.equal(me.abilities.viewAuditLog, true);
    });

    test('search by supply point, person and retailer finds exactly the matching reads, newest first', async () => {
      const bySp = (await get(compliance, `/api/audit/events?supplyPoint=${SP.R3}`)).json<{
        items: { seq: number; userId: string; records: { relation: string; retailerCode: string }[] }[];
      }>();
      assert.equal(bySp.items.length, 2);
      assert.ok((bySp.items[0]?.seq ?? 0) > (bySp.items[1]?.seq ?? 0));
      assert.deepEqual(
        bySp.items.map((i) => [i.userId, i.records[0]?.relation, i.records[0]?.retailerCode]),
        [
          [USERS.retail, 'other', 'R0003'],
          [USERS.retail, 'other', 'R0003'],
        ],
      );
      const byRetailer = (await get(compliance, '/api/audit/events?retailer=A0001')).json<{ items: unknown[] }>();
      assert.equal(byRetailer.items.length, 1);
      // One timestamp format on the wire, as every other route: UTC ISO 8601, the instant the read was logged.
      const times = (bySp.items as unknown as { occurredAt: string }[]).map((i) => i.occurredAt);
      assert.equal(times.length, 2);
      for (const t of times) assert.match(t, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const refused = (await get(compliance, '/api/audit/events?outcome=refused')).json<{ items: { personId: string; refusal: string }[] }>();
      assert.deepEqual(
        refused.items.map((i) => [i.personId, i.refusal]),
        [['p-comp', 'search_field_not_permitted']],
      );
      const byPerson = (await get(compliance, `/api/audit/events?person=${USERS.retail}&from=2026-11-01&to=2026-11-01`)).json<{ items: unknown[] }>();
      assert.equal(byPerson.items.length, 3);
      const none = (await get(compliance, `/api/audit/events?person=${USERS.retail}&from=2026-11-02`)).json<{ items: unknown[] }>();
      assert.equal(none.items.length, 0);
      const bad = await get(compliance, '/api/audit/events?from=2026/11/01');
      assert.equal(bad.statusCode, 400);
    });

    test('status shows the chain head; verify (a state-changing call, CSRF-protected) checks the whole chain', async () => {
      const status = (await get(compliance, '/api/audit/status')).json<{ head: { seq: number } }>();
      assert.ok(status.head.seq >= 4);
      const noCsrf = await w.app.inject({ method: 'POST', url: '/api/audit/verify', headers: { cookie: compliance.cookie } });
      assert.equal(noCsrf.statusCode, 403);
      const ok = await w.app.inject({ method: 'POST', url: '/api/audit/verify', headers: { cookie: compliance.cookie, 'x-csrf-token': compliance.csrf } });
      const body = ok.json<{ ok: boolean; events: number; seals: number; trustedKeys: { keyId: string; source: string }[] }>();
      assert.equal(body.ok, true);
      assert.equal(body.events, status.head.seq);
      assert.ok(body.seals >= 1);
      // It says which key it trusted: the signing key, never a key from the database.
      assert.deepEqual(
        body.trustedKeys.map((k) => k.keyId),
        [TEST_KEY.keyId],
      );
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

    // Last: it stops the writer of this app.
    test('an event slipped in outside the writer: reads are refused (503), readiness says so, verify names it', async () => {
      assert.equal((await w.app.inject({ method: 'GET', url: '/api/health' })).statusCode, 200);
      const head = await readHead(w.db);
      const [fake] = chainEvents([{ ...FAKE, occurredAt: NOW }], head.seq + 1, head.hash);
      const before = await lastSeal(w.db);
      const seal = signSeal(
        generateSigningKey(),
        { firstSeq: fake!.seq, seq: fake!.seq, prevHash: head.hash, hash: fake!.hash, prevSeal: sealDigest(before!) },
        NOW,
      );
      const row = {
        seq: fake!.seq,
        prev_hash: fake!.prevHash,
        hash: fake!.hash,
        occurred_at: NOW.toISOString(),
        request_id: FAKE.requestId,
        person_id: FAKE.personId,
        user_id: FAKE.userId,
        session_id: null,
        principal_class: FAKE.principalClass,
        side: FAKE.side,
        organization_id: FAKE.organizationId,
        employment: FAKE.employment,
        office: null,
        terminal_id: null,
        route: FAKE.route,
        purpose: FAKE.purpose,
        outcome: FAKE.outcome,
        refusal: null,
        query: {},
        supply_point_ids: [SP.R3],
        records: FAKE.records,
        policy_version: 'v',
        emergency_id: null,
      };
      await w.db.query('SELECT * FROM access_log_append($1, $2, $3::jsonb, $4::jsonb)', [head.seq, head.hash, JSON.stringify([row]), JSON.stringify(seal)]);
      const read = await w.app.inject({
        method: 'GET',
        url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`,
        headers: { cookie: retail.cookie },
      });
      assert.equal(read.statusCode, 503);
      assert.equal(read.json<{ error: { code: string } }>().error.code, 'log_unavailable');
      assert.doesNotMatch(read.body, /holder|phone|address/i);
      // Readiness is public: it says the line stopped, and why only to the audit permission (the audit status).
      const health = await w.app.inject({ method: 'GET', url: '/api/health' });
      assert.equal(health.statusCode, 503);
      const ready = health.json<{ status: string; checks: { log: { halted: unknown } } }>();
      assert.deepEqual([ready.status, ready.checks.log.halted], ['log_halted', true]);
      const reason = new RegExp(`events ${fake!.seq}–${fake!.seq}.*cannot be accounted for`);
      const status = (await get(compliance, '/api/audit/status')).json<{ writer: { halted: string | null } }>();
      assert.match(status.writer.halted ?? '', reason);
      assert.doesNotMatch(health.body, /cannot be accounted for/);
      assert.doesNotMatch(health.body, new RegExp(`events ${fake!.seq}`));
      const v = (
        await w.app.inject({ method: 'POST', url: '/api/audit/verify', headers: { cookie: compliance.cookie, 'x-csrf-token': compliance.csrf } })
      ).json<{ ok: boolean; firstBreak: { kind: string; seq: number } }>();
      assert.deepEqual([v.ok, v.firstBreak.kind, v.firstBreak.seq], [false, 'bad_signature', fake!.seq]);
    });
  });
}

/** The framing event of issue 15: the retail demo user *served* holder name and phone of a rival's customer. */
const FAKE: AccessEvent = {
  occurredAt: NOW,
  requestId: 'req-framed',
  personId: 'p-retail',
  userId: USERS.retail,
  sessionId: null,
  principalClass: 'affiliated_retail',
  side: 'retail',
  organizationId: 'org-a0001',
  employment: 'employee',
  office: null,
  terminalId: null,
  route: 'GET /api/supply-points/:id',
  purpose: 'own_customer_service',
  outcome: 'served',
  refusal: null,
  query: {},
  records: [{ supplyPointId: SP.R3, relation: 'other', retailerCode: 'R0003', lastResort: false, shown: ['holder_name', 'phone'], masked: {} }],
  policyVersion: 'v',
  emergencyId: null,
};

// Issue 15: what POST /api/audit/verify trusts — the server's configured key, never the database's key table.
for (const store of STORES) {
  describe(`what the log's verification trusts, over the API, on ${store.name}`, () => {
    const w = seededApp(store);
    const attacker = generateSigningKey();
    let compliance: Session;
    before(async () => {
      compliance = await login(w.app, USERS.compliance);
      const retail = await login(w.app, USERS.retail);
      for (const sp of [SP.OWN_A, SP.R3, SP.OWN_A]) {
        const r = await w.app.inject({ method: 'GET', url: `/api/supply-points/${sp}?purpose=own_customer_service`, headers: { cookie: retail.cookie } });
        assert.equal(r.statusCode, 200);
      }
    });
    const verify = () => w.app.inject({ method: 'POST', url: '/api/audit/verify', headers: { cookie: compliance.cookie, 'x-csrf-token': compliance.csrf } });
    type Verdict = {
      ok: boolean;
      events: number;
      firstBreak: { kind: string; seq: number; detail: string } | null;
      trustedKeys: { keyId: string; source: string }[];
    };

    test('a key row nobody could register, planted by the superuser: verify answers its verdict (200), never a 500', async () => {
      // The application's role cannot write the key table at all (on PGlite the one connection is the owner).
      if (store.name === 'postgres') await assert.rejects(w.db.query("INSERT INTO access_log_keys VALUES ('evil', 'x')"), /permission denied/);
      await asSuperuser(w.owner, "INSERT INTO access_log_keys VALUES ('evil', 'x')");
      for (let i = 0; i < 2; i++) {
        const r = await verify();
        assert.equal(r.statusCode, 200, r.body);
        const v = r.json<Verdict>();
        assert.deepEqual([v.ok, v.firstBreak], [true, null]);
        assert.deepEqual(
          v.trustedKeys.map((k) => k.keyId),
          [TEST_KEY.keyId],
        );
      }
    });

    test('a chain re-hashed and re-sealed with a key planted in the database: bad_signature, and the answer names the key it trusted', async () => {
      const last = await rehashAndReseal(w.owner, attacker, 2, (e) => ({ ...e, purpose: 'switching_support' }));
      const r = await verify();
      assert.equal(r.statusCode, 200, r.body);
      const v = r.json<Verdict>();
      assert.deepEqual([v.ok, v.firstBreak?.kind, v.firstBreak?.seq], [false, 'bad_signature', last]);
      assert.match(v.firstBreak?.detail ?? '', new RegExp(`key ${attacker.keyId}, not trusted`));
      assert.deepEqual(
        v.trustedKeys.map((k) => [k.keyId, k.source]),
        [[TEST_KEY.keyId, 'the signing key (GRIDWALL_LOG_KEY_FILE)']],
      );
      // The forgery is complete: trusting the key it planted (what trusting the key table amounted to), it verifies.
      assert.equal((await verifyStore(w.db, { keys: publicKeys([attacker.publicKeyPem]) })).ok, true);
    });
  });
}
