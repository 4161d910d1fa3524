import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MINUTE_MS, ReadLimiter, SlidingWindow, type ReadLimits } from '../../src/domain/read-limits.ts';

// The counter behind the rate and volume limits on reading (issue 20): an exact sliding window, (at − W, at].

const W = 1000;
/** Additions at non-decreasing instants: [gap since the previous, amount]. */
const steps = fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 5 })), { maxLength: 60 });
/** Long runs of small gaps: the window drops entries in bulk once many have left it. */
const manySteps = fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5 })), { minLength: 100, maxLength: 400 });

test('the window counts exactly the amounts added in (at − W, at], at every instant', () => {
  fc.assert(
    fc.property(fc.oneof(steps, manySteps), fc.integer({ min: 0, max: 2 * W }), (adds, after) => {
      const w = new SlidingWindow(W);
      const added: { at: number; amount: number }[] = [];
      let t = 0;
      for (const [gap, amount] of adds) {
        t += gap;
        w.add(t, amount);
        added.push({ at: t, amount });
        const expected = added.filter((a) => a.at > t - W).reduce((n, a) => n + a.amount, 0);
        assert.equal(w.count(t), expected);
      }
      const end = t + after;
      assert.equal(
        w.count(end),
        added.filter((a) => a.at > end - W).reduce((n, a) => n + a.amount, 0),
      );
    }),
  );
});

test("additions out of order (another process's reads, learned a moment later) count exactly as if added in order", () => {
  // Issue 21: a process learns of reads other processes served from the log, after reads of its own at later
  // instants. At the newest instant the window holds exactly what was added in (newest − W, newest].
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * W }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 80 }), (adds) => {
      const w = new SlidingWindow(W);
      const added: { at: number; amount: number }[] = [];
      let newest = -Infinity;
      for (const [at, amount] of adds) {
        w.add(at, amount);
        added.push({ at, amount });
        newest = Math.max(newest, at);
        assert.equal(
          w.count(newest),
          added.filter((a) => a.at > newest - W && a.at <= newest).reduce((n, a) => n + a.amount, 0),
        );
      }
    }),
  );
});

test('an addition counts until one millisecond before W has passed, and not at W', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 1, max: 100 }), (t0, amount) => {
      const w = new SlidingWindow(W);
      w.add(t0, amount);
      assert.equal(w.count(t0 + W - 1), amount);
      assert.equal(w.count(t0 + W), 0);
    }),
  );
});

test('the wait it names is exact: one millisecond earlier the next read does not fit, at the wait it does', () => {
  fc.assert(
    fc.property(steps, fc.integer({ min: 1, max: 20 }), (adds, limit) => {
      const w = new SlidingWindow(W);
      let t = 0;
      for (const [gap, amount] of adds) {
        t += gap;
        w.add(t, amount);
      }
      const wait = w.waitMs(t, 1, limit);
      assert.equal(wait === 0, w.admits(t, 1, limit));
      if (wait > 0) {
        // A copy probed at t + wait − 1 and one at t + wait (counting prunes, so each instant gets its own).
        const probe = (at: number) => {
          const c = new SlidingWindow(W);
          let u = 0;
          for (const [gap, amount] of adds) {
            u += gap;
            c.add(u, amount);
          }
          return c.admits(at, 1, limit);
        };
        assert.equal(probe(t + wait - 1), false);
        assert.equal(probe(t + wait), true);
      }
    }),
  );
});

const LIMITS: ReadLimits = {
  normal: { recordsPerMinute: 5, recordsPerDay: 40, searchRowsPerMinute: 10 },
  emergency: { recordsPerMinute: 2, recordsPerDay: 10, searchRowsPerMinute: 4 },
  personRecordsPerDay: 1000,
  consentRefusalsPerDay: 3,
  inquiryAnswersPerDay: 1000,
};

test('look-ups admitted in any minute never exceed the limit, and each rule is raised at most once per window', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 30_000 }),
          fc.constantFrom<['own_customer_service', 'emergency_support']>('own_customer_service', 'emergency_support'),
        ),
        {
          maxLength: 120,
        },
      ),
      (reads) => {
        const limiter = new ReadLimiter(LIMITS);
        const admitted: { at: number; purpose: string }[] = [];
        const raised: { at: number; rule: string; purpose: string }[] = [];
        let t = 0;
        for (const [gap, purpose] of reads) {
          t += gap;
          const hit = limiter.admitRecord('p-1', purpose, new Date(t));
          if (hit === null) admitted.push({ at: t, purpose });
          else {
            assert.ok(hit.retryAfterSeconds >= 1);
            if (hit.raise) raised.push({ at: t, rule: hit.rule, purpose });
          }
          for (const p of ['own_customer_service', 'emergency_support'] as const) {
            const set = p === 'emergency_support' ? LIMITS.emergency : LIMITS.normal;
            const inMinute = admitted.filter((a) => a.purpose === p && a.at > t - MINUTE_MS).length;
            assert.ok(inMinute <= set.recordsPerMinute, `${p}: ${inMinute} in a minute`);
          }
        }
        for (const r of raised) {
          const again = raised.filter((o) => o !== r && o.rule === r.rule && o.purpose === r.purpose && o.at >= r.at && o.at < r.at + MINUTE_MS);
          assert.deepEqual(again, [], 'one raising per window');
        }
      },
    ),
  );
});

test('under emergency_support the same reads are refused sooner than under own_customer_service', () => {
  const limiter = new ReadLimiter(LIMITS);
  const at = new Date(0);
  const served = (purpose: 'own_customer_service' | 'emergency_support') => {
    let n = 0;
    while (limiter.admitRecord('p-1', purpose, at) === null) n++;
    return n;
  };
  assert.deepEqual([served('emergency_support'), served('own_customer_service')], [2, 5]);
});

