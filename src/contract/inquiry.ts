import { z } from 'zod';
import { EQUALITY_MEASURES } from '../domain/equal-treatment.ts';
import { CSV_UPLOAD_ENCODINGS } from '../domain/export-file.ts';
import { CASE_TYPES, CONSENT_METHODS, IDENTITY_CHECKS, INQUIRY_CHANNELS, INQUIRY_STATUSES } from '../domain/inquiry.ts';
import { CsvEncodingParam, Day, InstantIn, InstantOut, page, text } from './common.ts';
import { contract } from './schema.ts';
import { RecordView } from './supply-point.ts';

/**
 * Inquiries to the network operator (照会, issue 18; src/api/inquiry-routes.ts): a retailer asks, with the
 * customer's consent; what the case allows at once is answered in the same response (a record view, logged
 * with purpose inquiry_answer), the rest waits for the network service centre, which answers, asks back or
 * refuses. The answer is read again through the firewall at `GET /api/inquiries/:id/answer`.
 */

const Item = z.string().max(40).describe('a field of the record (GET /api/vocabulary: fields)');

export const ConsentIn = z.strictObject({
  customerName: text(1, 100).describe('the customer who consented, as on their bill (the contract holder)'),
  method: z.enum(CONSENT_METHODS),
  givenAt: InstantIn,
  reference: text(1, 100).describe("where the evidence is: the form's number, the call recording's id, the web receipt"),
  validUntil: InstantIn.describe('until when the consent holds (exclusive)'),
});

export const InquiryIn = z.strictObject({
  caseType: z.enum(CASE_TYPES),
  supplyPointId: z.string().max(64).describe('22 digits; hyphens and spaces are ignored'),
  items: z.array(Item).min(1).max(20).describe('the items asked for'),
  consent: ConsentIn.nullable().optional().describe("the customer's consent, where the items need it"),
  note: text(0, 500).optional(),
});

export type InquiryInBody = z.output<typeof InquiryIn>;

const Consent = z.object({ customerName: z.string(), method: z.enum(CONSENT_METHODS), givenAt: InstantOut, reference: z.string(), validUntil: InstantOut });

export const Inquiry = z.object({
  id: z.string(),
  caseType: z.enum(CASE_TYPES),
  supplyPointId: z.string(),
  items: z.array(z.string()),
  channel: z.enum(INQUIRY_CHANNELS),
  retailerCode: z.string().nullable(),
  retailerName: z.string().nullable(),
  requestedBy: z.string().nullable(),
  requestedByPerson: z.string(),
  caller: z.string().nullable().describe("a customer's or contractor's inquiry: who called"),
  identityCheck: z.enum(IDENTITY_CHECKS).nullable(),
  consent: Consent.nullable(),
  consentState: z.enum(['none', 'valid', 'refused']),
  atOnce: z.array(z.string()).describe('asked items answered at once'),
  queued: z.array(z.string()).describe("asked items left to the service centre's queue"),
  never: z.array(z.string()).describe('asked items this case never gives (with this consent)'),
  released: z.array(z.string()).describe('queued items the service centre has answered'),
  status: z.enum(INQUIRY_STATUSES),
  note: z.string().nullable(),
  createdAt: InstantOut,
  dueAt: InstantOut.nullable().describe("the service level's deadline (the time asked back not counted)"),
  timeliness: z.enum(['late', 'due_soon', 'on_time']).nullable().describe('open ones: against the service level now'),
  closedAt: InstantOut.nullable(),
  closedBy: z.string().nullable(),
  refusal: z.object({ code: z.string(), reason: z.string() }).nullable(),
  batchId: z.string().nullable(),
  history: z.array(z.object({ at: InstantOut, kind: z.string(), by: z.string().nullable(), items: z.array(z.string()), note: z.string().nullable() })),
});
export type Inquiry = z.output<typeof Inquiry>;

const Asked = z.object({
  inquiry: Inquiry,
  answer: RecordView.nullable().describe('the record with what the case allows shown now (each field shown or masked with its reason)'),
});

const InquiryPath = z.object({ id: z.string().regex(/^INQ-[0-9]{6,}$/) });

export const ask = contract({ body: InquiryIn, response: { 201: Asked } });

const BatchLine = z.discriminatedUnion('ok', [
  z.object({ line: z.int(), ok: z.literal(true), inquiry: Inquiry, answer: RecordView.nullable() }),
  z.object({
    line: z.int(),
    ok: z.literal(false),
    code: z.string(),
    message: z.string(),
    inquiryId: z.string().nullable().optional().describe('a consent refused at intake: the inquiry kept as evidence'),
  }),
]);
const BatchOut = z.object({
  batchId: z.string(),
  summary: z.object({ lines: z.int(), taken: z.int(), answeredAtOnce: z.int(), queued: z.int(), rejected: z.int() }),
  lines: z.array(BatchLine).describe('every line, in order: taken (with its answer) or rejected with why'),
});

