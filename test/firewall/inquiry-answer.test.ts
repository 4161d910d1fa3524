import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { findingSink } from '../../src/analysis/findings.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { SearchTerms } from '../../src/audit/search-terms.ts';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { SUPPLY_POINT_FIELD_KEYS, type SupplyPointField } from '../../src/domain/classification.ts';
import { compileDecisionTable } from '../../src/domain/decision-table.ts';
import type { Consent } from '../../src/domain/inquiry.ts';
import { Firewall, type InquiryAsk } from '../../src/firewall/firewall.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import { claimedTerminal } from '../../src/identity/terminal-devices.ts';
import type { Db } from '../../src/store/db.ts';
import { TEST_KEY } from '../support/app.ts';
import { NOW, SP, USERS, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * The at-once answer to an inquiry (issue 18) through the one choke point: SP.R3 is R0003's corporate customer
 * 株式会社青葉精工 (150 kVA); the affiliated retailer's agent (A0001) and the other retailer's (R0002) ask alike.
 */
const DAY = 86_400_000;
const consent = (over: Partial<Consent> = {}): Consent => ({
  customerName: '株式会社青葉精工',
  method: 'recorded_call',
  givenAt: new Date(NOW.getTime() - DAY),
  reference: 'CALL-2026-1101-0042',
  validUntil: new Date(NOW.getTime() + 30 * DAY),
  ...over,
});

for (const store of STORES) {
  describe(`an inquiry answered at once, on ${store.name}`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let firewall: Firewall;
    const events: AccessEvent[] = [];
    let n = 0;

    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      const log = new GroupCommitLog(db, { key: TEST_KEY });
      const recording = { append: async (e: AccessEvent) => (events.push(e), log.append(e)) };
      firewall = new Firewall(db, recording, compileDecisionTable(), new SearchTerms(TEST_KEY), findingSink(db));
    });
    after(() => dispose());

    async function ask(userId: string, over: Partial<InquiryAsk> = {}) {
      const sessions = new Sessions(db, { idleMs: 1_800_000, absoluteMs: 3_600_000, cacheMs: 0 });
      const opened = await sessions.open(userId, claimedTerminal('T00001'), NOW);
      assert.ok(opened.kind === 'opened');
      const live = await sessions.actor(opened.session.id, NOW);
      assert.ok(live !== null);
      const inquiryId = `inq-${++n}`;
      const items: SupplyPointField[] = ['contracted_capacity', 'meter', 'equipment', 'phone', 'network_notes'];
      const result = await firewall.answerInquiry(
        { actor: live.actor, purpose: 'own_customer_service', route: 'test', at: NOW, requestId: inquiryId },
        { inquiryId, caseType: 'switching', supplyPointId: SP.R3, items, consent: consent(), ...over },
      );
      return { result, event: events.find((e) => e.requestId === inquiryId) };
    }

    test('with the holder’s consent, the items its case gives at once are shown; the queue’s and the never-given ones are not', async () => {
      const { result, event } = await ask(USERS.retail);
      assert.equal(result.kind, 'answered');
      if (result.kind !== 'answered') return;
      assert.deepEqual(
        [result.consent, result.atOnce, result.queued, result.never],
        ['valid', ['contracted_capacity', 'meter'], ['equipment'], ['phone', 'network_notes']],
      );
      const f = result.view.fields;
      assert.deepEqual(f['contracted_capacity'], { shown: true, value: { value: 150, unit: 'kVA' } });
      assert.equal(f['meter']?.shown, true);
      for (const k of ['equipment', 'phone', 'holder_name', 'usage'] as const) assert.deepEqual(f[k], { shown: false, reason: 'outside_inquiry_allowance' }, k);
      assert.deepEqual(f['network_notes'], { shown: false, reason: 'network_only' });
      assert.deepEqual(Object.keys(f), [...SUPPLY_POINT_FIELD_KEYS]);
      // Logged like any read: purpose inquiry_answer, the inquiry's id, what was shown and why the rest was not.
      assert.equal(event?.outcome, 'served');
      assert.equal(event?.purpose, 'inquiry_answer');
      assert.equal(event?.query['inquiryId'], 'inq-1');
      assert.deepEqual(event?.records[0]?.shown, ['supply_point_id', 'address', 'contracted_capacity', 'meter']);
      assert.equal(event?.records[0]?.masked['phone'], 'outside_inquiry_allowance');
    });

    test('the other retailer asking the same is answered the same', async () => {
      const [a, b] = [await ask(USERS.retail), await ask(USERS.otherRetailer)];
      assert.ok(a.result.kind === 'answered' && b.result.kind === 'answered');
      assert.deepEqual(b.result.view, a.result.view);
    });

    test('without consent nothing is given; a consent expired, not yet given or of another customer is a refused read, logged', async () => {
      const none = await ask(USERS.retail, { consent: null });
      assert.ok(none.result.kind === 'answered');
      assert.deepEqual([none.result.atOnce, none.result.queued], [[], []]);
      assert.deepEqual(none.result.view.fields['contracted_capacity'], { shown: false, reason: 'outside_inquiry_allowance' });
      for (const [c, reason] of [
        [consent({ validUntil: NOW }), 'consent_expired'],
        [consent({ givenAt: new Date(NOW.getTime() + 1) }), 'consent_not_yet_given'],
        [consent({ customerName: '山田 太郎' }), 'consent_other_customer'],
      ] as const) {
        const { result, event } = await ask(USERS.retail, { consent: c });
        assert.deepEqual(result, { kind: 'refused', reason });
        assert.deepEqual([event?.outcome, event?.refusal, event?.records[0]?.supplyPointId, event?.records[0]?.shown], ['refused', reason, SP.R3, []]);
        assert.ok(!JSON.stringify(event).includes('山田'), 'the name given is not logged');
      }
    });

    test('items the service centre released from the queue are shown; a release beyond the case is not', async () => {
      const { result } = await ask(USERS.retail, { released: ['equipment', 'phone'] });
      assert.ok(result.kind === 'answered');
      assert.equal(result.view.fields['equipment']?.shown, true);
      assert.deepEqual(result.view.fields['phone'], { shown: false, reason: 'outside_inquiry_allowance' });
      assert.deepEqual(result.queued, []);
    });

    test('an own customer is answered as the record shows it anyway; an unknown point is not found, logged', async () => {
      const own = await ask(USERS.retail, { supplyPointId: SP.OWN_A, consent: null });
      assert.ok(own.result.kind === 'answered');
      assert.equal(own.result.view.fields['phone']?.shown, true);
      const missing = await ask(USERS.retail, { supplyPointId: '0200000000000000009999' });
      assert.deepEqual(missing.result, { kind: 'not_found' });
      assert.deepEqual([missing.event?.outcome, missing.event?.refusal], ['refused', 'not_found']);
    });
  });
}
