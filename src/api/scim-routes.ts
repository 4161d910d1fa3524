import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorFields } from './server-log.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import { ScimUsers } from '../identity/scim.ts';
import { ERROR_SCHEMA, LIST_SCHEMA, project, resourceTypes, schemas, ScimError, serviceProviderConfig } from '../identity/scim-schema.ts';
import { revokeForRetailerChange, revokeForSide } from '../governance/grant-service.ts';
import type { AppDeps } from './context.ts';
import { ApiError, ERROR_STATUS } from './errors.ts';
import type { GovernanceAction } from '../domain/governance-actions.ts';

/** The governance action a refused SCIM change is recorded under, by HTTP method. */
const SCIM_REFUSED_ACTIONS: Readonly<Partial<Record<string, GovernanceAction>>> = {
  POST: 'scim.user.post',
  PUT: 'scim.user.put',
  PATCH: 'scim.user.patch',
  DELETE: 'scim.user.delete',
};

const SCIM_JSON = 'application/scim+json';

function scimError(reply: FastifyReply, status: number, scimType: string | null, detail: string) {
  return reply
    .status(status)
    .type(SCIM_JSON)
    .send({ schemas: [ERROR_SCHEMA], status: String(status), ...(scimType === null ? {} : { scimType }), detail });
}

/** The HR system's token: only a token with the `scim` scope provisions people. */
function provisioner(req: FastifyRequest): GovernanceActor {
  const a = req.actor;
  // The plugin's onRequest hook has already refused anything else; this keeps the type honest.
  if (a === null || a.tokenScopes === null || !a.tokenScopes.includes('scim')) throw new ApiError('forbidden', 'SCIM needs an API token with the scim scope');
  return { kind: 'token', userId: a.userId, personId: a.personId, tokenId: a.sessionId.replace(/^token:/, '') };
}

/**
 * SCIM 2.0 (RFC 7644) for the HR system under /scim/v2: Users (create, read, list with filter, replace,
 * patch, delete = leave and gone from SCIM), plus the discovery endpoints connectors read first (RFC 7644 §4:
 * ServiceProviderConfig, Schemas, ResourceTypes). Errors in SCIM's own format, unknown paths included.
 */
