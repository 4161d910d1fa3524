/**
 * Schema-aware fuzzing of the whole HTTP API (issue 14): every route of the app's own /api/openapi.json,
 * with path, query and body values generated from the route's JSON schemas — valid ones and near-invalid
 * ones (boundaries, wrong types, NUL, huge numbers, odd Unicode, long strings) — as every kind of caller:
 * anonymous, each fixture persona with a session, and API tokens of each kind. In-process (`inject`) on
 * an embedded store with the test fixture.
 *
 *   npm run fuzz                                   # 50,000 requests, seed 14
 *   node --import tsx scripts/fuzz-api.ts --requests 2000 --seed 7
 *   node --import tsx scripts/fuzz-api.ts --replay '<a reproducer line printed by a run>'
 *
 * Prints the count per status class and per route, and every response ≥ 500 (and every request that took
 * longer than 30 s) with method, path and a reproducer; exits 1 if there was any.
 */
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { TokenScope } from '../src/identity/api-tokens.ts';
import { serviceToken } from '../test/support/tokens.ts';
import type { Db } from '../src/store/db.ts';
import { login, testApp, type Session } from '../test/support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles, seedFixture } from '../test/support/fixture.ts';
import { STORES } from '../test/support/stores.ts';

/** The methods app.inject takes (light-my-request's own list). */
type HTTPMethods = NonNullable<InjectOptions['method']>;

type Schema = Readonly<Record<string, unknown>>;

interface Operation {
  readonly method: HTTPMethods;
  /** OpenAPI path, e.g. `/api/grants/{id}/approve`. */
  readonly path: string;
  readonly params: readonly { readonly in: 'path' | 'query'; readonly name: string; readonly required: boolean; readonly schema: Schema }[];
  readonly body: { readonly contentType: string; readonly schema: Schema } | null;
}

/** A generated request, before a caller's credentials are added; printed as the reproducer. */
interface Attempt {
  readonly caller: string;
  readonly method: HTTPMethods;
  readonly url: string;
  readonly contentType?: string;
  readonly payload?: string;
  /** Session callers only: send the session's CSRF token (a state-changing call without it is refused). */
  readonly csrf?: boolean;
}

// ---------------------------------------------------------------------------------------------- values

/** Values the fixture knows, by parameter or property name: valid requests must reach past "not found". */
const KNOWN: Readonly<Record<string, readonly unknown[]>> = {
  id: [...Object.values(SP), 'EM-00001', 'EM-00002', ...Object.values(TERMINALS), ...Object.values(USERS), 'p-retail', '1', '2', 1, 2, 3],
  personId: ['p-retail', 'p-rctr', 'p-cc', 'p-nsc', 'p-admin', 'p-other', 'p-comp'],
  userId: Object.values(USERS),
  user: Object.values(USERS),
  person: ['p-retail', 'p-cc', 'u-retail'],
  supplyPoint: Object.values(SP),
  retailer: ['R0001', 'R0002', 'R0003'],
  terminalId: Object.values(TERMINALS),
  address: ['仙台市', '仙台市青葉区', '盛岡市'],
  name: ['東北 太郎', '山田', 'ヤマダ'],
  phone: ['022-000-0001', '0220000001'],
  from: ['2026-10-01', '2026-11-01', '2025-11-02'],
  to: ['2026-11-01', '2026-11-02', '2026-12-31'],
  reason: ['台風による停電：復旧見込みの連絡のため'],
  comment: ['確認済み'],
  permissionId: ['customer.read', 'network.equipment', 'audit.read', 'emergency.declare', 'grants.approve'],
  startsAt: [new Date(NOW.getTime() + 3_600_000).toISOString()],
  plannedEndAt: [new Date(NOW.getTime() + 25 * 3_600_000).toISOString()],
  expiresAt: [new Date(NOW.getTime() + 30 * 86_400_000).toISOString()],
};

const HUGE = [
  2 ** 31,
  2 ** 53,
  2 ** 63,
  1e20,
  -1e20,
  -1,
  0,
  1.5,
  -0.5,
  '99999999999999999999999',
  '-9223372036854775809',
  '1e400',
  'NaN',
  'Infinity',
  '0x10',
] as const;
const ODD_TEXT = [
  '\u0000',
  'a\u0000b',
  '%00',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u0635',
  '🇯🇵👨‍👩‍👧',
  'ｱｲｳ',
  'Ａ１',
  '\r\n',
  '\t',
  "'; DROP TABLE x; --",
  '=HYPERLINK("http://x","y")',
  '../../etc/passwd',
  '${x}',
  '{{x}}',
  ' ',
  '',
] as const;

