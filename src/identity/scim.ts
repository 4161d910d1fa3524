import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { checkAssignment, derivedRetailer, DUTIES, EMPLOYMENTS, SIDES, type Side, type StaffAssignment } from '../domain/organization.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import { revokeTokensOf } from './api-tokens.ts';
import { affiliatedCode, engagementsOf, organization } from './assignments.ts';
import { applyPatch } from './scim-patch.ts';
import { ASSIGNMENT_SCHEMA, LIST_SCHEMA, MAX_RESULTS, ScimError, USER_SCHEMA } from './scim-schema.ts';
import { USER_ID_PATTERN } from '../contract/common.ts';
import type { Db, Queryable } from '../store/db.ts';

export { applyPatch } from './scim-patch.ts';
export { ASSIGNMENT_SCHEMA, ENTERPRISE_SCHEMA, ERROR_SCHEMA, LIST_SCHEMA, PATCH_SCHEMA, ScimError, USER_SCHEMA } from './scim-schema.ts';

/**
 * SCIM 2.0 Users (RFC 7643 / 7644) for the HR system: joiners, movers and leavers. A SCIM User is a person
 * (kind `human`; never a system behind a service account) with one of their accounts — the one SCIM made or
 * took over, else the enabled, newest one — and, in gridwall's extension, the staff assignment (organization,
 * side, employment, office, duty) with whether it is in force: the one in force; else the one HR stated while
 * the person was not active (held on the person, never in force); else the last one (a leaver's, or an active
 * person's that ended). A re-enable places the one shown. `userName` is the account's login name
 * (`accounts.user_name`): unique ignoring case, kept as spelled, and it may change; the account's user ID —
 * what the log, sessions and grants name — never does. People are never deleted, the log needs them: DELETE
 * is a leaver whose SCIM view is gone (RFC 7644 §3.6).
 */

/**
 * A login name as HR gives it: printable ASCII without spaces, up to 256 characters — an Entra ID UPN may hold
 * `' ! # ^ ~ +` and be 113 characters long. It is not the user ID (see `userIdFor`).
 */
const USER_NAME = /^[\x21-\x7e]{1,256}$/;

/**
 * The user ID a new account gets for `userName` (before the collision check): the userName itself when it is
 * written as user IDs are everywhere (USER_ID_PATTERN: the access log, URLs, CSV, the 64-character identifier
 * of the API), else a safe form — each other character as `_`, cut to 55 — and `-` with the first 8 hex digits
 * of the SHA-256 of the userName ignoring case, so it depends on the name alone and two names that read alike
 * once made safe (`o'neil`, `o+neil`) do not meet.
 */
