import { createHash, randomBytes } from 'node:crypto';
import { recordGovernance, type GovernanceActor } from '../governance/governance-log.ts';
import { isoOrNull, type Db, type Queryable } from '../store/db.ts';

/**
 * API tokens for other retailers' systems (customer look-ups through the firewall, as the account's person)
 * and for the HR system (SCIM provisioning). A token is bound to an account whose person answers for it,
 * has scopes and an expiry, and can be revoked; only the SHA-256 of its secret is stored. The secret has
 * 256 bits of entropy, so a fast hash is enough (a password hash is for guessable secrets).
 */
export const TOKEN_SCOPES = ['customer.read', 'scim'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Longest a token may live: a year, like a grant. */
export const TOKEN_MAX_DAYS = 366;

export class TokenError extends Error {}

export interface TokenRow {
  readonly id: string;
  readonly name: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function tokenId(): string {
  return [...randomBytes(12)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

const byId = (by: GovernanceActor) => (by.kind === 'system' ? `system:${by.job}` : by.userId);

/** Issues a token; the returned `token` is shown once and never stored. */
export async function createToken(
  db: Db,
  by: GovernanceActor,
  spec: { userId: string; name: string; scopes: readonly TokenScope[]; expiresAt: Date },
  at: Date,
): Promise<{ id: string; token: string }> {
  const days = (spec.expiresAt.getTime() - at.getTime()) / 86_400_000;
  if (!(days > 0) || days > TOKEN_MAX_DAYS) throw new TokenError(`a token expires after now and within ${TOKEN_MAX_DAYS} days`);
  if (spec.scopes.length === 0) throw new TokenError(`give at least one scope: ${TOKEN_SCOPES.join(', ')}`);
  return db.transaction(async (tx) => {
    const account = await tx.query('SELECT 1 FROM accounts WHERE user_id = $1 AND disabled_at IS NULL', [spec.userId]);
    if (account.rows.length === 0) throw new TokenError(`no usable account ${spec.userId}`);
    const id = tokenId();
    const secret = randomBytes(32).toString('base64url');
    await tx.query(
      `INSERT INTO api_tokens (id, secret_sha256, name, user_id, scopes, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, createHash('sha256').update(secret).digest(), spec.name, spec.userId, [...spec.scopes], byId(by), at, spec.expiresAt],
    );
    await recordGovernance(tx, { at, actor: by, action: 'token.create', subjectType: 'token', subjectId: id, outcome: 'done', details: { userId: spec.userId, name: spec.name, scopes: spec.scopes, expiresAt: spec.expiresAt.toISOString() } });
    return { id, token: `gw_${id}_${secret}` };
  });
}

/** Revokes a token at once (the next request with it is refused). False when there was nothing to revoke. */
export async function revokeToken(db: Db, by: GovernanceActor, id: string, at: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query('UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id, at]);
    if (rows.length === 0) return false;
    await recordGovernance(tx, { at, actor: by, action: 'token.revoke', subjectType: 'token', subjectId: id, outcome: 'done' });
    return true;
  });
}

export async function listTokens(q: Queryable): Promise<TokenRow[]> {
  const { rows } = await q.query<Record<string, unknown>>('SELECT id, name, user_id, scopes, created_by, created_at, expires_at, revoked_at, last_used_at FROM api_tokens ORDER BY created_at DESC');
  return rows.map((r) => ({
    id: String(r['id']),
    name: String(r['name']),
    userId: String(r['user_id']),
    scopes: r['scopes'] as string[],
    createdBy: String(r['created_by']),
    createdAt: isoOrNull(r['created_at']) ?? '',
    expiresAt: isoOrNull(r['expires_at']) ?? '',
    revokedAt: isoOrNull(r['revoked_at']),
    lastUsedAt: isoOrNull(r['last_used_at']),
  }));
}

/** What a token with `scopes` may call: customer look-ups, SCIM, and `/api/me` to check itself. */
export function tokenMayCall(scopes: readonly string[], method: string, url: string): boolean {
  const path = url.split('?')[0] ?? '';
  if (method === 'GET' && path === '/api/me') return true;
  if (path.startsWith('/scim/v2/') || path === '/scim/v2') return scopes.includes('scim');
  if (method === 'GET' && (path === '/api/supply-points' || path.startsWith('/api/supply-points/'))) return scopes.includes('customer.read');
  return false;
}
