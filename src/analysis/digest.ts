/**
 * The daily digest's figures (issue 20): one home for what review.ts computes and stores and what alerts.ts
 * mails. Counts only — a digest leaves gridwall by mail, so it carries no customer data. The wire shape is the
 * contract's `Digest` (contract/analysis.ts), checked against this one where the route answers it.
 */
export interface Digest {
  /** The Japan day it covers (YYYY-MM-DD). */
  readonly day: string;
  readonly views: number;
  readonly emergencyViews: number;
  readonly refused: number;
  /** New findings its scan queued. */
  readonly queued: number;
  /** Findings still open, by severity, when it was made. */
  readonly open: { readonly high: number; readonly medium: number; readonly low: number };
}
