import { statfs } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { singleFlight, storeFailure, withinDeadline, type StoreFailure } from '../store/failure.ts';
import type { AppDeps, DiskLabel } from './context.ts';

/**
 * Liveness and readiness, told apart (issue 17: `/api/health` said ok while the database was down or frozen).
 * Live: the process answers. Ready: it can serve a read and log it — the store answers a query within
 * `STORE_CHECK_MS`, the log writer has not stopped the line, has no commit failing and no backlog older than
 * `BACKLOG_LIMIT_MS`, and the disks under the data directory and the witness have room. Each check is reported.
 * A detection control that keeps failing (the bulk-reading count), or a read replica not used (down, behind the lag
 * limit, another schema: its reads go to the primary), leaves it ready but `degraded` (200).
 * The answer is public (a load balancer asks it without a session), so it holds states, kinds and ages only:
 * whether the line stopped, never why (the reason names sequence numbers and what cannot be accounted for);
 * whether the witness fails, never its message; a disk by its label, never its path. The messages go to the
 * server log (api/app.ts) and to `GET /api/audit/status`, which the audit permission reads.
 */
export const STORE_CHECK_MS = 2000;
export const BACKLOG_LIMIT_MS = 10_000;

type CheckState = 'ok' | 'failing';

async function storeCheck(selectOne: () => Promise<unknown>): Promise<{ state: CheckState; failure?: StoreFailure | 'error'; ms: number }> {
  const t0 = performance.now();
  try {
    await withinDeadline(selectOne(), STORE_CHECK_MS);
    return { state: 'ok', ms: Math.round(performance.now() - t0) };
  } catch (e) {
    return { state: 'failing', failure: storeFailure(e) ?? 'error', ms: Math.round(performance.now() - t0) };
  }
}

async function diskCheck(
  disks: NonNullable<AppDeps['health']>['disks'],
  minFreeBytes: number,
): Promise<{ state: CheckState; freeBytes: Partial<Record<DiskLabel, number | null>> }> {
  const freeBytes: Partial<Record<DiskLabel, number | null>> = {};
  let state: CheckState = 'ok';
  for (const { label, path } of disks) {
    try {
      const s = await statfs(path);
      freeBytes[label] = s.bavail * s.bsize;
      if (s.bavail * s.bsize < minFreeBytes) state = 'failing';
    } catch {
      freeBytes[label] = null;
      state = 'failing';
    }
  }
  return { state, freeBytes };
}

/** Whole seconds from `at` to `now`, or null when there is no `at`. */
const ageSeconds = (at: Date | null, now: number): number | null => (at === null ? null : Math.round((now - at.getTime()) / 1000));

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/health/live', { schema: { hide: true } }, async () => ({ status: 'live' }));

  // Probes while a check is in flight wait for that one (each within its own deadline): a load balancer
  // probing a frozen store every second no longer leaves a query holding a pool connection per probe.
  const selectOne = singleFlight(() => deps.db.query('SELECT 1'));
  const replica = deps.replica ?? null;
  const ready = async () => {
    const writer = deps.evidence.writer.status();
    const now = deps.clock().getTime();
    const [store, disk, replicaStatus] = await Promise.all([
      storeCheck(selectOne),
      diskCheck(deps.health?.disks ?? [], deps.health?.minFreeDiskBytes ?? 0),
      // Looked at now (within its own deadline), so that a replica back or gone is told at this probe.
      replica?.check() ?? null,
    ]);
    // A failed commit counts while events wait or for BACKLOG_LIMIT_MS after it: an instance taken out of
    // service gets no reads, so no commit would ever clear it, and it must come back when the store does.
    const commitFailing = writer.lastError !== null && (writer.queued > 0 || now - writer.lastError.at.getTime() < BACKLOG_LIMIT_MS);
    const log = {
      state: writer.halted !== null || commitFailing || writer.oldestQueuedMs > BACKLOG_LIMIT_MS ? 'failing' : 'ok',
      halted: writer.halted !== null,
      witness: deps.evidence.witnessFile === null ? 'none' : writer.witnessError === null ? 'ok' : 'failing',
      queued: writer.queued,
      oldestQueuedMs: writer.oldestQueuedMs,
      lastCommitAgeSeconds: ageSeconds(writer.lastCommitAt, now),
      lastError: writer.lastError === null ? null : { kind: writer.lastError.kind, ageSeconds: ageSeconds(writer.lastError.at, now) },
      lastSealAgeSeconds: ageSeconds(writer.lastSealAt, now),
    };
    // A detection control that fails does not stop a read (it is no reason to take the instance out of
    // service), but it is off until it recovers: `degraded`, answered 200, with the control's state.
    const tally = deps.detection?.bulkReading.status() ?? null;
    const detection =
      tally === null
        ? null
        : {
            state: tally.state,
            bulkReading: {
              state: tally.state,
              consecutiveFailures: tally.consecutiveFailures,
              lastError: tally.lastError === null ? null : { kind: tally.lastError.kind, ageSeconds: ageSeconds(tally.lastError.at, now) },
              lastCountAgeSeconds: ageSeconds(tally.lastCountAt, now),
            },
          };
    // A read replica that is down, too far behind or of another schema takes nothing out of service: its reads
    // go to the primary (`fallback`), which carries the load. `degraded`, with the reason's kind and the lag.
    const replicaCheck =
      replicaStatus === null
        ? null
        : {
            state: replicaStatus.state,
            ...(replicaStatus.reason === null ? {} : { failure: replicaStatus.reason }),
            fallback: replicaStatus.state !== 'ok',
            lagSeconds: replicaStatus.lagSeconds,
            fallbackSeconds: ageSeconds(replicaStatus.since, now),
          };
    // The first reason, in the order an operator should look: the line stopped, the store, the log, the disk,
    // then a detection control off or the read replica not used.
    const status =
      writer.halted !== null
        ? 'log_halted'
        : store.state !== 'ok'
          ? 'store_unavailable'
          : log.state !== 'ok'
            ? 'log_unavailable'
            : disk.state !== 'ok'
              ? 'disk_low'
              : detection?.state === 'failing' || (replicaCheck !== null && replicaCheck.state !== 'ok')
                ? 'degraded'
                : 'ok';
    return {
      status,
      store: deps.db.kind,
      checks: { store, log, disk, ...(detection === null ? {} : { detection }), ...(replicaCheck === null ? {} : { replica: replicaCheck }) },
    };
  };
  // Readiness; `/api/health` is the same answer (what load balancers were pointed at before the split).
  for (const path of ['/api/health/ready', '/api/health'])
    app.get(path, { schema: { hide: true } }, async (_req, reply) => {
      const r = await ready();
      return reply.status(r.status === 'ok' || r.status === 'degraded' ? 200 : 503).send(r);
    });
}
