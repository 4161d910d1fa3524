import { Refusal } from '../domain/refusal.ts';

/**
 * One analysis run at a time in a process, the rest waiting in arrival order. Each run opens a DuckDB engine
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

interface Waiter {
  readonly start: () => void;
}

/** A queue of one: `run` starts its task when no other is running, or when every earlier one has finished. */
export class AnalysisQueue {
  #busy = false;
  readonly #waiting: Waiter[] = [];
  #started = 0;

  /** Tasks running now (0 or 1). */
  get running(): number {
    return this.#busy ? 1 : 0;
  }

  /** Tasks waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Tasks started since the queue was made (for tests and the operator's curiosity). */
  get started(): number {
    return this.#started;
  }

  /**
   * Runs `task` in its turn. Gives up with `AnalysisBusy` when the turn has not come after `maxWaitMs`
   * (default: waits as long as it takes — the daily digest has nobody waiting on it).
   */
  async run<T>(task: () => Promise<T>, maxWaitMs = Number.POSITIVE_INFINITY): Promise<T> {
    if (this.#busy) await this.#turn(maxWaitMs);
    else this.#busy = true;
    this.#started++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#busy = false;
      else next.start();
    }
  }

  /** Resolves when a finishing task hands the queue over (it stays busy across the hand-over). */
  #turn(maxWaitMs: number): Promise<void> {
    const queuedAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        start: () => {
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        },
      };
      if (Number.isFinite(maxWaitMs)) {
        timer = setTimeout(() => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          const waited = Date.now() - queuedAt;
          reject(new AnalysisBusy(waited, Math.max(1, Math.ceil(maxWaitMs / 1000))));
        }, maxWaitMs);
      }
      this.#waiting.push(waiter);
    });
  }
}

/** The process's queue: the report and scan routes and the daily digest all take their turn here. */
export const ANALYSIS_QUEUE = new AnalysisQueue();
