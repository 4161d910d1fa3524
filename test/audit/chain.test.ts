import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { canonicalJson } from '../../src/audit/canonical.ts';
import { canonicalEvent, chainEvents, GENESIS, linkHash } from '../../src/audit/chain.ts';
import { ChainVerifier } from '../../src/audit/chain-verify.ts';
import type { LinkRecord } from '../../src/audit/log-reader.ts';
import { createHash, sign } from 'node:crypto';
import {
  generateSigningKey,
  publicKeys,
  sealDigest,
  sealSignatureValid,
  signCheckpoint,
  signSeal,
  type Checkpoint,
  type Seal,
} from '../../src/audit/signing.ts';

const KEY = generateSigningKey();
const OTHER_KEY = generateSigningKey();
const KEYS = publicKeys([KEY.publicKeyPem]);

const eventArb: fc.Arbitrary<AccessEvent> = fc.record({
  occurredAt: fc.date({ min: new Date('2024-01-01'), max: new Date('2027-01-01'), noInvalidDate: true }),
  requestId: fc.uuid(),
  personId: fc.constantFrom('p-1', 'p-2', '加藤'),
  userId: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  sessionId: fc.constant(null),
  principalClass: fc.constantFrom('affiliated_retail', 'network_call_centre'),
  side: fc.constantFrom('retail', 'network', null),
  organizationId: fc.constant('org'),
  employment: fc.constantFrom('employee', 'contractor'),
  office: fc.string({ maxLength: 6 }),
  terminalId: fc.constant(null),
  route: fc.constant('GET /api/supply-points/:id'),
  purpose: fc.constantFrom('customer_inquiry', 'own_customer_service'),
  outcome: fc.constantFrom('served' as const, 'refused' as const),
  refusal: fc.constant(null),
  query: fc.record({ by: fc.constantFrom('id', 'address'), limit: fc.integer({ min: 1, max: 100 }) }),
  records: fc.array(
    fc.record({
      supplyPointId: fc.stringMatching(/^0[1-9]\d{20}$/),
      relation: fc.constantFrom('own' as const, 'other' as const, 'former' as const, 'none' as const),
      retailerCode: fc.option(fc.constantFrom('A0001', 'R0002'), { nil: null }),
      lastResort: fc.boolean(),
      shown: fc.subarray(['supply_point_id', 'address', 'holder_name']),
      masked: fc.dictionary(fc.constantFrom('phone', 'usage'), fc.constantFrom('other_retailer_customer' as const, 'network_only' as const)),
    }),
    { maxLength: 3 },
  ),
  policyVersion: fc.constant('v1'),
  emergencyId: fc.constant(null),
});

interface Built {
  links: LinkRecord[];
  seals: Seal[];
  events: readonly AccessEvent[];
}

/** A chain as the writer makes it: group commits of `every` events (the last one shorter), each sealed. */
function build(events: readonly AccessEvent[], every: number): Built {
  const chained = chainEvents(events, 1, GENESIS);
  const links = chained.map((c) => ({ seq: c.seq, prevHash: c.prevHash, hash: c.hash, canonical: canonicalEvent(c.seq, c.event), consistent: true }));
  const seals: Seal[] = [];
  let prevSeal = GENESIS;
  for (let first = 1; first <= chained.length; first += every) {
    const last = chained[Math.min(first + every - 1, chained.length) - 1]!;
    const seal = signSeal(
      KEY,
      { firstSeq: first, seq: last.seq, prevHash: chained[first - 1]!.prevHash, hash: last.hash, prevSeal },
      new Date('2026-11-01T00:00:00Z'),
    );
    seals.push(seal);
    prevSeal = sealDigest(seal);
  }
  return { links, seals, events };
}

