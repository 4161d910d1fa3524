import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorFields } from './server-log.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import { applyPatch, ERROR_SCHEMA, parseUser, ScimError, ScimUsers, USER_SCHEMA, ASSIGNMENT_SCHEMA } from '../identity/scim.ts';
import { revokeForRetailerChange, revokeForSide } from '../governance/grant-service.ts';
import type { AppDeps } from './context.ts';
import { ApiError, ERROR_STATUS } from './errors.ts';

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
 * patch, delete = leave), plus the discovery endpoints connectors read first. Errors in SCIM's own format.
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
      scim.setErrorHandler(async (err, _req, reply) => {
        if (err instanceof ScimError) {
          // A change the HR system asked for and gridwall refused (a retailer's staff on the network side, a
          // taken login ID, …) is evidence like any other refused governance action.
          if (_req.method !== 'GET' && err.status < 500 && _req.actor !== null) {
            await recordGovernance(deps.db, {
              at: deps.clock(),
              actor: provisioner(_req),
              action: `scim.user.${_req.method.toLowerCase()}`,
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
        if (err instanceof ApiError) return scimError(reply, ERROR_STATUS[err.code], null, err.message);
        const fe = err as { validation?: unknown; statusCode?: number; message: string };
        if (fe.validation !== undefined || (fe.statusCode !== undefined && fe.statusCode < 500))
          return scimError(reply, fe.statusCode ?? 400, 'invalidValue', fe.message);
        _req.log.error({ error: errorFields(err) }, 'SCIM request failed');
        return scimError(reply, 500, null, 'internal error');
      });
      const send = (reply: FastifyReply, status: number, body: unknown) => reply.status(status).type(SCIM_JSON).send(body);

      scim.get('/ServiceProviderConfig', { schema: { tags: ['scim'] } }, async (_req, reply) =>
        send(reply, 200, {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
          patch: { supported: true },
          bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
          filter: { supported: true, maxResults: 200 },
          changePassword: { supported: false },
          sort: { supported: false },
          etag: { supported: false },
          authenticationSchemes: [{ type: 'oauthbearertoken', name: 'API token', description: 'gridwall API token with the scim scope' }],
        }),
      );
      scim.get('/ResourceTypes', { schema: { tags: ['scim'] } }, async (_req, reply) =>
        send(reply, 200, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
          totalResults: 1,
          Resources: [
            {
              schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
              id: 'User',
              name: 'User',
              endpoint: '/Users',
              schema: USER_SCHEMA,
              schemaExtensions: [{ schema: ASSIGNMENT_SCHEMA, required: false }],
            },
          ],
        }),
      );

      scim.get<{ Querystring: { filter?: string; startIndex: number; count: number } }>(
        '/Users',
        {
          schema: {
            tags: ['scim'],
            querystring: {
              type: 'object',
              properties: {
                filter: { type: 'string', maxLength: 300 },
                startIndex: { type: 'integer', minimum: 1, default: 1 },
                count: { type: 'integer', minimum: 0, maximum: 200, default: 100 },
              },
            },
          },
        },
        async (req, reply) => send(reply, 200, await users.list(req.query.filter, req.query.startIndex, req.query.count, deps.clock())),
      );
      scim.get<{ Params: { id: string } }>('/Users/:id', { schema: { tags: ['scim'] } }, async (req, reply) =>
        send(reply, 200, await users.get(req.params.id, deps.clock())),
      );
      scim.post('/Users', { schema: { tags: ['scim'] } }, async (req, reply) => {
        const out = await users.create(provisioner(req), parseUser(req.body), deps.clock());
        const location = (out.resource['meta'] as { location: string }).location;
        return send(reply.header('location', location), 201, out.resource);
      });
      scim.put<{ Params: { id: string } }>('/Users/:id', { schema: { tags: ['scim'] } }, async (req, reply) => {
        const out = await users.replace(provisioner(req), req.params.id, parseUser(req.body), deps.clock());
        return send(reply, 200, out.resource);
      });
      scim.patch<{ Params: { id: string } }>('/Users/:id', { schema: { tags: ['scim'] } }, async (req, reply) => {
        const at = deps.clock();
        const next = applyPatch(await users.get(req.params.id, at), req.body);
        const out = await users.replace(provisioner(req), req.params.id, parseUser(next), at);
        return send(reply, 200, out.resource);
      });
      scim.delete<{ Params: { id: string } }>('/Users/:id', { schema: { tags: ['scim'] } }, async (req, reply) => {
        const at = deps.clock();
        const current = await users.get(req.params.id, at);
        await users.replace(provisioner(req), req.params.id, parseUser({ ...current, active: false }), at);
        return reply.status(204).send();
      });
    },
    { prefix: '/scim/v2' },
  );
}
