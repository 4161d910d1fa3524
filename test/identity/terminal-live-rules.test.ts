import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { needsSecondAdministrator, networkOnlyGate, retailOnNetworkSite, standingOf, type TerminalFacts } from '../../src/domain/terminal.ts';
import { SIDES } from '../../src/domain/organization.ts';
import { login, outcomes, seededApp, testApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import type { Db } from '../../src/store/db.ts';

/**
 * Live rules on terminals and logins (issue 20): a terminal registered or changed into network-set at a network
 * site (which opens network-only data) or network-set at a retail or shared site (F1) is written only once a
 * second access administrator approves it with a reason; a retailer's person at a network-site
 * terminal is refused (or let through, by policy) and raises a live finding either way; the reconciliation
 * lists misplaced terminals first and does not call a terminal registered today unused.
 */

const DAY = 86_400_000;
const SETTINGS = ['network', 'retail'] as const;
const SITES = ['network', 'retail', 'shared'] as const;
const standing = fc.record({ setting: fc.constantFrom(...SETTINGS), siteSide: fc.constantFrom(...SITES) });

/** Every registry state a save can ask for, and "not registered" (null). */
const STATES = SETTINGS.flatMap((setting) => SITES.map((siteSide) => ({ setting, siteSide })));
const BEFORE = [null, ...STATES];

test('a second administrator is needed exactly for a change that opens network-only data or lands in F1 (every state pair)', () => {
  // The oracle asks the gate itself, not the rule: does a person holding network.equipment read network-only
  // data through a terminal in service so registered?
  const opens = (s: Pick<TerminalFacts, 'setting' | 'siteSide'> | null) =>
    s !== null && networkOnlyGate(true, standingOf('T', { ...s, retiredAt: null }, NOW)) === null;
  // F1 written out: network-set, standing at a retail or shared site.
  const f1 = (s: { setting: string; siteSide: string } | null) => s !== null && s.setting === 'network' && (s.siteSide === 'retail' || s.siteSide === 'shared');
  let waits = 0;
  for (const before of BEFORE)
    for (const after of STATES) {
      const expected = (opens(after) && !opens(before)) || (f1(after) && !f1(before));
      assert.equal(needsSecondAdministrator(before, after), expected, `${JSON.stringify(before)} → ${JSON.stringify(after)}`);
      if (expected) waits++;
    }
  // 7 befores × 6 afters: into network/network from the 6 other befores; into network/retail and network/shared
  // from the 5 befores outside F1 each.
  assert.equal(waits, 6 + 2 * 5);
  // The cases of the review, by name.
  const nn = { setting: 'network', siteSide: 'network' } as const;
  assert.equal(needsSecondAdministrator(null, nn), true, 'a new network-site terminal');
  assert.equal(needsSecondAdministrator({ setting: 'network', siteSide: 'retail' }, nn), true, 'network/retail → network/network');
  for (const siteSide of SITES) assert.equal(needsSecondAdministrator({ setting: 'retail', siteSide }, nn), true, `retail/${siteSide} → network/network`);
  assert.equal(needsSecondAdministrator(nn, nn), false, 'an edit of a network-site terminal');
  assert.equal(needsSecondAdministrator(nn, { setting: 'retail', siteSide: 'network' }), false, 'narrowing to retail-set');
  assert.equal(needsSecondAdministrator({ setting: 'network', siteSide: 'retail' }, { setting: 'retail', siteSide: 'retail' }), false, 'out of F1, narrowing');
});

test('only a retail-side person at a terminal standing at a network site, in service, crosses sides', () => {
  const at = NOW;
  fc.assert(
    fc.property(fc.constantFrom(...SIDES, null), standing, fc.boolean(), (side, t, retired) => {
      const facts: TerminalFacts = { ...t, retiredAt: retired ? new Date(at.getTime() - DAY) : null };
      assert.equal(retailOnNetworkSite(side, facts, at), side !== null && side !== 'network' && !retired && t.siteSide === 'network');
    }),
  );
  assert.equal(retailOnNetworkSite('retail', null, at), false, 'no terminal: nothing to cross');
});

/** A second access administrator: u-admin2 is given access.admin. */
async function secondAdministrator(db: Db): Promise<void> {
  await db.query(
    `INSERT INTO grants (user_id, permission_id, scope_organization_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
     VALUES ('u-admin2', 'access.admin', NULL, 'approved', 'アクセス管理（第二）', 'u-admin2', 'p-admin2', '2019-04-01', 'u-admin', 'p-admin', '2019-04-01', '2027-04-01')`,
  );
}

const errorOf = (res: LightMyRequestResponse) => res.json<{ error: { code: string; details?: { rule?: string } } }>().error;

for (const store of STORES) {
  describe(`live rules on terminals and logins on ${store.name}`, () => {
    const w = seededApp(store, { sessionCacheMs: 0 }, secondAdministrator);
    let admin: Session;
    let admin2: Session;
    const as = async (who: 'admin' | 'admin2') =>
      who === 'admin' ? (admin ??= await login(w.app, USERS.admin)) : (admin2 ??= await login(w.app, USERS.admin2));
    const send = async (who: 'admin' | 'admin2', method: 'POST' | 'PUT', url: string, payload: Record<string, unknown> = {}) => {
      const s = await as(who);
      return w.app.inject({ method, url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    };
    const get = async (url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: (await as('admin')).cookie } });
    const terminal = async (id: string) =>
      (await get('/api/terminals'))
        .json<{ terminals: { id: string; setting: string; siteSide: string; misplaced: boolean; registeredAt: string }[] }>()
        .terminals.find((t) => t.id === id);
    const governance = async (action: string) =>
      (
        await w.db.query<{ outcome: string; rule: string | null; subject_id: string; actor_user_id: string | null }>(
          'SELECT outcome, rule, subject_id, actor_user_id FROM governance_events WHERE action = $1 ORDER BY id',
          [action],
        )
      ).rows;
    const findings = async (personId: string) =>
      (
        await w.db.query<{ severity: string; source: string; subject_user_id: string; summary: string; evidence: unknown }>(
          `SELECT severity, source, subject_user_id, summary, evidence FROM findings WHERE rule = 'retail_on_network_terminal' AND subject_person_id = $1 ORDER BY id`,
          [personId],
        )
      ).rows.map((r) => ({ ...r, evidence: (typeof r.evidence === 'string' ? JSON.parse(r.evidence) : r.evidence) as Record<string, unknown> }));

    const T20001 = {
      organizationId: 'org-a0001',
      office: '仙台営業所',
      kind: 'dedicated',
      setting: 'network',
      siteSide: 'retail',
      reason: '託送システム端末の移設',
    };

    test('registering a network-set terminal at a retail site waits for a second administrator, who approves it with a reason', async () => {
      const put = await send('admin', 'PUT', '/api/terminals/T20001', T20001);
      assert.equal(put.statusCode, 202, put.body);
      const { requestId } = put.json<{ pending: true; requestId: number; terminalId: string }>();
      assert.deepEqual(put.json(), { pending: true, requestId, terminalId: 'T20001' });
      assert.equal(await terminal('T20001'), undefined, 'not registered before the approval');
      const listed = (await get('/api/terminal-requests')).json<{
        requests: { id: number; terminalId: string; requestedBy: string; requestReason: string; status: string; registered: boolean }[];
      }>();
      assert.deepEqual(
        listed.requests.map((r) => [r.id, r.terminalId, r.requestedBy, r.requestReason, r.status, r.registered]),
        [[requestId, 'T20001', USERS.admin, '託送システム端末の移設', 'pending', false]],
      );
      assert.deepEqual(
        (await governance('terminal.request')).map((e) => [e.outcome, e.subject_id, e.actor_user_id]),
        [['done', 'T20001', USERS.admin]],
      );

      // The requester cannot approve it: the rule is named, the refusal is a governance event.
      const own = await send('admin', 'POST', `/api/terminal-requests/${requestId}/approve`, { reason: '自分で承認' });
      assert.equal(own.statusCode, 403, own.body);
      assert.equal(errorOf(own).details?.rule, 'self_confirmation');
      assert.deepEqual(
        (await governance('terminal.request_approve')).map((e) => [e.outcome, e.rule]),
        [['refused', 'self_confirmation']],
      );
      assert.equal(await terminal('T20001'), undefined);
      // Nor may the store be talked into it: the second person is its rule too.
      await assert.rejects(
        w.db.query(
          `UPDATE terminal_requests SET status = 'approved', decided_at = $2, decided_by = 'u-admin', decided_by_person = 'p-admin', decision_reason = 'x' WHERE id = $1`,
          [requestId, NOW],
        ),
      );

      // A second administrator must say why.
      const noReason = await send('admin2', 'POST', `/api/terminal-requests/${requestId}/approve`, {});
      assert.equal(noReason.statusCode, 400, noReason.body);
      const ok = await send('admin2', 'POST', `/api/terminal-requests/${requestId}/approve`, { reason: '棚卸で設置場所を確認済み、年度末に撤去予定' });
      assert.equal(ok.statusCode, 200, ok.body);
      const body = ok.json<{ request: { status: string; decidedBy: string; decisionReason: string }; terminal: { id: string; misplaced: boolean } }>();
      assert.deepEqual(
        [body.request.status, body.request.decidedBy, body.request.decisionReason, body.terminal.id, body.terminal.misplaced],
        ['approved', USERS.admin2, '棚卸で設置場所を確認済み、年度末に撤去予定', 'T20001', true],
      );
      const now = await terminal('T20001');
      assert.deepEqual([now?.setting, now?.siteSide, now?.misplaced], ['network', 'retail', true], 'in force once approved');
      assert.equal(now?.registeredAt, NOW.toISOString(), 'registered at the approval');
      assert.deepEqual(
        (await governance('terminal.request_approve')).map((e) => [e.outcome, e.rule, e.actor_user_id]),
        [
          ['refused', 'self_confirmation', USERS.admin],
          ['done', null, USERS.admin2],
        ],
      );
      assert.deepEqual(
        (await governance('terminal.register')).filter((e) => e.subject_id === 'T20001').map((e) => e.actor_user_id),
        [USERS.admin2],
      );
      const again = await send('admin2', 'POST', `/api/terminal-requests/${requestId}/approve`, { reason: '二度目' });
      assert.equal(again.statusCode, 409);
      assert.equal(errorOf(again).details?.rule, 'not_pending');
      assert.deepEqual((await get('/api/terminal-requests')).json(), { requests: [] }, 'nothing pending any more');
    });

    test('re-setting a terminal into that state waits too (one open request per terminal); a rejection writes nothing; edits and narrowing need one person', async () => {
      const change = { organizationId: 'org-nw', office: '仙台コールセンター', kind: 'dedicated', setting: 'network', siteSide: 'shared' };
      const put = await send('admin', 'PUT', `/api/terminals/${TERMINALS.CC}`, change);
      assert.equal(put.statusCode, 202, put.body);
      const { requestId } = put.json<{ requestId: number }>();
      assert.deepEqual([(await terminal(TERMINALS.CC))?.siteSide, (await terminal(TERMINALS.CC))?.misplaced], ['network', false], 'unchanged while it waits');
      const second = await send('admin2', 'PUT', `/api/terminals/${TERMINALS.CC}`, { ...change, siteSide: 'retail' });
      assert.equal(second.statusCode, 409, second.body);
      assert.equal(errorOf(second).details?.rule, 'request_pending');
      const listed = (await get('/api/terminal-requests')).json<{ requests: { id: number; registered: boolean }[] }>();
      assert.deepEqual(
        listed.requests.map((r) => [r.id, r.registered]),
        [[requestId, true]],
      );
      assert.equal((await send('admin2', 'POST', `/api/terminal-requests/${requestId}/reject`, {})).statusCode, 400, 'a rejection says why too');
      const rejected = await send('admin2', 'POST', `/api/terminal-requests/${requestId}/reject`, { reason: '共用拠点への送配電端末の設置は認めない' });
      assert.equal(rejected.statusCode, 200, rejected.body);
      assert.equal(rejected.json<{ request: { status: string } }>().request.status, 'rejected');
      assert.deepEqual([(await terminal(TERMINALS.CC))?.siteSide, (await terminal(TERMINALS.CC))?.misplaced], ['network', false], 'nothing written');
      const all = (await get('/api/terminal-requests?status=all')).json<{ requests: { id: number; status: string; decisionReason: string | null }[] }>();
      assert.deepEqual(
        all.requests.find((r) => r.id === requestId),
        { ...all.requests.find((r) => r.id === requestId), status: 'rejected', decisionReason: '共用拠点への送配電端末の設置は認めない' },
      );

      // Editing a terminal already misplaced (its office) and moving one out of that state take one administrator.
      const edit = await send('admin', 'PUT', `/api/terminals/${TERMINALS.MISPLACED}`, {
        organizationId: 'org-nw',
        office: '仙台営業所 2F',
        kind: 'dedicated',
        setting: 'network',
        siteSide: 'retail',
      });
      assert.equal(edit.statusCode, 200, edit.body);
      const narrow = await send('admin', 'PUT', '/api/terminals/T20001', { ...T20001, setting: 'retail' });
      assert.equal(narrow.statusCode, 200, narrow.body);
      assert.equal((await terminal('T20001'))?.misplaced, false);
    });

    test('a terminal registered or changed so that it opens network-only data waits for a second administrator; narrowing it takes one', async () => {
      const nn = { organizationId: 'org-nw', office: '本店 3F', kind: 'dedicated', setting: 'network', siteSide: 'network', reason: '系統運用端末の増設' };
      // A new network-site terminal: kept as a request, not registered, not usable as one.
      const put = await send('admin', 'PUT', '/api/terminals/T20002', nn);
      assert.equal(put.statusCode, 202, put.body);
      const { requestId } = put.json<{ requestId: number }>();
      assert.deepEqual(put.json(), { pending: true, requestId, terminalId: 'T20002' });
      assert.equal(await terminal('T20002'), undefined, 'not registered before the approval');
      const nsc = await login(w.app, USERS.serviceCentre, 'T20002');
      const notes = async (s: Session) =>
        outcomes(
          (await w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=outage_response`, headers: { cookie: s.cookie } })).json<{
            fields: Record<string, { shown: boolean; reason?: string }>;
          }>(),
        )['network_notes'];
      assert.equal(await notes(nsc), 'masked:terminal_not_permitted', 'an unregistered terminal opens nothing');
      // The one who asked cannot approve it; a second administrator can, and from then it is in force.
      const own = await send('admin', 'POST', `/api/terminal-requests/${requestId}/approve`, { reason: '自分で承認' });
      assert.equal(own.statusCode, 403, own.body);
      assert.equal(errorOf(own).details?.rule, 'self_confirmation');
      assert.equal(await terminal('T20002'), undefined);
      const ok = await send('admin2', 'POST', `/api/terminal-requests/${requestId}/approve`, { reason: '設置場所を確認済み' });
      assert.equal(ok.statusCode, 200, ok.body);
      const now = await terminal('T20002');
      assert.deepEqual([now?.setting, now?.siteSide, now?.misplaced], ['network', 'network', false], 'in force once approved');
      assert.equal(await notes(await login(w.app, USERS.serviceCentre, 'T20002')), 'shown', 'a network-site terminal once approved');
      assert.deepEqual(
        (await governance('terminal.register')).filter((e) => e.subject_id === 'T20002').map((e) => e.actor_user_id),
        [USERS.admin2],
      );

      // Editing it (its office) takes one administrator; so does narrowing it to retail-set.
      const edit = await send('admin', 'PUT', '/api/terminals/T20002', { ...nn, office: '本店 4F' });
      assert.equal(edit.statusCode, 200, edit.body);
      const narrow = await send('admin', 'PUT', '/api/terminals/T20002', { ...nn, setting: 'retail' });
      assert.equal(narrow.statusCode, 200, narrow.body);
      assert.deepEqual([(await terminal('T20002'))?.setting, (await terminal('T20002'))?.siteSide], ['retail', 'network']);
      // Back to network-set, and network/retail → network/network (the misplaced terminal found at a network site): both widen, both wait.
      const back = await send('admin', 'PUT', '/api/terminals/T20002', nn);
      assert.equal(back.statusCode, 202, back.body);
      assert.equal((await terminal('T20002'))?.setting, 'retail', 'unchanged while it waits');
      const moved = await send('admin', 'PUT', `/api/terminals/${TERMINALS.MISPLACED}`, { ...nn, office: '仙台営業所' });
      assert.equal(moved.statusCode, 202, moved.body);
      assert.deepEqual(
        [(await terminal(TERMINALS.MISPLACED))?.siteSide, (await terminal(TERMINALS.MISPLACED))?.misplaced],
        ['retail', true],
        'unchanged while it waits',
      );
      for (const r of [back, moved]) {
        const rejected = await send('admin2', 'POST', `/api/terminal-requests/${r.json<{ requestId: number }>().requestId}/reject`, { reason: '検査用' });
        assert.equal(rejected.statusCode, 200, rejected.body);
      }
    });

    test('the reconciliation lists misplaced terminals first and counts a terminal never used from its registration', async () => {
      // Registered today, never used: not unused. Registered 31 days ago, never used: unused.
      for (const id of ['T-NEW-TODAY', 'T-NEW-OLD']) {
        const put = await send('admin', 'PUT', `/api/terminals/${id}`, {
          organizationId: 'org-nw',
          office: '本店',
          kind: 'virtual',
          setting: 'network',
          siteSide: 'network',
        });
        assert.equal(put.statusCode, 202, put.body);
        const ok = await send('admin2', 'POST', `/api/terminal-requests/${put.json<{ requestId: number }>().requestId}/approve`, { reason: '本店の仮想端末' });
        assert.equal(ok.statusCode, 200, ok.body);
      }
      await w.db.query('UPDATE terminals SET registered_at = $2 WHERE id = $1', ['T-NEW-OLD', new Date(NOW.getTime() - 31 * DAY)]);
      // A misplaced terminal that is also unused, so it appears in both lists.
      await w.db.query('UPDATE terminals SET last_used_at = $2 WHERE id = $1', [TERMINALS.MISPLACED, new Date(NOW.getTime() - 40 * DAY)]);
      const r = (await get('/api/terminals/reconciliation?unusedDays=30')).json<{ misplaced: { id: string }[]; unused: { id: string; unused: boolean }[] }>();
      assert.ok(r.misplaced.some((t) => t.id === TERMINALS.MISPLACED));
      const unused = r.unused.map((t) => t.id);
      assert.ok(unused.includes('T-NEW-OLD'), 'never used for 31 days since its registration');
      assert.ok(!unused.includes('T-NEW-TODAY'), 'registered today: not unused');
      assert.equal((await terminal('T-NEW-TODAY')) === undefined, false);
      const csv = (await get('/api/terminals/reconciliation?format=csv&unusedDays=30')).body;
      const lines = csv
        .replace(/^\uFEFF/, '')
        .split(/\r?\n/)
        .slice(1)
        .filter((l) => l !== '');
      const kinds = lines.map((l) => l.split(',')[0] ?? '');
      assert.ok(lines[0]?.includes(TERMINALS.MISPLACED) === true && lines.at(-1)?.includes('T-NEW-OLD') === true, csv);
      const firstUnused = kinds.findIndex((k) => k !== kinds[0]);
      assert.ok(kinds.length >= 3 && firstUnused > 0, csv);
      assert.ok(
        kinds.slice(0, firstUnused).every((k) => k === kinds[0]) && kinds.slice(firstUnused).every((k) => k !== kinds[0]),
        'misplaced lines, then unused lines',
      );
      assert.ok(!csv.includes('T-NEW-TODAY'), 'the terminal registered today is not in the report');
    });

    test('a retailer’s person at a network-site terminal is refused by default, with one live finding', async () => {
      const before = await findings('p-retail');
      const res = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.retail, terminalId: TERMINALS.CC } });
      assert.equal(res.statusCode, 403, res.body);
      assert.deepEqual([errorOf(res).code, errorOf(res).details?.rule], ['forbidden', 'retail_on_network_terminal']);
      assert.equal(
        res.cookies.find((c) => c.name === 'gw_session'),
        undefined,
        'no session',
      );
      const raised = (await findings('p-retail')).slice(before.length);
      assert.equal(raised.length, 1);
      assert.deepEqual(
        [raised[0]?.severity, raised[0]?.source, raised[0]?.subject_user_id, raised[0]?.evidence['terminalId'], raised[0]?.evidence['outcome']],
        ['high', 'live', USERS.retail, TERMINALS.CC, 'refused'],
      );
      assert.match(raised[0]?.summary ?? '', /送配電の拠点にある端末 T-CC1/);
      const refused = (await governance('session.login')).filter((e) => e.outcome === 'refused' && e.subject_id === USERS.retail);
      assert.deepEqual(
        refused.map((e) => e.rule),
        ['retail_on_network_terminal'],
      );
      // The same person at their own terminal, or at a network-set one standing in a retail office, is not crossing sides;
      // a network person at the call centre is not either.
      for (const [userId, terminalId] of [
        [USERS.retail, TERMINALS.RETAIL],
        [USERS.retail, TERMINALS.MISPLACED],
        [USERS.callCentre, TERMINALS.CC],
      ] as const) {
        const ok = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId, terminalId } });
        assert.equal(ok.statusCode, 201, `${userId} at ${terminalId}: ${ok.body}`);
      }
      assert.equal((await findings('p-retail')).length, before.length + 1, 'no finding for the logins that cross nothing');
      assert.equal((await findings('p-cc')).length, 0);
    });

    test('with GRIDWALL_RETAIL_ON_NETWORK_TERMINAL=limit the login goes through with the person’s own reach, recorded and raised', async () => {
      const lenient = await testApp(w.db, { retailOnNetworkTerminal: 'limit', sessionCacheMs: 0 });
      try {
        const res = await lenient.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.otherRetailer, terminalId: TERMINALS.NSC } });
        assert.equal(res.statusCode, 201, res.body);
        const cookie = `gw_session=${res.cookies.find((c) => c.name === 'gw_session')?.value ?? assert.fail('no session')}`;
        const me = (await lenient.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).json<{ terminalId: string; principalClass: string }>();
        assert.deepEqual([me.terminalId, me.principalClass], [TERMINALS.NSC, 'other_retailer']);
        const read = await lenient.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie } });
        const fields = outcomes(read.json<{ fields: Record<string, { shown: boolean; reason?: string }> }>());
        assert.notEqual(fields['network_notes'], 'shown', 'a network-site terminal opens nothing for a retailer’s person');
        assert.notEqual(fields['holder_name'], 'shown', 'nor another retailer’s customer');
        const raised = await findings('p-other');
        assert.equal(raised.length, 1);
        assert.deepEqual([raised[0]?.severity, raised[0]?.evidence['outcome'], raised[0]?.evidence['terminalId']], ['high', 'limited', TERMINALS.NSC]);
        const done = (await governance('session.login')).filter((e) => e.subject_id === USERS.otherRetailer);
        assert.deepEqual(
          done.map((e) => [e.outcome, e.rule]),
          [['done', 'retail_on_network_terminal']],
        );
      } finally {
        await lenient.close();
      }
    });
  });
}
