import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessEvent, loggedRecord } from '../support/access-events.ts';
import fc from 'fast-check';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { SearchTerms } from '../../src/audit/search-terms.ts';
import { LogUnavailableError, type AccessEvent } from '../../src/audit/access-event.ts';
import { COLUMN_MANIFEST, SUPPLY_POINT_FIELD_KEYS } from '../../src/domain/classification.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import { PURPOSES } from '../../src/domain/purpose.ts';
import { recordValues } from '../../src/domain/record.ts';
import { Firewall } from '../../src/firewall/firewall.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import { claimedTerminal } from '../../src/identity/terminal-devices.ts';
import { holds } from '../../src/domain/actor.ts';
import { loadRecords } from '../../src/store/customer-store.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { TEST_KEY } from '../support/app.ts';
import { NOW, SP, USERS, seedFixture } from '../support/fixture.ts';
import { ownerOf, STORES } from '../support/stores.ts';
import { assertHonestView, seededRawValues } from '../support/honest-view.ts';
import { findingSink } from '../../src/analysis/findings.ts';

const table = compileDecisionTable();

function event(i: number): AccessEvent {
  return accessEvent(i, {
    occurredAt: NOW,
    requestId: `r-${i}`,
    sessionId: null,
    office: 'x',
    terminalId: null,
    route: 'test',
    records: [
      loggedRecord(0, {
        supplyPointId: SP.OWN_A,
        retailerCode: 'A0001',
        shown: ['address'],
        masked: { network_notes: 'network_only' },
      }),
    ],
    policyVersion: table.version,
  });
}

async function actor(db: Db, userId: string) {
  const sessions = new Sessions(db, { idleMs: 1_800_000, absoluteMs: 3_600_000, cacheMs: 0 });
  const r = await sessions.open(userId, claimedTerminal('T00001'), NOW);
  assert.ok(r.kind === 'opened');
  const s = r.session;
  const live = await sessions.actor(s.id, NOW);
  assert.ok(live !== null);
  return live.actor;
}

