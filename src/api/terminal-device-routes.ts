import type { FastifyInstance } from 'fastify';
import { holds, type Actor } from '../domain/actor.ts';
import { personActor } from '../governance/grant-service.ts';
import {
  decideDevice,
  ENROLLMENT_CODE_DEFAULT_MINUTES,
  enrollThisBrowser,
  issueEnrollmentCode,
  listDevices,
  redeemEnrollmentCode,
  revokeDevice,
} from '../identity/terminal-devices.ts';
import * as c from '../contract/terminal-device.ts';
import { route, type RouteTypes } from '../contract/schema.ts';
import type { AppDeps } from './context.ts';
import { requireActor } from './context.ts';
import { ApiError } from './errors.ts';
import { DEVICE_COOKIE, resolveTerminal, setDeviceCookie } from './terminal-binding.ts';

function requireAdmin(actor: Actor): void {
  if (!holds(actor, 'access.admin')) throw new ApiError('forbidden', 'this needs the access.admin grant (access administration)');
}

/** A label for a browser enrolled by code without one: what it says it is, cut short (never trusted for anything). */
const browserLabel = (userAgent: string | undefined) => (userAgent ?? 'browser').slice(0, 100);

/**
 * Device bindings (issue 19): an access administrator binds the browser they are using to a terminal, or
 * issues a one-time code someone at the PC enters; a second administrator confirms (or rejects) a binding to
 * a terminal that opens network-only data; revocation; and what this browser is bound to.
 */
