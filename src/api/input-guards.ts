import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

/**
 * Inputs that no route accepts, refused in one place before any route runs (issue 14). PostgreSQL refuses a
 * NUL character in text, a lone UTF-16 surrogate in JSON (`\ud800`), and a bigint beyond 2^63 or written
 * `Infinity`; each surfaced as a 500 on whichever route passed the value down. Here they are a 400
 * `validation_failed` with the rule and where the value was — never the value itself.
 */

export type InputRule = 'nul_character' | 'lone_surrogate' | 'not_an_integer' | 'nested_too_deep';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textRule(s: string): InputRule | null {
  if (s.includes('\u0000')) return 'nul_character';
  return LONE_SURROGATE.test(s) ? 'lone_surrogate' : null;
}

/** The first string (a key too) holding text no field accepts, with where it is (`/comment`, `/fields/2`), or null. */
export function badTextAt(v: unknown, path = '', depth = 0): { at: string; rule: InputRule } | null {
  if (typeof v === 'string') {
    const rule = textRule(v);
    return rule === null ? null : { at: path, rule };
  }
  if (v === null || typeof v !== 'object') return null;
  // Nothing gridwall accepts nests this deep; refused rather than waved through unchecked.
  if (depth > 32) return { at: path, rule: 'nested_too_deep' };
  for (const [k, x] of Object.entries(v)) {
    const here = `${path}/${k}`;
    const rule = textRule(k);
    if (rule !== null) return { at: here, rule };
    const found = badTextAt(x, here, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * The largest integer a schema lets through unless it says less: 2^53 − 1, which a JavaScript number still
 * holds exactly and a PostgreSQL bigint (id, offset) always accepts.
 */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER;

type JsonSchema = Readonly<Record<string, unknown>>;

function isInteger(s: unknown): boolean {
  if (s === null || typeof s !== 'object') return false;
  const type = (s as JsonSchema)['type'];
  return type === 'integer' || (Array.isArray(type) && type.includes('integer'));
}

/** The schema with every `integer` bounded to ±MAX_INTEGER where it had no tighter bound (a copy; shared consts stay as written). */
export function boundIntegers(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(boundIntegers);
  if (s === null || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s as JsonSchema)) out[k] = k === 'enum' || k === 'const' || k === 'default' || k === 'examples' ? v : boundIntegers(v);
  if (isInteger(out)) {
    if (typeof out['maximum'] !== 'number' || out['maximum'] > MAX_INTEGER) out['maximum'] = MAX_INTEGER;
    if (typeof out['minimum'] !== 'number' || out['minimum'] < -MAX_INTEGER) out['minimum'] = -MAX_INTEGER;
  }
  return out;
}

/**
 * An integer in a path or query is written as decimal digits. Validation coerces the text first, and its
 * coercion takes `Infinity`, `1e400` and `0x10` for integers, then skips the bounds for a number that is
 * not finite — so `/api/grants/Infinity/approve` reached the store. 17 digits already exceed MAX_INTEGER.
 */
const DECIMAL = /^-?\d{1,17}$/;

function nonDecimalAt(schema: unknown, values: unknown): string | null {
  if (schema === null || typeof schema !== 'object' || values === null || typeof values !== 'object') return null;
  const props = (schema as JsonSchema)['properties'];
  if (props === null || typeof props !== 'object') return null;
  for (const [name, prop] of Object.entries(props as JsonSchema)) {
    if (!isInteger(prop)) continue;
    const raw = (values as Readonly<Record<string, unknown>>)[name];
    for (const v of Array.isArray(raw) ? raw : [raw]) if (typeof v === 'string' && !DECIMAL.test(v)) return `/${name}`;
  }
  return null;
}

const REQUEST_PARTS = ['params', 'querystring', 'body'] as const;

const MESSAGE: Readonly<Record<InputRule, string>> = {
  nul_character: 'contains a NUL character (U+0000), which no field accepts',
  lone_surrogate: 'is not well-formed Unicode (a lone UTF-16 surrogate)',
  not_an_integer: 'must be a whole number written in decimal digits',
  nested_too_deep: 'nests deeper than any field gridwall accepts (32 levels)',
};

function refuse(where: string, at: string, rule: InputRule): ApiError {
  return new ApiError('validation_failed', `${where}${at} ${MESSAGE[rule]}`, { rule, where, at });
}

/**
 * Registers the guards on the app, before its routes: integer bounds go into every route's schema (so the
 * OpenAPI description shows them and validation refuses beyond them); text no field accepts is refused in
 * the path, the query and the cookies the app reads (`cookieNames`) before authentication, whose session
 * look-up would be the first to pass it on, and in the body once parsed, before validation.
 */
export function registerInputGuards(app: FastifyInstance, cookieNames: readonly string[]): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema;
    if (schema === undefined) return;
    const bounded: Record<string, unknown> = { ...schema };
    for (const part of REQUEST_PARTS) if (schema[part] !== undefined) bounded[part] = boundIntegers(schema[part]);
    route.schema = bounded;
  });
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const cookies = Object.fromEntries(cookieNames.map((n) => [n, req.cookies[n]]));
    for (const [where, value] of [
      ['params', req.params],
      ['querystring', req.query],
      ['cookies', cookies],
    ] as const) {
      const bad = badTextAt(value);
      if (bad !== null) throw refuse(where, bad.at, bad.rule);
    }
    const schema = req.routeOptions.schema;
    for (const [where, value] of [
      ['params', req.params],
      ['querystring', req.query],
    ] as const) {
      const at = nonDecimalAt(schema?.[where], value);
      if (at !== null) throw refuse(where, at, 'not_an_integer');
    }
  });
  app.addHook('preValidation', async (req) => {
    const bad = badTextAt(req.body);
    if (bad !== null) throw refuse('body', bad.at, bad.rule);
  });
}
