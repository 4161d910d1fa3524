import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateDemo, type DemoSummary, type Persona } from '../../src/demo/generate.ts';
import { anyInForce, inForce, windowOf } from '../../src/domain/emergency.ts';
import { AREAS } from '../../src/demo/places.ts';
import { formatAddress } from '../../src/domain/record.ts';
import { CONSENT_FROM, normalizedName, SERVICE_LEVEL_HOURS, type CaseType } from '../../src/domain/inquiry.ts';
import { declarationsInForce, loadDeclaration, registrationAt } from '../../src/store/emergency-store.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { login, testApp } from '../support/app.ts';

const NOW = new Date('2026-11-01T00:00:00+09:00');
const SEED = 20161;
const SIZE = 2000;

async function fresh(): Promise<{ db: Db; summary: DemoSummary }> {
  const db = await openPglite(null);
  await migrate(db);
  const summary = await generateDemo(db, { supplyPoints: SIZE, seed: SEED, now: NOW });
  return { db, summary };
}

async function one<R extends Record<string, unknown>>(db: Db, sql: string, params: readonly unknown[] = []): Promise<R> {
  const { rows } = await db.query<R>(sql, params);
  const row = rows[0];
  assert.ok(row !== undefined, `no row from ${sql}`);
  return row;
}

const count = async (db: Db, sql: string, params: readonly unknown[] = []) =>
  (await one<{ n: number }>(db, `SELECT count(*)::int AS n FROM (${sql}) q`, params)).n;

/** Supply point ids in order, with the current holder's name (or null when vacant). */
const FIRST_FIVE = `
SELECT sp.id, sp.address_text,
       (SELECT cu.name FROM contracts c JOIN customers cu ON cu.id = c.customer_id
         WHERE c.supply_point_id = sp.id AND c.valid_from <= $1 AND (c.valid_to IS NULL OR c.valid_to > $1)) AS holder
  FROM supply_points sp ORDER BY sp.id LIMIT 5`;

let db: Db;
let summary: DemoSummary;

before(async () => {
  ({ db, summary } = await fresh());
});

after(async () => {
  await db?.close();
});

test('counts in the store match the summary', async () => {
  assert.equal(summary.supplyPoints, SIZE);
  assert.equal(await count(db, 'SELECT 1 FROM supply_points'), summary.supplyPoints);
  assert.equal(await count(db, 'SELECT 1 FROM customers'), summary.customers);
  assert.equal(await count(db, 'SELECT 1 FROM contracts'), summary.contracts);
  assert.equal(await count(db, 'SELECT 1 FROM retailers'), summary.retailers);
  assert.equal(await count(db, 'SELECT 1 FROM persons'), summary.persons);
  assert.equal(await count(db, 'SELECT 1 FROM terminals'), summary.terminals);
  assert.ok(summary.customers > SIZE, 'moves add holders');
  assert.ok(summary.contracts > SIZE, 'every supply point has a history');
  assert.ok(summary.terminals >= 120 && summary.terminals <= 180, `terminals ${summary.terminals}`);
});

test('supply point ids are 22 digits starting with the area code, and unique', async () => {
  const { rows } = await db.query<{ id: string; area_code: string }>('SELECT id, area_code FROM supply_points');
  assert.equal(rows.length, SIZE);
  for (const r of rows) {
    assert.match(r.id, /^02\d{20}$/);
    assert.equal(r.area_code, '02');
  }
  assert.equal(new Set(rows.map((r) => r.id)).size, SIZE);
});

test('every supply point has a first contract with the affiliated retailer before liberalisation', async () => {
  const firsts = await db.query<{ retailer_code: string; valid_from: Date }>(
    `SELECT DISTINCT ON (supply_point_id) retailer_code, valid_from FROM contracts ORDER BY supply_point_id, valid_from`,
  );
  assert.equal(firsts.rows.length, SIZE);
  for (const r of firsts.rows) {
    assert.equal(r.retailer_code, 'A0001');
    assert.ok(new Date(r.valid_from) >= new Date('2000-01-01T00:00:00+09:00') && new Date(r.valid_from) < new Date('2016-04-01T00:00:00+09:00'));
  }
  // Switching only from 2016-04: a non-affiliated, non-last-resort contract never starts earlier.
  assert.equal(await count(db, `SELECT 1 FROM contracts WHERE retailer_code NOT IN ('A0001', 'NW000') AND valid_from < '2016-04-01T00:00:00+09:00'`), 0);
});

