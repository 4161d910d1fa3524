import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sessions, type NewSession } from '../../src/identity/session-store.ts';
import type { Db } from '../../src/store/db.ts';
import { NOW, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

const MINUTE = 60_000;
const IDLE = 30 * MINUTE;
const ABSOLUTE = 10 * 60 * MINUTE;
const at = (ms: number) => new Date(NOW.getTime() + ms);

async function opened(sessions: Sessions, userId: string, at: Date): Promise<NewSession> {
  const r = await sessions.open(userId, null, at);
  if (r.kind !== 'opened') throw new Error(`login ${userId} refused: ${r.code}`);
  return r.session;
}

/** A hand-driven monotonic clock, so the cache's age is under the test's control. */
function monotonic() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

for (const store of STORES) {
  describe(`sessions on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
    });
    after(() => dispose());

    test('a session is refused after the idle time-out and after the absolute time-out', async () => {
      const sessions = new Sessions(db, { idleMs: IDLE, absoluteMs: ABSOLUTE, cacheMs: 0 });
      const s = await opened(sessions, USERS.callCentre, NOW);
      assert.equal(s.actor.userId, USERS.callCentre);
      assert.ok((await sessions.actor(s.id, at(IDLE - 1))) !== null);
      // Used just before the idle limit, so the next read starts a new idle period…
      assert.ok((await sessions.actor(s.id, at(2 * IDLE - 2))) !== null);
      // …and a full idle period without use ends it.
      assert.equal(await sessions.actor(s.id, at(3 * IDLE)), null);

      const busy = await opened(sessions, USERS.callCentre, NOW);
      assert.equal(busy.actor.userId, USERS.callCentre);
      for (let t = 0; t < ABSOLUTE; t += 20 * MINUTE) assert.ok((await sessions.actor(busy.id, at(t))) !== null, `live at +${t / MINUTE} min`);
      assert.equal(await sessions.actor(busy.id, at(ABSOLUTE)), null, 'absolute time-out holds however busy the session is');
    });

    test('last_seen_at is written at most once a minute, not on every request', async () => {
      const sessions = new Sessions(db, { idleMs: IDLE, absoluteMs: ABSOLUTE, cacheMs: 0 });
      const s = await opened(sessions, USERS.retail, NOW);
      assert.equal(s.actor.userId, USERS.retail);
      const lastSeen = async () =>
        new Date(String((await db.query<{ t: string }>('SELECT last_seen_at::text AS t FROM sessions WHERE id = $1', [s.id])).rows[0]?.t)).getTime();
      await sessions.actor(s.id, at(30_000));
      assert.equal(await lastSeen(), NOW.getTime());
      await sessions.actor(s.id, at(90_000));
      assert.equal(await lastSeen(), at(90_000).getTime());
    });

    test('logout through this process takes effect at once, cache or not', async () => {
      const clock = monotonic();
      const sessions = new Sessions(db, { idleMs: IDLE, absoluteMs: ABSOLUTE, cacheMs: 60_000 }, clock.now);
      const s = await opened(sessions, USERS.retail, NOW);
      assert.equal(s.actor.userId, USERS.retail);
      assert.ok((await sessions.actor(s.id, NOW)) !== null);
      await sessions.end(s.id, NOW);
      assert.equal(await sessions.actor(s.id, NOW), null);
    });

    test('a session ended or an account disabled elsewhere is refused once the cache period has passed', async () => {
      const clock = monotonic();
      const sessions = new Sessions(db, { idleMs: IDLE, absoluteMs: ABSOLUTE, cacheMs: 1000 }, clock.now);
      const other = new Sessions(db, { idleMs: IDLE, absoluteMs: ABSOLUTE, cacheMs: 0 });
      const s = await opened(sessions, USERS.otherRetailer, NOW);
      assert.equal(s.actor.userId, USERS.otherRetailer);
      await other.end(s.id, NOW);
      clock.advance(999);
      assert.ok((await sessions.actor(s.id, NOW)) !== null, 'still within the documented cache period');
      clock.advance(1);
      assert.equal(await sessions.actor(s.id, NOW), null);

      const t = await opened(sessions, USERS.admin, NOW);
      assert.equal(t.actor.userId, USERS.admin);
      await db.query('UPDATE accounts SET disabled_at = $2 WHERE user_id = $1', [USERS.admin, NOW]);
      try {
        clock.advance(1000);
        assert.equal(await sessions.actor(t.id, NOW), null);
        assert.equal((await sessions.open(USERS.admin, null, NOW)).kind, 'refused', 'a disabled account cannot log in');
      } finally {
        await db.query('UPDATE accounts SET disabled_at = NULL WHERE user_id = $1', [USERS.admin]);
      }
    });

    test('a cached session still derives the principal at the instant of each request', async () => {
      const clock = monotonic();
      const DAY = 24 * 60 * MINUTE;
      const sessions = new Sessions(db, { idleMs: 2 * DAY, absoluteMs: 3 * DAY, cacheMs: 60_000 }, clock.now);
      // The mover is on the network side until 2025-04-01 and on the retail side from then on.
      const before = new Date('2025-03-31T12:00:00+09:00');
      const s = await opened(sessions, USERS.mover, before);
      assert.equal(s.actor.userId, USERS.mover);
      assert.equal(s.actor.principal.principalClass, 'network_call_centre');
      const after = await sessions.actor(s.id, new Date('2025-04-01T12:00:00+09:00'));
      assert.equal(after?.actor.principal.principalClass, 'affiliated_retail');
    });

    test('an unknown session id gives nothing, and the CSRF token belongs to its session', async () => {
      const sessions = new Sessions(db, { idleMs: IDLE, absoluteMs: ABSOLUTE, cacheMs: 0 });
      assert.equal(await sessions.actor('no-such-session', NOW), null);
      const a = await opened(sessions, USERS.callCentre, NOW);
      const b = await opened(sessions, USERS.callCentre, NOW);
      assert.deepEqual([a.actor.userId, b.actor.userId], [USERS.callCentre, USERS.callCentre]);
      assert.notEqual(a.id, b.id);
      assert.notEqual(a.csrfToken, b.csrfToken);
      assert.equal((await sessions.actor(a.id, NOW))?.csrfToken, a.csrfToken);
    });
  });
}