function num(s: Schema, key: string): number | undefined {
  const v = s[key];
  return typeof v === 'number' ? v : undefined;
}

function typeOf(s: Schema): string | undefined {
  const t = s['type'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  if (s['properties'] !== undefined) return 'object';
  return undefined;
}

/** A value the schema accepts (or nearly: generated patterns are not cut to length). */
function valid(s: Schema, name: string): fc.Arbitrary<unknown> {
  const known = KNOWN[name];
  const base = validBase(s, name);
  return known === undefined ? base : fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: base });
}

function validBase(s: Schema, name: string): fc.Arbitrary<unknown> {
  const alternatives = s['oneOf'] ?? s['anyOf'];
  if (Array.isArray(alternatives) && alternatives.length > 0) return fc.oneof(...(alternatives as Schema[]).map((a) => valid(a, name)));
  const en = s['enum'];
  if (Array.isArray(en) && en.length > 0) return fc.constantFrom(...(en as unknown[]));
  switch (typeOf(s)) {
    case 'string': {
      const minLength = num(s, 'minLength') ?? 0;
      const maxLength = Math.min(num(s, 'maxLength') ?? 40, 40);
      if (typeof s['pattern'] === 'string') return fc.stringMatching(new RegExp(s['pattern']));
      if (s['format'] === 'date-time')
        return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString());
      if (s['format'] === 'date')
        return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
    }
    case 'integer': {
      const min = Math.max(num(s, 'minimum') ?? -1000, -1_000_000);
      const max = Math.min(num(s, 'maximum') ?? 1000, 1_000_000);
      return fc.oneof(fc.integer({ min, max: Math.max(min, Math.min(max, min + 20)) }), fc.integer({ min, max: Math.max(min, max) }));
    }
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: num(s, 'minimum') ?? -1e6, max: num(s, 'maximum') ?? 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const items = (s['items'] as Schema | undefined) ?? {};
      return fc.array(valid(items, name), {
        minLength: num(s, 'minItems') ?? 0,
        maxLength: Math.max(num(s, 'minItems') ?? 0, Math.min(num(s, 'maxItems') ?? 4, 4)),
      });
    }
    case 'object':
      return object(s, valid);
    default:
      return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean());
  }
}

function object(s: Schema, gen: (s: Schema, name: string) => fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const props = (s['properties'] as Readonly<Record<string, Schema>> | undefined) ?? {};
  const required = new Set((s['required'] as string[] | undefined) ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, p] of Object.entries(props)) model[k] = fuzzed(p, k, gen);
  return fc.record(model, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
}

/** A value the schema refuses, or one at its edges: what validation must turn into a 4xx. */
function hostile(s: Schema, name: string): fc.Arbitrary<unknown> {
  const edges: unknown[] = [null, true, {}, [], 'abc', 123];
  const maxLength = num(s, 'maxLength');
  const minLength = num(s, 'minLength');
  const minimum = num(s, 'minimum');
  const maximum = num(s, 'maximum');
  if (maxLength !== undefined) edges.push('x'.repeat(maxLength), 'x'.repeat(maxLength + 1), 'あ'.repeat(maxLength + 1));
  if (minLength !== undefined && minLength > 0) edges.push('x'.repeat(minLength - 1));
  if (minimum !== undefined) edges.push(minimum - 1, minimum);
  if (maximum !== undefined) edges.push(maximum, maximum + 1);
  return fc.oneof(
    fc.constantFrom(...edges),
    fc.constantFrom(...HUGE),
    fc.constantFrom(...ODD_TEXT),
    validBase(s, name).map((v) => (typeof v === 'string' ? `${v}\u0000` : v)),
    fc
      .tuple(validBase(s, name), fc.nat())
      .map(([v, i]) => (typeof v === 'string' ? v.slice(0, i % (v.length + 1)) + '\u0000' + v.slice(i % (v.length + 1)) : `\u0000${text(v)}`)),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.constantFrom('x'.repeat(10_001), '仙'.repeat(100_000)),
    fc.constantFrom(
      '0000-00-00',
      '2026-02-30',
      '1900-01-01',
      '2999-12-31',
      '2026-11-01T25:61:00Z',
      '+275760-09-13T00:00:00.000Z',
      '-000001-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
    ),
  );
}

