import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { dailyDigest, liveReport, liveReportAndExposure, scanLive } from '../../src/analysis/review.ts';
import { compileDecisionTable, type DecisionTable } from '../../src/domain/decision-table.ts';
import type { Decision } from '../../src/domain/decision.ts';
import { listFindings } from '../../src/analysis/findings.ts';
import { login, seededApp, TEST_KEY, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import type { Exposure } from '../../src/contract/analysis.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { accessEvent } from '../support/access-events.ts';

const DAY = '2026-11-01'; // NOW in Japan time

/**
 * The same report and rules over gridwall's own log: reads made through the real API are what the analysis
 * sees. The firewall masks what the retail side may not see, so the regulator's "views" stay at zero; the
 * emergency read is counted apart; refusals, the misplaced terminal and emergency attempts are findings.
 */
for (const store of STORES) {
  describe(`analysis of gridwall's own log on ${store.name}`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now }, seedEmergencyRoles);
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    const post = (s: Session, url: string, payload: Record<string, unknown> = {}) =>
      w.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    const put = (s: Session, url: string, payload: Record<string, unknown>) =>
      w.app.inject({ method: 'PUT', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });

    before(async () => {
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      // Own customer, other retailers' customers (masked), all through the firewall.
      for (const sp of [SP.OWN_A, SP.SWITCHED, SP.R3])
        assert.equal((await get(retail, `/api/supply-points/${sp}?purpose=own_customer_service`)).statusCode, 200);
      // Registered as support staff, an emergency-support attempt with no emergency declared: refused, a finding.
      assert.equal((await put(await login(w.app, USERS.admin), '/api/emergency-support/p-retail', { fields: ['holder_name', 'phone'] })).statusCode, 200);
      assert.equal((await get(retail, `/api/supply-points/${SP.R3}?purpose=emergency_support&reason=test`)).json().error.code, 'no_active_emergency');
      // A declared, confirmed emergency, and a read under it.
      const cc = await login(w.app, USERS.callCentre);
      const d = (
        await post(cc, '/api/emergencies', {
          areas: [{ kind: 'prefecture', prefecture: '宮城県' }],
          startsAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
          plannedEndAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
          reason: '台風',
        })
      ).json<{ id: string }>();
      assert.equal((await post(await login(w.app, USERS.serviceCentre), `/api/emergencies/${d.id}/confirm`)).statusCode, 200);
      assert.equal(
        (await get(retail, `/api/supply-points/${SP.SWITCHED}?purpose=emergency_support&reason=${encodeURIComponent('停電の連絡')}`)).statusCode,
        200,
      );
      // A network-set terminal standing in a retail office, used.
      const misplaced = await login(w.app, USERS.retail, TERMINALS.MISPLACED);
      assert.equal((await get(misplaced, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`)).statusCode, 200);
      // Probing: an administrator without customer.read tries twelve records in a row.
      const admin = await login(w.app, USERS.admin);
      for (let i = 0; i < 12; i++) assert.equal((await get(admin, `/api/supply-points/${SP.R3}?purpose=audit_review`)).statusCode, 403);
    });

    test('the regulator’s tables over the live log: no views of others’ customers get through; the emergency read is counted apart', async () => {
      const r = await liveReport(w.db, { from: DAY, to: DAY });
      assert.equal(r.total.views.total, 0, 'the firewall masked them: nothing to report');
      assert.equal(r.total.emergencyViews, 1);
      assert.equal(r.rows.read, r.rows.used);
      const { rows } = await w.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_log`);
      // Three own-customer reads, the refused emergency attempt, the emergency read, the misplaced terminal's
      // read and twelve probes: 18 events, one supply point each.
      assert.equal(rows[0]?.n, 18);
      assert.equal(r.rows.read, 18, 'every event is read (one row per supply point)');
      const rules = r.findings.map((f) => `${f.rule} ${f.subject} ${f.severity}`).sort();
      assert.deepEqual(rules, [
        `emergency_outside_window user:${USERS.retail} high`,
        `misplaced_terminal terminal:${TERMINALS.MISPLACED} high`,
        `probing user:${USERS.admin} medium`,
      ]);
    });

    test('a scan queues each finding once; compliance acknowledges and resolves them, each review logged', async () => {
      const first = await scanLive(w.db, { from: DAY, to: DAY }, NOW);
      assert.equal(first.queued, 2, 'probing and the misplaced terminal are new');
      assert.equal(first.updated, 1, 'the emergency attempt was raised live already: the scan updates that finding');
      const rescan = await scanLive(w.db, { from: DAY, to: DAY }, NOW);
      assert.equal(rescan.queued, 0, 'scanning again adds nothing');
      assert.equal(rescan.updated, 3, 'it refreshes the three open findings');
      const emergency = await listFindings(w.db, { rule: 'emergency_outside_window', openOnly: true, limit: 10, offset: 0 });
      assert.equal(emergency.length, 1, 'one open finding for the rule and the person, live and scanned');
      assert.equal(emergency[0]?.occurrences, 2, 'the live refusal and the first scan; the rescan of the same period is not counted');
      assert.equal(emergency[0]?.subjectKey, 'person:p-retail');

      const comp = await login(w.app, USERS.compliance);
      const list = (await get(comp, '/api/findings?open=true')).json<{ findings: { id: number; rule: string; source: string }[] }>();
      const probing = list.findings.find((f) => f.rule === 'probing' && f.source === 'analysis');
      assert.ok(probing !== undefined);
      assert.equal((await post(comp, `/api/findings/${probing.id}/acknowledge`, { comment: '本人に確認中' })).statusCode, 200);
      const noComment = await post(comp, `/api/findings/${probing.id}/resolve`, {});
      assert.equal(noComment.statusCode, 400);
      assert.equal((await post(comp, `/api/findings/${probing.id}/resolve`, { comment: '権限のない画面を試した。指導済み' })).statusCode, 200);
      const again = await post(comp, `/api/findings/${probing.id}/resolve`, { comment: 'x' });
      assert.equal(again.statusCode, 409);
      const events = await w.db.query<{ action: string }>(
        `SELECT action FROM governance_events WHERE subject_type = 'finding' AND subject_id = $1 ORDER BY id`,
        [String(probing.id)],
      );
      assert.deepEqual(
        events.rows.map((e) => e.action),
        ['finding.acknowledge', 'finding.resolve'],
      );
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      assert.equal((await get(retail, '/api/findings')).statusCode, 403, 'findings are for compliance');
    });

    test('the exposure report: the typhoon declaration with its registered person and its read, the network-only grant kept after a move, the policy version (issue 22)', async () => {
      const comp = await login(w.app, USERS.compliance);
      const res = await get(comp, `/api/analysis/exposure?from=${DAY}&to=${DAY}`);
      assert.equal(res.statusCode, 200, res.body);
      const x = res.json<Exposure>();
      assert.deepEqual(x.period, { from: DAY, to: DAY });
      // The declaration, the support staff registered while it ran (the retail employee, two fields), and the one
      // read made under it — of an R0002 customer, by the retail side: a view the report names.
      assert.equal(x.emergencies.length, 1);
      const e = x.emergencies[0];
      assert.ok(e !== undefined);
      assert.deepEqual(
        { reason: e.reason, areas: e.areas, people: e.people.map((p) => [p.personId, p.side, p.fields]) },
        { reason: '台風', areas: ['宮城県'], people: [['p-retail', 'retail', ['holder_name', 'phone']]] },
      );
      assert.deepEqual([e.reads, e.views, e.viewers, e.supplyPoints], [1, 1, 1, 1]);
      const logged = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log WHERE emergency_id = $1', [e.declarationId]);
      assert.equal(logged.rows[0]?.n, 1, 'the log holds exactly the read the report counts');
      assert.ok(e.first !== null && e.first === e.last && Date.parse(e.first) >= Date.parse(e.from) && Date.parse(e.first) < Date.parse(e.to));
      // The mover kept a network-only permission (in force since 2024-04-01) when moving to retail on 2025-04-01:
      // wrongful from that day, still so at the period's end; no view of another retailer's customer got through.
      const mover = x.grants.find((g) => g.userId === USERS.mover && g.permissionId === 'network.equipment');
      assert.deepEqual(
        [mover?.rules, mover?.from, mover?.to, mover?.windows, mover?.views],
        [['side_not_allowed'], '2024-04-01', null, [{ from: '2025-04-01', to: null }], 0],
      );
      assert.equal(
        x.grants.some((g) => g.userId === USERS.callCentre),
        false,
        'a rightful grant is not an exposure',
      );
      // One decision table decided every read of the day: this build's, which allows no such view; none was made.
      const version = (await get(comp, '/api/policy/checklist')).json<{ policyVersion: string }>().policyVersion;
      assert.deepEqual(
        x.policies.map((p) => [p.version, p.current, p.allowed, p.views]),
        [[version, true, false, 0]],
      );
      assert.ok((x.policies[0]?.reads ?? 0) >= 17, 'every read of the day was decided by it');
      assert.deepEqual(x.people, [], 'nobody on the retail side was served another retailer’s customer’s non-public items');
      // A later build (another table) still judges the day's version: the server recorded its verdict at start
      // (policy_versions, migration 021).
      const real = compileDecisionTable();
      const other: DecisionTable = { version: 'f'.repeat(64), size: real.size, lookup: (): Decision => ({ kind: 'allow', basis: 'network_duty' }) };
      const later = await liveReportAndExposure(w.db, { from: DAY, to: DAY }, { table: other, now: NOW });
      assert.deepEqual(
        later.exposure.policies.map((p) => [p.current, p.allowed]),
        [[false, false]],
      );
      const recorded = await w.db.query<{ n: number }>('SELECT count(*)::int AS n FROM policy_versions WHERE version = $1', [version]);
      assert.equal(recorded.rows[0]?.n, 1);
      // The compliance report download carries the same, after the regulator's tables.
      const csv = await get(comp, `/api/analysis/report?from=${DAY}&to=${DAY}&format=csv`);
      assert.match(csv.body, /非常災害の宣言で閲覧可能となっていた期間と閲覧実績/);
      assert.ok(csv.body.includes(e.declarationId));
      assert.match(csv.body, /u-mover,network\.equipment,u-admin2,side_not_allowed,2024-04-01,,"\t2025-04-01 〜",0/);
      // Compliance's, like the rest of the analysis.
      assert.equal((await get(await login(w.app, USERS.retail, TERMINALS.RETAIL), `/api/analysis/exposure?from=${DAY}&to=${DAY}`)).statusCode, 403);
    });

    test('the report downloads as CSV for Excel and as XLSX; the daily digest scans yesterday', async () => {
      const comp = await login(w.app, USERS.compliance);
      const csv = await get(comp, `/api/analysis/report?from=${DAY}&to=${DAY}&format=csv`);
      assert.equal(csv.statusCode, 200);
      assert.ok(csv.body.startsWith('\uFEFF'));
      const xlsx = await get(comp, `/api/analysis/report?from=${DAY}&to=${DAY}&format=xlsx`);
      assert.equal(xlsx.statusCode, 200);
      assert.equal(xlsx.rawPayload.subarray(0, 2).toString('latin1'), 'PK', 'a zip (xlsx) file');
      const bad = await get(comp, `/api/analysis/report?from=2026-11-05&to=2026-11-01`);
      assert.equal(bad.statusCode, 400);

      const digest = await dailyDigest(w.db, new Date(NOW.getTime() + 86_400_000));
      assert.equal(digest.day, DAY);
      assert.equal(digest.emergencyViews, 1);
      assert.equal(digest.refused, 13, 'the emergency attempt with none declared and the twelve probes');
      now = new Date(NOW.getTime() + 86_400_000);
      const listed = (await get(await login(w.app, USERS.compliance), '/api/analysis/digests')).json<{ digests: { day: string }[] }>();
      assert.deepEqual(
        listed.digests.map((x) => x.day),
        [DAY],
      );

      // A read decided by an earlier build's table, which its server recorded as letting retail see others'
      // customers, is judged so; a version nobody recorded is named, not judged (issue 22).
      const lax = 'e'.repeat(64);
      await w.owner.query(`INSERT INTO policy_versions (version, recorded_at, violations, allowed) VALUES ($1, $2, $3::jsonb, '[]'::jsonb)`, [
        lax,
        NOW,
        JSON.stringify([{ rule: 'retail_sees_non_own_non_public', principalClass: 'retail_customer_service', relation: 'other', field: 'phone' }]),
      ]);
      const writer = new GroupCommitLog(w.db, { key: TEST_KEY });
      await writer.append(accessEvent(1, { occurredAt: new Date(NOW.getTime() + 60_000), policyVersion: lax }));
      await writer.append(accessEvent(2, { occurredAt: new Date(NOW.getTime() + 120_000), policyVersion: 'd'.repeat(64) }));
      await writer.append(accessEvent(3, { occurredAt: new Date(NOW.getTime() + 180_000), policyVersion: 'b'.repeat(64) }));
      await writer.close();
      // The build judging holds version b, never recorded: judged now by the checklist's rule — a table that lets
      // every field through is judged to have allowed it.
      const held: DecisionTable = { version: 'b'.repeat(64), size: 1, lookup: (): Decision => ({ kind: 'allow', basis: 'network_duty' }) };
      const judged = await liveReportAndExposure(w.db, { from: DAY, to: DAY }, { table: held, now: new Date(NOW.getTime() + 86_400_000) });
      const byVersion = new Map(judged.exposure.policies.map((p) => [p.version, [p.current, p.allowed]]));
      assert.deepEqual(byVersion.get(lax), [false, true]);
      assert.deepEqual(byVersion.get('d'.repeat(64)), [false, null]);
      assert.deepEqual(byVersion.get('b'.repeat(64)), [true, true]);
    });
  });
}
