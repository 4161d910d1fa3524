import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { checkAssignment, derivedRetailer, DUTIES, EMPLOYMENTS, SIDES, type Side, type StaffAssignment } from '../domain/organization.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import { revokeTokensOf } from './api-tokens.ts';
import { affiliatedCode, engagementsOf, organization } from './assignments.ts';
import type { Db, Queryable } from '../store/db.ts';

/**
 * SCIM 2.0 Users (RFC 7643 / 7644) for the HR system: joiners, movers and leavers. A SCIM User is a person
 * with the login ID the HR system provisions for them (`userName`) and, in gridwall's extension, the staff
 * assignment in force (organization, side, employment, office, duty). People are never deleted — the log
 * needs them — so DELETE and `active: false` both mean "left".
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ASSIGNMENT_SCHEMA = 'urn:gridwall:params:scim:schemas:extension:2.0:Assignment';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * A SCIM error (RFC 7644 §3.12): the HTTP status and, where one fits, the `scimType`. `rule` names the
 * gridwall rule a refused assignment broke (`retailer_mismatch`, `unknown_organization`, …) for the
 * governance log; the detail starts with it too, so the HR system's operator sees it.
 */
export class ScimError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 501,
    readonly scimType: 'invalidValue' | 'invalidSyntax' | 'invalidFilter' | 'uniqueness' | 'mutability' | 'noTarget' | 'invalidPath' | null,
    message: string,
    readonly rule: string | null = null,
  ) {
    super(message);
  }
}

const booleanish = z.union([z.boolean(), z.enum(['True', 'False', 'true', 'false']).transform((v) => v.toLowerCase() === 'true')]);

const assignmentSchema = z.object({
  organizationId: z.string().min(1).max(64),
  side: z.enum(SIDES),
  employment: z.enum(EMPLOYMENTS),
  office: z.string().min(1).max(100),
  duty: z.enum(DUTIES),
  retailerCode: z.string().min(1).max(16).nullable().optional(),
});
export type ScimAssignment = z.infer<typeof assignmentSchema>;

const userSchema = z
  .object({
    schemas: z.array(z.string()).refine((s) => s.includes(USER_SCHEMA), `schemas must include ${USER_SCHEMA}`),
    userName: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'userName: 1–64 letters, digits, . _ @ -'),
    externalId: z.string().min(1).max(100).nullable().optional(),
    displayName: z.string().min(1).max(200).optional(),
    name: z
      .object({ formatted: z.string().min(1).max(200).optional() })
      .passthrough()
      .optional(),
    active: booleanish.optional(),
    emails: z
      .array(z.object({ value: z.string().max(254), type: z.string().optional(), primary: booleanish.optional() }).passthrough())
      .max(20)
      .optional(),
    [ASSIGNMENT_SCHEMA]: assignmentSchema.optional(),
  })
  .passthrough();

/** An address notifications may be mailed to: one line, one @, nothing a mail header would read as a list or a name. */
const MAIL_ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

/**
 * Where notifications are mailed (persons.email): the `work` address, else the primary one; null when there is
 * neither (a home address is never used unless HR marked it primary).
 */
function mailAddress(emails: readonly { value: string; type?: string | undefined; primary?: boolean | undefined }[] | undefined): string | null {
  const chosen = emails?.find((e) => e.type?.toLowerCase() === 'work') ?? emails?.find((e) => e.primary === true);
  if (chosen === undefined) return null;
  const value = chosen.value.trim();
  if (!MAIL_ADDRESS.test(value)) throw new ScimError(400, 'invalidValue', 'emails: the work (or primary) address is not an e-mail address');
  return value;
}

/** The state a SCIM request asks for, validated. */
export interface DesiredUser {
  readonly userName: string;
  readonly externalId: string | null;
  readonly name: string;
  readonly active: boolean;
  /** The work (or primary) e-mail address, where notifications are mailed; null: none. */
  readonly email: string | null;
  readonly assignment: ScimAssignment | null;
}

