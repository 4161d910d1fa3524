import { z } from 'zod';
import { FINDING_SOURCES, FINDING_STATUSES, SEVERITIES } from '../domain/finding.ts';
import { CsvEncodingParam, Day, InstantOut, RowId, page, text } from './common.ts';
import { contract } from './schema.ts';

/** Compliance's analytics: the regulator's report over gridwall's own log, scans, digests, and the review queue of findings (src/api/analysis-routes.ts). */

/** What a finding may be moved to by a reviewer. */
export const FINDING_DECISIONS = ['acknowledged', 'resolved'] as const satisfies readonly (typeof FINDING_STATUSES)[number][];

const Split = z.object({ employee: z.int(), contractor: z.int(), total: z.int() });

export const Counts = z.object({
  views: Split.describe('reads of non-public items of other retailers’ customers by retail-side people'),
  lastResortViews: z.int(),
  noContractViews: z.int(),
  emergencyViews: z.int().describe('reads made under a declared emergency: legitimate, counted apart'),
  inquiryViews: z.int().describe("reads that answered a retailer's inquiry with the customer's consent: the proper channel, counted apart"),
  terminals: z.int(),
  people: Split,
  offices: z.int(),
  contractorOrganizations: z.int(),
  supplyPoints: z.int(),
  retailers: z.int(),
  formerCustomerViews: z.int().describe("of the views: points that had been the affiliated retailer's customers before"),
});
export type Counts = z.output<typeof Counts>;

/** What a rule found in the period (in the report; a scan queues each one as a finding). */
export const RuleFinding = z.object({
  rule: z.string(),
  severity: z.enum(SEVERITIES),
  subject: z.string().describe('user:<id>, person:<id> or terminal:<id>'),
  detail: z.string(),
  evidence: z.record(z.string(), z.unknown()),
});
export type RuleFinding = z.output<typeof RuleFinding>;

export const Report = z.object({
  period: z.object({ from: Day, to: Day }),
  affiliate: z.string(),
  rows: z.object({ read: z.int(), used: z.int(), rejected: z.int(), outsidePeriod: z.int() }),
  systems: z.array(
    Counts.extend({
      system: z.string(),
      screens: z
        .array(z.object({ screen: z.string(), views: Split }))
        .optional()
        .describe('views per screen, highest first: present when the log names screens (legacy logs with a `screen` column)'),
    }),
  ),
  total: Counts,
  viewers: z.array(
    z.object({
      userId: z.string(),
      personId: z.string().nullable(),
      views: z.int(),
      corporate: z.object({ views: z.int(), customers: z.int() }),
      individual: z.object({ views: z.int(), customers: z.int() }),
      employment: z.string().nullable(),
      organization: z.string().nullable(),
      office: z.string().nullable(),
    }),
  ),
  findings: z.array(RuleFinding),
  daily: z.array(z.object({ day: Day, views: z.int(), lastResortViews: z.int() })).describe('views per day (Japan time), for charts'),
  rejected: z.array(z.object({ file: z.string(), line: z.int(), reason: z.string() })),
  thresholds: z.object({
    bulkMinDaily: z.number(),
    bulkOwnFactor: z.number(),
    bulkPeerFactor: z.number(),
    bulkMinTotal: z.number(),
    offHoursFrom: z.number(),
    offHoursTo: z.number(),
    offHoursMin: z.number(),
    probingRefusals: z.number(),
    probingWindowMinutes: z.number(),
    dormantDays: z.number(),
  }),
});
export type Report = z.output<typeof Report>;

export const Digest = z.object({
  day: Day,
  views: z.int(),
  emergencyViews: z.int(),
  refused: z.int(),
  queued: z.int(),
  open: z.object({ high: z.int(), medium: z.int(), low: z.int() }).describe('findings not yet resolved, by severity'),
});
export type Digest = z.output<typeof Digest>;

/** A finding in the review queue. */
export const QueuedFinding = z.object({
  id: z.int(),
  rule: z.string(),
  severity: z.enum(SEVERITIES),
  occurredAt: InstantOut,
  detectedAt: InstantOut,
  source: z.enum(FINDING_SOURCES),
  subjectPersonId: z.string().nullable(),
  subjectUserId: z.string().nullable(),
  summary: z.string(),
  evidence: z.unknown().describe('the latest evidence'),
  status: z.enum(FINDING_STATUSES),
  subjectKey: z.string().nullable().describe('what it is about: person:<id>, user:<id> or terminal:<id>; one open finding per rule and subject'),
  occurrences: z.int().describe('how many times it was raised while open'),
  firstSeenAt: InstantOut,
  lastSeenAt: InstantOut,
  earlierEvidence: z.array(z.unknown()).describe('the evidence before the latest, newest first (at most 10)'),
});
export type QueuedFinding = z.output<typeof QueuedFinding>;

