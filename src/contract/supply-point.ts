import { z } from 'zod';
import { SEARCH_FIELDS, SUPPLY_POINT_FIELD_KEYS, type SupplyPointField } from '../domain/classification.ts';
import { SHOWN_REASONS } from '../domain/decision.ts';
import { DECLARABLE_PURPOSES } from '../domain/purpose.ts';
import type { RecordValues } from '../domain/record.ts';
import { CAPACITY_UNITS, CUSTOMER_TYPES } from '../domain/supply-point.ts';
import { Instant, text } from './common.ts';
import { contract } from './schema.ts';

/**
 * The firewall's look-up and search (src/api/supply-point-routes.ts): a record view, each field as the
 * firewall decided it for this person, this purpose, now.
 *
 * Each field is `{shown: true, value}` or `{shown: false, reason}` — a union (`oneOf`) of two exact objects
 * (`additionalProperties: false`), so fast-json-stringify, which picks the branch by validating the field
 * against each, can write a field only as one of them: a masked field with a value left on it matches
 * neither, and so does a shown value with a property the contract does not name. Either fails the response
 * (500, no data) rather than sending the value or silently dropping part of it. Every field the route asks
 * the firewall for is required, so none can go missing either.
 */

/** What each field holds when shown: `recordValues` of src/domain/record.ts (checked below). */
export const FIELD_VALUES = {
  supply_point_id: z.string(),
  address: z.object({
    postalCode: z.string(),
    prefecture: z.string(),
    city: z.string(),
    town: z.string(),
    street: z.string(),
    building: z.string().nullable(),
    text: z.string().describe('the whole address on one line'),
  }),
  holder_name: z.string().nullable().describe('null when nobody holds a contract now'),
  phone: z.string().nullable(),
  contracted_capacity: z.object({ value: z.number(), unit: z.enum(CAPACITY_UNITS) }).nullable(),
  retailer: z.object({ code: z.string(), name: z.string() }).nullable().describe('null when vacant or under last-resort supply'),
  usage: z.array(z.object({ month: z.string().describe('YYYY-MM'), kwh: z.int() })),
  equipment: z.array(z.string()),
  meter: z.object({ meterId: z.string(), readingDay: z.int() }),
  contract_history: z
    .array(z.object({ retailerCode: z.string(), retailerName: z.string(), lastResort: z.boolean(), validFrom: Instant, validTo: Instant.nullable() }))

    .describe('contracts begun by now, oldest first; validTo is null for one still in force'),
  customer_type: z.enum(CUSTOMER_TYPES).nullable(),
  last_resort: z.boolean(),
  network_notes: z.string().nullable(),
} as const satisfies { readonly [K in SupplyPointField]: z.ZodType };

type FieldValues = typeof FIELD_VALUES;

/** Strips `readonly` (arrays and properties) all the way down, to compare shapes. */
type Plain<T> = T extends readonly (infer E)[] ? Plain<E>[] : T extends object ? { -readonly [K in keyof T]: Plain<T[K]> } : T;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The fields whose contract value is not exactly what the record holds (none, or the build fails here). */
type Disagreeing = { [K in SupplyPointField]: Same<Plain<z.output<FieldValues[K]>>, Plain<RecordValues[K]>> extends true ? never : K }[SupplyPointField];
export const fieldValuesAgree: [Disagreeing] extends [never] ? true : { notAsRecorded: Disagreeing } = true;

const Masked = z.object({ shown: z.literal(false), reason: z.enum(SHOWN_REASONS).describe('why it is masked (GET /api/vocabulary: reasons)') });

/** One field of a record view: its value, or masked with the reason — never both. */
export const fieldView = <V extends z.core.SomeType>(value: V) => z.discriminatedUnion('shown', [z.object({ shown: z.literal(true), value }), Masked]);

type FieldViews<F extends SupplyPointField> = { [K in F]: ReturnType<typeof fieldView<FieldValues[K]>> };

/** A record view carrying the fields `fields` (each required), in manifest order. */
function recordView<const F extends SupplyPointField>(fields: readonly F[], description: string) {
  const shape = Object.fromEntries(fields.map((f) => [f, fieldView(FIELD_VALUES[f])])) as FieldViews<F>;
  return z.object({ supplyPointId: z.string(), fields: z.object(shape) }).describe(description);
}

/** The record screen: every field of the manifest. */
export const RecordView = recordView(SUPPLY_POINT_FIELD_KEYS, 'every field of the supply point record, each shown or masked with its reason');
export type RecordView = z.output<typeof RecordView>;

/** A search result: the fields that pick the right record (domain/classification.ts, SEARCH_FIELDS). */
export const SearchView = recordView(SEARCH_FIELDS, 'a search result: the fields that pick the right record, each shown or masked with its reason');
export type SearchView = z.output<typeof SearchView>;

const Purpose = z.enum(DECLARABLE_PURPOSES).describe('the declared purpose of use (logged with the read)');
const Reason = text(1, 200).describe('the reason for this one read; required under the emergency_support purpose, and logged');

export const lookup = contract({
  params: z.object({ id: z.string().max(64).describe('22 digits; hyphens and spaces are ignored') }),
  querystring: z.strictObject({ purpose: Purpose, reason: Reason.optional() }),
  response: { 200: RecordView },
});

export const search = contract({
  querystring: z.strictObject({
    purpose: Purpose,
    reason: Reason.optional(),
    address: text(2, 100).optional(),
    name: text(2, 100).optional().describe("the holder's name, where the firewall allows searching by it"),
    phone: z
      .string()
      .min(10)
      .max(20)
      .regex(/^[0-9+\- ()]+$/)
      .optional()
      .describe('where the firewall allows searching by it'),
    limit: z.int().min(1).max(100).default(20),
    offset: z.int().min(0).max(10_000).default(0).describe('results to skip (after `after`, when given); each is read, so prefer `after` for paging'),
    after: z
      .string()
      .regex(/^\d{22}$/)
      .optional()
      .describe("keyset paging: the results after this supply point in the search's order — the previous page's `page.next`"),
  }),
  response: {
    200: z.object({
      items: z.array(SearchView),
      page: z.object({
        limit: z.int(),
        offset: z.int(),
        hasMore: z.boolean(),
        next: z.string().nullable().describe('the `after` that gives the next page (the last result’s ID); null when there is none'),
      }),
    }),
  },
});
