import { z } from 'zod';
import { ASSIGNMENT_SCHEMA, PATCH_SCHEMA, resolvePath, ScimError, type AttrPath } from './scim-schema.ts';

/**
 * PATCH (RFC 7644 §3.5.2) as the big identity providers send it, applied to the current resource: the
 * result is validated as a whole (`parseUser`) like a PUT. Paths may carry a schema URN, a value filter
 * (`emails[type eq "work"].value`) and a sub-attribute; an op without a path takes an object whose keys are
 * paths (what Entra ID sends: `{"name.givenName": …, "urn:…:enterprise:2.0:User:employeeNumber": …}`).
 * Attributes gridwall does not keep (title, phone numbers, the enterprise extension, …) are checked against
 * the schema and dropped; an attribute the User does not have is a 400 `invalidPath`, a read-only one
 * `mutability`, an unknown op `invalidSyntax`, a remove without a path `noTarget`.
 */
export function applyPatch(current: Record<string, unknown>, body: unknown): Record<string, unknown> {
  const parsed = z
    .object({
      schemas: z.array(z.string()),
      Operations: z.array(z.object({ op: z.string(), path: z.string().max(500).optional(), value: z.unknown().optional() })).min(1),
    })
    .safeParse(body);
  if (!parsed.success || !parsed.data.schemas.includes(PATCH_SCHEMA))
    throw new ScimError(400, 'invalidSyntax', `a PATCH body is a ${PATCH_SCHEMA} with Operations`);
  const next: Record<string, unknown> = structuredClone(current);
  let retailerStated = false;
  for (const op of parsed.data.Operations) {
    const kind = op.op.toLowerCase();
    if (kind !== 'replace' && kind !== 'add' && kind !== 'remove')
      throw new ScimError(400, 'invalidSyntax', `unknown PATCH op ${op.op}: add, replace or remove`);
    if (op.path === undefined) {
      if (kind === 'remove') throw new ScimError(400, 'noTarget', 'a remove needs a path');
      if (!isObject(op.value)) throw new ScimError(400, 'invalidSyntax', `an ${kind} without a path needs an object value`);
      for (const [k, v] of Object.entries(op.value)) retailerStated = apply(next, kind, k, v) || retailerStated;
    } else retailerStated = apply(next, kind, op.path, op.value) || retailerStated;
  }
  return retailerStated ? next : dropCarriedRetailer(current, next);
}

type Op = 'add' | 'replace' | 'remove';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies one operation; returns whether it said which retailer the person acts for. */
function apply(target: Record<string, unknown>, kind: Op, path: string, value: unknown): boolean {
  const p = resolvePath(path, true);
  if (kind !== 'remove' && value === undefined) throw new ScimError(400, 'invalidSyntax', `${kind} ${path} needs a value`);
  if (!p.stored) return false;
  if (p.schema === ASSIGNMENT_SCHEMA) return applyAssignment(target, kind, p, value);
  const key = p.attr ?? '';
  if (kind === 'remove' && p.sub === null && p.filter === null && (key === 'active' || key === 'userName'))
    throw new ScimError(400, 'mutability', `${key} cannot be removed; replace it`);
  if (p.filter !== null) applyFiltered(target, kind, key, p, value);
  else if (p.sub !== null) {
    if (p.multiValued) {
      const list = Array.isArray(target[key]) ? (target[key] as unknown[]) : [];
      if (list.length === 0 && kind !== 'remove') throw new ScimError(400, 'noTarget', `${path}: ${key} has no value to set ${p.sub} on`);
      target[key] = list.map((e) => setSub(e, p.sub ?? '', kind, value));
    } else target[key] = setSub(target[key], p.sub, kind, value);
  } else if (kind === 'remove') delete target[key];
  else if (p.multiValued) {
    const values: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
    target[key] = kind === 'add' && Array.isArray(target[key]) ? [...(target[key] as unknown[]), ...values] : values;
  } else if (p.complex) {
    // RFC 7644 §3.5.2.3: sub-attributes not given are left as they are, for replace as for add.
    if (!isObject(value)) throw new ScimError(400, 'invalidValue', `${path} is complex: its value is an object of sub-attributes`);
    target[key] = { ...(isObject(target[key]) ? target[key] : {}), ...value };
  } else target[key] = value;
  return false;
}