export const batch = contract({ body: z.strictObject({ inquiries: z.array(InquiryIn).min(1).max(2000) }), response: { 200: BatchOut } });

export const batchCsv = contract({
  querystring: z.strictObject({
    encoding: z
      .enum(CSV_UPLOAD_ENCODINGS)
      .optional()
      .describe('utf-8 or cp932 (shift_jis: the same as cp932, the older name); default: UTF-8 when the bytes are valid UTF-8, else CP932'),
  }),
  response: { 200: BatchOut },
});

export const list = contract({
  querystring: z.strictObject({
    scope: z.enum(['mine', 'retailer', 'queue', 'all']).default('mine'),
    status: z.enum(INQUIRY_STATUSES).optional(),
    caseType: z.enum(CASE_TYPES).optional(),
    ...page(200, 50),
  }),
  response: { 200: z.object({ inquiries: z.array(Inquiry), total: z.int() }) },
});

export const get = contract({ params: InquiryPath, response: { 200: Inquiry } });
export const answer = contract({ params: InquiryPath, response: { 200: Asked.extend({ answer: RecordView }) } });

export const release = contract({
  params: InquiryPath,
  body: z.strictObject({ items: z.array(Item).max(20).describe('queued items to answer (none: answered in words only)'), note: text(0, 500).optional() }),
  response: { 200: Inquiry },
});
export const askBack = contract({ params: InquiryPath, body: z.strictObject({ question: text(1, 500) }), response: { 200: Inquiry } });
export const refuse = contract({ params: InquiryPath, body: z.strictObject({ reason: text(1, 500) }), response: { 200: Inquiry } });
export const reply = contract({ params: InquiryPath, body: z.strictObject({ text: text(1, 500) }), response: { 200: Inquiry } });
export const withdraw = contract({ params: InquiryPath, response: { 200: Inquiry } });

export const direct = contract({
  body: z.strictObject({
    channel: z.enum(['customer', 'contractor']),
    caseType: z.enum(CASE_TYPES),
    supplyPointId: z.string().max(64),
    items: z.array(Item).min(1).max(20),
    caller: text(1, 100).describe('who called (name, and company for a contractor)'),
    identityCheck: z.enum(IDENTITY_CHECKS),
    note: text(0, 500).optional(),
  }),
  response: { 201: Inquiry },
});

const Hours = z.object({ median: z.number().nullable(), p95: z.number().nullable() });
const Figures = z.object({
  retailerCode: z.string(),
  retailerName: z.string().nullable(),
  affiliated: z.boolean(),
  inquiries: z.int(),
  answeredAtOnce: z.int(),
  shareAtOnce: z.number().nullable(),
  queued: z.int(),
  answeredFromQueue: z.int(),
  queueHours: Hours.describe("hours from asking to the service centre's answer (the time asked back not counted)"),
  refused: z.int(),
  refusedAtIntake: z.int(),
  open: z.int(),
  late: z.int(),
});
export const EqualTreatmentOut = z.object({
  from: Day,
  to: Day.describe('inclusive'),
  affiliatedCode: z.string().nullable(),
  retailers: z.array(Figures),
  affiliated: Figures.nullable(),
  others: Figures.describe('every retailer but the affiliated, pooled'),
  flags: z
    .array(
      z.object({
        caseType: z.enum(CASE_TYPES),
        measure: z.enum(EQUALITY_MEASURES),
        affiliated: z.number(),
        others: z.number(),
        affiliatedCount: z.int(),
        othersCount: z.int(),
      }),
    )
    .describe('where the affiliated retailer was served faster or differently than the others'),
});
export type EqualTreatmentOut = z.output<typeof EqualTreatmentOut>;

export const equalTreatment = contract({
  querystring: z.strictObject({
    from: Day.optional(),
    to: Day.optional(),
    format: z.enum(['json', 'csv', 'xlsx']).optional(),
    encoding: CsvEncodingParam.optional(),
  }),
  response: { 200: EqualTreatmentOut.describe('with format=csv or xlsx: the file (per retailer, then the flags); this schema is the JSON answer') },
});

export const NotificationOut = z.object({
  id: z.int(),
  at: InstantOut,
  kind: z.string(),
  subjectType: z.string(),
  subjectId: z.string(),
  text: z.object({ ja: z.string(), en: z.string() }),
  read: z.boolean(),
});
export type NotificationOut = z.output<typeof NotificationOut>;

export const notifications = contract({
  querystring: z.strictObject({ unread: z.boolean().optional(), ...page(100, 20) }),
  response: {
    200: z.object({
      unread: z.int(),
      notifications: z.array(NotificationOut),
    }),
  },
});
export const notificationsRead = contract({ body: z.strictObject({ ids: z.array(z.int().min(1)).max(500) }), response: { 204: z.null() } });
