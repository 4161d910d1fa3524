import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TokenScope } from '../../src/identity/api-tokens.ts';
import { badTextAt } from '../../src/api/input-guards.ts';
import { login, seededApp } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { STORES } from '../support/stores.ts';
import { serviceToken } from '../support/tokens.ts';

type Schema = Readonly<Record<string, unknown>>;
interface Param {
  readonly in: string;
  readonly name: string;
  readonly required?: boolean;
  readonly schema?: Schema;
}
interface Op {
  readonly parameters?: readonly Param[];
  readonly requestBody?: { readonly content?: Readonly<Record<string, { readonly schema?: Schema }>> };
}

/** Values the fixture knows, so that a request is valid but for the one hostile value and reaches the store. */
const KNOWN: Readonly<Record<string, unknown>> = {
  supplyPointId: SP.OWN_A,
  personId: 'p-retail',
  userId: USERS.retail,
  from: '2026-11-01',
  to: '2026-11-01',
  terminalId: TERMINALS.RETAIL,
  startsAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
  plannedEndAt: new Date(NOW.getTime() + 7_200_000).toISOString(),
};
const KNOWN_ID: Readonly<Record<string, string>> = { 'supply-points': SP.OWN_A, emergencies: 'EM-00001', terminals: TERMINALS.RETAIL, Users: 'p-retail' };

/** A value the schema accepts (the first of an enum, a string matching its pattern, the minimum …). */
function validValue(s: Schema, name: string): unknown {
  if (name in KNOWN) return KNOWN[name];
  const en = s['enum'];
  if (Array.isArray(en)) return en[0];
  const type = s['type'] ?? (s['properties'] === undefined ? undefined : 'object');
  if (type === 'string') {
    if (s['format'] === 'date-time') return NOW.toISOString();
    if (typeof s['pattern'] === 'string') return fc.sample(fc.stringMatching(new RegExp(s['pattern'])), { seed: 14, numRuns: 1 })[0];
    return 'x'.repeat(typeof s['minLength'] === 'number' ? Math.max(1, s['minLength']) : 1);
  }
  if (type === 'integer' || type === 'number') return typeof s['minimum'] === 'number' ? Math.max(1, s['minimum']) : 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [validValue((s['items'] as Schema | undefined) ?? {}, name)];
  if (type === 'object') {
    const props = (s['properties'] as Readonly<Record<string, Schema>> | undefined) ?? {};
    return Object.fromEntries(Object.entries(props).map(([k, p]) => [k, validValue(p, k)]));
  }
  return 'x';
}

/** Every string-valued place of a body schema, as a path of keys (array items as index 0). */
function stringPlaces(s: Schema, at: readonly (string | number)[] = []): (readonly (string | number)[])[] {
  const type = s['type'] ?? (s['properties'] === undefined ? undefined : 'object');
  if (type === 'string') return [at];
  if (type === 'array') return stringPlaces((s['items'] as Schema | undefined) ?? {}, [...at, 0]);
  if (type !== 'object') return [];
  return Object.entries((s['properties'] as Readonly<Record<string, Schema>> | undefined) ?? {}).flatMap(([k, p]) => stringPlaces(p, [...at, k]));
}

function withValue(v: unknown, at: readonly (string | number)[], x: unknown): unknown {
  const [head, ...rest] = at;
  if (head === undefined) return x;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  copy[head] = withValue(copy[head], rest, x);
  return copy;
}

interface Case {
  readonly label: string;
  readonly where: 'path' | 'query' | 'body';
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
  readonly contentType: string;
}

/** The route's URL with every path and query parameter valid, but `hostile` given `value`. */
function routeUrl(path: string, params: readonly Param[], hostile: Param | null, value: string): string {
  let u = path;
  const q = new URLSearchParams();
  const segments = path.split('/');
  for (const p of params) {
    const known = p.in === 'path' ? KNOWN_ID[segments[segments.indexOf(`{${p.name}}`) - 1] ?? ''] : undefined;
    const v = p === hostile ? value : String(known ?? validValue(p.schema ?? {}, p.name));
    if (p.in === 'path') u = u.replace(`{${p.name}}`, encodeURIComponent(v));
    else if (p.in === 'query' && (p === hostile || p.required === true)) q.append(p.name, v);
  }
  return q.size === 0 ? u : `${u}?${q.toString()}`;
}

/**
 * For every route: a NUL in each string path / query parameter, and a NUL and a lone surrogate in each
 * string place of the body, the rest of the request valid.
 */
function hostileTextCases(paths: Readonly<Record<string, Readonly<Record<string, Op>>>>): Case[] {
  const cases: Case[] = [];
  for (const [path, methods] of Object.entries(paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const method = m.toUpperCase();
      const params = op.parameters ?? [];
      const content = Object.entries(op.requestBody?.content ?? {})[0];
      const contentType = content?.[0] ?? 'application/json';
      const bodySchema = content?.[1].schema;
      const body = bodySchema === undefined ? undefined : validValue(bodySchema, 'body');
      for (const p of params) {
        if (p.schema?.['type'] !== 'string' || (p.in !== 'path' && p.in !== 'query')) continue;
        cases.push({
          label: `${method} ${path} ${p.in} ${p.name} with NUL`,
          where: p.in,
          method,
          url: routeUrl(path, params, p, `${String(validValue(p.schema, p.name))}\u0000`),
          body,
          contentType,
        });
      }
      for (const at of bodySchema === undefined ? [] : stringPlaces(bodySchema)) {
        const valid = at.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], body);
        for (const [what, bad] of [
          ['NUL', '\u0000'],
          ['a lone surrogate', '\ud800'],
        ] as const) {
          cases.push({
            label: `${method} ${path} body /${at.join('/')} with ${what}`,
            where: 'body',
            method,
            url: routeUrl(path, params, null, ''),
            body: withValue(body, at, `${typeof valid === 'string' ? valid : 'x'}${bad}`),
            contentType,
          });
        }
      }
    }
  }
  return cases;
}

