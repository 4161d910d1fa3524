import { z } from 'zod';
import { DECLARATION_STATES, DECLARATION_STATUSES, type EmergencyArea as DomainArea } from '../domain/emergency.ts';
import { CsvEncodingParam, Identifier, InstantIn, InstantOut, page, text } from './common.ts';
import { contract, type Same } from './schema.ts';

/**
 * Declared emergencies: declarations and their confirmation, end and extension, the review of what was read
 * under one and its sign-off, the register of support staff (src/api/emergency-routes.ts). The services
 * answer with instants as `Date` (`InstantOut`).
 */

/** Where a declaration applies, as a client names it: a supply area (the ID's first two digits), a prefecture or a municipality. */
const AreaIn = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('area_code'), areaCode: z.string().regex(/^(0[1-9]|10)$/) }),
  z.strictObject({ kind: z.literal('prefecture'), prefecture: z.string().min(2).max(10) }),
  z.strictObject({ kind: z.literal('municipality'), prefecture: z.string().min(2).max(10), city: z.string().min(1).max(40) }),
]);

/** …and as the server shows it (what is stored, unchecked again on the way out). */
export const EmergencyArea = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('area_code'), areaCode: z.string() }),
  z.object({ kind: z.literal('prefecture'), prefecture: z.string() }),
  z.object({ kind: z.literal('municipality'), prefecture: z.string(), city: z.string() }),
]);
export type EmergencyArea = z.output<typeof EmergencyArea>;
// Both are the domain's areas, each way round (a compile-time check).
const areasAgree: [Same<z.output<typeof AreaIn>, DomainArea>, Same<EmergencyArea, DomainArea>] = [true, true];
void areasAgree;

const Window = z.object({ from: InstantOut, to: InstantOut }).nullable().describe('the span in which it gives access (null unless confirmed)');

export const Declaration = z.object({
  id: z.string(),
  status: z.enum(DECLARATION_STATUSES),
  state: z.enum(DECLARATION_STATES).describe('where it stands now: its status, and for a confirmed one where now falls in its window'),
  reason: z.string(),
  areas: z.array(EmergencyArea),
  startsAt: InstantOut,
  plannedEndAt: InstantOut,
  window: Window,
  extendsId: z.string().nullable().describe('the declaration it extends'),
  declaredBy: z.string(),
  declaredByPerson: z.string(),
  declaredAt: InstantOut,
  decidedBy: z.string().nullable(),
  decidedByPerson: z.string().nullable(),
  decidedAt: InstantOut.nullable(),
  decisionComment: z.string().nullable(),
  endedAt: InstantOut.nullable(),
  endedBy: z.string().nullable(),
  endReason: z.string().nullable(),
  signedOffBy: z.string().nullable(),
  signedOffAt: InstantOut.nullable(),
  signOffComment: z.string().nullable(),
});
export type Declaration = z.output<typeof Declaration>;

export const SupportStaff = z.object({
  id: z.int(),
  personId: z.string(),
  personName: z.string(),
  side: z.string().nullable().describe("the person's side now (null without an assignment in force)"),
  organization: z.string().nullable(),
  fields: z.array(z.string()).describe('the outage-contact fields they may see during an emergency'),
  note: z.string().nullable(),
  registeredBy: z.string(),
  registeredAt: InstantOut,
  validFrom: InstantOut,
  validTo: InstantOut.nullable(),
});
export type SupportStaff = z.output<typeof SupportStaff>;

export const ReviewRead = z.object({
  seq: z.int(),
  occurredAt: InstantOut,
  requestId: z.string(),
  personId: z.string(),
  userId: z.string().nullable(),
  organizationId: z.string().nullable(),
  employment: z.string().nullable(),
  office: z.string().nullable(),
  terminalId: z.string().nullable(),
  route: z.string(),
  outcome: z.string(),
  refusal: z.string().nullable(),
  statedReason: z.string().nullable(),
  supplyPoints: z.array(z.object({ supplyPointId: z.string(), shown: z.array(z.string()) })),
});
export type ReviewRead = z.output<typeof ReviewRead>;

export const Review = z.object({
  declaration: Declaration,
  reads: z.array(ReviewRead).describe("every read logged with the declaration's id"),
  refused: z.array(ReviewRead).describe('emergency-support reads refused during its window'),
  summary: z.object({ reads: z.int(), people: z.int(), supplyPoints: z.int(), refused: z.int() }),
});
export type Review = z.output<typeof Review>;

/** A declaration's ID in the path. */
const DeclarationPath = z.object({ id: z.string().regex(/^EM-[0-9]{5,}$/) });
const PersonPath = z.object({ personId: Identifier });
const Text = text(1, 500);

export const activeEmergencies = contract({
  response: {
    200: z.object({
      emergencies: z.array(z.object({ id: z.string(), reason: z.string(), areas: z.array(EmergencyArea), window: Window })),
      support: z
        .object({ fields: z.array(z.string()) })
        .nullable()
        .describe('what you may see as registered support staff (null: not registered now)'),
      maxHours: z.number().describe('longest a declaration may last, in hours'),
    }),
  },
});

export const declarationList = contract({
  querystring: z.strictObject({ live: z.boolean().optional(), ...page(200, 50) }),
  response: { 200: z.object({ declarations: z.array(Declaration), maxHours: z.number() }) },
});

export const declare = contract({
  body: z.strictObject({ areas: z.array(AreaIn).min(1).max(100), startsAt: InstantIn, plannedEndAt: InstantIn, reason: Text }),
  response: { 201: Declaration },
});

export const declarationGet = contract({ params: DeclarationPath, response: { 200: Declaration } });
export const declarationConfirm = contract({ params: DeclarationPath, body: z.strictObject({ comment: Text.optional() }), response: { 200: Declaration } });
export const declarationReject = contract({ params: DeclarationPath, body: z.strictObject({ comment: Text }), response: { 200: Declaration } });
export const declarationWithdraw = contract({ params: DeclarationPath, response: { 200: Declaration } });
export const declarationEnd = contract({ params: DeclarationPath, body: z.strictObject({ reason: Text }), response: { 200: Declaration } });
export const declarationExtend = contract({
  params: DeclarationPath,
  body: z.strictObject({ plannedEndAt: InstantIn, reason: Text }),
  response: { 201: Declaration },
});

export const declarationReview = contract({
  params: DeclarationPath,
  querystring: z.strictObject({ format: z.enum(['json', 'csv', 'xlsx']).optional(), encoding: CsvEncodingParam.optional() }),
  response: {
    200: Review.describe(
      'with format=csv (UTF-8 with a BOM, or CP932) or xlsx: a file for a spreadsheet, one line per supply point read or refused; this schema is the JSON answer',
    ),
  },
});

export const reviewSignOff = contract({ params: DeclarationPath, body: z.strictObject({ comment: Text }), response: { 200: Declaration } });

export const supportStaffList = contract({ response: { 200: z.object({ staff: z.array(SupportStaff) }) } });

export const supportRegister = contract({
  params: PersonPath,
  body: z.strictObject({
    fields: z.array(z.string().max(40)).min(1).max(20).describe('outage-contact fields only (the service refuses any other)'),
    note: Text.optional(),
    validTo: InstantIn.optional().describe('end of the registration (exclusive); none: until ended'),
  }),
  response: { 200: SupportStaff },
});

export const supportUnregister = contract({ params: PersonPath, response: { 204: z.null().describe('the registration ends now') } });
