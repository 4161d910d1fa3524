import { z } from 'zod';
import { FIELD_CLASSES, SUPPLY_POINT_FIELD_KEYS } from '../domain/classification.ts';
import { SHOWN_REASONS } from '../domain/decision.ts';
import { SIDES } from '../domain/organization.ts';
import { PRINCIPAL_CLASSES } from '../domain/principal.ts';
import { PURPOSES } from '../domain/purpose.ts';
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
});
export type Vocabulary = z.output<typeof Vocabulary>;

export const vocabulary = contract({ response: { 200: Vocabulary } });
