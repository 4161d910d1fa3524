import { SUPPLY_POINT_FIELD_KEYS, SUPPLY_POINT_FIELDS, type SupplyPointField } from './classification.ts';

/**
 * Declared emergencies (非常災害時) and the support staff registered for them. Pure: the rules that say
 * whether a declaration is in force at an instant, whether it covers a supply point, and what a registered
 * person may see under it. The store and the firewall only feed them facts.
 *
 * A declaration takes effect only once a second person has confirmed it, and never before its start; it
 * stops at its planned end (or when ended early) because every decision reads the window — there is no job
 * that switches access off, so there is none that can fail to run.
 */

/** Where a declaration applies: a whole supply area (the ID's first two digits), a prefecture, or one municipality. */
export type EmergencyArea =
  | { readonly kind: 'area_code'; readonly areaCode: string }
  | { readonly kind: 'prefecture'; readonly prefecture: string }
  | { readonly kind: 'municipality'; readonly prefecture: string; readonly city: string };

/** Where a supply point is, as the areas name it. */
export interface PointLocation {
  readonly areaCode: string;
  readonly prefecture: string;
  readonly city: string;
}

export const DECLARATION_STATUSES = ['pending', 'confirmed', 'rejected', 'withdrawn'] as const;
export type DeclarationStatus = (typeof DECLARATION_STATUSES)[number];

/** Where a declaration stands at an instant: its status, and for a confirmed one where the instant falls in its window. */
export const DECLARATION_STATES = ['pending', 'scheduled', 'active', 'ended', 'rejected', 'withdrawn'] as const;
export type DeclarationState = (typeof DECLARATION_STATES)[number];

export interface Declaration {
  readonly id: string;
  readonly status: DeclarationStatus;
  readonly startsAt: Date;
  readonly plannedEndAt: Date;
  /** When the second person confirmed it (null while pending, or if rejected). */
  readonly confirmedAt: Date | null;
  /** When it was ended early (null: runs to its planned end). */
  readonly endedAt: Date | null;
  /** The declaration this one extends (null for a first declaration). */
  readonly extendsId: string | null;
  readonly areas: readonly EmergencyArea[];
}

/**
 * Declarations by id: what a declaration's line — the declarations it extends, up to the first — is read
 * from. Whoever asks whether an extension is in force passes its ancestors too.
 */
export type DeclarationLines = ReadonlyMap<string, Declaration>;

export function linesOf(ds: readonly Declaration[]): DeclarationLines {
  return new Map(ds.map((d) => [d.id, d]));
}

/**
 * The span in which a declaration gives access: from its start (not before confirmation) to its end —
 * and never past an early end anywhere up its line. An extension is the same emergency going on: ending
 * the emergency ends every extension of it, confirmed or not (issue 14: an early end that left the
 * confirmed extension to open rival customers' data once the original's planned end had passed). A line
 * that cannot be read whole (an ancestor not given, not confirmed, or a cycle) gives nothing.
 */
export function windowOf(d: Declaration, lines: DeclarationLines): { readonly from: Date; readonly to: Date } | null {
  if (d.status !== 'confirmed' || d.confirmedAt === null) return null;
  const from = Math.max(d.startsAt.getTime(), d.confirmedAt.getTime());
  let to = Math.min(d.plannedEndAt.getTime(), d.endedAt?.getTime() ?? Number.POSITIVE_INFINITY);
  const seen = new Set<string>([d.id]);
  for (let up = d.extendsId; up !== null;) {
    const ancestor = lines.get(up);
    if (ancestor === undefined || seen.has(up) || ancestor.status !== 'confirmed' || ancestor.confirmedAt === null) return null;
    seen.add(up);
    if (ancestor.endedAt !== null) to = Math.min(to, ancestor.endedAt.getTime());
    up = ancestor.extendsId;
  }
  return from < to ? { from: new Date(from), to: new Date(to) } : null;
}

/** In force at `at`: confirmed, started, not yet at its planned end, and neither it nor its line ended early. Half-open: [from, to). */
export function inForce(d: Declaration, at: Date, lines: DeclarationLines): boolean {
  const w = windowOf(d, lines);
  const t = at.getTime();
  return w !== null && w.from.getTime() <= t && t < w.to.getTime();
}

/** Whether any of `declarations` (read with their lines) is in force at `at`. */
export function anyInForce(declarations: readonly Declaration[], at: Date): boolean {
  const lines = linesOf(declarations);
  return declarations.some((d) => inForce(d, at, lines));
}

export function areaCovers(area: EmergencyArea, p: PointLocation): boolean {
  switch (area.kind) {
    case 'area_code':
      return area.areaCode === p.areaCode;
    case 'prefecture':
      return area.prefecture === p.prefecture;
    case 'municipality':
      return area.prefecture === p.prefecture && area.city === p.city;
  }
}

