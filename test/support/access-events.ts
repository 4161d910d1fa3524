import type { AccessEvent, LoggedRecord } from '../../src/audit/access-event.ts';

/** The record of supply point number `i` in a made-up event: another retailer's customer, its public fields shown. */
export function loggedRecord(i: number, over: Partial<LoggedRecord> = {}): LoggedRecord {
  return {
    supplyPointId: `02${String(i).padStart(20, '0')}`,
    relation: 'other',
    retailerCode: 'R0002',
    lastResort: false,
    shown: ['supply_point_id', 'address'],
    masked: {},
    ...over,
  };
}

/**
 * Event number `i` as the log suites write it without the firewall: a call-centre look-up of supply point `i`
 * on 2026-11-02, `i` seconds past 10:00 Japan time. Suites change what their checks are about.
 */
export function accessEvent(i: number, over: Partial<AccessEvent> = {}): AccessEvent {
  return {
    occurredAt: new Date(Date.UTC(2026, 10, 2, 1, 0, i)),
    requestId: `req-${i}`,
    personId: 'p-cc',
    userId: 'u-cc',
    sessionId: 's',
    principalClass: 'network_call_centre',
    side: 'network',
    organizationId: 'org-nw',
    employment: 'employee',
    office: '仙台コールセンター',
    terminalId: 'T1',
    route: 'GET /api/supply-points/:id',
    purpose: 'customer_inquiry',
    outcome: 'served',
    refusal: null,
    query: { by: 'id' },
    records: [loggedRecord(i)],
    policyVersion: 'v-test',
    emergencyId: null,
    ...over,
  };
}
