import { z } from 'zod';
import { CSV_ENCODINGS } from '../domain/export-file.ts';

/** Fragments every area's contract repeats: written once here. */

/** An identifier as stored (user, person, organization, permission): 1–64 characters. */
export const Identifier = z.string().min(1).max(64);

/** A filter on an identifier in a query (an empty one matches nothing). */
export const IdentifierFilter = z.string().max(64);

/**
 * How a new account's user ID is written (service accounts, SCIM Users). A SCIM `userName` may be any printable
 * ASCII up to 256 characters; the user ID of its account is made from it in this pattern (identity/scim.ts,
 * `userIdFor`).
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
export const NewUserId = z.string().regex(USER_ID_PATTERN);

/**
 * How a terminal ID is written, in the registry and in every login that names one (the same pattern as
 * identity/terminals.ts's TERMINAL_ID_SCHEMA; test/contract/contract.test.ts keeps the two equal).
 */
export const TerminalId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** An API token's public ID (never its secret). */
export const TokenId = z.string().regex(/^[A-Za-z0-9]{12}$/);

/** Free text a person writes (a reason, a comment): `min` to `max` characters. */
export const text = (min: number, max: number) => (min > 0 ? z.string().min(min).max(max) : z.string().max(max));

/** A calendar day (Japan time), `YYYY-MM-DD`; whether it exists is checked by the route. */
export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** A number of days a report looks back. */
export const Days = z.int().min(1).max(3660);

/** An instant as the server writes it: ISO 8601, UTC. */
export const Instant = z.string().describe('an instant, ISO 8601 in UTC');

/**
 * An instant a service answers with, as the domain value it is (`Date`): the handler returns the `Date`, the
 * response schema — `{ type: 'string', format: 'date-time' }` (contract/schema.ts's `jsonSchema`) — makes
 * fast-json-stringify write it as ISO 8601 in UTC (`2026-11-02T01:00:00.000Z`, what `JSON.stringify` gives),
 * and the console reads it as that string (`Wire`). Response side only: a request schema holding it throws.
 */
export const InstantOut = z.date().describe('an instant, ISO 8601 in UTC');

/** An instant a client sends: ISO 8601 with its offset (`Z` or `+09:00`); the route turns it into a `Date`. */
export const InstantIn = z.string().meta({ format: 'date-time', description: 'an instant, ISO 8601 with its offset' });

/** A word of the domain in Japanese and English (a purpose, a field, a reason …). */
export const Labels = z.object({ ja: z.string(), en: z.string() });
export type Labels = z.output<typeof Labels>;

/** A row number in the path (`/api/grants/:id/…`). */
export const RowId = z.int().min(1);

/** `?limit=&offset=`: a page of at most `max` rows, `byDefault` when not given. */
export const page = (max: number, byDefault: number) => ({
  limit: z.int().min(1).max(max).default(byDefault),
  offset: z.int().min(0).default(0),
});

/**
 * `?encoding=` of a CSV download: UTF-8 with a byte-order mark (the default) or CP932 for older Excel; a
 * character CP932 cannot hold is written as 〓 and counted (`x-replaced-characters`, and a last line in the file).
 */
export const CsvEncodingParam = z.enum(CSV_ENCODINGS).describe('with format=csv: utf-8 (with a BOM, the default) or cp932');