export function covers(d: Declaration, p: PointLocation): boolean {
  return d.areas.some((a) => areaCovers(a, p));
}

/** The fields a support person may ever be registered for: the manifest's outage-contact fields. */
export const EMERGENCY_CONTACT_FIELDS: readonly SupplyPointField[] = SUPPLY_POINT_FIELD_KEYS.filter((f) => SUPPLY_POINT_FIELDS[f].emergencyContact);

/** Fields asked for that no support person may be registered for (usage, capacity, retailer, …). */
export function fieldsBeyondEmergencyContact(fields: readonly string[]): string[] {
  const allowed = new Set<string>(EMERGENCY_CONTACT_FIELDS);
  return fields.filter((f) => !allowed.has(f));
}

/** A person registered in advance as emergency support, with the fields they may see during an emergency. */
export interface SupportRegistration {
  readonly personId: string;
  readonly fields: readonly SupplyPointField[];
  readonly validFrom: Date;
  /** End of the registration (exclusive); null: until revoked. */
  readonly validTo: Date | null;
}

export function registrationInForce(r: SupportRegistration, at: Date): boolean {
  const t = at.getTime();
  return r.validFrom.getTime() <= t && (r.validTo === null || t < r.validTo.getTime());
}

/** Why an emergency-support read is refused. Stable codes: logged, returned, and raised as findings. */
export const EMERGENCY_REFUSALS = ['not_emergency_support', 'no_active_emergency', 'outside_emergency_area'] as const;
export type EmergencyRefusal = (typeof EMERGENCY_REFUSALS)[number];

export const EMERGENCY_REFUSAL_LABELS: Readonly<Record<EmergencyRefusal, { ja: string; en: string }>> = {
  not_emergency_support: { ja: '非常災害時の支援要員として登録されていません', en: 'Not registered as emergency support staff' },
  no_active_emergency: { ja: '有効な非常災害宣言がありません', en: 'No declared emergency is in force' },
  outside_emergency_area: { ja: '非常災害宣言の対象地域外です', en: 'Outside the declared emergency area' },
};

/** What a person's emergency standing is for one supply point at one instant. */
export type EmergencyCover =
  | { readonly kind: 'covered'; readonly declarationId: string; readonly fields: readonly SupplyPointField[] }
  | { readonly kind: 'refused'; readonly reason: EmergencyRefusal };

/**
 * The emergency standing of a person for a supply point at `at`. Registration is checked first (an
 * unregistered person learns nothing about declarations), then whether any declaration is in force, then
 * whether one in force covers the point. The earliest-declared covering declaration is the one logged.
 * `declarations` holds the candidates and their lines (ancestors); an extension whose line is missing
 * from it is not in force.
 */
export function emergencyCover(registration: SupportRegistration | null, declarations: readonly Declaration[], point: PointLocation, at: Date): EmergencyCover {
  if (registration === null || !registrationInForce(registration, at)) return { kind: 'refused', reason: 'not_emergency_support' };
  const lines = linesOf(declarations);
  const live = declarations.filter((d) => inForce(d, at, lines));
  if (live.length === 0) return { kind: 'refused', reason: 'no_active_emergency' };
  const covering = live.filter((d) => covers(d, point)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
  if (covering === undefined) return { kind: 'refused', reason: 'outside_emergency_area' };
  return { kind: 'covered', declarationId: covering.id, fields: registration.fields };
}

/** Why a declaration (or its extension) as asked for cannot be made. */
export type DeclarationProblem =
  | { readonly rule: 'no_area'; readonly message: string }
  | { readonly rule: 'end_before_start'; readonly message: string }
  | { readonly rule: 'too_long'; readonly message: string }
  | { readonly rule: 'end_in_past'; readonly message: string };

/** Checks a declaration's shape: at least one area, a planned end after the start and in the future, within the maximum. */
export function declarationProblem(
  input: { readonly startsAt: Date; readonly plannedEndAt: Date; readonly areas: readonly EmergencyArea[] },
  maxMs: number,
  now: Date,
): DeclarationProblem | null {
  if (input.areas.length === 0) return { rule: 'no_area', message: 'a declaration names at least one area (supply area code, prefecture or municipality)' };
  const span = input.plannedEndAt.getTime() - input.startsAt.getTime();
  if (span <= 0) return { rule: 'end_before_start', message: 'the planned end must be after the start' };
  if (input.plannedEndAt.getTime() <= now.getTime()) return { rule: 'end_in_past', message: 'the planned end is already past' };
  if (span > maxMs) {
    return {
      rule: 'too_long',
      message: `a declaration may last at most ${Math.round(maxMs / 3_600_000)} hours; declare an extension (confirmed by a second person) to go on`,
    };
  }
  return null;
}
