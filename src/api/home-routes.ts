import type { FastifyInstance } from 'fastify';
import { findingSink, listFindings, type FindingRow } from '../analysis/findings.ts';
import { holds, type Actor } from '../domain/actor.ts';
import { EmergencyDeclarations, type DeclarationView } from '../governance/emergency-declarations.ts';
import { Inquiries, type InquiryView } from '../governance/inquiries.ts';
import { listCampaigns, listItems } from '../governance/recertification.ts';
import { reconcileTerminals } from '../identity/terminals.ts';
import { mayOverseeRegistry, reviewsWaitingFor } from './admin-routes.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { mayOverseeEmergencies } from './emergency-routes.ts';
import { approvalQueue, mayOverseeGrants } from './governance-routes.ts';
import * as c from '../contract/home.ts';
import { route, type RouteTypes, type ServedOf } from '../contract/schema.ts';

/** Rows read per page while counting through a page's own listing. */
const PAGE = 500;

/** Every row of a paged listing, page by page (the listings the pages use, so a count cannot drift from its page). */
async function all<T>(pageAt: (limit: number, offset: number) => Promise<readonly T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (;;) {
    const page = await pageAt(PAGE, rows.length);
    rows.push(...page);
    if (page.length < PAGE) return rows;
  }
}

/** A declaration that was in force, has ended and whose review compliance has not signed off yet. */
export function awaitsReview(d: DeclarationView): boolean {
  return d.status === 'confirmed' && d.state === 'ended' && d.signedOffAt === null;
}

/** Open findings (not resolved) by severity, and how many of them nobody has acknowledged. */
export function findingCounts(open: readonly FindingRow[]): NonNullable<c.Home['findings']> {
  const of = (s: FindingRow['severity']) => open.filter((f) => f.status !== 'resolved' && f.severity === s).length;
  return { high: of('high'), medium: of('medium'), low: of('low'), unacknowledged: open.filter((f) => f.status === 'open').length };
}

/** Inquiries waiting on the service centre, and those of them past their due time. */
function inquiryCounts(waiting: readonly InquiryView[]): NonNullable<c.Home['inquiries']> {
  return { waiting: waiting.length, late: waiting.filter((i) => i.timeliness === 'late').length };
}

/**
 * The home screen (issue 20): what needs the caller now, one count per duty they hold, each read through
 * the same listing and behind the same rule as the page it links to (a count the caller may not see is left
 * out, never 0). Nothing here reads customer data.
 */
export function registerHomeRoutes(app: FastifyInstance, deps: AppDeps): void {
  const emergencies = new EmergencyDeclarations(deps.db, { maxHours: deps.emergencyMaxHours });
  const inquiries = new Inquiries(deps.db, deps.firewall, findingSink(deps.db));

  const sections = {
    approvals: async (actor: Actor, at: Date) => ({ waiting: (await approvalQueue(deps.db, actor, at)).length }),
    inquiries: async (actor: Actor, at: Date) =>
      inquiryCounts(await all((limit, offset) => inquiries.list(actor, { scope: 'queue', status: 'open', limit, offset }, at).then((r) => r.inquiries))),
    findings: async () => findingCounts(await all((limit, offset) => listFindings(deps.db, { openOnly: true, limit, offset }))),
    emergencies: async (at: Date) => {
      const every = await all((limit, offset) => emergencies.list(at, { limit, offset }));
      return {
        active: every.filter((d) => d.state === 'active').length,
        pending: every.filter((d) => d.state === 'pending').length,
        awaitingReview: every.filter(awaitsReview).length,
      };
    },
    terminals: async (at: Date) => ({ misplaced: (await reconcileTerminals(deps.db, at, deps.dormantDays)).misplaced.length }),
    recertifications: async (actor: Actor, at: Date) => {
      const running = (await listCampaigns(deps.db)).filter((k) => k.endsAt.getTime() > at.getTime());
      const mine = await Promise.all(running.map(async (k) => reviewsWaitingFor(actor, await listItems(deps.db, k.id, at)).length));
      return { waitingForYou: mine.reduce((a, b) => a + b, 0), open: running.reduce((a, k) => a + k.open, 0) };
    },
  };

  app.get<RouteTypes<typeof c.home>>(
    '/api/home',
    {
      schema: route(c.home, {
        tags: ['home'],
        summary: 'What needs you now: a count per duty you hold (approvals, inquiries, findings, emergencies, terminals, recertifications)',
        description:
          'Each section is there only when you may open the page it counts for, behind the same rule as that page’s route; a count you may not see is absent, not 0.',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      const at = deps.clock();
      const [approvals, waiting, findings, declared, terminals, recertifications] = await Promise.all([
        holds(actor, 'grants.approve') ? sections.approvals(actor, at) : undefined,
        holds(actor, 'inquiries.answer') ? sections.inquiries(actor, at) : undefined,
        holds(actor, 'audit.read') ? sections.findings() : undefined,
        mayOverseeEmergencies(actor) ? sections.emergencies(at) : undefined,
        mayOverseeRegistry(actor) ? sections.terminals(at) : undefined,
        mayOverseeGrants(actor) ? sections.recertifications(actor, at) : undefined,
      ]);
      const home: ServedOf<typeof c.home, 200> = {
        at,
        ...(approvals === undefined ? {} : { approvals }),
        ...(waiting === undefined ? {} : { inquiries: waiting }),
        ...(findings === undefined ? {} : { findings }),
        ...(declared === undefined ? {} : { emergencies: declared }),
        ...(terminals === undefined ? {} : { terminals }),
        ...(recertifications === undefined ? {} : { recertifications }),
      };
      return home;
    },
  );
}
