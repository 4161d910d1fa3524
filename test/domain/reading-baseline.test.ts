import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_THRESHOLDS } from '../../src/domain/anomaly-thresholds.ts';
import {
  BASELINE_DAYS,
  MIN_BASELINE_DAYS,
  baselineOf,
  bulkLevel,
  bulkSeverity,
  bulkThreshold,
  median,
  showsNonPublic,
} from '../../src/domain/reading-baseline.ts';

// Bulk reading judged live against the person's own running baseline (issue 20): the pure part.

const T = DEFAULT_THRESHOLDS; // bulkMinDaily 100, bulkOwnFactor 5

test('the median is the middle of the sorted counts (the mean of the middle two for an even count)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 40 }), (xs) => {
      const m = median(xs);
      const below = xs.filter((x) => x < m).length;
      const above = xs.filter((x) => x > m).length;
      assert.ok(below <= xs.length / 2 && above <= xs.length / 2, `${m} splits ${xs.join(',')}`);
      assert.ok(m >= Math.min(...xs) && m <= Math.max(...xs));
    }),
  );
  assert.equal(median([]), 0);
  assert.deepEqual([median([3, 1, 2]), median([4, 1, 3, 2])], [2, 2.5]);
});

test('with five days of history or more, the baseline is the median of the last twenty days with reads', () => {
  assert.deepEqual(baselineOf([10, 20, 30, 40, 50], T), { kind: 'own', reads: 30, days: 5 });
  assert.deepEqual(baselineOf([10, 0, 20, 30, 0, 40, 50], T), { kind: 'own', reads: 30, days: 5 }, 'days without reads are not days');
  const many = [...Array.from({ length: BASELINE_DAYS }, () => 10), ...Array.from({ length: 30 }, () => 1000)];
  assert.deepEqual(baselineOf(many, T), { kind: 'own', reads: 10, days: BASELINE_DAYS }, 'only the most recent twenty (newest first)');
});

test('a new person (fewer than five days) is judged as if their usual day were bulkMinDaily: 499 is not bulk, 500 is', () => {
  for (const history of [[], [3], [1, 2, 3, 4]]) {
    const b = baselineOf(history, T);
    assert.deepEqual([b.kind, b.reads], ['provisional', 100]);
    const threshold = bulkThreshold(b, T);
    assert.equal(threshold, 500);
    assert.deepEqual([bulkLevel(499, threshold), bulkLevel(500, threshold)], [0, 1]);
  }
  assert.equal(MIN_BASELINE_DAYS, 5);
  assert.deepEqual(baselineOf([300, 400], T), { kind: 'provisional', reads: 350, days: 2 }, 'a busy newcomer keeps their own higher median');
});

test('the threshold is never below bulkMinDaily nor below bulkOwnFactor × the baseline, and is reached exactly there', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 2_000 }), { maxLength: 30 }), (history) => {
      const b = baselineOf(history, T);
      const threshold = bulkThreshold(b, T);
      assert.ok(threshold >= T.bulkMinDaily && threshold >= T.bulkOwnFactor * b.reads);
      assert.ok(threshold < T.bulkMinDaily + 1 || threshold < T.bulkOwnFactor * b.reads + 1, 'the smallest count that passes both');
      assert.equal(bulkLevel(threshold - 1, threshold), 0);
      assert.equal(bulkLevel(threshold, threshold), 1);
    }),
  );
});

test('levels double: 1 from the threshold, 2 from twice it (high), 3 from four times it', () => {
  assert.deepEqual(
    [0, 99, 100, 199, 200, 399, 400, 800].map((n) => bulkLevel(n, 100)),
    [0, 0, 1, 1, 2, 2, 3, 4],
  );
  assert.deepEqual([bulkSeverity(1), bulkSeverity(2), bulkSeverity(5)], ['medium', 'high', 'high']);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 1_000 }), (threshold, n, more) => {
      assert.ok(bulkLevel(n + more, threshold) >= bulkLevel(n, threshold), 'more reads never lower the level');
    }),
  );
});

test('a read counts when a non-public field (or one the manifest does not know) is shown', () => {
  assert.equal(showsNonPublic(['supply_point_id', 'address']), false);
  assert.equal(showsNonPublic(['supply_point_id', 'holder_name']), true);
  assert.equal(showsNonPublic(['mystery_field']), true);
  assert.equal(showsNonPublic([]), false);
});
