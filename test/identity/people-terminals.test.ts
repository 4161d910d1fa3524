import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { login, loginAll, outcomes, seededApp, testApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/** Terminals only narrow; the registry is reconciled; dormant accounts go; grants are recertified; tokens are revocable. */
for (const store of STORES) {
  describe(`people, terminals, campaigns and tokens on ${store.name}`, () => {
    let now = NOW;
    const admin = () => s[USERS.admin] as Session;
    let s: Record<string, Session>;

    const w = seededApp(store, { sessionCacheMs: 0, now: () => now }, async (db) => {
      // Accounts made long ago, so "no login for 90 days" can be true of them.
      // Everyone but the leaver logged in yesterday: a dormant account is refused at login (issue 14).
      await db.query(`UPDATE accounts SET created_at = '2020-01-01T00:00:00Z', last_login_at = CASE WHEN user_id = $1 THEN NULL ELSE $2::timestamptz END`, [
        USERS.leaver,
        new Date(NOW.getTime() - 86_400_000),
      ]);
    });
    before(async () => {
      s = await loginAll(w.app, [USERS.admin, USERS.admin2, USERS.compliance, USERS.retail, USERS.otherRetailer]);
    });

    const get = (who: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: who.cookie } });
    const send = (who: Session, method: 'POST' | 'PUT', url: string, payload: Record<string, unknown> = {}) =>
      w.app.inject({ method, url, payload, headers: { cookie: who.cookie, 'x-csrf-token': who.csrf } });
    const notes = async (terminal?: string) => {
      const nsc = await login(w.app, USERS.serviceCentre, terminal);
      const res = await get(nsc, `/api/supply-points/${SP.OWN_A}?purpose=outage_response`);
      return outcomes(res.json<{ fields: Record<string, { shown: boolean; reason?: string }> }>())['network_notes'];
    };

    test('a terminal only narrows: network-only data needs a network-set terminal standing at a network site', async () => {
      assert.equal(await notes(TERMINALS.NSC), 'shown');
      assert.equal(await notes(TERMINALS.MISPLACED), 'masked:terminal_not_permitted', 'network-set but standing in a retail office (F1)');
      assert.equal(await notes(TERMINALS.RETAIL), 'masked:terminal_not_permitted');
      assert.equal(await notes('T-NOBODY-KNOWS'), 'masked:terminal_not_permitted', 'unknown terminal, policy "limit"');
      assert.equal(await notes(undefined), 'masked:terminal_not_permitted');
      // And no terminal lets a person without the grant see it.
      const cc = await login(w.app, USERS.callCentre, TERMINALS.CC);
      const res = await get(cc, `/api/supply-points/${SP.OWN_A}?purpose=customer_inquiry`);
      assert.equal(outcomes(res.json<{ fields: Record<string, { shown: boolean; reason?: string }> }>())['network_notes'], 'masked:network_only');
    });

    test('with the "refuse" policy an unregistered terminal cannot log in; a retired terminal never can', async () => {
      const strict = await testApp(w.db, { unknownTerminal: 'refuse', now: () => now });
      try {
        const unknown = await strict.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.serviceCentre, terminalId: 'T-NOBODY-KNOWS' } });
        assert.equal(unknown.statusCode, 403);
        assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'unknown_terminal');
        assert.equal((await strict.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.serviceCentre } })).statusCode, 403);
        assert.equal(
          (await strict.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.serviceCentre, terminalId: TERMINALS.NSC } })).statusCode,
          201,
        );
      } finally {
        await strict.close();
      }
      // A network-site terminal in the registry (registering one through the API takes a second administrator:
      // test/identity/terminal-live-rules.test.ts).
      await w.db.query(
        `INSERT INTO terminals (id, organization_id, office, kind, setting, site_side) VALUES ('T-OLD', 'org-nw', '本店', 'dedicated', 'network', 'network')`,
      );
      const user = await login(w.app, USERS.callCentre, 'T-OLD');
      assert.equal((await send(admin(), 'POST', '/api/terminals/T-OLD/retire')).statusCode, 200);
      assert.equal((await get(user, '/api/me')).statusCode, 401, 'sessions from a retired terminal end');
      const again = await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.callCentre, terminalId: 'T-OLD' } });
      assert.equal(again.json<{ error: { code: string } }>().error.code, 'retired_terminal');
    });

    test('the reconciliation report lists network-set terminals away from network sites and terminals unused for N days (CSV for Excel)', async () => {
      // Every fixture terminal was used today by the tests above; the retail one is made last used 31 days ago.
      await w.db.query('UPDATE terminals SET last_used_at = $2 WHERE id = $1', [TERMINALS.RETAIL, new Date(NOW.getTime() - 31 * 86_400_000)]);
      const r = (await get(admin(), '/api/terminals/reconciliation?unusedDays=30')).json<{ misplaced: { id: string }[]; unused: { id: string }[] }>();
      assert.deepEqual(
        r.misplaced.map((t) => t.id),
        [TERMINALS.MISPLACED],
      );
      assert.deepEqual(
        r.unused.map((t) => t.id),
        [TERMINALS.RETAIL],
        'only the terminal last used 31 days ago',
      );
      assert.ok(!r.unused.some((t) => t.id === TERMINALS.NSC), 'used today');
      assert.ok(r.unused.some((t) => t.id === TERMINALS.CC) === false && r.unused.every((t) => t.id !== 'T-OLD'), 'used or retired terminals are not "unused"');
      // Moving the physical inventory's answer: the misplaced terminal is re-set as a retail terminal.
      assert.equal(
        (
          await send(admin(), 'PUT', `/api/terminals/${TERMINALS.MISPLACED}`, {
            organizationId: 'org-nw',
            office: '仙台営業所',
            kind: 'dedicated',
            setting: 'retail',
            siteSide: 'retail',
          })
        ).statusCode,
        200,
      );
      const after = (await get(admin(), '/api/terminals/reconciliation')).json<{ misplaced: unknown[] }>();
      assert.equal(after.misplaced.length, 0);
      const csv = await get(admin(), '/api/terminals/reconciliation?format=csv&unusedDays=1');
      assert.ok(csv.body.startsWith('\uFEFF指摘,端末ID,'), 'UTF-8 with BOM');
      assert.equal((await get(s[USERS.retail] as Session, '/api/terminals')).statusCode, 403);
      const { rows } = await w.db.query<{ action: string }>(`SELECT action FROM governance_events WHERE subject_type = 'terminal' AND subject_id = $1`, [
        TERMINALS.MISPLACED,
      ]);
      assert.deepEqual(
        rows.map((r) => r.action),
        ['terminal.update'],
      );
    });

    test('dormant accounts are found and disabled (dry run first); accounts with no person behind them are reported', async () => {
      const list = (await get(admin(), '/api/accounts')).json<{ accounts: { userId: string; dormant: boolean; orphan: boolean }[] }>();
      const flag = (u: string) => list.accounts.find((a) => a.userId === u);
      assert.equal(flag(USERS.leaver)?.orphan, true, 'left in 2022, account still enabled');
      assert.equal(flag(USERS.leaver)?.dormant, true);
      assert.equal(flag(USERS.admin)?.dormant, false, 'logged in today');
      const dry = (await send(admin(), 'POST', '/api/accounts/sweep', { dryRun: true })).json<{ disabled: { userId: string }[] }>();
      assert.ok(dry.disabled.some((d) => d.userId === USERS.leaver));
      assert.ok(!dry.disabled.some((d) => d.userId === USERS.admin));
      const live = await w.db.query('SELECT 1 FROM accounts WHERE user_id = $1 AND disabled_at IS NULL', [USERS.leaver]);
      assert.equal(live.rows.length, 1, 'a dry run changes nothing');
      const res = await send(admin(), 'POST', '/api/accounts/sweep', {});
      assert.equal(res.statusCode, 200);
      const { rows } = await w.db.query<{ disabled_reason: string }>('SELECT disabled_reason FROM accounts WHERE user_id = $1', [USERS.leaver]);
      assert.equal(rows[0]?.disabled_reason, 'dormant');
      assert.equal((await w.app.inject({ method: 'POST', url: '/api/session', payload: { userId: USERS.leaver } })).statusCode, 401);
      const ev = await w.db.query<{ rule: string }>(`SELECT rule FROM governance_events WHERE action = 'account.disable' AND subject_id = $1`, [USERS.leaver]);
      assert.deepEqual(
        ev.rows.map((r) => r.rule),
        ['dormant'],
      );
    });

    test('recertification: reviewers confirm or revoke; nobody reviews their own grant; unreviewed grants stop counting at the campaign’s end', async () => {
      const started = await send(admin(), 'POST', '/api/campaigns', { name: '2026年度下期 棚卸', endsOn: '2026-11-30', permissionIds: ['audit.read'] });
      assert.equal(started.statusCode, 201, started.body);
      const c = started.json<{ id: number; items: number }>();
      assert.equal(c.items, 2, 'u-comp’s and u-admin’s audit.read');
      const items = (await get(admin(), `/api/campaigns/${c.id}/items`)).json<{
        items: { grantId: number; userId: string; reviewerUserId: string | null }[];
      }>();
      const adminsGrant = items.items.find((i) => i.userId === USERS.admin);
      const compsGrant = items.items.find((i) => i.userId === USERS.compliance);
      assert.ok(adminsGrant !== undefined && compsGrant !== undefined);
      assert.equal(adminsGrant.reviewerUserId, USERS.compliance, 'the approver reviews');
      assert.equal(compsGrant.reviewerUserId, null, 'its approver may approve for org-a0001 only: any approver for org-nw reviews');

      const own = await send(s[USERS.compliance] as Session, 'POST', `/api/campaigns/${c.id}/items/${compsGrant.grantId}`, { decision: 'confirmed' });
      assert.equal(own.json<{ error: { details: { rule: string } } }>().error.details.rule, 'self_grant');
      const notReviewer = await send(s[USERS.admin2] as Session, 'POST', `/api/campaigns/${c.id}/items/${adminsGrant.grantId}`, { decision: 'confirmed' });
      assert.equal(notReviewer.json<{ error: { details: { rule: string } } }>().error.details.rule, 'not_an_approver');
      const ok = await send(s[USERS.compliance] as Session, 'POST', `/api/campaigns/${c.id}/items/${adminsGrant.grantId}`, {
        decision: 'confirmed',
        comment: '継続が必要',
      });
      assert.equal(ok.statusCode, 200, ok.body);

      // u-comp's grant is left unreviewed. Before the end it still counts…
      const comp = s[USERS.compliance] as Session;
      assert.equal((await get(comp, '/api/audit/events')).statusCode, 200);
      // …after the end it does not, though nothing ran at the end.
      now = new Date('2026-12-01T09:00:00+09:00');
      try {
        const compLater = await login(w.app, USERS.compliance);
        const adminLater = await login(w.app, USERS.admin);
        assert.equal((await get(compLater, '/api/audit/events')).statusCode, 403);
        assert.equal((await get(adminLater, '/api/audit/events')).statusCode, 200, 'the confirmed grant still counts');
        const late = await send(adminLater, 'POST', `/api/campaigns/${c.id}/items/${compsGrant.grantId}`, { decision: 'confirmed' });
        assert.equal(late.statusCode, 409);
      } finally {
        now = NOW;
      }
    });

    test('API tokens: requested for a service account with the secret shown once, approved by a second person, listed without it, revoked at once', async () => {
      await w.db
        .exec(`INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
        VALUES ('u-admin2', 'access.admin', 'approved', '管理', 'u-admin', 'p-admin', '2026-04-01', 'u-comp', 'p-comp', '2026-04-01', '2027-04-01')`);
      const account = await send(admin(), 'POST', '/api/service-accounts', {
        userId: 'svc-mirai-kikan',
        name: 'みらいでんき 基幹',
        organizationId: 'org-r0002',
        ownerPersonId: 'p-other',
      });
      assert.equal(account.statusCode, 201, account.body);
      const res = await send(admin(), 'POST', '/api/tokens', {
        userId: 'svc-mirai-kikan',
        name: 'みらいでんき 基幹',
        scopes: ['customer.read'],
        expiresOn: '2027-01-31',
      });
      assert.equal(res.statusCode, 201, res.body);
      const { id, token } = res.json<{ id: string; token: string }>();
      assert.match(token, /^gw_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      const listed = await get(admin(), '/api/tokens');
      assert.ok(!listed.body.includes(token.slice(16)), 'the secret is never listed');
      const use = () =>
        w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.SWITCHED}?purpose=own_customer_service`, headers: { authorization: `Bearer ${token}` } });
      assert.equal((await use()).statusCode, 401, 'not before a second person approved it');
      const second = await login(w.app, USERS.admin2);
      assert.equal((await send(second, 'POST', `/api/tokens/${id}/approve`)).statusCode, 200);
      assert.equal((await use()).statusCode, 200);
      assert.equal((await send(admin(), 'POST', `/api/tokens/${id}/revoke`)).statusCode, 200);
      assert.equal((await use()).statusCode, 401);
      assert.equal(
        (await send(admin(), 'POST', '/api/tokens', { userId: 'svc-mirai-kikan', name: 'x', scopes: ['customer.read'], expiresOn: '2030-01-01' })).statusCode,
        400,
        'at most a year',
      );
      assert.equal(
        (
          await send(s[USERS.retail] as Session, 'POST', '/api/tokens', {
            userId: 'svc-mirai-kikan',
            name: 'x',
            scopes: ['customer.read'],
            expiresOn: '2027-01-01',
          })
        ).statusCode,
        403,
      );
    });
  });
}
