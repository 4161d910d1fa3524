import { z } from 'zod';
import type { Severity } from '../domain/finding.ts';
import { InstantOut } from './common.ts';
import { contract, type Same } from './schema.ts';

/**
 * The home screen (src/api/home-routes.ts): what needs the caller now, each a count. A section is there only
 * when the caller may open the page it counts for — behind the same rule as that page's own route — so a count
 * the caller may not see is absent, never 0.
 */

const Count = z.int().min(0);

/** Open findings (not yet resolved) by severity; `unacknowledged`: of those, the ones nobody has taken up. */
const Findings = z.object({ high: Count, medium: Count, low: Count, unacknowledged: Count });
// One count per severity of the domain (a compile-time check).
const severitiesAgree: Same<Exclude<keyof z.output<typeof Findings>, 'unacknowledged'>, Severity> = true;
void severitiesAgree;

/** The sections, in the order the console shows them. */
export const HOME_SECTIONS = ['approvals', 'inquiries', 'findings', 'emergencies', 'terminals', 'recertifications'] as const;
export type HomeSection = (typeof HOME_SECTIONS)[number];

export const Home = z.object({
  at: InstantOut.describe('the instant the counts are for'),
  approvals: z
    .object({ waiting: Count.describe('requests you may decide (never your own), as in the approval queue') })
    .optional()
    .describe('grants.approve'),
  inquiries: z
    .object({
      waiting: Count.describe('inquiries waiting on the service centre (open; not those asked back, which wait on the requester)'),
      late: Count.describe('of those, past their due time'),
    })
    .optional()
    .describe("the service centre's queue (inquiries.answer)"),
  findings: Findings.optional().describe('the findings queue (audit.read)'),
  emergencies: z
    .object({
      active: Count.describe('declarations in force now'),
      pending: Count.describe('declared, waiting for a second person to confirm'),
      awaitingReview: Count.describe('in force once and ended, their review not yet signed off by compliance'),
    })
    .optional()
    .describe('emergency.declare, access.admin or audit.read'),
  terminals: z
    .object({ misplaced: Count.describe('network-set terminals not standing at a network site (F1), not retired') })
    .optional()
    .describe('the terminal registry (access.admin or audit.read)'),
  recertifications: z
    .object({
      waitingForYou: Count.describe('grants of running campaigns waiting for your decision'),
      open: Count.describe('grants of running campaigns nobody has decided yet'),
    })
    .optional()
    .describe('recertification campaigns (access.admin, grants.approve or audit.read)'),
});
export type Home = z.output<typeof Home>;

// Every section of the answer is in the list, and only those (a compile-time check).
const sectionsAgree: Same<Exclude<keyof Home, 'at'>, HomeSection> = true;
void sectionsAgree;

export const home = contract({ response: { 200: Home } });
