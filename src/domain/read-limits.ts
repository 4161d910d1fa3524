import { refusalFamily, type RefusalKind } from './refusal.ts';
import type { Purpose } from './purpose.ts';
import { DAY_MS } from './japan-time.ts';

/**
 * Rate and volume limits on reading (issue 20): how much one person may read under one purpose in a sliding
 * window, tightest under `emergency_support`. In a declared emergency a retail agent paged 972 names in
 * 0.8 s and 300 phone numbers in 5 s, and a call-centre agent read 400 corporate records in 1.7 s, and
 * nothing stopped them (the Tohoku pattern: bulk reading that only a later scan would show). Pure: the
 * instant is passed in; the firewall keeps a `ReadLimiter` and logs what it refuses.
 */

export const READ_LIMIT_RULES = ['read_rate_limit', 'daily_read_limit', 'search_rate_limit', 'consent_refusal_limit'] as const;
export type ReadLimitRule = (typeof READ_LIMIT_RULES)[number];

/** The rule named in words, for the access log, the findings queue and the console. */
export const READ_LIMIT_LABELS: Readonly<Record<ReadLimitRule, { readonly ja: string; readonly en: string }>> = {
  read_rate_limit: { ja: '1分あたりの照会件数の上限', en: 'records read per minute' },
  daily_read_limit: { ja: '24時間あたりの照会件数の上限', en: 'records read per 24 hours' },
  search_rate_limit: { ja: '1分あたりの検索結果件数の上限', en: 'search result rows per minute' },
  consent_refusal_limit: { ja: '24時間あたりの同意確認不成立の上限', en: 'refused consent checks per 24 hours' },
};

const READ_LIMIT_KINDS: Readonly<Record<ReadLimitRule, RefusalKind>> = {
  read_rate_limit: 'limited',
  daily_read_limit: 'limited',
  search_rate_limit: 'limited',
  consent_refusal_limit: 'limited',
};

/** A read refused by a limit: 429 with Retry-After (`retryAfterSeconds`), the rule in `details.rule`. */
export class ReadLimited extends refusalFamily('read', READ_LIMIT_KINDS) {}

/** One set of limits; each counts in a sliding window ending at the read. */
export interface ReadLimitSet {
  /** Records opened (a look-up is one) in any 60 s. */
  readonly recordsPerMinute: number;
  /** Records opened plus search result rows in any 24 h. */
  readonly recordsPerDay: number;
  /** Search result rows in any 60 s. */
  readonly searchRowsPerMinute: number;
}

export interface ReadLimits {
  /** Every purpose but `emergency_support`. */
  readonly normal: ReadLimitSet;
  /** Under `emergency_support`: each no looser than `normal` (the configuration refuses otherwise). */
  readonly emergency: ReadLimitSet;
  /** Consent checks that did not hold (inquiries), per person, in any 24 h. */
  readonly consentRefusalsPerDay: number;
}

export const MINUTE_MS = 60_000;

/** Which limits apply to a read under this purpose. */
export function limitsFor(limits: ReadLimits, purpose: Purpose): ReadLimitSet {
  return purpose === 'emergency_support' ? limits.emergency : limits.normal;
}

/**
 * An exact sliding-window count: the amounts added at instants in (at − windowMs, at]. Keeps one entry per
 * addition while it is inside the window, so its memory is bounded by the additions a limit lets through.
 */
export class SlidingWindow {
  readonly #windowMs: number;
  readonly #entries: { at: number; amount: number }[] = [];
  /** The first entry still in the window; those before it are dropped in bulk (a shift per read is O(n)). */
  #head = 0;
  #total = 0;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  #prune(at: number): void {
    const entries = this.#entries;
    let head = this.#head;
    for (let e = entries[head]; e !== undefined && e.at <= at - this.#windowMs; e = entries[++head]) this.#total -= e.amount;
    if (head > 64 && head * 2 > entries.length) {
      entries.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }

  /** The amount counted in the window ending at `at`. Instants never go back by more than the window. */
  count(at: number): number {
    this.#prune(at);
    return this.#total;
  }

  add(at: number, amount: number): void {
    if (amount <= 0) return;
    this.#prune(at);
    const last = this.#entries.length > this.#head ? this.#entries.at(-1) : undefined;
    if (last !== undefined && last.at >= at) last.amount += amount;
    else this.#entries.push({ at, amount });
    this.#total += amount;
  }

  /** Whether `need` more fits under `limit` at `at`. */
  admits(at: number, need: number, limit: number): boolean {
    return this.count(at) + need <= limit;
  }

  /** Milliseconds from `at` until `need` more fits under `limit` (0 if it fits now). */
  waitMs(at: number, need: number, limit: number): number {
    let over = this.count(at) + need - limit;
    if (over <= 0) return 0;
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i];
      if (e === undefined) break;
      over -= e.amount;
      if (over <= 0) return e.at + this.#windowMs - at;
    }
    return this.#windowMs; // `need` alone is over the limit: nothing in the window will make room
  }

  /** Nothing left in the window at `at` (the limiter forgets the person). */
  empty(at: number): boolean {
    return this.count(at) === 0;
  }
}

/** What a limit refused: the rule, the limit and its window, and when a read would fit again. */
export interface LimitHit {
  readonly rule: ReadLimitRule;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly retryAfterSeconds: number;
  /** True for the first refusal in a window: raise a finding (once per window, not per refused read). */
  readonly raise: boolean;
}

