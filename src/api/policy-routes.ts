import type { FastifyInstance } from 'fastify';
import { checklist, checklistCsv, checklistMarkdown, findViolations } from '../firewall/verify.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';

export function registerPolicyRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Querystring: { format: 'json' | 'csv' | 'md' } }>(
    '/api/policy/checklist',
    {
      schema: {
        tags: ['policy'],
        summary: 'The masking checklist (what `gridwall verify` prints), for compliance',
        querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'csv', 'md'], default: 'json' } } },
      },
    },
    async (req, reply) => {
      const pc = requireActor(req).principal.principalClass;
      if (pc !== 'network_compliance' && pc !== 'network_access_admin') throw new ApiError('forbidden', 'the checklist is for compliance and access administration');
      const table = deps.firewall.table;
      const rows = checklist(table);
      const violations = findViolations(table);
      if (req.query.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="masking-checklist.csv"').send(checklistCsv(rows));
      if (req.query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(checklistMarkdown(rows, table, violations));
      return { policyVersion: table.version, pass: violations.length === 0, violations, rows };
    },
  );
}
