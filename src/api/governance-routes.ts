import type { FastifyInstance } from 'fastify';
import { japanDayStart } from '../domain/japan-time.ts';
import { listGovernance } from '../audit/governance-log.ts';
import { Grants, listGrants, type GrantRow } from '../governance/grant-service.ts';
import { PERMISSION_CATALOG, PERMISSION_IDS } from '../domain/permissions.ts';
import { DEFAULT_SOD_POLICY, RECIPROCAL_REASON, RECIPROCAL_REASON_EN, SOD_PAIR_IDS, SOD_PAIRS } from '../domain/separation-of-duties.ts';
import { holds, type Actor } from '../domain/actor.ts';
import type { Db } from '../store/db.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import * as c from '../contract/governance.ts';
import { route, type RouteTypes } from '../contract/schema.ts';

/** People who oversee grants: access administration, approvers, and the audit log's readers. */
export function mayOverseeGrants(actor: Actor): boolean {
  return holds(actor, 'access.admin') || holds(actor, 'grants.approve') || holds(actor, 'audit.read');
}

/**
 * The requests waiting for approval that `actor` may decide: never their own, and only for people of an
 * organization they hold grants.approve for (empty without it). The approval queue and the home screen's count.
 */
export async function approvalQueue(db: Db, actor: Actor, at: Date): Promise<GrantRow[]> {
  if (!holds(actor, 'grants.approve')) return [];
  const waiting = await listGrants(db, { status: 'requested', limit: 10_000 }, at);
  return waiting.filter((g) => g.personId !== actor.personId && g.holderOrganizationId !== null && holds(actor, 'grants.approve', g.holderOrganizationId));
}

export function registerGovernanceRoutes(app: FastifyInstance, deps: AppDeps): void {
  const sod = deps.separationOfDuties ?? DEFAULT_SOD_POLICY;
  const grants = new Grants(deps.db, sod);

  app.get<RouteTypes<typeof c.permissionList>>(
    '/api/permissions',
    { schema: route(c.permissionList, { tags: ['governance'], summary: 'The permission catalog: each permission with the sides that may ever hold it' }) },
    async (req) => {
      requireActor(req);
      return {
        permissions: PERMISSION_IDS.map((id) => {
          const p = PERMISSION_CATALOG[id];
          return { id, ja: p.name, en: p.nameEn, allowedSides: [...p.allowedSides], scoped: p.scoped, maxDays: p.maxDays };
        }),
      };
    },
  );

  app.get<RouteTypes<typeof c.grantList>>(
    '/api/grants',
    { schema: route(c.grantList, { tags: ['governance'], summary: 'Grants (your own; everyone’s for access administration, approvers and auditors)' }) },
    async (req) => {
      const actor = requireActor(req);
      const q = req.query;
      const userId = mayOverseeGrants(actor) ? q.userId : actor.userId;
      if (q.userId !== undefined && userId !== q.userId) throw new ApiError('forbidden', 'you may list your own grants only');
      return { grants: await listGrants(deps.db, { ...q, ...(userId === undefined ? {} : { userId }) }, deps.clock()) };
    },
  );

  app.get<RouteTypes<typeof c.grantQueue>>(
    '/api/grants/queue',
    { schema: route(c.grantQueue, { tags: ['governance'], summary: 'Requests waiting for approval that you may decide (never your own)' }) },
    async (req) => {
      return { grants: await approvalQueue(deps.db, requireActor(req), deps.clock()) };
    },
  );

  app.get<RouteTypes<typeof c.separationRules>>(
    '/api/grants/separation-rules',
    {
      schema: route(c.separationRules, {
        tags: ['governance'],
        summary: 'Separation of duties: the incompatible permission pairs and the reciprocal-approval rule, with their reasons and what policy enforces',
      }),
    },
    async (req) => {
      requireActor(req);
      return {
        pairs: SOD_PAIR_IDS.map((id) => {
          const p = SOD_PAIRS[id];
          return { id, permissions: [...p.permissions], ja: p.reason, en: p.reasonEn, enforced: sod.pairs.some((x) => x.id === id) };
        }),
        reciprocal: {
          rule: 'reciprocal_approval' as const,
          days: sod.reciprocalDays,
          enforced: sod.reciprocalDays > 0,
          ja: RECIPROCAL_REASON,
          en: RECIPROCAL_REASON_EN,
        },
      };
    },
  );

  app.post<RouteTypes<typeof c.grantRequest>>(
    '/api/grants',
    { schema: route(c.grantRequest, { tags: ['governance'], summary: 'Request a grant (for yourself, or for others with access.admin / grants.approve)' }) },
    async (req, reply) => {
      const actor = requireActor(req);
      const day = japanDayStart(req.body.expiresOn);
      if (day === null) throw new ApiError('validation_failed', `body/expiresOn ${req.body.expiresOn} is not a calendar day`);
      const expiresAt = new Date(day.getTime() + 86_400_000);
      const row = await grants.request(
        actor,
        {
          userId: req.body.userId,
          permissionId: req.body.permissionId,
          scopeOrganizationId: req.body.scopeOrganizationId ?? null,
          reason: req.body.reason,
          expiresAt,
        },
        deps.clock(),
      );
      return reply.status(201).send(row);
    },
  );

  app.post<RouteTypes<typeof c.grantApprove>>(
    '/api/grants/:id/approve',
    { schema: route(c.grantApprove, { tags: ['governance'], summary: 'Approve a waiting request (another person, holding grants.approve in scope)' }) },
    async (req) => grants.approve(requireActor(req), req.params.id, req.body?.comment ?? null, deps.clock()),
  );

  app.post<RouteTypes<typeof c.grantReject>>(
    '/api/grants/:id/reject',
    { schema: route(c.grantReject, { tags: ['governance'], summary: 'Reject a waiting request, or withdraw your own' }) },
    async (req) => grants.reject(requireActor(req), req.params.id, req.body.comment, deps.clock()),
  );

  app.post<RouteTypes<typeof c.grantRevoke>>(
    '/api/grants/:id/revoke',
    { schema: route(c.grantRevoke, { tags: ['governance'], summary: 'Revoke an approved grant' }) },
    async (req) => grants.revoke(requireActor(req), req.params.id, req.body.reason, deps.clock()),
  );

  app.get<RouteTypes<typeof c.governanceEvents>>(
    '/api/governance/events',
    { schema: route(c.governanceEvents, { tags: ['governance'], summary: 'Governance actions, done and refused (access administration and auditors)' }) },
    async (req) => {
      const actor = requireActor(req);
      if (!holds(actor, 'access.admin') && !holds(actor, 'audit.read'))
        throw new ApiError('forbidden', 'governance events are for access administration and auditors');
      return { events: await listGovernance(deps.db, req.query) };
    },
  );
}
