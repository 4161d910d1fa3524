import { refusalFamily, type RefusalKind } from './refusal.ts';
import type { Purpose } from './purpose.ts';
import { DAY_MS } from './japan-time.ts';

/**
 * Rate and volume limits on reading (issue 20): how much one person may read under one purpose in a sliding
 * window, tightest under `emergency_support`, and under all purposes together; how many inquiries a person may
 * have answered with consent. In a declared emergency a retail agent paged 972 names in
 * 0.8 s and 300 phone numbers in 5 s, and a call-centre agent read 400 corporate records in 1.7 s, and
 * nothing stopped them (the Tohoku pattern: bulk reading that only a later scan would show). Pure: the
 * instant is passed in; the firewall keeps a `ReadLimiter` and logs what it refuses.
 */

export const READ_LIMIT_RULES = [
  'read_rate_limit',
  'daily_read_limit',
  'search_rate_limit',
  'person_daily_read_limit',
  'consent_refusal_limit',
  'inquiry_answer_limit',
] as const;
export type ReadLimitRule = (typeof READ_LIMIT_RULES)[number];

/** The rule named in words, for the access log, the findings queue and the console. */
export const READ_LIMIT_LABELS: Readonly<Record<ReadLimitRule, { readonly ja: string; readonly en: string }>> = {
  read_rate_limit: { ja: '1分あたりの照会件数の上限', en: 'records read per minute' },
  daily_read_limit: { ja: '24時間あたりの照会件数の上限', en: 'records read per 24 hours' },
  search_rate_limit: { ja: '1分あたりの検索結果件数の上限', en: 'search result rows per minute' },
  person_daily_read_limit: { ja: '24時間あたりの照会件数の上限（全利用目的の合計）', en: 'records read per 24 hours, all purposes together' },
  consent_refusal_limit: { ja: '24時間あたりの同意確認不成立の上限', en: 'refused consent checks per 24 hours' },
  inquiry_answer_limit: { ja: '24時間あたりの同意に基づく照会回答の上限', en: 'inquiries answered with consent per 24 hours' },
};