/**
 * Mostly valid, sometimes hostile: deep enough to pass validation, hostile enough to find what is not
 * refused. Half of all requests are made with `hostility` 0 — every value valid — so that they reach the
 * routes' logic and the store rather than stopping at validation.
 */
let hostility = 1;
function fuzzed(s: Schema, name: string, gen: (s: Schema, name: string) => fc.Arbitrary<unknown> = valid): fc.Arbitrary<unknown> {
  const h = hostility;
  return h === 0 ? gen(s, name) : fc.oneof({ weight: 5, arbitrary: gen(s, name) }, { weight: h, arbitrary: hostile(s, name) });
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** A path segment as a client would send it; a lone surrogate goes as the invalid UTF-8 a careless client sends. */
function segment(v: unknown): string {
  const s = text(v);
  try {
    return encodeURIComponent(s);
  } catch {
    return `${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80`;
  }
}

function requestArbitrary(op: Operation, callers: readonly string[]): fc.Arbitrary<Attempt> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const pathArb = fc.tuple(...pathParams.map((p) => fuzzed(p.schema, p.name)));
  const calm = hostility === 0;
  const queryArb = fc.tuple(
    ...queryParams.map((p) =>
      p.required && calm
        ? fuzzed(p.schema, p.name).map((v) => [v])
        : p.required
          ? fc.oneof({ weight: 9, arbitrary: fuzzed(p.schema, p.name).map((v) => [v]) }, { weight: 1, arbitrary: fc.constant([]) })
          : fc.oneof(
              fc.constant([]),
              fuzzed(p.schema, p.name).map((v) => [v]),
            ),
    ),
  );
  const extraQuery = calm
    ? fc.constant<[string, string][]>([])
    : fc.oneof(
        { weight: 9, arbitrary: fc.constant<[string, string][]>([]) },
        {
          weight: 1,
          arbitrary: fc.array(
            fc.tuple(fc.constantFrom('x', 'purpose', 'limit', 'format', '__proto__', 'constructor'), fc.oneof(fc.constantFrom(...ODD_TEXT), fc.string())),
            { maxLength: 3 },
          ),
        },
      );
  const bodyArb: fc.Arbitrary<{ contentType?: string; payload?: string }> = calm
    ? op.body === null
      ? fc.constant({})
      : fuzzed(op.body.schema, 'body').map((v) => ({ contentType: op.body?.contentType ?? 'application/json', payload: JSON.stringify(v) ?? 'null' }))
    : op.body === null
      ? fc.oneof(
          { weight: 9, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: fc.constantFrom({ contentType: 'application/json', payload: '{"a":1}' }, { contentType: 'application/json', payload: '{' }) },
        )
      : fc.oneof(
          {
            weight: 12,
            arbitrary: fuzzed(op.body.schema, 'body').map((v) => ({
              contentType: op.body?.contentType ?? 'application/json',
              payload: JSON.stringify(v) ?? 'null',
            })),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              { contentType: 'application/json', payload: '{"a":' },
              { contentType: 'text/plain', payload: 'hello' },
              { contentType: 'application/json', payload: '{"__proto__":{"x":1}}' },
              { contentType: 'application/json', payload: '[]' },
              {},
            ),
          },
          {
            weight: 1,
            arbitrary: fc.constant({
              contentType: op.body.contentType,
              payload: JSON.stringify({
                ...Object.fromEntries(Object.keys((op.body.schema['properties'] as object | undefined) ?? {}).map((k) => [k, 'a\u0000'])),
              }),
            }),
          },
        );
  return fc
    .record({
      caller: fc.constantFrom(...callers),
      path: pathArb,
      query: queryArb,
      extra: extraQuery,
      body: bodyArb,
      csrf: calm ? fc.constant(true) : fc.oneof({ weight: 19, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    })
    .map(({ caller, path, query, extra, body, csrf }) => {
      let url = op.path;
      pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, segment(path[i]))));
      const q = new URLSearchParams();
      queryParams.forEach((p, i) => {
        for (const v of query[i] ?? []) for (const x of Array.isArray(v) ? v : [v]) q.append(p.name, text(x));
      });
      for (const [k, v] of extra) q.append(k, v);
      const qs = q.toString();
      return { caller, method: op.method, url: qs === '' ? url : `${url}?${qs}`, ...body, ...(caller.startsWith('session:') ? { csrf } : {}) };
    });
}

