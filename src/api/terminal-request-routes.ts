import type { FastifyInstance } from 'fastify';
import { holds, type Actor } from '../domain/actor.ts';
import { personActor } from '../governance/grant-service.ts';
import { decideTerminalRequest, listTerminalRequests } from '../identity/terminal-requests.ts';
import { listTerminals } from '../identity/terminals.ts';
import * as c from '../contract/terminal-request.ts';
import { route, type RouteTypes } from '../contract/schema.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';

function requireAdmin(actor: Actor): void {
  if (!holds(actor, 'access.admin')) throw new ApiError('forbidden', 'this needs the access.admin grant (access administration)');
}

/**
 * Terminal registrations and changes awaiting a second access administrator (issue 20): a network-set terminal
 * at a retail or shared site (F1) is written only once another administrator approves it with a reason.
 */
export function registerTerminalRequestRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<RouteTypes<typeof c.terminalRequestList>>(
    '/api/terminal-requests',
    {
      schema: route(c.terminalRequestList, {
        tags: ['terminals'],
        summary: 'Terminal registrations and changes awaiting a second access administrator (status=all: decided ones too)',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      if (!holds(actor, 'access.admin') && !holds(actor, 'audit.read')) throw new ApiError('forbidden', 'this is for access administration and auditors');
      return { requests: await listTerminalRequests(deps.db, req.query.status !== 'all') };
    },
  );

  app.post<RouteTypes<typeof c.terminalRequestApprove>>(
    '/api/terminal-requests/:id/approve',
    {
      schema: route(c.terminalRequestApprove, {
        tags: ['terminals'],
        summary: 'Approve a terminal request with a reason: the terminal is written as asked',
        description: 'A second access administrator, never the one who asked (403 self_confirmation). A governance event.',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const at = deps.clock();
      const r = await decideTerminalRequest(deps.db, personActor(actor), req.params.id, 'approved', req.body.reason, at, deps.separationOfDuties);
      deps.sessions.forget(r.sessionsEnded);
      const terminal = (await listTerminals(deps.db, at, deps.dormantDays)).find((t) => t.id === r.request.terminalId);
      if (terminal === undefined) throw new Error(`terminal ${r.request.terminalId} vanished after its request was approved`);
      return { request: r.request, terminal };
    },
  );

  app.post<RouteTypes<typeof c.terminalRequestReject>>(
    '/api/terminal-requests/:id/reject',
    {
      schema: route(c.terminalRequestReject, {
        tags: ['terminals'],
        summary: 'Reject a terminal request with a reason: nothing is written (a governance event)',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const r = await decideTerminalRequest(deps.db, personActor(actor), req.params.id, 'rejected', req.body.reason, deps.clock());
      return { request: r.request };
    },
  );
}