/** Validates a SCIM User body into the desired state; the message names the attribute at fault. */
export function parseUser(body: unknown): DesiredUser {
  const r = userSchema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScimError(400, 'invalidValue', `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`);
  }
  const u = r.data;
  const name = u.name?.formatted ?? u.displayName;
  if (name === undefined) throw new ScimError(400, 'invalidValue', 'name.formatted or displayName is required');
  const active = u.active ?? true;
  const assignment = u[ASSIGNMENT_SCHEMA] ?? null;
  if (active && assignment === null)
    throw new ScimError(400, 'invalidValue', `an active user needs ${ASSIGNMENT_SCHEMA} (organization, side, employment, office, duty)`);
  return { userName: u.userName, externalId: u.externalId ?? null, name, active, email: mailAddress(u.emails), assignment };
}

interface PatchOp {
  readonly op: string;
  readonly path?: string;
  readonly value?: unknown;
}

/**
 * Applies a PatchOp request to the current resource and returns the new full resource. Supports what HR
 * connectors send: replace/add/remove of top-level attributes, `name.formatted`, and the extension's
 * attributes, with or without a path.
 */
export function applyPatch(current: Record<string, unknown>, body: unknown): Record<string, unknown> {
  const parsed = z
    .object({
      schemas: z.array(z.string()),
      Operations: z.array(z.object({ op: z.string(), path: z.string().optional(), value: z.unknown().optional() })).min(1),
    })
    .safeParse(body);
  if (!parsed.success || !parsed.data.schemas.includes(PATCH_SCHEMA))
    throw new ScimError(400, 'invalidSyntax', `a PATCH body is a ${PATCH_SCHEMA} with Operations`);
  const next: Record<string, unknown> = structuredClone(current);
  let retailerStated = false;
  for (const op of parsed.data.Operations as PatchOp[]) {
    const kind = op.op.toLowerCase();
    if (kind !== 'replace' && kind !== 'add' && kind !== 'remove') throw new ScimError(400, 'invalidSyntax', `unknown PATCH op ${op.op}`);
    if (op.path === undefined) {
      if (kind === 'remove' || typeof op.value !== 'object' || op.value === null)
        throw new ScimError(400, 'noTarget', 'a PATCH op without a path needs an object value');
      for (const [k, v] of Object.entries(op.value)) {
        retailerStated ||= statesRetailer(k, v);
        setPath(next, k, v);
      }
    } else {
      retailerStated ||= statesRetailer(op.path, op.value);
      setPath(next, op.path, kind === 'remove' ? undefined : op.value);
    }
  }
  return retailerStated ? next : dropCarriedRetailer(current, next);
}

/** Whether a PATCH operation on `path` says which retailer the person acts for. */
function statesRetailer(path: string, value: unknown): boolean {
  if (path === `${ASSIGNMENT_SCHEMA}:retailerCode`) return true;
  return path === ASSIGNMENT_SCHEMA && typeof value === 'object' && value !== null && 'retailerCode' in value;
}

/**
 * After a PATCH that moves a person to another organization or side without saying which retailer, the
 * `retailerCode` left over from the current resource is dropped: the new organization decides it (issue 14),
 * rather than the old one's code being checked against it.
 */
function dropCarriedRetailer(current: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const before = current[ASSIGNMENT_SCHEMA];
  const after = next[ASSIGNMENT_SCHEMA];
  if (typeof before !== 'object' || before === null || typeof after !== 'object' || after === null) return next;
  const b = before as Record<string, unknown>;
  const { retailerCode: _carried, ...rest } = after as Record<string, unknown>;
  const moved = rest['organizationId'] !== b['organizationId'] || rest['side'] !== b['side'];
  return moved ? { ...next, [ASSIGNMENT_SCHEMA]: rest } : next;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  if (path === 'userName' && value !== target['userName'])
    throw new ScimError(400, 'mutability', 'userName is the login ID and cannot change; provision a new user');
  if (path.startsWith(`${ASSIGNMENT_SCHEMA}:`)) {
    const attr = path.slice(ASSIGNMENT_SCHEMA.length + 1);
    const ext = { ...((target[ASSIGNMENT_SCHEMA] as Record<string, unknown> | undefined) ?? {}) };
    ext[attr] = value;
    target[ASSIGNMENT_SCHEMA] = ext;
    return;
  }
  if (path === ASSIGNMENT_SCHEMA) {
    target[ASSIGNMENT_SCHEMA] = { ...(target[ASSIGNMENT_SCHEMA] ?? {}), ...(value as Record<string, unknown>) };
    return;
  }
  if (path === 'name.formatted') {
    target['name'] = { ...(target['name'] ?? {}), formatted: value };
    return;
  }
  // What Entra ID sends for the work address; the whole list is replaced by it.
  if (/^emails\[type eq "work"\]\.value$/i.test(path)) {
    target['emails'] = value === undefined ? [] : [{ value, type: 'work', primary: true }];
    return;
  }
  if (['active', 'externalId', 'displayName', 'name', 'userName', 'emails'].includes(path)) {
    target[path] = value;
    return;
  }
  throw new ScimError(400, 'invalidPath', `attribute ${path} is not supported`);
}

