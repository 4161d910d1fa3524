import type { FastifyInstance } from 'fastify';
import { findingSink } from '../analysis/findings.ts';
import { japanDay } from '../domain/japan-time.ts';
import type { Consent } from '../domain/inquiry.ts';
import { csvEncodingNamed } from '../domain/export-file.ts';
import { equalTreatmentDoc } from '../governance/equal-treatment-output.ts';
import { InquiryCsvError, parseInquiryCsv } from '../governance/inquiry-csv.ts';
import { Inquiries, type BatchLine, type InquiryInput, type InquiryView } from '../governance/inquiries.ts';
import { NotificationMailer } from '../governance/mailer.ts';
import { listNotifications, markNotificationsRead, type Notification } from '../governance/notifications.ts';
import type { ReadRequest } from '../firewall/firewall.ts';
import { csvEncodingOf, spreadsheetDownload } from './download.ts';
import type { AppDeps } from './context.ts';
import { requireActor, routeName } from './context.ts';
import { ApiError } from './errors.ts';
import * as c from '../contract/inquiry.ts';
import { route, type RouteTypes, type SameFields } from '../contract/schema.ts';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';

const docs = (summary: string, tags = ['inquiries']) => ({ tags, summary });

/** The contract names every field of the service's views, no more and no fewer (a compile-time check). */
const fieldsAgree: [SameFields<InquiryView, c.Inquiry>, SameFields<Notification, c.NotificationOut>] = [true, true];
void fieldsAgree;

/** A consent as a client sends it, its instants parsed (the contract checked their shape). */
function consentOf(
  c: { customerName: string; method: Consent['method']; givenAt: string; reference: string; validUntil: string } | null | undefined,
): Consent | null {
  if (c === null || c === undefined) return null;
  const givenAt = new Date(c.givenAt);
  const validUntil = new Date(c.validUntil);
  if (Number.isNaN(givenAt.getTime()) || Number.isNaN(validUntil.getTime()))
    throw new ApiError('validation_failed', 'consent.givenAt and consent.validUntil are ISO 8601 instants with their offset');
  return { customerName: c.customerName, method: c.method, givenAt, reference: c.reference, validUntil };
}

function inputOf(b: c.InquiryInBody): InquiryInput {
  return { caseType: b.caseType, supplyPointId: b.supplyPointId, items: b.items, consent: consentOf(b.consent), note: b.note ?? null };
}

function batchOut(batchId: string, lines: readonly BatchLine[]) {
  const taken = lines.filter((l): l is Extract<BatchLine, { ok: true }> => l.ok);
  return {
    batchId,
    summary: {
      lines: lines.length,
      taken: taken.length,
      answeredAtOnce: taken.filter((l) => l.inquiry.status === 'answered').length,
      queued: taken.filter((l) => l.inquiry.status === 'open').length,
      rejected: lines.length - taken.length,
    },
    lines,
  };
}