export function userIdFor(userName: string): string {
  if (USER_ID_PATTERN.test(userName)) return userName;
  const digest = createHash('sha256').update(userName.toLowerCase(), 'utf8').digest('hex').slice(0, 8);
  return `${userName.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64 - 1 - digest.length)}-${digest}`;
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
    userName: z.string().regex(USER_NAME, 'userName: 1–256 printable ASCII characters, no space or control character'),
    externalId: z.string().min(1).max(100).nullable().optional(),
    displayName: z.string().min(1).max(200).optional(),
    name: z
      .object({
        formatted: z.string().min(1).max(200).optional(),
        familyName: z.string().max(100).optional(),
        givenName: z.string().max(100).optional(),
      })
      .passthrough()
      .optional(),
    active: booleanish.optional(),
    emails: z
      .array(z.object({ value: z.string().max(254).optional(), type: z.string().optional(), primary: booleanish.optional() }).passthrough())
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
function mailAddress(emails: readonly { value?: string | undefined; type?: string | undefined; primary?: boolean | undefined }[] | undefined): string | null {
  const chosen = emails?.find((e) => e.type?.toLowerCase() === 'work') ?? emails?.find((e) => e.primary === true);
  if (chosen?.value === undefined) return null;
  const value = chosen.value.trim();
  if (!MAIL_ADDRESS.test(value)) throw new ScimError(400, 'invalidValue', 'emails: the work (or primary) address is not an e-mail address');
  return value;
}

/** The state a SCIM request asks for, validated. */
export interface DesiredUser {
  readonly userName: string;
  readonly externalId: string | null;
  readonly name: string;
  /** `name.familyName`, `name.givenName` as sent (null: not sent). */
  readonly familyName: string | null;
  readonly givenName: string | null;
  readonly active: boolean;
  /** The work (or primary) e-mail address, where notifications are mailed; null: none. */
  readonly email: string | null;
  readonly assignment: ScimAssignment | null;
}

/** The name a PUT or PATCH starts from: the stored name and the parts stored with it (null: never sent). */
export interface CurrentName {
  readonly name: string;
  readonly familyName: string | null;
  readonly givenName: string | null;
}

/**
 * Validates a SCIM User body into the desired state; the message names the attribute at fault.
 *
 * The name gridwall shows: `displayName` and `name.formatted` both carry it. Against the `current` name (PUT,
 * PATCH) **the one the client changed wins**, `displayName` when both changed; when neither changed but a part
 * of `name` (`familyName`, `givenName`) was given a new value, the name is rebuilt from the parts as on a
 * create. On a create `displayName`, else `name.formatted`, else `familyName givenName` (Japanese order). Parts
 * seen for the first time (none stored yet) are recorded without rebuilding a name the client also sent.
 *
 * The Assignment extension is required (the ResourceType says so): without it gridwall cannot say what the
 * person may read.
 */
export function parseUser(body: unknown, current?: CurrentName): DesiredUser {
  const r = userSchema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScimError(400, 'invalidValue', `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`);
  }
  const u = r.data;
  const display = u.displayName;
  const formatted = u.name?.formatted;
  const part = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : v.trim());
  const familyName = part(u.name?.familyName);
  const givenName = part(u.name?.givenName);
  const composed = [familyName, givenName].filter((s) => s !== null).join(' ') || undefined;
  const changed = (v: string | undefined) => v !== undefined && v !== current?.name;
  const partsKnown = current !== undefined && (current.familyName !== null || current.givenName !== null);
  const partsChanged =
    current !== undefined &&
    (partsKnown || (display === undefined && formatted === undefined)) &&
    ((familyName !== null && familyName !== current.familyName) || (givenName !== null && givenName !== current.givenName));
  const name = changed(display)
    ? display
    : changed(formatted)
      ? formatted
      : partsChanged && composed !== undefined
        ? composed
        : (display ?? formatted ?? current?.name ?? composed);
  if (name === undefined) throw new ScimError(400, 'invalidValue', 'displayName (or name.formatted) is required');
  const assignment = u[ASSIGNMENT_SCHEMA] ?? null;
  if (assignment === null)
    throw new ScimError(
      400,
      'invalidValue',
      `${ASSIGNMENT_SCHEMA} is required (organizationId, side, employment, office, duty): it decides what the person may read`,
    );
  return {
    userName: u.userName,
    externalId: u.externalId ?? null,
    name,
    familyName,
    givenName,
    active: u.active ?? true,
    email: mailAddress(u.emails),
    assignment,
  };
}

interface UserRow {
  person_id: string;
  name: string;
  family_name: string | null;
  given_name: string | null;
  external_id: string | null;
  email: string | null;
  active: boolean;
  user_id: string;
  user_name: string;
  provisioned_by: string;
  created_at: Date | string;
  updated_at: Date | string;
  /** The assignment in force, or the last one before `at` (a leaver's); `in_force` says which. */
  organization_id: string | null;
  side: Side | null;
  employment: string | null;
  office: string | null;
  duty: string | null;
  retailer_code: string | null;
  in_force: boolean | null;
  /** The assignment HR stated while the person was not active (persons.scim_assignment_held), never in force. */
  held: Resolved | null;
  /** The last assignment ended by its own end (or an import's), not by the person leaving: echoed back, it is not placed again. */
  ended_on_its_own: boolean | null;
}

/**
 * Every SCIM User: a human person not deleted over SCIM, with the account that is their User — one SCIM made
 * or an operator handed over (`provisioned_by` `scim`, see `handOverToScim`; the enabled, newest one if there
 * are several; never a service account) — and their latest assignment.
 */
