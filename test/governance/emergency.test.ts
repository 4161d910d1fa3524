import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { login, outcomes, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

const HOUR = 3_600_000;
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);

/** Aoba ward of Sendai: SP.OWN_A, SP.SWITCHED (R0002's customer) and SP.CORP_A are in it; SP.R3 is in Morioka. */
const AOBA = { kind: 'municipality', prefecture: '宮城県', city: '仙台市青葉区' } as const;
const REASON = '台風による停電：復旧見込みの連絡のため';

for (const store of STORES) {
  describe(`declared emergencies on ${store.name} (injected clock)`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now }, seedEmergencyRoles);

    /** Sessions expire as the clock moves: each step logs in afresh at the current instant. */
    const as = (user: string, terminal?: string) => login(w.app, user, terminal);
    const post = (s: Session, url: string, payload: unknown = {}) =>
      w.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: payload as Record<string, unknown> });
    const put = (s: Session, url: string, payload: unknown) =>
      w.app.inject({ method: 'PUT', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload: payload as Record<string, unknown> });
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    const lookup = async (user: string, sp: string, reason: string | null = REASON) => {
      const s = await as(user, user === USERS.retail ? TERMINALS.RETAIL : undefined);
      const q = new URLSearchParams({ purpose: 'emergency_support', ...(reason === null ? {} : { reason }) });
      return get(s, `/api/supply-points/${sp}?${q.toString()}`);
    };
    const lastEvent = async () =>
      (
        await w.db.query<{ outcome: string; refusal: string | null; emergency_id: string | null; query: unknown; supply_point_ids: string[] }>(
          'SELECT outcome, refusal, emergency_id, query, supply_point_ids FROM access_log ORDER BY seq DESC LIMIT 1',
        )
      ).rows[0] ?? assert.fail('no event');
    const findings = async () =>
      (
        await w.db.query<{ rule: string; severity: string; subject_person_id: string; evidence: unknown; occurrences: number }>(
          'SELECT rule, severity, subject_person_id, evidence, occurrences FROM findings ORDER BY id',
        )
      ).rows;
    const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;

    let declared = '';

    // One declaration's life through an injected clock: each step stands on the ones before it (the
    // registration, the declaration, its confirmation, the reads, the review), so they run as steps of one test.
    test('the life of a declared emergency, step by step', async (t) => {
      await t.test('support staff are registered in advance with outage-contact fields only: widening and the wrong side are refused', async () => {
        const admin = await as(USERS.admin);
        const ok = await put(admin, '/api/emergency-support/p-retail', { fields: ['holder_name', 'phone', 'address'], note: '仙台営業所 停電連絡班' });
        assert.equal(ok.statusCode, 200, ok.body);
        assert.deepEqual([...ok.json<{ fields: string[] }>().fields].sort(), ['address', 'holder_name', 'phone']);

        const widen = await put(admin, '/api/emergency-support/p-retail', { fields: ['holder_name', 'phone', 'usage', 'retailer'] });
        assert.equal(widen.statusCode, 403, widen.body);
        assert.equal(widen.json().error.details.rule, 'field_not_emergency_contact');
        assert.match(widen.json().error.message, /usage, retailer/);
        const staff = (await get(admin, '/api/emergency-support')).json<{ staff: { personId: string; fields: string[] }[] }>();
        assert.deepEqual(
          staff.staff.map((x) => [x.personId, [...x.fields].sort()]),
          [['p-retail', ['address', 'holder_name', 'phone']]],
          'the refused widening changed nothing',
        );

        const network = await put(admin, '/api/emergency-support/p-cc', { fields: ['phone'] });
        assert.equal(network.statusCode, 403, network.body);
        assert.equal(network.json().error.details.rule, 'side_not_allowed');
        const self = await put(admin, '/api/emergency-support/p-admin', { fields: ['phone'] });
        assert.equal(self.json().error.details.rule, 'self_registration');
        const notAdmin = await put(await as(USERS.callCentre), '/api/emergency-support/p-rctr', { fields: ['phone'] });
        assert.equal(notAdmin.json().error.details.rule, 'not_an_administrator');
        const refused = await w.db.query<{ rule: string }>(
          `SELECT rule FROM governance_events WHERE action = 'emergency_support.register' AND outcome = 'refused' ORDER BY id`,
        );
        assert.deepEqual(
          refused.rows.map((r) => r.rule),
          ['field_not_emergency_contact', 'side_not_allowed', 'self_registration', 'not_an_administrator'],
          'each refusal is evidence',
        );
      });

      await t.test('a registration ended at the very instant it was made is simply gone (it was never in force), not a 500', async () => {
        const admin = await as(USERS.admin);
        assert.equal((await put(admin, '/api/emergency-support/p-rctr', { fields: ['phone'] })).statusCode, 200);
        const res = await w.app.inject({
          method: 'DELETE',
          url: '/api/emergency-support/p-rctr',
          headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        });
        assert.ok(res.statusCode < 300, res.body);
        const staff = (await get(admin, '/api/emergency-support')).json<{ staff: { personId: string }[] }>();
        assert.deepEqual(
          staff.staff.map((x) => x.personId),
          ['p-retail'],
        );
        const again = await w.app.inject({
          method: 'DELETE',
          url: '/api/emergency-support/p-rctr',
          headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        });
        assert.equal(again.json().error.details.rule, 'not_registered');
      });

      await t.test('a declaration needs a second person: the declarer cannot confirm it, a non-declarer cannot either, and pending gives nothing', async () => {
        now = NOW;
        const cc = await as(USERS.callCentre);
        const tooLong = await post(cc, '/api/emergencies', {
          areas: [AOBA],
          startsAt: at(1).toISOString(),
          plannedEndAt: at(100).toISOString(),
          reason: '長すぎる',
        });
        assert.equal(tooLong.statusCode, 400);
        assert.equal(tooLong.json().error.details.rule, 'too_long');
        const byRetail = await post(await as(USERS.retail, TERMINALS.RETAIL), '/api/emergencies', {
          areas: [AOBA],
          startsAt: at(1).toISOString(),
          plannedEndAt: at(25).toISOString(),
          reason: 'x',
        });
        assert.equal(byRetail.json().error.details.rule, 'not_a_declarer');

        const res = await post(cc, '/api/emergencies', {
          areas: [AOBA],
          startsAt: at(1).toISOString(),
          plannedEndAt: at(25).toISOString(),
          reason: '台風19号による広域停電',
        });
        assert.equal(res.statusCode, 201, res.body);
        const d = res.json<{ id: string; status: string; state: string; window: unknown }>();
        assert.deepEqual([d.status, d.state, d.window], ['pending', 'pending', null]);
        declared = d.id;

        const self = await post(cc, `/api/emergencies/${declared}/confirm`, {});
        assert.equal(self.statusCode, 403);
        assert.equal(self.json().error.details.rule, 'self_confirmation');
        const retail = await post(await as(USERS.retail, TERMINALS.RETAIL), `/api/emergencies/${declared}/confirm`, {});
        assert.equal(retail.json().error.details.rule, 'not_a_declarer');

        now = at(2); // inside the planned window, but nobody else has confirmed
        const r = await lookup(USERS.retail, SP.SWITCHED);
        assert.equal(r.statusCode, 403, r.body);
        assert.equal(r.json().error.code, 'no_active_emergency');
      });

      await t.test('confirmed by a second person before its start: still nothing before the start', async () => {
        now = at(0.5);
        const ok = await post(await as(USERS.serviceCentre), `/api/emergencies/${declared}/confirm`, { comment: '気象警報を確認' });
        assert.equal(ok.statusCode, 200, ok.body);
        assert.equal(ok.json().state, 'scheduled');
        assert.equal(ok.json().window.from, at(1).toISOString());

        now = at(0.99);
        const r = await lookup(USERS.retail, SP.SWITCHED);
        assert.equal(r.json().error.code, 'no_active_emergency');
        const e = await lastEvent();
        assert.deepEqual(
          [e.outcome, e.refusal, e.supply_point_ids],
          ['refused', 'no_active_emergency', [SP.SWITCHED]],
          'the refused attempt is logged with the point asked for',
        );
      });

      await t.test(
        'during the window, in the area: the registered fields of a former customer now with a rival, logged with the declaration and the reason',
        async () => {
          now = at(3);
          const r = await lookup(USERS.retail, SP.SWITCHED);
          assert.equal(r.statusCode, 200, r.body);
          const o = outcomes(r.json());
          assert.deepEqual([o['holder_name'], o['phone'], o['address']], ['shown', 'shown', 'shown']);
          for (const f of ['usage', 'contracted_capacity', 'retailer', 'contract_history', 'meter']) assert.equal(o[f], 'masked:former_customer', f);
          assert.equal(o['network_notes'], 'masked:network_only');
          const e = await lastEvent();
          assert.equal(e.outcome, 'served');
          assert.equal(e.emergency_id, declared);
          assert.equal(json(e.query)['reason'], REASON);

          const noReason = await lookup(USERS.retail, SP.SWITCHED, null);
          assert.equal(noReason.statusCode, 400);
          assert.equal(noReason.json().error.code, 'reason_required');
        },
      );

      await t.test('during the window: outside the area and an unregistered person are refused and raised as findings', async () => {
        now = at(4);
        const before = (await findings()).length;
        const outside = await lookup(USERS.retail, SP.R3); // Morioka
        assert.equal(outside.statusCode, 403);
        assert.equal(outside.json().error.code, 'outside_emergency_area');
        const unregistered = await lookup(USERS.retailContractor, SP.OWN_A);
        assert.equal(unregistered.statusCode, 403);
        assert.equal(unregistered.json().error.code, 'not_emergency_support');
        const other = await lookup(USERS.otherRetailer, SP.OWN_A);
        assert.equal(other.statusCode, 403);
        assert.equal(other.json().error.code, 'not_emergency_support', 'another retailer’s staff are never support staff');

        const all = await findings();
        const f = all.slice(before);
        assert.deepEqual(
          f.map((x) => [x.rule, x.severity, x.subject_person_id]),
          [
            ['emergency_not_registered', 'medium', 'p-rctr'],
            ['emergency_not_registered', 'medium', 'p-other'],
          ],
        );
        assert.equal(json(f[0]?.evidence)['statedReason'], REASON, 'the reason given with a refused attempt is kept as evidence');
        // p-retail's attempts before the window are still open: this one is folded into them (one open finding per rule and person).
        const retail = all.filter((x) => x.rule === 'emergency_outside_window' && x.subject_person_id === 'p-retail');
        assert.equal(retail.length, 1);
        assert.equal(retail[0]?.occurrences, 3, 'the two attempts before the window and this one');
        assert.equal(json(retail[0]?.evidence)['supplyPointId'], SP.R3, 'the latest evidence');
        assert.equal(json(retail[0]?.evidence)['refusal'], 'outside_emergency_area');
      });

      await t.test('a narrower registration narrows the screen: a field not registered is masked as such', async () => {
        now = at(5);
        const admin = await as(USERS.admin);
        assert.equal((await put(admin, '/api/emergency-support/p-retail', { fields: ['phone'] })).statusCode, 200);
        const r = await lookup(USERS.retail, SP.OWN_A);
        const o = outcomes(r.json());
        assert.equal(o['phone'], 'shown');
        assert.equal(o['holder_name'], 'masked:outside_emergency_fields');
        assert.equal((await put(admin, '/api/emergency-support/p-retail', { fields: ['holder_name', 'phone', 'address'] })).statusCode, 200);
      });

      await t.test('search by address under the emergency purpose: points in the area carry the registered fields', async () => {
        now = at(6);
        const s = await as(USERS.retail, TERMINALS.RETAIL);
        const res = await get(
          s,
          `/api/supply-points?${new URLSearchParams({ purpose: 'emergency_support', reason: REASON, address: '仙台市青葉区' }).toString()}`,
        );
        assert.equal(res.statusCode, 200, res.body);
        const items = res.json<{ items: { supplyPointId: string; fields: Record<string, { shown: boolean }> }[] }>().items;
        assert.deepEqual(items.map((i) => i.supplyPointId).sort(), [SP.OWN_A, SP.SWITCHED, SP.CORP_A].sort());
        for (const i of items) assert.equal(i.fields['holder_name']?.shown, true, i.supplyPointId);
        assert.equal((await lastEvent()).emergency_id, declared);
      });

      await t.test('extension needs its own confirmation; at the planned end the access disappears by itself', async () => {
        now = at(20);
        const cc = await as(USERS.callCentre);
        const ext = await post(cc, `/api/emergencies/${declared}/extend`, { plannedEndAt: at(40).toISOString(), reason: '復旧作業の長期化' });
        assert.equal(ext.statusCode, 201, ext.body);
        const child = ext.json<{ id: string; startsAt: string; status: string; extendsId: string }>();
        assert.deepEqual([child.status, child.startsAt, child.extendsId], ['pending', at(25).toISOString(), declared]);
        assert.equal((await post(cc, `/api/emergencies/${child.id}/confirm`, {})).json().error.details.rule, 'self_confirmation');

        now = new Date(at(25).getTime() - 1);
        assert.equal((await lookup(USERS.retail, SP.OWN_A)).statusCode, 200, 'one millisecond before the planned end');
        now = at(25);
        const r = await lookup(USERS.retail, SP.OWN_A);
        assert.equal(r.statusCode, 403, 'at the planned end, with the extension unconfirmed, nothing: no job ran');
        assert.equal(r.json().error.code, 'no_active_emergency');

        // Confirming the extension late: it applies from confirmation, not retroactively.
        now = at(26);
        assert.equal((await post(await as(USERS.serviceCentre), `/api/emergencies/${child.id}/confirm`, {})).statusCode, 200);
        assert.equal((await lookup(USERS.retail, SP.OWN_A)).statusCode, 200);
        assert.equal((await lastEvent()).emergency_id, child.id);

        now = at(27);
        const ended = await post(await as(USERS.callCentre), `/api/emergencies/${child.id}/end`, { reason: '全域復旧' });
        assert.equal(ended.statusCode, 200, ended.body);
        assert.equal(ended.json().state, 'ended');
        assert.equal((await lookup(USERS.retail, SP.OWN_A)).json().error.code, 'no_active_emergency', 'ended early: at once');
      });

      await t.test('the review lists every read under the declaration with who, when and the reason; compliance signs it off afterwards', async () => {
        now = at(30);
        const comp = await as(USERS.compliance);
        const res = await get(comp, `/api/emergencies/${declared}/review`);
        assert.equal(res.statusCode, 200, res.body);
        const review = res.json<{
          reads: { userId: string; statedReason: string; supplyPoints: { supplyPointId: string; shown: string[] }[]; occurredAt: string }[];
          refused: { refusal: string }[];
          summary: { reads: number; people: number };
        }>();
        // Served under it: at 3 h (SWITCHED), 5 h (OWN_A, phone only), 6 h (search), 24.99… h (OWN_A).
        assert.equal(review.summary.reads, 4);
        assert.equal(review.summary.people, 1);
        assert.ok(review.reads.every((r) => r.userId === USERS.retail && r.statedReason === REASON));
        assert.deepEqual(review.reads[0]?.supplyPoints, [{ supplyPointId: SP.SWITCHED, shown: ['supply_point_id', 'address', 'holder_name', 'phone'] }]);
        // Refused emergency-support attempts inside the window's span: at 2 h (declared but not yet confirmed),
        // 3 h (no reason stated), 4 h (outside the area; two people not registered).
        assert.deepEqual(
          review.refused.map((r) => r.refusal),
          ['no_active_emergency', 'reason_required', 'outside_emergency_area', 'not_emergency_support', 'not_emergency_support'],
        );

        const csv = await get(comp, `/api/emergencies/${declared}/review?format=csv`);
        assert.ok(csv.body.startsWith('\uFEFF種別,日時（日本時間）,ログインID,'), 'UTF-8 with BOM for Excel');
        assert.equal(csv.body.split('\r\n').filter((l) => l.startsWith('閲覧,')).length, 6, 'one line per supply point read (the search returned three)');

        const declarer = await post(await as(USERS.callCentre), `/api/emergencies/${declared}/sign-off`, { comment: '確認' });
        assert.equal(declarer.json().error.details.rule, 'not_compliance');
        const ok = await post(comp, `/api/emergencies/${declared}/sign-off`, { comment: '全件の理由を確認、問題なし' });
        assert.equal(ok.statusCode, 200, ok.body);
        assert.equal(ok.json().signedOffBy, USERS.compliance);
        assert.equal((await post(comp, `/api/emergencies/${declared}/sign-off`, { comment: 'again' })).json().error.details.rule, 'already_signed_off');
      });

      await t.test('a review cannot be signed off while its emergency runs; findings are listed for compliance only', async () => {
        now = at(50);
        const cc = await as(USERS.callCentre);
        const d = (
          await post(cc, '/api/emergencies', {
            areas: [{ kind: 'area_code', areaCode: '02' }],
            startsAt: at(50).toISOString(),
            plannedEndAt: at(60).toISOString(),
            reason: '地震',
          })
        ).json<{ id: string }>();
        assert.equal((await post(await as(USERS.serviceCentre), `/api/emergencies/${d.id}/confirm`, {})).statusCode, 200);
        const early = await post(await as(USERS.compliance), `/api/emergencies/${d.id}/sign-off`, { comment: 'x' });
        assert.equal(early.json().error.details.rule, 'not_over');
        const banner = await get(await as(USERS.retail, TERMINALS.RETAIL), '/api/emergencies/active');
        assert.deepEqual(
          banner.json<{ emergencies: { id: string }[] }>().emergencies.map((x) => x.id),
          [d.id],
        );
        assert.deepEqual(banner.json<{ support: { fields: string[] } }>().support.fields.sort(), ['address', 'holder_name', 'phone']);

        assert.equal((await get(await as(USERS.retail, TERMINALS.RETAIL), '/api/findings')).statusCode, 403);
        const list = (await get(await as(USERS.compliance), '/api/findings?open=true')).json<{ findings: { rule: string }[] }>();
        assert.ok(list.findings.some((f) => f.rule === 'emergency_outside_window'));
      });

      await t.test(
        'ending an emergency early ends its whole line: a confirmed extension (and its own extension) never opens afterwards (issue 14)',
        async () => {
          now = at(70);
          const cc = await as(USERS.callCentre);
          const nsc = await as(USERS.serviceCentre);
          const root = (
            await post(cc, '/api/emergencies', {
              areas: [{ kind: 'area_code', areaCode: '02' }],
              startsAt: at(70).toISOString(),
              plannedEndAt: at(71).toISOString(),
              reason: '大雪',
            })
          ).json<{ id: string }>();
          assert.equal((await post(nsc, `/api/emergencies/${root.id}/confirm`, {})).statusCode, 200);
          const ext = (await post(cc, `/api/emergencies/${root.id}/extend`, { plannedEndAt: at(80).toISOString(), reason: '延長' })).json<{ id: string }>();
          assert.equal((await post(nsc, `/api/emergencies/${ext.id}/confirm`, {})).statusCode, 200);
          const ext2 = (await post(cc, `/api/emergencies/${ext.id}/extend`, { plannedEndAt: at(90).toISOString(), reason: '再延長' })).json<{ id: string }>();
          assert.equal((await post(nsc, `/api/emergencies/${ext2.id}/confirm`, {})).statusCode, 200);
          const ext3 = (await post(cc, `/api/emergencies/${ext2.id}/extend`, { plannedEndAt: at(95).toISOString(), reason: '再々延長（未確認）' })).json<{
            id: string;
          }>();
          assert.equal((await lookup(USERS.retail, SP.SWITCHED)).statusCode, 200, 'the control: in force before the early end');

          now = at(70.5);
          const ended = await post(await as(USERS.callCentre), `/api/emergencies/${root.id}/end`, { reason: '早期復旧' });
          assert.equal(ended.statusCode, 200, ended.body);
          for (const t of [at(70.5), at(71), new Date(at(71).getTime() + 1), at(75), at(85)]) {
            now = t;
            const r = await lookup(USERS.retail, SP.SWITCHED);
            assert.equal(r.statusCode, 403, `${t.toISOString()}: ${r.body}`);
            assert.equal(r.json().error.code, 'no_active_emergency');
          }
          const states = await Promise.all(
            [ext.id, ext2.id, ext3.id].map(async (id) =>
              (await get(await as(USERS.compliance), `/api/emergencies/${id}`)).json<{ state: string; status: string }>(),
            ),
          );
          assert.deepEqual(
            states.map((x) => [x.status, x.state]),
            [
              ['confirmed', 'ended'],
              ['confirmed', 'ended'],
              ['withdrawn', 'withdrawn'],
            ],
          );
          const cannot = await post(await as(USERS.serviceCentre), `/api/emergencies/${ext3.id}/confirm`, {});
          assert.equal(cannot.json().error.details.rule, 'not_pending');
        },
      );
    });
  });
}