function setSub(element: unknown, sub: string, kind: Op, value: unknown): Record<string, unknown> {
  const o = { ...(isObject(element) ? element : {}) };
  if (kind === 'remove') delete o[sub];
  else o[sub] = value;
  return o;
}

/** `emails[type eq "work"].value`: the values the filter selects; a `type` filter that selects none adds one. */
function applyFiltered(target: Record<string, unknown>, kind: Op, key: string, p: AttrPath, value: unknown): void {
  const f = p.filter;
  if (f === null) return;
  const list = Array.isArray(target[key]) ? [...(target[key] as unknown[])] : [];
  const matches = (e: unknown) => {
    const v = isObject(e) ? e[f.attr] : undefined;
    return typeof v === 'string' && typeof f.value === 'string' ? v.toLowerCase() === f.value.toLowerCase() : v === f.value;
  };
  if (kind === 'remove') {
    target[key] = p.sub === null ? list.filter((e) => !matches(e)) : list.map((e) => (matches(e) ? setSub(e, p.sub ?? '', kind, value) : e));
    return;
  }
  if (!list.some(matches)) {
    if (f.attr !== 'type') throw new ScimError(400, 'noTarget', `no ${key} value matches ${f.attr} eq ${String(f.value)}`);
    // Entra ID sends the work address this way whether or not there is one yet (its own "Add" or "Replace").
    const made = p.sub === null ? { ...(isObject(value) ? value : {}), type: f.value } : { type: f.value, [p.sub]: value };
    target[key] = [...list, key === 'emails' && f.value === 'work' ? { primary: true, ...made } : made];
    return;
  }
  target[key] = list.map((e) => {
    if (!matches(e)) return e;
    if (p.sub !== null) return setSub(e, p.sub, kind, value);
    if (!isObject(value)) throw new ScimError(400, 'invalidValue', `${key}[…] is complex: its value is an object of sub-attributes`);
    return kind === 'add' ? { ...(isObject(e) ? e : {}), ...value } : { ...value, [f.attr]: f.value };
  });
}

function applyAssignment(target: Record<string, unknown>, kind: Op, p: AttrPath, value: unknown): boolean {
  const ext = { ...(isObject(target[ASSIGNMENT_SCHEMA]) ? target[ASSIGNMENT_SCHEMA] : {}) };
  if (p.attr === null) {
    if (kind === 'remove') {
      delete target[ASSIGNMENT_SCHEMA];
      return false;
    }
    if (!isObject(value)) throw new ScimError(400, 'invalidValue', `${ASSIGNMENT_SCHEMA} is an object of the assignment's attributes`);
    target[ASSIGNMENT_SCHEMA] = { ...ext, ...value };
    return 'retailerCode' in value;
  }
  if (kind === 'remove') delete ext[p.attr];
  else ext[p.attr] = value;
  target[ASSIGNMENT_SCHEMA] = ext;
  return p.attr === 'retailerCode';
}

/**
 * After a PATCH that moves a person to another organization or side without saying which retailer, the
 * `retailerCode` left over from the current resource is dropped: the new organization decides it (issue 14),
 * rather than the old one's code being checked against it.
 */
function dropCarriedRetailer(current: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const before = current[ASSIGNMENT_SCHEMA];
  const after = next[ASSIGNMENT_SCHEMA];
  if (!isObject(before) || !isObject(after)) return next;
  const { retailerCode: _carried, ...rest } = after;
  const moved = rest['organizationId'] !== before['organizationId'] || rest['side'] !== before['side'];
  return moved ? { ...next, [ASSIGNMENT_SCHEMA]: rest } : next;
}
