/**
 * Work done after the answer, one round at a time in the order asked for — the notification mailer's rounds,
 * the alert dispatcher's claims — so that a request's hook returns at once and never fails the request. A
 * round's failure is handed to `failed` (the server log), never thrown to the one who asked for the round.
 * After `close` no round starts.
 */
export class SerialRounds {
  #chain: Promise<void> = Promise.resolve();
  #closing = false;
  readonly #failed: (e: unknown) => void;

  constructor(failed: (e: unknown) => void) {
    this.#failed = failed;
  }

  /** True once `close` was called: rounds asked for from now on do not run. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Queues `round` after the rounds asked for so far; returns at once and never throws. */
  run(round: () => Promise<unknown>): void {
    if (this.#closing) return;
    this.#chain = this.#chain.then(round).then(
      () => undefined,
      (e: unknown) => this.#failed(e),
    );
  }

  /** Resolves when every round asked for so far (and any they asked for) has finished. */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.#chain;
      await seen;
    } while (seen !== this.#chain);
  }

  /** Starts no further round and waits for those queued, at most `maxWaitMs` (default: until they end). */
  async close(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.#closing = true;
    if (!Number.isFinite(maxWaitMs)) return this.idle();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs)))]);
    clearTimeout(timer);
  }
}