const USER_SELECT = `SELECT p.id AS person_id, p.name, p.family_name, p.given_name, p.external_id, p.email, p.active, a.user_id, a.user_name, a.provisioned_by,
    a.created_at, p.updated_at, s.organization_id, s.side, s.employment, s.office, s.duty, s.retailer_code, s.in_force, p.scim_assignment_held AS held,
    (s.valid_to IS NOT NULL AND s.valid_to <= $1 AND (p.active OR a.disabled_at IS NULL OR s.valid_to < a.disabled_at)) AS ended_on_its_own
  FROM persons p
  JOIN LATERAL (SELECT a.* FROM accounts a WHERE a.person_id = p.id AND a.kind = 'person' AND a.user_name IS NOT NULL AND a.provisioned_by = 'scim'
                ORDER BY a.disabled_at IS NULL DESC, a.created_at DESC, a.user_id LIMIT 1) a ON true
  LEFT JOIN LATERAL (SELECT s.*, (s.valid_to IS NULL OR s.valid_to > $1) AS in_force FROM staff_assignments s
                     WHERE s.person_id = p.id AND s.valid_from <= $1 ORDER BY s.valid_from DESC LIMIT 1) s ON true
  WHERE p.kind = 'human' AND p.scim_deleted_at IS NULL`;

/** The assignment a User shows, and whether it is in force. */
type Shown = Resolved & { readonly inForce: boolean };

/**
 * What the Assignment extension shows (RFC 7643 §6: the ResourceType requires it, so every User carries one
 * once the person has ever had one): the assignment in force; else the one HR stated while the person was not
 * active (held, what `active: true` places); else the last one — a leaver's (what `active: true` places
 * again) or an active person's that ended (never placed again by being echoed back: see `endedAsShown`). `inForce` says
 * which. Null: the person never had one (an account handed over without an assignment).
 */
function shownAssignment(row: UserRow): Shown | null {
  if (row.in_force !== true && row.held !== null) return { ...row.held, inForce: false };
  if (row.organization_id === null || row.side === null) return null;
  return {
    organizationId: row.organization_id,
    side: row.side,
    employment: row.employment as Resolved['employment'],
    office: row.office ?? '',
    duty: row.duty as Resolved['duty'],
    retailerCode: row.retailer_code,
    inForce: row.in_force === true,
  };
}

/**
 * Whether `a` is the person's last assignment stated as the User shows it (inForce false), where that
 * assignment ended on its own — not by the person leaving (a leaver's is what `active: true` places again) and
 * not one held for a person created inactive.
 */
function endedAsShown(cur: UserRow, a: ScimAssignment): boolean {
  const shown = shownAssignment(cur);
  return shown !== null && !shown.inForce && cur.held === null && cur.ended_on_its_own === true && sameAssignment(a, shown);
}

/** Whether an assignment as a request states it is the one shown (a left-out `retailerCode` is the derived one). */
function sameAssignment(a: ScimAssignment, shown: Shown): boolean {
  return (
    a.organizationId === shown.organizationId &&
    a.side === shown.side &&
    a.employment === shown.employment &&
    a.office === shown.office &&
    a.duty === shown.duty &&
    (a.retailerCode === undefined || a.retailerCode === null || a.retailerCode === shown.retailerCode)
  );
}