export function registerInquiryRoutes(app: FastifyInstance, deps: AppDeps): void {
  // When SMTP is configured, the notifications a change writes are mailed after its answer (never delaying or failing it).
  const mailer =
    deps.mail === undefined || deps.mail === null
      ? null
      : new NotificationMailer(deps.db, deps.mail, { clock: deps.clock, publicUrl: deps.publicUrl ?? null, log: app.log });
  if (mailer !== null) app.addHook('onClose', () => mailer.close());
  const inquiries = new Inquiries(deps.db, deps.firewall, findingSink(deps.db), mailer === null ? {} : { notified: (ids) => mailer.notified(ids) });
  const readOf = (req: FastifyRequest): ReadRequest => ({
    actor: requireActor(req),
    purpose: 'inquiry_answer',
    route: routeName(req),
    requestId: req.id,
    at: deps.clock(),
  });

  app.post<RouteTypes<typeof c.ask>>(
    '/api/inquiries',
    {
      schema: route(
        c.ask,
        docs("Ask the network operator for items of a supply point, with the customer's consent; what the case allows comes back at once", [
          'customer data',
          'inquiries',
        ]),
      ),
    },
    async (req, reply) => reply.status(201).send(await inquiries.ask(readOf(req), inputOf(req.body))),
  );

  app.post<RouteTypes<typeof c.batch>>(
    '/api/inquiries/batch',
    { schema: route(c.batch, docs('Many inquiries at once (JSON): every line taken and answered, or listed with why not', ['customer data', 'inquiries'])) },
    async (req) => {
      const batchId = `B-${randomUUID()}`;
      return batchOut(batchId, await inquiries.askMany(readOf(req), req.body.inquiries.map(inputOf), batchId));
    },
  );

  // The CSV batch arrives as bytes: UTF-8 or CP932, decoded by the parser (never by Fastify as a string).
  app.register(async (scope) => {
    scope.addContentTypeParser(['text/csv', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    scope.post<RouteTypes<typeof c.batchCsv>>(
      '/api/inquiries/batch.csv',
      {
        schema: route(
          c.batchCsv,
          docs('Many inquiries from a CSV file (text/csv, UTF-8 or CP932; columns case_type, supply_point_id, items, consent_… — docs/INQUIRIES.md)', [
            'customer data',
            'inquiries',
          ]),
        ),
      },
      async (req) => {
        const body: unknown = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError('inquiry_invalid', 'send the CSV file as the body, with content-type text/csv');
        let parsed;
        try {
          parsed = parseInquiryCsv(body, req.query.encoding === undefined ? undefined : csvEncodingNamed(req.query.encoding));
        } catch (e) {
          if (e instanceof InquiryCsvError) throw new ApiError('inquiry_invalid', e.message);
          throw e;
        }
        const batchId = `B-${randomUUID()}`;
        const answered =
          parsed.inputs.length === 0
            ? []
            : await inquiries.askMany(
                readOf(req),
                parsed.inputs.map((i) => i.input),
                batchId,
              );
        const lines: BatchLine[] = [
          ...answered.map((l, k) => ({ ...l, line: parsed.inputs[k]?.line ?? l.line })),
          ...parsed.rejected.map((r): BatchLine => ({ line: r.line, ok: false, code: 'unreadable_line', message: r.message })),
        ].sort((a, b) => a.line - b.line);
        return batchOut(batchId, lines);
      },
    );
  });

  app.get<RouteTypes<typeof c.list>>(
    '/api/inquiries',
    { schema: route(c.list, docs("Inquiries: mine, my retailer's, the service centre's queue (late first), or all")) },
    async (req) => {
      const q = req.query;
      return inquiries.list(requireActor(req), { scope: q.scope, status: q.status, caseType: q.caseType, limit: q.limit, offset: q.offset }, deps.clock());
    },
  );

  app.get<RouteTypes<typeof c.equalTreatment>>(
    '/api/inquiries/equal-treatment',
    {
      schema: route(
        c.equalTreatment,
        docs('Equal treatment of retailers: volumes, at-once share, time to answer, refusals; flags where the affiliated retailer is favoured'),
      ),
    },
    async (req, reply) => {
      const at = deps.clock();
      const to = req.query.to ?? japanDay(at);
      const from = req.query.from ?? japanDay(new Date(at.getTime() - 30 * 86_400_000));
      const out = await inquiries.equalTreatment(requireActor(req), from, to, at);
      const name = `gridwall-equal-treatment-${from}-${to}`;
      const encoding = csvEncodingOf(req.query);
      if (req.query.format === 'csv' || req.query.format === 'xlsx')
        return spreadsheetDownload(reply, equalTreatmentDoc(out), req.query.format, encoding, name);
      return out;
    },
  );

  app.post<RouteTypes<typeof c.direct>>(
    '/api/inquiries/direct',
    { schema: route(c.direct, docs("Take a customer's or contractor's inquiry at the service centre, with how the caller was identified")) },
    async (req, reply) => {
      const b = req.body;
      const v = await inquiries.takeDirect(
        requireActor(req),
        {
          channel: b.channel,
          caseType: b.caseType,
          supplyPointId: b.supplyPointId,
          items: b.items,
          caller: b.caller,
          identityCheck: b.identityCheck,
          note: b.note ?? null,
        },
        deps.clock(),
      );
      return reply.status(201).send(v);
    },
  );

  app.get<RouteTypes<typeof c.get>>('/api/inquiries/:id', { schema: route(c.get, docs('One inquiry with its history')) }, async (req) =>
    inquiries.get(requireActor(req), req.params.id, deps.clock()),
  );

  app.get<RouteTypes<typeof c.answer>>(
    '/api/inquiries/:id/answer',
    { schema: route(c.answer, docs('The answer as it stands, read through the firewall (logged)', ['customer data', 'inquiries'])) },
    async (req) => inquiries.answer(readOf(req), req.params.id),
  );

  app.post<RouteTypes<typeof c.release>>(
    '/api/inquiries/:id/release',
    { schema: route(c.release, docs('Answer from the queue: the items to give (never beyond what the case leaves to the service centre)')) },
    async (req) => inquiries.release(requireActor(req), req.params.id, req.body.items, req.body.note ?? null, deps.clock()),
  );
  app.post<RouteTypes<typeof c.askBack>>(
    '/api/inquiries/:id/ask-back',
    { schema: route(c.askBack, docs('Ask the requester back (the service level pauses)')) },
    async (req) => inquiries.askBack(requireActor(req), req.params.id, req.body.question, deps.clock()),
  );
  app.post<RouteTypes<typeof c.refuse>>('/api/inquiries/:id/refuse', { schema: route(c.refuse, docs('Refuse, saying why in words')) }, async (req) =>
    inquiries.refuse(requireActor(req), req.params.id, req.body.reason, deps.clock()),
  );
  app.post<RouteTypes<typeof c.reply>>('/api/inquiries/:id/reply', { schema: route(c.reply, docs('Reply to the service centre’s question')) }, async (req) =>
    inquiries.reply(requireActor(req), req.params.id, req.body.text, deps.clock()),
  );
  app.post<RouteTypes<typeof c.withdraw>>(
    '/api/inquiries/:id/withdraw',
    { schema: route(c.withdraw, docs('Withdraw your inquiry while it waits')) },
    async (req) => inquiries.withdraw(requireActor(req), req.params.id, deps.clock()),
  );

  app.get<RouteTypes<typeof c.notifications>>('/api/notifications', { schema: route(c.notifications, docs('Your notifications, newest first')) }, async (req) =>
    listNotifications(deps.db, requireActor(req).personId, { unreadOnly: req.query.unread === true, limit: req.query.limit, offset: req.query.offset }),
  );
  app.post<RouteTypes<typeof c.notificationsRead>>(
    '/api/notifications/read',
    { schema: route(c.notificationsRead, docs('Mark your notifications read')) },
    async (req, reply) => {
      await markNotificationsRead(deps.db, requireActor(req).personId, req.body.ids, deps.clock());
      return reply.status(204).send(null);
    },
  );
}
