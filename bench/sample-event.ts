import type { AccessEvent } from '../src/audit/access-event.ts';
import { SUPPLY_POINT_FIELD_KEYS } from '../src/domain/classification.ts';

/**
 * Event number `i` as the log benches write it: a call-centre look-up of another retailer's customer, its
 * record's twelve fields listed as shown and one masked (~1 KB of canonical JSON, as a real look-up logs).
 */
export function sampleEvent(i: number, at: Date): AccessEvent {
  return {
    occurredAt: at,
    requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    personId: `p${i % 400}`,
    userId: `u${i % 400}`,
    sessionId: 'sess',
    principalClass: i % 5 === 0 ? 'affiliated_retail' : 'network_call_centre',
    side: i % 5 === 0 ? 'retail' : 'network',
    organizationId: 'org-nw',
    employment: 'employee',
    office: '仙台コールセンター',
    terminalId: `T${i % 300}`,
    route: 'GET /api/supply-points/:id',
    purpose: 'customer_inquiry',
    outcome: 'served',
    refusal: null,
    query: { by: 'id' },
    records: [
      {
        supplyPointId: `02${String(i).padStart(20, '0')}`,
        relation: 'other',
        retailerCode: 'R0002',
        lastResort: false,
        // Every field of the record but the one only network staff see, which is masked.
        shown: SUPPLY_POINT_FIELD_KEYS.filter((f) => f !== 'network_notes'),
        masked: { network_notes: 'network_only' },
      },
    ],
    policyVersion: '1881c2c7dba16aa90420788f6470ef4907a608ea6847e7c670f5e0dc4dda20d0',
    emergencyId: null,
  };
}
