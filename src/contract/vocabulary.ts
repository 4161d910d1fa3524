import { z } from 'zod';
import { FIELD_CLASSES, SUPPLY_POINT_FIELD_KEYS } from '../domain/classification.ts';
import { SHOWN_REASONS } from '../domain/decision.ts';
import { SIDES } from '../domain/organization.ts';
import { PRINCIPAL_CLASSES } from '../domain/principal.ts';
import { PURPOSES } from '../domain/purpose.ts';
import { EQUALITY_MEASURES } from '../domain/equal-treatment.ts';
import { CASE_TYPES, CONSENT_METHODS, IDENTITY_CHECKS, INQUIRY_STATUSES, PROPER_FLOW_ACTIONS } from '../domain/inquiry.ts';
import { ACCESS_REFUSALS } from '../domain/access-refusals.ts';
import { FINDING_RULES } from '../domain/finding-rules.ts';
import { GOVERNANCE_ACTIONS, GOVERNANCE_OUTCOMES, GOVERNANCE_SUBJECT_TYPES } from '../domain/governance-actions.ts';
import { SITE_SIDES, TERMINAL_SETTINGS } from '../domain/terminal.ts';
import { Labels } from './common.ts';
import { contract } from './schema.ts';

/** The words of the domain in Japanese and English (src/api/vocabulary-routes.ts), each closed set whole. */

/** Labels for every member of a closed set (each required). */
const labelsOf = <const K extends readonly [string, ...string[]]>(keys: K) => z.record(z.enum(keys), Labels);

export const Vocabulary = z.object({
  fields: z
    .array(z.object({ key: z.enum(SUPPLY_POINT_FIELD_KEYS), class: z.enum(FIELD_CLASSES), ...Labels.shape }))
    .describe('the fields of the supply point record, in manifest order'),
  fieldClasses: labelsOf(FIELD_CLASSES),
  reasons: labelsOf(SHOWN_REASONS).describe('why a field is masked'),
  principalClasses: labelsOf(PRINCIPAL_CLASSES),
  purposes: labelsOf(PURPOSES),
  sides: labelsOf(SIDES),
  caseTypes: labelsOf(CASE_TYPES),
  consentMethods: labelsOf(CONSENT_METHODS),
  identityChecks: labelsOf(IDENTITY_CHECKS),
  inquiryStatuses: labelsOf(INQUIRY_STATUSES),
  equalityMeasures: labelsOf(EQUALITY_MEASURES),
  findingRules: labelsOf(FINDING_RULES).describe('every rule a finding is raised under (analysis and live)'),
  accessRefusals: labelsOf(ACCESS_REFUSALS).describe("why the firewall refused a read (the access log's refusal)"),
  routes: z.record(z.string(), Labels).describe('the data routes the access log names, by route (`GET /api/supply-points/:id`)'),
  terminalSettings: labelsOf(TERMINAL_SETTINGS),
  siteSides: labelsOf(SITE_SIDES),
  governanceActions: labelsOf(GOVERNANCE_ACTIONS),
  governanceSubjects: labelsOf(GOVERNANCE_SUBJECT_TYPES),
  governanceOutcomes: labelsOf(GOVERNANCE_OUTCOMES),
  refusalRules: z.record(z.string(), Labels).describe('the rules that refuse (or cause) a governance action, by code'),
  serviceLevelHours: z.record(z.enum(CASE_TYPES), z.number()).describe('hours to answer from the queue, per case type'),
  caseAllowances: z
    .record(z.enum(CASE_TYPES), z.object({ atOnce: z.array(z.string()), queued: z.array(z.string()) }))
    .describe("what each case may give with the customer's consent: at once, and from the service centre's queue"),
  properFlows: z
    .array(
      z.object({
        pattern: z.int(),
        action: z.enum(PROPER_FLOW_ACTIONS),
        purposes: z.array(z.string()).describe('declared purposes it applies under (empty: any)'),
        reasons: z.array(z.string()).describe('why the field is masked, for it to apply'),
        caseType: z.enum(CASE_TYPES).nullable(),
        ...Labels.shape,
      }),
    )
    .describe('what to do instead of looking, per misuse pattern (domain.md), for a masked field'),
});
export type Vocabulary = z.output<typeof Vocabulary>;

export const vocabulary = contract({ response: { 200: Vocabulary } });
