import type { FastifyInstance } from 'fastify';
import { japanDayStart } from '../domain/japan-time.ts';
import { csvRow, EXCEL_BOM } from '../excel-csv.ts';
import { GrantRefusal, personActor } from '../governance/grant-service.ts';
import { listCampaigns, listItems, Recertification } from '../governance/recertification.ts';
import { createServiceAccount, createToken, decideToken, listTokens, revokeToken, TOKEN_SCOPES, TokenError, type TokenScope } from '../identity/api-tokens.ts';
import { DEFAULT_DORMANT_DAYS, listAccounts, sweepAccounts } from '../identity/lifecycle.ts';
import { holds, type Actor } from '../identity/session-store.ts';
import { listTerminals, reconcileTerminals, retireTerminal, saveTerminal, TERMINAL_ID_SCHEMA, TerminalError, type TerminalSpec } from '../identity/terminals.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import { mayOverseeGrants } from './governance-routes.ts';

function requireAdmin(actor: Actor): void {
  if (!holds(actor, 'access.admin')) throw new ApiError('forbidden', 'this needs the access.admin grant (access administration)');
}

function requireOverseer(actor: Actor): void {
  if (!holds(actor, 'access.admin') && !holds(actor, 'audit.read')) throw new ApiError('forbidden', 'this is for access administration and auditors');
}

/** The day after `ymd` (Japan time): an inclusive last day as an exclusive end instant. */
function endOfDay(name: string, ymd: string): Date {
  const d = japanDayStart(ymd);
  if (d === null) throw new ApiError('validation_failed', `body/${name} ${ymd} is not a calendar day`);
  return new Date(d.getTime() + 86_400_000);
}

async function mapRefusal<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof GrantRefusal) throw new ApiError(e.rule === 'not_pending' ? 'grant_conflict' : e.rule === 'expiry_invalid' ? 'grant_invalid' : 'grant_refused', e.message, { rule: e.rule });
    if (e instanceof TokenError) {
      const code = e.rule === 'not_pending' ? 'token_conflict' : e.rule === 'unknown_token' ? 'not_found' : e.rule === 'invalid_request' ? 'validation_failed' : 'token_refused';
      throw new ApiError(code, e.message, { rule: e.rule });
    }
    if (e instanceof TerminalError) throw new ApiError('validation_failed', e.message);
    throw e;
  }
}

const DAY = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;
const DAYS = { type: 'integer', minimum: 1, maximum: 3660 } as const;

