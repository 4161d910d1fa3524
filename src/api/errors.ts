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
  not_found: 404,
  rate_limited: 429,
  log_unavailable: 503,
  /** Another analysis holds the analysis queue for longer than a request may wait (with Retry-After). */
  analysis_busy: 503,
  internal: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

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
