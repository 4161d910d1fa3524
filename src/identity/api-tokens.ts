import { createHash, randomBytes } from 'node:crypto';
import { actingForOrganization, type Side } from '../domain/organization.ts';
import { refusalFamily, type RefusalKind } from '../domain/refusal.ts';
import { recordGovernance, recordingRefusals, type GovernanceActor } from '../audit/governance-log.ts';
import { DEFAULT_SOD_POLICY, type SodPolicy } from '../domain/separation-of-duties.ts';
import { lockPeopleForSod, reciprocalApproval } from './approvals.ts';
import { dateOrNull, type Db, type Queryable } from '../store/db.ts';
import { affiliatedCode, organization } from './assignments.ts';

/**
 * API tokens — for systems, never for people (issue 14: an access administrator issued a token to a
 * network person's account and read, with it, everything that person may read). A token is issued to a
 * **service account**: an account no person logs in as (the store refuses a session for it), whose identity
 * is a system placed at a retailer's organization (its customer look-ups are that retailer's, under the
 * principal class `retailer_system`) or at none (the HR system, SCIM only). A person answers for each
 * service account (its owner). A token is requested by one access administrator and works only once a
 * second one approved it, expires, and is revoked with its owner's leaving or moving. Only the SHA-256 of
 * its secret is stored; the secret has 256 bits of entropy, so a fast hash is enough.
 */