function toResource(r: UserRow, baseUrl: string): Record<string, unknown> {
  const shown = shownAssignment(r);
  return {
    schemas: shown === null ? [USER_SCHEMA] : [USER_SCHEMA, ASSIGNMENT_SCHEMA],
    id: r.person_id,
    ...(r.external_id === null ? {} : { externalId: r.external_id }),
    userName: r.user_name,
    name: {
      formatted: r.name,
      ...(r.family_name === null ? {} : { familyName: r.family_name }),
      ...(r.given_name === null ? {} : { givenName: r.given_name }),
    },
    displayName: r.name,
    ...(r.email === null ? {} : { emails: [{ value: r.email, type: 'work', primary: true }] }),
    active: r.active,
    ...(shown === null
      ? {}
      : {
          [ASSIGNMENT_SCHEMA]: {
            organizationId: shown.organizationId,
            side: shown.side,
            employment: shown.employment,
            office: shown.office,
            duty: shown.duty,
            retailerCode: shown.retailerCode,
            inForce: shown.inForce,
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

/** The filters HR connectors send (Entra ID, Okta: `userName eq "…"`, `externalId eq "…"`, the work e-mail). */
const FILTER =
  /^\s*(?:urn:ietf:params:scim:schemas:core:2\.0:User:)?(userName|externalId|id|emails(?:\[\s*type\s+eq\s+"work"\s*\])?\.value)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i;

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
    return toResource(await this.#row(q, id, at, false), this.baseUrl);
  }

  async #row(q: Queryable, id: string, at: Date, lock: boolean): Promise<UserRow> {
    const { rows } = await q.query<UserRow & Record<string, unknown>>(`${USER_SELECT} AND p.id = $2${lock ? ' FOR UPDATE OF p' : ''}`, [at, id]);
    const r = rows[0];
    if (r === undefined) throw new ScimError(404, null, `no User ${id}`);
    return r;
  }

  /**
   * Lists Users (RFC 7644 §3.4.2). Filters: `userName eq "…"` (ignoring case, RFC 7643 §4.1.1), `externalId eq
   * "…"` (exact), `emails[type eq "work"].value eq "…"` and `id eq "…"`. A `startIndex` below 1 counts as 1,
   * a negative `count` as 0 (§3.4.2.4); `count` is cut to MAX_RESULTS.
   */
  async list(filter: string | undefined, startIndex: number, count: number, at: Date) {
    const from = Math.max(1, startIndex);
    const size = Math.min(MAX_RESULTS, Math.max(0, count));
    let where = '';
    const params: unknown[] = [at];
    if (filter !== undefined && filter.trim() !== '') {
      const m = FILTER.exec(filter);
      if (m === null)
        throw new ScimError(400, 'invalidFilter', 'supported filters: userName eq "…", externalId eq "…", emails[type eq "work"].value eq "…", id eq "…"');
      params.push((m[2] ?? '').replace(/\\(.)/g, '$1'));
      const attr = (m[1] ?? '').toLowerCase();
      where =
        attr === 'username'
          ? 'AND lower(a.user_name) = lower($2)'
          : attr === 'externalid'
            ? 'AND p.external_id = $2'
            : attr === 'id'
              ? 'AND p.id = $2'
              : 'AND lower(p.email) = lower($2)';
    }
    const total = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM (${USER_SELECT} ${where}) x`, params);
    const n = params.length;
    const { rows } =
      size === 0
        ? { rows: [] }
        : await this.db.query<UserRow & Record<string, unknown>>(`${USER_SELECT} ${where} ORDER BY lower(a.user_name), p.id LIMIT $${n + 1} OFFSET $${n + 2}`, [
            ...params,
            size,
            from - 1,
          ]);
    return {
      schemas: [LIST_SCHEMA],
      totalResults: Number(total.rows[0]?.n ?? 0),
      startIndex: from,
      itemsPerPage: rows.length,
      Resources: rows.map((r) => toResource(r, this.baseUrl)),
    };
  }

  /**
   * Refuses a login name another account has as its name or — unless that account's person was deleted over
   * SCIM — as its user ID, ignoring case (RFC 7643 §4.1.1 `uniqueness: server`): a User renamed to another
   * person's user ID, or to a service account's, would be matched by the IdP (and typed at a local login) as
   * somebody else. An account SCIM does not manage yet is named with the command that hands it over.
   */
  async #nameFree(tx: Queryable, userName: string, except: string | null): Promise<void> {
    const { rows } = await tx.query<{ user_id: string; person_id: string; kind: string; provisioned_by: string }>(
      `SELECT a.user_id, a.person_id, a.kind, a.provisioned_by FROM accounts a JOIN persons p ON p.id = a.person_id
        WHERE (lower(a.user_name) = lower($1) OR (lower(a.user_id) = lower($1) AND p.scim_deleted_at IS NULL))
          AND ($2::text IS NULL OR a.user_id <> $2)
        ORDER BY a.kind = 'service' DESC LIMIT 1`,
      [userName, except],
    );
    const holder = rows[0];
    if (holder === undefined) return;
    if (holder.kind === 'service') throw new ScimError(409, 'uniqueness', `userName ${userName} is a service account's user ID; SCIM provisions people`);
    if (holder.provisioned_by !== 'scim')
      throw new ScimError(
        409,
        'uniqueness',
        `userName ${userName} is the account ${holder.user_id}, which gridwall manages outside SCIM: an operator hands it over with \`gridwall accounts scim-handover ${holder.user_id}\`, then the HR system matches it`,
      );
    throw new ScimError(409, 'uniqueness', `userName ${userName} is taken (ignoring case) by User ${holder.person_id}`);
  }

  /**
   * The user ID of a new account: `userIdFor(userName)` — the userName itself when it is written as user IDs
   * are — unless an account already has it (ignoring case) — a renamed or deleted User's, which keeps it for the
   * log — then with `-2`, `-3`, …: a new person's reads are never logged under an old person's ID. A service
   * account's ID is refused: SCIM provisions people.
   */
  async #newUserId(tx: Queryable, userName: string): Promise<string> {
    const holder = async (id: string) =>
      (await tx.query<{ kind: string }>('SELECT kind FROM accounts WHERE lower(user_id) = lower($1) LIMIT 1', [id])).rows[0]?.kind;
    const base = userIdFor(userName);
    const first = await holder(base);
    if (first === undefined) return base;
    if (first === 'service' && base === userName)
      throw new ScimError(409, 'uniqueness', `userName ${userName} is a service account's user ID; SCIM provisions people`);
    for (let n = 2; ; n++) {
      const suffix = `-${n}`;
      const id = `${base.slice(0, 64 - suffix.length)}${suffix}`;
      if ((await holder(id)) === undefined) return id;
    }
  }

  /**
   * A joiner: person, SCIM-provisioned account and first assignment, in one transaction. A User created
   * inactive (Entra ID and Okta create users disabled, then enable them) has its assignment checked and held,
   * not placed: `active: true` places it.
   */
  async create(by: GovernanceActor, body: unknown, at: Date): Promise<ScimOutcome> {
    const desired = parseUser(body);
    return this.db.transaction(async (tx) => {
      await this.#nameFree(tx, desired.userName, null);
      if (desired.externalId !== null) {
        const ext = await tx.query('SELECT 1 FROM persons WHERE external_id = $1', [desired.externalId]);
        if (ext.rows.length > 0) throw new ScimError(409, 'uniqueness', `externalId ${desired.externalId} is taken`);
      }
      const assignment = desired.assignment === null ? null : await this.#resolve(tx, desired.assignment, at);
      const userId = await this.#newUserId(tx, desired.userName);
      const personId = `p-${randomUUID()}`;
      await tx.query(
        'INSERT INTO persons (id, name, family_name, given_name, external_id, email, active, updated_at, scim_assignment_held) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [
          personId,
          desired.name,
          desired.familyName,
          desired.givenName,
          desired.externalId,
          desired.email,
          desired.active,
          at,
          desired.active || assignment === null ? null : JSON.stringify(assignment),
        ],
      );
      await tx.query(
        `INSERT INTO accounts (user_id, user_name, person_id, created_at, disabled_at, disabled_reason, provisioned_by) VALUES ($1, $2, $3, $4, $5, $6, 'scim')`,
        [userId, desired.userName, personId, at, desired.active ? null : at, desired.active ? null : 'left'],
      );
      if (assignment !== null && desired.active) await this.#insert(tx, personId, assignment, at);
      await recordGovernance(tx, {
        at,
        actor: by,
        action: 'scim.user.create',
        subjectType: 'person',
        subjectId: personId,
        outcome: 'done',
        details: {
          userName: desired.userName,
          ...(userId === desired.userName ? {} : { userId }),
          assignment,
          ...(desired.active ? {} : { assignmentHeld: true }),
        },
      });
      return { resource: await this.get(personId, at, tx), revokedGrants: [], endedSessions: 0 };
    });
  }

  /** PUT: the User as the body states it (the name precedence of parseUser against the stored name). */
  async replace(by: GovernanceActor, id: string, body: unknown, at: Date): Promise<ScimOutcome> {
    return this.db.transaction(async (tx) => {
      const cur = await this.#row(tx, id, at, true);
      return this.#change(tx, by, cur, parseUser(body, currentName(cur)), at);
    });
  }

  /** PATCH: the operations applied to the User as it is, read and changed in one transaction. */
  async patch(by: GovernanceActor, id: string, body: unknown, at: Date): Promise<ScimOutcome> {
    return this.db.transaction(async (tx) => {
      const cur = await this.#row(tx, id, at, true);
      return this.#change(tx, by, cur, parseUser(applyPatch(toResource(cur, this.baseUrl), body), currentName(cur)), at);
    });
  }

  /**
   * DELETE (RFC 7644 §3.6): a leaver — every account disabled, grant revoked, session ended — whose SCIM view
   * is gone: GET, PUT, PATCH and DELETE of it answer 404 and lists leave it out. The person stays for the log;
   * the login name and externalId are free again, for a new person (a new account with a new user ID).
   */
  async delete(by: GovernanceActor, id: string, at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      const cur = await this.#row(tx, id, at, true);
      await this.#change(
        tx,
        by,
        cur,
        {
          userName: cur.user_name,
          externalId: cur.external_id,
          name: cur.name,
          familyName: cur.family_name,
          givenName: cur.given_name,
          active: false,
          email: cur.email,
          assignment: null,
        },
        at,
      );
      await tx.query('UPDATE persons SET scim_deleted_at = $2, external_id = NULL, scim_assignment_held = NULL WHERE id = $1', [id, at]);
      await tx.query('UPDATE accounts SET user_name = NULL, user_name_clash = false WHERE person_id = $1', [id]);
      await recordGovernance(tx, {
        at,
        actor: by,
        action: 'scim.user.delete',
        subjectType: 'person',
        subjectId: id,
        outcome: 'done',
        details: { userId: cur.user_id, userName: cur.user_name, externalId: cur.external_id },
      });
    });
  }

  /**
   * Brings a person to the desired state. A new userName renames the account's login name, never
   * its user ID (`scim.user.rename`). A move — to another organization, side or retailer — ends the person's
   * sessions and revokes, in the same transaction, every grant the new side may not hold and, when the
   * retailer changes, every customer-data grant (whose customers are "own" changed); a leaver loses every
   * grant, every account and every session at once.
   */
  async #change(tx: Queryable, by: GovernanceActor, cur: UserRow, desired: DesiredUser, at: Date): Promise<ScimOutcome> {
    const id = cur.person_id;
    if (desired.userName !== cur.user_name) {
      await this.#nameFree(tx, desired.userName, cur.user_id);
      await tx.query('UPDATE accounts SET user_name = $2, user_name_clash = false WHERE user_id = $1', [cur.user_id, desired.userName]);
      await recordGovernance(tx, {
        at,
        actor: by,
        action: 'scim.user.rename',
        subjectType: 'person',
        subjectId: id,
        outcome: 'done',
        details: { userId: cur.user_id, from: cur.user_name, to: desired.userName },
      });
    }
    const inForce = cur.in_force === true && cur.organization_id !== null ? cur : null;
    let revoked: number[] = [];
    let ended = 0;
    const changes: Record<string, unknown> = {};
    if (desired.name !== cur.name || desired.externalId !== cur.external_id || desired.familyName !== cur.family_name || desired.givenName !== cur.given_name) {
      if (desired.externalId !== null && desired.externalId !== cur.external_id) {
        const ext = await tx.query('SELECT 1 FROM persons WHERE external_id = $1 AND id <> $2', [desired.externalId, id]);
        if (ext.rows.length > 0) throw new ScimError(409, 'uniqueness', `externalId ${desired.externalId} is taken`);
      }
      await tx.query('UPDATE persons SET name = $2, external_id = $3, family_name = $4, given_name = $5, updated_at = $6 WHERE id = $1', [
        id,
        desired.name,
        desired.externalId,
        desired.familyName,
        desired.givenName,
        at,
      ]);
      if (desired.name !== cur.name) changes['name'] = desired.name;
    }
    if (desired.email !== cur.email) {
      await tx.query('UPDATE persons SET email = $2 WHERE id = $1', [id, desired.email]);
      // Whether it changed, never the address itself: the governance log is read more widely than HR's records.
      changes['emailChanged'] = true;
    }
    if (!desired.active) {
      if (cur.active || inForce !== null) {
        // Leaver: the assignment ends now; accounts are disabled, sessions ended and grants revoked at once.
        await tx.query('DELETE FROM staff_assignments WHERE person_id = $1 AND valid_from >= $2', [id, at]);
        await tx.query('UPDATE staff_assignments SET valid_to = $2 WHERE person_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2)', [id, at]);
        await tx.query(`UPDATE accounts SET disabled_at = $2, disabled_reason = 'left' WHERE person_id = $1 AND disabled_at IS NULL`, [id, at]);
        await tx.query('UPDATE persons SET active = false, updated_at = $2 WHERE id = $1', [id, at]);
        revoked = await this.revocations.forSide(tx, id, null, by, at);
        ended = await this.endSessions(tx, id, at);
        // Tokens the leaver answers for end too, for good: a rejoin does not bring them back (issue 14).
        changes['revokedTokens'] = await revokeTokensOf(tx, by, id, 'owner left', at);
        changes['left'] = true;
      }
      // An assignment stated for a person who is not active is checked and held, never placed: what
      // `active: true` places (again). The one shown stated again changes nothing.
      const shown = shownAssignment(cur);
      if (desired.assignment !== null && (shown === null || !sameAssignment(desired.assignment, shown))) {
        const held = await this.#resolve(tx, desired.assignment, at);
        await tx.query('UPDATE persons SET scim_assignment_held = $2 WHERE id = $1', [id, JSON.stringify(held)]);
        changes['assignmentHeld'] = held;
      }
    } else if (desired.assignment === null) {
      throw new ScimError(400, 'invalidValue', `an active user needs ${ASSIGNMENT_SCHEMA}`);
    } else {
      if (!cur.active) {
        await tx.query('UPDATE persons SET active = true, scim_assignment_held = NULL, updated_at = $2 WHERE id = $1', [id, at]);
        // Dormancy counts from the rejoin, not from the last login before the person left.
        await tx.query(`UPDATE accounts SET disabled_at = NULL, disabled_reason = NULL, reenabled_at = $2 WHERE user_id = $1 AND disabled_reason = 'left'`, [
          cur.user_id,
          at,
        ]);
        changes['rejoined'] = true;
      }
      if (endedAsShown(cur, desired.assignment)) {
        // An assignment that ended on its own (not by the person leaving), stated as it is shown: what they last
        // had, echoed back (a PATCH of the name; a PUT of the User as read, as Okta updates; an account switched
        // off and on again) — never a statement that widens what they read. It stays ended; HR places one by
        // stating where the person works now.
        changes['assignmentNotInForce'] = true;
      } else {
        const a = await this.#resolve(tx, desired.assignment, at);
        const same =
          inForce !== null &&
          inForce.organization_id === a.organizationId &&
          inForce.side === a.side &&
          inForce.employment === a.employment &&
          inForce.office === a.office &&
          inForce.duty === a.duty &&
          inForce.retailer_code === a.retailerCode;
        if (!same) {
          // An assignment starting at this very instant is replaced rather than cut to nothing.
          await tx.query('DELETE FROM staff_assignments WHERE person_id = $1 AND valid_from >= $2', [id, at]);
          await tx.query('UPDATE staff_assignments SET valid_to = $2 WHERE person_id = $1 AND valid_from < $2 AND (valid_to IS NULL OR valid_to > $2)', [
            id,
            at,
          ]);
          await this.#insert(tx, id, a, at);
          changes['assignment'] = a;
          if (inForce !== null && (inForce.side !== a.side || inForce.retailer_code !== a.retailerCode || inForce.organization_id !== a.organizationId)) {
            const sideChanged = inForce.side !== a.side;
            const retailerChanged = inForce.retailer_code !== a.retailerCode;
            // A mover (issue 14): what the new side may not hold goes now, and so do the old sessions, whose
            // actor still acts for the old organization. Customer-data grants approved while acting for one
            // retailer do not carry over to another: they are asked for and approved again.
            revoked = await this.revocations.forSide(tx, id, a.side, by, at);
            if (retailerChanged && inForce.retailer_code !== null && a.retailerCode !== null) {
              revoked = [...revoked, ...(await this.revocations.forRetailerChange(tx, id, inForce.retailer_code, a.retailerCode, by, at))];
              changes['retailerChanged'] = { from: inForce.retailer_code, to: a.retailerCode };
            }
            ended = await this.endSessions(tx, id, at);
            // A mover no longer answers for the old side's systems: their tokens are asked for again.
            changes['revokedTokens'] = await revokeTokensOf(tx, by, id, 'owner moved', at);
            if (sideChanged) changes['sideChanged'] = { from: inForce.side, to: a.side };
            if (inForce.organization_id !== a.organizationId) changes['organizationChanged'] = { from: inForce.organization_id, to: a.organizationId };
          }
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

/** The name a PUT or PATCH of `row` starts from. */
function currentName(row: UserRow): CurrentName {
  return { name: row.name, familyName: row.family_name, givenName: row.given_name };
}

/** An assignment checked against its organization, ready to be stored (the retailer decided). */
type Resolved = Pick<StaffAssignment, 'organizationId' | 'employment' | 'side' | 'retailerCode' | 'office' | 'duty'>;

/**
 * Permissions whose holders run the controls themselves (who may grant, approve, read the log, declare an
 * emergency): an account holding one is handed over to SCIM only when named, never by `--all` — one HR token
 * must not be able to end every person who could notice or undo what it did.
 */
export const HANDOVER_BY_NAME_ONLY = ['access.admin', 'grants.approve', 'audit.read', 'emergency.declare'] as const;

/** What a hand-over did, account by account. */
export interface HandOver {
  readonly handedOver: readonly { userId: string; userName: string; provisionedBefore: string }[];
  readonly skipped: readonly { userId: string; reason: string }[];
}

/**
 * Introducing HR sync at a site with accounts (docs/access-governance.md): the operator hands existing people's
 * accounts over to SCIM, after which the HR system can match them (`userName` / `externalId`) and manage them
 * — move, rename, end. Until then SCIM neither lists nor changes them, and a POST of the same `userName` is a
 * 409 naming this step. Each account handed over is a governance event (`scim.user.adopt`).
 *
 * `all`: every enabled person's account not yet SCIM's, except those with a local password (a site's
 * break-glass login) and those holding a permission of HANDOVER_BY_NAME_ONLY, which are listed as skipped;
 * named accounts are handed over whatever they hold. Service accounts never. `dryRun` changes nothing.
 */
export async function handOverToScim(
  db: Db,
  target: { readonly userIds: readonly string[] } | { readonly all: true },
  opts: { readonly by: GovernanceActor; readonly at: Date; readonly dryRun: boolean },
): Promise<HandOver> {
  return db.transaction(async (tx) => {
    const named = 'userIds' in target;
    const { rows } = await tx.query<{
      user_id: string;
      user_name: string | null;
      kind: string;
      person_kind: string;
      provisioned_by: string;
      disabled: boolean;
      has_password: boolean;
      controls: string[] | null;
      deleted: boolean;
    }>(
      `SELECT a.user_id, a.user_name, a.kind, p.kind AS person_kind, a.provisioned_by, a.disabled_at IS NOT NULL AS disabled,
              a.password_hash IS NOT NULL AS has_password, p.scim_deleted_at IS NOT NULL AS deleted,
              (SELECT array_agg(DISTINCT g.permission_id ORDER BY g.permission_id) FROM grants g
                WHERE g.user_id = a.user_id AND g.status = 'approved' AND g.expires_at > $3 AND g.permission_id = ANY($2::text[])) AS controls
         FROM accounts a JOIN persons p ON p.id = a.person_id
        WHERE ${named ? 'a.user_id = ANY($1::text[])' : `$1::text[] IS NOT NULL AND a.kind = 'person' AND p.kind = 'human' AND a.provisioned_by <> 'scim' AND a.disabled_at IS NULL`}
        ORDER BY a.user_id`,
      [named ? target.userIds : [], [...HANDOVER_BY_NAME_ONLY], opts.at],
    );
    const handedOver: { userId: string; userName: string; provisionedBefore: string }[] = [];
    const skipped: { userId: string; reason: string }[] = [];
    if (named) for (const id of target.userIds) if (!rows.some((r) => r.user_id === id)) skipped.push({ userId: id, reason: 'no account with this user ID' });
    for (const r of rows) {
      const skip =
        r.kind !== 'person' || r.person_kind !== 'human'
          ? "a service account or a system's: SCIM provisions people"
          : r.provisioned_by === 'scim'
            ? 'already SCIM’s'
            : r.deleted || r.user_name === null
              ? 'deleted over SCIM'
              : !named && r.has_password
                ? 'has a local password (break-glass?): name it to hand it over'
                : !named && r.controls !== null && r.controls.length > 0
                  ? `holds ${r.controls.join(', ')}: name it to hand it over`
                  : null;
      if (skip !== null) {
        skipped.push({ userId: r.user_id, reason: skip });
        continue;
      }
      handedOver.push({ userId: r.user_id, userName: r.user_name ?? r.user_id, provisionedBefore: r.provisioned_by });
      if (opts.dryRun) continue;
      await tx.query(`UPDATE accounts SET provisioned_by = 'scim' WHERE user_id = $1`, [r.user_id]);
      await recordGovernance(tx, {
        at: opts.at,
        actor: opts.by,
        action: 'scim.user.adopt',
        subjectType: 'account',
        subjectId: r.user_id,
        outcome: 'done',
        details: { userName: r.user_name, provisionedBefore: r.provisioned_by, named },
      });
    }
    return { handedOver, skipped };
  });
}