interface UserRow {
  person_id: string;
  name: string;
  external_id: string | null;
  email: string | null;
  active: boolean;
  user_id: string;
  created_at: Date | string;
  updated_at: Date | string;
  organization_id: string | null;
  side: Side | null;
  employment: string | null;
  office: string | null;
  duty: string | null;
  retailer_code: string | null;
}

const USER_SELECT = `SELECT p.id AS person_id, p.name, p.external_id, p.email, p.active, a.user_id, a.created_at, p.updated_at,
    s.organization_id, s.side, s.employment, s.office, s.duty, s.retailer_code
  FROM persons p JOIN accounts a ON a.person_id = p.id AND a.provisioned_by = 'scim'
  LEFT JOIN LATERAL (SELECT * FROM staff_assignments s WHERE s.person_id = p.id AND s.valid_from <= $1 AND (s.valid_to IS NULL OR s.valid_to > $1)
                     ORDER BY s.valid_from DESC LIMIT 1) s ON true`;

function toResource(r: UserRow, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA, ASSIGNMENT_SCHEMA],
    id: r.person_id,
    ...(r.external_id === null ? {} : { externalId: r.external_id }),
    userName: r.user_id,
    name: { formatted: r.name },
    displayName: r.name,
    ...(r.email === null ? {} : { emails: [{ value: r.email, type: 'work', primary: true }] }),
    active: r.active,
    ...(r.organization_id === null
      ? {}
      : {
          [ASSIGNMENT_SCHEMA]: {
            organizationId: r.organization_id,
            side: r.side,
            employment: r.employment,
            office: r.office,
            duty: r.duty,
            retailerCode: r.retailer_code,
          },
        }),
    meta: {
      resourceType: 'User',
      created: new Date(r.created_at).toISOString(),
      lastModified: new Date(r.updated_at).toISOString(),
      location: `${baseUrl}/Users/${r.person_id}`,
    },
  };
}

/** What a change did, for the response and the tests. */
export interface ScimOutcome {
  readonly resource: Record<string, unknown>;
  readonly revokedGrants: readonly number[];
  readonly endedSessions: number;
}

/** Ends a person's sessions; the app passes its Sessions so its cache forgets them at once. */
export type EndSessions = (tx: Queryable, personId: string, at: Date) => Promise<number>;

/**
 * Revokes the grants a move makes wrong, in the move's transaction; the app passes governance's functions
 * (identity records who people are and does not import the grant workflow).
 */
export interface GrantRevocations {
  /** Grants the person may no longer hold on `side` (null: a leaver holds none); the ids revoked. */
  forSide(tx: Queryable, personId: string, side: Side | null, by: GovernanceActor, at: Date): Promise<number[]>;
  /** Grants tied to the retailer the person served before (`from`) when they now serve `to`; the ids revoked. */
  forRetailerChange(tx: Queryable, personId: string, from: string, to: string, by: GovernanceActor, at: Date): Promise<number[]>;
}

export class ScimUsers {
  constructor(
    private readonly db: Db,
    private readonly baseUrl: string,
    private readonly endSessions: EndSessions,
    private readonly revocations: GrantRevocations,
  ) {}

