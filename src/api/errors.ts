import type { RefusalFamily, RefusalKind } from '../domain/refusal.ts';

/**
 * Errors that reach a client. Each has a stable snake_case code; the HTTP status is chosen here, in one
 * table, and nowhere else.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_supply_point_id: 400,
  search_criteria: 400,
  not_authenticated: 401,
  csrf_failed: 403,
  forbidden: 403,
  search_field_not_permitted: 403,
  demo_login_disabled: 404,
  password_login_disabled: 404,
  oidc_disabled: 404,
  /** Wrong user ID, password or one-time code: one code for all, so a client cannot tell which part was wrong. */
  login_failed: 401,
  unknown_account: 401,
  /** Refused at login as the sweep would disable it: no login for the dormant period, or nobody assigned behind it. */
  dormant_account: 403,
  account_without_person: 403,
  unknown_terminal: 403,
  retired_terminal: 403,
  permission_not_granted: 403,
  grant_refused: 403,
  token_scope: 403,
  token_invalid: 400,
  /** A token or service-account action refused by its rule (`self_approval`, `not_a_service_account`, …; in details.rule). */
  token_refused: 403,
  token_conflict: 409,
  grant_invalid: 400,
  grant_conflict: 409,
  /** Emergency support: a reason must be stated for each read. */
  reason_required: 400,
  not_emergency_support: 403,
  no_active_emergency: 403,
  outside_emergency_area: 403,
  emergency_refused: 403,
  emergency_invalid: 400,
  emergency_conflict: 409,
  review_conflict: 409,
  /** Inquiries (照会): a malformed one, one refused by its rule (details.rule: consent_expired, not_a_retailer …), one that has moved on. */
  inquiry_invalid: 400,
  inquiry_refused: 403,
  inquiry_conflict: 409,
  not_found: 404,
  /** Too many login attempts, or a read limit reached (details.rule: read_rate_limit, search_rate_limit …; with Retry-After). */
  rate_limited: 429,
  log_unavailable: 503,
  /** The store could not answer: unreachable, shutting down, out of connections or past a time-out (with Retry-After). */
  store_unavailable: 503,
  /** The request line is longer than the server reads. */
  uri_too_long: 414,
  /** The request's headers are larger than the server reads. */
  headers_too_large: 431,
  /** No answer within the answer time-out (GRIDWALL_HTTP_ANSWER_TIMEOUT_MS): nothing served (with Retry-After). */
  answer_timeout: 503,
  /** The request did not arrive in time (headers or body), or is not HTTP the server can read. */
  request_timeout: 408,
  /** Another analysis holds the analysis queue for longer than a request may wait (with Retry-After). */
  analysis_busy: 503,
  /** Another workbook export (the access log as XLSX) is being built for longer than a request may wait (with Retry-After). */
  export_busy: 503,
  /** Refusals of a family without codes of their own (details.rule names the rule). */
  conflict: 409,
  busy: 503,
  internal: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The status each kind of refusal is answered with; the wire code must carry the same status (tested). */
export const REFUSAL_STATUS: Readonly<Record<RefusalKind, number>> = {
  invalid: 400,
  refused: 403,
  not_found: 404,
  conflict: 409,
  busy: 503,
  limited: 429,
};

/** Families with codes of their own; any other kind of refusal gets the general code of its kind. */
const FAMILY_CODE: Readonly<Partial<Record<RefusalFamily, Partial<Record<RefusalKind, ErrorCode>>>>> = {
  grant: { invalid: 'grant_invalid', refused: 'grant_refused', conflict: 'grant_conflict' },
  emergency: { invalid: 'emergency_invalid', refused: 'emergency_refused', conflict: 'emergency_conflict' },
  token: { refused: 'token_refused', conflict: 'token_conflict' },
  review: { conflict: 'review_conflict' },
  inquiry: { invalid: 'inquiry_invalid', refused: 'inquiry_refused', conflict: 'inquiry_conflict' },
  analysis: { busy: 'analysis_busy' },
  export: { busy: 'export_busy' },
};
const KIND_CODE: Readonly<Record<RefusalKind, ErrorCode>> = {
  invalid: 'validation_failed',
  refused: 'forbidden',
  not_found: 'not_found',
  conflict: 'conflict',
  busy: 'busy',
  limited: 'rate_limited',
};

/** The wire code of a refusal: its family's own code for its kind, or the general one. */
export function refusalCode(family: RefusalFamily, kind: RefusalKind): ErrorCode {
  return FAMILY_CODE[family]?.[kind] ?? KIND_CODE[kind];
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly requestId: string; readonly details?: Readonly<Record<string, unknown>> };
}
