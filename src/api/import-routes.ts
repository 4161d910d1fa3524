import type { FastifyInstance } from 'fastify';
import { DEFAULT_SOD_POLICY } from '../domain/separation-of-duties.ts';
import { IMPORT_RULE_LABELS, REGISTER_FILES } from '../domain/register-import.ts';
import { holds } from '../domain/actor.ts';
import { importRegisters, type RegisterSources } from '../governance/legacy-import.ts';
import * as c from '../contract/import.ts';
import { route, type RouteTypes } from '../contract/schema.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import { CsvFileError } from '../legacy/csv-file.ts';

/** Four registers in base64, with room for the JSON around them. */
const BODY_LIMIT = REGISTER_FILES.length * Math.ceil(c.MAX_REGISTER_BYTES / 3) * 4 + 64 * 1024;

/**
 * The legacy registers uploaded by access administration (the people page's 台帳の取り込み): planned with
 * `dryRun`, or imported — `gridwall import` over HTTP, as the session's person (governance/legacy-import.ts).
 */
export function registerImportRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post<RouteTypes<typeof c.registerImport>>(
    '/api/access/import',
    {
      bodyLimit: BODY_LIMIT,
      schema: route(c.registerImport, {
        tags: ['people'],
        summary: 'Import the legacy registers (staff, terminals, permissions, grants — formats.md, UTF-8 or CP932), or with dryRun show what would happen',
        description:
          "Access administration (access.admin). Rows are judged by `gridwall grants check`'s rules; refused and unreadable rows are listed by file and line. Grants become requests a second person approves; a terminal that widens becomes a terminal request. Idempotent: the same files again change nothing. Each act is a governance event naming the import.",
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      if (!holds(actor, 'access.admin')) throw new ApiError('forbidden', 'importing the legacy registers needs the access.admin grant (access administration)');
      const operator = { userId: actor.userId, personId: actor.personId };
      const sources: RegisterSources = {};
      for (const f of REGISTER_FILES) {
        const upload = req.body.files[f];
        if (upload !== undefined) sources[f] = { name: upload.name, bytes: Buffer.from(upload.contentBase64, 'base64') };
      }
      if (Object.keys(sources).length === 0)
        throw new ApiError('validation_failed', `no register given: files names at least one of ${REGISTER_FILES.join(', ')}`);
      let result;
      try {
        result = await importRegisters(deps.db, operator, sources, {
          dryRun: req.body.dryRun,
          at: deps.clock(),
          sod: deps.separationOfDuties ?? DEFAULT_SOD_POLICY,
        });
      } catch (e) {
        // A file that cannot be used at all (not CSV, a required column missing): nothing was written.
        if (e instanceof CsvFileError) throw new ApiError('validation_failed', e.message, { rule: e.rule });
        throw e;
      }
      return { ...result, rows: result.rows.map((r) => ({ ...r, ruleText: r.rule === null ? null : IMPORT_RULE_LABELS[r.rule] })) };
    },
  );
}
