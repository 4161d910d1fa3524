import { createServiceAccount, createToken, decideToken, type TokenScope } from '../../src/identity/api-tokens.ts';
import type { Db } from '../../src/store/db.ts';
import { NOW } from './fixture.ts';

/** The fixture's two access administrators: one requests, the other approves (a token needs a second person). */
const REQUESTER = { kind: 'person', userId: 'u-admin', personId: 'p-admin' } as const;
const APPROVER = { kind: 'person', userId: 'u-admin2', personId: 'p-admin2' } as const;

/**
 * A working API token as production issues one: a service account (placed at `organizationId`, or at none
 * for the HR system), a token requested by one access administrator and approved by the other.
 */
export async function serviceToken(
  db: Db,
  spec: { userId: string; name?: string; organizationId: string | null; scopes: readonly TokenScope[]; ownerPersonId?: string; at?: Date; days?: number },
): Promise<{ id: string; token: string; userId: string; personId: string }> {
  const at = spec.at ?? NOW;
  const account = await createServiceAccount(
    db,
    REQUESTER,
    { userId: spec.userId, name: spec.name ?? spec.userId, organizationId: spec.organizationId, ownerPersonId: spec.ownerPersonId ?? 'p-admin' },
    at,
  );
  const { id, token } = await createToken(
    db,
    REQUESTER,
    { userId: spec.userId, name: spec.name ?? spec.userId, scopes: spec.scopes, expiresAt: new Date(at.getTime() + (spec.days ?? 30) * 86_400_000) },
    at,
  );
  await decideToken(db, APPROVER, id, 'approved', at);
  return { id, token, ...account };
}
