import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scanLive } from '../../src/analysis/review.ts';
import type { Db } from '../../src/store/db.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';

/**
 * Two scans of one period started together (the route pressed twice, the digest beside a manual scan) end as
 * one scan does (review of issue 20): each scanned period is folded once, so an open finding's count is not
 * raised twice by the same evidence. On PostgreSQL the two are made to overlap for certain: a lock on the
 * findings table, held by the test, stops the first scan's first fold until the second scan has reached the
 * same finding too.
 */
const DAY = '2026-11-01'; // NOW in Japan time
const MINUTE = 60_000;

interface Counted {
  readonly rule: string;
  readonly subject: string;
  readonly occurrences: number;
  readonly status: string;
}

async function openFindings(db: Db): Promise<Counted[]> {
  const { rows } = await db.query<{ rule: string; subject_key: string; occurrences: number; status: string }>(
    `SELECT rule, subject_key, occurrences, status FROM findings WHERE status <> 'resolved' ORDER BY rule, subject_key`,
  );
  return rows.map((r) => ({ rule: r.rule, subject: r.subject_key, occurrences: Number(r.occurrences), status: r.status }));
}

/** The sessions waiting, directly or down a chain, on the lock `blocker` holds. */
async function waitingOn(db: Db, blocker: number): Promise<number> {
  const { rows } = await db.query<{ pid: number; b: number[] }>(`SELECT pid, pg_blocking_pids(pid) AS b FROM pg_stat_activity WHERE wait_event_type = 'Lock'`);
  const behind = new Set<number>([blocker]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows)
      if (!behind.has(r.pid) && r.b.some((p) => behind.has(Number(p)))) {
        behind.add(r.pid);
        grew = true;
      }
  }
  return behind.size - 1;
}

for (const store of STORES) {
  describe(`concurrent scans of one period on ${store.name}`, () => {
    const w = seededApp(store, { now: () => NOW }, seedEmergencyRoles);
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

    test('two scans of the same period started together leave the counts one scan leaves', async () => {
      // A live finding the scan will meet (emergency attempts outside a declared emergency), and the misplaced
      // terminal the fixture has, which only a scan finds.
      const admin = await login(w.app, USERS.admin);
      const registered = await w.app.inject({
        method: 'PUT',
        url: '/api/emergency-support/p-retail',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        payload: { fields: ['holder_name', 'phone'] },
      });
      assert.equal(registered.statusCode, 200, registered.body);
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      for (const sp of [SP.R3, SP.OWN_A]) {
        const res = await get(retail, `/api/supply-points/${sp}?purpose=emergency_support&reason=${encodeURIComponent('停電の連絡')}`);
        assert.equal(res.statusCode, 403, res.body);
      }
      const before = await openFindings(w.db);
      assert.deepEqual(
        before.map((f) => [f.rule, f.occurrences]),
        [['emergency_outside_window', 2]],
      );

      const at = new Date(NOW.getTime() + 10 * MINUTE);
      let scans: Promise<Awaited<ReturnType<typeof scanLive>>[]>;
      if (store.name === 'postgres') {
        let release = (): void => undefined;
        const held = new Promise<void>((resolve) => (release = resolve));
        let blocker = 0;
        const locked = w.owner.transaction(async (tx) => {
          blocker = Number((await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
          await tx.exec('LOCK TABLE findings IN SHARE ROW EXCLUSIVE MODE');
          await held;
        });
        while (blocker === 0) await sleep(10);
        scans = Promise.all([scanLive(w.db, { from: DAY, to: DAY }, at), scanLive(w.db, { from: DAY, to: DAY }, at)]);
        // Both scans have reached their first fold, each behind the lock (or behind the other).
        while ((await waitingOn(w.owner, blocker)) < 2) await sleep(20);
        release();
        await locked;
      } else scans = Promise.all([scanLive(w.db, { from: DAY, to: DAY }, at), scanLive(w.db, { from: DAY, to: DAY }, at)]);
      const [a, b] = await scans;

      const after = await openFindings(w.db);
      assert.deepEqual(
        after.map((f) => [f.rule, f.occurrences]),
        [
          ['emergency_outside_window', 3],
          ['misplaced_terminal', 1],
        ],
        'the two live refusals and one scan; the misplaced terminal queued once',
      );
      assert.equal((a?.queued ?? 0) + (b?.queued ?? 0), 1, 'one of the two queued the new finding');
      // The same period once more, alone: nothing changes — the two together were one scan.
      await scanLive(w.db, { from: DAY, to: DAY }, new Date(at.getTime() + MINUTE));
      assert.deepEqual(await openFindings(w.db), after);
    });
  });
}
