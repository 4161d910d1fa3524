import type { FastifyInstance } from 'fastify';
import { listFindings, type FindingRow } from '../analysis/findings.ts';
import { reportDoc } from '../analysis/output.ts';
import type { Counts, Report, SystemCounts, Viewer } from '../analysis/report.ts';
import {
  listDigests,
  livePeriodBounds,
  liveExposureReport,
  liveReport,
  liveReportAndExposure,
  PeriodTooLong,
  reviewFinding,
  scanLive,
  type Digest,
} from '../analysis/review.ts';
import { exposureTables } from '../analysis/exposure-output.ts';
import type { LiveExposure } from '../analysis/live-exposure.ts';
import type { Finding, Thresholds } from '../analysis/rules.ts';
import { holds, type Actor } from '../domain/actor.ts';
import { equalTreatmentTables } from '../governance/equal-treatment-output.ts';
import { equalTreatmentReport } from '../governance/inquiries.ts';
import { csvEncodingOf, spreadsheetDownload } from './download.ts';
import type { AppDeps } from './context.ts';
import { LONG_RUNNING_MS, readDb, requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import * as c from '../contract/analysis.ts';
import { route, type RouteTypes, type SameFields } from '../contract/schema.ts';

/** Compliance's analytics: the regulator's report over gridwall's own log, and the review queue of findings. */
function requireCompliance(actor: Actor): void {
  if (!holds(actor, 'audit.read')) throw new ApiError('forbidden', 'the analysis and its findings are for compliance (grant audit.read)');
}

function period(q: { from: string; to: string }): { from: string; to: string } {
  try {
    livePeriodBounds(q.from, q.to);
  } catch (e) {
    if (e instanceof PeriodTooLong) throw e;
    throw new ApiError('validation_failed', (e as Error).message.replace(/^--/, ''));
  }
  return { from: q.from, to: q.to };
}

const docs = (summary: string) => ({ tags: ['analysis'], summary });

/** Where the live analysis finds closed months as Parquet (log-archive.ts), when the server has the archive. */
const archive = (deps: AppDeps): { archiveDir?: string } => (deps.analysisArchiveDir === undefined ? {} : { archiveDir: deps.analysisArchiveDir });

/** What the exposure report needs of the server: its decision table, its separation-of-duties policy, its clock. */
const exposureOptions = (deps: AppDeps) => ({
  maxWaitMs: deps.analysisWaitMs,
  ...archive(deps),
  table: deps.firewall.table,
  now: deps.clock(),
  ...(deps.separationOfDuties === undefined ? {} : { sod: deps.separationOfDuties }),
});

/** The contract names every field of the analysis's answers, no more and no fewer (a compile-time check). */
const fieldsAgree: [
  SameFields<Report, c.Report>,
  SameFields<SystemCounts, c.Report['systems'][number]>,
  SameFields<Counts, c.Counts>,
  SameFields<Viewer, c.Report['viewers'][number]>,
  SameFields<Finding, c.RuleFinding>,
  SameFields<Thresholds, c.Report['thresholds']>,
  SameFields<Digest, c.Digest>,
  SameFields<FindingRow, c.QueuedFinding>,
  SameFields<LiveExposure, Omit<c.Exposure, 'period'>>,
] = [true, true, true, true, true, true, true, true, true];
void fieldsAgree;

export function registerAnalysisRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<RouteTypes<typeof c.analysisReport>>(
    '/api/analysis/report',
    {
      schema: route(c.analysisReport, docs("The regulator's tables and the findings for a period of gridwall's own log (CSV for Excel, XLSX)")),
      handlerTimeout: LONG_RUNNING_MS,
    },
    async (req, reply) => {
      requireCompliance(requireActor(req));
      const p = period(req.query);
      // The log and the registers from the read replica (the last seconds may not be there yet); the
      // equal-treatment section below reads the inquiries on the primary.
      const name = `gridwall-report-${p.from}-${p.to}`;
      const encoding = csvEncodingOf(req.query);
      if (req.query.format === 'csv' || req.query.format === 'xlsx') {
        // The compliance report: the regulator's tables, the exposure report (issue 22), then the equal treatment
        // of retailers' inquiries (issue 18).
        const { report, exposure } = await liveReportAndExposure(readDb(deps), p, exposureOptions(deps));
        const fair = await equalTreatmentReport(deps.db, p.from, p.to, deps.clock());
        return spreadsheetDownload(reply, reportDoc(report, [...exposureTables(exposure), ...equalTreatmentTables(fair)]), req.query.format, encoding, name);
      }
      return liveReport(readDb(deps), p, { maxWaitMs: deps.analysisWaitMs, ...archive(deps) });
    },
  );

  app.get<RouteTypes<typeof c.analysisExposure>>(
    '/api/analysis/exposure',
    {
      schema: route(
        c.analysisExposure,
        docs(
          'The exposure report of a period: every way a retail-side person could see another retailer’s customer’s non-public items (declared emergencies, grants that should not exist, policy versions), with its window, the people it covered and the reads made under it',
        ),
      ),
      handlerTimeout: LONG_RUNNING_MS,
    },
    async (req) => {
      requireCompliance(requireActor(req));
      const p = period(req.query);
      return { period: p, ...(await liveExposureReport(readDb(deps), p, exposureOptions(deps))) };
    },
  );

  app.post<RouteTypes<typeof c.analysisScan>>(
    '/api/analysis/scan',
    {
      schema: route(c.analysisScan, docs('Run the anomaly rules over a period and queue what they find (each finding once)')),
      handlerTimeout: LONG_RUNNING_MS,
    },
    async (req) => {
      requireCompliance(requireActor(req));
      const p = period(req.body);
      const scan = await scanLive(deps.db, p, deps.clock(), { maxWaitMs: deps.analysisWaitMs, readDb: readDb(deps), ...archive(deps) });
      return { period: scan.report.period, findings: scan.report.findings.length, queued: scan.queued, updated: scan.updated };
    },
  );

  app.get<RouteTypes<typeof c.digestList>>('/api/analysis/digests', { schema: route(c.digestList, docs('The daily digests, newest first')) }, async (req) => {
    requireCompliance(requireActor(req));
    return { digests: await listDigests(deps.db, 60) };
  });

  app.get<RouteTypes<typeof c.findingList>>(
    '/api/findings',
    {
      schema: route(
        c.findingList,
        docs('The review queue: findings raised live and by the rules, one open per rule and subject, the most recently seen first'),
      ),
    },
    async (req) => {
      requireCompliance(requireActor(req));
      const q = req.query;
      return {
        findings: await listFindings(deps.db, {
          ...(q.rule === undefined ? {} : { rule: q.rule }),
          openOnly: q.open === true,
          limit: q.limit,
          offset: q.offset,
        }),
      };
    },
  );

  for (const decision of c.FINDING_DECISIONS) {
    app.post<RouteTypes<typeof c.findingReview>>(
      `/api/findings/:id/${decision === 'acknowledged' ? 'acknowledge' : 'resolve'}`,
      {
        schema: route(
          c.findingReview,
          docs(decision === 'acknowledged' ? 'Acknowledge a finding (being looked at)' : 'Resolve a finding, saying what was found and done'),
        ),
      },
      async (req) => {
        const actor = requireActor(req);
        requireCompliance(actor);
        await reviewFinding(
          deps.db,
          { kind: 'person', userId: actor.userId, personId: actor.personId },
          req.params.id,
          decision,
          req.body?.comment ?? null,
          deps.clock(),
        );
        return { id: req.params.id, status: decision };
      },
    );
  }
}