test('contracts of one supply point never overlap, and a history has no gaps', async () => {
  const overlaps = await count(
    db,
    `SELECT 1 FROM contracts a JOIN contracts b ON a.supply_point_id = b.supply_point_id AND a.id < b.id
      WHERE tstzrange(a.valid_from, a.valid_to) && tstzrange(b.valid_from, b.valid_to)`,
  );
  assert.equal(overlaps, 0);
  // Each contract that ends is followed by the next one on the same day, except the last one of a vacant point.
  const gaps = await count(
    db,
    `SELECT 1 FROM contracts a
      WHERE a.valid_to IS NOT NULL
        AND EXISTS (SELECT 1 FROM contracts l WHERE l.supply_point_id = a.supply_point_id AND l.valid_from > a.valid_from)
        AND NOT EXISTS (SELECT 1 FROM contracts b WHERE b.supply_point_id = a.supply_point_id AND b.valid_from = a.valid_to)`,
  );
  assert.equal(gaps, 0);
  assert.equal(await count(db, 'SELECT supply_point_id FROM contracts WHERE valid_to IS NULL GROUP BY 1 HAVING count(*) > 1'), 0);
});

test('the affiliated retailer holds 60–85% of current supply; there are vacant and last-resort points', async () => {
  const share = await one<{ share: number }>(
    db,
    `SELECT avg((retailer_code = 'A0001')::int)::float8 AS share FROM contracts
      WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1) AND NOT last_resort`,
    [NOW],
  );
  assert.ok(share.share >= 0.6 && share.share <= 0.85, `affiliated share ${share.share}`);
  const vacant = await count(
    db,
    `SELECT 1 FROM supply_points sp
      WHERE NOT EXISTS (SELECT 1 FROM contracts c WHERE c.supply_point_id = sp.id AND c.valid_from <= $1 AND (c.valid_to IS NULL OR c.valid_to > $1))`,
    [NOW],
  );
  assert.ok(vacant >= 1 && vacant < SIZE * 0.1, `vacant ${vacant}`);
  const lastResort = await count(db, `SELECT 1 FROM contracts WHERE last_resort AND valid_from <= $1 AND valid_to IS NULL`, [NOW]);
  assert.ok(lastResort >= 1 && lastResort < SIZE * 0.05, `last resort ${lastResort}`);
  // Last-resort supply is by the network operator, and only that.
  assert.equal(await count(db, `SELECT 1 FROM contracts WHERE last_resort <> (retailer_code = 'NW000')`), 0);
  // Some supply points switched, some moved (a new holder).
  assert.ok((await count(db, `SELECT 1 FROM contracts WHERE retailer_code LIKE 'R%'`)) > 0);
  assert.ok((await count(db, `SELECT supply_point_id FROM contracts GROUP BY 1 HAVING count(DISTINCT customer_id) > 1`)) > 0);
});

test('about 150 retailers, exactly one affiliated (A0001), and the last-resort supplier', async () => {
  assert.ok(summary.retailers >= 140 && summary.retailers <= 160, `retailers ${summary.retailers}`);
  const { rows } = await db.query<{ code: string; name: string }>('SELECT code, name FROM retailers WHERE affiliated');
  assert.deepEqual(rows, [{ code: 'A0001', name: '北日本電力株式会社' }]);
  const lr = await one<{ affiliated: boolean }>(db, `SELECT affiliated FROM retailers WHERE code = 'NW000'`);
  assert.equal(lr.affiliated, false);
  assert.equal(await count(db, 'SELECT DISTINCT name FROM retailers'), summary.retailers);
  const settings = await db.query<{ key: string; value: unknown }>('SELECT key, value FROM settings ORDER BY key');
  const byKey = new Map(settings.rows.map((r) => [r.key, r.value]));
  assert.equal(byKey.get('affiliated_retailer'), 'A0001');
  assert.equal(byKey.get('area_code'), '02');
  assert.deepEqual(byKey.get('demo_personas'), summary.personas);
});

