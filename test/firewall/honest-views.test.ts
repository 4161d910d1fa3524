import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPLY_POINT_FIELD_KEYS } from '../../src/domain/classification.ts';
import { DECLARABLE_PURPOSES } from '../../src/domain/purpose.ts';

// Every purpose a person can declare on the look-up and search routes (an inquiry's answer comes by its own routes).
const PURPOSES = DECLARABLE_PURPOSES;
import { login, seededApp, tryLogin, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { addStats, assertHonestView, seededRawValues, type RawValues } from '../support/honest-view.ts';
import { STORES } from '../support/stores.ts';

/**
 * Every fixture person × every supply point × every purpose through the real HTTP app (issue 14): whatever
 * is served or refused, a masked field carries its reason and nothing else, and no stored value of a masked
 * field is anywhere in the body. A declared emergency over 宮城県 is in force, with the affiliated retailer's
 * agent registered for the holder name only and the contractor for the name, phone and address, so the
 * emergency masks are exercised too; the service centre also reads from its network-site terminal, so
 * network-only fields are shown as well as masked.
 */

const REASON = '台風による停電：復旧見込みの連絡のため';
const HOUR = 3_600_000;

interface Persona {
  readonly label: string;
  readonly userId: string;
  readonly terminalId?: string;
}

const PERSONAS: readonly Persona[] = [
  ...Object.values(USERS).map((userId) => ({ label: userId, userId })),
  { label: `${USERS.serviceCentre} at ${TERMINALS.NSC}`, userId: USERS.serviceCentre, terminalId: TERMINALS.NSC },
];

for (const store of STORES) {
  describe(`honest views over HTTP on ${store.name}`, () => {
    const w = seededApp(store, {}, seedEmergencyRoles);
    let raw: RawValues;
    const sessions = new Map<string, Session>();

    before(async () => {
      raw = await seededRawValues(w.db);
      const send = async (user: string, method: 'POST' | 'PUT', url: string, payload: Record<string, unknown>) => {
        const s = await login(w.app, user);
        const res = await w.app.inject({ method, url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
        assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
        return res.json<{ id: string }>();
      };
      const declared = await send(USERS.callCentre, 'POST', '/api/emergencies', {
        areas: [{ kind: 'prefecture', prefecture: '宮城県' }],
        startsAt: NOW.toISOString(),
        plannedEndAt: new Date(NOW.getTime() + 24 * HOUR).toISOString(),
        reason: '台風第10号',
      });
      await send(USERS.serviceCentre, 'POST', `/api/emergencies/${declared.id}/confirm`, {});
      await send(USERS.admin, 'PUT', '/api/emergency-support/p-retail', { fields: ['holder_name'] });
      await send(USERS.admin, 'PUT', '/api/emergency-support/p-rctr', { fields: ['holder_name', 'phone', 'address'] });
      for (const p of PERSONAS) {
        const s = await tryLogin(w.app, p.userId, p.terminalId);
        if (s !== null) sessions.set(p.label, s);
      }
    });

    const get = (p: Persona, url: string) => {
      const s = sessions.get(p.label) ?? assert.fail(`no session for ${p.label}`);
      return w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
    };
    const query = (purpose: string, more: Record<string, string> = {}) =>
      new URLSearchParams({ purpose, ...(purpose === 'emergency_support' ? { reason: REASON } : {}), ...more }).toString();

    test('every person × supply point × purpose: masked fields carry only their reason, and no masked value is anywhere in the body', async () => {
      const total = { views: 0, masked: {} as Record<string, number>, searched: 0 };
      const statuses: Record<string, number> = {};
      // A person refused a session (nobody assigned behind the account) reads nothing; everyone else is checked,
      // and the people on every side of the firewall must be among them.
      const readers = PERSONAS.filter((p) => sessions.has(p.label));
      for (const u of [
        USERS.callCentre,
        USERS.serviceCentre,
        USERS.compliance,
        USERS.admin,
        USERS.retail,
        USERS.retailContractor,
        USERS.otherRetailer,
        USERS.mover,
      ]) {
        assert.ok(
          readers.some((p) => p.userId === u),
          `${u} could not log in`,
        );
      }
      assert.ok(Object.values(SP).length > 0 && PURPOSES.length > 0);
      for (const p of readers) {
        for (const sp of Object.values(SP)) {
          for (const purpose of PURPOSES) {
            const res = await get(p, `/api/supply-points/${sp}?${query(purpose)}`);
            const what = `${p.label} ${sp} ${purpose}: ${res.statusCode} ${res.body}`;
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            assert.ok(res.statusCode === 200 || res.statusCode === 403, what);
            const body: unknown = res.json();
            if (res.statusCode === 200) {
              const view = body as { supplyPointId: string; fields: Record<string, unknown> };
              assert.equal(view.supplyPointId, sp, what);
              assert.deepEqual(Object.keys(view.fields).sort(), [...SUPPLY_POINT_FIELD_KEYS].sort(), what);
            }
            addStats(total, assertHonestView(body, raw, sp));
          }
        }
      }
      for (const p of readers) {
        for (const purpose of PURPOSES) {
          const res = await get(p, `/api/supply-points?${query(purpose, { address: '宮城県' })}`);
          assert.ok(res.statusCode === 200 || res.statusCode === 403, `${p.label} search ${purpose}: ${res.statusCode} ${res.body}`);
          addStats(total, assertHonestView(res.json(), raw));
        }
      }
      // The table reached what it is about: served and refused reads, the masks the probes left a value on,
      // the emergency masks, and many stored values searched for.
      assert.ok((statuses[200] ?? 0) > 100 && (statuses[403] ?? 0) > 10, JSON.stringify(statuses));
      for (const reason of ['network_only', 'purpose_not_permitted', 'not_own_customer', 'outside_emergency_fields', 'not_needed_for_duty']) {
        assert.ok((total.masked[reason] ?? 0) > 0, `no field masked ${reason} was checked: ${JSON.stringify(total.masked)}`);
      }
      assert.ok(total.searched > 1000, `stored values searched for: ${total.searched}`);
    });
  });
}
