import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { jsonSchema, type Contract } from '../../src/contract/schema.ts';

/** What the checks read of an operation in /api/openapi.json. */
export interface OpenApiOperation {
  readonly tags?: readonly string[];
  readonly parameters?: readonly { in: string; name: string }[];
  readonly requestBody?: { content: Record<string, { schema: unknown }> };
  readonly responses?: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}

export type OpenApi = { readonly paths: Record<string, Record<string, OpenApiOperation>> };

export async function openApi(app: FastifyInstance): Promise<OpenApi> {
  const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  assert.equal(res.statusCode, 200);
  return res.json<OpenApi>();
}

/** Every `path → schema` under a JSON Schema's properties, nested as `a.b` (array items and union members flattened). */
function entries(schema: unknown, prefix = ''): [string, Record<string, unknown>][] {
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  for (const union of ['anyOf', 'oneOf']) if (Array.isArray(s[union])) return (s[union] as unknown[]).flatMap((x) => entries(x, prefix));
  if (s['type'] === 'array') return entries(s['items'], prefix);
  const props = s['properties'];
  if (props === null || typeof props !== 'object') return [];
  return Object.entries(props as Record<string, Record<string, unknown>>).flatMap(([k, v]) => [
    [`${prefix}${k}`, v] as [string, Record<string, unknown>],
    ...entries(v, `${prefix}${k}.`),
  ]);
}

/** The property names of a schema, nested as `a.b`, sorted, each once. */
export function fieldsOf(schema: unknown): string[] {
  return [...new Set(entries(schema).map(([k]) => k))].sort();
}

/** The fields that are instants (`format: date-time`, alone or nullable). */
export function instantsOf(schema: unknown): string[] {
  const isInstant = (s: Record<string, unknown>): boolean =>
    s['format'] === 'date-time' || (Array.isArray(s['anyOf']) && (s['anyOf'] as Record<string, unknown>[]).some((x) => x['format'] === 'date-time'));
  return [
    ...new Set(
      entries(schema)
        .filter(([, s]) => isInstant(s))
        .map(([k]) => k),
    ),
  ].sort();
}

type SuccessStatus = 200 | 201 | 204;
/**
 * A JSON route: method, OpenAPI path, its success status (or statuses: logout answers 200 with the provider's
 * logout for a single sign-on session, 204 otherwise), the contract it declares.
 */
export type JsonOperation = readonly [method: string, path: string, status: SuccessStatus | readonly SuccessStatus[], contract: Contract];
/** A route answering no JSON (a download, a redirect): the statuses it documents. */
export type OtherOperation = readonly [method: string, path: string, contract: Contract, statuses: readonly string[]];

/**
 * The routes tagged `tags` in the OpenAPI description are exactly `json` and `other`, and each documents what
 * its contract says: the success status only, the response's fields and instants (date-time strings), the
 * body's fields and the query's parameters; a route answering no JSON documents no body.
 */
export function assertRegistered(spec: OpenApi, tags: ReadonlySet<string>, json: readonly JsonOperation[], other: readonly OtherOperation[] = []): void {
  const tagged = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.tags?.some((t) => tags.has(t)) === true)
      .map(([method]) => `${method} ${path}`),
  );
  assert.deepEqual(tagged.sort(), [...json, ...other].map(([m, p]) => `${m} ${p}`).sort(), 'the lists are every route of these areas');
  for (const [method, path, statusOrStatuses, contract] of json) {
    const op = spec.paths[path]?.[method] ?? assert.fail(`${method} ${path}`);
    const statuses: readonly SuccessStatus[] = typeof statusOrStatuses === 'number' ? [statusOrStatuses] : statusOrStatuses;
    assert.deepEqual(Object.keys(op.responses ?? {}), statuses.map(String), `${method} ${path}: only its success statuses`);
    if (contract.body !== undefined)
      assert.deepEqual(fieldsOf(op.requestBody?.content['application/json']?.schema), fieldsOf(jsonSchema(contract.body, 'input')), `${method} ${path}: body`);
    if (contract.querystring !== undefined) {
      const names = (op.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort();
      assert.deepEqual(names, fieldsOf(jsonSchema(contract.querystring, 'input')), `${method} ${path}: query`);
    }
    for (const status of statuses) {
      const response = op.responses?.[String(status)] ?? assert.fail(`${method} ${path}: a ${status} response`);
      if (status === 204) {
        assert.equal(response.content, undefined, `${method} ${path}: 204 answers nothing`);
        continue;
      }
      const declared = contract.response[status] ?? assert.fail(`${method} ${path}: the contract answers ${status}`);
      const shown = response.content?.['application/json']?.schema ?? assert.fail(`${method} ${path}: a ${status} response schema`);
      const expected = jsonSchema(declared, 'output');
      assert.ok(fieldsOf(expected).length > 0, `${method} ${path}: the response names its fields`);
      assert.deepEqual(fieldsOf(shown), fieldsOf(expected), `${method} ${path}: the response fields are the contract's`);
      assert.deepEqual(instantsOf(shown), instantsOf(expected), `${method} ${path}: the instants are date-time strings`);
    }
  }
  for (const [method, path, contract, statuses] of other) {
    const op = spec.paths[path]?.[method] ?? assert.fail(`${method} ${path}`);
    assert.deepEqual(Object.keys(contract.response), statuses, `${method} ${path}: answers no JSON`);
    assert.deepEqual(Object.keys(op.responses ?? {}), statuses, `${method} ${path}: documented statuses`);
    for (const r of Object.values(op.responses ?? {})) assert.equal(r.content, undefined, `${method} ${path}: no body`);
  }
}
