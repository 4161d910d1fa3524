import { DUTIES, EMPLOYMENTS, SIDES } from '../domain/organization.ts';

/**
 * What a SCIM User is made of, written once (RFC 7643): the attributes gridwall stores and returns, the
 * ones it accepts from the big identity providers and does not keep, and the discovery documents
 * (`/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig`, RFC 7644 §4) made from the same definitions, so
 * what the server says it does and what it does cannot drift.
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const ASSIGNMENT_SCHEMA = 'urn:gridwall:params:scim:schemas:extension:2.0:Assignment';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

/** The most Users one list answers (`count` above it is cut to it): ServiceProviderConfig's `filter.maxResults`. */
export const MAX_RESULTS = 200;

export const SCIM_TYPES = ['invalidValue', 'invalidSyntax', 'invalidFilter', 'uniqueness', 'mutability', 'noTarget', 'invalidPath'] as const;
export type ScimType = (typeof SCIM_TYPES)[number];

/**
 * A SCIM error (RFC 7644 §3.12): the HTTP status and, where one fits, the `scimType`. `rule` names the
 * gridwall rule a refused assignment broke (`retailer_mismatch`, `unknown_organization`, …) for the
 * governance log; the detail starts with it too, so the HR system's operator sees it.
 */
export class ScimError extends Error {
  constructor(
    readonly status: 400 | 404 | 405 | 409 | 501,
    readonly scimType: ScimType | null,
    message: string,
    readonly rule: string | null = null,
  ) {
    super(message);
  }
}

interface Attribute {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'integer' | 'complex' | 'reference';
  readonly multiValued?: boolean;
  readonly required?: boolean;
  readonly mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  readonly returned?: 'always' | 'never' | 'default' | 'request';
  readonly uniqueness?: 'none' | 'server' | 'global';
  readonly caseExact?: boolean;
  readonly canonicalValues?: readonly string[];
  readonly description: string;
  readonly subAttributes?: readonly Attribute[];
  /** false: accepted (what Entra ID and Okta send), not kept, not returned, not in the published schema. */
  readonly stored?: boolean;
}

const str = (name: string, description: string, more: Partial<Attribute> = {}): Attribute => ({ name, type: 'string', description, ...more });
const ignored = (name: string, more: Partial<Attribute> = {}): Attribute => ({
  name,
  type: 'string',
  description: 'accepted, not kept',
  stored: false,
  ...more,
});
const multi = (name: string, subs: readonly string[], stored = false): Attribute => ({
  name,
  type: 'complex',
  multiValued: true,
  description: stored ? name : 'accepted, not kept',
  stored,
  subAttributes: subs.map((s) => (s === 'primary' ? { name: s, type: 'boolean', description: s, stored } : str(s, s, { stored }))),
});

