import type { FastifyInstance } from 'fastify';
import { japanDayStart } from '../domain/japan-time.ts';
import { reconciliationDoc } from '../identity/terminal-report.ts';
import { personActor } from '../governance/grant-service.ts';
import { listCampaigns, listItems, Recertification, type ItemRow } from '../governance/recertification.ts';
import { createServiceAccount, createToken, decideToken, listTokens, revokeToken, type TokenScope } from '../identity/api-tokens.ts';
import { listAccounts, sweepAccounts } from '../identity/lifecycle.ts';
import { holds, type Actor } from '../domain/actor.ts';
import { listTerminals, reconcileTerminals, retireTerminal, saveTerminal } from '../identity/terminals.ts';
import { csvEncodingOf, spreadsheetDownload } from './download.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import { mayOverseeGrants } from './governance-routes.ts';
import * as c from '../contract/admin.ts';
import { route, type RouteTypes, type Same } from '../contract/schema.ts';

function requireAdmin(actor: Actor): void {
  if (!holds(actor, 'access.admin')) throw new ApiError('forbidden', 'this needs the access.admin grant (access administration)');
}

/** Who reads the people, the terminal registry and its reconciliation: access administration and auditors. */
export function mayOverseeRegistry(actor: Actor): boolean {
  return holds(actor, 'access.admin') || holds(actor, 'audit.read');
}

function requireOverseer(actor: Actor): void {
  if (!mayOverseeRegistry(actor)) throw new ApiError('forbidden', 'this is for access administration and auditors');
}

/**
 * The items of a campaign waiting for `actor`'s decision: undecided, not their own grant, and theirs to review
 * (the reviewer named, or — none named — an approver in the holder's organization). The campaign page's
 * `mine=true` and the home screen's count.
 */
export function reviewsWaitingFor(actor: Actor, items: readonly ItemRow[]): ItemRow[] {
  return items.filter(
    (i) =>
      i.decision === null &&
      i.personId !== actor.personId &&
      (i.reviewerUserId !== null
        ? i.reviewerUserId === actor.userId
        : i.holderOrganizationId !== null && holds(actor, 'grants.approve', i.holderOrganizationId)),
  );
}

/** The day after `ymd` (Japan time): an inclusive last day as an exclusive end instant. */
function endOfDay(name: string, ymd: string): Date {
  const d = japanDayStart(ymd);
  if (d === null) throw new ApiError('validation_failed', `body/${name} ${ymd} is not a calendar day`);
  return new Date(d.getTime() + 86_400_000);
}

/** The contract's token scopes are identity's, both ways (a compile-time check). */
const tokenScopesAgree: Same<TokenScope, (typeof c.TOKEN_SCOPES)[number]> = true;
void tokenScopesAgree;