for (const store of STORES) {
  describe(`hostile input on every route on ${store.name} (issue 14)`, () => {
    const w = seededApp(store, { loginRateLimit: 1_000_000 }, seedEmergencyRoles);
    let paths: Readonly<Record<string, Readonly<Record<string, Op>>>>;
    const callers: Record<string, () => Promise<Record<string, string>>> = {};

    before(async () => {
      paths = (await w.app.inject({ method: 'GET', url: '/api/openapi.json' })).json().paths;
      const session = (user: string, terminal?: string) => async () => {
        const s = await login(w.app, user, terminal);
        return { cookie: s.cookie, 'x-csrf-token': s.csrf };
      };
      /** An approved token on a service account of its own, made as production makes one (test/support/tokens.ts). */
      const token = async (scopes: readonly TokenScope[]) => {
        const t = await serviceToken(w.db, {
          userId: `svc-${scopes.join('-').replace(/\./g, '')}`,
          organizationId: scopes.includes('customer.read') ? 'org-r0002' : null,
          scopes,
          days: 1,
        });
        return async () => ({ authorization: `Bearer ${t.token}` });
      };
      callers['anonymous'] = async () => ({});
      callers['administrator'] = session(USERS.admin);
      callers['compliance'] = session(USERS.compliance);
      callers['call centre'] = session(USERS.callCentre, TERMINALS.CC);
      callers['retail'] = session(USERS.retail, TERMINALS.RETAIL);
      callers['token customer.read'] = await token(['customer.read']);
      callers['token scim'] = await token(['scim']);
    });

    test('a NUL in any string parameter or body field of any route, or a lone surrogate in the body, is a 400 validation_failed for every kind of caller, never a 5xx', async () => {
      const cases = hostileTextCases(paths);
      assert.ok(cases.length > 60, `${cases.length} cases`);
      const wrong: string[] = [];
      for (const [who, headers] of Object.entries(callers)) {
        for (const c of cases) {
          const res = await w.app.inject({
            method: c.method as 'GET',
            url: c.url,
            headers: { ...(await headers()), ...(c.body === undefined ? {} : { 'content-type': c.contentType }) },
            ...(c.body === undefined ? {} : { payload: JSON.stringify(c.body) }),
          });
          const code = res.json<{ error?: { code?: string } }>().error?.code;
          // SCIM answers in its own error format (RFC 7644), with the same status. A token's scopes are checked
          // before the body is read, so a body sent where the token may not call is refused for that first.
          const refused = res.statusCode === 400 && (c.url.startsWith('/scim/') || code === 'validation_failed');
          const outOfScope = c.where === 'body' && res.statusCode === 403 && code === 'token_scope';
          if (!refused && !outOfScope) wrong.push(`${who}: ${c.label} → ${res.statusCode} ${res.body.slice(0, 120)}`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    test('a NUL in the session cookie is a 400, not a session look-up', async () => {
      const res = await w.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: 'gw_session=a%00b' } });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.code, 'validation_failed');
      assert.equal(res.json().error.details.rule, 'nul_character');
    });

    test('an integer path or query parameter beyond 2^53, not finite or not in decimal digits is a 400 naming the parameter, on every route that has one', async () => {
      const admin = await callers['administrator']?.();
      const scim = await callers['token scim']?.();
      let tried = 0;
      for (const [path, methods] of Object.entries(paths)) {
        for (const [m, op] of Object.entries(methods)) {
          const params = op.parameters ?? [];
          for (const p of params) {
            if (p.schema?.['type'] !== 'integer') continue;
            for (const huge of ['99999999999999999999', '9223372036854775808', String(2 ** 53), 'Infinity', '-Infinity', '1e400', '0x10']) {
              const url = routeUrl(path, params, p, huge);
              const res = await w.app.inject({
                method: m.toUpperCase() as 'GET',
                url,
                headers: { ...(path.startsWith('/scim/') ? scim : admin), 'content-type': 'application/json' },
                payload: '{}',
              });
              tried++;
              assert.equal(res.statusCode, 400, `${m} ${url}: ${res.body}`);
              // SCIM answers in its own error format (RFC 7644): the message is its `detail`.
              const body = res.json<{ error?: { code: string; message: string }; detail?: string }>();
              if (!path.startsWith('/scim/')) assert.equal(body.error?.code, 'validation_failed');
              assert.match(body.error?.message ?? body.detail ?? '', new RegExp(`/${p.name} `), url);
            }
          }
        }
      }
      assert.ok(tried >= 50, `${tried} requests`);
    });
  });
}

test('input nested deeper than any field is refused, not waved through unchecked (review of issue 14)', () => {
  let deep: unknown = 'ok';
  for (let i = 0; i < 40; i++) deep = { a: deep };
  assert.deepEqual(badTextAt(deep)?.rule, 'nested_too_deep');
  let shallow: unknown = 'ok';
  for (let i = 0; i < 10; i++) shallow = { a: shallow };
  assert.equal(badTextAt(shallow), null, 'the control');
});
