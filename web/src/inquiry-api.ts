import { call } from './api.ts';
import type * as iq from '../../src/contract/inquiry.ts';
import type { BodyOf, ReplyOf, Wire } from '../../src/contract/schema.ts';

/** Inquiries to the network operator (照会, issue 18), their queue, equal treatment and notifications: the calls. */

// The shapes are the server's contract (src/contract/inquiry.ts), imported as types only: the console bundles
// no zod and cannot drift from what the server sends. `Wire` is a shape as JSON carries it (instants as ISO strings).
export type Inquiry = Wire<iq.Inquiry>;
export type Asked = ReplyOf<typeof iq.ask, 201>;
export type AskBody = BodyOf<typeof iq.ask>;
export type DirectBody = BodyOf<typeof iq.direct>;
export type InquiryList = ReplyOf<typeof iq.list, 200>;
export type EqualTreatment = ReplyOf<typeof iq.equalTreatment, 200>;
export type RetailerFigures = EqualTreatment['others'];
export type Notification = Wire<iq.NotificationOut>;
export type Notifications = ReplyOf<typeof iq.notifications, 200>;
/** Which inquiries a list shows: mine, my retailer's, the service centre's queue, or all. */
export type InquiryScope = 'mine' | 'retailer' | 'queue' | 'all';

const body = <T>(p: Promise<{ body: T }>) => p.then((a) => a.body);
const id = (s: string) => encodeURIComponent(s);

export const inquiryApi = {
  ask: (b: AskBody) => body(call<Asked>('POST', '/api/inquiries', b)),
  list: (scope: InquiryScope) => body(call<InquiryList>('GET', `/api/inquiries?${new URLSearchParams({ scope, limit: '200' })}`)),
  get: (i: string) => body(call<Inquiry>('GET', `/api/inquiries/${id(i)}`)),
  /** The answer as it stands, read again through the firewall (a logged read): answered with the request id. */
  answer: (i: string) => call<ReplyOf<typeof iq.answer, 200>>('GET', `/api/inquiries/${id(i)}/answer`),
  release: (i: string, items: readonly string[], note: string) =>
    body(call<Inquiry>('POST', `/api/inquiries/${id(i)}/release`, note === '' ? { items } : { items, note })),
  askBack: (i: string, question: string) => body(call<Inquiry>('POST', `/api/inquiries/${id(i)}/ask-back`, { question })),
  refuse: (i: string, reason: string) => body(call<Inquiry>('POST', `/api/inquiries/${id(i)}/refuse`, { reason })),
  reply: (i: string, text: string) => body(call<Inquiry>('POST', `/api/inquiries/${id(i)}/reply`, { text })),
  withdraw: (i: string) => body(call<Inquiry>('POST', `/api/inquiries/${id(i)}/withdraw`)),
  direct: (b: DirectBody) => body(call<Inquiry>('POST', '/api/inquiries/direct', b)),
  equalTreatment: (period: { from: string; to: string } | null) =>
    body(call<EqualTreatment>('GET', `/api/inquiries/equal-treatment${period === null ? '' : `?${new URLSearchParams(period)}`}`)),
  notifications: () => body(call<Notifications>('GET', '/api/notifications?unread=true')),
  markRead: (ids: readonly number[]) => call<undefined>('POST', '/api/notifications/read', { ids }),
};

/** An inquiry's link inside the console. */
export const inquiryPath = (i: string) => `/inquiries/${encodeURIComponent(i)}`;
