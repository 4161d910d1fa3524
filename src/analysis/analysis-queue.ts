import { Refusal } from '../domain/refusal.ts';
import { TurnQueue } from '../domain/turn-queue.ts';

/**
 * One analysis run at a time in a process, the rest waiting in arrival order (`domain/turn-queue.ts`). Each run opens a DuckDB engine
 * with its own memory (up to its limit) and threads; issue 14 measured four concurrent reports over
 * 1900–2999 taking the server to 1.6 GB and another person's look-up from 3 ms to 2.2 s. A caller that
 * would wait longer than it allows is told so (`AnalysisBusy`) instead of piling up behind the others.
 */
export class AnalysisBusy extends Refusal<'analysis_busy'> {
  constructor(
    readonly waitedMs: number,
    /** When to try again: the wait already given up on, in whole seconds (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(
      'analysis',
      'analysis_busy',
      'busy',
      `another analysis is running and this one waited ${Math.round(waitedMs / 1000)} s; try again in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

/** The analysis queue: a turn queue whose callers that give up get `AnalysisBusy`. */
export class AnalysisQueue extends TurnQueue {
  constructor() {
    super((waitedMs, retryAfterSeconds) => new AnalysisBusy(waitedMs, retryAfterSeconds));
  }
}

/** The process's queue: the report and scan routes and the daily digest all take their turn here. */
export const ANALYSIS_QUEUE = new AnalysisQueue();
