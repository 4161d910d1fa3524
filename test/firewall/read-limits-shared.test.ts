import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { ReadLimits } from '../../src/domain/read-limits.ts';
import { login, seededApp, testApp, type Session } from '../support/app.ts';
import { NOW, SP, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

// Issue 21: several server processes on one store. Each counts the read limits in its own memory, so a person
// whose reads were spread over N processes could read N times a limit. Each process now also counts the reads
// the others served, as its log writer accounts for their events before linking after them: one person's
// reads are limited once, whichever process serves them — give or take what processes admit within one group
// commit of each other (here: the one read a second server admits before its first commit tells it).

const LIMITS: ReadLimits = {
  normal: { recordsPerMinute: 3, recordsPerDay: 100, searchRowsPerMinute: 100 },
  emergency: { recordsPerMinute: 1, recordsPerDay: 3, searchRowsPerMinute: 1 },
  personRecordsPerDay: 1000,
  consentRefusalsPerDay: 2,
  inquiryAnswersPerDay: 1000,
};

for (const store of STORES) {
  describe(`read limits counted across server processes on ${store.name}`, () => {
    let now = NOW;
    // Two servers over one store, as two processes: each its own firewall, limiter and log writer.
    const w = seededApp(store, { now: () => now, readLimits: LIMITS });
    let other: FastifyInstance | null = null;
    after(async () => other?.close());
    const read = (app: FastifyInstance, s: Session, id: string) =>
      app.inject({ method: 'GET', url: `/api/supply-points/${id}?purpose=customer_inquiry`, headers: { cookie: s.cookie } });

    test("reads served by one server count against the person's limit on the other", async () => {
      other = await testApp(w.db, { now: () => now, readLimits: LIMITS });
      const a = await login(w.app, USERS.callCentre);
      const b = await login(other, USERS.callCentre);
      // The second server writes once first, so its writer has linked the chain before the reads begin.
      assert.equal((await read(other, b, SP.OWN_A)).statusCode, 200);
      now = new Date(NOW.getTime() + 61_000);
      // A minute later: the limit (3 a minute) used up on the first server…
      for (let i = 0; i < 3; i++) assert.equal((await read(w.app, a, SP.OWN_A)).statusCode, 200, `read ${i + 1} on the first server`);
      assert.equal((await read(w.app, a, SP.OWN_A)).statusCode, 429, 'the first server refuses the fourth');
      // …then on the second: it admits one read before its writer accounts for the first server's events (the
      // one read of overshoot), and refuses the next under the same rule.
      assert.equal((await read(other, b, SP.OWN_A)).statusCode, 200, 'admitted before the second server learned of the three');
      const refused = await read(other, b, SP.OWN_A);
      assert.equal(refused.statusCode, 429, refused.body);
      assert.equal(refused.json<{ error: { details: { rule: string } } }>().error.details.rule, 'read_rate_limit');
      // Once the minute has passed for all of them, both serve again.
      now = new Date(now.getTime() + 61_000);
      assert.equal((await read(other, b, SP.OWN_A)).statusCode, 200);
      assert.equal((await read(w.app, a, SP.OWN_A)).statusCode, 200);
    });
  });
}
