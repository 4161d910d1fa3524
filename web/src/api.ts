/** The console's only door to the server. Every decision about access is the server's; this only asks. */

export interface Labels { readonly ja: string; readonly en: string }

export interface Vocabulary {
  readonly fields: readonly { key: string; class: 'public' | 'non_public' | 'network_only'; ja: string; en: string }[];
  readonly fieldClasses: Readonly<Record<string, Labels>>;
  readonly reasons: Readonly<Record<string, Labels>>;
  readonly principalClasses: Readonly<Record<string, Labels>>;
  readonly purposes: Readonly<Record<string, Labels>>;
  readonly sides: Readonly<Record<string, Labels>>;
}

export interface Persona {
  readonly key: string;
  readonly userId: string;
  readonly name: string;
  readonly side: string;
  readonly principalClass: string;
  readonly labelJa: string;
  readonly labelEn: string;
  /** The registered terminal the persona logs in from; absent or null from outside the registry. */
  readonly terminalId?: string | null;
}

export interface Me {
  readonly personId: string;
  readonly name: string;
  readonly userId: string;
  readonly principalClass: string;
  readonly assignment: { side: string; employment: string; organization: string | null; office: string; duty: string; retailerCode: string | null } | null;
  readonly abilities: {
    readonly purposes: readonly ({ code: string } & Labels)[];
    readonly lookup: boolean;
    readonly searchByAddress: boolean;
    readonly searchByHolderName: readonly string[];
    readonly searchByPhone: readonly string[];
    readonly viewChecklist: boolean;
    readonly viewAuditLog: boolean;
    readonly manageAccess?: boolean;
    readonly approveGrants?: boolean;
    readonly overseeGrants?: boolean;
    readonly declareEmergency?: boolean;
    readonly overseeEmergencies?: boolean;
    readonly reviewFindings?: boolean;
    readonly emergencySupport?: boolean;
  };
  readonly csrfToken: string | null;
}

export type FieldView = { readonly shown: true; readonly value: unknown } | { readonly shown: false; readonly reason: string };

export interface RecordView {
  readonly supplyPointId: string;
  readonly fields: Readonly<Record<string, FieldView>>;
}

export interface SearchPage {
  readonly items: readonly RecordView[];
  readonly page: { limit: number; offset: number; hasMore: boolean };
}

export interface ChecklistRow {
  readonly route: string;
  readonly principalClass: string;
  readonly relation: string;
  readonly emergency: boolean;
  readonly field: string;
  readonly fieldClass: string;
  readonly outcome: 'shown' | 'masked';
  readonly shownFor: readonly string[];
  readonly reasons: readonly string[];
}

export interface Checklist {
  readonly policyVersion: string;
  readonly pass: boolean;
  readonly violations: readonly unknown[];
  readonly rows: readonly ChecklistRow[];
}

export interface AuditEvent {
  readonly seq: number;
  readonly hash: string;
  readonly occurredAt: string;
  readonly personId: string;
  readonly userId: string | null;
  readonly side: string | null;
  readonly employment: string | null;
  readonly office: string | null;
  readonly route: string;
  readonly purpose: string;
  readonly outcome: 'served' | 'refused';
  readonly refusal: string | null;
  readonly records: readonly { supplyPointId: string; relation: 'own' | 'former' | 'other' | 'none'; retailerCode: string | null; masked: Readonly<Record<string, string>> }[];
}

export interface AuditStatus {
  readonly head: { seq: number; hash: string };
  readonly lastSeal: { firstSeq: number; seq: number; signedAt: string; keyId: string } | null;
  readonly writer: { halted: string | null };
  readonly trustedKeys: readonly { keyId: string; source: string }[];
  readonly witness: { file: string; lastPublished: { seq: number; signedAt: string } | null; error: string | null } | null;
}

export interface AuditVerify {
  readonly ok: boolean;
  readonly events: number;
  readonly seals: number;
  readonly witnessChecked: number | null;
  readonly trustedKeys: readonly { keyId: string; source: string }[];
  readonly firstBreak: { seq: number; kind: string; detail: string } | null;
}

/** An error answer of the API: its stable code, its message, and the request id that finds it in the log. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
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
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    // A session that ended (time-out, logout elsewhere, account disabled) sends the console back to login.
    if (res.status === 401 && err?.code === 'not_authenticated' && path !== '/api/me') window.dispatchEvent(new Event(SESSION_ENDED));
    throw new ApiFailure(res.status, err?.code ?? 'internal', err?.message ?? res.statusText, requestId);
  }
  return { body: json as T, requestId };
}

export const api = {
  vocabulary: () => call<Vocabulary>('GET', '/api/vocabulary').then((a) => a.body),
  personas: () => call<{ personas: Persona[] }>('GET', '/api/personas').then((a) => a.body.personas),
  me: () => call<Me>('GET', '/api/me').then((a) => a.body),
  login: (userId: string, terminalId: string | null) =>
    call<{ csrfToken: string; me: Omit<Me, 'csrfToken'> }>('POST', '/api/session', terminalId === null ? { userId } : { userId, terminalId }).then((a) => a.body),
  logout: () => call<undefined>('DELETE', '/api/session'),
  record: (id: string, purpose: string, reason?: string) =>
    call<RecordView>('GET', `/api/supply-points/${encodeURIComponent(id)}?${new URLSearchParams({ purpose, ...(reason === undefined || reason === '' ? {} : { reason }) })}`),
  search: (params: Readonly<Record<string, string>>) => call<SearchPage>('GET', `/api/supply-points?${new URLSearchParams(params)}`),
  auditEvents: (params: Readonly<Record<string, string>>) => call<{ items: AuditEvent[]; page: { hasMore: boolean } }>('GET', `/api/audit/events?${new URLSearchParams(params)}`).then((a) => a.body),
  auditStatus: () => call<AuditStatus>('GET', '/api/audit/status').then((a) => a.body),
  auditVerify: () => call<AuditVerify>('POST', '/api/audit/verify').then((a) => a.body),
  checklist: () => call<Checklist>('GET', '/api/policy/checklist?format=json').then((a) => a.body),
};
