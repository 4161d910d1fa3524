import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../../src/identity/api-tokens.ts';
import { serviceToken } from '../support/tokens.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import type { Db } from '../../src/store/db.ts';
import { testApp } from '../support/app.ts';
import { NOW, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * A session carries exactly its own account's grants, on every path an actor is built: the login answer
 * (which also fills the session cache), a cached request right after it, a request that reads the session
 * back from the store, and an API token. (A login once returned every grant in the store: the grants
 * subquery compared `user_id` with itself.)
 */
for (const store of STORES) {
  describe(`each session holds its own grants only, on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let cached: FastifyInstance;
    let uncached: FastifyInstance;

    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      cached = await testApp(db, { sessionCacheMs: 60_000 });
      uncached = await testApp(db, { sessionCacheMs: 0 });
    });
    after(async () => {
      await cached.close();
      await uncached.close();
      await dispose();
    });

    /** The account's approved grants in force at NOW that its person's side may hold, as `permission@scope`, sorted. */
    async function expected(userId: string): Promise<string[]> {
      const { rows } = await db.query<{ g: string }>(
        `SELECT g.permission_id || '@' || coalesce(g.scope_organization_id, '*') AS g
           FROM grants g JOIN accounts a ON a.user_id = g.user_id JOIN permissions p ON p.id = g.permission_id
           JOIN staff_assignments s ON s.person_id = a.person_id AND s.valid_from <= $2 AND (s.valid_to IS NULL OR s.valid_to > $2)
          WHERE g.user_id = $1 AND g.status = 'approved' AND g.decided_at <= $2 AND g.expires_at > $2 AND s.side = ANY (p.allowed_sides)`,
        [userId, NOW],
      );
      return rows.map((r) => r.g).sort();
    }
    const held = (grants: { permissionId: string; scopeOrganizationId: string | null }[]) =>
      grants.map((g) => `${g.permissionId}@${g.scopeOrganizationId ?? '*'}`).sort();

    for (const user of Object.values(USERS).filter((u) => u !== USERS.leaver)) {
      test(`${user}: login answer, cached request, stored session and token agree with the store`, async () => {
        const want = await expected(user);
        for (const app of [cached, uncached]) {
          const res = await app.inject({ method: 'POST', url: '/api/session', payload: { userId: user } });
          assert.equal(res.statusCode, 201, res.body);
          assert.deepEqual(held(res.json<{ me: { grants: never[] } }>().me.grants), want, 'in the login answer');
          const cookie = `gw_session=${res.cookies.find((c) => c.name === 'gw_session')?.value ?? ''}`;
          const me = await app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
          assert.deepEqual(held(me.json<{ grants: never[] }>().grants), want, 'on the next request');
        }
        // A person's account never gets a token (issue 14: a token used to carry its person's grants).
        await assert.rejects(
          createToken(
            db,
            { kind: 'person', userId: USERS.admin, personId: 'p-admin' },
            { userId: user, name: 'grants test', scopes: ['customer.read'], expiresAt: new Date(NOW.getTime() + 86_400_000) },
            NOW,
          ),
          /service accounts only/,
        );
      });
    }

    test('a token holds exactly its approved scopes, whatever grants its service account was given', async () => {
      const { token, userId } = await serviceToken(db, { userId: 'svc-grants', organizationId: 'org-r0002', scopes: ['customer.read'] });
      // Even an approved access.admin grant on the service account does not travel with the token.
      await db.query(
        `INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at)
         VALUES ($1, 'access.admin', 'approved', 'x', 'u-admin', 'p-admin', '2026-04-01', 'u-admin2', 'p-admin2', '2026-04-01', '2027-04-01')`,
        [userId],
      );
      const actor = await new Sessions(db, { idleMs: 60_000, absoluteMs: 60_000, cacheMs: 0, unknownTerminal: 'limit' }).tokenActor(token, NOW);
      assert.ok(actor !== null, 'the token works');
      assert.deepEqual(held([...actor.grants]), ['customer.read@*']);
      assert.equal(actor.principal.principalClass, 'retailer_system');
    });
  });
}
