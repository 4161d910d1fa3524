import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessEvent, loggedRecord } from '../support/access-events.ts';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { AccessEvent } from '../../src/audit/access-event.ts';
import { canonicalEvent, eventLine, linkHash } from '../../src/audit/chain.ts';
import { exportJsonl } from '../../src/audit/export.ts';
import { verifyExportFile } from '../../src/audit/file-verify.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { generateSigningKey, publicKeys, sealDigest, signSeal, type Seal } from '../../src/audit/signing.ts';
import { readWitness, sealLine, WitnessFile } from '../../src/audit/witness.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPglite } from '../../src/store/pglite.ts';

// Evidence that verifies without gridwall (issue 15): tools/verify-log.py is written from docs/LOG-FORMAT.md
// alone, in another language. Both verifiers read the same exports — untouched, and tampered in each way the
// issue names — and must give the same answer, which must also be the expected one.

const PYTHON = '/usr/bin/python3';
const KEY = generateSigningKey();
const ATTACKER = generateSigningKey();

function event(i: number, over: Partial<AccessEvent> = {}): AccessEvent {
  return accessEvent(i, {
    occurredAt: new Date(Date.UTC(2026, 10, 5, 1, 0, i)),
    employment: i % 2 === 0 ? 'employee' : 'contractor',
    query: { by: 'id', note: 'say "hi"\n\u2028' },
    records: [loggedRecord(i, { masked: { phone: 'other_retailer_customer' } })],
    ...over,
  });
}

