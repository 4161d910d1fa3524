import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../../src/analysis/duck.ts';
import { loadLive } from '../../src/analysis/live.ts';
import type { ArchiveUse } from '../../src/analysis/log-archive.ts';
import { liveReport, livePeriodBounds } from '../../src/analysis/review.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

const OCTOBER = new Date('2026-10-20T10:00:00+09:00');
const PERIOD = { from: '2026-10-01', to: '2026-11-01' };
const CLOSED = 'access_log_y2026m10';

/**
 * The live analysis reads closed months from Parquet files exported once (issue 21). The files are a cache:
 * every report from them must be the report from the database, and a file must never be served for a
 * partition whose content has changed since it was made.
 */
for (const store of STORES) {
  describe(`the Parquet archive of closed months on ${store.name}`, () => {
    let now = OCTOBER;
    const w = seededApp(store, { now: () => now });
    // The archive directory does not exist yet: the first report makes it (for the operator alone, below).
    const base = mkdtempSync(join(tmpdir(), 'gridwall-archive-test-'));
    const dir = join(base, 'archive');
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

    /** What a load from the archive did (exported, reused, read from the database). */
    async function archiveUse(): Promise<ArchiveUse> {
      const e = await openEngine({ memoryLimit: '256MB', threads: 1 });
      try {
        return await loadLive(e, w.db, livePeriodBounds(PERIOD.from, PERIOD.to), { archiveDir: dir });
      } finally {
        e.close();
      }
    }
    const files = () => readdirSync(dir).filter((f) => f.endsWith('.parquet'));

    before(async () => {
      // October (closed once November has events): own customers and others' (masked), twelve refused probes.
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      for (const sp of [SP.OWN_A, SP.SWITCHED, SP.R3])
        assert.equal((await get(retail, `/api/supply-points/${sp}?purpose=own_customer_service`)).statusCode, 200);
      const admin = await login(w.app, USERS.admin);
      for (let i = 0; i < 12; i++) assert.equal((await get(admin, `/api/supply-points/${SP.R3}?purpose=audit_review`)).statusCode, 403);
      // November, the open month.
      now = NOW;
      const later = await login(w.app, USERS.retail, TERMINALS.MISPLACED);
      assert.equal((await get(later, `/api/supply-points/${SP.OWN_A}?purpose=own_customer_service`)).statusCode, 200);
    });
    after(() => rmSync(base, { recursive: true, force: true }));

    test('a report from the archive has the same tables and findings as one from the database; a closed month is exported once', async () => {
      const fromDb = await liveReport(w.db, PERIOD);
      assert.equal(fromDb.rows.read, 16, 'three reads and twelve probes in October, one read in November');
      assert.ok(fromDb.findings.some((f) => f.rule === 'probing'));
      assert.deepEqual(await liveReport(w.db, PERIOD, { archiveDir: dir }), fromDb);
      assert.equal(files().length, 1);
      // The files hold who read which supply point: the directory is made readable by its owner only.
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.ok(files()[0]?.startsWith(`${CLOSED}.`));
      assert.deepEqual(await archiveUse(), { reused: [CLOSED], exported: [], fromDatabase: ['access_log_y2026m11'] });
      assert.deepEqual(await liveReport(w.db, PERIOD, { archiveDir: dir }), fromDb, 'from the file exported before');
    });

    test('a closed month that received an event after its export is exported again, never served from the old file', async () => {
      const before = files();
      now = new Date('2026-10-25T10:00:00+09:00');
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      assert.equal((await get(retail, `/api/supply-points/${SP.R3}?purpose=own_customer_service`)).statusCode, 200);
      now = NOW;
      const fromDb = await liveReport(w.db, PERIOD);
      assert.equal(fromDb.rows.read, 17);
      assert.deepEqual(await liveReport(w.db, PERIOD, { archiveDir: dir }), fromDb);
      assert.equal(files().length, 1, 'the stale file is removed');
      assert.notDeepEqual(files(), before);
      assert.deepEqual((await archiveUse()).reused, [CLOSED]);
    });

    test('an event taken out of a closed month behind the log’s back: the partition is exported again', async () => {
      // The owner, with the append-only triggers off, deletes an event in the middle of October: the ends of
      // the chain are unchanged, the event count is not.
      await w.owner.transaction(async (tx) => {
        await tx.query(`SET LOCAL session_replication_role = replica`);
        await tx.query(`DELETE FROM ${CLOSED} WHERE seq = (SELECT min(seq) + 1 FROM ${CLOSED})`);
      });
      const fromDb = await liveReport(w.db, PERIOD);
      assert.equal(fromDb.rows.read, 16);
      assert.deepEqual(await archiveUse(), { reused: [], exported: [CLOSED], fromDatabase: ['access_log_y2026m11'] });
      assert.deepEqual(await liveReport(w.db, PERIOD, { archiveDir: dir }), fromDb);
    });

    test('a file in the archive that was made for other content is not used, whatever its name', async () => {
      const [name] = files();
      assert.ok(name !== undefined);
      // Another file under the expected name: right columns, no events, no key of ours inside.
      const e = await openEngine({ memoryLimit: '256MB', threads: 1 });
      try {
        await e.run(`COPY (SELECT * FROM read_parquet('${join(dir, name)}') LIMIT 0) TO '${join(dir, name)}.other' (FORMAT parquet)`);
      } finally {
        e.close();
      }
      const { renameSync } = await import('node:fs');
      renameSync(join(dir, `${name}.other`), join(dir, name));
      assert.deepEqual((await archiveUse()).exported, [CLOSED]);
      assert.deepEqual(await liveReport(w.db, PERIOD, { archiveDir: dir }), await liveReport(w.db, PERIOD));
    });
  });
}
