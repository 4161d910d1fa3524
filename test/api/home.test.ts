import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { raiseFinding } from '../../src/analysis/findings.ts';
import * as home from '../../src/contract/home.ts';
import { SEVERITIES } from '../../src/domain/finding.ts';
import { login, seededApp, tryLogin, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { assertRegistered, openApi } from '../support/openapi.ts';
import { ownerOf, STORES } from '../support/stores.ts';

/**
 * The home screen's counts (GET /api/home, issue 20): each section only for a person who may open the page it
 * counts for (absent, never 0, for anyone else), and each count what that page's own route lists.
 */

const HOUR = 3_600_000;
const iso = (hours: number) => new Date(NOW.getTime() + hours * HOUR).toISOString();

type Home = Record<string, unknown> & {
  approvals?: { waiting: number };
  inquiries?: { waiting: number; late: number };
  findings?: { high: number; medium: number; low: number; unacknowledged: number };
  emergencies?: { active: number; pending: number; awaitingReview: number };
  terminals?: { misplaced: number };
  recertifications?: { waitingForYou: number; open: number };
};

/** The sections each fixture person gets (with the emergency roles seeded), from the duties they hold. */
const SECTIONS: Readonly<Record<string, readonly home.HomeSection[]>> = {
  // emergency.declare only.
  [USERS.callCentre]: ['emergencies'],
  [USERS.serviceCentre]: ['inquiries', 'emergencies'],
  // audit.read, grants.approve: not the service centre's queue.
  [USERS.compliance]: ['approvals', 'findings', 'emergencies', 'terminals', 'recertifications'],
  [USERS.admin]: ['approvals', 'findings', 'emergencies', 'terminals', 'recertifications'],
  // grants.approve for one retailer: the queue and the campaigns, not the terminal registry (access.admin or audit.read).
  [USERS.admin2]: ['approvals', 'recertifications'],
  [USERS.retail]: [],
  [USERS.retailContractor]: [],
  [USERS.otherRetailer]: [],
  [USERS.mover]: [],
};

for (const store of STORES) {
  describe(`the home screen over HTTP on ${store.name}`, () => {
    const w = seededApp(store, {}, seedEmergencyRoles);
    const s: Record<string, Session> = {};
    before(async () => {
      for (const u of Object.keys(SECTIONS)) s[u] = (await tryLogin(w.app, u)) ?? (await login(w.app, u));
    });
    const call = async (userId: string, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) => {
      const sess = s[userId] ?? assert.fail(`no session for ${userId}`);
      const res = await w.app.inject({
        method,
        url,
        headers: { cookie: sess.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': sess.csrf }) },
        ...(payload === undefined ? {} : { payload }),
      });
      assert.ok(res.statusCode >= 200 && res.statusCode < 300, `${userId} ${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json<Record<string, unknown>>();
    };
    const homeOf = async (userId: string) => (await call(userId, 'GET', '/api/home')) as Home;
    const listed = async (userId: string, url: string, key: string) => {
      const v = (await call(userId, 'GET', url))[key];
      return Array.isArray(v) ? v : assert.fail(`${url}: no ${key}`);
    };

    test('is documented as its contract says', async () => {
      assertRegistered(await openApi(w.app), new Set(['home']), [['get', '/api/home', 200, home.home]]);
    });

    test('asks for a session', async () => {
      const res = await w.app.inject({ method: 'GET', url: '/api/home' });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'not_authenticated');
    });

    test('each person gets the sections of the duties they hold, and no other (absent, not 0)', async () => {
      for (const [u, sections] of Object.entries(SECTIONS)) {
        const h = await homeOf(u);
        assert.equal(h['at'], NOW.toISOString());
        assert.deepEqual(
          home.HOME_SECTIONS.filter((k) => k in h),
          sections,
          `${u}: ${JSON.stringify(h)}`,
        );
      }
    });

    test('misplaced terminals: what the reconciliation lists, a retired one no longer', async () => {
      assert.equal((await homeOf(USERS.admin)).terminals?.misplaced, 1, 'the fixture’s T-MIS');
      await ownerOf(w.db).query(
        `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side) VALUES ('T-MIS2', 'org-nw', '仙台営業所', 'dedicated', 'network', 'shared')`,
      );
      for (const u of [USERS.admin, USERS.compliance]) {
        const misplaced = await listed(u, '/api/terminals/reconciliation', 'misplaced');
        assert.equal(misplaced.length, 2);
        assert.equal((await homeOf(u)).terminals?.misplaced, misplaced.length, u);
      }
      await call(USERS.admin, 'POST', `/api/terminals/${TERMINALS.MISPLACED}/retire`, {});
      assert.equal((await homeOf(USERS.admin)).terminals?.misplaced, 1);
    });

    test('approvals waiting: the approver’s own queue, never their own request, only within their scope', async () => {
      const before = await homeOf(USERS.admin2);
      assert.equal(before.approvals?.waiting, 0);
      // The affiliated retailer's agent asks (org-a0001: in u-admin2's scope), and u-admin2 asks for themself.
      await ownerOf(w.db).query(
        `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, expires_at)
         VALUES ('u-retail', 'emergency.support', 'requested', '停電連絡の支援', 'u-retail', 'p-retail', $1, '2027-03-01')`,
        [NOW],
      );
      await ownerOf(w.db).query(
        `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, expires_at)
         VALUES ('u-admin2', 'audit.read', 'requested', '監査', 'u-admin2', 'p-admin2', $1, '2027-03-01')`,
        [NOW],
      );
      for (const u of [USERS.admin, USERS.admin2, USERS.compliance]) {
        const queue = await listed(u, '/api/grants/queue', 'grants');
        assert.equal((await homeOf(u)).approvals?.waiting, queue.length, u);
      }
      assert.equal((await homeOf(USERS.admin2)).approvals?.waiting, 1, 'the agent’s request; not their own, which is in nobody else’s scope but theirs');
      assert.equal((await homeOf(USERS.admin)).approvals?.waiting, 2, 'both');
    });

    test('emergencies: pending until confirmed, in force, then awaiting compliance’s review until signed off', async () => {
      const count = async () => (await homeOf(USERS.compliance)).emergencies;
      assert.deepEqual(await count(), { active: 0, pending: 0, awaitingReview: 0 });
      const declared = await call(USERS.callCentre, 'POST', '/api/emergencies', {
        areas: [{ kind: 'area_code', areaCode: '02' }],
        startsAt: iso(0),
        plannedEndAt: iso(24),
        reason: '台風第10号',
      });
      const id = String(declared['id']);
      assert.deepEqual(await count(), { active: 0, pending: 1, awaitingReview: 0 });
      await call(USERS.serviceCentre, 'POST', `/api/emergencies/${id}/confirm`, {});
      assert.deepEqual(await count(), { active: 1, pending: 0, awaitingReview: 0 });
      assert.deepEqual((await homeOf(USERS.callCentre)).emergencies, { active: 1, pending: 0, awaitingReview: 0 }, 'the declarers see it too');
      await call(USERS.callCentre, 'POST', `/api/emergencies/${id}/end`, { reason: '復旧' });
      assert.deepEqual(await count(), { active: 0, pending: 0, awaitingReview: 1 });
      await call(USERS.compliance, 'POST', `/api/emergencies/${id}/sign-off`, { comment: '確認済み' });
      assert.deepEqual(await count(), { active: 0, pending: 0, awaitingReview: 0 });
    });

    test('inquiries waiting on the service centre: open ones (not asked back), late ones among them', async () => {
      const insert = async (id: string, dueHours: number) =>
        ownerOf(w.db).query(
          `INSERT INTO inquiries (id, case_type, supply_point_id, items, channel, retailer_code, requested_by, requested_by_person, consent_customer_name, consent_method,
              consent_given_at, consent_reference, consent_valid_until, consent_state, at_once, queued, status, created_at, due_at)
           VALUES ($1, 'switching', $2, '{contracted_capacity,equipment}', 'retailer', 'R0002', 'u-other', 'p-other', '株式会社青葉精工', 'recorded_call', $3, 'CALL-0042', $4,
              'valid', '{contracted_capacity}', '{equipment}', 'open', $5, $6)`,
          [id, SP.R3, iso(-48), iso(720), iso(-48), iso(dueHours)],
        );
      await insert('INQ-800001', -1);
      await insert('INQ-800002', 24);
      await insert('INQ-800003', 24);
      await call(USERS.serviceCentre, 'POST', '/api/inquiries/INQ-800003/ask-back', { question: '設備の所在を教えてください' });
      const h = await homeOf(USERS.serviceCentre);
      const queue = await call(USERS.serviceCentre, 'GET', '/api/inquiries?scope=queue&status=open');
      assert.equal(h.inquiries?.waiting, queue['total']);
      assert.deepEqual(h.inquiries, { waiting: 2, late: 1 });
    });

    test('recertifications: the grants of running campaigns waiting for each reviewer, and all undecided ones', async () => {
      const { rows } = await ownerOf(w.db).query<{ id: string }>(
        `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
         VALUES ('u-other', 'customer.read', 'approved', '自社顧客対応', 'u-admin', 'p-admin', $1, 'u-comp', 'p-comp', $1, '2027-03-01') RETURNING id`,
        [NOW],
      );
      const grantId = Number(rows[0]?.id);
      const campaign = await call(USERS.admin, 'POST', '/api/campaigns', { name: '棚卸 ホーム', endsOn: '2026-12-25', permissionIds: ['customer.read'] });
      const cid = String(campaign['id']);
      const check = async () => {
        const campaigns = (await listed(USERS.admin, '/api/campaigns', 'campaigns')) as { open: number; endsAt: string }[];
        const open = campaigns.filter((k) => k.endsAt > NOW.toISOString()).reduce((a, k) => a + k.open, 0);
        for (const u of [USERS.admin, USERS.admin2, USERS.compliance]) {
          const mine = await listed(u, `/api/campaigns/${cid}/items?mine=true`, 'items');
          assert.deepEqual((await homeOf(u)).recertifications, { waitingForYou: mine.length, open }, u);
        }
      };
      await check();
      const before = (await homeOf(USERS.compliance)).recertifications ?? assert.fail('no recertifications');
      assert.ok(before.waitingForYou >= 1, 'compliance approved u-other’s grant, so reviews it');
      await call(USERS.compliance, 'POST', `/api/campaigns/${cid}/items/${grantId}`, { decision: 'confirmed' });
      assert.deepEqual((await homeOf(USERS.compliance)).recertifications, { waitingForYou: before.waitingForYou - 1, open: before.open - 1 });
      await check();
    });

    test('findings: every unresolved finding counted once under its severity, the untouched ones apart (property)', async () => {
      const owner = ownerOf(w.db);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ severity: fc.constantFrom(...SEVERITIES), status: fc.constantFrom('open', 'acknowledged', 'resolved') }), { maxLength: 7 }),
          async (findings) => {
            run++;
            // What earlier runs raised is resolved (a raised finding stays, with its alert): it counts no more.
            await owner.query(`UPDATE findings SET status = 'resolved' WHERE status <> 'resolved'`);
            for (const [i, f] of findings.entries()) {
              const id = await raiseFinding(w.db, {
                rule: `home_probe_${run}_${i}`,
                severity: f.severity,
                occurredAt: NOW,
                detectedAt: NOW,
                source: 'analysis',
                subjectPersonId: null,
                subjectUserId: USERS.otherRetailer,
                summary: '検査用',
                evidence: {},
              });
              if (f.status !== 'open') await owner.query('UPDATE findings SET status = $2 WHERE id = $1', [id, f.status]);
            }
            const unresolved = findings.filter((f) => f.status !== 'resolved');
            const expected = {
              high: unresolved.filter((f) => f.severity === 'high').length,
              medium: unresolved.filter((f) => f.severity === 'medium').length,
              low: unresolved.filter((f) => f.severity === 'low').length,
              unacknowledged: findings.filter((f) => f.status === 'open').length,
            };
            assert.deepEqual((await homeOf(USERS.compliance)).findings, expected);
            const page = await listed(USERS.compliance, '/api/findings?open=true&limit=200', 'findings');
            assert.equal(page.length, unresolved.length, 'as many as the findings page lists open');
          },
        ),
        { numRuns: 12 },
      );
    });
  });
}
