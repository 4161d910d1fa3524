import { z } from 'zod';
import { InstantOut, RowId, text } from './common.ts';
import { contract } from './schema.ts';
import { Terminal } from './admin.ts';

/**
 * Terminal registrations and changes awaiting a second access administrator (src/api/terminal-request-routes.ts):
 * a network-set terminal at a retail or shared site (F1) is written only once another administrator approves
 * it with a reason.
 */

export const TERMINAL_REQUEST_STATUSES = ['pending', 'approved', 'rejected'] as const;

/** The terminal's fields as asked (the terminal contract's own), then the request's. */
export const TerminalRequest = Terminal.pick({ organizationId: true, organizationName: true, office: true, kind: true, setting: true, siteSide: true }).extend({
  id: z.int(),
  terminalId: Terminal.shape.id,
  shared: Terminal.shape.shared.nullable().describe('as asked; null: unchanged for a registered terminal, shared for a new one'),
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