/** People (accounts and lifecycle), terminals, API tokens and recertification campaigns. */
export function registerAdminRoutes(app: FastifyInstance, deps: AppDeps): void {
  const dormantDays = deps.dormantDays;
  const recert = new Recertification(deps.db);

  app.get<RouteTypes<typeof c.accountList>>(
    '/api/accounts',
    { schema: route(c.accountList, { tags: ['people'], summary: 'Accounts with their person, assignment in force, grants, and dormant / no-person flags' }) },
    async (req) => {
      requireOverseer(requireActor(req));
      return { dormantDays, accounts: await listAccounts(deps.db, deps.clock(), dormantDays, req.query) };
    },
  );

  app.post<RouteTypes<typeof c.accountSweep>>(
    '/api/accounts/sweep',
    { schema: route(c.accountSweep, { tags: ['people'], summary: 'Disable dormant accounts (and, if asked, accounts with no person behind them)' }) },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const r = await sweepAccounts(
        deps.db,
        personActor(actor),
        deps.clock(),
        { dormantDays, orphans: req.body?.orphans === true, dryRun: req.body?.dryRun === true },
        (tx, personId, at) => deps.sessions.endAllOf(personId, at, tx),
      );
      return { dormantDays: r.dormantDays, disabled: [...r.disabled] };
    },
  );

  app.get<RouteTypes<typeof c.terminalList>>(
    '/api/terminals',
    { schema: route(c.terminalList, { tags: ['terminals'], summary: 'The terminal registry, each flagged misplaced / unused' }) },
    async (req) => {
      requireOverseer(requireActor(req));
      return { terminals: await listTerminals(deps.db, deps.clock(), req.query.unusedDays ?? dormantDays) };
    },
  );

  app.get<RouteTypes<typeof c.terminalReconciliation>>(
    '/api/terminals/reconciliation',
    {
      schema: route(c.terminalReconciliation, {
        tags: ['terminals'],
        summary: 'Network-set terminals not at a network site (F1), and terminals unused for N days; CSV opens in Excel',
      }),
    },
    async (req, reply) => {
      requireOverseer(requireActor(req));
      const r = await reconcileTerminals(deps.db, deps.clock(), req.query.unusedDays ?? dormantDays);
      const encoding = csvEncodingOf(req.query);
      if (req.query.format === 'csv' || req.query.format === 'xlsx')
        return spreadsheetDownload(reply, reconciliationDoc(r), req.query.format, encoding, 'terminal-reconciliation');
      return { ...r, misplaced: [...r.misplaced], unused: [...r.unused] };
    },
  );

  app.put<RouteTypes<typeof c.terminalSave>>(
    '/api/terminals/:id',
    {
      schema: route(c.terminalSave, {
        tags: ['terminals'],
        summary: 'Register a terminal or record where it stands and how it is set',
        description:
          'A registration or change that widens — into network-set at a network site (opens network-only data) or into network-set at a retail or shared site (F1), from any other state or as a new terminal — is not written: 202 with the request a second access administrator approves or rejects with a reason (/api/terminal-requests). Edits within a state and narrowing changes are written at once (200).',
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const { reason, ...spec } = req.body;
      const saved = await saveTerminal(deps.db, personActor(actor), { id: req.params.id, ...spec }, deps.clock(), reason ?? null);
      if (saved.kind === 'pending') return reply.status(202).send({ pending: true as const, requestId: saved.requestId, terminalId: req.params.id });
      const { sessionsEnded } = saved;
      deps.sessions.forget(sessionsEnded);
      const written = (await listTerminals(deps.db, deps.clock(), dormantDays)).find((t) => t.id === req.params.id);
      if (written === undefined) throw new Error(`terminal ${req.params.id} vanished after saving`);
      return written;
    },
  );

  app.post<RouteTypes<typeof c.terminalRetire>>(
    '/api/terminals/:id/retire',
    { schema: route(c.terminalRetire, { tags: ['terminals'], summary: 'Retire a terminal (its sessions end; logins from it are refused)' }) },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      await retireTerminal(deps.db, personActor(actor), req.params.id, deps.clock());
      return { id: req.params.id, retired: true as const };
    },
  );

  app.get<RouteTypes<typeof c.tokenList>>(
    '/api/tokens',
    { schema: route(c.tokenList, { tags: ['tokens'], summary: 'API tokens (never their secrets)' }) },
    async (req) => {
      requireAdmin(requireActor(req));
      return { tokens: (await listTokens(deps.db)).map((t) => ({ ...t, scopes: [...t.scopes] })) };
    },
  );

  app.post<RouteTypes<typeof c.serviceAccountCreate>>(
    '/api/service-accounts',
    {
      schema: route(c.serviceAccountCreate, {
        tags: ['tokens'],
        summary:
          "Create a service account: an account no person logs in as, for a retailer's system (placed at the retailer's organization) or the HR system (no organization), answered for by a person",
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const created = await createServiceAccount(deps.db, personActor(actor), { ...req.body, organizationId: req.body.organizationId ?? null }, deps.clock());
      return reply.status(201).send(created);
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post<RouteTypes<typeof c.tokenDecide>>(
      `/api/tokens/:id/${decision}`,
      {
        schema: route(c.tokenDecide, {
          tags: ['tokens'],
          summary:
            decision === 'approve'
              ? 'Approve a requested token (a second person: neither the requester nor the owner); only then does it work'
              : 'Reject a requested token',
        }),
      },
      async (req) => {
        const actor = requireActor(req);
        requireAdmin(actor);
        const status = decision === 'approve' ? 'approved' : 'rejected';
        await decideToken(
          deps.db,
          { kind: 'person', userId: actor.userId, personId: actor.personId },
          req.params.id,
          status,
          deps.clock(),
          deps.separationOfDuties,
        );
        return { id: req.params.id, status };
      },
    );
  }

  app.post<RouteTypes<typeof c.tokenCreate>>(
    '/api/tokens',
    {
      schema: route(c.tokenCreate, {
        tags: ['tokens'],
        summary: 'Request an API token for a service account; the secret is shown once, and the token works once a second person approves it',
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const created = await createToken(deps.db, personActor(actor), { ...req.body, expiresAt: endOfDay('expiresOn', req.body.expiresOn) }, deps.clock());
      return reply.status(201).send(created);
    },
  );

  app.post<RouteTypes<typeof c.tokenRevoke>>(
    '/api/tokens/:id/revoke',
    { schema: route(c.tokenRevoke, { tags: ['tokens'], summary: 'Revoke an API token at once' }) },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      if (!(await revokeToken(deps.db, personActor(actor), req.params.id, deps.clock()))) throw new ApiError('not_found', `no live token ${req.params.id}`);
      return { id: req.params.id, revoked: true as const };
    },
  );

  app.get<RouteTypes<typeof c.campaignList>>(
    '/api/campaigns',
    { schema: route(c.campaignList, { tags: ['recertification'], summary: 'Recertification campaigns with their progress' }) },
    async (req) => {
      const actor = requireActor(req);
      if (!mayOverseeGrants(actor)) throw new ApiError('forbidden', 'campaigns are for access administration, approvers and auditors');
      return { campaigns: await listCampaigns(deps.db) };
    },
  );

  app.post<RouteTypes<typeof c.campaignStart>>(
    '/api/campaigns',
    {
      schema: route(c.campaignStart, {
        tags: ['recertification'],
        summary: 'Start a campaign: every approved grant (or those of some permissions) must be confirmed by its reviewer before the end',
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const spec = {
        name: req.body.name,
        endsAt: endOfDay('endsOn', req.body.endsOn),
        ...(req.body.permissionIds === undefined ? {} : { permissionIds: req.body.permissionIds }),
      };
      return reply.status(201).send(await recert.start(actor, spec, deps.clock()));
    },
  );

  app.get<RouteTypes<typeof c.campaignItems>>(
    '/api/campaigns/:id/items',
    { schema: route(c.campaignItems, { tags: ['recertification'], summary: 'The grants of a campaign; `mine=true`: those waiting for you' }) },
    async (req) => {
      const actor = requireActor(req);
      if (!mayOverseeGrants(actor)) throw new ApiError('forbidden', 'campaigns are for access administration, approvers and auditors');
      const at = deps.clock();
      const items = await listItems(deps.db, req.params.id, at);
      if (req.query.mine !== true) return { items };
      return { items: reviewsWaitingFor(actor, items) };
    },
  );

  app.post<RouteTypes<typeof c.campaignDecide>>(
    '/api/campaigns/:id/items/:grantId',
    { schema: route(c.campaignDecide, { tags: ['recertification'], summary: 'Confirm or revoke one grant of a campaign' }) },
    async (req) => {
      const actor = requireActor(req);
      return recert.decide(actor, req.params.id, req.params.grantId, req.body.decision, req.body.comment ?? null, deps.clock());
    },
  );
}
