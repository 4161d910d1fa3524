import type { FastifyInstance } from 'fastify';
import type { AccessEvent, LoggedRecord } from '../audit/access-event.ts';
import type { ChainBreak } from '../audit/chain-verify.ts';
import { exportCsv, exportJsonl, exportXlsx, LOG_XLSX_MAX_ROWS, logTitle, LogTooLargeForXlsx } from '../audit/export.ts';
import { verifyStore } from '../audit/store-verify.ts';
import { japanDayStart, japanPeriod } from '../domain/japan-time.ts';
import { readLogEnd, rowToEvent, EVENT_SELECT, type EventRow } from '../audit/log-reader.ts';
import type { Seal } from '../audit/signing.ts';
import { witnessIfAny } from '../audit/trust.ts';
import { WitnessFile } from '../audit/witness.ts';
import { listPartitions, type PartitionInfo } from '../audit/partitions.ts';
import { isSearchKind } from '../domain/classification.ts';
import type { SealedTerm, SearchTerms } from '../audit/search-terms.ts';
import { holds, type Actor } from '../domain/actor.ts';
import type { AppDeps } from './context.ts';
import { EXPORT_WAIT_MS, LONG_RUNNING_MS, readDb, requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import { csvEncodingOf, csvType, download, XLSX_TYPE } from './download.ts';
import * as c from '../contract/audit.ts';
import { route, type RouteTypes, type SameFields } from '../contract/schema.ts';

/** The contract names every field of the log's events, partitions and verification, no more and no fewer (a compile-time check). */
const fieldsAgree: [
  SameFields<AccessEvent, Omit<c.AuditEvent, 'seq' | 'hash' | 'searchTerm'>>,
  SameFields<LoggedRecord, c.AuditEvent['records'][number]>,
  SameFields<PartitionInfo, c.AuditStatus['partitions'][number]>,
  SameFields<Awaited<ReturnType<typeof verifyStore>>, Omit<c.AuditVerification, 'trustedKeys' | 'witnessFile' | 'witnessError' | 'seconds' | 'verifiedAt'>>,
  SameFields<ChainBreak, NonNullable<c.AuditVerification['firstBreak']>>,
] = [true, true, true, true, true];
void fieldsAgree;

/** Who may read the access log: compliance and access administration, holding the audit.read grant. */
export function mayReadAuditLog(actor: Actor): boolean {
  const pc = actor.principal.principalClass;
  return (pc === 'network_compliance' || pc === 'network_access_admin') && holds(actor, 'audit.read');
}

function requireAuditor(actor: Actor): void {
  if (!mayReadAuditLog(actor)) throw new ApiError('forbidden', 'the access log is for compliance and access administration');
}

type EventQuery = RouteTypes<typeof c.auditEvents>['Querystring'];

/** A `YYYY-MM-DD` query value as the first instant of that day in Japan; 400 for a day that does not exist. */
function day(name: string, v: string | undefined): Date | null {
  if (v === undefined) return null;
  const at = japanDayStart(v);
  if (at === null) throw new ApiError('validation_failed', `querystring/${name} ${v} is not a calendar day`);
  return at;
}

/** The filter as SQL over parameters only. A search term is matched by its keyed hash, never stored or compared in the clear. */
function where(q: EventQuery, terms: SearchTerms): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.person !== undefined) clauses.push(`(person_id = ${p(q.person)} OR user_id = $${params.length})`);
  if (q.supplyPoint !== undefined) clauses.push(`supply_point_ids @> ARRAY[${p(q.supplyPoint.replace(/[\s-]/g, ''))}]::text[]`);
  if (q.retailer !== undefined) clauses.push(`records @> jsonb_build_array(jsonb_build_object('retailerCode', ${p(q.retailer)}::text))`);
  const period = japanPeriod(day('from', q.from), day('to', q.to));
  if (period.from !== null) clauses.push(`occurred_at >= ${p(period.from)}`);
  if (period.to !== null) clauses.push(`occurred_at < ${p(period.to)}`);
  if (q.outcome !== undefined) clauses.push(`outcome = ${p(q.outcome)}`);
  if ((q.searchBy === undefined) !== (q.searchTerm === undefined)) throw new ApiError('validation_failed', 'querystring: searchBy and searchTerm go together');
  if (q.searchBy !== undefined && q.searchTerm !== undefined) {
    clauses.push(`query->>'by' = ${p(q.searchBy)} AND query->'term'->>'match' = ${p(terms.match(q.searchBy, q.searchTerm))}`);
  }
  return { sql: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

export function registerAuditRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<RouteTypes<typeof c.auditEvents>>(
    '/api/audit/events',
    {
      schema: route(c.auditEvents, {
        tags: ['audit'],
        summary:
          'Search the access log (compliance): by person or user ID, supply point, retailer, period, outcome, and what was searched for (matched by keyed hash; compliance sees the term read back)',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      requireAuditor(actor);
      const terms = deps.firewall.searchTerms;
      const { sql, params } = where(req.query, terms);
      // Only compliance reads search terms back (they are customers' names and numbers); access
      // administration sees that a search was made, and can match a term it already knows.
      const readsTerms = actor.principal.principalClass === 'network_compliance';
      const n = params.length;
      const { rows } = await deps.db.query<EventRow>(
        `SELECT ${EVENT_SELECT} FROM access_log ${sql} ORDER BY access_log.seq DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...params, req.query.limit + 1, req.query.offset],
      );
      const page = rows.slice(0, req.query.limit);
      return {
        items: page.map((r) => {
          const event = rowToEvent(r);
          const sealed = event.query['term'] as SealedTerm | undefined;
          const by = event.query['by'];
          const searchTerm = readsTerms && sealed !== undefined && typeof by === 'string' && isSearchKind(by) ? terms.open(by, sealed) : undefined;
          return { seq: Number(r.seq), hash: r.hash, ...event, ...(searchTerm === undefined ? {} : { searchTerm }) };
        }),
        page: { limit: req.query.limit, offset: req.query.offset, hasMore: rows.length > req.query.limit },
      };
    },
  );

  app.get<RouteTypes<typeof c.auditStatus>>(
    '/api/audit/status',
    {
      schema: route(c.auditStatus, { tags: ['audit'], summary: 'Where the chain ends, its last seal, what verification trusts, the witness, the partitions' }),
    },
    async (req) => {
      requireAuditor(requireActor(req));
      const { head, last: seal } = await readLogEnd(deps.db);
      const witness = deps.evidence.witnessFile === null ? null : new WitnessFile(deps.evidence.witnessFile);
      let published: Seal | null = null;
      let witnessError: string | null = null;
      try {
        published = witness?.last() ?? null;
      } catch (e) {
        witnessError = e instanceof Error ? e.message : String(e);
      }
      return {
        head: { seq: head.seq, hash: head.hash },
        // The seal's `signedAt` is the text its signature covers; the status shows the instant (written from a Date, so the same text).
        lastSeal: seal === null ? null : { firstSeq: seal.firstSeq, seq: seal.seq, signedAt: new Date(seal.signedAt), keyId: seal.keyId },
        writer: { halted: deps.evidence.writer.halted, witnessError: deps.evidence.writer.witnessError },
        trustedKeys: deps.evidence.trust.described,
        witness:
          witness === null
            ? null
            : { file: witness.path, lastPublished: published === null ? null : { seq: published.seq, signedAt: published.signedAt }, error: witnessError },
        partitions: await listPartitions(deps.db),
      };
    },
  );

  app.post<RouteTypes<typeof c.auditVerify>>(
    '/api/audit/verify',
    {
      handlerTimeout: LONG_RUNNING_MS,
      schema: route(c.auditVerify, {
        tags: ['audit'],
        summary: 'Verify the whole log now: archives, links, every event sealed by a trusted key, and the chain against the witness',
      }),
    },
    async (req) => {
      requireAuditor(requireActor(req));
      const started = Date.now();
      let witness: Seal[] | undefined;
      let witnessError: string | null = null;
      try {
        witness = witnessIfAny(deps.evidence.witnessFile);
      } catch (e) {
        // Reported with the result (a witness that cannot be read is itself a finding), never a 500.
        witnessError = e instanceof Error ? e.message : String(e);
      }
      const result = await verifyStore(deps.db, { keys: deps.evidence.trust.keys, ...(witness === undefined ? {} : { witness }) });
      return {
        ...result,
        trustedKeys: deps.evidence.trust.described,
        witnessFile: witness === undefined ? null : deps.evidence.witnessFile,
        witnessError,
        seconds: (Date.now() - started) / 1000,
        verifiedAt: deps.clock(),
      };
    },
  );

  app.get<RouteTypes<typeof c.auditExport>>(
    '/api/audit/export',
    {
      handlerTimeout: LONG_RUNNING_MS,
      schema: route(c.auditExport, {
        tags: ['audit'],
        summary:
          'Download a period of the log: JSON Lines (verifies on its own with `gridwall audit verify --file`), or CSV (UTF-8 with a BOM, or CP932) or XLSX for a spreadsheet',
        description: `Answers 200 with the file (application/x-ndjson or text/csv streamed; an XLSX workbook of at most ${LOG_XLSX_MAX_ROWS} rows, else 400 with details.rule log_too_large_for_xlsx). Workbooks are built one at a time per server: one that cannot start within ${EXPORT_WAIT_MS / 1000} s is a 503 export_busy with Retry-After.`,
      }),
    },
    async (req, reply) => {
      requireAuditor(requireActor(req));
      const period = japanPeriod(day('from', req.query.from), day('to', req.query.to));
      const encoding = csvEncodingOf(req.query);
      const name = `access-log_${req.query.from ?? 'start'}_${req.query.to ?? 'now'}`;
      // From the read replica: a file that ends "now" may end a few seconds before (a JSON Lines file always
      // ends at a seal, so it verifies; the next export carries on from there).
      const source = readDb(deps);
      if (req.query.format === 'xlsx') {
        try {
          const { body } = await exportXlsx(source, period, logTitle(req.query.from, req.query.to), { maxWaitMs: deps.exportWaitMs ?? EXPORT_WAIT_MS });
          return await download(reply.header('cache-control', 'no-store'), XLSX_TYPE, body, `${name}.xlsx`);
        } catch (e) {
          if (e instanceof LogTooLargeForXlsx) throw new ApiError('validation_failed', e.message, { rule: e.code, limit: e.limit });
          throw e;
        }
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': req.query.format === 'csv' ? csvType(encoding) : 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="${name}.${req.query.format}"`,
        'x-request-id': req.id,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      try {
        if (req.query.format === 'csv') await exportCsv(source, res, period, encoding);
        else await exportJsonl(source, res, period, deps.clock());
      } finally {
        res.end();
      }
    },
  );
}