// --------------------------------------------------------------------------------------------- callers

/**
 * Issues an approved API token with `scopes` for a fuzzing caller: a service account of its own (placed at
 * the rival retailer when it looks up customers), owned by the administrator and approved by the second one.
 * The one place of this script that knows how tokens are made.
 */
async function issueToken(db: Db, scopes: readonly TokenScope[]): Promise<string> {
  const userId = `svc-fuzz-${scopes.join('-').replace(/\./g, '')}`;
  return (
    await serviceToken(db, {
      userId,
      name: `fuzz ${scopes.join('+')}`,
      organizationId: scopes.includes('customer.read') ? 'org-r0002' : null,
      scopes,
      days: 300,
    })
  ).token;
}

/** The kinds of API token callers: a retailer's system and the HR system (no token holds both scopes). */
const TOKEN_KINDS: readonly (readonly TokenScope[])[] = [['customer.read'], ['scim']];

const TERMINAL_OF: Readonly<Record<string, string>> = {
  [USERS.retail]: TERMINALS.RETAIL,
  [USERS.retailContractor]: TERMINALS.RETAIL,
  [USERS.serviceCentre]: TERMINALS.NSC,
  [USERS.callCentre]: TERMINALS.CC,
};

class Callers {
  readonly #sessions = new Map<string, Session | null>();
  readonly #tokens = new Map<string, string>();
  constructor(
    readonly app: FastifyInstance,
    readonly db: Db,
  ) {}

  names(): string[] {
    return ['anonymous', ...Object.values(USERS).map((u) => `session:${u}`), ...TOKEN_KINDS.map((scopes) => `token:${scopes.join('+')}`)];
  }

  async setUp(): Promise<void> {
    for (const u of Object.values(USERS)) await this.relogin(u);
    for (const scopes of TOKEN_KINDS) this.#tokens.set(`token:${scopes.join('+')}`, await issueToken(this.db, scopes));
  }

  /** A persona whose session the fuzzing ended (logout, sweep, SCIM) logs in again; a disabled one stays out. */
  async relogin(user: string): Promise<void> {
    try {
      this.#sessions.set(user, await login(this.app, user, TERMINAL_OF[user]));
    } catch {
      this.#sessions.set(user, null);
    }
  }

  headers(a: Attempt): Record<string, string> {
    if (a.caller.startsWith('token:')) return { authorization: `Bearer ${this.#tokens.get(a.caller) ?? ''}` };
    if (!a.caller.startsWith('session:')) return {};
    const s = this.#sessions.get(a.caller.slice('session:'.length));
    if (s === undefined || s === null) return {};
    return { cookie: s.cookie, ...(a.csrf === true ? { 'x-csrf-token': s.csrf } : {}) };
  }
}

// ------------------------------------------------------------------------------------------------- run

function operations(doc: {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: { in: string; name: string; required?: boolean; schema?: Schema }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }
    >
  >;
}): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? [])
        .filter((p) => p.in === 'path' || p.in === 'query')
        .map((p) => ({ in: p.in as 'path' | 'query', name: p.name, required: p.required === true, schema: p.schema ?? {} }));
      const content = Object.entries(op.requestBody?.content ?? {})[0];
      ops.push({
        // The OpenAPI document's keys are HTTP methods in lower case.
        method: method.toUpperCase() as HTTPMethods,
        path,
        params,
        body:
          content === undefined
            ? method === 'post' || method === 'put' || method === 'patch'
              ? { contentType: path.startsWith('/scim/') ? 'application/scim+json' : 'application/json', schema: {} }
              : null
            : { contentType: content[0], schema: content[1].schema ?? {} },
      });
    }
  }
  return ops;
}

