import type { FastifyInstance } from 'fastify';
import { EmergencyDeclarations, type DeclarationView } from '../governance/emergency-declarations.ts';
import { EmergencyReviews, type Review, type ReviewRead } from '../governance/emergency-review.ts';
import { EmergencySupport, type SupportStaffView } from '../governance/emergency-support.ts';
import { holds, type Actor } from '../domain/actor.ts';
import { registrationAt } from '../store/emergency-store.ts';
import { csvEncodingOf, spreadsheetDownload } from './download.ts';
import { reviewDoc } from '../governance/emergency-review-output.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import * as c from '../contract/emergency.ts';
import { route, type RouteTypes, type SameFields } from '../contract/schema.ts';

/** Who sees every declaration, the register and the reviews: declarers, access administration, compliance. */
export function mayOverseeEmergencies(actor: Actor): boolean {
  return holds(actor, 'emergency.declare') || holds(actor, 'access.admin') || holds(actor, 'audit.read');
}

function requireOverseer(actor: Actor): void {
  if (!mayOverseeEmergencies(actor))
    throw new ApiError('forbidden', 'emergency declarations and their reviews are for emergency.declare, access.admin or audit.read holders');
}

const docs = (summary: string) => ({ tags: ['emergency'], summary });

/** The contract names every field of the services' views, no more and no fewer (a compile-time check). */
const fieldsAgree: [
  SameFields<DeclarationView, c.Declaration>,
  SameFields<SupportStaffView, c.SupportStaff>,
  SameFields<Review, c.Review>,
  SameFields<ReviewRead, c.ReviewRead>,
] = [true, true, true, true];
void fieldsAgree;