export const TOKEN_SCOPES = ['customer.read', 'scim'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Longest a token may live: a year, like a grant. */
export const TOKEN_MAX_DAYS = 366;

export const TOKEN_RULES = [
  'invalid_request',
  'not_a_service_account',
  'unknown_account',
  'owner_not_in_force',
  'not_a_retailer_organization',
  'scope_not_allowed',
  'self_approval',
  'reciprocal_approval',
  'not_pending',
  'unknown_token',
] as const;
export type TokenRule = (typeof TOKEN_RULES)[number];

/** Splits an API token `gw_<id>_<secret>`; null when it is not shaped like one. */
export function parseApiToken(token: string): { id: string; secret: string } | null {
  const m = /^gw_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  return m === null ? null : { id: m[1] ?? '', secret: m[2] ?? '' };
}

/** What kind of no each token rule is. */
const TOKEN_REFUSAL_KINDS: Readonly<Record<TokenRule, RefusalKind>> = {
  invalid_request: 'invalid',
  not_a_service_account: 'refused',
  unknown_account: 'refused',
  owner_not_in_force: 'refused',
  not_a_retailer_organization: 'refused',
  scope_not_allowed: 'refused',
  self_approval: 'refused',
  reciprocal_approval: 'refused',
  not_pending: 'conflict',
  unknown_token: 'not_found',
};

/** A refused token or service-account action: the rule it broke and a sentence saying how. */
export class TokenError extends refusalFamily('token', TOKEN_REFUSAL_KINDS) {}

export interface TokenRow {
  readonly id: string;
  readonly name: string;
  readonly userId: string;
  readonly serviceName: string;
  readonly ownerPersonId: string | null;
  readonly scopes: readonly string[];
  readonly status: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly revokeReason: string | null;
  readonly lastUsedAt: Date | null;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function tokenId(): string {
  return [...randomBytes(12)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

const byId = (by: GovernanceActor) => (by.kind === 'system' ? `system:${by.job}` : by.userId);
const byPerson = (by: GovernanceActor) => (by.kind === 'system' ? null : by.personId);

const SYSTEM_OFFICE = 'システム連携';

/**
 * Creates a service account: a system identity (persons row of kind `system`), placed at a retailer's
 * organization when it will look up customers (side and retailer follow from the organization), and its
 * account, answered for by `ownerPersonId` — a person with an assignment in force.
 */
export async function createServiceAccount(
  db: Db,
  by: GovernanceActor,
  spec: { userId: string; name: string; organizationId: string | null; ownerPersonId: string },
  at: Date,
): Promise<{ userId: string; personId: string }> {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(spec.userId)) throw new TokenError('invalid_request', 'userId: 1–64 letters, digits, . _ @ -');
  return db.transaction(async (tx) => {
    const owner = await tx.query(
      `SELECT 1 FROM persons p WHERE p.id = $1 AND p.kind = 'human'
          AND EXISTS (SELECT 1 FROM staff_assignments s WHERE s.person_id = p.id AND s.valid_from <= $2 AND (s.valid_to IS NULL OR $2 < s.valid_to))`,
      [spec.ownerPersonId, at],
    );
    if (owner.rows.length === 0) throw new TokenError('owner_not_in_force', `the owner ${spec.ownerPersonId} must be a person with an assignment in force`);
    const taken = await tx.query('SELECT 1 FROM accounts WHERE lower(user_id) = lower($1)', [spec.userId]);
    if (taken.rows.length > 0) throw new TokenError('invalid_request', `an account ${spec.userId} exists already`);
    // Placed as the organization's own staff would be: the side and retailer follow from it (one rule, the
    // domain's), and only a retailer's — a system never acts for the network side.
    let placement: { organizationId: string; side: Side; retailerCode: string } | null = null;
    if (spec.organizationId !== null) {
      const org = await organization(tx, spec.organizationId);
      const acting = org === null ? null : actingForOrganization(org, await affiliatedCode(tx));
      if (acting === null || acting.side === 'network' || acting.retailerCode === null) {
        throw new TokenError(
          'not_a_retailer_organization',
          `${spec.organizationId} is not a retailer's organization: a service account that looks up customers acts for one retailer`,
        );
      }
      placement = { organizationId: spec.organizationId, side: acting.side, retailerCode: acting.retailerCode };
    }
    const personId = `sys-${spec.userId}`;
    await tx.query(`INSERT INTO persons (id, name, kind) VALUES ($1, $2, 'system')`, [personId, spec.name]);
    if (placement !== null) {
      await tx.query(
        `INSERT INTO staff_assignments (person_id, organization_id, employment, side, retailer_code, office, duty, valid_from, valid_to)
         VALUES ($1, $2, 'employee', $3, $4, $5, 'retail_customer_service', $6, NULL)`,
        [personId, placement.organizationId, placement.side, placement.retailerCode, SYSTEM_OFFICE, at],
      );
    }
    await tx.query(
      `INSERT INTO accounts (user_id, person_id, kind, owner_person_id, created_at, provisioned_by) VALUES ($1, $2, 'service', $3, $4, 'manual')`,
      [spec.userId, personId, spec.ownerPersonId, at],
    );
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'service_account.create',
      subjectType: 'account',
      subjectId: spec.userId,
      outcome: 'done',
      details: { name: spec.name, organizationId: spec.organizationId, ownerPersonId: spec.ownerPersonId },
    });
    return { userId: spec.userId, personId };
  });
}

/**
 * Requests a token for a service account; the returned `token` is shown once and never stored. It works
 * only after a second person approves it (`approveToken`). `customer.read` only for a service account
 * placed at a retailer.
 */
export async function createToken(
  db: Db,
  by: GovernanceActor,
  spec: { userId: string; name: string; scopes: readonly TokenScope[]; expiresAt: Date },
  at: Date,
): Promise<{ id: string; token: string; status: 'pending' }> {
  const days = (spec.expiresAt.getTime() - at.getTime()) / 86_400_000;
  if (!(days > 0) || days > TOKEN_MAX_DAYS) throw new TokenError('invalid_request', `a token expires after now and within ${TOKEN_MAX_DAYS} days`);
  if (spec.scopes.length === 0) throw new TokenError('invalid_request', `give at least one scope: ${TOKEN_SCOPES.join(', ')}`);
  // A person asks (the operator at the command line is nobody the second person could be told apart from).
  if (by.kind !== 'person') throw new TokenError('invalid_request', 'a token is requested by a person (console or API) and approved by a second one');
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ kind: string; placed: boolean; owner_in_force: boolean }>(
      `SELECT a.kind, EXISTS (SELECT 1 FROM staff_assignments s WHERE s.person_id = a.person_id AND s.side <> 'network'
                                 AND s.valid_from <= $2 AND (s.valid_to IS NULL OR $2 < s.valid_to)) AS placed,
              EXISTS (SELECT 1 FROM staff_assignments o WHERE o.person_id = a.owner_person_id
                                 AND o.valid_from <= $2 AND (o.valid_to IS NULL OR $2 < o.valid_to)) AS owner_in_force
         FROM accounts a WHERE a.user_id = $1 AND a.disabled_at IS NULL`,
      [spec.userId, at],
    );
    const account = rows[0];
    if (account === undefined) throw new TokenError('unknown_account', `no usable account ${spec.userId}`);
    if (account.kind !== 'service')
      throw new TokenError('not_a_service_account', `${spec.userId} is a person's account: API tokens are issued to service accounts only`);
    if (!account.owner_in_force) throw new TokenError('owner_not_in_force', `nobody answers for ${spec.userId} now: its owner has no assignment in force`);
    // A retailer's system looks customers up; the HR system provisions people. Never both on one token: a
    // rival retailer's system must not be able to move or remove the operator's staff.
    const allowed: TokenScope = account.placed ? 'customer.read' : 'scim';
    const beyond = spec.scopes.filter((x) => x !== allowed);
    if (beyond.length > 0) {
      throw new TokenError(
        'scope_not_allowed',
        `${spec.userId} is ${account.placed ? "a retailer's system: customer.read only" : 'not placed at a retailer (the HR system): scim only'}; not ${beyond.join(', ')}`,
      );
    }
    const id = tokenId();
    const secret = randomBytes(32).toString('base64url');
    await tx.query(
      `INSERT INTO api_tokens (id, secret_sha256, name, user_id, scopes, created_by, created_by_person, created_at, expires_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending')`,
      [id, createHash('sha256').update(secret).digest(), spec.name, spec.userId, [...spec.scopes], byId(by), byPerson(by), at, spec.expiresAt],
    );
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'token.create',
      subjectType: 'token',
      subjectId: id,
      outcome: 'done',
      details: { userId: spec.userId, name: spec.name, scopes: spec.scopes, expiresAt: spec.expiresAt.toISOString() },
    });
    return { id, token: `gw_${id}_${secret}`, status: 'pending' as const };
  });
}

