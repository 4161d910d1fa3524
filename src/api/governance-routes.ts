import type { FastifyInstance } from 'fastify';
import { japanDayStart } from '../domain/japan-time.ts';
import { listGovernance } from '../governance/governance-log.ts';
import { GrantRefusal, Grants, listGrants, type GrantRefusalRule } from '../governance/grant-service.ts';
import { PERMISSION_CATALOG, PERMISSION_IDS } from '../governance/permissions.ts';
import { holds, type Actor } from '../identity/session-store.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError, type ErrorCode } from './errors.ts';

/** The HTTP answer to each refusal rule: a broken rule is 403, a stale request 409, a malformed one 400. */
const REFUSAL_CODE: Readonly<Record<GrantRefusalRule, ErrorCode>> = {
  side_not_allowed: 'grant_refused',
  self_grant: 'grant_refused',
  self_approval: 'grant_refused',
  not_an_approver: 'grant_refused',
  approval_outside_scope: 'grant_refused',
  not_permitted: 'grant_refused',
  left_organization: 'grant_refused',
  unknown_user: 'grant_refused',
  unknown_permission: 'grant_invalid',
  scope_required: 'grant_invalid',
  scope_not_allowed: 'grant_invalid',
  expiry_invalid: 'grant_invalid',
  not_pending: 'grant_conflict',
  not_in_force: 'grant_conflict',
  duplicate: 'grant_conflict',
};

/** Turns a refusal into the API error that names its rule. */
async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof GrantRefusal) throw new ApiError(REFUSAL_CODE[e.rule], e.message, { rule: e.rule });
    throw e;
  }
}

/** People who oversee grants: access administration, approvers, and the audit log's readers. */
export function mayOverseeGrants(actor: Actor): boolean {
  return holds(actor, 'access.admin') || holds(actor, 'grants.approve') || holds(actor, 'audit.read');
}

const ID = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

export function registerGovernanceRoutes(app: FastifyInstance, deps: AppDeps): void {
  const grants = new Grants(deps.db);

  app.get('/api/permissions', { schema: { tags: ['governance'], summary: 'The permission catalog: each permission with the sides that may ever hold it' } }, async (req) => {
    requireActor(req);
    return {
      permissions: PERMISSION_IDS.map((id) => {
        const p = PERMISSION_CATALOG[id];
        return { id, ja: p.name, en: p.nameEn, allowedSides: p.allowedSides, scoped: p.scoped, maxDays: p.maxDays };
      }),
    };
  });

  app.get<{ Querystring: { userId?: string; status?: string; permissionId?: string; limit: number; offset: number } }>(
    '/api/grants',
    {
      schema: {
        tags: ['governance'],
        summary: 'Grants (your own; everyone’s for access administration, approvers and auditors)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            userId: { type: 'string', maxLength: 64 },
            status: { type: 'string', enum: ['requested', 'approved', 'rejected', 'revoked'] },
            permissionId: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 200 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const q = req.query;
      const userId = mayOverseeGrants(actor) ? q.userId : actor.userId;
      if (q.userId !== undefined && userId !== q.userId) throw new ApiError('forbidden', 'you may list your own grants only');
      return { grants: await listGrants(deps.db, { ...q, ...(userId === undefined ? {} : { userId }) }, deps.clock()) };
    },
  );

  app.get('/api/grants/queue', { schema: { tags: ['governance'], summary: 'Requests waiting for approval that you may decide (never your own)' } }, async (req) => {
    const actor = requireActor(req);
    if (!holds(actor, 'grants.approve')) return { grants: [] };
    const waiting = await listGrants(deps.db, { status: 'requested', limit: 10_000 }, deps.clock());
    // Scope: requests for people of an organization the approver holds grants.approve for.
    const mine = waiting.filter((g) => g.personId !== actor.personId && g.holderOrganizationId !== null && holds(actor, 'grants.approve', g.holderOrganizationId));
    return { grants: mine };
  });

  app.post<{ Body: { userId: string; permissionId: string; scopeOrganizationId?: string; reason: string; expiresOn: string } }>(
    '/api/grants',
    {
      schema: {
        tags: ['governance'],
        summary: 'Request a grant (for yourself, or for others with access.admin / grants.approve)',
        body: {
          type: 'object',
          required: ['userId', 'permissionId', 'reason', 'expiresOn'],
          additionalProperties: false,
          properties: {
            userId: { type: 'string', minLength: 1, maxLength: 64 },
            permissionId: { type: 'string', minLength: 1, maxLength: 64 },
            scopeOrganizationId: { type: 'string', minLength: 1, maxLength: 64 },
            reason: { type: 'string', minLength: 2, maxLength: 500 },
            expiresOn: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'last day in force (Japan time), inclusive' },
          },
        },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const day = japanDayStart(req.body.expiresOn);
      if (day === null) throw new ApiError('validation_failed', `body/expiresOn ${req.body.expiresOn} is not a calendar day`);
      const expiresAt = new Date(day.getTime() + 86_400_000);
      const row = await refusing(() =>
        grants.request(actor, { userId: req.body.userId, permissionId: req.body.permissionId, scopeOrganizationId: req.body.scopeOrganizationId ?? null, reason: req.body.reason, expiresAt }, deps.clock()),
      );
      return reply.status(201).send(row);
    },
  );

  app.post<{ Params: { id: number }; Body: { comment?: string } }>(
    '/api/grants/:id/approve',
    { schema: { tags: ['governance'], summary: 'Approve a waiting request (another person, holding grants.approve in scope)', params: ID, body: { type: 'object', additionalProperties: false, properties: { comment: { type: 'string', maxLength: 500 } } } } },
    async (req) => refusing(() => grants.approve(requireActor(req), req.params.id, req.body?.comment ?? null, deps.clock())),
  );

  app.post<{ Params: { id: number }; Body: { comment: string } }>(
    '/api/grants/:id/reject',
    { schema: { tags: ['governance'], summary: 'Reject a waiting request, or withdraw your own', params: ID, body: { type: 'object', required: ['comment'], additionalProperties: false, properties: { comment: { type: 'string', minLength: 1, maxLength: 500 } } } } },
    async (req) => refusing(() => grants.reject(requireActor(req), req.params.id, req.body.comment, deps.clock())),
  );

  app.post<{ Params: { id: number }; Body: { reason: string } }>(
    '/api/grants/:id/revoke',
    { schema: { tags: ['governance'], summary: 'Revoke an approved grant', params: ID, body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } } } },
    async (req) => refusing(() => grants.revoke(requireActor(req), req.params.id, req.body.reason, deps.clock())),
  );

  app.get<{ Querystring: { subjectType?: string; subjectId?: string; limit: number; offset: number } }>(
    '/api/governance/events',
    {
      schema: {
        tags: ['governance'],
        summary: 'Governance actions, done and refused (access administration and auditors)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subjectType: { type: 'string', enum: ['grant', 'account', 'person', 'terminal', 'campaign', 'token'] },
            subjectId: { type: 'string', maxLength: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      if (!holds(actor, 'access.admin') && !holds(actor, 'audit.read')) throw new ApiError('forbidden', 'governance events are for access administration and auditors');
      return { events: await listGovernance(deps.db, req.query) };
    },
  );
}