/** Verifies as the store does: each link with the seal naming it, seals naming no stored event as strays. */
function verify(links: readonly LinkRecord[], seals: readonly Seal[], headSeq?: number, keys = KEYS, checkpoints: readonly Checkpoint[] = []) {
  const v = new ChainVerifier({ firstSeq: 1, prevHash: GENESIS, checkpoints, keys });
  const bySeq = new Map(seals.map((x) => [x.seq, x]));
  const used = new Set<number>();
  for (const l of links) {
    const s = used.has(l.seq) ? undefined : bySeq.get(l.seq);
    if (s !== undefined) used.add(l.seq);
    v.push(l, s ?? null);
  }
  for (const s of seals) if (!used.has(s.seq)) v.straySeal(s);
  return v.finish(headSeq);
}

/** An event as an attacker without the key would re-link it: content changed, hash recomputed. */
function forged(seq: number, prevHash: string, e: AccessEvent): LinkRecord {
  const canonical = canonicalEvent(seq, { ...e, purpose: 'forged' });
  return { seq, prevHash, hash: linkHash(prevHash, canonical), canonical, consistent: true };
}

const pick = (r: { firstBreak: { kind: string; seq: number } | null }) => ({ kind: r.firstBreak?.kind, seq: r.firstBreak?.seq });

test('canonical JSON ignores key order and omits undefined members', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ y: null, x: 'é' }], c: undefined }), '{"a":[{"x":"é","y":null}],"b":1}');
  fc.assert(fc.property(fc.jsonValue(), (v) => canonicalJson(v) === canonicalJson(JSON.parse(JSON.stringify(v)) as unknown)));
});