/** Approves (or rejects) a pending token: a second person — neither who requested it nor who owns the account. */
export async function decideToken(
  db: Db,
  by: { readonly kind: 'person'; readonly userId: string; readonly personId: string },
  id: string,
  decision: 'approved' | 'rejected',
  at: Date,
  sod: SodPolicy = DEFAULT_SOD_POLICY,
): Promise<void> {
  const action = decision === 'approved' ? 'token.approve' : 'token.reject';
  await recordingRefusals(db, 'token', { at, actor: by, action, subjectType: 'token', subjectId: id }, async (tx) => {
    const { rows } = await tx.query<{ status: string; name: string; created_by: string; created_by_person: string | null; owner_person_id: string | null }>(
      'SELECT t.status, t.name, t.created_by, t.created_by_person, a.owner_person_id FROM api_tokens t JOIN accounts a ON a.user_id = t.user_id WHERE t.id = $1 FOR UPDATE OF t',
      [id],
    );
    const t = rows[0];
    if (t === undefined) throw new TokenError('unknown_token', `no token ${id}`);
    if (t.status !== 'pending') throw new TokenError('not_pending', `token ${id} is ${t.status}`);
    if (t.created_by_person === null || t.created_by_person === by.personId || t.owner_person_id === by.personId) {
      throw new TokenError('self_approval', 'a token is approved by a second person: neither the one who requested it nor the owner of its service account');
    }
    if (decision === 'approved') {
      // The token widens what its requester and its service account's owner answer for: a trade with either counts.
      const beneficiaries = [t.created_by_person, ...(t.owner_person_id === null ? [] : [t.owner_person_id])];
      await lockPeopleForSod(tx, [by.personId, ...beneficiaries]);
      const found = await reciprocalApproval(tx, sod, {
        approverPersonId: by.personId,
        approverUserId: by.userId,
        beneficiaryPersonIds: beneficiaries,
        what: `API token ${t.name} asked for by ${t.created_by}`,
        at,
      });
      if (found !== null) throw new TokenError('reciprocal_approval', found.message, found.details);
    }
    await tx.query('UPDATE api_tokens SET status = $2, decided_by = $3, decided_by_person = $4, decided_at = $5 WHERE id = $1', [
      id,
      decision,
      by.userId,
      by.personId,
      at,
    ]);
    await recordGovernance(tx, { at, actor: by, action, subjectType: 'token', subjectId: id, outcome: 'done' });
  });
}