let dir: string;
let lines: string[];
/** An export of a period with no event in it, from the same log. */
let empty: string[];
let witness: Seal[];
let pub: string;
let attackerPub: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gridwall-independent-'));
  pub = join(dir, 'public.pem');
  writeFileSync(pub, KEY.publicKeyPem);
  attackerPub = join(dir, 'attacker.pem');
  writeFileSync(attackerPub, ATTACKER.publicKeyPem);
  const db = await openPglite(null);
  await migrate(db);
  const log = new GroupCommitLog(db, { key: KEY, witness: new WitnessFile(join(dir, 'witness.jsonl')), checkpointEvery: 8 });
  // Group commits of 1 to 5 events: 40 events in 13 batches, ending at 3, 4, 9, 11, 15, 16, 19, 24, 26, 30, 33, 38, 40.
  let i = 0;
  for (const size of [3, 1, 5, 2, 4, 1, 3, 5, 2, 4, 3, 5, 2]) {
    await Promise.all(Array.from({ length: size }, () => log.append(event(i++))));
  }
  await log.close();
  const out = createWriteStream(join(dir, 'export.jsonl'));
  await exportJsonl(db, out, { from: null, to: null }, new Date('2026-11-26T00:00:00Z'));
  out.end();
  await finished(out);
  // A period with nothing in it (from after the last event, up to the head).
  const none = createWriteStream(join(dir, 'empty.jsonl'));
  await exportJsonl(db, none, { from: new Date('2026-11-20T00:00:00Z'), to: null }, new Date('2026-11-26T00:00:00Z'));
  none.end();
  await finished(none);
  empty = readFileSync(join(dir, 'empty.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  await db.close();
  lines = readFileSync(join(dir, 'export.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  witness = readWitness(join(dir, 'witness.jsonl'));
  // The cases below name events by where the batches end: check that they do.
  assert.deepEqual(
    lines.filter(isSeal).map((l) => sealOf(l).seq),
    [3, 4, 9, 11, 15, 16, 19, 24, 26, 30, 33, 38, 40],
  );
  assert.ok(witness.length >= 3);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const isEvent = (l: string) => l.startsWith('{"hash"');
const isSeal = (l: string) => l.startsWith('{"seal"');
const seqOf = (l: string) => Number(/"seq":(\d+)/.exec(l.slice(l.lastIndexOf('"seq":')))?.[1]);
const at = (ls: readonly string[], seq: number) => ls.findIndex((l) => isEvent(l) && seqOf(l) === seq);
const sealOf = (l: string) => (JSON.parse(l) as { seal: Seal }).seal;
/** The closing line recomputed for what the lines now hold — what a careful attacker writes. */
function close(ls: readonly string[]): string[] {
  const body = ls.filter((l) => !l.startsWith('{"end"'));
  const events = body.filter(isEvent);
  const last = events[events.length - 1];
  return [
    ...body,
    JSON.stringify({
      end: { events: events.length, lastSeq: last === undefined ? null : seqOf(last), lastHash: last === undefined ? null : JSON.parse(last).hash },
    }),
  ];
}
/** Every seal re-signed with `key`, the chain of seals recomputed, as an attacker with that key would. */
function resignAll(ls: readonly string[], key = ATTACKER): string[] {
  let prevSeal: string | null = null;
  return ls.map((l) => {
    if (!isSeal(l)) return l;
    const s = sealOf(l);
    const again = signSeal(key, { ...s, prevSeal: prevSeal ?? s.prevSeal }, new Date());
    prevSeal = sealDigest(again);
    return sealLine(again);
  });
}

/** The lines with the header's members changed. */
function withHeader(ls: readonly string[], over: Record<string, unknown>): string[] {
  return [JSON.stringify({ ...(JSON.parse(ls[0]!) as Record<string, unknown>), ...over }), ...ls.slice(1)];
}

/** The export's header says it was taken at this instant (the export is of the whole log: `"to":null`). */
const EXPORTED_AT = '2026-11-26T00:00:00.000Z';

/** The log up to its head cut after event 30 and its seal — as an export of a database whose tail was cut. */
const cutAt30 = () => close(lines.slice(0, at(lines, 30) + 2));

/** The witness with its seals for events after `seq` signed (with the writer's key) at `signedAt`. */
function witnessSignedAt(seq: number, signedAt: string, key = KEY): Seal[] {
  return witness.map((s) => (s.seq > seq ? signSeal(key, s, new Date(signedAt)) : s));
}

/** Re-chains event lines from index `from` on after a change, as anyone can (the chain function is public). */
function rechain(ls: string[], from: number): string[] {
  const out = [...ls];
  let prev = (JSON.parse(out.slice(0, from).filter(isEvent).pop() ?? JSON.stringify({ hash: JSON.parse(out[0]!).anchor })) as { hash: string }).hash;
  for (let k = from; k < out.length; k++) {
    const l = out[k]!;
    if (!isEvent(l)) continue;
    const canonical = l.slice(157, -1);
    const h = linkHash(prev, canonical);
    out[k] = eventLine(h, prev, canonical);
    prev = h;
  }
  return out;
}

interface Case {
  readonly name: string;
  readonly lines: () => string[];
  readonly keys: 'given' | 'header' | 'attacker';
  readonly witness?: () => Seal[];
  /** The expected answer (a function when it depends on what the writer produced). */
  readonly want: Want | (() => Want);
}

type Want = { ok: boolean; kind?: string; seq?: number };

const CASES: Case[] = [
  { name: 'untouched, with the published key', lines: () => lines, keys: 'given', want: { ok: true } },
  { name: 'untouched, with the keys in its header', lines: () => lines, keys: 'header', want: { ok: true } },
  { name: 'untouched, against the witness', lines: () => lines, keys: 'given', witness: () => witness, want: { ok: true } },
  {
    name: 'an event edited',
    lines: () => lines.map((l, i) => (i === at(lines, 6) ? l.replace('仙台', '盛岡') : l)),
    keys: 'given',
    want: { ok: false, kind: 'modified', seq: 6 },
  },
  {
    name: 'an event deleted inside a batch',
    lines: () => close(lines.filter((_, i) => i !== at(lines, 8))),
    keys: 'given',
    want: { ok: false, kind: 'missing', seq: 8 },
  },
  {
    name: 'the last event of a batch deleted',
    lines: () => close(lines.filter((_, i) => i !== at(lines, 4))),
    keys: 'given',
    want: { ok: false, kind: 'malformed', seq: 4 },
  },
  {
    name: 'two events swapped',
    lines: () => {
      const c = [...lines];
      const a = at(c, 10);
      const b = at(c, 11);
      [c[a], c[b]] = [c[b]!, c[a]!];
      return c;
    },
    keys: 'given',
    want: { ok: false, kind: 'missing', seq: 10 },
  },
  {
    // The framing event of the issue, made up and slipped in between two batches, the chain re-linked after it.
    name: 'a made-up event between batches, the chain re-hashed after it',
    lines: () => {
      const i = at(lines, 4) + 2; // after event 4 and its seal: the start of the next batch (events 5…)
      const fake = canonicalEvent(
        5,
        event(99, {
          personId: 'p-demo-retail',
          userId: 'demo-retail',
          side: 'retail',
          principalClass: 'affiliated_retail',
          records: [
            {
              supplyPointId: '0200000000000000000042',
              relation: 'other',
              retailerCode: 'R0002',
              lastResort: false,
              shown: ['holder_name', 'phone'],
              masked: {},
            },
          ],
        }),
      );
      const renumbered = lines.map((l) =>
        isEvent(l) && seqOf(l) >= 5 ? `${l.slice(0, 157)}${l.slice(157, -1).replace(/"seq":(\d+)/, (_, n: string) => `"seq":${Number(n) + 1}`)}}` : l,
      );
      return close(rechain([...renumbered.slice(0, i), eventLine('0'.repeat(64), '0'.repeat(64), fake), ...renumbered.slice(i).filter((l) => !isSeal(l))], i));
    },
    keys: 'given',
    want: { ok: false, kind: 'unsealed', seq: 5 },
  },
  {
    name: 'a made-up event appended after the last batch',
    lines: () => {
      const body = lines.slice(0, -1);
      const last = JSON.parse(body.filter(isEvent).pop()!) as { hash: string };
      const canonical = canonicalEvent(41, event(41));
      return close([...body, eventLine(linkHash(last.hash, canonical), last.hash, canonical)]);
    },
    keys: 'given',
    want: { ok: false, kind: 'unsealed', seq: 41 },
  },
  { name: 'a seal line removed', lines: () => lines.filter((_, i) => i !== at(lines, 9) + 1), keys: 'given', want: { ok: false, kind: 'unsealed', seq: 5 } },
  {
    name: 'a seal with a changed signature',
    lines: () => lines.map((l) => (isSeal(l) && sealOf(l).seq === 15 ? sealLine({ ...sealOf(l), signature: sealOf(lines.find(isSeal)!).signature }) : l)),
    keys: 'given',
    want: { ok: false, kind: 'bad_signature', seq: 15 },
  },
  {
    name: 'every seal re-signed by an attacker who also replaced the header keys: accepted only on the header keys',
    lines: () => resignAll(lines).map((l, i) => (i === 0 ? JSON.stringify({ ...JSON.parse(l), keys: [ATTACKER.publicKeyPem] }) : l)),
    keys: 'header',
    want: { ok: true },
  },
  {
    name: 'every seal re-signed by an attacker, checked with the published key',
    lines: () => resignAll(lines),
    keys: 'given',
    want: { ok: false, kind: 'bad_signature', seq: 40 },
  },
  {
    name: 'every seal re-signed by an attacker who left the chain of seals as it was',
    lines: () => lines.map((l) => (isSeal(l) ? sealLine(signSeal(ATTACKER, sealOf(l), new Date())) : l)),
    keys: 'given',
    want: { ok: false, kind: 'bad_signature', seq: 3 },
  },
  { name: "untouched, checked with a key that is not the writer's", lines: () => lines, keys: 'attacker', want: { ok: false, kind: 'bad_signature', seq: 40 } },
  {
    name: 'a middle seal replaced by one validly signed: the next seal names another',
    lines: () => lines.map((l) => (isSeal(l) && sealOf(l).seq === 19 ? sealLine(signSeal(KEY, sealOf(l), new Date('2030-01-01T00:00:00Z'))) : l)),
    keys: 'given',
    want: { ok: false, kind: 'bad_signature', seq: 24 },
  },
  { name: 'cut off (no closing line)', lines: () => lines.slice(0, at(lines, 30) + 1), keys: 'given', want: { ok: false, kind: 'truncated', seq: 31 } },
  {
    name: 'cut at a batch end with the closing line rewritten: a valid prefix on its own',
    lines: cutAt30,
    keys: 'given',
    want: { ok: true },
  },
  // A bounded period ends where it ends: the witness's later seals are not this file's to check.
  {
    name: 'a period that ends at a batch end, against the witness',
    lines: () => withHeader(cutAt30(), { period: { from: null, to: '2026-11-05T01:00:30.000Z' } }),
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T12:00:00.000Z'),
    want: { ok: true },
  },
  // A bounded period claims every event written before its end: a witness seal past the file's end signed more
  // than two hours before that is a cut tail too.
  {
    name: 'a period cut short, against the witness: a seal past its end signed well before the period ends',
    lines: () => withHeader(cutAt30(), { period: { from: null, to: '2026-11-26T00:00:00.000Z' } }),
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T12:00:00.000Z'),
    want: { ok: false, kind: 'truncated', seq: 31 },
  },
  {
    name: 'a period cut short, with a period end that is not a timestamp: unchecked past its end',
    lines: () => withHeader(cutAt30(), { period: { from: null, to: 'end of November' } }),
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T12:00:00.000Z'),
    want: { ok: true },
  },
  // An export of the log up to its head (`"to":null`) claims every event as of `exportedAt`: a witness seal past
  // its end signed more than two hours before then is a cut tail (docs/LOG-FORMAT.md, step 7); one signed later,
  // within the margin (perhaps not committed when the export read the log) or after, is not held against it.
  {
    name: 'the log up to its head, its tail cut, against the witness: a seal past its end signed before the export',
    lines: () => {
      assert.equal((JSON.parse(lines[0]!) as { exportedAt: string }).exportedAt, EXPORTED_AT);
      return cutAt30();
    },
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T12:00:00.000Z'),
    want: { ok: false, kind: 'truncated', seq: 31 },
  },
  {
    name: 'the log up to its head, ending at a batch end, against the witness: the seals past its end signed after the export',
    lines: cutAt30,
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-26T00:00:00.001Z'),
    want: { ok: true },
  },
  {
    name: 'the log up to its head, ending at a batch end, against the witness: the seals past its end signed within the margin before the export (a commit in flight)',
    lines: cutAt30,
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T22:00:00.001Z'),
    want: { ok: true },
  },
  {
    name: 'the log up to its head, its tail cut, against the witness: a seal past its end signed just beyond the margin',
    lines: cutAt30,
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T21:59:59.999Z'),
    want: { ok: false, kind: 'truncated', seq: 31 },
  },
  {
    name: 'the log up to its head, its tail cut, with an exportedAt of the form that is no instant (30 February): as a bounded period',
    lines: () => withHeader(cutAt30(), { exportedAt: '2026-02-30T00:00:00.000Z' }),
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-01-25T12:00:00.000Z'),
    want: { ok: true },
  },
  {
    name: 'the log up to its head, its tail cut, against a witness whose seal past its end is signed by someone else',
    lines: cutAt30,
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T12:00:00.000Z', ATTACKER),
    want: () => ({ ok: false, kind: 'bad_signature', seq: witness.find((s) => s.seq > 30)!.seq }),
  },
  {
    name: 'the log up to its head, its tail cut, with an exportedAt that is not a timestamp: as a bounded period',
    lines: () => withHeader(cutAt30(), { exportedAt: 'yesterday' }),
    keys: 'given',
    witness: () => witnessSignedAt(30, '2026-11-25T12:00:00.000Z'),
    want: { ok: true },
  },
  // Sequence numbers and links.
  {
    name: 'a forked chain: a second event 12, linked to event 11, after the first',
    lines: () => {
      const i = at(lines, 12);
      const prev = (JSON.parse(lines[i]!) as { prev: string }).prev;
      const canonical = canonicalEvent(12, event(12, { userId: 'u-fork' }));
      return [...lines.slice(0, i + 1), eventLine(linkHash(prev, canonical), prev, canonical), ...lines.slice(i + 1)];
    },
    keys: 'given',
    want: { ok: false, kind: 'inserted', seq: 12 },
  },
  {
    name: 'events out of order: an older event copied in after a later one',
    lines: () => {
      const c = [...lines];
      c.splice(at(c, 20) + 1, 0, c[at(c, 3)]!);
      return c;
    },
    keys: 'given',
    want: { ok: false, kind: 'out_of_order', seq: 3 },
  },
  {
    name: "events out of order: a batch's events in reverse",
    lines: () => {
      const c = [...lines];
      const from = at(c, 5);
      const to = at(c, 9);
      c.splice(from, to - from + 1, ...c.slice(from, to + 1).reverse());
      return c;
    },
    keys: 'given',
    want: { ok: false, kind: 'missing', seq: 5 },
  },
  {
    name: "a broken link: event 14's prev changed to the hash of event 12",
    lines: () =>
      lines.map((l, i) => (i === at(lines, 14) ? `${l.slice(0, 83)}${(JSON.parse(lines[at(lines, 12)]!) as { hash: string }).hash}${l.slice(147)}` : l)),
    keys: 'given',
    want: { ok: false, kind: 'broken_link', seq: 14 },
  },
  {
    name: "a broken link: event 14's prev changed to the hash of event 12 and the line re-hashed",
    lines: () =>
      lines.map((l, i) => {
        if (i !== at(lines, 14)) return l;
        const prev = (JSON.parse(lines[at(lines, 12)]!) as { hash: string }).hash;
        const canonical = l.slice(157, -1);
        return eventLine(linkHash(prev, canonical), prev, canonical);
      }),
    keys: 'given',
    want: { ok: false, kind: 'broken_link', seq: 14 },
  },
  // Keys in the header that are not Ed25519 public keys are skipped (and reported), never a crash.
  {
    name: "an unparsable public key in the header, beside the writer's",
    lines: () => withHeader(lines, { keys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'not a key', 42, KEY.publicKeyPem] }),
    keys: 'header',
    want: { ok: true },
  },
  {
    name: 'only an unparsable public key in the header',
    lines: () => withHeader(lines, { keys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'] }),
    keys: 'header',
    want: { ok: false, kind: 'bad_signature', seq: 40 },
  },
  // How lines are read (docs/LOG-FORMAT.md, notes for implementers): as JSON, one member, typed members.
  {
    name: 'a seal line with spaces in it',
    lines: () => lines.map((l) => (isSeal(l) && sealOf(l).seq === 9 ? l.replace('{"seal":', '{ "seal" : ') : l)),
    keys: 'given',
    want: { ok: true },
  },
  {
    name: 'a closing line with an extra member',
    lines: () => lines.map((l) => (l.startsWith('{"end"') ? `${l.slice(0, -1)},"x":1}` : l)),
    keys: 'given',
    want: { ok: false, kind: 'malformed', seq: 41 },
  },
  {
    name: 'a seal whose hash is null',
    lines: () => lines.map((l) => (isSeal(l) && sealOf(l).seq === 9 ? l.replace(/"hash":"[0-9a-f]{64}"/, '"hash":null') : l)),
    keys: 'given',
    want: { ok: false, kind: 'malformed', seq: 10 },
  },
  {
    name: "the last seal's signature with characters appended",
    lines: () => lines.map((l) => (isSeal(l) && sealOf(l).seq === 40 ? l.replace(/"signature":"([^"]+)"/, '"signature":"$1!!"') : l)),
    keys: 'given',
    want: { ok: false, kind: 'bad_signature', seq: 40 },
  },
  {
    name: 'a witness seal from another history',
    lines: () => lines,
    keys: 'given',
    witness: () => {
      const w = witness[1]!;
      return [signSeal(KEY, { ...w, hash: 'f'.repeat(64) }, new Date())];
    },
    want: () => ({ ok: false, kind: 'checkpoint_mismatch', seq: witness[1]!.seq }),
  },
  {
    name: 'a witness seal signed by someone else',
    lines: () => lines,
    keys: 'given',
    witness: () => [signSeal(ATTACKER, witness[0]!, new Date())],
    want: () => ({ ok: false, kind: 'bad_signature', seq: witness[0]!.seq }),
  },
  { name: 'a line after the closing line', lines: () => [...lines, lines[1]!], keys: 'given', want: { ok: false, kind: 'malformed', seq: 41 } },
  {
    name: 'a seal moved after a later event',
    lines: () => {
      const c = [...lines];
      const s = at(c, 4) + 1;
      const [seal] = c.splice(s, 1);
      c.splice(s + 1, 0, seal!);
      return c;
    },
    keys: 'given',
    want: { ok: false, kind: 'malformed', seq: 4 },
  },
  {
    name: 'a period with no event in it, up to the head, against a witness signed long before: it starts after the head, nothing is missing',
    lines: () => {
      assert.deepEqual([(JSON.parse(empty[0]!) as { firstSeq: number }).firstSeq, empty.length], [41, 2], 'a header after the head and the closing line');
      return empty;
    },
    keys: 'given',
    witness: () => witnessSignedAt(0, '2026-11-20T12:00:00.000Z'),
    want: { ok: true },
  },
  {
    name: 'a period that starts inside a batch',
    lines: () => {
      const first = at(lines, 12);
      const head = JSON.parse(lines[0]!) as Record<string, unknown>;
      const prev = (JSON.parse(lines[first]!) as { prev: string }).prev;
      return close([JSON.stringify({ ...head, firstSeq: 12, anchor: prev }), ...lines.slice(first)]);
    },
    keys: 'given',
    want: { ok: true },
  },
];

function python(file: string, keyFiles: string[], witnessFile: string | null): { ok: boolean; kind?: string; seq?: number } {
  const r = spawnSync(
    PYTHON,
    ['tools/verify-log.py', file, '--json', ...keyFiles.flatMap((k) => ['--public-key', k]), ...(witnessFile === null ? [] : ['--witness', witnessFile])],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.ok(r.status === 0 || r.status === 1, `tools/verify-log.py exited ${r.status}: ${r.stderr}${r.error?.message ?? ''}`);
  const j = JSON.parse(r.stdout) as { ok: boolean; firstBreak: { kind: string; seq: number } | null };
  return j.ok ? { ok: true } : { ok: false, kind: j.firstBreak?.kind ?? '', seq: j.firstBreak?.seq ?? -1 };
}

test('the independent Python verifier runs here (Debian python3-cryptography)', () => {
  const r = spawnSync(PYTHON, ['-c', 'import cryptography.hazmat.primitives.asymmetric.ed25519'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${PYTHON} with cryptography is needed (apt-get install python3-cryptography): ${r.stderr}${r.error?.message ?? ''}`);
});

test("the independent verifier's own tests pass (tools/test_verify_log.py, its own generator)", () => {
  const r = spawnSync(PYTHON, ['-m', 'unittest', 'tools/test_verify_log.py'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Ran \d+ tests/);
});

for (const c of CASES) {
  test(`both verifiers agree: ${c.name}`, async () => {
    const file = join(dir, 'case.jsonl');
    writeFileSync(file, `${c.lines().join('\n')}\n`);
    let witnessFile: string | null = null;
    const w = c.witness?.();
    if (w !== undefined) {
      witnessFile = join(dir, 'case-witness.jsonl');
      writeFileSync(witnessFile, w.map((s) => `${sealLine(s)}\n`).join(''));
    }
    const keyFiles = c.keys === 'given' ? [pub] : c.keys === 'attacker' ? [attackerPub] : [];
    const keys = c.keys === 'header' ? null : publicKeys([readFileSync(keyFiles[0]!, 'utf8')]);
    const r = await verifyExportFile(file, keys, w === undefined ? {} : { witness: w });
    const ours = r.ok ? { ok: true } : { ok: false, kind: r.firstBreak?.kind ?? '', seq: r.firstBreak?.seq ?? -1 };
    const theirs = python(file, keyFiles, witnessFile);
    const want = typeof c.want === 'function' ? c.want() : c.want;
    assert.deepEqual(ours, want, `gridwall: ${r.firstBreak?.detail ?? ''}`);
    assert.deepEqual(theirs, want, 'tools/verify-log.py');
  });
}