test('customers are mostly individuals with kana and plausible phones; some corporates hold many points', async () => {
  const mix = await one<{ corporate: number }>(db, `SELECT avg((type = 'corporate')::int)::float8 AS corporate FROM customers`);
  assert.ok(mix.corporate > 0.06 && mix.corporate < 0.2, `corporate share ${mix.corporate}`);
  assert.equal(await count(db, `SELECT 1 FROM customers WHERE type = 'individual' AND name !~ '^\\S+ \\S+$'`), 0);
  assert.equal(await count(db, `SELECT 1 FROM customers WHERE name_kana IS NULL OR name_kana !~ '^[ァ-ヶー ]+$'`), 0);
  assert.equal(await count(db, `SELECT 1 FROM customers WHERE phone_digits <> regexp_replace(phone, '\\D', '', 'g') OR phone_digits !~ '^0\\d{9,10}$'`), 0);
  const chain = await one<{ n: number }>(
    db,
    `SELECT max(n)::int AS n FROM (SELECT count(DISTINCT supply_point_id) AS n FROM contracts c JOIN customers cu ON cu.id = c.customer_id WHERE cu.type = 'corporate' GROUP BY cu.id) q`,
  );
  assert.ok(chain.n >= 20, `largest corporate holds ${chain.n} points`);
});

test('address_text is formatAddress of the parts, and supply point details are plausible', async () => {
  const { rows } = await db.query<{
    postal_code: string;
    prefecture: string;
    city: string;
    town: string;
    street: string;
    building: string | null;
    address_text: string;
  }>('SELECT postal_code, prefecture, city, town, street, building, address_text FROM supply_points ORDER BY md5(id) LIMIT 300');
  for (const r of rows) {
    const text = formatAddress({ postalCode: r.postal_code, prefecture: r.prefecture, city: r.city, town: r.town, street: r.street, building: r.building });
    assert.equal(r.address_text, text);
    assert.match(r.postal_code, /^\d{3}-\d{4}$/);
    assert.match(r.prefecture, /^(青森|岩手|宮城|秋田|山形|福島|新潟)県$/);
    assert.match(r.town, /丁目$/);
    assert.match(r.street, /^\d+番\d+号$/);
  }
  const buildings = await one<{ share: number }>(db, `SELECT avg((building IS NOT NULL)::int)::float8 AS share FROM supply_points`);
  assert.ok(buildings.share > 0.15 && buildings.share < 0.35, `building share ${buildings.share}`);
  assert.equal(await count(db, `SELECT 1 FROM supply_points WHERE meter_id !~ '^M\\d{10}$' OR reading_day NOT BETWEEN 1 AND 28`), 0);
  assert.equal(await count(db, `SELECT 1 FROM supply_points WHERE cardinality(usage_kwh) <> 12 OR usage_last_month <> '2026-10-01'`), 0);
  assert.equal(await count(db, `SELECT 1 FROM supply_points WHERE NOT equipment <@ ARRAY['電気温水器','エコキュート','蓄熱暖房機','IHクッキングヒーター']`), 0);
});