test('refused consent checks: admitted until the limit is reached, then refused with consent_refusal_limit', () => {
  const limiter = new ReadLimiter(LIMITS);
  const at = new Date(0);
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.admitConsentCheck('p-1', at), null);
    limiter.consentRefused('p-1', at);
  }
  const hit = limiter.admitConsentCheck('p-1', at);
  assert.deepEqual([hit?.rule, hit?.limit, hit?.raise, hit?.retryAfterSeconds], ['consent_refusal_limit', 3, true, 86_400]);
  assert.equal(limiter.admitConsentCheck('p-1', at)?.raise, false, 'raised once in the window');
  assert.equal(limiter.admitConsentCheck('p-2', at), null, 'per person');
});

test('reserved amounts count at once and give back exactly what goes unused, at every instant', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.boolean()), { maxLength: 60 }),
      (ops) => {
        const w = new SlidingWindow(W);
        const live: { at: number; amount: number }[] = [];
        let t = 0;
        for (const [gap, reserved, used, released] of ops) {
          t += gap;
          const e = w.reserve(t, reserved);
          const entry = { at: t, amount: reserved };
          live.push(entry);
          if (released) {
            const back = Math.max(0, reserved - used);
            w.release(e, back);
            entry.amount -= Math.min(back, reserved);
          }
          assert.equal(
            w.count(t),
            live.filter((a) => a.at > t - W).reduce((n, a) => n + a.amount, 0),
          );
        }
      },
    ),
  );
});

test('a release after the reservation left the window changes nothing', () => {
  const w = new SlidingWindow(W);
  const e = w.reserve(0, 5);
  w.add(W, 2);
  assert.equal(w.count(W), 2);
  w.release(e, 5);
  assert.equal(w.count(W), 2);
});

test('searches admitted before any is served never exceed the minute: each holds its page', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 20 }), (searches) => {
      const limiter = new ReadLimiter(LIMITS);
      const at = new Date(0);
      const admitted = searches.map(([page, found]) => ({ page, found, a: limiter.admitSearch('p-1', 'customer_inquiry', at, page) }));
      let served = 0;
      for (const s of admitted) {
        if (s.a.kind !== 'admitted') continue;
        const rows = Math.min(s.page, s.found);
        limiter.searched(s.a.reservation, rows);
        served += rows;
      }
      const pages = admitted.filter((s) => s.a.kind === 'admitted').reduce((n, s) => n + s.page, 0);
      assert.ok(pages <= LIMITS.normal.searchRowsPerMinute, `${pages} rows held by the searches admitted together`);
      assert.ok(served <= LIMITS.normal.searchRowsPerMinute);
      // What was given back is free again: exactly the served rows remain counted.
      const next = limiter.admitSearch('p-1', 'customer_inquiry', at, LIMITS.normal.searchRowsPerMinute - served);
      assert.equal(next.kind, served === LIMITS.normal.searchRowsPerMinute ? 'limited' : 'admitted');
    }),
  );
});

test('the total per person across purposes is the tightest rule: k purposes do not read k × the day limit', () => {
  const limits: ReadLimits = {
    ...LIMITS,
    normal: { ...LIMITS.normal, recordsPerMinute: 1000 },
    emergency: { ...LIMITS.emergency, recordsPerMinute: 1000 },
    personRecordsPerDay: 50,
  };
  const limiter = new ReadLimiter(limits);
  const at = new Date(0);
  const purposes = ['customer_inquiry', 'outage_response', 'switching_support'] as const;
  let served = 0;
  let hit = null;
  for (let i = 0; hit === null && i < 1000; i++) {
    hit = limiter.admitRecord('p-1', purposes[i % 3] ?? 'customer_inquiry', at);
    if (hit === null) served++;
  }
  assert.equal(served, 50, 'each purpose alone would allow 40 (120 in all)');
  assert.deepEqual([hit?.rule, hit?.limit], ['person_daily_read_limit', 50]);
  // A purpose's own day limit still applies first where it is tighter.
  const per = new ReadLimiter({ ...limits, personRecordsPerDay: 1000 });
  let n = 0;
  while (per.admitRecord('p-1', 'customer_inquiry', at) === null) n++;
  assert.equal(n, 40);
  assert.equal(per.admitRecord('p-1', 'customer_inquiry', at)?.rule, 'daily_read_limit');
  assert.equal(per.admitRecord('p-2', 'customer_inquiry', at), null, 'per person');
});

test('inquiry answers with consent: admitted up to the limit a day, then refused inquiry_answer_limit, raised once a window', () => {
  const limiter = new ReadLimiter({ ...LIMITS, inquiryAnswersPerDay: 3 });
  const at = new Date(0);
  for (let i = 0; i < 3; i++) assert.equal(limiter.admitInquiryAnswer('p-1', at), null);
  const hit = limiter.admitInquiryAnswer('p-1', at);
  assert.deepEqual([hit?.rule, hit?.limit, hit?.raise, hit?.retryAfterSeconds], ['inquiry_answer_limit', 3, true, 86_400]);
  assert.equal(limiter.admitInquiryAnswer('p-1', at)?.raise, false);
  assert.equal(limiter.admitInquiryAnswer('p-1', new Date(86_400_000)), null, 'a day later the first answers have left the window');
  assert.equal(limiter.admitRecord('p-1', 'customer_inquiry', at), null, 'answers do not count against the reading limits');
});
