/**
 * The anomaly rules' thresholds, with the reasoning for each default (docs/analysis.md repeats it). One
 * definition for the scan (`analysis/rules.ts`) and for what the firewall judges live at the read
 * (`domain/reading-baseline.ts`: bulk reading against the person's own running baseline, issue 20), so the
 * two can never disagree on what "bulk" means.
 * - bulk reading compares a person with themself and with their peers, so a busy call centre is not
 *   "bulk" merely for being busy, and one person reading thousands while colleagues read dozens is;
 * - off-hours and probing thresholds are counts over the period, so one late call is not a finding.
 */
export interface Thresholds {
  /** A day with fewer non-public reads is never bulk, whatever the ratios (100: a busy agent's whole day). */
  readonly bulkMinDaily: number;
  /** The peak day (the scan) or today (live) against the person's own median day. */
  readonly bulkOwnFactor: number;
  /** The person's peak day and total against the median of their peers (same organization and side). */
  readonly bulkPeerFactor: number;
  /** Fewer reads over the period are never bulk by total. */
  readonly bulkMinTotal: number;
  /** Off hours (Japan time): from this hour … */
  readonly offHoursFrom: number;
  /** … to this hour, plus Saturdays and Sundays. */
  readonly offHoursTo: number;
  /** Off-hours non-public reads over the period before it is a finding. */
  readonly offHoursMin: number;
  /** Refused reads of one person within the window before it is probing. */
  readonly probingRefusals: number;
  readonly probingWindowMinutes: number;
  /** Days without any read after which a read by the same ID is a dormant account coming back to life. */
  readonly dormantDays: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  bulkMinDaily: 100,
  bulkOwnFactor: 5,
  bulkPeerFactor: 5,
  bulkMinTotal: 300,
  offHoursFrom: 22,
  offHoursTo: 6,
  offHoursMin: 20,
  probingRefusals: 10,
  probingWindowMinutes: 10,
  dormantDays: 90,
};
