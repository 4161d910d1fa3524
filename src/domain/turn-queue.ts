/**
 * One task at a time, the rest waiting in arrival order: for work that holds a lot of memory while it runs
 * (an analysis engine, a workbook built in memory), where two at once could take the server down. A caller
 * that would wait longer than it allows is told so — with the refusal the queue was made with, e.g.
 * `analysis_busy` or `export_busy` (503 with Retry-After) — instead of piling up behind the others.
 */

/** The refusal a queue gives one that gave up waiting: how long it waited, and when to try again (whole seconds, at least 1). */
export type GiveUp = (waitedMs: number, retryAfterSeconds: number) => Error;

interface Waiter {
  readonly start: () => void;
}

/** A queue of one: `run` starts its task when no other is running, or when every earlier one has finished. */
export class TurnQueue {
  #busy = false;
  readonly #waiting: Waiter[] = [];
  #started = 0;

  constructor(readonly giveUp: GiveUp) {}

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
   * Runs `task` in its turn. Gives up with the queue's refusal when the turn has not come after `maxWaitMs`
   * (default: waits as long as it takes — a batch job has nobody waiting on it).
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
      let timer: ReturnType<typeof setTimeout> | undefined;
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
          reject(this.giveUp(Date.now() - queuedAt, Math.max(1, Math.ceil(maxWaitMs / 1000))));
        }, maxWaitMs);
      }
      this.#waiting.push(waiter);
    });
  }
}
