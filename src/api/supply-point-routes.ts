import type { FastifyInstance } from 'fastify';
import { EMERGENCY_REFUSAL_LABELS } from '../domain/emergency.ts';
import { parseSupplyPointId } from '../domain/supply-point.ts';
import type { EmergencyReadRefusal, SearchCriteria } from '../firewall/firewall.ts';
import type { AppDeps } from './context.ts';
import { requireActor, routeName } from './context.ts';
import { ApiError } from './errors.ts';
import * as c from '../contract/supply-point.ts';
import { route, type RouteTypes } from '../contract/schema.ts';

const noCustomerRead = () =>
  new ApiError('permission_not_granted', 'you hold no grant of customer.read (需要家情報の照会) in force; ask your access administrator');

/** An emergency-support read refused as a whole: the reason, in the client's terms. */
function emergencyRefused(reason: EmergencyReadRefusal): ApiError {
  if (reason === 'reason_required') return new ApiError('reason_required', 'under the emergency_support purpose, state the reason for this read (reason=…)');
  return new ApiError(reason, `${EMERGENCY_REFUSAL_LABELS[reason].en}; the attempt is logged and raised for review`);
}

export function registerSupplyPointRoutes(app: FastifyInstance, deps: AppDeps): void {
  // The response schemas are the record views of src/contract/supply-point.ts: each field exactly
  // {shown: true, value} or {shown: false, reason}, every requested field required — see there.
  app.get<RouteTypes<typeof c.lookup>>(
    '/api/supply-points/:id',
    { schema: route(c.lookup, { tags: ['customer data'], summary: 'The supply point record, every field decided by the firewall' }) },
    async (req) => {
      const actor = requireActor(req);
      const parsed = parseSupplyPointId(req.params.id);
      if (parsed.kind === 'invalid') {
        throw new ApiError(
          'invalid_supply_point_id',
          parsed.problem === 'not_22_digits'
            ? 'a supply point ID has 22 digits (hyphens and spaces are ignored)'
            : 'a supply point ID starts with an area code 01–10',
          { problem: parsed.problem },
        );
      }
      const { purpose, reason } = req.query;
      const result = await deps.firewall.lookup(
        { actor, purpose, route: routeName(req), requestId: req.id, at: deps.clock(), ...(reason === undefined ? {} : { statedReason: reason }) },
        parsed.id,
      );
      if (result.kind === 'not_found') throw new ApiError('not_found', 'no supply point with that ID');
      if (result.kind === 'limited') throw result.refusal;
      if (result.kind === 'refused') throw result.reason === 'permission_not_granted' ? noCustomerRead() : emergencyRefused(result.reason);
      return result.view;
    },
  );

  app.get<RouteTypes<typeof c.search>>(
    '/api/supply-points',
    {
      schema: route(c.search, {
        tags: ['customer data'],
        summary: 'Search supply points by address (public), or by holder name / phone where the firewall allows',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      const { address, name, phone, limit, offset, after, purpose, reason } = req.query;
      const given = [address, name, phone].filter((v) => v !== undefined).length;
      if (given !== 1) throw new ApiError('search_criteria', 'give exactly one of address, name or phone');
      const criteria: SearchCriteria =
        address !== undefined
          ? { by: 'address', term: address.trim() }
          : name !== undefined
            ? { by: 'holder_name', term: name.trim() }
            : { by: 'phone', digits: (phone ?? '').replace(/\D/g, '') };
      const result = await deps.firewall.search(
        { actor, purpose, route: routeName(req), requestId: req.id, at: deps.clock(), ...(reason === undefined ? {} : { statedReason: reason }) },
        criteria,
        { limit, offset, ...(after === undefined ? {} : { after }) },
      );
      if (result.kind === 'limited') throw result.refusal;
      if (result.kind === 'refused') {
        if (result.reason === 'permission_not_granted') throw noCustomerRead();
        if (result.reason !== 'search_field_not_permitted') throw emergencyRefused(result.reason);
        throw new ApiError(
          'search_field_not_permitted',
          `searching by ${criteria.by} is not permitted for you under purpose ${purpose}: it would disclose non-public information`,
        );
      }
      // The cursor is the last result served, never a point the firewall left out of the page.
      const next = result.hasMore ? (result.views.at(-1)?.supplyPointId ?? null) : null;
      return { items: result.views, page: { limit, offset, hasMore: result.hasMore, next } };
    },
  );
}
