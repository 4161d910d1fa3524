import { z } from 'zod';
import { IMPORT_OUTCOMES, IMPORT_RULES, REGISTER_FILES } from '../domain/register-import.ts';
import { Identifier, InstantOut, Labels } from './common.ts';
import { contract } from './schema.ts';

/**
 * `POST /api/access/import` (src/api/import-routes.ts): the legacy registers uploaded by access administration,
 * planned (`dryRun`) or imported — the same service as `gridwall import` (governance/legacy-import.ts).
 */

/** Largest register accepted, in bytes of the file (its base64 text is a third longer). */
export const MAX_REGISTER_BYTES = 4 * 1024 * 1024;

/** One uploaded file: its name (reported with each row's line) and its bytes in base64 (UTF-8 or CP932 as it is). */
export const RegisterUpload = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9 ._()[\]+\u3000-\u30ff\u4e00-\u9fff\uff01-\uff9f-]{1,120}$/)
    .describe('the file name as chosen: letters, digits, Japanese, spaces and ._()[]+- (no path)'),
  contentBase64: z
    .string()
    .max(Math.ceil(MAX_REGISTER_BYTES / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .describe('the file, base64'),
});

/** Rows read, and how many became each outcome (IMPORT_OUTCOMES; test/contract/contract.test.ts keeps the two equal). */
export const ImportCounts = z.object({
  read: z.int(),
  created: z.int(),
  updated: z.int(),
  unchanged: z.int(),
  requested: z.int(),
  skipped: z.int(),
  refused: z.int(),
  rejected: z.int(),
});

export const ImportRow = z.object({
  file: z.enum(REGISTER_FILES),
  name: z.string(),
  line: z.int(),
  subject: z.string().describe('the row’s key: a user ID, a terminal ID, a permission ID, or "user permission" for a grant'),
  outcome: z.enum(IMPORT_OUTCOMES),
  rule: z.enum(IMPORT_RULES).nullable(),
  ruleText: Labels.nullable().describe('the rule in words, Japanese and English'),
  detail: z.string().describe('what was done or why not (English)'),
});

export const ImportReport = z.object({
  importId: z.string(),
  dryRun: z.boolean(),
  at: InstantOut,
  operator: z.object({ userId: Identifier, personId: Identifier }),
  files: z.array(z.object({ file: z.enum(REGISTER_FILES), name: z.string(), encoding: z.enum(['utf-8', 'shift_jis']) })),
  counts: z.object({
    staff: ImportCounts.optional(),
    terminals: ImportCounts.optional(),
    permissions: ImportCounts.optional(),
    grants: ImportCounts.optional(),
  }),
  total: ImportCounts,
  rows: z.array(ImportRow),
});
export type ImportReport = z.output<typeof ImportReport>;

export const registerImport = contract({
  body: z.strictObject({
    dryRun: z.boolean().describe('true: show what would happen and change nothing'),
    files: z.strictObject({
      staff: RegisterUpload.optional(),
      terminals: RegisterUpload.optional(),
      permissions: RegisterUpload.optional(),
      grants: RegisterUpload.optional(),
    }),
  }),
  response: { 200: ImportReport },
});