  async get(id: string, at: Date, q: Queryable = this.db): Promise<Record<string, unknown>> {
    const { rows } = await q.query<UserRow & Record<string, unknown>>(`${USER_SELECT} WHERE p.id = $2`, [at, id]);
    const r = rows[0];
    if (r === undefined) throw new ScimError(404, null, `no User ${id}`);
    return toResource(r, this.baseUrl);
  }

  /** Lists users; the filters HR connectors use (`userName eq "…"`, `externalId eq "…"`) are supported. */
  async list(filter: string | undefined, startIndex: number, count: number, at: Date) {
    let where = '';
    const params: unknown[] = [at];
    if (filter !== undefined && filter.trim() !== '') {
      const m = /^\s*(userName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
      if (m === null) throw new ScimError(400, 'invalidFilter', 'supported filters: userName eq "…", externalId eq "…"');
      params.push((m[2] ?? '').replace(/\\(.)/g, '$1'));
      where = m[1]?.toLowerCase() === 'username' ? 'WHERE a.user_id = $2' : 'WHERE p.external_id = $2';
    }
    const total = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM (${USER_SELECT} ${where}) x`, params);
    const n = params.length;
    const { rows } = await this.db.query<UserRow & Record<string, unknown>>(`${USER_SELECT} ${where} ORDER BY a.user_id LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...params,
      count,
      startIndex - 1,
    ]);
    return {
      schemas: [LIST_SCHEMA],
      totalResults: Number(total.rows[0]?.n ?? 0),
      startIndex,
      itemsPerPage: rows.length,
      Resources: rows.map((r) => toResource(r, this.baseUrl)),
    };
  }

  /** A joiner: person, SCIM-provisioned account and first assignment, in one transaction. */
  async create(by: GovernanceActor, desired: DesiredUser, at: Date): Promise<ScimOutcome> {
    return this.db.transaction(async (tx) => {
      const taken = await tx.query('SELECT 1 FROM accounts WHERE user_id = $1', [desired.userName]);
      if (taken.rows.length > 0) throw new ScimError(409, 'uniqueness', `userName ${desired.userName} is taken`);
      if (desired.externalId !== null) {
        const ext = await tx.query('SELECT 1 FROM persons WHERE external_id = $1', [desired.externalId]);
        if (ext.rows.length > 0) throw new ScimError(409, 'uniqueness', `externalId ${desired.externalId} is taken`);
      }
      const assignment = desired.active && desired.assignment !== null ? await this.#resolve(tx, desired.assignment, at) : null;
      const personId = `p-${randomUUID()}`;
      await tx.query('INSERT INTO persons (id, name, external_id, email, active, updated_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        personId,
        desired.name,
        desired.externalId,
        desired.email,
        desired.active,
        at,
      ]);
      await tx.query(
        `INSERT INTO accounts (user_id, person_id, created_at, disabled_at, disabled_reason, provisioned_by) VALUES ($1, $2, $3, $4, $5, 'scim')`,
        [desired.userName, personId, at, desired.active ? null : at, desired.active ? null : 'left'],
      );
      if (assignment !== null) await this.#insert(tx, personId, assignment, at);
      await recordGovernance(tx, {
        at,
        actor: by,
        action: 'scim.user.create',
        subjectType: 'person',
        subjectId: personId,
        outcome: 'done',
        details: { userName: desired.userName, assignment },
      });
      return { resource: await this.get(personId, at, tx), revokedGrants: [], endedSessions: 0 };
    });
  }

  /**
   * Brings a person to the desired state. A move — to another organization, side or retailer — ends the
   * person's sessions and revokes, in the same transaction, every grant the new side may not hold and, when
   * the retailer changes, every customer-data grant (whose customers are "own" changed); a leaver loses every
   * grant, every account and every session at once.
   */
  async replace(by: GovernanceActor, id: string, desired: DesiredUser, at: Date): Promise<ScimOutcome> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<UserRow & Record<string, unknown>>(`${USER_SELECT} WHERE p.id = $2 FOR UPDATE OF p`, [at, id]);
      const cur = rows[0];
      if (cur === undefined) throw new ScimError(404, null, `no User ${id}`);
      if (desired.userName !== cur.user_id) throw new ScimError(400, 'mutability', 'userName is the login ID and cannot change; provision a new user');
      let revoked: number[] = [];
      let ended = 0;
      const changes: Record<string, unknown> = {};
      if (desired.name !== cur.name || desired.externalId !== cur.external_id) {
        await tx.query('UPDATE persons SET name = $2, external_id = $3, updated_at = $4 WHERE id = $1', [id, desired.name, desired.externalId, at]);
        changes['name'] = desired.name;
      }
      if (desired.email !== cur.email) {
        await tx.query('UPDATE persons SET email = $2 WHERE id = $1', [id, desired.email]);
        // Whether it changed, never the address itself: the governance log is read more widely than HR's records.
        changes['emailChanged'] = true;
      }
      if (!desired.active) {
        if (cur.active || cur.organization_id !== null) {
          // Leaver: the assignment ends now; accounts are disabled, sessions ended and grants revoked at once.
          await tx.query('DELETE FROM staff_assignments WHERE person_id = $1 AND valid_from >= $2', [id, at]);
          await tx.query('UPDATE staff_assignments SET valid_to = $2 WHERE person_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2)', [
            id,
            at,
          ]);
          await tx.query(`UPDATE accounts SET disabled_at = $2, disabled_reason = 'left' WHERE person_id = $1 AND disabled_at IS NULL`, [id, at]);
          await tx.query('UPDATE persons SET active = false, updated_at = $2 WHERE id = $1', [id, at]);
          revoked = await this.revocations.forSide(tx, id, null, by, at);
          ended = await this.endSessions(tx, id, at);
          // Tokens the leaver answers for end too, for good: a rejoin does not bring them back (issue 14).
          changes['revokedTokens'] = await revokeTokensOf(tx, by, id, 'owner left', at);
          changes['left'] = true;
        }
      } else {
        if (desired.assignment === null) throw new ScimError(400, 'invalidValue', `an active user needs ${ASSIGNMENT_SCHEMA}`);
        const a = await this.#resolve(tx, desired.assignment, at);
        if (!cur.active) {
          await tx.query('UPDATE persons SET active = true, updated_at = $2 WHERE id = $1', [id, at]);
          // Dormancy counts from the rejoin, not from the last login before the person left.
          await tx.query(`UPDATE accounts SET disabled_at = NULL, disabled_reason = NULL, reenabled_at = $2 WHERE user_id = $1 AND disabled_reason = 'left'`, [
            cur.user_id,
            at,
          ]);
          changes['rejoined'] = true;
        }
        const same =
          cur.organization_id === a.organizationId &&
          cur.side === a.side &&
          cur.employment === a.employment &&
          cur.office === a.office &&
          cur.duty === a.duty &&
          cur.retailer_code === a.retailerCode;
        if (!same) {
          // An assignment starting at this very instant is replaced rather than cut to nothing.
          await tx.query('DELETE FROM staff_assignments WHERE person_id = $1 AND valid_from >= $2', [id, at]);
          await tx.query('UPDATE staff_assignments SET valid_to = $2 WHERE person_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2)', [
            id,
            at,
          ]);
          await this.#insert(tx, id, a, at);
          changes['assignment'] = a;
          const had = cur.organization_id !== null;
          const sideChanged = had && cur.side !== a.side;
          const retailerChanged = had && cur.retailer_code !== a.retailerCode;
          if (had && (sideChanged || retailerChanged || cur.organization_id !== a.organizationId)) {
            // A mover (issue 14): what the new side may not hold goes now, and so do the old sessions, whose
            // actor still acts for the old organization. Customer-data grants approved while acting for one
            // retailer do not carry over to another: they are asked for and approved again.
            revoked = await this.revocations.forSide(tx, id, a.side, by, at);
            if (retailerChanged && cur.retailer_code !== null && a.retailerCode !== null) {
              revoked = [...revoked, ...(await this.revocations.forRetailerChange(tx, id, cur.retailer_code, a.retailerCode, by, at))];
              changes['retailerChanged'] = { from: cur.retailer_code, to: a.retailerCode };
            }
            ended = await this.endSessions(tx, id, at);
            // A mover no longer answers for the old side's systems: their tokens are asked for again.
            changes['revokedTokens'] = await revokeTokensOf(tx, by, id, 'owner moved', at);
            if (sideChanged) changes['sideChanged'] = { from: cur.side, to: a.side };
            if (cur.organization_id !== a.organizationId) changes['organizationChanged'] = { from: cur.organization_id, to: a.organizationId };
          }
        }
      }
      await tx.query('UPDATE persons SET updated_at = $2 WHERE id = $1', [id, at]);
      await recordGovernance(tx, {
        at,
        actor: by,
        action: 'scim.user.update',
        subjectType: 'person',
        subjectId: id,
        outcome: 'done',
        details: { ...changes, revokedGrants: revoked, endedSessions: ended },
      });
      return { resource: await this.get(id, at, tx), revokedGrants: revoked, endedSessions: ended };
    });
  }

  /**
   * The assignment a request asks for, as it would be stored: the organization must exist, a retailer code
   * must be a known retailer, a code left out is derived from the organization (or the contractor company's
   * engagement on that side), and the result must pass the domain's `checkAssignment` — the side and retailer
   * follow from the organization, never from what HR typed (issue 14).
   */
  async #resolve(tx: Queryable, a: ScimAssignment, at: Date): Promise<Resolved> {
    const attr = (name: string) => `${ASSIGNMENT_SCHEMA}:${name}`;
    const org = await organization(tx, a.organizationId);
    if (org === null)
      throw new ScimError(
        400,
        'invalidValue',
        `unknown_organization: ${attr('organizationId')} ${a.organizationId} is not a known organization`,
        'unknown_organization',
      );
    if (a.retailerCode !== undefined && a.retailerCode !== null) {
      const known = await tx.query('SELECT 1 FROM retailers WHERE code = $1', [a.retailerCode]);
      if (known.rows.length === 0)
        throw new ScimError(400, 'invalidValue', `unknown_retailer: ${attr('retailerCode')} ${a.retailerCode} is not a known retailer`, 'unknown_retailer');
    }
    const affiliated = await affiliatedCode(tx);
    const engagements = org.kind === 'contractor' ? await engagementsOf(tx, org.id) : [];
    const retailerCode = a.retailerCode ?? derivedRetailer(a.side, org, engagements, affiliated, at);
    const staff: StaffAssignment = {
      personId: '',
      organizationId: org.id,
      employment: a.employment,
      side: a.side,
      retailerCode,
      office: a.office,
      duty: a.duty,
      validFrom: at,
      validTo: null,
    };
    const problems = checkAssignment(staff, org, { affiliatedCode: affiliated, engagements });
    const [first] = problems;
    if (first !== undefined) {
      const acting =
        org.kind === 'contractor'
          ? `the contractor company ${org.id}'s engagements in force`
          : `${org.id} (${org.kind}${org.retailerCode === null ? '' : ` ${org.retailerCode}`})`;
      throw new ScimError(
        400,
        'invalidValue',
        `${problems.join(', ')}: ${attr('side')} ${a.side}, ${attr('retailerCode')} ${retailerCode ?? 'null'}, ${attr('employment')} ${a.employment}, ${attr('duty')} ${a.duty} contradict ${acting}`,
        first,
      );
    }
    return { organizationId: org.id, employment: a.employment, side: a.side, retailerCode, office: a.office, duty: a.duty };
  }

  async #insert(tx: Queryable, personId: string, a: Resolved, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO staff_assignments (person_id, organization_id, employment, side, retailer_code, office, duty, valid_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [personId, a.organizationId, a.employment, a.side, a.retailerCode, a.office, a.duty, at],
    );
  }
}

/** An assignment checked against its organization, ready to be stored (the retailer decided). */
type Resolved = Pick<StaffAssignment, 'organizationId' | 'employment' | 'side' | 'retailerCode' | 'office' | 'duty'>;
