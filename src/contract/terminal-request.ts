import { z } from 'zod';
import { TERMINAL_KINDS } from '../domain/organization.ts';
import { InstantOut, RowId, text } from './common.ts';
import { contract } from './schema.ts';
import { SITE_SIDES, Terminal, TERMINAL_SETTINGS } from './admin.ts';

/**
 * Terminal registrations and changes awaiting a second access administrator (src/api/terminal-request-routes.ts):
 * a network-set terminal at a retail or shared site (F1) is written only once another administrator approves
 * it with a reason.
 */

export const TERMINAL_REQUEST_STATUSES = ['pending', 'approved', 'rejected'] as const;

export const TerminalRequest = z.object({
  id: z.int(),
  terminalId: z.string(),
  organizationId: z.string(),
  organizationName: z.string(),
  office: z.string(),
  kind: z.enum(TERMINAL_KINDS),
  setting: z.enum(TERMINAL_SETTINGS),
  siteSide: z.enum(SITE_SIDES),
  shared: z.boolean().nullable().describe('as asked; null: unchanged for a registered terminal, shared for a new one'),
  registered: z.boolean().describe('the terminal was registered when asked (a change); false: a new registration'),
  requestReason: z.string().nullable().describe('why the requester asked'),
  requestedAt: InstantOut,
  requestedBy: z.string(),
  status: z.enum(TERMINAL_REQUEST_STATUSES),
  decidedAt: InstantOut.nullable(),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable().describe('why the second administrator approved or rejected it'),
});
export type TerminalRequest = z.output<typeof TerminalRequest>;

const RequestPath = z.object({ id: RowId });

export const terminalRequestList = contract({
  querystring: z.strictObject({ status: z.enum(['pending', 'all']).optional() }),
  response: { 200: z.object({ requests: z.array(TerminalRequest) }) },
});

export const terminalRequestApprove = contract({
  params: RequestPath,
  body: z.strictObject({ reason: text(1, 500) }),
  response: { 200: z.object({ request: TerminalRequest, terminal: Terminal }) },
});

export const terminalRequestReject = contract({
  params: RequestPath,
  body: z.strictObject({ reason: text(1, 500) }),
  response: { 200: z.object({ request: TerminalRequest }) },
});
