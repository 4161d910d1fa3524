import type { FastifyInstance } from 'fastify';
import type { EmergencyArea } from '../domain/emergency.ts';
import { Emergencies, EmergencyActionRefused, type EmergencyRule } from '../governance/emergencies.ts';
import { holds, type Actor } from '../identity/session-store.ts';
import { registrationAt } from '../store/emergency-store.ts';
import { csvRow, EXCEL_BOM } from '../excel-csv.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError, type ErrorCode } from './errors.ts';

/** The HTTP answer to each refusal rule: a broken rule is 403, a stale request 409, a malformed one 400. */
const RULE_CODE: Readonly<Record<EmergencyRule, ErrorCode>> = {
  not_a_declarer: 'emergency_refused',
  self_confirmation: 'emergency_refused',
  not_the_declarer: 'emergency_refused',
  not_an_administrator: 'emergency_refused',
  self_registration: 'emergency_refused',
  field_not_emergency_contact: 'emergency_refused',
  side_not_allowed: 'emergency_refused',
  not_compliance: 'emergency_refused',
  not_independent: 'emergency_refused',
  not_pending: 'emergency_conflict',
  window_passed: 'emergency_conflict',
  parent_not_confirmed: 'emergency_conflict',
  not_in_force: 'emergency_conflict',
  not_registered: 'emergency_conflict',
  not_over: 'emergency_conflict',
  already_signed_off: 'emergency_conflict',
  nothing_to_review: 'emergency_conflict',
  unknown_emergency: 'not_found',
  unknown_person: 'emergency_invalid',
  no_area: 'emergency_invalid',
  end_before_start: 'emergency_invalid',
  too_long: 'emergency_invalid',
  end_in_past: 'emergency_invalid',
};

async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof EmergencyActionRefused) throw new ApiError(RULE_CODE[e.rule], e.message, { rule: e.rule });
    throw e;
  }
}

/** Who sees every declaration, the register and the reviews: declarers, access administration, compliance. */
export function mayOverseeEmergencies(actor: Actor): boolean {
  return holds(actor, 'emergency.declare') || holds(actor, 'access.admin') || holds(actor, 'audit.read');
}

function requireOverseer(actor: Actor): void {
  if (!mayOverseeEmergencies(actor)) throw new ApiError('forbidden', 'emergency declarations and their reviews are for emergency.declare, access.admin or audit.read holders');
}

const AREA = {
  oneOf: [
    { type: 'object', required: ['kind', 'areaCode'], additionalProperties: false, properties: { kind: { const: 'area_code' }, areaCode: { type: 'string', pattern: '^(0[1-9]|10)$' } } },
    { type: 'object', required: ['kind', 'prefecture'], additionalProperties: false, properties: { kind: { const: 'prefecture' }, prefecture: { type: 'string', minLength: 2, maxLength: 10 } } },
    { type: 'object', required: ['kind', 'prefecture', 'city'], additionalProperties: false, properties: { kind: { const: 'municipality' }, prefecture: { type: 'string', minLength: 2, maxLength: 10 }, city: { type: 'string', minLength: 1, maxLength: 40 } } },
  ],
} as const;
const ID = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^EM-[0-9]{5,}$' } } } as const;
const TEXT = { type: 'string', minLength: 1, maxLength: 500 } as const;
const INSTANT = { type: 'string', format: 'date-time' } as const;