async function send(app: FastifyInstance, callers: Callers, a: Attempt): Promise<{ status: number; body: string; ms: number }> {
  const opts: InjectOptions = {
    method: a.method,
    url: a.url,
    headers: { ...callers.headers(a), ...(a.contentType === undefined ? {} : { 'content-type': a.contentType }) },
    ...(a.payload === undefined ? {} : { payload: a.payload }),
  };
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ statusCode: number; body: string }>(
    (resolve) => (timer = setTimeout(() => resolve({ statusCode: 599, body: 'no answer within 30 s' }), 30_000)),
  );
  const res = await Promise.race([app.inject(opts), timeout]);
  clearTimeout(timer);
  return { status: res.statusCode, body: res.body.slice(0, 300), ms: performance.now() - t0 };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const requests = Number(arg('--requests') ?? 50_000);
  const seed = Number(arg('--seed') ?? 14);
  const replay = arg('--replay');
  const store = STORES.find((s) => s.name === 'pglite');
  if (store === undefined) throw new Error('no PGlite store');
  const { db, dispose } = await store.open();
  await seedFixture(db);
  await seedEmergencyRoles(db);
  const app = await testApp(db, { loginRateLimit: 1_000_000 });
  try {
    const callers = new Callers(app, db);
    await callers.setUp();
    if (replay !== undefined) {
      const a = JSON.parse(replay) as Attempt;
      const r = await send(app, callers, a);
      process.stdout.write(`${r.status} ${a.method} ${a.url}\n${r.body}\n`);
      return r.status >= 500 ? 1 : 0;
    }
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<Parameters<typeof operations>[0]>();
    const ops = operations(doc);
    const arbs = ops.map((op) => {
      hostility = 0;
      const calm = requestArbitrary(op, callers.names());
      hostility = 1;
      return fc.oneof(calm, requestArbitrary(op, callers.names()));
    });
    const classes: Record<string, number> = {};
    const codes: Record<string, number> = {};
    const perRoute = new Map<string, Record<string, number>>();
    const failures: { a: Attempt; status: number; body: string }[] = [];
    const t0 = performance.now();
    for (let i = 0; i < requests; i++) {
      const k = i % ops.length;
      const op = ops[k];
      const arb = arbs[k];
      if (op === undefined || arb === undefined) continue;
      const [a] = fc.sample(arb, { seed: seed * 1_000_003 + i, numRuns: 1 });
      if (a === undefined) continue;
      const r = await send(app, callers, a);
      const cls = `${Math.floor(r.status / 100)}xx`;
      classes[cls] = (classes[cls] ?? 0) + 1;
      const route = `${op.method} ${op.path}`;
      const counts = perRoute.get(route) ?? {};
      counts[cls] = (counts[cls] ?? 0) + 1;
      perRoute.set(route, counts);
      const code = /"code":"([a-z_]+)"/.exec(r.body)?.[1];
      if (r.status >= 400) codes[code ?? String(r.status)] = (codes[code ?? String(r.status)] ?? 0) + 1;
      if (r.status >= 500) failures.push({ a, status: r.status, body: r.body });
      if (r.status === 401 && a.caller.startsWith('session:')) await callers.relogin(a.caller.slice('session:'.length));
      if ((i + 1) % 5000 === 0) process.stderr.write(`  ${i + 1} requests, ${failures.length} ≥ 500, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    }
    const secs = (performance.now() - t0) / 1000;
    const out: string[] = [
      `${requests} requests over ${ops.length} operations in ${secs.toFixed(0)} s (seed ${seed})`,
      '',
      'status class: ' +
        Object.entries(classes)
          .sort()
          .map(([c, n]) => `${c} ${n}`)
          .join(', '),
      '',
      'error codes: ' +
        Object.entries(codes)
          .sort(([, a], [, b]) => b - a)
          .map(([c, n]) => `${c} ${n}`)
          .join(', '),
      '',
      'per route:',
    ];
    for (const [route, counts] of [...perRoute].sort(([a], [b]) => a.localeCompare(b)))
      out.push(
        `  ${route.padEnd(48)} ${Object.entries(counts)
          .sort()
          .map(([c, n]) => `${c} ${n}`)
          .join('  ')}`,
      );
    out.push('', `responses ≥ 500: ${failures.length}`);
    for (const f of failures)
      out.push(
        `  ${f.status} ${f.a.method} ${f.a.url.split('?')[0] ?? ''} as ${f.a.caller}: ${f.body.replace(/\s+/g, ' ').slice(0, 160)}`,
        `    reproduce: node --import tsx scripts/fuzz-api.ts --replay '${JSON.stringify(f.a).replace(/'/g, "'\\''")}'`,
      );
    process.stdout.write(`${out.join('\n')}\n`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    await app.close();
    await dispose();
  }
}

process.exitCode = await main();