export function registerTerminalDeviceRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<RouteTypes<typeof c.deviceStatus>>(
    '/api/device',
    {
      schema: route(c.deviceStatus, {
        tags: ['terminals'],
        summary: 'The terminal this browser is bound to (device binding or trusted proxy), for the login screen',
      }),
    },
    async (req) => {
      const resolved = await resolveTerminal(req, { ...deps, terminalClaims: 'ignore' }, null);
      const bound = resolved.binding;
      const id = resolved.pendingDevice ?? bound.terminalId;
      const source = resolved.pendingDevice !== null ? 'device' : bound.source;
      if (id === null || source === null || source === 'claimed') return { terminal: null };
      const { rows } = await deps.db.query<{ shared: boolean; retired_at: Date | string | null }>('SELECT shared, retired_at FROM terminals WHERE id = $1', [
        id,
      ]);
      const row = rows[0];
      return {
        terminal: {
          id,
          source,
          shared: row?.shared !== false,
          retired: row === undefined || (row.retired_at !== null && new Date(row.retired_at).getTime() <= deps.clock().getTime()),
          pending: resolved.pendingDevice !== null,
        },
      };
    },
  );

  app.post<RouteTypes<typeof c.deviceEnroll>>(
    '/api/device/enroll',
    {
      // Per client address, like a login: a code is 60 bits and expires, and guessing is slowed here too.
      config: { rateLimit: { max: deps.loginRateLimit, timeWindow: '1 minute' } },
      schema: route(c.deviceEnroll, {
        tags: ['terminals'],
        summary: 'Bind this browser to a terminal with a one-time enrolment code an access administrator issued',
        description: 'Sets the device cookie (HttpOnly, Secure, SameSite=Strict). A wrong, expired or used code is one 403 for all.',
      }),
    },
    async (req, reply) => {
      const label = req.body.label !== undefined && req.body.label.trim() !== '' ? req.body.label.trim() : browserLabel(req.headers['user-agent']);
      const enrolled = await redeemEnrollmentCode(deps.db, req.body.code, label, req.ip, deps.clock(), req.cookies[DEVICE_COOKIE] ?? null);
      deps.sessions.forget(enrolled.sessionsEnded);
      setDeviceCookie(reply, deps, enrolled.secret);
      return reply.status(201).send({ terminalId: enrolled.terminalId, deviceId: enrolled.deviceId, pending: enrolled.pending });
    },
  );

  app.get<RouteTypes<typeof c.deviceList>>(
    '/api/terminal-devices',
    { schema: route(c.deviceList, { tags: ['terminals'], summary: 'Browsers bound to terminals, newest first (never their secrets)' }) },
    async (req) => {
      const actor = requireActor(req);
      if (!holds(actor, 'access.admin') && !holds(actor, 'audit.read')) throw new ApiError('forbidden', 'this is for access administration and auditors');
      return { devices: await listDevices(deps.db, req.query.terminalId ?? null) };
    },
  );

  app.post<RouteTypes<typeof c.deviceEnrollThisBrowser>>(
    '/api/terminals/:id/devices',
    {
      schema: route(c.deviceEnrollThisBrowser, {
        tags: ['terminals'],
        summary: 'Bind the browser making this request to the terminal (この端末をこのブラウザに登録)',
        description: 'Sets the device cookie (HttpOnly, Secure, SameSite=Strict) on this browser; a governance event.',
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const enrolled = await enrollThisBrowser(deps.db, personActor(actor), req.params.id, req.body.label, deps.clock(), req.cookies[DEVICE_COOKIE] ?? null);
      deps.sessions.forget(enrolled.sessionsEnded);
      setDeviceCookie(reply, deps, enrolled.secret);
      return reply.status(201).send({ terminalId: req.params.id, deviceId: enrolled.deviceId, pending: enrolled.pending });
    },
  );

  app.post<RouteTypes<typeof c.enrollmentCodeIssue>>(
    '/api/terminals/:id/enrollment-codes',
    {
      schema: route(c.enrollmentCodeIssue, {
        tags: ['terminals'],
        summary: 'Issue a one-time enrolment code for the terminal, to be entered once at the PC before it expires',
      }),
    },
    async (req, reply) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const issued = await issueEnrollmentCode(deps.db, personActor(actor), req.params.id, req.body.minutes ?? ENROLLMENT_CODE_DEFAULT_MINUTES, deps.clock());
      return reply.status(201).send(issued);
    },
  );

  app.post<RouteTypes<typeof c.deviceRevoke>>(
    '/api/terminal-devices/:id/revoke',
    { schema: route(c.deviceRevoke, { tags: ['terminals'], summary: 'Revoke a device binding: it binds no more, and its sessions end' }) },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const r = await revokeDevice(deps.db, personActor(actor), req.params.id, req.body.reason, deps.clock());
      deps.sessions.forget(r.sessionsEnded);
      return { id: req.params.id, terminalId: r.terminalId, revoked: true as const, sessionsEnded: r.sessionsEnded.length };
    },
  );

  app.post<RouteTypes<typeof c.deviceConfirm>>(
    '/api/terminal-devices/:id/confirm',
    {
      schema: route(c.deviceConfirm, {
        tags: ['terminals'],
        summary: 'Confirm a device binding to a terminal that opens network-only data: a second access administrator',
        description: 'Never the administrator who registered the browser or issued its code (403 self_confirmation). A governance event.',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const r = await decideDevice(deps.db, personActor(actor), req.params.id, 'confirmed', req.body.comment ?? null, deps.clock(), deps.separationOfDuties);
      return { id: req.params.id, terminalId: r.terminalId, decision: 'confirmed' as const, sessionsEnded: 0 };
    },
  );

  app.post<RouteTypes<typeof c.deviceReject>>(
    '/api/terminal-devices/:id/reject',
    {
      schema: route(c.deviceReject, {
        tags: ['terminals'],
        summary: 'Reject a device binding awaiting confirmation: it is revoked (a governance event)',
      }),
    },
    async (req) => {
      const actor = requireActor(req);
      requireAdmin(actor);
      const r = await decideDevice(deps.db, personActor(actor), req.params.id, 'rejected', req.body.reason, deps.clock());
      deps.sessions.forget(r.sessionsEnded);
      return { id: req.params.id, terminalId: r.terminalId, decision: 'rejected' as const, sessionsEnded: r.sessionsEnded.length };
    },
  );
}