/** RFC 7643 §4.1, as gridwall takes it: what is stored is returned; the rest is accepted and dropped. */
const USER_ATTRIBUTES: readonly Attribute[] = [
  str('userName', 'the login name HR gives the person (printable ASCII, 1–256 characters); unique ignoring case; may change (the account and person stay)', {
    required: true,
    uniqueness: 'server',
    caseExact: false,
  }),
  {
    name: 'name',
    type: 'complex',
    description: 'the name gridwall shows (formatted) and its family and given names; the other parts are accepted, not kept',
    subAttributes: [
      str('formatted', 'the full name, as displayName'),
      str('familyName', 'kept; a change to it alone rebuilds the name shown (familyName givenName)'),
      str('givenName', 'kept; a change to it alone rebuilds the name shown (familyName givenName)'),
      ...['middleName', 'honorificPrefix', 'honorificSuffix'].map((n) => ignored(n)),
    ],
  },
  str('displayName', 'the name gridwall shows; a change to it wins over name.formatted'),
  { name: 'active', type: 'boolean', description: 'false: the person left (every account disabled, grant revoked, session ended)' },
  multi('emails', ['value', 'type', 'primary'], true),
  ...['nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone'].map((n) => ignored(n)),
  multi('phoneNumbers', ['value', 'display', 'type', 'primary']),
  multi('ims', ['value', 'display', 'type', 'primary']),
  multi('photos', ['value', 'display', 'type', 'primary']),
  multi('addresses', ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type', 'primary']),
  multi('entitlements', ['value', 'display', 'type', 'primary']),
  multi('roles', ['value', 'display', 'type', 'primary']),
  multi('x509Certificates', ['value', 'display', 'type', 'primary']),
  { ...multi('groups', ['value', '$ref', 'display', 'type']), mutability: 'readOnly' },
];

/** RFC 7643 §4.3: sent by Entra ID and Okta, accepted, not kept (gridwall places a person by the Assignment). */
const ENTERPRISE_ATTRIBUTES: readonly Attribute[] = [
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((n) => ignored(n)),
  {
    name: 'manager',
    type: 'complex',
    description: 'accepted, not kept',
    stored: false,
    subAttributes: ['value', '$ref', 'displayName'].map((n) => ignored(n)),
  },
];

/** gridwall's extension: the staff assignment, which decides everything the person may read. */
const ASSIGNMENT_ATTRIBUTES: readonly Attribute[] = [
  str('organizationId', 'the employing organization (organizations.id); side and retailer follow from it', { required: true, caseExact: true }),
  str('side', 'whom the person acts for', { required: true, caseExact: true, canonicalValues: SIDES }),
  str('employment', 'employee of the organization, or contractor', { required: true, caseExact: true, canonicalValues: EMPLOYMENTS }),
  str('office', 'the office (営業所, センター)', { required: true }),
  str('duty', 'the duty', { required: true, caseExact: true, canonicalValues: DUTIES }),
  str('retailerCode', 'the retailer acted for; derived from the organization when left out', { caseExact: true }),
  {
    name: 'inForce',
    type: 'boolean',
    mutability: 'readOnly',
    description:
      'true: the assignment in force; false: one not in force — held for a person created or moved while not active, a leaver’s last one (both placed by active: true), or an active person’s that ended',
  },
];

/** RFC 7643 §3.1's common attributes: `externalId` is the client's; the others are gridwall's to set. */
const READ_ONLY_CORE: ReadonlyMap<string, string> = new Map(['id', 'meta', 'schemas'].map((n) => [n.toLowerCase(), n]));
const EXTERNAL_ID: Attribute = str('externalId', 'the HR system’s identifier for the person (unique)', { caseExact: true });

interface SchemaDef {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly Attribute[];
}
const USER_DEFS: readonly SchemaDef[] = [
  { id: USER_SCHEMA, name: 'User', description: 'A person, with the login name HR gives them', attributes: USER_ATTRIBUTES },
  { id: ENTERPRISE_SCHEMA, name: 'EnterpriseUser', description: 'Accepted, not kept', attributes: ENTERPRISE_ATTRIBUTES },
  {
    id: ASSIGNMENT_SCHEMA,
    name: 'Assignment',
    description: 'The staff assignment: the one in force, else the one held or last (inForce false)',
    attributes: ASSIGNMENT_ATTRIBUTES,
  },
];

/** Where a PATCH path or an `attributes` entry points, with the names as the schema spells them. */
export interface AttrPath {
  readonly schema: string;
  /** null: the whole extension object (`urn:…:Assignment`). */
  readonly attr: string | null;
  readonly filter: { readonly attr: string; readonly value: string | boolean } | null;
  readonly sub: string | null;
  /** Whether gridwall keeps it (false: accepted and dropped). */
  readonly stored: boolean;
  readonly multiValued: boolean;
  readonly complex: boolean;
}

const find = (list: readonly Attribute[] | undefined, name: string) => list?.find((a) => a.name.toLowerCase() === name.toLowerCase());

/**
 * Parses a path (RFC 7644 §3.5.2's `attrPath / valuePath [subAttr]`, with an optional schema URN) against the
 * User's schemas: an unknown attribute is `invalidPath`, a read-only one `mutability`, a filter other than
 * `sub eq "…"` / `eq true|false` `invalidFilter`. Attribute names are case-insensitive (RFC 7643 §2.1).
 */
export function resolvePath(path: string, forWrite: boolean): AttrPath {
  let rest = path.trim();
  let def: SchemaDef = USER_DEFS[0] as SchemaDef;
  const lower = rest.toLowerCase();
  for (const d of USER_DEFS) {
    const urn = d.id.toLowerCase();
    if (lower === urn) {
      if (d.id === USER_SCHEMA) throw new ScimError(400, 'invalidPath', `${path} names the resource itself: leave the path out`);
      return { schema: d.id, attr: null, filter: null, sub: null, stored: d.id === ASSIGNMENT_SCHEMA, multiValued: false, complex: true };
    }
    if (lower.startsWith(`${urn}:`)) {
      def = d;
      rest = rest.slice(urn.length + 1);
      break;
    }
  }
  if (rest.toLowerCase().startsWith('urn:')) throw new ScimError(400, 'invalidPath', `${path}: unknown schema`);
  const m = /^([A-Za-z$][\w$-]*)(?:\[([^\]]+)\])?(?:\.([A-Za-z$][\w$-]*))?$/.exec(rest);
  if (m === null) throw new ScimError(400, 'invalidPath', `${path} is not an attribute path`);
  const [, name = '', filterText, subName] = m;
  const common = def.id === USER_SCHEMA ? READ_ONLY_CORE.get(name.toLowerCase()) : undefined;
  if (common !== undefined) {
    if (forWrite || filterText !== undefined || subName !== undefined)
      throw new ScimError(400, forWrite ? 'mutability' : 'invalidPath', `${name} is set by gridwall, not by the client`);
    return { schema: USER_SCHEMA, attr: common, filter: null, sub: null, stored: true, multiValued: false, complex: false };
  }
  const attr = def.id === USER_SCHEMA && name.toLowerCase() === 'externalid' ? EXTERNAL_ID : find(def.attributes, name);
  if (attr === undefined) throw new ScimError(400, 'invalidPath', `${path}: ${def.name} has no attribute ${name}`);
  if (forWrite && attr.mutability === 'readOnly') throw new ScimError(400, 'mutability', `${attr.name} is read-only`);
  let filter: AttrPath['filter'] = null;
  if (filterText !== undefined) {
    if (attr.multiValued !== true) throw new ScimError(400, 'invalidPath', `${path}: ${attr.name} is not multi-valued`);
    const f = /^\s*([A-Za-z$][\w$-]*)\s+eq\s+(?:"((?:[^"\\]|\\.)*)"|(true|false))\s*$/i.exec(filterText);
    if (f === null) throw new ScimError(400, 'invalidFilter', `${path}: supported value filters are sub eq "…" and sub eq true|false`);
    const fAttr = find(attr.subAttributes, f[1] ?? '');
    if (fAttr === undefined) throw new ScimError(400, 'invalidPath', `${path}: ${attr.name} has no sub-attribute ${f[1] ?? ''}`);
    filter = { attr: fAttr.name, value: f[3] === undefined ? (f[2] ?? '').replace(/\\(.)/g, '$1') : f[3].toLowerCase() === 'true' };
  }
  let sub: string | null = null;
  if (subName !== undefined) {
    const s = find(attr.subAttributes, subName);
    if (s === undefined) throw new ScimError(400, 'invalidPath', `${path}: ${attr.name} has no sub-attribute ${subName}`);
    sub = s.name;
  }
  const subStored = sub === null ? attr.stored !== false : find(attr.subAttributes, sub)?.stored !== false && attr.stored !== false;
  return {
    schema: def.id,
    attr: attr.name,
    filter,
    sub,
    stored: def.id !== ENTERPRISE_SCHEMA && subStored,
    multiValued: attr.multiValued === true,
    complex: attr.type === 'complex',
  };
}

