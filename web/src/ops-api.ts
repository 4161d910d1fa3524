import { call } from './api.ts';
import type * as em from '../../src/contract/emergency.ts';
import type * as an from '../../src/contract/analysis.ts';
import type { BodyOf, ReplyOf, Wire } from '../../src/contract/schema.ts';

/** Emergencies, analysis and findings: the calls (see docs/emergency.md, docs/analysis.md). */

// The shapes are the server's contract (src/contract/), imported as types only: the console bundles no zod
// and cannot drift from what the server sends. `Wire` is a shape as JSON carries it (instants as ISO strings).
export type EmergencyArea = Wire<em.EmergencyArea>;
export type Declaration = Wire<em.Declaration>;
export type Declarations = ReplyOf<typeof em.declarationList, 200>;
export type ActiveEmergencies = ReplyOf<typeof em.activeEmergencies, 200>;
export type SupportStaff = Wire<em.SupportStaff>;
export type Review = ReplyOf<typeof em.declarationReview, 200>;
export type Counts = Wire<an.Counts>;
export type Report = ReplyOf<typeof an.analysisReport, 200>;
export type Exposure = ReplyOf<typeof an.analysisExposure, 200>;
export type QueuedFinding = Wire<an.QueuedFinding>;
export type Digest = Wire<an.Digest>;

const body = <T>(p: Promise<{ body: T }>) => p.then((a) => a.body);
const id = (s: string) => encodeURIComponent(s);

export const opsApi = {
  activeEmergencies: () => body(call<ActiveEmergencies>('GET', '/api/emergencies/active')),
  emergencies: () => body(call<Declarations>('GET', '/api/emergencies?limit=100')),
  declare: (d: BodyOf<typeof em.declare>) => body(call<ReplyOf<typeof em.declare, 201>>('POST', '/api/emergencies', d)),
  confirm: (e: string, comment: string) =>
    body(call<ReplyOf<typeof em.declarationConfirm, 200>>('POST', `/api/emergencies/${id(e)}/confirm`, comment === '' ? {} : { comment })),
  reject: (e: string, comment: string) => body(call<ReplyOf<typeof em.declarationReject, 200>>('POST', `/api/emergencies/${id(e)}/reject`, { comment })),
  withdraw: (e: string) => body(call<ReplyOf<typeof em.declarationWithdraw, 200>>('POST', `/api/emergencies/${id(e)}/withdraw`, {})),
  end: (e: string, reason: string) => body(call<ReplyOf<typeof em.declarationEnd, 200>>('POST', `/api/emergencies/${id(e)}/end`, { reason })),
  extend: (e: string, plannedEndAt: string, reason: string) =>
    body(call<ReplyOf<typeof em.declarationExtend, 201>>('POST', `/api/emergencies/${id(e)}/extend`, { plannedEndAt, reason })),
  review: (e: string) => body(call<Review>('GET', `/api/emergencies/${id(e)}/review`)),
  signOff: (e: string, comment: string) => body(call<ReplyOf<typeof em.reviewSignOff, 200>>('POST', `/api/emergencies/${id(e)}/sign-off`, { comment })),
  supportStaff: () => body(call<ReplyOf<typeof em.supportStaffList, 200>>('GET', '/api/emergency-support')),
  register: (personId: string, fields: readonly string[]) =>
    body(call<ReplyOf<typeof em.supportRegister, 200>>('PUT', `/api/emergency-support/${id(personId)}`, { fields })),
  unregister: (personId: string) => call<undefined>('DELETE', `/api/emergency-support/${id(personId)}`),
  report: (from: string, to: string) => body(call<Report>('GET', `/api/analysis/report?${new URLSearchParams({ from, to })}`)),
  exposure: (from: string, to: string) => body(call<Exposure>('GET', `/api/analysis/exposure?${new URLSearchParams({ from, to })}`)),
  scan: (from: string, to: string) => body(call<ReplyOf<typeof an.analysisScan, 200>>('POST', '/api/analysis/scan', { from, to })),
  digests: () => body(call<ReplyOf<typeof an.digestList, 200>>('GET', '/api/analysis/digests')),
  findings: (openOnly: boolean) => body(call<ReplyOf<typeof an.findingList, 200>>('GET', `/api/findings?limit=200${openOnly ? '&open=true' : ''}`)),
  reviewFinding: (f: number, decision: 'acknowledge' | 'resolve', comment: string) =>
    body(call<ReplyOf<typeof an.findingReview, 200>>('POST', `/api/findings/${f}/${decision}`, comment === '' ? {} : { comment })),
};
