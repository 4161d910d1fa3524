import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emergencyCover, type PointLocation, type SupportRegistration } from '../../src/domain/emergency.ts';
import { EmergencyDeclarations } from '../../src/governance/emergency-declarations.ts';
import { EmergencyActionRefused } from '../../src/governance/emergency-refusals.ts';
import { Sessions } from '../../src/identity/session-store.ts';
import { type Actor } from '../../src/domain/actor.ts';
import type { Db } from '../../src/store/db.ts';
import { declarationsInForce } from '../../src/store/emergency-store.ts';
import { NOW, USERS, seedEmergencyRoles, seedFixture } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * Declarations, extensions, confirmations, early ends and withdrawals in any order, made through the real
 * service on the real store, against a model that states the rule plainly: an extension is the same
 * emergency going on, so ending any declaration ends everything that extends it (issue 14). After every
 * step the store's answer — is a point of this run's area covered at an instant? — must equal the model's,
 * at now and at every boundary of every declaration ± 1 ms.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;

interface ModelDeclaration {
  id: string;
  status: 'pending' | 'confirmed' | 'rejected' | 'withdrawn';
  startsAt: number;
  plannedEndAt: number;
  confirmedAt: number | null;
  endedAt: number | null;
  extendsId: string | null;
}

interface Model {
  now: number;
  declarations: ModelDeclaration[];
}

/** In force at t: confirmed and inside its own span, and nothing up its line ended at or before t. */
function modelLive(m: Model, d: ModelDeclaration, t: number): boolean {
  if (d.status !== 'confirmed' || d.confirmedAt === null) return false;
  if (t < d.startsAt || t < d.confirmedAt || t >= d.plannedEndAt) return false;
  for (let x: ModelDeclaration | undefined = d; x !== undefined; x = m.declarations.find((y) => y.id === x?.extendsId)) {
    if (x.status !== 'confirmed' || (x.endedAt !== null && x.endedAt <= t)) return false;
    if (x.extendsId === null) return true;
  }
  return false;
}

/** Whether the model has the declaration confirmed with a window, read along its line, that has not closed by now. */
function modelRunning(m: Model, d: ModelDeclaration): boolean {
  if (d.status !== 'confirmed' || d.confirmedAt === null) return false;
  const from = Math.max(d.startsAt, d.confirmedAt);
  let to = d.plannedEndAt;
  for (let x: ModelDeclaration | undefined = d; x !== undefined; x = m.declarations.find((y) => y.id === x?.extendsId)) {
    if (x.endedAt !== null) to = Math.min(to, x.endedAt);
  }
  return from < to && m.now < to;
}

function descendants(m: Model, id: string): ModelDeclaration[] {
  const kids = m.declarations.filter((d) => d.extendsId === id);
  return kids.flatMap((k) => [k, ...descendants(m, k.id)]);
}

type Step =
  | { kind: 'declare'; startInMin: number; lengthMin: number }
  | { kind: 'confirm' | 'end' | 'withdraw'; pick: number }
  | { kind: 'extend'; pick: number; lengthMin: number }
  | { kind: 'advance'; minutes: number }
  /** A declared, confirmed emergency with `depth` confirmed extensions: a line for the other steps to act on. */
  | { kind: 'line'; depth: number; lengthMin: number };

function primitive(s: Step): Step[] {
  if (s.kind !== 'line') return [s];
  const out: Step[] = [
    { kind: 'declare', startInMin: 0, lengthMin: s.lengthMin },
    { kind: 'confirm', pick: 0 },
  ];
  for (let i = 0; i < s.depth; i++) out.push({ kind: 'extend', pick: 0, lengthMin: s.lengthMin }, { kind: 'confirm', pick: 0 });
  return out;
}

/** Weighted so that lines form: confirmations and extensions come often, and act on the latest declarations. */
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('declare' as const), startInMin: fc.integer({ min: 0, max: 90 }), lengthMin: fc.integer({ min: 1, max: 180 }) }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('confirm' as const), pick: fc.nat() }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('extend' as const), pick: fc.nat(), lengthMin: fc.integer({ min: 1, max: 180 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('end' as const), pick: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('withdraw' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 120 }) }), weight: 2 },
  {
    arbitrary: fc.record({ kind: fc.constant('line' as const), depth: fc.integer({ min: 1, max: 3 }), lengthMin: fc.integer({ min: 30, max: 180 }) }),
    weight: 3,
  },
);

