import { call } from './api.ts';

/** Emergencies, analysis and findings: the calls and the shapes the server answers with (see docs/emergency.md, docs/analysis.md). */

export type EmergencyArea =
  | { readonly kind: 'area_code'; readonly areaCode: string }
  | { readonly kind: 'prefecture'; readonly prefecture: string }
  | { readonly kind: 'municipality'; readonly prefecture: string; readonly city: string };

export interface Declaration {
  readonly id: string;
  readonly status: string;
  readonly state: 'pending' | 'scheduled' | 'active' | 'ended' | 'rejected' | 'withdrawn';
  readonly reason: string;
  readonly areas: readonly EmergencyArea[];
  readonly startsAt: string;
  readonly plannedEndAt: string;
  readonly window: { readonly from: string; readonly to: string } | null;
  readonly extendsId: string | null;
  readonly declaredBy: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly endedAt: string | null;
  readonly signedOffBy: string | null;
  readonly signedOffAt: string | null;
  readonly signOffComment: string | null;
}

export interface ActiveEmergencies {
  readonly emergencies: readonly { id: string; reason: string; areas: readonly EmergencyArea[]; window: { from: string; to: string } | null }[];
  readonly support: { readonly fields: readonly string[] } | null;
  readonly maxHours: number;
}

export interface SupportStaff {
  readonly personId: string;
  readonly personName: string;
  readonly organization: string | null;
  readonly fields: readonly string[];
  readonly note: string | null;
  readonly validFrom: string;
}

export interface ReviewRead {
  readonly seq: number;
  readonly occurredAt: string;
  readonly userId: string | null;
  readonly personId: string;
  readonly organizationId: string | null;
  readonly terminalId: string | null;
  readonly refusal: string | null;
  readonly statedReason: string | null;
  readonly supplyPoints: readonly { supplyPointId: string; shown: readonly string[] }[];
}

export interface Review {
  readonly declaration: Declaration;
  readonly reads: readonly ReviewRead[];
  readonly refused: readonly ReviewRead[];
  readonly summary: { reads: number; people: number; supplyPoints: number; refused: number };
}

export interface Split {
  readonly employee: number;
  readonly contractor: number;
  readonly total: number;
}

export interface Counts {
  readonly views: Split;
  readonly lastResortViews: number;
  readonly emergencyViews: number;
  readonly terminals: number;
  readonly people: Split;
  readonly offices: number;
  readonly supplyPoints: number;
  readonly retailers: number;
}

export interface Finding {
  readonly rule: string;
  readonly severity: 'high' | 'medium' | 'low';
  readonly subject: string;
  readonly detail: string;
}

export interface Report {
  readonly period: { from: string; to: string };
  readonly rows: { read: number; used: number; rejected: number };
  readonly systems: readonly (Counts & { system: string })[];
  readonly total: Counts;
  readonly viewers: readonly { userId: string; personId: string | null; organization: string | null; views: number; corporate: { views: number; customers: number }; individual: { views: number; customers: number } }[];
  readonly daily: readonly { day: string; views: number; lastResortViews: number }[];
  readonly findings: readonly Finding[];
}

export interface QueuedFinding {
  readonly id: number;
  readonly rule: string;
  readonly severity: 'high' | 'medium' | 'low';
  readonly occurredAt: string;
  readonly source: string;
  readonly subjectUserId: string | null;
  readonly summary: string;
  readonly status: 'open' | 'acknowledged' | 'resolved';
}

export interface Digest {
  readonly day: string;
  readonly views: number;
  readonly emergencyViews: number;
  readonly refused: number;
  readonly queued: number;
}

const body = <T>(p: Promise<{ body: T }>) => p.then((a) => a.body);
const id = (s: string) => encodeURIComponent(s);

export const opsApi = {
  activeEmergencies: () => body(call<ActiveEmergencies>('GET', '/api/emergencies/active')),
  emergencies: () => body(call<{ declarations: Declaration[]; maxHours: number }>('GET', '/api/emergencies?limit=100')),
  declare: (d: { areas: EmergencyArea[]; startsAt: string; plannedEndAt: string; reason: string }) => body(call<Declaration>('POST', '/api/emergencies', d)),
  confirm: (e: string, comment: string) => body(call<Declaration>('POST', `/api/emergencies/${id(e)}/confirm`, comment === '' ? {} : { comment })),
  reject: (e: string, comment: string) => body(call<Declaration>('POST', `/api/emergencies/${id(e)}/reject`, { comment })),
  withdraw: (e: string) => body(call<Declaration>('POST', `/api/emergencies/${id(e)}/withdraw`, {})),
  end: (e: string, reason: string) => body(call<Declaration>('POST', `/api/emergencies/${id(e)}/end`, { reason })),
  extend: (e: string, plannedEndAt: string, reason: string) => body(call<Declaration>('POST', `/api/emergencies/${id(e)}/extend`, { plannedEndAt, reason })),
  review: (e: string) => body(call<Review>('GET', `/api/emergencies/${id(e)}/review`)),
  signOff: (e: string, comment: string) => body(call<Declaration>('POST', `/api/emergencies/${id(e)}/sign-off`, { comment })),
  supportStaff: () => body(call<{ staff: SupportStaff[] }>('GET', '/api/emergency-support')),
  register: (personId: string, fields: readonly string[]) => body(call<SupportStaff>('PUT', `/api/emergency-support/${id(personId)}`, { fields })),
  unregister: (personId: string) => call<undefined>('DELETE', `/api/emergency-support/${id(personId)}`),
  report: (from: string, to: string) => body(call<Report>('GET', `/api/analysis/report?${new URLSearchParams({ from, to })}`)),
  scan: (from: string, to: string) => body(call<{ findings: number; queued: number }>('POST', '/api/analysis/scan', { from, to })),
  digests: () => body(call<{ digests: Digest[] }>('GET', '/api/analysis/digests')),
  findings: (openOnly: boolean) => body(call<{ findings: QueuedFinding[] }>('GET', `/api/findings?limit=200${openOnly ? '&open=true' : ''}`)),
  reviewFinding: (f: number, decision: 'acknowledge' | 'resolve', comment: string) => body(call<{ status: string }>('POST', `/api/findings/${f}/${decision}`, comment === '' ? {} : { comment })),
};
