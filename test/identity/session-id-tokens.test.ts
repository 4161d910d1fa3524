import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sweepAccounts } from '../../src/identity/lifecycle.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import type { Db } from '../../src/store/db.ts';
import { NOW, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * A single sign-on session keeps the provider's ID token only to ask the provider to end its session at
 * logout (id_token_hint; migration 014). Once the session is over nothing needs it: every way a session ends
 * forgets it — logout and the statements that end sessions, the dormant sweep, and a session that timed out
 * (idle or absolute), when it is next read or by the daily sweep.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const IDLE = 30 * MINUTE;
const ABSOLUTE = 10 * 60 * MINUTE;
const at = (ms: number) => new Date(NOW.getTime() + ms);
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJrYy0wMDAxIn0.c2lnbmF0dXJl';

for (const store of STORES) {
  describe(`single sign-on ID tokens of ended sessions on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    const policy = { idleMs: IDLE, absoluteMs: ABSOLUTE, cacheMs: 0 };
    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
    });
    after(() => dispose());

    async function ssoSession(sessions: Sessions, userId: string, when: Date): Promise<string> {
      const r = await sessions.open(userId, null, when, 'oidc', { idToken: ID_TOKEN });
      if (r.kind !== 'opened') throw new Error(`login ${userId} refused: ${r.code}`);
      return r.session.id;
    }
    const tokenOf = async (id: string) =>
      (await db.query<{ oidc_id_token: string | null }>('SELECT oidc_id_token FROM sessions WHERE id = $1', [id])).rows[0]?.oidc_id_token;

    test('an idle session read after its time-out forgets its ID token; a live one keeps it', async () => {
      const sessions = new Sessions(db, policy);
      const id = await ssoSession(sessions, USERS.callCentre, NOW);
      assert.ok((await sessions.actor(id, at(IDLE - MINUTE))) !== null);
      assert.equal(await tokenOf(id), ID_TOKEN, 'control: kept while the session is live');
      assert.equal(await sessions.actor(id, at(IDLE - MINUTE + IDLE)), null);
      assert.equal(await tokenOf(id), null);
    });

    test('the daily sweep forgets the ID tokens of sessions past their absolute lifetime or idle, not of live ones', async () => {
      const sessions = new Sessions(db, policy);
      const expired = await ssoSession(sessions, USERS.serviceCentre, NOW);
      const live = await ssoSession(sessions, USERS.compliance, at(ABSOLUTE - MINUTE));
      const n = await sessions.forgetStaleIdTokens(at(ABSOLUTE));
      assert.ok(n >= 1);
      assert.equal(await tokenOf(expired), null);
      assert.equal(await tokenOf(live), ID_TOKEN, 'control: a session still in its lifetime and active keeps it');
    });

    test('the dormant sweep ends the sessions of the accounts it disables and forgets their ID tokens', async () => {
      const sessions = new Sessions(db, { ...policy, absoluteMs: 400 * DAY, idleMs: 400 * DAY });
      await db.query('UPDATE accounts SET created_at = $2 WHERE user_id = $1', [USERS.retail, at(-DAY)]);
      const id = await ssoSession(sessions, USERS.retail, NOW);
      // The sweep as the CLI runs it (its own way of ending sessions).
      const r = await sweepAccounts(db, { kind: 'system', job: 'test' }, at(100 * DAY), { dormantDays: 90, orphans: false });
      assert.ok(r.disabled.some((d) => d.userId === USERS.retail));
      const row = (
        await db.query<{ ended: boolean; oidc_id_token: string | null }>('SELECT ended_at IS NOT NULL AS ended, oidc_id_token FROM sessions WHERE id = $1', [
          id,
        ])
      ).rows[0];
      assert.deepEqual(row, { ended: true, oidc_id_token: null });
    });
  });
}