/** The encoding as docs/LOG-FORMAT.md states it, written plainly: what the fast encoder must equal. */
function canonicalBySpec(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite');
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalBySpec(v))).join(',')}]`;
  if (typeof value !== 'object') throw new TypeError(typeof value);
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalBySpec(v)}`).join(',')}}`;
}

test('canonical JSON equals the plain definition for any value: keys in UTF-16 order, undefined left out or null in arrays, dates as ISO text', () => {
  const anything = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.string({ unit: 'binary' }),
      fc.date({ noInvalidDate: true }),
      fc.array(tie('value')),
      fc.dictionary(fc.string({ unit: 'binary' }), tie('value')),
    ),
  })).value;
  fc.assert(
    fc.property(anything, (v) => {
      if (v === undefined) return;
      assert.equal(canonicalJson(v), canonicalBySpec(v));
    }),
    { numRuns: 2000 },
  );
  assert.equal(canonicalJson({ b: 1, B: 2, é: 3, '\u{1F600}': 4, '\uFF01': 5 }), canonicalBySpec({ b: 1, B: 2, é: 3, '\u{1F600}': 4, '\uFF01': 5 }));
  assert.throws(() => canonicalJson({ a: Number.POSITIVE_INFINITY }), TypeError);
  assert.throws(() => canonicalJson({ a: 1n }), TypeError);
  assert.throws(() => canonicalJson([() => 1]), TypeError);
});

test("a seal's signed text and digest are its canonical JSON, whatever the values", () => {
  fc.assert(
    fc.property(
      fc.record({
        firstSeq: fc.nat(),
        seq: fc.nat(),
        prevHash: fc.string(),
        hash: fc.string(),
        prevSeal: fc.string(),
        signedAt: fc.string(),
        keyId: fc.string(),
      }),
      (m) => {
        const s = signSeal(KEY, m, new Date(0));
        const all = { ...s, keyId: m.keyId, signedAt: m.signedAt };
        assert.equal(sealDigest(all), createHash('sha256').update(canonicalJson(all), 'utf8').digest('hex'));
        // Signed over the canonical JSON of the seven other members (with the real key's id, so it is found).
        const { signature: _s, ...signed } = { ...all, keyId: KEY.keyId };
        const bySpec = sign(null, Buffer.from(canonicalJson(signed), 'utf8'), KEY.privateKey).toString('base64');
        assert.equal(sealSignatureValid({ ...signed, signature: bySpec }, KEYS), true);
      },
    ),
    { numRuns: 200 },
  );
});

test('an untouched chain verifies, every seal included', () => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 7 }), (events, every) => {
      const b = build(events, every);
      const r = verify(b.links, b.seals, events.length);
      assert.equal(r.ok, true, JSON.stringify(r.firstBreak));
      assert.equal(r.lastSeq, events.length);
      assert.equal(r.seals, b.seals.length);
    }),
    { numRuns: 60 },
  );
});

type Tamper =
  | { op: 'modify'; i: number }
  | { op: 'modify_rehash'; i: number }
  | { op: 'delete'; i: number }
  | { op: 'insert'; i: number }
  | { op: 'swap_content'; i: number; j: number }
  | { op: 'truncate'; keep: number }
  | { op: 'rewrite_suffix'; i: number }
  | { op: 'append_unsealed' }
  | { op: 'drop_seal'; k: number };

test('every kind of tampering is detected, and the first broken event is named', () => {
  const arb = fc
    .tuple(
      fc.array(eventArb, { minLength: 4, maxLength: 30 }),
      fc.integer({ min: 1, max: 5 }),
      fc.nat(),
      fc.nat(),
      fc.constantFrom('modify', 'modify_rehash', 'delete', 'insert', 'swap_content', 'truncate', 'rewrite_suffix', 'append_unsealed', 'drop_seal'),
    )
    .map(([events, every, a, b, op]) => {
      const n = events.length;
      const i = a % (n - 1); // leaves at least one event after i
      const j = i + 1 + (b % (n - 1 - i));
      const t: Tamper =
        op === 'swap_content'
          ? { op, i, j }
          : op === 'truncate'
            ? { op, keep: a % n }
            : op === 'append_unsealed'
              ? { op }
              : op === 'drop_seal'
                ? { op, k: a }
                : { op, i };
      return { events, every, t };
    });
  fc.assert(
    fc.property(arb, ({ events, every, t }) => {
      const b = build(events, every);
      const links = [...b.links];
      let cps = b.seals;
      const n = events.length;
      // Expected: the kind of break and the sequence number it names (or null when the case cannot apply).
      let want: { kind: string; seq: number } | null;
      switch (t.op) {
        case 'modify': {
          const l = links[t.i]!;
          links[t.i] = { ...l, canonical: canonicalEvent(l.seq, { ...events[t.i]!, purpose: 'changed' }) };
          want = { kind: 'modified', seq: t.i + 1 };
          break;
        }
        case 'modify_rehash':
          links[t.i] = forged(t.i + 1, links[t.i]!.prevHash, events[t.i]!);
          // The event itself now looks whole; a checkpoint on it, or the next link, gives it away.
          want = cps.some((c) => c.seq === t.i + 1) ? { kind: 'checkpoint_mismatch', seq: t.i + 1 } : { kind: 'broken_link', seq: t.i + 2 };
          break;
        case 'delete':
          links.splice(t.i, 1);
          want = { kind: 'missing', seq: t.i + 1 };
          break;
        case 'insert':
          links.splice(t.i, 0, forged(t.i + 1, links[t.i]!.prevHash, events[t.i]!));
          want = cps.some((c) => c.seq === t.i + 1) ? { kind: 'checkpoint_mismatch', seq: t.i + 1 } : { kind: 'inserted', seq: t.i + 1 };
          break;
        case 'swap_content': {
          const li = links[t.i]!;
          const lj = links[t.j]!;
          links[t.i] = { ...li, canonical: lj.canonical };
          links[t.j] = { ...lj, canonical: li.canonical };
          want = { kind: 'modified', seq: t.i + 1 };
          break;
        }
        case 'truncate': {
          // Events cut from the end: the seals beyond the cut name events that are no longer there.
          links.splice(t.keep);
          want = { kind: 'truncated', seq: t.keep + 1 };
          // Without the head (an exported file), the signed seals alone must show it.
          const r = verify(links, cps);
          assert.deepEqual({ kind: r.firstBreak?.kind, seq: r.firstBreak?.seq }, want);
          return;
        }
        case 'rewrite_suffix': {
          // Re-link everything from i on, consistently: the seal covering event i + 1 no longer matches.
          let prev = links[t.i]!.prevHash;
          for (let k = t.i; k < n; k++) {
            links[k] = forged(k + 1, prev, events[k]!);
            prev = links[k]!.hash;
          }
          const c = cps.find((x) => x.seq >= t.i + 1);
          assert.ok(c !== undefined, 'the last event is always sealed');
          want = { kind: 'checkpoint_mismatch', seq: c.seq };
          break;
        }
        case 'append_unsealed':
          // The framing event: correctly chained after the head, but no seal of the writer covers it.
          links.push(forged(n + 1, links[n - 1]!.hash, events[0]!));
          want = { kind: 'unsealed', seq: n + 1 };
          return void assert.deepEqual(pick(verify(links, cps, n + 1)), want);
        case 'drop_seal': {
          const k = t.k % cps.length;
          want = { kind: 'unsealed', seq: cps[k]!.firstSeq };
          cps = cps.filter((_, x) => x !== k);
          break;
        }
      }
      const r = verify(links, cps, n);
      assert.equal(r.ok, false, `${t.op} not detected`);
      assert.deepEqual(pick(r), want, t.op);
    }),
    { numRuns: 400 },
  );
});

test('a seal signed with another key, or with a changed signature, is refused', () => {
  const events = fc.sample(eventArb, 6);
  const b = build(events, 3);
  const foreign = b.seals.map((c) => signSeal(OTHER_KEY, c, new Date(c.signedAt)));
  assert.deepEqual(pick(verify(b.links, foreign, 6)), { kind: 'bad_signature', seq: 3 });
  const bent = b.seals.map((c) => ({ ...c, signedAt: '2020-01-01T00:00:00.000Z' }));
  assert.deepEqual(pick(verify(b.links, bent, 6)), { kind: 'bad_signature', seq: 3 });
  // A seal whose range was moved leaves events uncovered.
  const moved = b.seals.map((c, i) => (i === 1 ? { ...c, firstSeq: c.firstSeq + 1 } : c));
  assert.deepEqual(pick(verify(b.links, moved, 6)), { kind: 'unsealed', seq: 4 });
  // The last seal vouches for the chain of seals before it: only its signature is needed…
  const lastForeign = b.seals.map((c, i) => (i === 1 ? signSeal(OTHER_KEY, c, new Date(c.signedAt)) : c));
  assert.deepEqual(pick(verify(b.links, lastForeign, 6)), { kind: 'bad_signature', seq: 6 });
  // …and a middle seal replaced by a validly signed one breaks the seal chain at the next seal.
  const six = fc.sample(eventArb, 6);
  const c = build(six, 2);
  const replaced = c.seals.map((x, i) => (i === 1 ? signSeal(KEY, { ...x, hash: x.hash }, new Date('2030-01-01T00:00:00Z')) : x));
  assert.deepEqual(pick(verify(c.links, replaced, 6)), { kind: 'bad_signature', seq: 6 });
});

test('version-1 checkpoints still verify where they fall, and a bad one is named', () => {
  const events = fc.sample(eventArb, 6);
  const b = build(events, 6);
  const cps = [2, 4].map((s) => signCheckpoint(KEY, s, b.links[s - 1]!.hash, new Date('2025-01-01T00:00:00Z')));
  const r = verify(b.links, b.seals, 6, KEYS, cps);
  assert.equal(r.ok, true);
  assert.equal(r.checkpoints.verified, 2);
  const foreign = [signCheckpoint(OTHER_KEY, 4, b.links[3]!.hash, new Date())];
  assert.deepEqual(pick(verify(b.links, b.seals, 6, KEYS, foreign)), { kind: 'bad_signature', seq: 4 });
});