const Period = { from: Day, to: Day.describe('last day (Japan time), inclusive') };

export const analysisReport = contract({
  querystring: z.strictObject({ ...Period, format: z.enum(['json', 'csv', 'xlsx']).optional(), encoding: CsvEncodingParam.optional() }),
  response: { 200: Report.describe('with format=csv: text/csv (UTF-8 with a BOM, for Excel); with format=xlsx: a workbook; this schema is the JSON answer') },
});

const ExposureWindowBound = z.string().describe('a Japan day, YYYY-MM-DD');

/** The exposure report of gridwall's own history (issue 22; src/analysis/live-exposure.ts). */
export const Exposure = z.object({
  period: z.object({ from: Day, to: Day }),
  emergencies: z.array(
    z.object({
      declarationId: z.string(),
      reason: z.string(),
      from: z.string().describe('ISO 8601: the declared start'),
      to: z.string().describe('ISO 8601: the early end, or the planned end'),
      areas: z.array(z.string()),
      people: z.array(z.object({ personId: z.string(), name: z.string(), side: z.string().nullable(), fields: z.array(z.string()) })),
      reads: z.int().describe('reads logged under the declaration in the period'),
      views: z.int().describe('of them, by the retail side, of other retailers’ customers’ non-public items'),
      viewers: z.int(),
      supplyPoints: z.int(),
      first: z.string().nullable(),
      last: z.string().nullable(),
    }),
  ),
  grants: z.array(
    z.object({
      userId: z.string(),
      permissionId: z.string(),
      grantedBy: z.string(),
      grantedAt: ExposureWindowBound,
      rules: z.array(z.string()),
      from: ExposureWindowBound,
      to: ExposureWindowBound.nullable().describe('null: still so at the period’s end'),
      windows: z.array(z.object({ from: ExposureWindowBound, to: ExposureWindowBound.nullable() })),
      views: z.int(),
      supplyPoints: z.int(),
      first: z.string().nullable(),
      last: z.string().nullable(),
    }),
  ),
  grantSummary: z.object({ holders: z.int(), viewers: z.int(), views: z.int(), supplyPoints: z.int() }),
  policies: z.array(
    z.object({
      version: z.string(),
      current: z.boolean(),
      allowed: z.boolean().nullable().describe('null: a version this build does not hold, so not judged'),
      reads: z.int(),
      views: z.int().describe('views outside an emergency and an inquiry answer made under it'),
      first: z.string(),
      last: z.string(),
    }),
  ),
  people: z
    .array(
      z.object({
        userId: z.string(),
        personId: z.string().nullable(),
        decidedSides: z.array(z.string()).describe('the side(s) the firewall took the person to be on when it served them'),
        views: z.int(),
        supplyPoints: z.int(),
        first: z.string(),
        last: z.string(),
      }),
    )
    .describe('views outside an emergency and an inquiry answer served to people the staff register, as it stands, puts on the retail side'),
});
export type Exposure = z.output<typeof Exposure>;

export const analysisExposure = contract({
  querystring: z.strictObject(Period),
  response: { 200: Exposure },
});

export const analysisScan = contract({
  body: z.strictObject(Period),
  response: {
    200: z.object({
      period: z.object({ from: Day, to: Day }),
      findings: z.int().describe('what the rules found'),
      queued: z.int().describe('of them, new to the queue'),
      updated: z.int().describe('of them, open findings updated with this evidence'),
    }),
  },
});

export const digestList = contract({ response: { 200: z.object({ digests: z.array(Digest) }) } });

export const findingList = contract({
  querystring: z.strictObject({ rule: z.string().max(64).optional(), open: z.boolean().optional(), ...page(200, 50) }),
  response: { 200: z.object({ findings: z.array(QueuedFinding) }) },
});

export const findingReview = contract({
  params: z.object({ id: RowId }),
  body: z.strictObject({ comment: text(1, 2000).optional() }),
  response: { 200: z.object({ id: z.int(), status: z.enum(FINDING_DECISIONS) }) },
});
