import type { Thresholds } from './anomaly-thresholds.ts';
import { SUPPLY_POINT_FIELDS, type SupplyPointField } from './classification.ts';
import type { Severity } from './finding.ts';

/**
 * Bulk reading judged at the read (issue 20), against the person's own running baseline. The Tohoku pattern:
 * weeks of ordinary volume, then days of many times it, which only a later scan showed. The scan
 * (`analysis/rules.ts#bulkReading`) compares a period's peak day with the person's median day and with their
 * peers; this judges *today* as it happens, against the person's own usual day, with the same thresholds
 * (`domain/anomaly-thresholds.ts`). Pure: the counts come from the store (`firewall/reading-tally.ts` keeps
 * them from the access log), the instant is passed in.
 *
 * What counts: a record served with at least one field that is not public shown (the scan's `non_public`
 * read), under any purpose, per person (all their accounts), per Japan day.
 */

/** The baseline is the median of the person's last this-many days with reads … */
export const BASELINE_DAYS = 20;
/** … among the days before today within this many days (older days are forgotten). */
export const BASELINE_LOOKBACK_DAYS = 60;
/** Fewer days with reads than this and the person has no baseline of their own yet (new, or back after a long absence). */
export const MIN_BASELINE_DAYS = 5;

/** Non-public: a shown field that is not public, or one the manifest does not know (never public). */
export function showsNonPublic(shown: readonly string[]): boolean {
  return shown.some((f) => (SUPPLY_POINT_FIELDS[f as SupplyPointField]?.class ?? 'non_public') !== 'public');
}

/** The median of non-negative counts (0 for none); an even count takes the mean of the middle two. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export type Baseline =
  /** The median of the person's own last days with reads. */
  | { readonly kind: 'own'; readonly reads: number; readonly days: number }
  /**
   * Fewer than MIN_BASELINE_DAYS days of history: the median of what there is, but never below `bulkMinDaily`
   * (a new person is judged as if their usual day were a busy agent's whole day: a first busy day is not
   * bulk, a new account paging thousands is).
   */
  | { readonly kind: 'provisional'; readonly reads: number; readonly days: number };

/**
 * The running baseline from the person's counts of non-public reads on their earlier days with reads (any
 * order; days without reads are not in it, as in the scan's median day).
 */
export function baselineOf(history: readonly number[], t: Thresholds): Baseline {
  const days = history.filter((n) => n > 0).slice(0, BASELINE_DAYS);
  const reads = median(days);
  return days.length >= MIN_BASELINE_DAYS
    ? { kind: 'own', reads, days: days.length }
    : { kind: 'provisional', reads: Math.max(reads, t.bulkMinDaily), days: days.length };
}

/** Today's count from which the day is bulk: at least `bulkMinDaily` and at least `bulkOwnFactor` × the baseline. */
export function bulkThreshold(baseline: Baseline, t: Thresholds): number {
  return Math.max(t.bulkMinDaily, Math.ceil(t.bulkOwnFactor * baseline.reads));
}

/**
 * How far over: 0 below the threshold, 1 from it, 2 from twice it, 3 from four times it … The finding is
 * raised when the day reaches level 1 and updated (new evidence) at each further level, so a day of bulk
 * reading is a handful of updates to one finding, not one per read.
 */
export function bulkLevel(reads: number, threshold: number): number {
  if (threshold <= 0 || reads < threshold) return 0;
  let level = 1;
  for (let step = threshold * 2; reads >= step; step *= 2) level++;
  return level;
}

/** Medium when it passes the threshold; high from twice it (ten times the person's usual day, by default). */
export function bulkSeverity(level: number): Severity {
  return level >= 2 ? 'high' : 'medium';
}
