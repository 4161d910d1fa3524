import { z } from 'zod';
import { SEARCH_KINDS } from '../domain/classification.ts';
import { MASK_REASONS, OUTCOMES } from '../domain/decision.ts';
import { RELATIONS } from '../domain/relation.ts';
import { CsvEncodingParam, Day, Instant, InstantOut, text } from './common.ts';
import { contract } from './schema.ts';

/** The access log for compliance: its events, the chain's state, verification, export (src/api/audit-routes.ts). */

/**
 * How a verification finds the chain broken (audit/chain-verify.ts's `ChainBreak`; the route's return type
 * is checked against this list by the compiler).
 */
export const BREAK_KINDS = [
  'modified',
  'missing',
  'inserted',
  'out_of_order',
  'broken_link',
  'checkpoint_mismatch',
  'bad_signature',
  'truncated',
  'unsealed',
  'malformed',
  'archive',
] as const;

/** What the log keeps about one supply point in one read. */
export const LoggedRecord = z.object({
  supplyPointId: z.string(),
  relation: z.enum(RELATIONS),
  retailerCode: z.string().nullable().describe('the retailer supplying the point then; null when vacant or under last-resort supply'),
  lastResort: z.boolean(),
  shown: z.array(z.string()).describe('the fields shown'),
  masked: z.record(z.string(), z.enum(MASK_REASONS)).describe('each masked field with the exact reason (a person may have been shown a coarser one)'),
});

/** One access-log event: a read decided by the firewall, served or refused. */
export const AuditEvent = z.object({
  seq: z.int(),
  hash: z.string(),
  occurredAt: InstantOut,
  requestId: z.string(),
  personId: z.string(),
  userId: z.string().nullable(),
  sessionId: z.string().nullable(),
  principalClass: z.string().describe('as logged'),
  side: z.string().nullable(),
  organizationId: z.string().nullable(),
  employment: z.string().nullable(),
  office: z.string().nullable(),
  terminalId: z.string().nullable(),
  route: z.string(),
  purpose: z.string().describe('as logged'),
  outcome: z.enum(OUTCOMES),
  refusal: z.string().nullable(),
  query: z.record(z.string(), z.unknown()).describe('the kind of query as logged (a search term only sealed, with its keyed hash)'),
  records: z.array(LoggedRecord),
  policyVersion: z.string(),
  emergencyId: z.string().nullable(),
  searchTerm: z.string().nullable().optional().describe('compliance only: the term searched for, read back (null when sealed under a key no longer held)'),
});
export type AuditEvent = z.output<typeof AuditEvent>;

const TrustedKey = z.object({ keyId: z.string(), source: z.string().describe('where the key came from: never the database') });

export const AuditStatus = z.object({
  head: z.object({ seq: z.int(), hash: z.string() }),
  lastSeal: z.object({ firstSeq: z.int(), seq: z.int(), signedAt: InstantOut, keyId: z.string() }).nullable(),
  writer: z
    .object({
      halted: z.string().nullable().describe('why the writer stopped the line; null while it writes'),
      witnessError: z.string().nullable().describe('why the last seal could not be published to the witness; null when it was (the log goes on either way)'),
    })
    .describe("the writer's messages, which the public readiness answer gives as states only"),
  trustedKeys: z.array(TrustedKey),
  witness: z
    .object({ file: z.string(), lastPublished: z.object({ seq: z.int(), signedAt: Instant }).nullable(), error: z.string().nullable() })
    .nullable()
    .describe('the seals published outside the database; null when none is configured'),
  partitions: z.array(
    z.object({ name: z.string(), month: z.string().describe('YYYY-MM'), events: z.int(), firstSeq: z.int().nullable(), lastSeq: z.int().nullable() }),
  ),
});
export type AuditStatus = z.output<typeof AuditStatus>;

export const AuditVerification = z.object({
  ok: z.boolean(),
  events: z.int(),
  firstSeq: z.int().nullable(),
  lastSeq: z.int().nullable(),
  lastHash: z.string(),
  checkpoints: z.object({ verified: z.int(), inRange: z.int() }).describe('version-1 checkpoints verified, and how many fell in the range'),
  seals: z.int().describe('seals verified (each a group commit of the writer)'),
  witnessChecked: z.int().nullable().describe("the witness's seals held against the chain; null without a witness"),
  firstBreak: z
    .object({ kind: z.enum(BREAK_KINDS), seq: z.int(), detail: z.string() })
    .nullable()
    .describe('the first break; null when the log verifies'),
  archives: z.object({ files: z.int(), events: z.int() }),
  range: z
    .object({ fromSeq: z.int(), toSeq: z.int(), anchor: z.string() })
    .nullable()
    .describe(
      'the events checked when a part of the log was verified on its own (its end where the covering seal ends), and the hash its first event states for the one before; null for the whole log',
    ),
  trustedKeys: z.array(TrustedKey),
  witnessFile: z.string().nullable(),
  witnessError: z.string().nullable().describe('a witness that cannot be read is itself a finding'),
  seconds: z.number(),
  verifiedAt: InstantOut,
});
export type AuditVerification = z.output<typeof AuditVerification>;

const DayFilter = Day.describe('a calendar day in Japan time (inclusive)');

export const auditEvents = contract({
  querystring: z.strictObject({
    person: text(1, 64).optional().describe('a person or user ID'),
    supplyPoint: z
      .string()
      .min(22)
      .max(30)
      .regex(/^[0-9\- ]+$/)
      .optional(),
    retailer: text(1, 16).optional(),
    from: DayFilter.optional(),
    to: DayFilter.optional(),
    outcome: z.enum(OUTCOMES).optional(),
    searchBy: z.enum(SEARCH_KINDS).optional().describe('with searchTerm: searches for this term, matched by its keyed hash'),
    searchTerm: text(1, 200).optional(),
    limit: z.int().min(1).max(200).default(50),
    offset: z.int().min(0).max(100_000).default(0),
  }),
  response: { 200: z.object({ items: z.array(AuditEvent), page: z.object({ limit: z.int(), offset: z.int(), hasMore: z.boolean() }) }) },
});

export const auditStatus = contract({ response: { 200: AuditStatus } });

export const auditVerify = contract({ response: { 200: AuditVerification } });

/** A download (JSON Lines or CSV), streamed: no JSON answer. */
export const auditExport = contract({
  querystring: z.strictObject({
    format: z.enum(['jsonl', 'csv', 'xlsx']).default('jsonl'),
    encoding: CsvEncodingParam.optional(),
    from: DayFilter.optional(),
    to: DayFilter.optional(),
  }),
  response: {},
});
