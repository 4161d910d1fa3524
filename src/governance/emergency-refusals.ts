import type { Actor } from '../domain/actor.ts';
import type { GovernanceAction } from '../domain/governance-actions.ts';
import { refusalFamily, type RefusalKind } from '../domain/refusal.ts';
import { recordingRefusals } from '../audit/governance-log.ts';
import type { Db, Queryable } from '../store/db.ts';
import { personActor } from './grant-service.ts';

/**
 * Declared emergencies — declarations (emergency-declarations.ts), the support register
 * (emergency-support.ts), the review and its sign-off (emergency-review.ts) — refuse by these rules. Every
 * action, done or refused, is a governance event; a change and its event commit together (`guarded`).
 */

export type EmergencyRule =
  | 'not_a_declarer'
  | 'self_confirmation'
  | 'reciprocal_approval'
  | 'not_the_declarer'
  | 'not_pending'
  | 'window_passed'
  | 'parent_not_confirmed'
  | 'not_in_force'
  | 'not_an_administrator'
  | 'self_registration'
  | 'field_not_emergency_contact'
  | 'side_not_allowed'
  | 'unknown_person'
  | 'not_registered'
  | 'not_compliance'
  | 'not_independent'
  | 'not_over'
  | 'already_signed_off'
  | 'nothing_to_review'
  | 'unknown_emergency'
  | 'no_area'
  | 'end_before_start'
  | 'too_long'
  | 'end_in_past';

/** What kind of no each emergency rule is: a broken rule is refused, a stale request a conflict, a malformed one invalid. */
const EMERGENCY_REFUSAL_KINDS: Readonly<Record<EmergencyRule, RefusalKind>> = {
  not_a_declarer: 'refused',
  self_confirmation: 'refused',
  reciprocal_approval: 'refused',
  not_the_declarer: 'refused',
  not_an_administrator: 'refused',
  self_registration: 'refused',
  field_not_emergency_contact: 'refused',
  side_not_allowed: 'refused',
  not_compliance: 'refused',
  not_independent: 'refused',
  not_pending: 'conflict',
  window_passed: 'conflict',
  parent_not_confirmed: 'conflict',
  not_in_force: 'conflict',
  not_registered: 'conflict',
  not_over: 'conflict',
  already_signed_off: 'conflict',
  nothing_to_review: 'conflict',
  unknown_emergency: 'not_found',
  unknown_person: 'invalid',
  no_area: 'invalid',
  end_before_start: 'invalid',
  too_long: 'invalid',
  end_in_past: 'invalid',
};

/** A refused emergency action: the rule it broke and a sentence saying how. */
export class EmergencyActionRefused extends refusalFamily('emergency', EMERGENCY_REFUSAL_KINDS) {}

/** What an act is, for the governance event it leaves. */
export interface EmergencyAct {
  readonly action: GovernanceAction;
  readonly subjectType: 'emergency' | 'emergency_support';
  readonly subjectId: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Runs `fn` in a transaction; an emergency refusal it throws is recorded as a refused governance event. */
export function guarded<T>(db: Db, actor: Actor, at: Date, act: EmergencyAct, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return recordingRefusals(db, 'emergency', { at, actor: personActor(actor), ...act }, fn);
}
