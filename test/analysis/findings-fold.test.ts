import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { EARLIER_EVIDENCE_KEPT, foldFinding, listFindings, raiseFinding, type FindingRow } from '../../src/analysis/findings.ts';
import { reviewFinding, scanLive } from '../../src/analysis/review.ts';
import { SEVERITIES, severityRank, type NewFinding, type Severity } from '../../src/domain/finding.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate, migrationVersions } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * One open finding per rule and subject (issue 20): findings repeated — one per refused attempt, plus the
 * scan's aggregate — and went stale (a queued 1428 stayed after a later scan counted 1448). Now each is folded
 * into the open one for its rule and subject, counted, with the latest evidence; a resolved one is never reopened.
 */
const DAY = '2026-11-01'; // NOW in Japan time
const MINUTE = 60_000;

const COMPLIANCE = { kind: 'person' as const, userId: USERS.compliance, personId: 'p-comp' };

function finding(over: Partial<NewFinding> & { rule: string }): NewFinding {
  return {
    severity: 'medium',
    occurredAt: NOW,
    detectedAt: NOW,
    source: 'live',
    subjectPersonId: 'p-other',
    subjectUserId: USERS.otherRetailer,
    summary: 'テスト',
    evidence: {},
    ...over,
  };
}

async function openOf(db: Db, rule: string): Promise<FindingRow[]> {
  return listFindings(db, { rule, openOnly: true, limit: 100, offset: 0 });
}

