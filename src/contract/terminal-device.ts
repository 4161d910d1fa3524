import { z } from 'zod';
import { TERMINAL_SOURCES } from '../domain/terminal.ts';
import { InstantOut, RowId, TerminalId, text } from './common.ts';
import { contract } from './schema.ts';

/**
 * Browsers bound to terminals by access administration (src/api/terminal-device-routes.ts): binding the
 * administrator's own browser, one-time enrolment codes entered at the PC, revocation, and what this browser is.
 */

export const ENROLLMENT_METHODS = ['browser', 'code'] as const;
export const DEVICE_DECISIONS = ['confirmed', 'rejected'] as const;

export const Device = z.object({
  id: z.int(),
  terminalId: z.string(),
  label: z.string(),
  method: z
    .enum(ENROLLMENT_METHODS)
    .describe('browser: an access administrator registered the browser they used; code: an enrolment code was entered at the PC'),
  enrolledAt: InstantOut,
  enrolledBy: z.string().describe('the administrator’s user ID, or code:<id> for an enrolment code'),
  issuedBy: z.string().describe('the administrator who registered the browser or issued the code'),
  decision: z.enum(DEVICE_DECISIONS).nullable().describe('a second access administrator’s decision; null: none (yet)'),
  decidedBy: z.string().nullable(),
  decidedAt: InstantOut.nullable(),
  awaitsConfirmation: z
    .boolean()
    .describe('live, undecided, and its terminal opens network-only data: binds nothing until a second access administrator confirms it'),
  lastUsedAt: InstantOut.nullable(),
  revokedAt: InstantOut.nullable(),
  revokedBy: z.string().nullable(),
  revokeReason: z.string().nullable(),
});
export type Device = z.output<typeof Device>;

/** What the browser is bound to, for the login screen: nothing, or a terminal with where the binding came from. */
export const deviceStatus = contract({
  response: {
    200: z.object({
      terminal: z
        .object({
          id: z.string(),
          source: z.enum(TERMINAL_SOURCES).exclude(['claimed']),
          shared: z.boolean(),
          retired: z.boolean(),
          pending: z.boolean().describe('the binding awaits a second access administrator’s confirmation: it binds nothing yet'),
        })
        .nullable(),
    }),
  },
});

const Enrolled = z.object({
  terminalId: z.string(),
  deviceId: z.int(),
  pending: z.boolean().describe('the terminal opens network-only data: the binding binds nothing until a second access administrator confirms it'),
});

export const deviceEnroll = contract({
  body: z.strictObject({
    code: z.string().min(1).max(40).describe('the one-time enrolment code, as shown to the administrator (XXXX-XXXX-XXXX; case, spaces, full-width alike)'),
    label: text(0, 100).optional().describe('a name for this browser, e.g. the PC’s asset number'),
  }),
  response: { 201: Enrolled },
});

export const deviceList = contract({
  querystring: z.strictObject({ terminalId: TerminalId.optional() }),
  response: { 200: z.object({ devices: z.array(Device) }) },
});

const TerminalPath = z.object({ id: TerminalId });

export const deviceEnrollThisBrowser = contract({
  params: TerminalPath,
  body: z.strictObject({ label: text(1, 100) }),
  response: { 201: Enrolled },
});

export const enrollmentCodeIssue = contract({
  params: TerminalPath,
  body: z.strictObject({ minutes: z.int().min(1).max(1440).optional().describe('how long the code is good for (default 30)') }),
  response: {
    201: z.object({ id: z.int(), terminalId: z.string(), code: z.string().describe('shown once; only its hash is kept'), expiresAt: InstantOut }),
  },
});

export const deviceRevoke = contract({
  params: z.object({ id: RowId }),
  body: z.strictObject({ reason: text(1, 500) }),
  response: { 200: z.object({ id: z.int(), terminalId: z.string(), revoked: z.literal(true), sessionsEnded: z.int() }) },
});

const Decided = z.object({ id: z.int(), terminalId: z.string(), decision: z.enum(DEVICE_DECISIONS), sessionsEnded: z.int() });

export const deviceConfirm = contract({
  params: z.object({ id: RowId }),
  body: z.strictObject({ comment: text(0, 500).optional() }),
  response: { 200: Decided },
});

export const deviceReject = contract({
  params: z.object({ id: RowId }),
  body: z.strictObject({ reason: text(1, 500) }),
  response: { 200: Decided },
});
