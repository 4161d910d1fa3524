import { z } from 'zod';

/**
 * The HTTP contract (docs/ARCHITECTURE.md, "The HTTP contract"): each route's params, query, body and
 * success responses written once, in zod, and converted once, when the route is registered, into the JSON
 * Schema that Fastify validates requests against (its Ajv), serializes responses with (fast-json-stringify,
 * which drops every field a response schema does not name) and describes in /api/openapi.json. The
 * TypeScript types of both ends — route handlers and the console — are inferred from the same schemas.
 *
 * This folder imports zod and src/domain only (checked by `npm run depcheck`), so the console can import its
 * types (`import type`, never zod itself) without pulling in the server.
 */

type Schema = z.ZodType;

/** One route's contract: what it accepts, and what it answers for each success status (204 answers nothing: `z.null()`). */
export interface Contract {
  readonly params?: Schema;
  readonly querystring?: Schema;
  readonly body?: Schema;
  readonly response: { readonly 200?: Schema; readonly 201?: Schema; readonly 204?: z.ZodNull };
}

/** Declares a route's contract, keeping its exact type (so the types below see each schema). */
export function contract<const C extends Contract>(c: C): C {
  return c;
}

export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * The draft-07 JSON Schema of a zod schema, as Fastify's Ajv takes it. `input` for what a client sends
 * (fields with a default are optional and the default is written into the schema, which Ajv applies),
 * `output` for what the server answers. The `$schema` line is left out: Fastify's schemas are draft-07
 * already, and fast-json-stringify and the OpenAPI document do not want it inside each fragment.
 */
export function jsonSchema(schema: Schema, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: io === 'output' ? instantAsDateTime : 'throw' });
  return rest;
}

/**
 * A `Date` in a response (contract/common.ts's `InstantOut`) is an instant on the wire: `format: 'date-time'`
 * is what makes fast-json-stringify write it with `asDateTime` (ISO 8601 in UTC, as `JSON.stringify` does)
 * and what the OpenAPI document shows. Only for responses: no client sends a `Date`, so a request schema
 * with one, like anything else JSON Schema cannot say, throws at registration.
 */
function instantAsDateTime(ctx: { readonly zodSchema: z.core.$ZodType }): { type: 'string'; format: 'date-time' } | 'throw' {
  return ctx.zodSchema._zod.def.type === 'date' ? { type: 'string', format: 'date-time' } : 'throw';
}

/** What documents a route in the OpenAPI description. */
export interface RouteDocs {
  readonly tags: readonly string[];
  readonly summary: string;
  readonly description?: string;
}

/** The Fastify `schema` option of a route: its contract as JSON Schema, with its documentation. */
export interface RouteSchema extends RouteDocs {
  readonly params?: JsonSchema;
  readonly querystring?: JsonSchema;
  readonly body?: JsonSchema;
  readonly response: Readonly<Record<number, JsonSchema>>;
}

/** A route's Fastify `schema` option, from its contract — converted here, once, at registration. */
export function route(c: Contract, docs: RouteDocs): RouteSchema {
  const response: Record<number, JsonSchema> = {};
  for (const status of [200, 201, 204] as const) {
    const s = c.response[status];
    if (s !== undefined) response[status] = jsonSchema(s, 'output');
  }
  return {
    tags: [...docs.tags],
    summary: docs.summary,
    ...(docs.description === undefined ? {} : { description: docs.description }),
    ...(c.params === undefined ? {} : { params: jsonSchema(c.params, 'input') }),
    ...(c.querystring === undefined ? {} : { querystring: jsonSchema(c.querystring, 'input') }),
    ...(c.body === undefined ? {} : { body: jsonSchema(c.body, 'input') }),
    response,
  };
}

/** Keys a client may leave out. */
type OptionalKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? K : never }[keyof T];

/**
 * A zod type as it travels in JSON: an optional field is absent, never `undefined` (zod types it
 * `x?: T | undefined`, which `exactOptionalPropertyTypes` tells apart from `x?: T`), and an instant
 * (`InstantOut`, a `Date` on the server) is its ISO 8601 string.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly unknown[]
    ? { [I in keyof T]: Wire<T[I]> }
    : T extends object
      ? { [K in Exclude<keyof T, OptionalKeys<T>>]: Wire<T[K]> } & { [K in OptionalKeys<T>]?: Wire<Exclude<T[K], undefined>> } extends infer O
        ? { [K in keyof O]: O[K] }
        : never
      : T;

type Out<C, K extends string> = C extends { readonly [P in K]: infer S extends Schema } ? Wire<z.output<S>> : unknown;

/**
 * A route's Fastify generics from its contract: `app.post<RouteTypes<typeof grantRequest>>(...)`. Params,
 * query and body are what validation hands the handler (defaults applied); `Reply` is keyed by status, so
 * the compiler checks that the handler returns what the response schema describes.
 */
export interface RouteTypes<C extends Contract> {
  Params: Out<C, 'params'>;
  Querystring: Out<C, 'querystring'>;
  Body: Out<C, 'body'>;
  Reply: { [S in keyof C['response'] & number]: ServedOf<C, S> };
}

/**
 * What a handler returns for a zod output type: `Wire`'s rule for optional fields, but an instant stays the
 * service's `Date` (the response schema writes it, `InstantOut`) and arrays may be readonly (the serializer
 * only reads them), so a service's view goes out as it is.
 */
export type Served<T> = T extends Date
  ? Date
  : T extends readonly unknown[]
    ? { readonly [I in keyof T]: Served<T[I]> }
    : T extends object
      ? { [K in Exclude<keyof T, OptionalKeys<T>>]: Served<T[K]> } & { [K in OptionalKeys<T>]?: Served<Exclude<T[K], undefined>> } extends infer O
        ? { [K in keyof O]: O[K] }
        : never
      : T;

/**
 * `true` when a service's view and a contract shape name the same fields, else `never`: a compile-time check
 * for a route file (`const x: [SameFields<DeclarationView, c.Declaration>] = [true]`), since the compiler lets
 * a handler return fields its `Reply` does not name — and the response schema would drop them silently.
 */
export type SameFields<A, B> = Same<keyof A, keyof B>;

/** `true` when each type is assignable to the other, else `never`: the compile-time checks that two lists agree. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

/** The body a handler answers with `status` (instants as `Date`). */
export type ServedOf<C extends Contract, S extends keyof C['response'] & number> = C['response'][S] extends infer R extends Schema
  ? Served<z.output<R>>
  : never;

/** The body a route answers with `status` (what the console receives). */
export type ReplyOf<C extends Contract, S extends keyof C['response'] & number> = C['response'][S] extends infer R extends Schema ? Wire<z.output<R>> : never;

/** What a client sends as the body of a route (optional fields and defaults as the client sees them). */
export type BodyOf<C extends Contract> = C extends { readonly body: infer S extends Schema } ? Wire<z.input<S>> : never;