async function alertsFor(db: Db, findingId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM alert_outbox WHERE finding_id = $1`, [findingId]);
  return rows[0]?.n ?? 0;
}

for (const store of STORES) {
  describe(`one open finding per rule and subject on ${store.name}`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now }, seedEmergencyRoles);
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    const put = (s: Session, url: string, payload: Record<string, unknown>) =>
      w.app.inject({ method: 'PUT', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    /** A refused emergency-support read (no emergency declared): the firewall raises emergency_outside_window, high. */
    const refusedEmergencyRead = async (retail: Session, sp: string) => {
      const res = await get(retail, `/api/supply-points/${sp}?purpose=emergency_support&reason=${encodeURIComponent('停電の連絡')}`);
      assert.equal(res.statusCode, 403, res.body);
      const body = res.json<{ error: { code: string; requestId: string } }>();
      assert.equal(body.error.code, 'no_active_emergency');
      return body.error.requestId;
    };

    test('repeated refused reads make one open finding with the count, first and last seen, the latest evidence and the earlier kept', async () => {
      const admin = await login(w.app, USERS.admin);
      assert.equal((await put(admin, '/api/emergency-support/p-retail', { fields: ['holder_name', 'phone'] })).statusCode, 200);
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      const requestIds: string[] = [];
      for (const [i, sp] of [SP.R3, SP.OWN_A, SP.SWITCHED].entries()) {
        now = new Date(NOW.getTime() + i * MINUTE);
        requestIds.push(await refusedEmergencyRead(retail, sp));
      }
      const comp = await login(w.app, USERS.compliance);
      const listed = (await get(comp, '/api/findings?open=true&rule=emergency_outside_window')).json<{
        findings: {
          id: number;
          occurrences: number;
          firstSeenAt: string;
          lastSeenAt: string;
          evidence: { requestId: string; supplyPointId: string };
          earlierEvidence: { evidence: { requestId: string } }[];
          subjectKey: string;
          severity: string;
        }[];
      }>().findings;
      assert.equal(listed.length, 1, 'one open finding, not one per attempt');
      const f = listed[0] ?? assert.fail();
      assert.equal(f.occurrences, 3);
      assert.equal(f.subjectKey, 'person:p-retail');
      assert.equal(f.severity, 'high');
      assert.equal(f.firstSeenAt, NOW.toISOString());
      assert.equal(f.lastSeenAt, new Date(NOW.getTime() + 2 * MINUTE).toISOString());
      assert.equal(f.evidence.requestId, requestIds[2], 'the latest evidence');
      assert.equal(f.evidence.supplyPointId, SP.SWITCHED);
      assert.deepEqual(
        f.earlierEvidence.map((e) => e.evidence.requestId),
        [requestIds[1], requestIds[0]],
        'the earlier evidence, newest first',
      );
      assert.equal(await alertsFor(w.db, f.id), 1, 'a new high finding alerts once; its updates do not');
    });

    test('a later scan updates the open finding with its count instead of queuing another (the 1428 → 1448 case)', async () => {
      now = new Date(NOW.getTime() + 10 * MINUTE);
      const first = await scanLive(w.db, { from: DAY, to: DAY }, now);
      assert.deepEqual(first.report.findings.map((x) => x.rule).sort(), ['emergency_outside_window', 'misplaced_terminal']);
      assert.equal(first.queued, 1, 'the misplaced terminal (T-MIS is one) is new');
      assert.equal(first.updated, 1, 'the emergency attempts: the live finding of the same rule and person, updated');
      let [f, ...rest] = await openOf(w.db, 'emergency_outside_window');
      assert.equal(rest.length, 0);
      assert.equal(f?.occurrences, 4, 'three refusals and the scan');
      assert.equal((f?.evidence as { attempts: number }).attempts, 3);
      assert.match(f?.summary ?? '', / 3 回試みました$/);

      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      for (let i = 0; i < 2; i++) {
        now = new Date(NOW.getTime() + (11 + i) * MINUTE);
        await refusedEmergencyRead(retail, SP.R3);
      }
      now = new Date(NOW.getTime() + 20 * MINUTE);
      const later = await scanLive(w.db, { from: DAY, to: DAY }, now);
      assert.deepEqual([later.queued, later.updated], [0, 2], 'nothing new: both open findings refreshed');
      [f, ...rest] = await openOf(w.db, 'emergency_outside_window');
      assert.equal(rest.length, 0, 'still one open finding');
      assert.equal((f?.evidence as { attempts: number }).attempts, 5, "the later scan's count, not the stale one");
      assert.match(f?.summary ?? '', / 5 回試みました$/);
      assert.equal(f?.occurrences, 6, 'the two new refusals counted; the same period scanned again is a refresh, not an occurrence');
      assert.equal(f?.lastSeenAt.getTime(), NOW.getTime() + 12 * MINUTE, 'the last refused read');
      assert.equal(await alertsFor(w.db, f?.id ?? 0), 1, 'still the one alert');
    });

    test('the severity rises and alerts once; a lower one never lowers it; a resolved finding is not reopened', async () => {
      const rule = 'test_severity';
      const a = await foldFinding(w.db, finding({ rule, severity: 'medium' }));
      assert.deepEqual([a.outcome, a.alerted], ['new', false], 'medium does not alert');
      const b = await foldFinding(w.db, finding({ rule, severity: 'high', summary: '重大' }));
      assert.deepEqual([b.id, b.outcome, b.alerted], [a.id, 'updated', true], 'became high: alerted');
      const c = await foldFinding(w.db, finding({ rule, severity: 'low' }));
      assert.deepEqual([c.id, c.alerted], [a.id, false]);
      const [open] = await openOf(w.db, rule);
      assert.equal(open?.severity, 'high', 'a lower severity does not lower it');
      assert.equal(open?.occurrences, 3);
      assert.equal(await alertsFor(w.db, a.id), 1);

      await reviewFinding(w.db, COMPLIANCE, a.id, 'acknowledged', null, NOW);
      const again = await foldFinding(w.db, finding({ rule }));
      assert.deepEqual([again.id, again.alerted], [a.id, true], 'an acknowledged finding is folded into, and a high one alerts again');
      assert.equal((await openOf(w.db, rule))[0]?.status, 'open', 'a new occurrence opens an acknowledged finding again: acknowledging does not silence');
      assert.equal(await alertsFor(w.db, a.id), 2);
      await reviewFinding(w.db, COMPLIANCE, a.id, 'resolved', '確認済み', NOW);
      const d = await foldFinding(w.db, finding({ rule, severity: 'high' }));
      assert.notEqual(d.id, a.id, 'a resolved finding is not reopened: a new one starts');
      assert.deepEqual([d.outcome, d.alerted], ['new', true]);
      const [fresh] = await openOf(w.db, rule);
      assert.equal(fresh?.occurrences, 1);
      assert.equal(fresh?.status, 'open');
    });

    test('subjects without a person: an account, a terminal, a key the rule gives; a finding naming nothing is never folded', async () => {
      const rule = 'test_subjects';
      const noPerson = { subjectPersonId: null, subjectUserId: null };
      const t1 = await raiseFinding(w.db, finding({ rule, ...noPerson, evidence: { terminalId: TERMINALS.MISPLACED } }));
      const t2 = await raiseFinding(w.db, finding({ rule, ...noPerson, evidence: { terminalId: TERMINALS.MISPLACED, again: true } }));
      assert.equal(t2, t1, 'the same terminal: one finding');
      const other = await raiseFinding(w.db, finding({ rule, ...noPerson, evidence: { terminalId: TERMINALS.RETAIL } }));
      assert.notEqual(other, t1, 'another terminal: another finding');
      const keyed = await raiseFinding(w.db, finding({ rule, subjectKey: `terminal:${TERMINALS.MISPLACED}` }));
      assert.equal(keyed, t1, "the rule's own key wins over the person it also names");
      const byUser = await raiseFinding(w.db, finding({ rule, subjectPersonId: null, subjectUserId: USERS.otherRetailer }));
      const byPerson = await raiseFinding(w.db, finding({ rule, subjectPersonId: 'p-other', subjectUserId: null }));
      assert.equal(byUser, byPerson, "a user ID is resolved to its person: the account's finding and the person's are one");
      const orphan = await raiseFinding(w.db, finding({ rule, subjectPersonId: null, subjectUserId: 'legacy-u9' }));
      assert.equal(await raiseFinding(w.db, finding({ rule, subjectPersonId: null, subjectUserId: 'legacy-u9' })), orphan, 'an account without a person');
      const n1 = await raiseFinding(w.db, finding({ rule, ...noPerson }));
      const n2 = await raiseFinding(w.db, finding({ rule, ...noPerson }));
      assert.notEqual(n1, n2, 'nothing tells them apart: two findings');
      const keys = (await openOf(w.db, rule)).map((f) => `${f.subjectKey ?? 'null'} ${f.occurrences}`).sort();
      assert.deepEqual(keys, [
        'null 1',
        'null 1',
        'person:p-other 2',
        `terminal:${TERMINALS.MISPLACED} 3`,
        `terminal:${TERMINALS.RETAIL} 1`,
        'user:legacy-u9 2',
      ]);
    });

    test('the queue lists the most recently seen first: a finding raised again comes back to the top', async () => {
      const rule = 'test_order';
      const a = await raiseFinding(w.db, finding({ rule, subjectPersonId: 'p-cc', subjectUserId: null, occurredAt: NOW }));
      const b = await raiseFinding(w.db, finding({ rule, subjectPersonId: 'p-nsc', subjectUserId: null, occurredAt: new Date(NOW.getTime() + MINUTE) }));
      assert.deepEqual(
        (await openOf(w.db, rule)).map((f) => f.id),
        [b, a],
      );
      await raiseFinding(w.db, finding({ rule, subjectPersonId: 'p-cc', subjectUserId: null, occurredAt: new Date(NOW.getTime() + 2 * MINUTE) }));
      assert.deepEqual(
        (await openOf(w.db, rule)).map((f) => f.id),
        [a, b],
      );
    });

    test('raised at once many times, one open finding counts them all (the store keeps it one)', async () => {
      const rule = 'test_concurrent';
      const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => raiseFinding(w.db, finding({ rule, evidence: { i } }))));
      assert.equal(new Set(ids).size, 1);
      const open = await openOf(w.db, rule);
      assert.equal(open.length, 1);
      assert.equal(open[0]?.occurrences, 12);
      assert.equal(open[0]?.earlierEvidence.length, EARLIER_EVIDENCE_KEPT, 'the earlier evidence is bounded');
    });

    test('property: whatever is raised and resolved, at most one open finding per rule and subject, every raise counted, the highest severity kept', async () => {
      const subjects = ['p-cc', 'p-nsc', 'p-other'] as const;
      const step = fc.oneof(
        fc.record({ kind: fc.constant('raise' as const), subject: fc.constantFrom(...subjects), severity: fc.constantFrom(...SEVERITIES) }),
        fc.record({ kind: fc.constant('resolve' as const), subject: fc.constantFrom(...subjects) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
          const rule = `prop_${randomBytes(4).toString('hex')}`;
          const model = new Map<string, { severity: Severity; count: number } | null>();
          let raised = 0;
          for (const s of steps) {
            if (s.kind === 'raise') {
              raised++;
              await raiseFinding(w.db, finding({ rule, subjectPersonId: s.subject, subjectUserId: null, severity: s.severity }));
              const cur = model.get(s.subject) ?? null;
              model.set(s.subject, {
                severity: cur === null || severityRank(s.severity) > severityRank(cur.severity) ? s.severity : cur.severity,
                count: (cur?.count ?? 0) + 1,
              });
            } else {
              const open = (await openOf(w.db, rule)).find((f) => f.subjectPersonId === s.subject);
              if (open !== undefined) await reviewFinding(w.db, COMPLIANCE, open.id, 'resolved', '確認', NOW);
              model.set(s.subject, null);
            }
          }
          const open = await openOf(w.db, rule);
          const all = await listFindings(w.db, { rule, limit: 200, offset: 0 });
          assert.equal(new Set(open.map((f) => f.subjectKey)).size, open.length, 'at most one open per subject');
          assert.equal(
            all.reduce((n, f) => n + f.occurrences, 0),
            raised,
            'every raise is counted once',
          );
          for (const subject of subjects) {
            const want = model.get(subject) ?? null;
            const got = open.find((f) => f.subjectKey === `person:${subject}`);
            assert.deepEqual(got === undefined ? null : { severity: got.severity, count: got.occurrences }, want, subject);
          }
        }),
        { numRuns: 12 },
      );
    });
  });

  describe(`migration 015 folds the open duplicates it finds on ${store.name}`, () => {
    test('duplicates of a rule and subject become one open finding with their count; the others resolved as merged; scanned periods kept', async () => {
      const { db, dispose } = await at014(store.name);
      try {
        await db.exec(`
INSERT INTO persons (id, name) VALUES ('p-a', '甲'), ('p-b', '乙');
INSERT INTO accounts (user_id, person_id) VALUES ('u-a', 'p-a'), ('u-b', 'p-b');
INSERT INTO findings (id, rule, severity, occurred_at, detected_at, source, subject_person_id, subject_user_id, summary, evidence, status, fingerprint) VALUES
  (1, 'bulk_reading', 'medium', '2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', 'analysis', NULL, 'u-a', '1428 件', '{"total": 1428, "subject": "user:u-a"}', 'open', 'bulk_reading|user:u-a|2026-10-01|2026-10-01'),
  (2, 'bulk_reading', 'high', '2026-10-05T00:00:00Z', '2026-10-06T00:00:00Z', 'analysis', 'p-a', 'u-a', '1448 件', '{"total": 1448, "subject": "user:u-a"}', 'acknowledged', 'bulk_reading|user:u-a|2026-10-05|2026-10-05'),
  (3, 'bulk_reading', 'low', '2026-10-03T00:00:00Z', '2026-10-03T00:00:00Z', 'live', 'p-a', 'u-a', 'live', '{"n": 3}', 'open', NULL),
  (4, 'bulk_reading', 'medium', '2026-09-01T00:00:00Z', '2026-09-01T00:00:00Z', 'analysis', 'p-a', 'u-a', 'old', '{}', 'resolved', 'bulk_reading|user:u-a|2026-09-01|2026-09-01'),
  (5, 'bulk_reading', 'medium', '2026-10-01T00:00:00Z', '2026-10-01T00:00:00Z', 'analysis', NULL, 'u-b', 'b', '{}', 'open', NULL),
  (6, 'misplaced_terminal', 'high', '2026-10-01T00:00:00Z', '2026-10-01T00:00:00Z', 'analysis', NULL, NULL, 't', '{"subject": "terminal:T-9"}', 'open', NULL),
  (7, 'misplaced_terminal', 'high', '2026-10-02T00:00:00Z', '2026-10-02T00:00:00Z', 'analysis', NULL, NULL, 't', '{"subject": "terminal:T-9"}', 'open', NULL),
  (8, 'odd', 'low', '2026-10-02T00:00:00Z', '2026-10-02T00:00:00Z', 'live', NULL, NULL, 'x', '{}', 'open', NULL),
  (9, 'odd', 'low', '2026-10-02T00:00:00Z', '2026-10-02T00:00:00Z', 'live', NULL, NULL, 'x', '{}', 'open', NULL);
SELECT setval('findings_id_seq', 9);`);
        assert.deepEqual(await migrate(db), ['015_findings_alerts', ...migrationVersions().filter((v) => v > '015_findings_alerts')]);
        const rows = await listFindings(db, { limit: 100, offset: 0 });
        const byId = new Map(rows.map((r) => [r.id, r]));
        const kept = byId.get(1) ?? assert.fail();
        assert.equal(kept.subjectKey, 'person:p-a', 'the account resolved to its person');
        assert.equal(kept.status, 'open', 'open: one of them was');
        assert.equal(kept.occurrences, 3);
        assert.equal(kept.severity, 'high', 'the highest');
        assert.equal(kept.summary, '1448 件', 'the latest');
        assert.deepEqual(kept.evidence, { total: 1448, subject: 'user:u-a' });
        assert.equal(kept.earlierEvidence.length, 2);
        assert.equal(kept.firstSeenAt.toISOString(), '2026-10-01T00:00:00.000Z');
        assert.equal(kept.lastSeenAt.toISOString(), '2026-10-05T00:00:00.000Z');
        for (const id of [2, 3]) assert.equal(byId.get(id)?.status, 'resolved', `finding ${id} merged`);
        const merged = await db.query<{ merged_into: string | number; review_comment: string }>(
          'SELECT merged_into, review_comment FROM findings WHERE id = 2',
        );
        assert.equal(Number(merged.rows[0]?.merged_into), 1);
        assert.match(merged.rows[0]?.review_comment ?? '', /merged into finding 1/);
        assert.equal(byId.get(4)?.status, 'resolved', 'a resolved one stays as it was');
        assert.equal(byId.get(4)?.occurrences, 1);
        assert.equal(byId.get(5)?.subjectKey, 'person:p-b');
        assert.equal(byId.get(6)?.subjectKey, 'terminal:T-9');
        assert.equal(byId.get(6)?.occurrences, 2);
        assert.equal(byId.get(7)?.status, 'resolved');
        assert.deepEqual([byId.get(8)?.status, byId.get(9)?.status], ['open', 'open'], 'naming nothing: not merged');
        const periods = await db.query<{ fingerprint: string; finding_id: string | number }>(
          'SELECT fingerprint, finding_id FROM finding_periods ORDER BY fingerprint',
        );
        assert.deepEqual(
          periods.rows.map((r) => `${r.fingerprint} ${Number(r.finding_id)}`),
          ['bulk_reading|user:u-a|2026-09-01|2026-09-01 4', 'bulk_reading|user:u-a|2026-10-01|2026-10-01 1', 'bulk_reading|user:u-a|2026-10-05|2026-10-05 1'],
        );
        // A finding loaded without first and last seen (a bulk load) gets its instant for both.
        await db.query(
          `INSERT INTO findings (rule, severity, occurred_at, detected_at, source, summary) VALUES ('loaded', 'low', '2026-08-01T00:00:00Z', now(), 'analysis', 'x')`,
        );
        const [loaded] = await listFindings(db, { rule: 'loaded', limit: 1, offset: 0 });
        assert.deepEqual([loaded?.firstSeenAt.toISOString(), loaded?.lastSeenAt.toISOString()], ['2026-08-01T00:00:00.000Z', '2026-08-01T00:00:00.000Z']);
        // And the index holds from now on: a duplicate open finding cannot be stored.
        await assert.rejects(
          db.query(
            `INSERT INTO findings (rule, severity, occurred_at, detected_at, source, summary, subject_key, first_seen_at, last_seen_at) VALUES ('odd', 'low', now(), now(), 'live', 'x', 'terminal:T-9', now(), now()), ('odd', 'low', now(), now(), 'live', 'x', 'terminal:T-9', now(), now())`,
          ),
          /findings_one_open|duplicate key/,
        );
      } finally {
        await dispose();
      }
    });
  });
}

/** A fresh store migrated up to 014 (before this issue), to load findings as an older gridwall left them. */
async function at014(kind: 'pglite' | 'postgres'): Promise<{ db: Db; dispose: () => Promise<void> }> {
  let db: Db;
  let dispose: () => Promise<void>;
  if (kind === 'pglite') {
    db = await openPglite(null);
    dispose = () => db.close();
  } else {
    const url = process.env['DATABASE_URL'] ?? assert.fail('DATABASE_URL');
    const schema = `gw_m015_${randomBytes(5).toString('hex')}`;
    const admin = await openPostgres(url, { poolSize: 1 });
    await admin.exec(`CREATE SCHEMA ${schema}`);
    db = await openPostgres(`${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`, { poolSize: 2 });
    dispose = async () => {
      await db.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    };
  }
  await db.exec('CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  for (const v of migrationVersions().filter((x) => x < '015')) {
    await db.exec(readFileSync(new URL(`../../src/store/migrations/${v}.sql`, import.meta.url), 'utf8'));
    await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v]);
  }
  return { db, dispose };
}
