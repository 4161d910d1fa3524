/**
 * One model for every "no" a service gives: the rule it broke (a stable snake_case name, sent to clients as
 * `details.rule` and recorded in the governance log), what kind of no it is, and a sentence saying how.
 *
 * The kind alone decides how an edge answers — the HTTP status and wire code in `api/errors.ts`, the exit
 * code in `cli/exit.ts` — so a service never chooses a status, and two routes cannot answer one rule two
 * ways (issue 16 found the same grant rule answered 403 by one route and 409 by another). Each family of
 * rules lists the kind of every rule beside the rules, as a total table the compiler checks.
 */

export const REFUSAL_KINDS = [
  /** The request is malformed or names something impossible (a period too long, an end before its start). */
  'invalid',
  /** A rule of the firewall or of the workflow forbids it, whoever asks again (self-approval, wrong side). */
  'refused',
  /** What it names does not exist. */
  'not_found',
  /** It was allowed, but the thing has moved on (no longer pending, already signed off). */
  'conflict',
  /** It cannot run now; try again later. */
  'busy',
  /** A limit on how much one may do in a window is reached (reads per minute …); try again after `retryAfterSeconds`. */
  'limited',
] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

/** The families of rules; an edge may give a family its own wire codes (`grant_refused`, …). */
export const REFUSAL_FAMILIES = ['grant', 'emergency', 'token', 'review', 'account', 'terminal', 'analysis', 'export', 'inquiry', 'read', 'input'] as const;
export type RefusalFamily = (typeof REFUSAL_FAMILIES)[number];

export class Refusal<R extends string = string> extends Error {
  constructor(
    readonly family: RefusalFamily,
    readonly rule: R,
    readonly kind: RefusalKind,
    message: string,
    /** Facts a client may act on (`maxDays`, `retryAfterSeconds`); never customer data. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** The base for one family: its rules' kinds in one total table. */
export function refusalFamily<const R extends string>(family: RefusalFamily, kinds: Readonly<Record<R, RefusalKind>>) {
  return class extends Refusal<R> {
    static readonly kinds = kinds;
    constructor(rule: R, message: string, details: Readonly<Record<string, unknown>> = {}) {
      super(family, rule, kinds[rule], message, details);
    }
  };
}

/**
 * The base for what an operator gives wrong before anything runs — arguments, configuration, key, witness and
 * input files, a data directory in use: family `input`, kind `invalid`, the rule its stable code. The CLI
 * answers them with exit 2 and the message alone, as before the refusal model.
 */
export function inputRefusal<const R extends string>(rule: R) {
  return class extends Refusal<R> {
    constructor(message: string) {
      super('input', rule, 'invalid', message);
    }
  };
}