interface Counters {
  readonly records: SlidingWindow;
  readonly rows: SlidingWindow;
  readonly day: SlidingWindow;
  readonly consentRefusals: SlidingWindow;
  /** Per rule: until when a finding raised for it covers further refusals. */
  readonly raisedUntil: Map<ReadLimitRule, number>;
}

/**
 * The counters of one process, per person and purpose (consent refusals per person). Reads are counted
 * when admitted (a look-up) or when served (a search's rows), so concurrent look-ups cannot all pass one
 * free place; a search admitted with room left counts all its rows.
 */
export class ReadLimiter {
  readonly limits: ReadLimits;
  readonly #counters = new Map<string, Counters>();
  #sweptAt = 0;

  constructor(limits: ReadLimits) {
    this.limits = limits;
  }

  #of(key: string, at: number): Counters {
    this.#sweep(at);
    let c = this.#counters.get(key);
    if (c === undefined) {
      c = {
        records: new SlidingWindow(MINUTE_MS),
        rows: new SlidingWindow(MINUTE_MS),
        day: new SlidingWindow(DAY_MS),
        consentRefusals: new SlidingWindow(DAY_MS),
        raisedUntil: new Map(),
      };
      this.#counters.set(key, c);
    }
    return c;
  }

  /** Forgets, at most once an hour, the people with nothing left in any window. */
  #sweep(at: number): void {
    if (at - this.#sweptAt < 3_600_000) return;
    this.#sweptAt = at;
    for (const [key, c] of this.#counters)
      if (c.day.empty(at) && c.consentRefusals.empty(at) && [...c.raisedUntil.values()].every((u) => u <= at)) this.#counters.delete(key);
  }

  #hit(c: Counters, rule: ReadLimitRule, window: SlidingWindow, windowMs: number, limit: number, at: number): LimitHit {
    const until = c.raisedUntil.get(rule) ?? -Infinity;
    const raise = at >= until;
    if (raise) c.raisedUntil.set(rule, at + windowMs);
    return { rule, limit, windowSeconds: windowMs / 1000, retryAfterSeconds: Math.max(1, Math.ceil(window.waitMs(at, 1, limit) / 1000)), raise };
  }

  /** A look-up of one record: refused by a limit, or admitted and counted. */
  admitRecord(personId: string, purpose: Purpose, at: Date): LimitHit | null {
    const t = at.getTime();
    const set = limitsFor(this.limits, purpose);
    const c = this.#of(`${personId}\u0000${purpose}`, t);
    if (!c.records.admits(t, 1, set.recordsPerMinute)) return this.#hit(c, 'read_rate_limit', c.records, MINUTE_MS, set.recordsPerMinute, t);
    if (!c.day.admits(t, 1, set.recordsPerDay)) return this.#hit(c, 'daily_read_limit', c.day, DAY_MS, set.recordsPerDay, t);
    c.records.add(t, 1);
    c.day.add(t, 1);
    return null;
  }

  /** A search: refused by a limit, or admitted (its rows are counted by `searched`). */
  admitSearch(personId: string, purpose: Purpose, at: Date): LimitHit | null {
    const t = at.getTime();
    const set = limitsFor(this.limits, purpose);
    const c = this.#of(`${personId}\u0000${purpose}`, t);
    if (!c.rows.admits(t, 1, set.searchRowsPerMinute)) return this.#hit(c, 'search_rate_limit', c.rows, MINUTE_MS, set.searchRowsPerMinute, t);
    if (!c.day.admits(t, 1, set.recordsPerDay)) return this.#hit(c, 'daily_read_limit', c.day, DAY_MS, set.recordsPerDay, t);
    return null;
  }

  /** The rows an admitted search served. */
  searched(personId: string, purpose: Purpose, at: Date, rows: number): void {
    const t = at.getTime();
    const c = this.#of(`${personId}\u0000${purpose}`, t);
    c.rows.add(t, rows);
    c.day.add(t, rows);
  }

  /** Before a consent check: refused once the person's refused checks of the last 24 h reach the limit. */
  admitConsentCheck(personId: string, at: Date): LimitHit | null {
    const t = at.getTime();
    const c = this.#of(`${personId}\u0000consent`, t);
    const limit = this.limits.consentRefusalsPerDay;
    return c.consentRefusals.admits(t, 1, limit) ? null : this.#hit(c, 'consent_refusal_limit', c.consentRefusals, DAY_MS, limit, t);
  }

  /** A consent check that did not hold. */
  consentRefused(personId: string, at: Date): void {
    const t = at.getTime();
    this.#of(`${personId}\u0000consent`, t).consentRefusals.add(t, 1);
  }
}

/** The refusal a client gets for a limit hit: the rule in words and when to come back. */
export function readLimited(hit: LimitHit): ReadLimited {
  const what = READ_LIMIT_LABELS[hit.rule].en;
  return new ReadLimited(
    hit.rule,
    `limit reached: ${what} (${hit.limit}); further reads are refused for now: try again in ${hit.retryAfterSeconds} s. The refusal is logged and raised for review`,
    { limit: hit.limit, windowSeconds: hit.windowSeconds, retryAfterSeconds: hit.retryAfterSeconds },
  );
}
