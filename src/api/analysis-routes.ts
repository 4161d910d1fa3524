import type { FastifyInstance, FastifyReply } from 'fastify';
import { AnalysisBusy } from '../analysis/analysis-queue.ts';
import { listFindings } from '../analysis/findings.ts';
import { toCsv, toXlsx } from '../analysis/output.ts';
import { listDigests, livePeriodBounds, liveReport, PeriodTooLong, reviewFinding, ReviewRefused, scanLive } from '../analysis/review.ts';
import { holds, type Actor } from '../identity/session-store.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';

/** Compliance's analytics: the regulator's report over gridwall's own log, and the review queue of findings. */
function requireCompliance(actor: Actor): void {
  if (!holds(actor, 'audit.read')) throw new ApiError('forbidden', 'the analysis and its findings are for compliance (grant audit.read)');
}

const DAY = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

/** Longest a request waits for the analysis queue before it is told to come back (503 with Retry-After). */
export const ANALYSIS_WAIT_MS = 15_000;

function period(q: { from: string; to: string }): { from: string; to: string } {
  try {
    livePeriodBounds(q.from, q.to);
  } catch (e) {
    if (e instanceof PeriodTooLong) throw new ApiError('validation_failed', e.message, { rule: e.rule, days: e.days, maxDays: e.maxDays });
    throw new ApiError('validation_failed', (e as Error).message.replace(/^--/, ''));
  }
  return { from: q.from, to: q.to };
}

/** Runs an analysis in the queue's turn; a request whose turn does not come in time gets 503 with Retry-After. */
async function queued<T>(reply: FastifyReply, analysis: (maxWaitMs: number) => Promise<T>): Promise<T> {
  try {
    return await analysis(ANALYSIS_WAIT_MS);
  } catch (e) {
    if (!(e instanceof AnalysisBusy)) throw e;
    reply.header('retry-after', String(e.retryAfterSeconds));
    throw new ApiError('analysis_busy', e.message, { retryAfterSeconds: e.retryAfterSeconds });
  }
}

export function registerAnalysisRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Querystring: { from: string; to: string; format?: 'json' | 'csv' | 'xlsx' } }>(
    '/api/analysis/report',
    {
      schema: {
        tags: ['analysis'],
        summary: "The regulator's tables and the findings for a period of gridwall's own log (CSV for Excel, XLSX)",
        querystring: { type: 'object', required: ['from', 'to'], additionalProperties: false, properties: { from: DAY, to: DAY, format: { type: 'string', enum: ['json', 'csv', 'xlsx'] } } },
      },
    },
    async (req, reply) => {
      requireCompliance(requireActor(req));
      const p = period(req.query);
      const report = await queued(reply, (maxWaitMs) => liveReport(deps.db, p, { maxWaitMs }));
      const name = `gridwall-report-${p.from}-${p.to}`;
      if (req.query.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(toCsv(report));
      if (req.query.format === 'xlsx') {
        return reply.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').header('content-disposition', `attachment; filename="${name}.xlsx"`).send(await toXlsx(report));
      }
      return report;
    },
  );

  app.post<{ Body: { from: string; to: string } }>(
    '/api/analysis/scan',
    { schema: { tags: ['analysis'], summary: 'Run the anomaly rules over a period and queue what they find (each finding once)', body: { type: 'object', required: ['from', 'to'], additionalProperties: false, properties: { from: DAY, to: DAY } } } },
    async (req, reply) => {
      requireCompliance(requireActor(req));
      const p = period(req.body);
      const scan = await queued(reply, (maxWaitMs) => scanLive(deps.db, p, deps.clock(), { maxWaitMs }));
      return { period: scan.report.period, findings: scan.report.findings.length, queued: scan.queued };
    },
  );

  app.get('/api/analysis/digests', { schema: { tags: ['analysis'], summary: 'The daily digests, newest first' } }, async (req) => {
    requireCompliance(requireActor(req));
    return { digests: await listDigests(deps.db, 60) };
  });

  app.get<{ Querystring: { rule?: string; open?: boolean; limit: number; offset: number } }>(
    '/api/findings',
    {
      schema: {
        tags: ['analysis'],
        summary: 'The review queue: findings raised live and by the rules, newest first',
        querystring: { type: 'object', additionalProperties: false, properties: { rule: { type: 'string', maxLength: 64 }, open: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, offset: { type: 'integer', minimum: 0, default: 0 } } },
      },
    },
    async (req) => {
      requireCompliance(requireActor(req));
      const q = req.query;
      return { findings: await listFindings(deps.db, { ...(q.rule === undefined ? {} : { rule: q.rule }), openOnly: q.open === true, limit: q.limit, offset: q.offset }) };
    },
  );

  for (const decision of ['acknowledged', 'resolved'] as const) {
    app.post<{ Params: { id: number }; Body: { comment?: string } }>(
      `/api/findings/:id/${decision === 'acknowledged' ? 'acknowledge' : 'resolve'}`,
      {
        schema: {
          tags: ['analysis'],
          summary: decision === 'acknowledged' ? 'Acknowledge a finding (being looked at)' : 'Resolve a finding, saying what was found and done',
          params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
          body: { type: 'object', additionalProperties: false, properties: { comment: { type: 'string', minLength: 1, maxLength: 2000 } } },
        },
      },
      async (req) => {
        const actor = requireActor(req);
        requireCompliance(actor);
        try {
          await reviewFinding(deps.db, { kind: 'person', userId: actor.userId, personId: actor.personId }, req.params.id, decision, req.body?.comment ?? null, deps.clock());
        } catch (e) {
          if (e instanceof ReviewRefused) throw new ApiError(e.rule === 'unknown_finding' ? 'not_found' : e.rule === 'comment_required' ? 'validation_failed' : 'review_conflict', e.message, { rule: e.rule });
          throw e;
        }
        return { id: req.params.id, status: decision };
      },
    );
  }
}
