import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventColumns } from '../../src/audit/access-event.ts';
import { chainEvents, GENESIS } from '../../src/audit/chain.ts';
import { lastSeal, readHead } from '../../src/audit/log-reader.ts';
import { generateSigningKey, sealDigest, signSeal } from '../../src/audit/signing.ts';
import type { Db } from '../../src/store/db.ts';
import { accessEvent } from '../support/access-events.ts';
import { login, seededApp, writerOf, type Session } from '../support/app.ts';
import { NOW, SP, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * Readiness is public — a load balancer asks it without a session — so it answers in states, kinds and ages:
 * a disk by its label, never its path; the witness and the writer by their state, never their message (a halt
 * names sequence numbers and what cannot be accounted for, a witness failure the file's path). The messages
 * go in full to the server log and to the audit status, which only the audit permission reads.
 */
interface Ready {
  status: string;
  store: string;
  checks: {
    store: { state: string };
    log: { state: string; halted: boolean; witness: string };
    disk: { state: string; freeBytes: Record<string, number | null> };
  };
}

interface AuditStatusBody {
  writer: { halted: string | null; witnessError: string | null };
}

const dir = mkdtempSync(join(tmpdir(), 'gridwall-health-'));
// A witness under a path whose parent is a file: every seal fails to be published, and the log goes on.
const notADir = join(dir, 'not-a-dir');
writeFileSync(notADir, 'x');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Appends a made-up event through the store's own append path, sealed with a key that is not the writer's. */
async function slipIn(db: Db): Promise<number> {
  const head = await readHead(db);
  const [fake] = chainEvents([accessEvent(1, { occurredAt: NOW })], head.seq + 1, head.hash);
  if (fake === undefined) return assert.fail('no event chained');
  const before = await lastSeal(db);
  const seal = signSeal(
    generateSigningKey(),
    { firstSeq: fake.seq, seq: fake.seq, prevHash: head.hash, hash: fake.hash, prevSeal: before === null ? GENESIS : sealDigest(before) },
    NOW,
  );
  const row = { seq: fake.seq, prev_hash: fake.prevHash, hash: fake.hash, ...eventColumns(fake.event) };
  await db.query('SELECT * FROM access_log_append($1, $2, $3::jsonb, $4::jsonb)', [head.seq, head.hash, JSON.stringify([row]), JSON.stringify(seal)]);
  return fake.seq;
}

for (const store of STORES) {
  describe(`the public readiness answer on ${store.name}`, () => {
    const lines: Record<string, unknown>[] = [];
    const w = seededApp(store, {
      witnessFile: join(notADir, `witness-${store.name}.jsonl`),
      health: {
        disks: [
          { label: 'data', path: dir },
          { label: 'witness', path: notADir },
        ],
        minFreeDiskBytes: 0,
      },
      logger: { stream: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } },
    });
    let retail: Session;
    let compliance: Session;
    const read = () => w.app.inject({ method: 'GET', url: `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`, headers: { cookie: retail.cookie } });
    const ready = async (path = '/api/health/ready') => {
      const res = await w.app.inject({ method: 'GET', url: path });
      return { status: res.statusCode, text: res.body, body: res.json<Ready>() };
    };
    const auditStatus = async (s: Session) => w.app.inject({ method: 'GET', url: '/api/audit/status', headers: { cookie: s.cookie } });
    /** The server log's error lines whose `reason` matches. */
    const alerts = (reason: RegExp) => lines.filter((l) => l['level'] === 50 && typeof l['reason'] === 'string' && reason.test(l['reason']));

    before(async () => {
      retail = await login(w.app, USERS.retail);
      compliance = await login(w.app, USERS.compliance);
      // A read: the writer commits and seals it, and cannot publish the seal to the witness.
      assert.equal((await read()).statusCode, 200);
    });

    test('names each disk by its label and the witness by its state: the public answer holds no path and no message', async () => {
      const r = await ready();
      assert.equal(r.status, 200, 'a witness that cannot be written does not stop the reads');
      assert.deepEqual(Object.keys(r.body).sort(), ['checks', 'status', 'store']);
      assert.deepEqual(Object.keys(r.body.checks.disk.freeBytes), ['data', 'witness']);
      assert.ok((r.body.checks.disk.freeBytes['data'] ?? 0) > 0);
      assert.deepEqual([r.body.checks.log.state, r.body.checks.log.halted, r.body.checks.log.witness], ['ok', false, 'failing']);
      assert.ok(!r.text.includes('/'), `a path in the public answer: ${r.text}`);
      assert.doesNotMatch(r.text, /not-a-dir|witness-|could not be published|ENOTDIR/);
    });

    test("the witness failure's message reaches the server log and the audit status, which the audit permission alone reads", async () => {
      const res = await auditStatus(compliance);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(res.json<AuditStatusBody>().writer.witnessError ?? '', /could not be published to the witness .*not-a-dir/);
      assert.equal((await auditStatus(retail)).statusCode, 403);
      assert.equal(alerts(/could not be published to the witness .*not-a-dir/).length, 1, JSON.stringify(lines.filter((l) => l['level'] === 50)));
      // Every commit tries the witness again; the server log says it once (within a minute), not once a commit.
      for (let i = 0; i < 4; i++) assert.equal((await read()).statusCode, 200);
      assert.equal(writerOf(w.app).status().witnessError === null, false, 'still failing');
      assert.equal(alerts(/could not be published to the witness/).length, 1);
    });

    // Last: it stops this app's writer.
    test('a halted writer: readiness says log_halted and halted: true; why, only the server log and the audit status say', async () => {
      const seq = await slipIn(w.db);
      assert.equal((await read()).statusCode, 503);
      for (const path of ['/api/health/ready', '/api/health']) {
        const r = await ready(path);
        assert.equal(r.status, 503);
        assert.deepEqual([r.body.status, r.body.checks.log.state, r.body.checks.log.halted], ['log_halted', 'failing', true]);
        assert.ok(!r.text.includes('/'), `a path in the public answer: ${r.text}`);
        assert.doesNotMatch(r.text, /cannot be accounted for|events \d/);
      }
      const reason = new RegExp(`events ${seq}–${seq}.*cannot be accounted for`);
      assert.match((await auditStatus(compliance)).json<AuditStatusBody>().writer.halted ?? '', reason);
      assert.equal(alerts(reason).length, 1, 'one line in the server log when the writer stops the line');
    });
  });
}