for (const store of STORES) {
  describe(`emergency lines on ${store.name}: any order of declare, confirm, extend, end, withdraw`, () => {
    let db: Db;
    let dispose: () => Promise<void>;
    let emergencies: EmergencyDeclarations;
    let declarer: Actor;
    let confirmer: Actor;

    before(async () => {
      ({ db, dispose } = await store.open());
      await seedFixture(db);
      await seedEmergencyRoles(db);
      emergencies = new EmergencyDeclarations(db, { maxHours: 72 });
      const sessions = new Sessions(db, { idleMs: HOUR, absoluteMs: HOUR, cacheMs: 0, unknownTerminal: 'limit' });
      const actor = async (userId: string) => {
        const r = await sessions.open(userId, null, NOW);
        if (r.kind !== 'opened') throw new Error(`${userId}: ${r.code}`);
        return r.session.actor;
      };
      declarer = await actor(USERS.callCentre);
      confirmer = await actor(USERS.serviceCentre);
    });
    after(() => dispose());

    test('the store answers as the model at every boundary after every step', async () => {
      const registration: SupportRegistration = { personId: 'p-retail', fields: ['holder_name'], validFrom: new Date(0), validTo: null };
      let run = 0;
      // One clock for the whole property: every run moves forward from where the last stopped, in its own
      // prefecture, so runs never see each other's declarations.
      let clock = NOW.getTime();
      const counts = { steps: 0, done: 0, coveredChecks: 0, endedLines: 0 };
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 10 }), async (steps) => {
          run++;
          const prefecture = `試験県${run}`;
          const point: PointLocation = { areaCode: '99', prefecture, city: '試験市' };
          const m: Model = { now: clock, declarations: [] };
          const pick = (n: number) => m.declarations[m.declarations.length - 1 - (n % Math.min(3, Math.max(1, m.declarations.length)))];
          for (const s of steps.flatMap(primitive)) {
            counts.steps++;
            const at = new Date(m.now);
            try {
              switch (s.kind) {
                case 'advance':
                  m.now += s.minutes * MIN;
                  break;
                case 'line':
                  throw new Error('expanded by primitive()');
                case 'declare': {
                  const row = await emergencies.declare(
                    declarer,
                    {
                      areas: [{ kind: 'prefecture', prefecture }],
                      startsAt: new Date(m.now + s.startInMin * MIN),
                      plannedEndAt: new Date(m.now + (s.startInMin + s.lengthMin) * MIN),
                      reason: '試験',
                    },
                    at,
                  );
                  m.declarations.push({
                    id: row.id,
                    status: 'pending',
                    startsAt: m.now + s.startInMin * MIN,
                    plannedEndAt: m.now + (s.startInMin + s.lengthMin) * MIN,
                    confirmedAt: null,
                    endedAt: null,
                    extendsId: null,
                  });
                  counts.done++;
                  break;
                }
                case 'confirm': {
                  const d = pick(s.pick);
                  if (d === undefined) break;
                  await emergencies.confirm(confirmer, d.id, null, at);
                  assert.equal(d.status, 'pending', `${d.id} confirmed though the model has it ${d.status}`);
                  const parent = m.declarations.find((p) => p.id === d.extendsId);
                  assert.ok(parent === undefined || (parent.status === 'confirmed' && parent.endedAt === null), `${d.id} confirmed though its line was ended`);
                  d.status = 'confirmed';
                  d.confirmedAt = m.now;
                  counts.done++;
                  break;
                }
                case 'withdraw': {
                  const d = pick(s.pick);
                  if (d === undefined) break;
                  await emergencies.withdraw(declarer, d.id, at);
                  assert.equal(d.status, 'pending');
                  d.status = 'withdrawn';
                  counts.done++;
                  break;
                }
                case 'end': {
                  const d = pick(s.pick);
                  if (d === undefined) break;
                  await emergencies.end(declarer, d.id, '試験終了', at);
                  assert.ok(modelRunning(m, d), `${d.id} ended though the model has it over`);
                  d.endedAt = m.now;
                  // The rule: the whole line after it ends with it.
                  for (const x of descendants(m, d.id)) {
                    if (x.status === 'confirmed' && x.endedAt === null) x.endedAt = m.now;
                    if (x.status === 'pending') x.status = 'withdrawn';
                    counts.endedLines++;
                  }
                  counts.done++;
                  break;
                }
                case 'extend': {
                  const p = pick(s.pick);
                  if (p === undefined) break;
                  const row = await emergencies.extend(declarer, p.id, new Date(p.plannedEndAt + s.lengthMin * MIN), '延長', at);
                  assert.ok(p.status === 'confirmed' && p.endedAt === null && p.plannedEndAt > m.now, `${p.id} extended though the model has it over`);
                  m.declarations.push({
                    id: row.id,
                    status: 'pending',
                    startsAt: p.plannedEndAt,
                    plannedEndAt: p.plannedEndAt + s.lengthMin * MIN,
                    confirmedAt: null,
                    endedAt: null,
                    extendsId: p.id,
                  });
                  counts.done++;
                  break;
                }
              }
            } catch (e) {
              if (!(e instanceof EmergencyActionRefused)) throw e;
            }
            const instants = new Set<number>([m.now]);
            for (const d of m.declarations)
              for (const b of [d.startsAt, d.plannedEndAt, d.endedAt, d.confirmedAt])
                if (b !== null && b >= m.now) for (const e of [-1, 0, 1]) instants.add(b + e);
            for (const t of instants) {
              const real = emergencyCover(registration, await declarationsInForce(db, new Date(t)), point, new Date(t));
              const want = m.declarations.some((d) => modelLive(m, d, t));
              if (want) counts.coveredChecks++;
              assert.equal(real.kind === 'covered', want, `after ${s.kind} at ${new Date(m.now).toISOString()}, instant ${new Date(t).toISOString()}`);
            }
          }
          clock = m.now + 400 * HOUR;
        }),
        {
          numRuns: 40,
          // One line ended at its root is always among the runs, so the count below cannot depend on the draw
          // (CI once drew a single such case in 40 runs).
          examples: [
            [
              [
                { kind: 'line', depth: 2, lengthMin: 60 },
                { kind: 'advance', minutes: 10 },
                { kind: 'end', pick: 2 },
                { kind: 'advance', minutes: 5 },
              ],
            ],
          ],
        },
      );
      assert.ok(counts.done > 60, `actions that went through: ${counts.done}`);
      assert.ok(counts.coveredChecks > 50, `instants the model says are covered: ${counts.coveredChecks}`);
      assert.ok(counts.endedLines >= 2, `extensions caught by an early end up their line: ${counts.endedLines}`);
    });
  });
}