export async function registerScimRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(
    async (scim) => {
      const base = deps.publicUrl === undefined ? '/scim/v2' : `${deps.publicUrl.replace(/\/$/, '')}/scim/v2`;
      const users = new ScimUsers(deps.db, base, (tx, personId, at) => deps.sessions.endAllOf(personId, at, tx), {
        forSide: revokeForSide,
        forRetailerChange: revokeForRetailerChange,
      });
      scim.addContentTypeParser(SCIM_JSON, { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, JSON.parse(String(body)));
        } catch {
          done(new ScimError(400, 'invalidSyntax', 'the body is not JSON'));
        }
      });
      scim.addHook('onRequest', async (req, reply) => {
        if (req.actor === null || req.actor.tokenScopes === null || !req.actor.tokenScopes.includes('scim')) {
          return scimError(reply, req.actor === null ? 401 : 403, null, 'SCIM needs an API token with the scim scope (Authorization: Bearer gw_…)');
        }
        return undefined;
      });
      scim.setErrorHandler(async (thrown, _req, reply) => {
        // Two requests naming the same userName or externalId at once: the second meets the store's unique
        // index (SQLSTATE 23505) after both checked the name was free — the same refusal as a name taken before.
        const err =
          (thrown as { code?: unknown }).code === '23505'
            ? new ScimError(409, 'uniqueness', 'userName or externalId was taken by another request at the same moment')
            : thrown;
        if (err instanceof ScimError) {
          // A change the HR system asked for and gridwall refused (a retailer's staff on the network side, a
          // taken login ID, …) is evidence like any other refused governance action.
          if (_req.method !== 'GET' && err.status < 500 && _req.actor !== null) {
            await recordGovernance(deps.db, {
              at: deps.clock(),
              actor: provisioner(_req),
              action: SCIM_REFUSED_ACTIONS[_req.method] ?? 'scim.user.patch',
              subjectType: 'person',
              subjectId: (_req.params as { id?: string } | undefined)?.id ?? '(new)',
              outcome: 'refused',
              // The assignment rule broken (retailer_mismatch, unknown_organization, …) where there is one.
              rule: err.rule ?? err.scimType ?? `http_${err.status}`,
              details: { message: err.message },
            });
          }
          return scimError(reply, err.status, err.scimType, err.message);
        }
        // Text no field accepts (a NUL, a lone surrogate: api/input-guards.ts) is refused before the route: in
        // SCIM's words a value the attribute cannot take (RFC 7644 §3.12 invalidValue).
        if (err instanceof ApiError) return scimError(reply, ERROR_STATUS[err.code], err.code === 'validation_failed' ? 'invalidValue' : null, err.message);
        const fe = err as { validation?: unknown; statusCode?: number; message: string };
        if (fe.validation !== undefined || (fe.statusCode !== undefined && fe.statusCode < 500))
          return scimError(reply, fe.statusCode ?? 400, 'invalidValue', fe.message);
        _req.log.error({ error: errorFields(err) }, 'SCIM request failed');
        return scimError(reply, 500, null, 'internal error');
      });
      const send = (reply: FastifyReply, status: number, body: unknown) => reply.status(status).type(SCIM_JSON).send(body);

      const list = (resources: readonly Record<string, unknown>[]) => ({
        schemas: [LIST_SCHEMA],
        totalResults: resources.length,
        startIndex: 1,
        itemsPerPage: resources.length,
        Resources: resources,
      });
      const byId = (resources: readonly Record<string, unknown>[], what: string, id: string) => {
        const found = resources.find((r) => r['id'] === id);
        if (found === undefined) throw new ScimError(404, null, `no ${what} ${id}`);
        return found;
      };
      /** The discovery endpoints answer GET only (RFC 7644 §4); anything else under /scim/v2 is a SCIM 404. */
      const DISCOVERY = /^\/scim\/v2\/(ServiceProviderConfig|Schemas|ResourceTypes)(\/[^/?]*)?(\?|$)/;
      scim.setNotFoundHandler(async (req, reply) =>
        DISCOVERY.test(req.url)
          ? scimError(reply.header('allow', 'GET'), 405, null, `${req.method} is not allowed here: the discovery endpoints answer GET`)
          : scimError(reply, 404, null, `no SCIM endpoint ${req.method} ${req.url.split('?')[0] ?? ''}`),
      );

      scim.get('/ServiceProviderConfig', { schema: { tags: ['scim'] } }, async (_req, reply) => send(reply, 200, serviceProviderConfig(base)));
      scim.get('/ResourceTypes', { schema: { tags: ['scim'] } }, async (_req, reply) => send(reply, 200, list(resourceTypes(base))));
      scim.get<{ Params: { id: string } }>('/ResourceTypes/:id', { schema: { tags: ['scim'] } }, async (req, reply) =>
        send(reply, 200, byId(resourceTypes(base), 'ResourceType', req.params.id)),
      );
      scim.get('/Schemas', { schema: { tags: ['scim'] } }, async (_req, reply) => send(reply, 200, list(schemas(base))));
      scim.get<{ Params: { id: string } }>('/Schemas/:id', { schema: { tags: ['scim'] } }, async (req, reply) =>
        send(reply, 200, byId(schemas(base), 'Schema', req.params.id)),
      );

      const projection = {
        attributes: { type: 'string', maxLength: 1000 },
        excludedAttributes: { type: 'string', maxLength: 1000 },
      } as const;
      scim.get<{ Querystring: { filter?: string; startIndex: number; count: number; attributes?: string; excludedAttributes?: string } }>(
        '/Users',
        {
          schema: {
            tags: ['scim'],
            querystring: {
              type: 'object',
              properties: {
                filter: { type: 'string', maxLength: 300 },
                // RFC 7644 §3.4.2.4: below 1 counts as 1, a negative count as 0 (cut to maxResults): no minimum here.
                startIndex: { type: 'integer', default: 1 },
                count: { type: 'integer', default: 100 },
                ...projection,
              },
            },
          },
        },
        async (req, reply) => {
          const q = req.query;
          const page = await users.list(q.filter, q.startIndex, q.count, deps.clock());
          return send(reply, 200, { ...page, Resources: page.Resources.map((r) => project(r, q.attributes, q.excludedAttributes)) });
        },
      );
      scim.get<{ Params: { id: string }; Querystring: { attributes?: string; excludedAttributes?: string } }>(
        '/Users/:id',
        { schema: { tags: ['scim'], querystring: { type: 'object', properties: projection } } },
        async (req, reply) => send(reply, 200, project(await users.get(req.params.id, deps.clock()), req.query.attributes, req.query.excludedAttributes)),
      );
      scim.post('/Users', { schema: { tags: ['scim'] } }, async (req, reply) => {
        const out = await users.create(provisioner(req), req.body, deps.clock());
        const location = (out.resource['meta'] as { location: string }).location;
        return send(reply.header('location', location), 201, out.resource);
      });
      scim.put<{ Params: { id: string } }>('/Users/:id', { schema: { tags: ['scim'] } }, async (req, reply) => {
        const out = await users.replace(provisioner(req), req.params.id, req.body, deps.clock());
        return send(reply, 200, out.resource);
      });
      scim.patch<{ Params: { id: string } }>('/Users/:id', { schema: { tags: ['scim'] } }, async (req, reply) => {
        const out = await users.patch(provisioner(req), req.params.id, req.body, deps.clock());
        return send(reply, 200, out.resource);
      });
      scim.delete<{ Params: { id: string } }>('/Users/:id', { schema: { tags: ['scim'] } }, async (req, reply) => {
        await users.delete(provisioner(req), req.params.id, deps.clock());
        return reply.status(204).send();
      });
    },
    { prefix: '/scim/v2' },
  );
}
