import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { listPartitions } from '../../src/audit/partitions.ts';
import { publicKeys } from '../../src/audit/signing.ts';
import { verifyStore } from '../../src/audit/store-verify.ts';
import { generateDemo } from '../../src/demo/generate.ts';
import { HISTORY_DAYS, isJapaneseHoliday, isWorkingDay, planHistory, seedDemoPast, type HistoryPlan, type HistorySummary } from '../../src/demo/history.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import { DAY_MS, japanDay } from '../../src/domain/japan-time.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { login, TEST_KEY, testApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import type { Exposure } from '../../src/contract/analysis.ts';

const NOW = new Date('2026-11-01T10:00:00+09:00');
const SEED = 2016;
const SIZE = 3000;
const table = compileDecisionTable();

let db: Db;
let planA: HistoryPlan;
let planB: HistoryPlan;
let planOtherSeed: HistoryPlan;
let seeded: HistorySummary & { findings: number };

type FindingRow = {
  rule: string;
  severity: string;
  subject_user_id: string | null;
  evidence: Record<string, unknown>;
};

async function findings(): Promise<FindingRow[]> {
  const { rows } = await db.query<FindingRow>(`SELECT rule, severity, subject_user_id, evidence FROM findings WHERE status <> 'resolved' ORDER BY id`);
  return rows.map((r) => ({ ...r, evidence: (typeof r.evidence === 'string' ? JSON.parse(r.evidence) : r.evidence) as Record<string, unknown> }));
}

before(async () => {
  db = await openPglite(null);
  await migrate(db);
  await generateDemo(db, { supplyPoints: SIZE, seed: SEED, now: NOW });
  planA = await planHistory(db, table, { seed: SEED, now: NOW, scale: 1 });
  planB = await planHistory(db, table, { seed: SEED, now: NOW, scale: 1 });
  planOtherSeed = await planHistory(db, table, { seed: SEED + 1, now: NOW, scale: 1 });
  const log = new GroupCommitLog(db, { key: TEST_KEY });
  seeded = await seedDemoPast(db, log, table, { seed: SEED, now: NOW, scale: 1 });
  await log.close();
});

after(async () => {
  await db?.close();
});

test('the quarter is the same for the same store, seed and instant, and another for another seed', () => {
  assert.deepEqual(planB, planA);
  assert.notDeepEqual(planOtherSeed.events, planA.events);
  assert.equal(seeded.events, planA.events.length, 'what was written is what was planned');
});

test('volumes: about thirteen thousand events over the 90 days before now, in time order, a few refused', () => {
  const events = planA.events;
  assert.ok(events.length >= 10_000 && events.length <= 30_000, `events ${events.length}`);
  const first = events[0]?.occurredAt.getTime() ?? 0;
  const last = events[events.length - 1]?.occurredAt.getTime() ?? 0;
  assert.ok(first >= NOW.getTime() - (HISTORY_DAYS + 1) * DAY_MS && last < NOW.getTime(), 'inside the quarter, in the past');
  for (let i = 1; i < events.length; i++)
    assert.ok((events[i]?.occurredAt.getTime() ?? 0) >= (events[i - 1]?.occurredAt.getTime() ?? 0), `event ${i} out of order`);
  const refused = events.filter((e) => e.outcome === 'refused').length;
  assert.ok(refused > 0 && refused < events.length * 0.03, `refused ${refused}`);
  // Weekends and holidays quiet: the working days carry nearly all of it.
  const offDays = events.filter((e) => !isWorkingDay(japanDay(e.occurredAt))).length;
  assert.ok(offDays < events.length * 0.01, `reads on days off ${offDays}`);
});

test('the events are what the firewall decides: retail agents never see non-public items of other retailers’ customers', () => {
  let ownShown = 0;
  for (const e of planA.events) {
    if (e.principalClass !== 'affiliated_retail' || e.outcome !== 'served' || e.emergencyId !== null) continue;
    for (const r of e.records) {
      if (r.relation === 'own') ownShown += r.shown.includes('holder_name') ? 1 : 0;
      else assert.ok(!r.shown.includes('holder_name') && !r.shown.includes('phone'), `retail read of ${r.relation} showed ${r.shown.join(',')}`);
      assert.equal(e.policyVersion, table.version);
    }
  }
  assert.ok(ownShown > 100, 'their own customers are shown');
});

test('the stored log verifies: chain and seals, with past months in their partitions', async () => {
  const r = await verifyStore(db, { keys: publicKeys([TEST_KEY.publicKeyPem]) });
  assert.ok(r.ok, `verify: ${JSON.stringify(r.firstBreak)}`);
  assert.equal(r.lastSeq, seeded.events);
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log WHERE occurred_at >= $1', [NOW]);
  assert.equal(rows[0]?.n, 0, 'nothing in the future');
  const months = (await listPartitions(db)).filter((p) => p.events > 0).map((p) => p.month);
  assert.deepEqual(months, ['2026-08', '2026-09', '2026-10']);
  const order = await db.query<{ bad: number }>(
    'SELECT count(*)::int AS bad FROM (SELECT occurred_at < lag(occurred_at) OVER (ORDER BY seq) AS back FROM access_log) q WHERE back',
  );
  assert.equal(order.rows[0]?.bad, 0, 'occurredAt follows seq');
});

test('the scan finds the Tohoku-shaped bulk reader — and bulk reading by nobody else', async () => {
  const all = await findings();
  const bulk = all.filter((f) => f.rule === 'bulk_reading');
  assert.deepEqual(
    bulk.map((f) => f.subject_user_id),
    [planA.planted.bulkReader.userId],
    'only the planted reader reads in bulk; ordinary agents do not',
  );
  assert.equal(bulk[0]?.severity, 'high');
  assert.ok(planA.planted.bulkReader.days.includes(String(bulk[0]?.evidence['peakDay'])), 'the peak is one of the planted days');
});

test('the scan finds the Kyushu-shaped contractor staff reading other retailers’ customers, and no one else', async () => {
  const all = await findings();
  const reads = all.filter((f) => f.rule === 'other_customer_read');
  assert.deepEqual(reads.map((f) => f.subject_user_id).sort(), planA.planted.contractors.map((c) => c.userId).sort());
  for (const f of reads) {
    assert.equal(f.evidence['employment'], 'contractor');
    assert.ok(Number(f.evidence['views']) > 20, `views ${String(f.evidence['views'])}`);
  }
});

test('the scan finds the misplaced terminal the bulk reader used, high because it was used', async () => {
  const all = await findings();
  const misplaced = all.filter((f) => f.rule === 'misplaced_terminal');
  const used = misplaced.find((f) => f.evidence['terminalId'] === planA.planted.bulkReader.terminalId);
  assert.ok(used !== undefined, 'a finding for the terminal');
  assert.equal(used.severity, 'high');
  assert.ok(Number(used.evidence['reads']) > 1000 && Number(used.evidence['users']) >= 2, JSON.stringify(used.evidence));
  assert.deepEqual(misplaced.map((f) => f.evidence['terminalId']).sort(), [...planA.planted.misplacedTerminals].sort());
  // Nothing else that would make every agent a suspect.
  assert.deepEqual(
    all.filter((f) => f.rule === 'off_hours' || f.rule === 'probing' || f.rule === 'account_without_person'),
    [],
  );
  assert.equal(seeded.findings, all.length);
});

test('the compliance officer sees them in the findings queue through the API', async () => {
  const app = await testApp(db, { now: () => NOW });
  try {
    const s = await login(app, 'demo-compliance');
    const res = await app.inject({ method: 'GET', url: '/api/findings?open=true&limit=100', headers: { cookie: s.cookie } });
    assert.equal(res.statusCode, 200, res.body);
    const rules = new Set(res.json<{ findings: { rule: string }[] }>().findings.map((f) => f.rule));
    for (const r of ['bulk_reading', 'other_customer_read', 'misplaced_terminal']) assert.ok(rules.has(r), `${r} in the queue`);
  } finally {
    await app.close();
  }
});

test('the exposure report of last month shows the typhoon emergency with its registered people and every read made under it (issue 22)', async () => {
  const app = await testApp(db, { now: () => NOW });
  try {
    const s = await login(app, 'demo-compliance');
    // The analysis screen's default period: the last 30 days (web/src/analysis-page.tsx).
    const from = japanDay(new Date(NOW.getTime() - 30 * DAY_MS));
    const to = japanDay(NOW);
    const res = await app.inject({ method: 'GET', url: `/api/analysis/exposure?from=${from}&to=${to}`, headers: { cookie: s.cookie } });
    assert.equal(res.statusCode, 200, res.body);
    const x = res.json<Exposure>();
    const typhoon = x.emergencies.find((e) => e.reason.includes('台風'));
    assert.ok(typhoon !== undefined, `the typhoon in ${x.emergencies.map((e) => e.reason).join(', ')}`);
    // Every event the log holds under the declaration is counted (one read per event: a look-up), and the
    // support staff registered for it are named with their fields.
    const logged = await db.query<{ n: number; points: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT supply_point_ids[1])::int AS points FROM access_log WHERE emergency_id = $1`,
      [typhoon.declarationId],
    );
    assert.ok((logged.rows[0]?.n ?? 0) > 0, 'the demo read under the typhoon');
    assert.equal(typhoon.reads, logged.rows[0]?.n);
    assert.ok(typhoon.views > 0 && typhoon.views <= typhoon.reads && typhoon.viewers >= 1);
    assert.ok(typhoon.people.length > 0 && typhoon.people.every((p) => p.fields.length > 0));
    assert.ok(typhoon.first !== null && Date.parse(typhoon.first) >= Date.parse(typhoon.from) && Date.parse(typhoon.last ?? '') <= Date.parse(typhoon.to));
    // The Kyushu-shaped contractors: served as network staff (HR told late), on the retail side by the register
    // as corrected — the only people the firewall served other retailers' customers' non-public items to.
    assert.deepEqual(x.people.map((p) => p.userId).sort(), planA.planted.contractors.map((c) => c.userId).sort());
    for (const p of x.people) assert.deepEqual(p.decidedSides, ['network'], p.userId);
    // The policy version decided them all and would not have allowed them: the register did.
    assert.deepEqual(
      x.policies.map((p) => [p.current, p.allowed, p.views]),
      [[true, false, x.people.reduce((n, p) => n + p.views, 0)]],
    );
  } finally {
    await app.close();
  }
});

test('`gridwall demo` writes the history through the writer with the deployment key, and `gridwall audit verify` says OK', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-demo-history-'));
  const { DATABASE_URL: _unset, ...baseEnv } = process.env;
  const env = { ...baseEnv, GRIDWALL_DATA_DIR: dir };
  try {
    const demo = await runCli(['demo', '--supply-points', '300'], { env });
    assert.equal(demo.status, 0, demo.stderr);
    const m = /, (\d+) access-log events \(\d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}\), (\d+) findings queued/.exec(demo.stdout);
    assert.ok(m !== null, demo.stdout);
    assert.ok(Number(m[1]) > 1000 && Number(m[2]) >= 3, demo.stdout);
    const verify = await runCli(['audit', 'verify'], { env });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, new RegExp(`^audit verify: OK — embedded store .*: ${Number(m[1]).toLocaleString('en')} events`, 'm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Japanese calendar: 2024, 2025 and 2026 public holidays as the Cabinet Office lists them', () => {
  const holidays = (year: number) => {
    const out: string[] = [];
    for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += DAY_MS) {
      const ymd = new Date(t).toISOString().slice(0, 10);
      if (isJapaneseHoliday(ymd)) out.push(ymd.slice(5));
    }
    return out;
  };
  assert.deepEqual(holidays(2026), [
    '01-01',
    '01-12',
    '02-11',
    '02-23',
    '03-20',
    '04-29',
    '05-03',
    '05-04',
    '05-05',
    '05-06',
    '07-20',
    '08-11',
    '09-21',
    '09-22',
    '09-23',
    '10-12',
    '11-03',
    '11-23',
  ]);
  assert.deepEqual(holidays(2024), [
    '01-01',
    '01-08',
    '02-11',
    '02-12',
    '02-23',
    '03-20',
    '04-29',
    '05-03',
    '05-04',
    '05-05',
    '05-06',
    '07-15',
    '08-11',
    '08-12',
    '09-16',
    '09-22',
    '09-23',
    '10-14',
    '11-03',
    '11-04',
    '11-23',
  ]);
  assert.deepEqual(holidays(2025), [
    '01-01',
    '01-13',
    '02-11',
    '02-23',
    '02-24',
    '03-20',
    '04-29',
    '05-03',
    '05-04',
    '05-05',
    '05-06',
    '07-21',
    '08-11',
    '09-15',
    '09-23',
    '10-13',
    '11-03',
    '11-23',
    '11-24',
  ]);
});

test('property: every year has its fixed holidays, 16 to 22 holidays in all (2024 had 21), and 236 to 250 working days', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2000, max: 2099 }), (year) => {
      let holidays = 0;
      let working = 0;
      for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += DAY_MS) {
        const d = new Date(t);
        const ymd = d.toISOString().slice(0, 10);
        const holiday = isJapaneseHoliday(ymd);
        if (holiday) holidays++;
        if (isWorkingDay(ymd)) {
          working++;
          assert.ok(!holiday && d.getUTCDay() !== 0 && d.getUTCDay() !== 6, `${ymd} is a working day`);
        }
      }
      for (const md of ['01-01', '02-11', '04-29', '05-03', '05-04', '05-05', '08-11', '11-03', '11-23'])
        assert.ok(isJapaneseHoliday(`${year}-${md}`), `${year}-${md}`);
      assert.ok(holidays >= 16 && holidays <= 22, `${year}: ${holidays} holidays`);
      assert.ok(working >= 236 && working <= 250, `${year}: ${working} working days`);
    }),
    { numRuns: 100 },
  );
});