export function registerEmergencyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const emergencies = new EmergencyDeclarations(deps.db, { maxHours: deps.emergencyMaxHours, sod: deps.separationOfDuties });
  const support = new EmergencySupport(deps.db);
  const reviews = new EmergencyReviews(deps.db);

  app.get<RouteTypes<typeof c.activeEmergencies>>(
    '/api/emergencies/active',
    { schema: route(c.activeEmergencies, docs('Emergencies in force now (the banner), and whether you are registered to support')) },
    async (req) => {
      const actor = requireActor(req);
      const at = deps.clock();
      const active = (await emergencies.list(at, { live: true, limit: 100, offset: 0 })).filter((d) => d.state === 'active');
      const registration = await registrationAt(deps.db, actor.personId, at);
      return {
        emergencies: active.map((d) => ({ id: d.id, reason: d.reason, areas: d.areas, window: d.window })),
        support: registration === null || !holds(actor, 'emergency.support') ? null : { fields: registration.fields },
        maxHours: emergencies.maxHours,
      };
    },
  );

  app.get<RouteTypes<typeof c.declarationList>>(
    '/api/emergencies',
    { schema: route(c.declarationList, docs('Emergency declarations, newest first (live: pending, scheduled or active only)')) },
    async (req) => {
      requireOverseer(requireActor(req));
      return {
        declarations: await emergencies.list(deps.clock(), { live: req.query.live === true, limit: req.query.limit, offset: req.query.offset }),
        maxHours: emergencies.maxHours,
      };
    },
  );

  app.post<RouteTypes<typeof c.declare>>(
    '/api/emergencies',
    { schema: route(c.declare, docs('Declare an emergency (takes effect once a second person confirms it)')) },
    async (req, reply) => {
      const actor = requireActor(req);
      const b = req.body;
      const row = await emergencies.declare(
        actor,
        { areas: b.areas, startsAt: new Date(b.startsAt), plannedEndAt: new Date(b.plannedEndAt), reason: b.reason },
        deps.clock(),
      );
      return reply.status(201).send(row);
    },
  );

  app.get<RouteTypes<typeof c.declarationGet>>('/api/emergencies/:id', { schema: route(c.declarationGet, docs('One declaration')) }, async (req) => {
    requireOverseer(requireActor(req));
    const d = await emergencies.get(req.params.id, deps.clock());
    if (d === null) throw new ApiError('not_found', `no emergency declaration ${req.params.id}`);
    return d;
  });

  app.post<RouteTypes<typeof c.declarationConfirm>>(
    '/api/emergencies/:id/confirm',
    { schema: route(c.declarationConfirm, docs('Confirm a declaration (a second person holding emergency.declare)')) },
    async (req) => emergencies.confirm(requireActor(req), req.params.id, req.body?.comment ?? null, deps.clock()),
  );
  app.post<RouteTypes<typeof c.declarationReject>>(
    '/api/emergencies/:id/reject',
    { schema: route(c.declarationReject, docs('Reject a declaration waiting for confirmation')) },
    async (req) => emergencies.reject(requireActor(req), req.params.id, req.body.comment, deps.clock()),
  );
  app.post<RouteTypes<typeof c.declarationWithdraw>>(
    '/api/emergencies/:id/withdraw',
    { schema: route(c.declarationWithdraw, docs('Withdraw your own declaration before it is confirmed')) },
    async (req) => emergencies.withdraw(requireActor(req), req.params.id, deps.clock()),
  );
  app.post<RouteTypes<typeof c.declarationEnd>>(
    '/api/emergencies/:id/end',
    { schema: route(c.declarationEnd, docs('End a confirmed emergency now')) },
    async (req) => emergencies.end(requireActor(req), req.params.id, req.body.reason, deps.clock()),
  );
  app.post<RouteTypes<typeof c.declarationExtend>>(
    '/api/emergencies/:id/extend',
    { schema: route(c.declarationExtend, docs('Ask to extend: a new declaration from the planned end, confirmed by a second person')) },
    async (req, reply) =>
      reply.status(201).send(await emergencies.extend(requireActor(req), req.params.id, new Date(req.body.plannedEndAt), req.body.reason, deps.clock())),
  );

  app.get<RouteTypes<typeof c.declarationReview>>(
    '/api/emergencies/:id/review',
    {
      schema: route(
        c.declarationReview,
        docs('Every read made under the declaration (who, what, when, reason) and the refused attempts during it; CSV opens in Excel'),
      ),
    },
    async (req, reply) => {
      requireOverseer(requireActor(req));
      const review = await reviews.review(req.params.id, deps.clock());
      if (review === null) throw new ApiError('not_found', `no emergency declaration ${req.params.id}`);
      const encoding = csvEncodingOf(req.query);
      if (req.query.format === 'csv' || req.query.format === 'xlsx')
        return spreadsheetDownload(reply, reviewDoc(req.params.id, review), req.query.format, encoding, `emergency-review-${req.params.id}`);
      return review;
    },
  );

  app.post<RouteTypes<typeof c.reviewSignOff>>(
    '/api/emergencies/:id/sign-off',
    { schema: route(c.reviewSignOff, docs('Compliance signs off the review after the emergency')) },
    async (req) => reviews.signOff(requireActor(req), req.params.id, req.body.comment, deps.clock()),
  );

  app.get<RouteTypes<typeof c.supportStaffList>>(
    '/api/emergency-support',
    { schema: route(c.supportStaffList, docs('Support staff registered now, with the fields each may see during an emergency')) },
    async (req) => {
      requireOverseer(requireActor(req));
      return { staff: await support.supportStaff(deps.clock()) };
    },
  );

  app.put<RouteTypes<typeof c.supportRegister>>(
    '/api/emergency-support/:personId',
    { schema: route(c.supportRegister, docs('Register a person as emergency support (outage-contact fields only); replaces an earlier registration')) },
    async (req) => {
      const b = req.body;
      return support.register(
        requireActor(req),
        { personId: req.params.personId, fields: b.fields, note: b.note ?? null, validTo: b.validTo === undefined ? null : new Date(b.validTo) },
        deps.clock(),
      );
    },
  );

  app.delete<RouteTypes<typeof c.supportUnregister>>(
    '/api/emergency-support/:personId',
    { schema: route(c.supportUnregister, docs("End a person's registration as emergency support now")) },
    async (req, reply) => {
      await support.unregister(requireActor(req), req.params.personId, deps.clock());
      return reply.status(204).send();
    },
  );
}
