import type { Labels } from '../../src/contract/common.ts';
import type * as audit from '../../src/contract/audit.ts';
import type * as policy from '../../src/contract/policy.ts';
import type { BodyOf, ReplyOf } from '../../src/contract/schema.ts';
import type * as session from '../../src/contract/session.ts';
import type * as supplyPoint from '../../src/contract/supply-point.ts';
import type * as device from '../../src/contract/terminal-device.ts';
import type * as vocabulary from '../../src/contract/vocabulary.ts';

/** The console's only door to the server. Every decision about access is the server's; this only asks. */

// The shapes of the routes are the server's contract (src/contract/), imported as types only: the console
// bundles no zod and cannot drift from what the server sends.
export type { Labels };
export type Vocabulary = ReplyOf<typeof vocabulary.vocabulary, 200>;
export type Persona = ReplyOf<typeof session.personas, 200>['personas'][number];
export type Me = ReplyOf<typeof session.me, 200>;
/** What a login answers: the session's CSRF token and the person (without the token). */
export type Opened = ReplyOf<typeof session.personaLogin, 201>;
export type AuthMethods = ReplyOf<typeof session.authMethods, 200>;
/** What ending a single sign-on session asks of the browser (the provider's logout), or nothing (204). */
export type ProviderLogout = ReplyOf<typeof session.logout, 200>['providerLogout'];
export type DeviceStatus = ReplyOf<typeof device.deviceStatus, 200>;

/** A record view: every field of the record, each shown with its value or masked with the reason. */
export type RecordView = ReplyOf<typeof supplyPoint.lookup, 200>;
export type SearchPage = ReplyOf<typeof supplyPoint.search, 200>;
/** One field as the firewall decided it: `{shown: true, value}` or `{shown: false, reason}`. */
export type FieldView = RecordView['fields'][keyof RecordView['fields']];

/** The masking checklist as JSON (the route also answers CSV and Markdown, downloaded by link). */
export type Checklist = Exclude<ReplyOf<typeof policy.checklist, 200>, string>;
export type ChecklistRow = Checklist['rows'][number];

/**
 * The labels of a code the console holds as text (from the URL, or as the log recorded it); undefined when
 * the set has no such member, so the screen shows the code itself.
 */
export function labelOf(labels: Readonly<Partial<Record<string, Labels>>>, code: string): Labels | undefined {
  return Object.hasOwn(labels, code) ? labels[code] : undefined;
}

export type AuditEvent = ReplyOf<typeof audit.auditEvents, 200>['items'][number];
export type AuditStatus = ReplyOf<typeof audit.auditStatus, 200>;
export type AuditVerify = ReplyOf<typeof audit.auditVerify, 200>;

/**
 * An error answer of the API: its stable code, its message, the request id that finds it in the log, and —
 * for a refusal — the rule it broke (`details.rule`: self_grant, side_not_allowed …) and its other details.
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  /** The rule a refusal broke, as the server named it; null for other errors. */
  get rule(): string | null {
    const r = this.details['rule'];
    return typeof r === 'string' ? r : null;
  }
}

/** Event fired on `window` when the server no longer knows the session. */
export const SESSION_ENDED = 'gridwall:session-ended';

let csrfToken: string | null = null;

/** Remembers the session's CSRF token (from login or /api/me) for state-changing calls. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** A successful answer with the id the server logged the request under (shown on record screens). */
export interface Answer<T> {
  readonly body: T;
  readonly requestId: string | null;
}

/** The one door to the server: JSON in and out, the CSRF header on changes, a lost session announced. */
export async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const requestId = res.headers.get('x-request-id');
  if (res.status === 204) return { body: undefined as T, requestId };
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
    // A session that ended (time-out, logout elsewhere, account disabled) sends the console back to login.
    if (res.status === 401 && err?.code === 'not_authenticated' && path !== '/api/me') window.dispatchEvent(new Event(SESSION_ENDED));
    const details = typeof err?.details === 'object' && err.details !== null ? err.details : {};
    throw new ApiFailure(res.status, err?.code ?? 'internal', err?.message ?? res.statusText, requestId, details);
  }
  return { body: json as T, requestId };
}

export const api = {
  vocabulary: () => call<Vocabulary>('GET', '/api/vocabulary').then((a) => a.body),
  personas: () => call<ReplyOf<typeof session.personas, 200>>('GET', '/api/personas').then((a) => a.body.personas),
  me: () => call<Me>('GET', '/api/me').then((a) => a.body),
  login: (userId: string, terminalId: string | null) =>
    call<Opened>('POST', '/api/session', (terminalId === null ? { userId } : { userId, terminalId }) satisfies BodyOf<typeof session.personaLogin>).then(
      (a) => a.body,
    ),
  logout: () => call<ReplyOf<typeof session.logout, 200> | undefined>('DELETE', '/api/session').then((a) => a.body?.providerLogout ?? null),
  device: () => call<DeviceStatus>('GET', '/api/device').then((a) => a.body),
  enrollDevice: (code: string) =>
    call<ReplyOf<typeof device.deviceEnroll, 201>>('POST', '/api/device/enroll', { code } satisfies BodyOf<typeof device.deviceEnroll>).then((a) => a.body),
  record: (id: string, purpose: string, reason?: string) =>
    call<RecordView>(
      'GET',
      `/api/supply-points/${encodeURIComponent(id)}?${new URLSearchParams({ purpose, ...(reason === undefined || reason === '' ? {} : { reason }) })}`,
    ),
  search: (params: Readonly<Record<string, string>>) => call<SearchPage>('GET', `/api/supply-points?${new URLSearchParams(params)}`),
  auditEvents: (params: Readonly<Record<string, string>>) =>
    call<ReplyOf<typeof audit.auditEvents, 200>>('GET', `/api/audit/events?${new URLSearchParams(params)}`).then((a) => a.body),
  auditStatus: () => call<AuditStatus>('GET', '/api/audit/status').then((a) => a.body),
  auditVerify: () => call<AuditVerify>('POST', '/api/audit/verify').then((a) => a.body),
  checklist: () => call<Checklist>('GET', '/api/policy/checklist?format=json').then((a) => a.body),
};
