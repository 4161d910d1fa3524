import { statfs } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { storeFailure, withinDeadline, type StoreFailure } from '../store/failure.ts';
import type { AppDeps } from './context.ts';

/**
 * Liveness and readiness, told apart (issue 17: `/api/health` said ok while the database was down or frozen).
 * Live: the process answers. Ready: it can serve a read and log it — the store answers a query within
 * `STORE_CHECK_MS`, the log writer has not stopped the line, has no commit failing and no backlog older than
 * `BACKLOG_LIMIT_MS`, and the disks under the data directory and the witness have room. Each check is reported;
 * the answer is public (a load balancer asks it), so it holds states and ages, never a message or a value.
 */
export const STORE_CHECK_MS = 2000;
export const BACKLOG_LIMIT_MS = 10_000;

type CheckState = 'ok' | 'failing';

async function storeCheck(deps: AppDeps): Promise<{ state: CheckState; failure?: StoreFailure | 'error'; ms: number }> {
  const t0 = performance.now();
  try {
    await withinDeadline(deps.db.query('SELECT 1'), STORE_CHECK_MS);
    return { state: 'ok', ms: Math.round(performance.now() - t0) };
  } catch (e) {
    return { state: 'failing', failure: storeFailure(e) ?? 'error', ms: Math.round(performance.now() - t0) };
  }
}

async function diskCheck(paths: readonly string[], minFreeBytes: number): Promise<{ state: CheckState; freeBytes: Record<string, number | null> }> {
  const freeBytes: Record<string, number | null> = {};
  let state: CheckState = 'ok';
  for (const p of paths) {
    try {
      const s = await statfs(p);
      freeBytes[p] = s.bavail * s.bsize;
      if (s.bavail * s.bsize < minFreeBytes) state = 'failing';
    } catch {
      freeBytes[p] = null;
      state = 'failing';
    }
  }
  return { state, freeBytes };
}

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/health/live', { schema: { hide: true } }, async () => ({ status: 'live' }));

  const ready = async () => {
    const writer = deps.evidence.writer.status();
    const now = deps.clock().getTime();
    const [store, disk] = await Promise.all([storeCheck(deps), diskCheck(deps.health?.diskPaths ?? [], deps.health?.minFreeDiskBytes ?? 0)]);
    // A failed commit counts while events wait or for BACKLOG_LIMIT_MS after it: an instance taken out of
    // service gets no reads, so no commit would ever clear it, and it must come back when the store does.
    const commitFailing = writer.lastError !== null && (writer.queued > 0 || now - writer.lastError.at.getTime() < BACKLOG_LIMIT_MS);
    const log = {
      state: writer.halted !== null || commitFailing || writer.oldestQueuedMs > BACKLOG_LIMIT_MS ? 'failing' : 'ok',
      halted: writer.halted,
      witnessError: writer.witnessError,
      queued: writer.queued,
      oldestQueuedMs: writer.oldestQueuedMs,
      lastCommitAt: writer.lastCommitAt?.toISOString() ?? null,
      lastError: writer.lastError === null ? null : { at: writer.lastError.at.toISOString(), kind: writer.lastError.kind },
      lastSealSeq: writer.lastSealSeq,
      lastSealAgeSeconds: writer.lastSealAt === null ? null : Math.round((now - writer.lastSealAt.getTime()) / 1000),
    };
    // The first reason, in the order an operator should look: the line stopped, the store, the log, the disk.
    const status =
      writer.halted !== null
        ? 'log_halted'
        : store.state !== 'ok'
          ? 'store_unavailable'
          : log.state !== 'ok'
            ? 'log_unavailable'
            : disk.state !== 'ok'
              ? 'disk_low'
              : 'ok';
    return { status, store: deps.db.kind, checks: { store, log, disk }, log: { halted: writer.halted, witnessError: writer.witnessError } };
  };
  // Readiness; `/api/health` is the same answer (what load balancers were pointed at before the split).
  for (const path of ['/api/health/ready', '/api/health'])
    app.get(path, { schema: { hide: true } }, async (_req, reply) => {
      const r = await ready();
      return reply.status(r.status === 'ok' ? 200 : 503).send(r);
    });
}