export function registerEmergencyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const emergencies = new Emergencies(deps.db, { maxHours: deps.emergencyMaxHours ?? 72 });

  app.get('/api/emergencies/active', { schema: { tags: ['emergency'], summary: 'Emergencies in force now (the banner), and whether you are registered to support' } }, async (req) => {
    const actor = requireActor(req);
    const at = deps.clock();
    const active = (await emergencies.list(at, { live: true, limit: 100, offset: 0 })).filter((d) => d.state === 'active');
    const registration = await registrationAt(deps.db, actor.personId, at);
    return {
      emergencies: active.map((d) => ({ id: d.id, reason: d.reason, areas: d.areas, window: d.window })),
      support: registration === null || !holds(actor, 'emergency.support') ? null : { fields: registration.fields },
      maxHours: emergencies.maxHours,
    };
  });

  app.get<{ Querystring: { live?: boolean; limit: number; offset: number } }>(
    '/api/emergencies',
    {
      schema: {
        tags: ['emergency'],
        summary: 'Emergency declarations, newest first (live: pending, scheduled or active only)',
        querystring: { type: 'object', additionalProperties: false, properties: { live: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, offset: { type: 'integer', minimum: 0, default: 0 } } },
      },
    },
    async (req) => {
      requireOverseer(requireActor(req));
      return { declarations: await emergencies.list(deps.clock(), { live: req.query.live === true, limit: req.query.limit, offset: req.query.offset }), maxHours: emergencies.maxHours };
    },
  );

  app.post<{ Body: { areas: EmergencyArea[]; startsAt: string; plannedEndAt: string; reason: string } }>(
    '/api/emergencies',
    {
      schema: {
        tags: ['emergency'],
        summary: 'Declare an emergency (takes effect once a second person confirms it)',
        body: { type: 'object', required: ['areas', 'startsAt', 'plannedEndAt', 'reason'], additionalProperties: false, properties: { areas: { type: 'array', minItems: 1, maxItems: 100, items: AREA }, startsAt: INSTANT, plannedEndAt: INSTANT, reason: TEXT } },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const b = req.body;
      const row = await refusing(() => emergencies.declare(actor, { areas: b.areas, startsAt: new Date(b.startsAt), plannedEndAt: new Date(b.plannedEndAt), reason: b.reason }, deps.clock()));
      return reply.status(201).send(row);
    },
  );

  app.get<{ Params: { id: string } }>('/api/emergencies/:id', { schema: { tags: ['emergency'], summary: 'One declaration', params: ID } }, async (req) => {
    requireOverseer(requireActor(req));
    const d = await emergencies.get(req.params.id, deps.clock());
    if (d === null) throw new ApiError('not_found', `no emergency declaration ${req.params.id}`);
    return d;
  });

  app.post<{ Params: { id: string }; Body: { comment?: string } }>(
    '/api/emergencies/:id/confirm',
    { schema: { tags: ['emergency'], summary: 'Confirm a declaration (a second person holding emergency.declare)', params: ID, body: { type: 'object', additionalProperties: false, properties: { comment: TEXT } } } },
    async (req) => refusing(() => emergencies.confirm(requireActor(req), req.params.id, req.body?.comment ?? null, deps.clock())),
  );
  app.post<{ Params: { id: string }; Body: { comment: string } }>(
    '/api/emergencies/:id/reject',
    { schema: { tags: ['emergency'], summary: 'Reject a declaration waiting for confirmation', params: ID, body: { type: 'object', required: ['comment'], additionalProperties: false, properties: { comment: TEXT } } } },
    async (req) => refusing(() => emergencies.reject(requireActor(req), req.params.id, req.body.comment, deps.clock())),
  );
  app.post<{ Params: { id: string } }>('/api/emergencies/:id/withdraw', { schema: { tags: ['emergency'], summary: 'Withdraw your own declaration before it is confirmed', params: ID } }, async (req) =>
    refusing(() => emergencies.withdraw(requireActor(req), req.params.id, deps.clock())),
  );
  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/api/emergencies/:id/end',
    { schema: { tags: ['emergency'], summary: 'End a confirmed emergency now', params: ID, body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: TEXT } } } },
    async (req) => refusing(() => emergencies.end(requireActor(req), req.params.id, req.body.reason, deps.clock())),
  );
  app.post<{ Params: { id: string }; Body: { plannedEndAt: string; reason: string } }>(
    '/api/emergencies/:id/extend',
    {
      schema: {
        tags: ['emergency'],
        summary: 'Ask to extend: a new declaration from the planned end, confirmed by a second person',
        params: ID,
        body: { type: 'object', required: ['plannedEndAt', 'reason'], additionalProperties: false, properties: { plannedEndAt: INSTANT, reason: TEXT } },
      },
    },
    async (req, reply) => reply.status(201).send(await refusing(() => emergencies.extend(requireActor(req), req.params.id, new Date(req.body.plannedEndAt), req.body.reason, deps.clock()))),
  );

  app.get<{ Params: { id: string }; Querystring: { format?: 'json' | 'csv' } }>(
    '/api/emergencies/:id/review',
    {
      schema: {
        tags: ['emergency'],
        summary: 'Every read made under the declaration (who, what, when, reason) and the refused attempts during it; CSV opens in Excel',
        params: ID,
        querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['json', 'csv'] } } },
      },
    },
    async (req, reply) => {
      requireOverseer(requireActor(req));
      const review = await emergencies.review(req.params.id, deps.clock());
      if (review === null) throw new ApiError('not_found', `no emergency declaration ${req.params.id}`);
      if (req.query.format !== 'csv') return review;
      const lines = [csvRow(['kind', 'occurred_at', 'user_id', 'person_id', 'organization_id', 'employment', 'office', 'terminal_id', 'supply_point_id', 'fields_shown', 'stated_reason', 'refusal', 'request_id'])];
      for (const [kind, reads] of [['read', review.reads], ['refused', review.refused]] as const) {
        for (const r of reads) {
          const points = r.supplyPoints.length === 0 ? [{ supplyPointId: '', shown: [] as readonly string[] }] : r.supplyPoints;
          for (const p of points) lines.push(csvRow([kind, r.occurredAt, r.userId, r.personId, r.organizationId, r.employment, r.office, r.terminalId, p.supplyPointId, p.shown.join(' '), r.statedReason, r.refusal, r.requestId]));
        }
      }
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="emergency-review-${req.params.id}.csv"`).send(EXCEL_BOM + lines.join(''));
    },
  );

  app.post<{ Params: { id: string }; Body: { comment: string } }>(
    '/api/emergencies/:id/sign-off',
    { schema: { tags: ['emergency'], summary: 'Compliance signs off the review after the emergency', params: ID, body: { type: 'object', required: ['comment'], additionalProperties: false, properties: { comment: TEXT } } } },
    async (req) => refusing(() => emergencies.signOff(requireActor(req), req.params.id, req.body.comment, deps.clock())),
  );

  app.get('/api/emergency-support', { schema: { tags: ['emergency'], summary: 'Support staff registered now, with the fields each may see during an emergency' } }, async (req) => {
    requireOverseer(requireActor(req));
    return { staff: await emergencies.supportStaff(deps.clock()) };
  });

  app.put<{ Params: { personId: string }; Body: { fields: string[]; note?: string; validTo?: string } }>(
    '/api/emergency-support/:personId',
    {
      schema: {
        tags: ['emergency'],
        summary: 'Register a person as emergency support (outage-contact fields only); replaces an earlier registration',
        params: { type: 'object', required: ['personId'], properties: { personId: { type: 'string', minLength: 1, maxLength: 64 } } },
        body: { type: 'object', required: ['fields'], additionalProperties: false, properties: { fields: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', maxLength: 40 } }, note: TEXT, validTo: INSTANT } },
      },
    },
    async (req) => {
      const b = req.body;
      return refusing(() => emergencies.register(requireActor(req), { personId: req.params.personId, fields: b.fields, note: b.note ?? null, validTo: b.validTo === undefined ? null : new Date(b.validTo) }, deps.clock()));
    },
  );

  app.delete<{ Params: { personId: string } }>(
    '/api/emergency-support/:personId',
    { schema: { tags: ['emergency'], summary: "End a person's registration as emergency support now", params: { type: 'object', required: ['personId'], properties: { personId: { type: 'string', minLength: 1, maxLength: 64 } } } } },
    async (req, reply) => {
      await refusing(() => emergencies.unregister(requireActor(req), req.params.personId, deps.clock()));
      return reply.status(204).send();
    },
  );
}