/**
 * Revokes, at once, every live token a person answers for or that is bound to one of their accounts: a
 * token must not outlive its owner's leaving or moving (issue 14: a leaver's token answered again when the
 * person rejoined). Runs inside the caller's transaction; returns the revoked ids.
 */
export async function revokeTokensOf(tx: Queryable, by: GovernanceActor, personId: string, reason: string, at: Date): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE api_tokens t SET revoked_at = $2, revoke_reason = $3
       FROM accounts a WHERE a.user_id = t.user_id AND (a.owner_person_id = $1 OR a.person_id = $1) AND t.revoked_at IS NULL
     RETURNING t.id`,
    [personId, at, reason],
  );
  for (const r of rows)
    await recordGovernance(tx, {
      at,
      actor: by,
      action: 'token.revoke',
      subjectType: 'token',
      subjectId: r.id,
      outcome: 'done',
      details: { reason, personId },
    });
  return rows.map((r) => r.id);
}

/** Revokes a token at once (the next request with it is refused). False when there was nothing to revoke. */
export async function revokeToken(db: Db, by: GovernanceActor, id: string, at: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query(
      `UPDATE api_tokens SET revoked_at = $2, revoke_reason = 'revoked by access administration' WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
      [id, at],
    );
    if (rows.length === 0) return false;
    await recordGovernance(tx, { at, actor: by, action: 'token.revoke', subjectType: 'token', subjectId: id, outcome: 'done' });
    return true;
  });
}

export async function listTokens(q: Queryable): Promise<TokenRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT t.id, t.name, t.user_id, p.name AS service_name, a.owner_person_id, t.scopes, t.status, t.created_by, t.created_at, t.decided_by, t.decided_at,
            t.expires_at, t.revoked_at, t.revoke_reason, t.last_used_at
       FROM api_tokens t JOIN accounts a ON a.user_id = t.user_id JOIN persons p ON p.id = a.person_id ORDER BY t.created_at DESC, t.id`,
  );
  return rows.map((r) => ({
    id: String(r['id']),
    name: String(r['name']),
    userId: String(r['user_id']),
    serviceName: String(r['service_name']),
    ownerPersonId: (r['owner_person_id'] as string | null) ?? null,
    scopes: r['scopes'] as string[],
    status: String(r['status']),
    createdBy: String(r['created_by']),
    createdAt: new Date(r['created_at'] as string),
    decidedBy: (r['decided_by'] as string | null) ?? null,
    decidedAt: dateOrNull(r['decided_at']),
    expiresAt: new Date(r['expires_at'] as string),
    revokedAt: dateOrNull(r['revoked_at']),
    revokeReason: (r['revoke_reason'] as string | null) ?? null,
    lastUsedAt: dateOrNull(r['last_used_at']),
  }));
}

/**
 * The inquiry routes a retailer's system uses (issue 18): ask (one or a batch), follow, read the answer,
 * reply, withdraw — never the service centre's (release, ask back, refuse, direct) nor the figures.
 */
const SYSTEM_INQUIRY_ROUTES: readonly RegExp[] = [
  /^POST \/api\/inquiries(\/batch(\.csv)?)?$/,
  /^GET \/api\/inquiries$/,
  /^GET \/api\/inquiries\/INQ-\d+(\/answer)?$/,
  /^POST \/api\/inquiries\/INQ-\d+\/(reply|withdraw)$/,
];

/** What a token with `scopes` may call: customer look-ups and inquiries, SCIM, and `/api/me` to check itself. */
export function tokenMayCall(scopes: readonly string[], method: string, url: string): boolean {
  const path = url.split('?')[0] ?? '';
  if (method === 'GET' && path === '/api/me') return true;
  if (path.startsWith('/scim/v2/') || path === '/scim/v2') return scopes.includes('scim');
  if (method === 'GET' && (path === '/api/supply-points' || path.startsWith('/api/supply-points/'))) return scopes.includes('customer.read');
  if (SYSTEM_INQUIRY_ROUTES.some((r) => r.test(`${method} ${path}`))) return scopes.includes('customer.read');
  return false;
}
