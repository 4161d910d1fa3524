import { z } from 'zod';
import { FIELD_CLASSES, SUPPLY_POINT_FIELD_KEYS } from '../domain/classification.ts';
import { MASK_REASONS, VIOLATION_RULES } from '../domain/decision.ts';
import { PRINCIPAL_CLASSES } from '../domain/principal.ts';
import { PURPOSES } from '../domain/purpose.ts';
import { RELATIONS } from '../domain/relation.ts';
import { ANSWERINGS, CASE_TYPES, CONSENT_STATES, INQUIRY_RULES } from '../domain/inquiry.ts';
import { CsvEncodingParam } from './common.ts';
import { contract } from './schema.ts';

/** The masking checklist (src/api/policy-routes.ts): what `gridwall verify` prints. */

export const ChecklistRow = z.object({
  route: z.string(),
  principalClass: z.enum(PRINCIPAL_CLASSES),
  relation: z.enum(RELATIONS),
  emergency: z.boolean(),
  field: z.enum(SUPPLY_POINT_FIELD_KEYS),
  fieldClass: z.enum(FIELD_CLASSES),
  outcome: z.enum(['shown', 'masked']).describe('shown if any purpose the class may declare shows it'),
  shownFor: z.array(z.enum(PURPOSES)),
  reasons: z.array(z.enum(MASK_REASONS)).describe('mask reasons over the permitted purposes (over all when none is permitted)'),
});
export type ChecklistRow = z.output<typeof ChecklistRow>;

export const Violation = z.object({
  principalClass: z.enum(PRINCIPAL_CLASSES),
  relation: z.enum(RELATIONS),
  field: z.enum(SUPPLY_POINT_FIELD_KEYS),
  emergency: z.boolean(),
  purpose: z.enum(PURPOSES),
  inquiry: z.boolean().describe('the read answers an inquiry whose case allows this field'),
  rule: z.enum(VIOLATION_RULES),
});

/** How one inquiry case answers one item with that consent, to one kind of retailer (domain/inquiry.ts). */
export const InquiryRow = z.object({
  caseType: z.enum(CASE_TYPES),
  item: z.enum(SUPPLY_POINT_FIELD_KEYS),
  consent: z.enum(CONSENT_STATES),
  requester: z.enum(PRINCIPAL_CLASSES),
  answering: z.enum(ANSWERINGS),
  outcome: z.enum(['shown', 'masked']).describe("what the firewall shows that requester of a record not its customer's, answering the inquiry"),
});

export const InquiryViolation = z.object({
  caseType: z.enum(CASE_TYPES),
  item: z.enum(SUPPLY_POINT_FIELD_KEYS),
  consent: z.enum(CONSENT_STATES),
  rule: z.enum(INQUIRY_RULES),
});

export const Checklist = z.object({
  policyVersion: z.string().describe('SHA-256 of the decision table: the version logged with every read'),
  pass: z.boolean().describe('no violation of the masking invariant and none of the inquiry rules'),
  violations: z.array(Violation),
  rows: z.array(ChecklistRow),
  inquiry: z
    .object({ pass: z.boolean(), violations: z.array(InquiryViolation), rows: z.array(InquiryRow) })
    .describe('the inquiry allowances: every case × item × consent × kind of retailer, answered alike and never beyond the case'),
});
export type Checklist = z.output<typeof Checklist>;

/** With `format=csv` (UTF-8 with a BOM, or CP932), `format=xlsx` or `format=md` (Markdown) the same checklist as a file instead. */
export const checklist = contract({
  querystring: z.strictObject({ format: z.enum(['json', 'csv', 'xlsx', 'md']).default('json'), encoding: CsvEncodingParam.optional() }),
  response: { 200: Checklist },
});
