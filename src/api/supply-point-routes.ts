import type { FastifyInstance } from 'fastify';
import { EMERGENCY_REFUSAL_LABELS } from '../domain/emergency.ts';
import { PURPOSES, type Purpose } from '../domain/purpose.ts';
import { parseSupplyPointId } from '../domain/supply-point.ts';
import type { EmergencyReadRefusal, SearchCriteria } from '../firewall/firewall.ts';
import type { AppDeps } from './context.ts';
import { requireActor, routeName } from './context.ts';
import { ApiError } from './errors.ts';

const purposeSchema = { type: 'string', enum: [...PURPOSES], description: 'Declared purpose of use (logged with the read)' } as const;
const viewSchema = { type: 'object', additionalProperties: true, description: 'Record view: each field { shown: true, value } or { shown: false, reason }' } as const;

const noCustomerRead = () => new ApiError('permission_not_granted', 'you hold no grant of customer.read (需要家情報の照会) in force; ask your access administrator');
const reasonSchema = { type: 'string', minLength: 1, maxLength: 200, description: 'The reason for this one read; required under the emergency_support purpose, and logged' } as const;

/** An emergency-support read refused as a whole: the reason, in the client's terms. */
function emergencyRefused(reason: EmergencyReadRefusal): ApiError {
  if (reason === 'reason_required') return new ApiError('reason_required', 'under the emergency_support purpose, state the reason for this read (reason=…)');
  return new ApiError(reason, `${EMERGENCY_REFUSAL_LABELS[reason].en}; the attempt is logged and raised for review`);
}

export function registerSupplyPointRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Params: { id: string }; Querystring: { purpose: Purpose; reason?: string } }>(
    '/api/supply-points/:id',
    {
      schema: {
        tags: ['customer data'],
        summary: 'The supply point record, every field decided by the firewall',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', required: ['purpose'], properties: { purpose: purposeSchema, reason: reasonSchema } },
        response: { 200: viewSchema },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const parsed = parseSupplyPointId(req.params.id);
      if (parsed.kind === 'invalid') {
        throw new ApiError('invalid_supply_point_id', parsed.problem === 'not_22_digits' ? 'a supply point ID has 22 digits (hyphens and spaces are ignored)' : 'a supply point ID starts with an area code 01–10', { problem: parsed.problem });
      }
      const { purpose, reason } = req.query;
      const result = await deps.firewall.lookup({ actor, purpose, route: routeName(req), requestId: req.id, at: deps.clock(), ...(reason === undefined ? {} : { statedReason: reason }) }, parsed.id);
      if (result.kind === 'not_found') throw new ApiError('not_found', 'no supply point with that ID');
      if (result.kind === 'refused') throw result.reason === 'permission_not_granted' ? noCustomerRead() : emergencyRefused(result.reason);
      return result.view;
    },
  );

  app.get<{ Querystring: { purpose: Purpose; reason?: string; address?: string; name?: string; phone?: string; limit: number; offset: number } }>(
    '/api/supply-points',
    {
      schema: {
        tags: ['customer data'],
        summary: 'Search supply points by address (public), or by holder name / phone where the firewall allows',
        querystring: {
          type: 'object',
          required: ['purpose'],
          properties: {
            purpose: purposeSchema,
            reason: reasonSchema,
            address: { type: 'string', minLength: 2, maxLength: 100 },
            name: { type: 'string', minLength: 2, maxLength: 100 },
            phone: { type: 'string', minLength: 10, maxLength: 20, pattern: '^[0-9+\\- ()]+$' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            offset: { type: 'integer', minimum: 0, maximum: 10000, default: 0 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: viewSchema },
              page: { type: 'object', properties: { limit: { type: 'integer' }, offset: { type: 'integer' }, hasMore: { type: 'boolean' } } },
            },
          },
        },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const { address, name, phone, limit, offset, purpose, reason } = req.query;
      const given = [address, name, phone].filter((v) => v !== undefined).length;
      if (given !== 1) throw new ApiError('search_criteria', 'give exactly one of address, name or phone');
      const criteria: SearchCriteria =
        address !== undefined ? { by: 'address', term: address.trim() } : name !== undefined ? { by: 'holder_name', term: name.trim() } : { by: 'phone', digits: (phone ?? '').replace(/\D/g, '') };
      const result = await deps.firewall.search({ actor, purpose, route: routeName(req), requestId: req.id, at: deps.clock(), ...(reason === undefined ? {} : { statedReason: reason }) }, criteria, { limit, offset });
      if (result.kind === 'refused') {
        if (result.reason === 'permission_not_granted') throw noCustomerRead();
        if (result.reason !== 'search_field_not_permitted') throw emergencyRefused(result.reason);
        throw new ApiError('search_field_not_permitted', `searching by ${criteria.by} is not permitted for you under purpose ${purpose}: it would disclose non-public information`);
      }
      return { items: result.views, page: { limit, offset, hasMore: result.hasMore } };
    },
  );
}
