import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { liveReport } from '../../src/analysis/review.ts';
import { SearchTerms, normaliseTerm } from '../../src/audit/search-terms.ts';
import { generateSigningKey } from '../../src/audit/signing.ts';
import { login, seededApp, TEST_KEY } from '../support/app.ts';
import { NOW, TERMINALS, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * What was searched for is in the log, sealed (issue 14): compliance can read it back and find every search
 * for a number or name; the database alone does not show it; zero-hit name and phone searches count as
 * probing.
 */
test('a sealed term opens only under its key and as the kind it was sealed as; the match ignores formatting', () => {
  const terms = new SearchTerms(TEST_KEY);
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 60 }), fc.constantFrom('address' as const, 'holder_name' as const, 'phone' as const), (term, by) => {
      const s = terms.seal(by, term);
      assert.equal(terms.open(by, s), term);
      assert.ok(!s.sealed.includes(term) || term.length < 4, 'not in the clear');
      assert.equal(terms.open(by === 'phone' ? 'address' : 'phone', s), null, 'bound to its kind');
      assert.equal(new SearchTerms(generateSigningKey()).open(by, s), null, 'another key does not open it');
      const flipped = `${s.sealed.slice(0, 20)}${s.sealed[20] === 'A' ? 'B' : 'A'}${s.sealed.slice(21)}`;
      assert.equal(terms.open(by, { ...s, sealed: flipped }), null, 'an altered seal does not open');
    }),
  );
  assert.equal(terms.match('phone', '090-1111-2222'), terms.match('phone', '０９０－１１１１－２２２２'));
  assert.notEqual(terms.match('phone', '09011112222'), terms.match('phone', '09011112223'));
  assert.equal(normaliseTerm('holder_name', '山田　太郎'), '山田太郎');
});

for (const store of STORES) {
  describe(`search terms in the access log on ${store.name}`, () => {
    const w = seededApp(store);

    test('a phone search is logged sealed; compliance finds it by the number and reads it back; the administrator only matches', async () => {
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      const res = await w.app.inject({
        method: 'GET',
        url: `/api/supply-points?purpose=own_customer_service&phone=${encodeURIComponent('090-1111-2222')}`,
        headers: { cookie: retail.cookie },
      });
      assert.equal(res.statusCode, 200, res.body);
      const requestId = String(res.headers['x-request-id']);
      const { rows } = await w.db.query<{ query: unknown }>('SELECT query FROM access_log WHERE request_id = $1', [requestId]);
      const raw = JSON.stringify(rows[0]?.query);
      assert.match(raw, /"by":"phone"/);
      assert.ok(!raw.includes('09011112222') && !raw.includes('1111'), `the number is not in the clear: ${raw}`);

      const comp = await login(w.app, USERS.compliance);
      const found = await w.app.inject({
        method: 'GET',
        url: `/api/audit/events?searchBy=phone&searchTerm=${encodeURIComponent('090 1111 2222')}`,
        headers: { cookie: comp.cookie },
      });
      assert.equal(found.statusCode, 200, found.body);
      const items = found.json<{ items: { requestId: string; searchTerm?: string }[] }>().items;
      assert.deepEqual(
        items.map((i) => [i.requestId, i.searchTerm]),
        [[requestId, '09011112222']],
      );
      const other = await w.app.inject({ method: 'GET', url: '/api/audit/events?searchBy=phone&searchTerm=09011112223', headers: { cookie: comp.cookie } });
      assert.deepEqual(other.json<{ items: unknown[] }>().items, [], 'another number matches nothing');

      const admin = await login(w.app, USERS.admin);
      const asAdmin = await w.app.inject({ method: 'GET', url: '/api/audit/events?searchBy=phone&searchTerm=09011112222', headers: { cookie: admin.cookie } });
      const adminItems = asAdmin.json<{ items: { requestId: string; searchTerm?: string }[] }>().items;
      assert.deepEqual(
        adminItems.map((i) => i.requestId),
        [requestId],
        'access administration can match a number it knows',
      );
      assert.equal(adminItems[0]?.searchTerm, undefined, 'but does not read terms back');
      assert.ok(!asAdmin.body.includes('09011112222'));
      const half = await w.app.inject({ method: 'GET', url: '/api/audit/events?searchBy=phone', headers: { cookie: comp.cookie } });
      assert.equal(half.statusCode, 400);
    });

    test('zero-hit searches by phone are probing: twelve in a row are a finding', async () => {
      const other = await login(w.app, USERS.otherRetailer);
      for (let i = 0; i < 12; i++) {
        const res = await w.app.inject({
          method: 'GET',
          url: `/api/supply-points?purpose=own_customer_service&phone=0900000${String(i).padStart(4, '0')}`,
          headers: { cookie: other.cookie },
        });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json<{ items: unknown[] }>().items.length, 0);
      }
      const day = new Date(NOW.getTime() + 9 * 3_600_000).toISOString().slice(0, 10);
      const report = await liveReport(w.db, { from: day, to: day });
      const probing = report.findings.filter((f) => f.rule === 'probing').map((f) => f.subject);
      assert.deepEqual(probing, [`user:${USERS.otherRetailer}`]);
    });
  });
}
