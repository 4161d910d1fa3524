import type { FastifyInstance } from 'fastify';
import {
  checklist,
  checklistDoc,
  checklistMarkdown,
  findViolations,
  inquiryChecklist,
  inquiryMarkdown,
  inquiryViolations,
  type ChecklistRow,
  type InquiryRow,
  type InquiryViolation,
  type Violation,
} from '../firewall/verify.ts';
import { csvEncodingOf, download, spreadsheetDownload } from './download.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import * as c from '../contract/policy.ts';
import { route, type RouteTypes, type SameFields } from '../contract/schema.ts';

/** The contract names every field of the checklist's rows and violations, no more and no fewer (a compile-time check). */
const fieldsAgree: [
  SameFields<ChecklistRow, c.ChecklistRow>,
  SameFields<Violation, c.Checklist['violations'][number]>,
  SameFields<InquiryRow, c.Checklist['inquiry']['rows'][number]>,
  SameFields<InquiryViolation, c.Checklist['inquiry']['violations'][number]>,
] = [true, true, true, true];
void fieldsAgree;

export function registerPolicyRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<RouteTypes<typeof c.checklist>>(
    '/api/policy/checklist',
    { schema: route(c.checklist, { tags: ['policy'], summary: 'The masking checklist (what `gridwall verify` prints), for compliance; CSV opens in Excel' }) },
    async (req, reply) => {
      const pc = requireActor(req).principal.principalClass;
      if (pc !== 'network_compliance' && pc !== 'network_access_admin')
        throw new ApiError('forbidden', 'the checklist is for compliance and access administration');
      const table = deps.firewall.table;
      const rows = checklist(table);
      const violations = findViolations(table);
      const inquiryRows = inquiryChecklist(table);
      const inquiryBroken = inquiryViolations(inquiryRows);
      const encoding = csvEncodingOf(req.query);
      if (req.query.format === 'csv' || req.query.format === 'xlsx')
        return spreadsheetDownload(reply, checklistDoc(rows), req.query.format, encoding, 'masking-checklist');
      if (req.query.format === 'md')
        return download(reply, 'text/markdown; charset=utf-8', `${checklistMarkdown(rows, table, violations)}\n${inquiryMarkdown(inquiryRows, inquiryBroken)}`);
      return {
        policyVersion: table.version,
        pass: violations.length === 0 && inquiryBroken.length === 0,
        violations,
        rows,
        inquiry: { pass: inquiryBroken.length === 0, violations: inquiryBroken, rows: inquiryRows },
      };
    },
  );
}