for (const store of STORES) {
  describe(`store on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
    });
    after(() => dispose());

    test('migrations are applied once', async () => {
      assert.deepEqual(await migrate(db), []);
    });

    test('every column of a customer table is classified in the column manifest, and no entry is stale', async () => {
      const { rows } = await db.query<{ table_name: string; column_name: string }>(
        `SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1) ORDER BY 1, 2`,
        [Object.keys(COLUMN_MANIFEST)],
      );
      const live = rows.map((r) => `${r.table_name}.${r.column_name}`).sort();
      const manifest = Object.entries(COLUMN_MANIFEST)
        .flatMap(([t, cols]) => Object.keys(cols).map((c) => `${t}.${c}`))
        .sort();
      assert.deepEqual(live, manifest);
    });

    test('a loaded record has exactly the fields of the manifest', async () => {
      const [rec] = await loadRecords(db, [SP.SWITCHED]);
      assert.ok(rec !== undefined);
      assert.deepEqual(Object.keys(recordValues(rec, NOW)).sort(), [...SUPPLY_POINT_FIELD_KEYS].sort());
      assert.deepEqual(
        rec.contracts.map((c) => c.retailerCode),
        ['A0001', 'A0001', 'R0002'],
      );
      assert.ok(rec.contracts[0]?.validFrom instanceof Date);
      assert.equal(rec.usage.length, 2);
      assert.equal(rec.usage[1]?.month, '2026-10');
    });

    test('the access log refuses UPDATE and DELETE', async () => {
      await new GroupCommitLog(db, { key: TEST_KEY }).append(event(0));
      // The trigger refuses even the schema's owner; the application role (PostgreSQL) may not even try.
      await assert.rejects(ownerOf(db).query(`UPDATE access_log SET purpose = 'x'`), /append-only/);
      await assert.rejects(ownerOf(db).query(`DELETE FROM access_log`), /append-only/);
      await assert.rejects(db.query(`DELETE FROM access_log`), /append-only|permission denied/);
    });

    test('group commit writes every event of a burst, in fewer statements than events', async () => {
      const log = new GroupCommitLog(db, { key: TEST_KEY, maxBatch: 100 });
      const before = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_log WHERE request_id LIKE 'burst-%'`)).rows[0]?.n;
      await Promise.all(Array.from({ length: 300 }, (_, i) => log.append({ ...event(i), requestId: `burst-${i}` })));
      const { rows } = await db.query<{ n: number }>(`SELECT count(DISTINCT request_id)::int AS n FROM access_log WHERE request_id LIKE 'burst-%'`);
      assert.equal(before, 0);
      assert.equal(rows[0]?.n, 300);
      assert.ok(log.batches < 300 && log.batches >= 3, `batches: ${log.batches}`);
    });

    test('every served field of every read has its log event (random reads)', async () => {
      const firewall = new Firewall(db, new GroupCommitLog(db, { key: TEST_KEY }), table, new SearchTerms(TEST_KEY), findingSink(db));
      // The leaver cannot log in any more (issue 14): every other fixture person reads.
      const actors = await Promise.all(
        Object.values(USERS)
          .filter((u) => u !== USERS.leaver)
          .map((u) => actor(db, u)),
      );
      const raw = await seededRawValues(db);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...actors),
          fc.constantFrom(...Object.values(SP)),
          fc.constantFrom(...PURPOSES),
          fc.option(fc.constant('停電連絡'), { nil: undefined }),
          async (a, sp, purpose, reason) => {
            const requestId = `prop-${Math.random().toString(36).slice(2)}`;
            const res = await firewall.lookup(
              { actor: a, purpose, route: 'test', requestId, at: NOW, ...(reason === undefined ? {} : { statedReason: reason }) },
              sp,
            );
            if (res.kind === 'refused') {
              // Refused — and logged with the reason — are people whose customer.read grant does not count now
              // (the leaver, the administrators), and emergency-support reads: the fixture declares no emergency.
              const expected = !holds(a, 'customer.read')
                ? 'permission_not_granted'
                : purpose !== 'emergency_support'
                  ? 'none'
                  : reason === undefined
                    ? 'reason_required'
                    : 'not_emergency_support';
              assert.equal(res.reason, expected);
              const { rows } = await db.query<{ outcome: string; refusal: string }>('SELECT outcome, refusal FROM access_log WHERE request_id = $1', [
                requestId,
              ]);
              assert.deepEqual(
                rows.map((r) => [r.outcome, r.refusal]),
                [['refused', expected]],
              );
              return;
            }
            assert.ok(
              holds(a, 'customer.read') && purpose !== 'emergency_support',
              'served only with customer.read, and never as emergency support without an emergency',
            );
            assert.equal(res.kind, 'served');
            if (res.kind !== 'served') return;
            const { rows } = await db.query<{ records: unknown; person_id: string; purpose: string; policy_version: string }>(
              'SELECT records, person_id, purpose, policy_version FROM access_log WHERE request_id = $1',
              [requestId],
            );
            assert.equal(rows.length, 1);
            const row = rows[0];
            assert.ok(row !== undefined);
            assert.equal(row.person_id, a.personId);
            assert.equal(row.purpose, purpose);
            assert.equal(row.policy_version, table.version);
            const records = (typeof row.records === 'string' ? JSON.parse(row.records) : row.records) as {
              supplyPointId: string;
              shown: string[];
              masked: Record<string, string>;
            }[];
            assertHonestView(JSON.parse(JSON.stringify(res.view)), raw);
            const shown = Object.entries(res.view.fields)
              .filter(([, v]) => v.shown)
              .map(([k]) => k)
              .sort();
            assert.equal(records[0]?.supplyPointId, sp);
            assert.deepEqual([...(records[0]?.shown ?? [])].sort(), shown);
            assert.equal(Object.keys(records[0]?.masked ?? {}).length + shown.length, SUPPLY_POINT_FIELD_KEYS.length);
          },
        ),
        { numRuns: 40 },
      );
    });

    test('when the log cannot be written, the firewall returns no data', async () => {
      const firewall = new Firewall(db, new GroupCommitLog(db, { key: TEST_KEY }), table, new SearchTerms(TEST_KEY), findingSink(db));
      const a = await actor(db, USERS.callCentre);
      // A failing trigger stands in for a full disk; only the schema's owner may add one.
      await ownerOf(db).exec(`CREATE FUNCTION gw_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$;
        CREATE TRIGGER gw_test_fail BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION gw_test_fail();`);
      try {
        await assert.rejects(firewall.lookup({ actor: a, purpose: 'customer_inquiry', route: 'test', at: NOW }, SP.OWN_A), LogUnavailableError);
        await assert.rejects(
          firewall.search({ actor: a, purpose: 'customer_inquiry', route: 'test', at: NOW }, { by: 'holder_name', term: '山田' }, { limit: 5, offset: 0 }),
          LogUnavailableError,
        );
      } finally {
        await ownerOf(db).exec('DROP TRIGGER gw_test_fail ON access_log; DROP FUNCTION gw_test_fail();');
      }
      const ok = await firewall.lookup({ actor: a, purpose: 'customer_inquiry', route: 'test', at: NOW }, SP.OWN_A);
      assert.equal(ok.kind, 'served');
    });

    test('search by holder name for a retail principal only matches their own customers', async () => {
      const firewall = new Firewall(db, new GroupCommitLog(db, { key: TEST_KEY }), table, new SearchTerms(TEST_KEY), findingSink(db));
      const retail = await actor(db, USERS.retail);
      // 株式会社青葉精工 holds SP.R3 (R0003) and SP.CORP_A (A0001): only the latter may match.
      const res = await firewall.search(
        { actor: retail, purpose: 'own_customer_service', route: 'test', at: NOW },
        { by: 'holder_name', term: '青葉精工' },
        { limit: 10, offset: 0 },
      );
      assert.equal(res.kind, 'served');
      assert.deepEqual(res.kind === 'served' && res.views.map((v) => v.supplyPointId), [SP.CORP_A]);
      const cc = await actor(db, USERS.callCentre);
      const all = await firewall.search(
        { actor: cc, purpose: 'customer_inquiry', route: 'test', at: NOW },
        { by: 'holder_name', term: '青葉精工' },
        { limit: 10, offset: 0 },
      );
      assert.deepEqual(all.kind === 'served' && all.views.map((v) => v.supplyPointId), [SP.R3, SP.CORP_A]);
      const raw = await seededRawValues(db);
      for (const r of [res, all]) assert.ok(assertHonestView(JSON.parse(JSON.stringify({ items: r.kind === 'served' ? r.views : [] })), raw).views > 0);
    });
  });
}

// A DATABASE_URL that carries its own `?options=` (a statement_timeout, say) keeps them, and the schema and the
// application role given beside it still hold: node-postgres let the URL's options replace them, so such a pool
// ran in `public` as the login role (found when a bench's URL set synchronous_commit and its tables landed there).
const serverUrl = process.env['DATABASE_URL'];
if (serverUrl !== undefined)
  test('a server URL with its own options keeps the schema and the role given beside it (postgres)', async () => {
    const store = STORES.find((s) => s.name === 'postgres');
    assert.ok(store !== undefined);
    const { server, dispose } = await store.open();
    assert.ok(server !== undefined);
    const url = `${serverUrl}${serverUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c statement_timeout=4321')}`;
    const db = await openPostgres(url, { schema: server.schema, role: server.role, poolSize: 1 });
    try {
      const { rows } = await db.query<{ schema: string; role: string; timeout: string }>(
        `SELECT current_schema() AS schema, current_user AS role, current_setting('statement_timeout') AS timeout`,
      );
      assert.deepEqual(rows[0], { schema: server.schema, role: server.role, timeout: '4321ms' });
    } finally {
      await db.close();
      await dispose();
    }
  });