const READ_LIMIT_KINDS: Readonly<Record<ReadLimitRule, RefusalKind>> = {
  read_rate_limit: 'limited',
  daily_read_limit: 'limited',
  search_rate_limit: 'limited',
  person_daily_read_limit: 'limited',
  consent_refusal_limit: 'limited',
  inquiry_answer_limit: 'limited',
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
  /**
   * Records opened plus search result rows per person in any 24 h, all purposes together: a person entitled
   * to k purposes may not read k × `recordsPerDay` (the tightest of the limits that apply wins).
   */
  readonly personRecordsPerDay: number;
  /** Consent checks that did not hold (inquiries), per person, in any 24 h. */
  readonly consentRefusalsPerDay: number;
  /**
   * Inquiries answered with a consent that holds, per person (a retailer's system is its service account's
   * person), in any 24 h: a retailer's batch of 2,000 switching cases is a legitimate day's work.
   */
  readonly inquiryAnswersPerDay: number;
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
  readonly #entries: Reserved[] = [];
  /** The first entry still in the window; those before it are dropped in bulk (a shift per read is O(n)). */
  #head = 0;
  #total = 0;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  #prune(at: number): void {
    const entries = this.#entries;
    let head = this.#head;
    for (let e = entries[head]; e !== undefined && e.at <= at - this.#windowMs; e = entries[++head]) {
      this.#total -= e.amount;
      e.gone = true;
    }
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
    const entries = this.#entries;
    const last = entries.length > this.#head ? entries.at(-1) : undefined;
    if (last === undefined || last.at < at) entries.push({ at, amount });
    else if (last.at === at) last.amount += amount;
    else {
      // Earlier than the last: another process's read, learned from the log a moment later (issue 21). Kept in
      // its place, so it leaves the window when it should; one already out of the window is not counted.
      if (at <= last.at - this.#windowMs) return;
      let i = entries.length - 1;
      while (i >= this.#head && (entries[i]?.at ?? -Infinity) > at) i--;
      const there = i >= this.#head ? entries[i] : undefined;
      if (there !== undefined && there.at === at) there.amount += amount;
      else entries.splice(i + 1, 0, { at, amount });
    }
    this.#total += amount;
  }

  /**
   * Sets `amount` aside at `at` (counted at once, like an addition) in an entry of its own, which `release`
   * gives back as far as it goes unused: concurrent searches each hold their page while they run.
   */
  reserve(at: number, amount: number): Reserved {
    this.#prune(at);
    const last = this.#entries.length > this.#head ? this.#entries.at(-1) : undefined;
    const e: Reserved = { at: last === undefined ? at : Math.max(at, last.at), amount };
    this.#entries.push(e);
    this.#total += amount;
    return e;
  }

  /** Gives back up to `amount` of a reservation (the part of a page a search did not serve). */
  release(e: Reserved, amount: number): void {
    const back = Math.min(Math.max(0, amount), e.amount);
    e.amount -= back;
    if (e.gone !== true) this.#total -= back;
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

/**
 * A read another server process admitted and logged (issue 21), as this process learns it from the log:
 * counted in the same windows as its own reads (ReadLimiter.observe), so N processes allow one person what one
 * process allows — give or take the reads admitted in different processes within one group commit.
 */
export type CountedRead =
  | { readonly kind: 'record'; readonly personId: string; readonly purpose: Purpose; readonly at: Date }
  | { readonly kind: 'rows'; readonly personId: string; readonly purpose: Purpose; readonly at: Date; readonly rows: number }
  | { readonly kind: 'inquiry_answer'; readonly personId: string; readonly at: Date }
  | { readonly kind: 'consent_refused'; readonly personId: string; readonly at: Date };

/** A search's page held in its windows from admission until it is served (ReadLimiter.searched). */
export interface SearchReservation {
  readonly rows: number;
  readonly held: readonly { readonly window: SlidingWindow; readonly entry: Reserved }[];
}

export type SearchAdmission = { readonly kind: 'limited'; readonly hit: LimitHit } | { readonly kind: 'admitted'; readonly reservation: SearchReservation };

/** What a limit refused: the rule, the limit and its window, and when a read would fit again. */
export interface LimitHit {
  readonly rule: ReadLimitRule;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly retryAfterSeconds: number;
  /** True for the first refusal in a window: raise a finding (once per window, not per refused read). */
  readonly raise: boolean;
}

/** Rows set aside in a window at a search's admission (SlidingWindow.reserve), given back as far as unused. */
export interface Reserved {
  at: number;
  amount: number;
  /** Left the window (pruned): giving back changes the count no more. */
  gone?: true;
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
 * The counters of one process, per person and purpose, and per person across purposes (consent refusals
 * and inquiry answers per person). Reads are counted when admitted — a look-up its record, a search its
 * whole page, given back as far as the page went unfilled — so concurrent reads cannot all pass one free place.
 * Reads other server processes served are counted too, as the log writer accounts for their events (`observe`).
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

  #hit(c: Counters, rule: ReadLimitRule, window: SlidingWindow, windowMs: number, limit: number, at: number, need = 1): LimitHit {
    const until = c.raisedUntil.get(rule) ?? -Infinity;
    const raise = at >= until;
    if (raise) c.raisedUntil.set(rule, at + windowMs);
    return { rule, limit, windowSeconds: windowMs / 1000, retryAfterSeconds: Math.max(1, Math.ceil(window.waitMs(at, need, limit) / 1000)), raise };
  }

  /** The person's counters across purposes (the total per person). */
  #person(personId: string, t: number): Counters {
    return this.#of(`${personId}\u0000*`, t);
  }

  /** A look-up of one record: refused by a limit, or admitted and counted. */
  admitRecord(personId: string, purpose: Purpose, at: Date): LimitHit | null {
    const t = at.getTime();
    const set = limitsFor(this.limits, purpose);
    const c = this.#of(`${personId}\u0000${purpose}`, t);
    const p = this.#person(personId, t);
    const total = this.limits.personRecordsPerDay;
    if (!c.records.admits(t, 1, set.recordsPerMinute)) return this.#hit(c, 'read_rate_limit', c.records, MINUTE_MS, set.recordsPerMinute, t);
    if (!c.day.admits(t, 1, set.recordsPerDay)) return this.#hit(c, 'daily_read_limit', c.day, DAY_MS, set.recordsPerDay, t);
    if (!p.day.admits(t, 1, total)) return this.#hit(p, 'person_daily_read_limit', p.day, DAY_MS, total, t);
    c.records.add(t, 1);
    c.day.add(t, 1);
    p.day.add(t, 1);
    return null;
  }

  /**
   * A search of up to `rows` rows (its page): refused by a limit, or admitted with the page reserved in every
   * window at once, so searches admitted together cannot overshoot a limit by a page each; `searched` gives
   * back what the page did not fill. A page larger than a limit itself is admitted only into an empty window.
   */
  admitSearch(personId: string, purpose: Purpose, at: Date, rows: number): SearchAdmission {
    const t = at.getTime();
    const set = limitsFor(this.limits, purpose);
    const c = this.#of(`${personId}\u0000${purpose}`, t);
    const p = this.#person(personId, t);
    const total = this.limits.personRecordsPerDay;
    const need = (limit: number) => Math.max(1, Math.min(rows, limit));
    if (!c.rows.admits(t, need(set.searchRowsPerMinute), set.searchRowsPerMinute))
      return { kind: 'limited', hit: this.#hit(c, 'search_rate_limit', c.rows, MINUTE_MS, set.searchRowsPerMinute, t, need(set.searchRowsPerMinute)) };
    if (!c.day.admits(t, need(set.recordsPerDay), set.recordsPerDay))
      return { kind: 'limited', hit: this.#hit(c, 'daily_read_limit', c.day, DAY_MS, set.recordsPerDay, t, need(set.recordsPerDay)) };
    if (!p.day.admits(t, need(total), total)) return { kind: 'limited', hit: this.#hit(p, 'person_daily_read_limit', p.day, DAY_MS, total, t, need(total)) };
    return { kind: 'admitted', reservation: { rows, held: [c.rows, c.day, p.day].map((w) => ({ window: w, entry: w.reserve(t, rows) })) } };
  }

  /** The rows an admitted search served: the rest of its reservation is given back. */
  searched(reservation: SearchReservation, rows: number): void {
    for (const h of reservation.held) h.window.release(h.entry, reservation.rows - rows);
  }

  /** An inquiry answered with a consent that holds: refused past the person's limit, or admitted and counted. */
  admitInquiryAnswer(personId: string, at: Date): LimitHit | null {
    const t = at.getTime();
    const c = this.#of(`${personId}\u0000inquiry`, t);
    const limit = this.limits.inquiryAnswersPerDay;
    if (!c.day.admits(t, 1, limit)) return this.#hit(c, 'inquiry_answer_limit', c.day, DAY_MS, limit, t);
    c.day.add(t, 1);
    return null;
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

  /**
   * A read another server process served (or a consent it refused), counted where this process would have
   * counted it — without a limit check: it has happened. Its instant may be earlier than reads counted here.
   */
  observe(r: CountedRead): void {
    const t = r.at.getTime();
    if (r.kind === 'inquiry_answer') return this.#of(`${r.personId}\u0000inquiry`, t).day.add(t, 1);
    if (r.kind === 'consent_refused') return this.#of(`${r.personId}\u0000consent`, t).consentRefusals.add(t, 1);
    const c = this.#of(`${r.personId}\u0000${r.purpose}`, t);
    const p = this.#person(r.personId, t);
    const n = r.kind === 'record' ? 1 : r.rows;
    (r.kind === 'record' ? c.records : c.rows).add(t, n);
    c.day.add(t, n);
    p.day.add(t, n);
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