/**
 * A partial representation (RFC 7644 §3.4.2.5, §3.9): only `attributes`, or all but `excludedAttributes`;
 * `id` and `schemas` always. Entries name an attribute, a sub-attribute or an extension, with or without the
 * schema URN; an entry naming no attribute of the User is a 400 `invalidPath`.
 */
export function project(resource: Record<string, unknown>, attributes: string | undefined, excluded: string | undefined): Record<string, unknown> {
  const list = (s: string | undefined) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '')
      .map((x) => resolvePath(x, false));
  const wanted = list(attributes);
  const unwanted = list(excluded);
  if (wanted.length > 0 && unwanted.length > 0) throw new ScimError(400, 'invalidValue', 'attributes and excludedAttributes are mutually exclusive');
  const keyOf = (p: AttrPath) => (p.schema === USER_SCHEMA ? p.attr : p.schema);
  if (wanted.length > 0) {
    const out: Record<string, unknown> = { schemas: resource['schemas'], id: resource['id'] };
    for (const p of wanted) {
      const key = keyOf(p);
      if (key === null || !(key in resource)) continue;
      const value = resource[key];
      if (p.schema !== USER_SCHEMA && p.attr !== null) {
        const ext = (value ?? {}) as Record<string, unknown>;
        const into = ((out[key] as Record<string, unknown> | undefined) ??= {});
        if (p.attr in ext) into[p.attr] = ext[p.attr];
      } else if (p.sub !== null && typeof value === 'object' && value !== null) {
        const pick = (o: unknown) =>
          typeof o === 'object' && o !== null && p.sub !== null && p.sub in o ? { [p.sub]: (o as Record<string, unknown>)[p.sub] } : {};
        const already = out[key];
        out[key] = Array.isArray(value) ? value.map(pick) : { ...(typeof already === 'object' && already !== null ? already : {}), ...pick(value) };
      } else out[key] = value;
    }
    return out;
  }
  const out = structuredClone(resource);
  for (const p of unwanted) {
    const key = keyOf(p);
    if (key === null || key === 'id' || key === 'schemas') continue;
    if (p.schema !== USER_SCHEMA && p.attr !== null) delete (out[key] as Record<string, unknown> | undefined)?.[p.attr];
    else if (p.sub !== null) {
      const v = out[key];
      for (const o of Array.isArray(v) ? v : [v]) if (typeof o === 'object' && o !== null) delete (o as Record<string, unknown>)[p.sub];
    } else delete out[key];
  }
  return out;
}