test('the trigram indexes are back after the load', async () => {
  const { rows } = await db.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes WHERE indexname IN ('supply_points_address_trgm', 'customers_name_trgm') ORDER BY 1`,
  );
  assert.deepEqual(
    rows.map((r) => r.indexname),
    ['customers_name_trgm', 'supply_points_address_trgm'],
  );
});

test('all seven personas have a usable account and an assignment in force at now', async () => {
  const expected: Record<string, [userId: string, principalClass: string, side: Persona['side']]> = {
    'nw-call-centre': ['demo-nw-cc', 'network_call_centre', 'network'],
    'nw-service-centre': ['demo-nw-nsc', 'network_service_centre', 'network'],
    'retail-agent': ['demo-retail', 'affiliated_retail', 'retail'],
    'retail-contractor': ['demo-retail-ctr', 'affiliated_retail', 'retail'],
    'other-retailer': ['demo-other', 'other_retailer', 'other_retailer'],
    compliance: ['demo-compliance', 'network_compliance', 'network'],
    'access-admin': ['demo-admin', 'network_access_admin', 'network'],
  };
  assert.deepEqual(summary.personas.map((p) => p.key).sort(), Object.keys(expected).sort());
  for (const p of summary.personas) {
    const [userId, principalClass, side] = expected[p.key] ?? ['', '', 'network'];
    assert.equal(p.userId, userId);
    assert.equal(p.principalClass, principalClass);
    assert.equal(p.side, side);
    assert.ok(p.labelJa.length > 0 && p.labelEn.length > 0 && p.organization.length > 0);
    const account = await one<{ person_id: string; disabled_at: Date | null }>(db, 'SELECT person_id, disabled_at FROM accounts WHERE user_id = $1', [
      p.userId,
    ]);
    assert.equal(account.person_id, p.personId);
    assert.equal(account.disabled_at, null);
    const inForce = await db.query<{ side: string; duty: string; retailer_code: string | null; valid_from: Date }>(
      `SELECT side, duty, retailer_code, valid_from FROM staff_assignments
        WHERE person_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)`,
      [p.personId, NOW],
    );
    assert.equal(inForce.rows.length, 1, p.key);
    assert.equal(inForce.rows[0]?.side, side);
    assert.equal(new Date(inForce.rows[0]?.valid_from ?? 0).getTime(), new Date('2020-04-01T00:00:00+09:00').getTime());
  }
  const other = summary.personas.find((p) => p.key === 'other-retailer');
  const r0002 = await one<{ name: string }>(db, `SELECT name FROM retailers WHERE code = 'R0002'`);
  assert.equal(other?.organization, r0002.name, 'the other-retailer persona works for the biggest new entrant');
});

test('staff: transfers close the old assignment on the day the new one starts; leavers are disabled; two terminals are misplaced', async () => {
  // At most one assignment in force per person at any moment.
  assert.equal(
    await count(
      db,
      `SELECT 1 FROM staff_assignments a JOIN staff_assignments b ON a.person_id = b.person_id AND a.id < b.id
        WHERE tstzrange(a.valid_from, a.valid_to) && tstzrange(b.valid_from, b.valid_to)`,
    ),
    0,
  );
  const transfers = await count(
    db,
    `SELECT 1 FROM staff_assignments a JOIN staff_assignments b ON a.person_id = b.person_id AND b.valid_from = a.valid_to AND a.side <> b.side`,
  );
  assert.ok(transfers >= 3, `transfers ${transfers}`);
  const leavers = await count(
    db,
    `SELECT 1 FROM persons p WHERE NOT EXISTS (SELECT 1 FROM staff_assignments s WHERE s.person_id = p.id AND (s.valid_to IS NULL OR s.valid_to > $1))
        AND EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = p.id AND a.disabled_at IS NOT NULL)`,
    [NOW],
  );
  assert.ok(leavers >= 2, `leavers ${leavers}`);
  assert.equal(await count(db, `SELECT 1 FROM terminals WHERE id !~ '^T\\d{5}$'`), 0);
  const misplaced = await count(
    db,
    `SELECT 1 FROM terminals t WHERE t.setting = 'network'
        AND EXISTS (SELECT 1 FROM terminals r WHERE r.office = t.office AND r.setting = 'retail')`,
  );
  assert.equal(misplaced, 2);
});

test('people side for governance: personas log in from their own registered terminal and hold their duty’s grants; legacy IDs are dormant; the reconciliation finds the misplaced terminals', async () => {
  const { listAccounts } = await import('../../src/identity/lifecycle.ts');
  const { reconcileTerminals } = await import('../../src/identity/terminals.ts');
  const personas = summary.personas;
  for (const p of personas) {
    const grants = (
      await db.query<{ permission_id: string }>(`SELECT permission_id FROM grants WHERE user_id = $1 AND status = 'approved' ORDER BY permission_id`, [
        p.userId,
      ])
    ).rows.map((r) => r.permission_id);
    assert.ok(grants.includes('customer.read'), `${p.userId} can look customers up`);
    if (p.side !== 'network')
      assert.ok(
        grants.every((g) => g === 'customer.read' || g === 'emergency.support'),
        `${p.userId}: ${grants.join(',')}`,
      );
    if (p.side === 'other_retailer') assert.equal(p.terminalId, null);
    else {
      const t = await one<{ setting: string; site_side: string; organization_id: string }>(
        db,
        'SELECT setting, site_side, organization_id FROM terminals WHERE id = $1',
        [p.terminalId],
      );
      assert.equal(t.setting, p.side === 'network' ? 'network' : 'retail');
      assert.equal(t.site_side, p.side === 'network' ? 'network' : 'retail');
    }
  }
  const nsc = (await db.query<{ permission_id: string }>(`SELECT permission_id FROM grants WHERE user_id = 'demo-nw-nsc'`)).rows.map((r) => r.permission_id);
  assert.ok(nsc.includes('network.equipment'));
  const accounts = await listAccounts(db, NOW, 90, { limit: 100_000 });
  assert.ok(
    accounts.filter((a) => personas.some((p) => p.userId === a.userId)).every((a) => !a.dormant),
    'personas logged in recently',
  );
  const dormant = accounts.filter((a) => a.dormant);
  assert.ok(
    dormant.length >= 1 && dormant.every((a) => a.orphan),
    `dormant ${dormant.map((a) => a.userId).join(',')}: only legacy IDs of people who left, never disabled (F2)`,
  );
  const r = await reconcileTerminals(db, NOW, 90);
  assert.equal(r.misplaced.length, 2);
});

test('emergency history: the retail agent is registered support staff, and last month’s confirmed, ended typhoon waits for its review', async () => {
  const personas = summary.personas as readonly Persona[];
  const agent = personas.find((p) => p.key === 'retail-agent');
  assert.ok(agent !== undefined);
  const reg = await registrationAt(db, agent.personId, NOW);
  assert.deepEqual([...(reg?.fields ?? [])].sort(), ['address', 'holder_name', 'phone']);
  const loaded = await loadDeclaration(db, 'EM-00001');
  assert.ok(loaded !== null);
  const w = windowOf(loaded.declaration, loaded.lines);
  assert.ok(
    w !== null && w.to.getTime() < NOW.getTime() && !inForce(loaded.declaration, NOW, loaded.lines),
    'confirmed, and over by now: nothing is open in the demo',
  );
  assert.deepEqual(loaded.declaration.areas, [{ kind: 'prefecture', prefecture: AREAS['02'].prefectures[0]?.name }]);
  assert.equal(anyInForce(await declarationsInForce(db, NOW), NOW), false);
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const personaOf = (key: string): Persona => summary.personas.find((p) => p.key === key) ?? assert.fail(`no persona ${key}`);

test('a month of inquiries: mostly answered at once, the rest by the service centre, a few refused, about nine in the queue now', async () => {
  const byStatus = Object.fromEntries(
    (await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM inquiries GROUP BY 1')).rows.map((r) => [r.status, r.n]),
  );
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  assert.equal(total, summary.inquiries);
  assert.ok(total >= 200 && total <= 500, `inquiries ${total}`);
  assert.ok((byStatus['answered'] ?? 0) >= 0.85 * total, `answered ${byStatus['answered']} of ${total}`);
  const queue = (byStatus['open'] ?? 0) + (byStatus['asked_back'] ?? 0);
  assert.equal(queue, summary.inquiryQueue);
  assert.ok(queue >= 5 && queue <= 10, `in the queue now ${queue}`);
  assert.ok((byStatus['asked_back'] ?? 0) >= 1, 'one waits on its requester');
  assert.ok((byStatus['withdrawn'] ?? 0) <= 10);
  const refusals = Object.fromEntries(
    (
      await db.query<{ code: string; n: number }>(`SELECT refusal_code AS code, count(*)::int AS n FROM inquiries WHERE status = 'refused' GROUP BY 1`)
    ).rows.map((r) => [r.code, r.n]),
  );
  const atIntake = (refusals['consent_expired'] ?? 0) + (refusals['consent_other_customer'] ?? 0);
  assert.ok(atIntake >= 2 && atIntake <= 15, `consents refused at intake ${atIntake}`);
  assert.ok((refusals['service_centre'] ?? 0) >= 2 && (refusals['service_centre'] ?? 0) <= 20, `refused in words ${refusals['service_centre']}`);
  assert.ok(
    Object.keys(refusals).every((c) => ['consent_expired', 'consent_other_customer', 'service_centre'].includes(c)),
    Object.keys(refusals).join(','),
  );
  assert.equal(
    await count(db, `SELECT 1 FROM inquiries WHERE status = 'refused' AND (refusal_reason IS NULL OR length(refusal_reason) < 10)`),
    0,
    'every refusal says why in words',
  );
  const atOnce = await count(db, `SELECT 1 FROM inquiries WHERE status = 'answered' AND cardinality(queued) = 0 AND cardinality(at_once) > 0`);
  const fromQueue = await count(
    db,
    `SELECT 1 FROM inquiries WHERE status = 'answered' AND cardinality(queued) > 0 AND closed_by = 'demo-nw-nsc' AND closed_at > created_at AND released <@ queued`,
  );
  assert.ok(atOnce >= 0.4 * total, `answered at once ${atOnce} of ${total}`);
  assert.ok(fromQueue >= 30, `answered from the queue ${fromQueue}`);
  assert.equal(
    await count(db, `SELECT 1 FROM inquiries WHERE status = 'answered' AND cardinality(queued) > 0 AND closed_by IS DISTINCT FROM 'demo-nw-nsc'`),
    0,
    'the service centre persona answered the queue',
  );
  const cases = Object.fromEntries(
    (await db.query<{ case_type: CaseType; n: number }>('SELECT case_type, count(*)::int AS n FROM inquiries GROUP BY 1')).rows.map((r) => [r.case_type, r.n]),
  );
  assert.deepEqual(Object.keys(cases).sort(), ['construction', 'move_in', 'other', 'outage_contact', 'switching']);
  assert.ok((cases['switching'] ?? 0) > total / 2, 'mostly switching');
  assert.ok((await count(db, 'SELECT DISTINCT batch_id FROM inquiries WHERE batch_id IS NOT NULL')) >= 1, 'some came in a batch');
  // All in the 30 days before now, closed before now, and the service levels as the service sets them.
  assert.equal(
    await count(db, `SELECT 1 FROM inquiries WHERE created_at < $1 OR created_at >= $2 OR closed_at > $2`, [new Date(NOW.getTime() - 30 * DAY), NOW]),
    0,
  );
  const dues = await db.query<{ case_type: CaseType; created_at: Date; due_at: Date; waiting_ms: string }>(
    'SELECT case_type, created_at, due_at, waiting_ms FROM inquiries WHERE cardinality(queued) > 0',
  );
  for (const r of dues.rows)
    assert.equal(new Date(r.due_at).getTime(), new Date(r.created_at).getTime() + SERVICE_LEVEL_HOURS[r.case_type] * HOUR + Number(r.waiting_ms));
  assert.equal(await count(db, `SELECT 1 FROM inquiries WHERE (cardinality(queued) = 0) <> (due_at IS NULL)`), 0);
  const next = await one<{ last_value: string }>(db, 'SELECT last_value FROM inquiry_no');
  assert.equal(Number(next.last_value), total, 'the next inquiry asked follows the history');
});

test('inquiries come from the affiliated retailer and several rivals, by their own staff in force, about supply points not their own', async () => {
  const retailers = (await db.query<{ code: string; n: number }>('SELECT retailer_code AS code, count(*)::int AS n FROM inquiries GROUP BY 1')).rows;
  const affiliated = retailers.find((r) => r.code === 'A0001');
  assert.ok(affiliated !== undefined && affiliated.n >= 50, `affiliated ${affiliated?.n}`);
  const others = retailers.filter((r) => r.code !== 'A0001');
  assert.ok(others.length >= 3 && others.every((r) => /^R\d{4}$/.test(r.code)), others.map((r) => r.code).join(','));
  assert.ok(others.reduce((n, r) => n + r.n, 0) > affiliated.n, 'the new entrants ask more');
  for (const key of ['retail-agent', 'other-retailer'])
    assert.ok((await count(db, 'SELECT 1 FROM inquiries WHERE requested_by = $1', [personaOf(key).userId])) >= 10, `${key} asked`);
  // The requester's account and assignment at that retailer were in force when they asked.
  assert.equal(
    await count(
      db,
      `SELECT 1 FROM inquiries i
        WHERE NOT EXISTS (SELECT 1 FROM accounts a JOIN staff_assignments s ON s.person_id = a.person_id
                           WHERE a.user_id = i.requested_by AND a.person_id = i.requested_by_person
                             AND a.created_at <= i.created_at AND (a.disabled_at IS NULL OR a.disabled_at > i.created_at)
                             AND s.retailer_code = i.retailer_code AND s.side <> 'network'
                             AND s.valid_from <= i.created_at AND (s.valid_to IS NULL OR s.valid_to > i.created_at))`,
    ),
    0,
  );
  // Each about a rival's customer: the point's retailer when asked is not the requester's.
  assert.equal(
    await count(
      db,
      `SELECT 1 FROM inquiries i WHERE NOT EXISTS (SELECT 1 FROM contracts c WHERE c.supply_point_id = i.supply_point_id
          AND c.valid_from <= i.created_at AND (c.valid_to IS NULL OR c.valid_to > i.created_at) AND c.retailer_code <> i.retailer_code)`,
    ),
    0,
  );
});

test("every answered inquiry's consent names the holder as stored, then and now (a move-in's, the incoming occupant), and holds past now; refused ones do not hold", async () => {
  const holderAt = (t: string) => `(SELECT cu.name FROM contracts c JOIN customers cu ON cu.id = c.customer_id
      WHERE c.supply_point_id = i.supply_point_id AND c.valid_from <= ${t} AND (c.valid_to IS NULL OR c.valid_to > ${t}))`;
  const { rows } = await db.query<{
    id: string;
    case_type: CaseType;
    status: string;
    refusal_code: string | null;
    name: string | null;
    method: string | null;
    reference: string | null;
    given: Date | null;
    until: Date | null;
    created_at: Date;
    then: string | null;
    now: string | null;
  }>(
    `SELECT i.id, i.case_type, i.status, i.refusal_code, i.consent_customer_name AS name, i.consent_method AS method, i.consent_reference AS reference,
            i.consent_given_at AS given, i.consent_valid_until AS until, i.created_at, ${holderAt('i.created_at')} AS then, ${holderAt('$1')} AS now
       FROM inquiries i`,
    [NOW],
  );
  const answered = rows.filter((r) => r.status === 'answered');
  const withConsent = answered.filter((r) => r.name !== null);
  assert.ok(withConsent.length >= 0.9 * answered.length, `${withConsent.length} of ${answered.length} answered with a consent`);
  for (const r of withConsent) {
    if (CONSENT_FROM[r.case_type] === 'holder') {
      assert.ok(r.then !== null && normalizedName(r.name ?? '') === normalizedName(r.then), `${r.id}: ${r.name} vs ${r.then}`);
      assert.equal(r.now, r.then, `${r.id}: the same holder now, so reading the answer again holds`);
    } else assert.notEqual(normalizedName(r.name ?? ''), normalizedName(r.then ?? ''), `${r.id}: a move-in's consent is the newcomer's own`);
    assert.ok(new Date(r.given ?? 0) <= new Date(r.created_at) && new Date(r.until ?? 0) > NOW, r.id);
    assert.match(r.reference ?? '', /^(同意書No\.\d{4}-\d{6}|録音ID \d{8}-\d{6}-\d{3}|Web受付 W\d{14})$/);
  }
  assert.ok(
    withConsent.some((r) => CONSENT_FROM[r.case_type] === 'holder' && r.name !== r.then),
    'some are written as people write them (a full-width space, or none) and still hold',
  );
  assert.ok(
    withConsent.some((r) => r.case_type === 'move_in'),
    'move-ins answered by the service centre',
  );
  assert.ok(
    answered.some((r) => r.name === null),
    'a few came without a consent (nothing non-public given)',
  );
  for (const r of rows.filter((x) => x.refusal_code === 'consent_other_customer'))
    assert.notEqual(normalizedName(r.name ?? ''), normalizedName(r.then ?? ''), r.id);
  for (const r of rows.filter((x) => x.refusal_code === 'consent_expired')) assert.ok(new Date(r.until ?? 0) <= new Date(r.created_at), r.id);
});

test('the history of each inquiry: asked first, answered at once, asked back and replied, answered or refused by the service centre', async () => {
  const nsc = personaOf('nw-service-centre');
  const { rows } = await db.query<{
    id: string;
    status: string;
    at_once: string[];
    queued: string[];
    released: string[];
    kinds: string[];
    bys: (string | null)[];
  }>(
    `SELECT i.id, i.status, i.at_once, i.queued, i.released, array_agg(e.kind ORDER BY e.id) AS kinds, array_agg(e.by_user ORDER BY e.id) AS bys
       FROM inquiries i JOIN inquiry_events e ON e.inquiry_id = i.id GROUP BY i.id`,
  );
  assert.equal(rows.length, summary.inquiries, 'every inquiry has its history');
  const seen = new Set<string>();
  for (const r of rows) {
    assert.equal(r.kinds[0], 'asked', r.id);
    if (r.at_once.length > 0 && r.status !== 'refused') assert.equal(r.kinds[1], 'answered_at_once', r.id);
    for (const [k, kind] of r.kinds.entries()) {
      seen.add(kind);
      if (['asked_back', 'answered'].includes(kind) || (kind === 'refused' && r.queued.length > 0)) assert.equal(r.bys[k], nsc.userId, `${r.id} ${kind}`);
    }
    if (r.kinds.includes('replied')) assert.ok(r.kinds.indexOf('replied') === r.kinds.indexOf('asked_back') + 1, r.id);
    const last = r.kinds[r.kinds.length - 1];
    if (r.status === 'answered' && r.queued.length > 0) assert.equal(last, 'answered', r.id);
    if (r.status === 'withdrawn') assert.equal(last, 'withdrawn', r.id);
    if (r.status === 'asked_back') assert.equal(last, 'asked_back', r.id);
  }
  assert.deepEqual([...seen].sort(), ['answered', 'answered_at_once', 'asked', 'asked_back', 'refused', 'replied', 'withdrawn']);
  assert.equal(await count(db, `SELECT 1 FROM inquiry_events WHERE at > $1`, [NOW]), 0);
  assert.equal(await count(db, `SELECT 1 FROM inquiries i WHERE EXISTS (SELECT 1 FROM inquiry_events e WHERE e.inquiry_id = i.id AND e.at < i.created_at)`), 0);
  // History rows only: no read went through the firewall to make them (the access log starts empty).
  assert.equal(await count(db, 'SELECT 1 FROM access_log'), 0);
});

test('in the console: the service centre has a queue with late and due-soon work, the figures show no unequal treatment, the retail personas have unread notifications and can read their answers', async () => {
  const app = await testApp(db, { now: () => NOW });
  try {
    const as = async (key: string) => {
      const p = personaOf(key);
      const s = await login(app, p.userId, p.terminalId ?? undefined);
      return (url: string) => app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    };
    const nsc = await as('nw-service-centre');
    const queue = await nsc('/api/inquiries?scope=queue&limit=50');
    assert.equal(queue.statusCode, 200, queue.body);
    const q = queue.json<{ total: number; inquiries: { status: string; timeliness: string | null; retailerCode: string }[] }>();
    assert.equal(q.total, summary.inquiryQueue);
    const timeliness = q.inquiries.map((i) => i.timeliness);
    assert.ok(timeliness.includes('late') && timeliness.includes('due_soon') && timeliness.includes('on_time'), timeliness.join(','));
    assert.ok(q.inquiries.some((i) => i.retailerCode === 'A0001') && q.inquiries.some((i) => i.retailerCode !== 'A0001'));

    const eq = await nsc('/api/inquiries/equal-treatment');
    assert.equal(eq.statusCode, 200, eq.body);
    const figures = eq.json<{
      flags: unknown[];
      affiliated: { inquiries: number; answeredFromQueue: number } | null;
      others: { inquiries: number; answeredFromQueue: number };
      retailers: { retailerCode: string }[];
    }>();
    assert.deepEqual(figures.flags, [], 'the demo serves every retailer alike');
    assert.equal((figures.affiliated?.inquiries ?? 0) + figures.others.inquiries, summary.inquiries, 'the whole month is in the default period');
    assert.ok((figures.affiliated?.answeredFromQueue ?? 0) >= 10 && figures.others.answeredFromQueue >= 10, 'enough on both sides to compare');
    assert.ok(figures.retailers.length >= 4);

    for (const key of ['other-retailer', 'retail-agent']) {
      const get = await as(key);
      const n = await get('/api/notifications?unread=true');
      assert.equal(n.statusCode, 200, n.body);
      const unread = n.json<{ unread: number; notifications: { subjectId: string; kind: string }[] }>();
      assert.ok(unread.unread >= 1 && unread.unread <= 5, `${key}: ${unread.unread} unread`);
      assert.ok(unread.notifications.every((x) => x.kind.startsWith('inquiry.') && x.subjectId.startsWith('INQ-')));
      const mine = await get('/api/inquiries?scope=mine&status=answered&limit=100');
      const answered = mine.json<{ inquiries: { id: string; atOnce: string[]; queued: string[]; consent: unknown }[] }>().inquiries;
      const one = answered.find((i) => i.atOnce.length > 0 && i.queued.length === 0 && i.consent !== null) ?? assert.fail(`${key} has an answer`);
      const read = await get(`/api/inquiries/${one.id}/answer`);
      assert.equal(read.statusCode, 200, read.body);
      const fields = read.json<{ answer: { fields: Record<string, { shown: boolean }> } }>().answer.fields;
      for (const f of one.atOnce) assert.equal(fields[f]?.shown, true, `${key} ${one.id} ${f}: the consent still holds`);
    }
  } finally {
    await app.close();
  }
});

test('the same seed gives the same data on a fresh database', async () => {
  const again = await fresh();
  try {
    const a = await db.query(FIRST_FIVE, [NOW]);
    const b = await again.db.query(FIRST_FIVE, [NOW]);
    assert.equal(a.rows.length, 5);
    assert.deepEqual(b.rows, a.rows);
    const inquiries = `SELECT i.*, (SELECT array_agg(e.kind || e.at::text ORDER BY e.id) FROM inquiry_events e WHERE e.inquiry_id = i.id) AS events
                         FROM inquiries i ORDER BY i.id`;
    assert.deepEqual((await again.db.query(inquiries)).rows, (await db.query(inquiries)).rows);
    assert.deepEqual({ ...again.summary }, { ...summary });
  } finally {
    await again.db.close();
  }
});