/** People (accounts and lifecycle), terminals, API tokens and recertification campaigns. */
export function registerAdminRoutes(app: FastifyInstance, deps: AppDeps): void {
  const dormantDays = deps.dormantDays ?? DEFAULT_DORMANT_DAYS;
  const recert = new Recertification(deps.db);

  app.get<{ Querystring: { search?: string; limit: number; offset: number } }>(
    '/api/accounts',
    { schema: { tags: ['people'], summary: 'Accounts with their person, assignment in force, grants, and dormant / no-person flags', querystring: { type: 'object', additionalProperties: false, properties: { search: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 }, offset: { type: 'integer', minimum: 0, default: 0 } } } } },
    async (req) => {
      requireOverseer(requireActor(req));
      return { dormantDays, accounts: await listAccounts(deps.db, deps.clock(), dormantDays, req.query) };
    },
  );

  app.post<{ Body: { orphans?: boolean; dryRun?: boolean } }>(
    '/api/accounts/sweep',
    { schema: { tags: ['people'], summary: 'Disable dormant accounts (and, if asked, accounts with no person behind them)', body: { type: 'object', additionalProperties: false, properties: { orphans: { type: 'boolean' }, dryRun: { type: 'boolean' } } } } },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      return sweepAccounts(deps.db, personActor(actor), deps.clock(), { dormantDays, orphans: req.body?.orphans === true, dryRun: req.body?.dryRun === true }, (tx, personId, at) => deps.sessions.endAllOf(personId, at, tx));
    },
  );

  app.get<{ Querystring: { unusedDays?: number } }>(
    '/api/terminals',
    { schema: { tags: ['terminals'], summary: 'The terminal registry, each flagged misplaced / unused', querystring: { type: 'object', additionalProperties: false, properties: { unusedDays: DAYS } } } },
    async (req) => {
      requireOverseer(requireActor(req));
      return { terminals: await listTerminals(deps.db, deps.clock(), req.query.unusedDays ?? dormantDays) };
    },
  );

  app.get<{ Querystring: { unusedDays?: number; format?: 'json' | 'csv' } }>(
    '/api/terminals/reconciliation',
    { schema: { tags: ['terminals'], summary: 'Network-set terminals not at a network site (F1), and terminals unused for N days; CSV opens in Excel', querystring: { type: 'object', additionalProperties: false, properties: { unusedDays: DAYS, format: { type: 'string', enum: ['json', 'csv'] } } } } },
    async (req, reply) => {
      requireOverseer(requireActor(req));
      const r = await reconcileTerminals(deps.db, deps.clock(), req.query.unusedDays ?? dormantDays);
      if (req.query.format !== 'csv') return r;
      const lines = [csvRow(['finding', 'terminal', 'organization', 'office', 'kind', 'setting', 'site_side', 'last_used_at'])];
      for (const t of r.misplaced) lines.push(csvRow(['misplaced', t.id, t.organizationName, t.office, t.kind, t.setting, t.siteSide, t.lastUsedAt ?? '']));
      for (const t of r.unused) lines.push(csvRow(['unused', t.id, t.organizationName, t.office, t.kind, t.setting, t.siteSide, t.lastUsedAt ?? '']));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="terminal-reconciliation.csv"').send(EXCEL_BOM + lines.join(''));
    },
  );

  app.put<{ Params: { id: string }; Body: Omit<TerminalSpec, 'id'> }>(
    '/api/terminals/:id',
    {
      schema: {
        tags: ['terminals'],
        summary: 'Register a terminal or record where it stands and how it is set',
        params: { type: 'object', properties: { id: TERMINAL_ID_SCHEMA } },
        body: {
          type: 'object', required: ['organizationId', 'office', 'kind', 'setting', 'siteSide'], additionalProperties: false,
          properties: { organizationId: { type: 'string', minLength: 1, maxLength: 64 }, office: { type: 'string', minLength: 1, maxLength: 100 }, kind: { type: 'string', enum: ['dedicated', 'virtual'] }, setting: { type: 'string', enum: ['network', 'retail'] }, siteSide: { type: 'string', enum: ['network', 'retail', 'shared'] } },
        },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      await mapRefusal(() => saveTerminal(deps.db, personActor(actor), { id: req.params.id, ...req.body }, deps.clock()));
      return (await listTerminals(deps.db, deps.clock(), dormantDays)).find((t) => t.id === req.params.id);
    },
  );

  app.post<{ Params: { id: string } }>('/api/terminals/:id/retire', { schema: { tags: ['terminals'], summary: 'Retire a terminal (its sessions end; logins from it are refused)' } }, async (req) => {
    const actor = requireActor(req);
    requireAdmin(actor);
    await mapRefusal(() => retireTerminal(deps.db, personActor(actor), req.params.id, deps.clock()));
    return { id: req.params.id, retired: true };
  });

  app.get('/api/tokens', { schema: { tags: ['tokens'], summary: 'API tokens (never their secrets)' } }, async (req) => {
    requireAdmin(requireActor(req));
    return { tokens: await listTokens(deps.db) };
  });

  app.post<{ Body: { userId: string; name: string; organizationId?: string; ownerPersonId: string } }>(
    '/api/service-accounts',
    {
      schema: {
        tags: ['tokens'],
        summary: "Create a service account: an account no person logs in as, for a retailer's system (placed at the retailer's organization) or the HR system (no organization), answered for by a person",
        body: {
          type: 'object', required: ['userId', 'name', 'ownerPersonId'], additionalProperties: false,
          properties: { userId: { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,64}$' }, name: { type: 'string', minLength: 1, maxLength: 100 }, organizationId: { type: 'string', minLength: 1, maxLength: 64 }, ownerPersonId: { type: 'string', minLength: 1, maxLength: 64 } },
        },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const created = await mapRefusal(() => createServiceAccount(deps.db, personActor(actor), { ...req.body, organizationId: req.body.organizationId ?? null }, deps.clock()));
      return reply.status(201).send(created);
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { id: string } }>(
      `/api/tokens/:id/${decision}`,
      { schema: { tags: ['tokens'], summary: decision === 'approve' ? 'Approve a requested token (a second person: neither the requester nor the owner); only then does it work' : 'Reject a requested token', params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9]{12}$' } } } } },
      async (req) => {
        const actor = requireActor(req);
        requireAdmin(actor);
        await mapRefusal(() => decideToken(deps.db, { kind: 'person', userId: actor.userId, personId: actor.personId }, req.params.id, decision === 'approve' ? 'approved' : 'rejected', deps.clock()));
        return { id: req.params.id, status: decision === 'approve' ? 'approved' : 'rejected' };
      },
    );
  }

  app.post<{ Body: { userId: string; name: string; scopes: TokenScope[]; expiresOn: string } }>(
    '/api/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Request an API token for a service account; the secret is shown once, and the token works once a second person approves it',
        body: { type: 'object', required: ['userId', 'name', 'scopes', 'expiresOn'], additionalProperties: false, properties: { userId: { type: 'string', minLength: 1, maxLength: 64 }, name: { type: 'string', minLength: 1, maxLength: 100 }, scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...TOKEN_SCOPES] } }, expiresOn: DAY } },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const created = await mapRefusal(() => createToken(deps.db, personActor(actor), { ...req.body, expiresAt: endOfDay('expiresOn', req.body.expiresOn) }, deps.clock()));
      return reply.status(201).send(created);
    },
  );

  app.post<{ Params: { id: string } }>('/api/tokens/:id/revoke', { schema: { tags: ['tokens'], summary: 'Revoke an API token at once' } }, async (req) => {
    const actor = requireActor(req);
    requireAdmin(actor);
    if (!(await revokeToken(deps.db, personActor(actor), req.params.id, deps.clock()))) throw new ApiError('not_found', `no live token ${req.params.id}`);
    return { id: req.params.id, revoked: true };
  });

  app.get('/api/campaigns', { schema: { tags: ['recertification'], summary: 'Recertification campaigns with their progress' } }, async (req) => {
    const actor = requireActor(req);
    if (!mayOverseeGrants(actor)) throw new ApiError('forbidden', 'campaigns are for access administration, approvers and auditors');
    return { campaigns: await listCampaigns(deps.db) };
  });

  app.post<{ Body: { name: string; endsOn: string; permissionIds?: string[] } }>(
    '/api/campaigns',
    { schema: { tags: ['recertification'], summary: 'Start a campaign: every approved grant (or those of some permissions) must be confirmed by its reviewer before the end', body: { type: 'object', required: ['name', 'endsOn'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, endsOn: DAY, permissionIds: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 50 } } } } },
    async (req, reply) => {
      const actor = requireActor(req);
      const spec = { name: req.body.name, endsAt: endOfDay('endsOn', req.body.endsOn), ...(req.body.permissionIds === undefined ? {} : { permissionIds: req.body.permissionIds }) };
      return reply.status(201).send(await mapRefusal(() => recert.start(actor, spec, deps.clock())));
    },
  );

  app.get<{ Params: { id: number }; Querystring: { mine?: boolean } }>(
    '/api/campaigns/:id/items',
    { schema: { tags: ['recertification'], summary: 'The grants of a campaign; `mine=true`: those waiting for you', params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } } }, querystring: { type: 'object', additionalProperties: false, properties: { mine: { type: 'boolean' } } } } },
    async (req) => {
      const actor = requireActor(req);
      if (!mayOverseeGrants(actor)) throw new ApiError('forbidden', 'campaigns are for access administration, approvers and auditors');
      const at = deps.clock();
      const items = await listItems(deps.db, req.params.id, at);
      if (req.query.mine !== true) return { items };
      const mine = items.filter((i) => i.decision === null && i.personId !== actor.personId && (i.reviewerUserId !== null ? i.reviewerUserId === actor.userId : i.holderOrganizationId !== null && holds(actor, 'grants.approve', i.holderOrganizationId)));
      return { items: mine };
    },
  );

  app.post<{ Params: { id: number; grantId: number }; Body: { decision: 'confirmed' | 'revoked'; comment?: string } }>(
    '/api/campaigns/:id/items/:grantId',
    { schema: { tags: ['recertification'], summary: 'Confirm or revoke one grant of a campaign', params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 }, grantId: { type: 'integer', minimum: 1 } } }, body: { type: 'object', required: ['decision'], additionalProperties: false, properties: { decision: { type: 'string', enum: ['confirmed', 'revoked'] }, comment: { type: 'string', maxLength: 500 } } } } },
    async (req) => {
      const actor = requireActor(req);
      return mapRefusal(() => recert.decide(actor, req.params.id, req.params.grantId, req.body.decision, req.body.comment ?? null, deps.clock()));
    },
  );
}