function published(a: Attribute): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    description: a.description,
    required: a.required ?? false,
    caseExact: a.caseExact ?? false,
    mutability: a.mutability ?? 'readWrite',
    returned: a.returned ?? 'default',
    uniqueness: a.uniqueness ?? 'none',
    ...(a.canonicalValues === undefined ? {} : { canonicalValues: a.canonicalValues }),
    ...(a.subAttributes === undefined ? {} : { subAttributes: a.subAttributes.filter((s) => s.stored !== false).map(published) }),
  };
}

const meta = (base: string, resourceType: string, path: string) => ({ resourceType, location: `${base}/${path}` });

/** The discovery schemas of RFC 7643 §5–7 (the attributes a client reads), server-defined and read-only. */
const ro = (name: string, type: Attribute['type'], more: Partial<Attribute> = {}): Attribute => ({
  name,
  type,
  description: name,
  mutability: 'readOnly',
  ...more,
});
const supported = (name: string, subs: readonly Attribute[] = []): Attribute =>
  ro(name, 'complex', { required: true, subAttributes: [ro('supported', 'boolean', { required: true }), ...subs] });
const DISCOVERY_DEFS: readonly SchemaDef[] = [
  {
    id: SPC_SCHEMA,
    name: 'ServiceProviderConfig',
    description: 'Service Provider Configuration',
    attributes: [
      ro('documentationUri', 'reference'),
      supported('patch'),
      supported('bulk', [ro('maxOperations', 'integer'), ro('maxPayloadSize', 'integer')]),
      supported('filter', [ro('maxResults', 'integer')]),
      supported('changePassword'),
      supported('sort'),
      supported('etag'),
      ro('authenticationSchemes', 'complex', {
        multiValued: true,
        required: true,
        subAttributes: ['type', 'name', 'description'].map((n) => ro(n, 'string', { required: true })),
      }),
    ],
  },
  {
    id: RESOURCE_TYPE_SCHEMA,
    name: 'ResourceType',
    description: 'Resource type',
    attributes: [
      ro('id', 'string'),
      ro('name', 'string', { required: true }),
      ro('description', 'string'),
      ro('endpoint', 'reference', { required: true }),
      ro('schema', 'reference', { required: true, caseExact: true }),
      ro('schemaExtensions', 'complex', {
        multiValued: true,
        subAttributes: [ro('schema', 'reference', { required: true, caseExact: true }), ro('required', 'boolean', { required: true })],
      }),
    ],
  },
  {
    id: SCHEMA_SCHEMA,
    name: 'Schema',
    description: 'Specifies the schema attributes',
    attributes: [
      ro('id', 'string', { required: true }),
      ro('name', 'string'),
      ro('description', 'string'),
      ro('attributes', 'complex', {
        multiValued: true,
        required: true,
        subAttributes: ['name', 'type', 'mutability', 'returned', 'uniqueness'].map((n) => ro(n, 'string')),
      }),
    ],
  },
];

function schemaResource(d: SchemaDef, base: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: d.id,
    name: d.name,
    description: d.description,
    attributes: d.attributes.filter((a) => a.stored !== false).map(published),
    meta: meta(base, 'Schema', `Schemas/${d.id}`),
  };
}

/** `/Schemas` (RFC 7644 §4): the User, its Assignment extension, and the discovery resources' own schemas. */
export function schemas(base: string): Record<string, unknown>[] {
  return [...USER_DEFS.filter((d) => d.id !== ENTERPRISE_SCHEMA), ...DISCOVERY_DEFS].map((d) => schemaResource(d, base));
}

/**
 * `/ResourceTypes`: one, User. The Assignment extension is **required** (RFC 7643 §6): gridwall cannot say what
 * a person may read without the organization and side it comes from, so a POST or PUT without it is refused,
 * and every User returned carries it — the assignment in force, else the one held or the last one, with
 * `inForce: false` — except a person handed over to SCIM who never had one (nothing to show until HR states it).
 */
export function resourceTypes(base: string): Record<string, unknown>[] {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      description: 'A person at the network operator, a retailer or a contractor company',
      endpoint: '/Users',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ASSIGNMENT_SCHEMA, required: true }],
      meta: meta(base, 'ResourceType', 'ResourceTypes/User'),
    },
  ];
}

/** What the server does, truthfully (RFC 7643 §5). */
export function serviceProviderConfig(base: string): Record<string, unknown> {
  return {
    schemas: [SPC_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'a gridwall API token with the scim scope, approved by a second access administrator (Authorization: Bearer gw_…)',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        primary: true,
      },
    ],
    meta: meta(base, 'ServiceProviderConfig', 'ServiceProviderConfig'),
  };
}
