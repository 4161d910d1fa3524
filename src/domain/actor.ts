import type { HeldGrant, PermissionId } from './permissions.ts';
import type { PrincipalFacts } from './principal.ts';
import type { TerminalSource, TerminalStanding } from './terminal.ts';

/** Who is acting: the person behind a session, as of the request's instant. Logged with every read. */
export interface Actor {
  readonly personId: string;
  readonly personName: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly terminalId: string | null;
  /** Where the terminal came from (a device binding, a trusted proxy, the person's claim); null without one. */
  readonly terminalSource: TerminalSource | null;
  readonly organizationName: string | null;
  readonly principal: PrincipalFacts;
  readonly authMethod: AuthMethod;
  /** What the registry makes of the session's terminal at this instant. */
  readonly terminal: TerminalStanding;
  /** Grants that count at this instant (in period, side allowed). */
  readonly grants: readonly HeldGrant[];
  /** For an API token: what it may be used for (`customer.read`, `scim`); null for a person's session. */
  readonly tokenScopes: readonly string[] | null;
  /** For an API token: the token and the person who answers for its service account (logged with each read). */
  readonly token: { readonly id: string; readonly ownerPersonId: string } | null;
}

export const AUTH_METHODS = ['demo', 'password', 'oidc', 'token'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Whether the actor holds a permission at the instant the actor was derived for (optionally for an organization). */
export function holds(actor: Actor, permission: PermissionId, organizationId?: string): boolean {
  return actor.grants.some(
    (g) => g.permissionId === permission && (organizationId === undefined || g.scopeOrganizationId === null || g.scopeOrganizationId === organizationId),
  );
}
