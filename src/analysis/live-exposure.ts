import { japanDay } from '../domain/japan-time.ts';
import type { DecisionTable } from '../domain/decision-table.ts';
import type { PermissionSpec } from '../domain/permissions.ts';
import { isSide } from '../domain/organization.ts';
import { DEFAULT_SOD_POLICY, type SodPolicy } from '../domain/separation-of-duties.ts';
import { recordedViolations } from '../firewall/policy-versions.ts';
import { findViolations } from '../firewall/verify.ts';
import { grantExposures } from '../governance/grant-exposure.ts';
import type { GrantRecord, StaffPeriod } from '../governance/grant-rules.ts';
import type { Queryable } from '../store/db.ts';
import type { Engine } from './duck.ts';
import { countExposure, type ExposureRow, type ExposureSummary } from './exposure.ts';

/**
 * The exposure report over gridwall's own history (issue 22): for a period, every way in which a retail-side
 * person could see another retailer's customer's non-public items, each with its window, the people it covered
 * and the reads actually made under it —
 *
 * - **declared emergencies**: a confirmed declaration opens outage-contact fields of every customer in its area
 *   to the support staff registered for it, inside its window; the reads are the log's events under it;
 * - **grants that should not exist**: gridwall's own grants judged over their time in force by the rules of
 *   `grants check` (a person who moved to retail keeping a network-only permission), with the holder's views in
 *   each window;
 * - **policy versions**: each decision table the log says decided a read in the period, whether it let a retail
 *   principal see another retailer's customer's non-public items outside an emergency or an inquiry answer
 *   (the masking checklist's verdict recorded when a server first ran it, migration 021; a version never
 *   recorded and not held by this build is named, not judged), and the views made under it;
 * - **the register at the time**: views served to people the staff register, as it stands, puts on the retail
 *   side — the firewall decided with the register as it was then (a move HR reported late), with the side it
 *   took them to be on.
 *
 * Built over the analysis engine's tables of the period (`enriched`, from the report), and the registers of the store.
 */

export interface EmergencyExposure {
  readonly declarationId: string;
  readonly reason: string;
  /** The window: from its start to its early end or its planned end (ISO 8601). */
  readonly from: string;
  readonly to: string;
  readonly areas: readonly string[];
  /** The support staff registered while it ran, with the fields each could see and their side then. */
  readonly people: readonly { readonly personId: string; readonly name: string; readonly side: string | null; readonly fields: readonly string[] }[];
  /** Reads logged under it in the period; of them, views by the retail side of other retailers' customers' non-public items. */
  readonly reads: number;
  readonly views: number;
  readonly viewers: number;
  readonly supplyPoints: number;
  readonly first: string | null;
  readonly last: string | null;
}

export interface PolicyExposure {
  readonly version: string;
  /** The version this build holds (its rules could be judged). */
  readonly current: boolean;
  /** Whether it let a retail principal see other retailers' customers' non-public items outside an emergency or inquiry answer; null: not held here. */
  readonly allowed: boolean | null;
  readonly reads: number;
  /** Views outside an emergency and an inquiry answer made under it (what it would have let through). */
  readonly views: number;
  readonly first: string;
  readonly last: string;
}

/**
 * Views outside an emergency and an inquiry answer, per person: what the firewall served to someone the staff
 * register (as it stands now) puts on the retail side. The firewall decides with the register as it was at the
 * read; a view here means the register was corrected afterwards (HR told late: the Kyushu case), or a grant or
 * policy above let it through. `decidedSides` says what side the firewall took the person to be on then.
 */
export interface PersonExposure {
  readonly userId: string;
  readonly personId: string | null;
  readonly decidedSides: readonly string[];
  readonly views: number;
  readonly supplyPoints: number;
  readonly first: string;
  readonly last: string;
}

export interface LiveExposure {
  readonly emergencies: readonly EmergencyExposure[];
  readonly grants: readonly ExposureRow[];
  readonly grantSummary: ExposureSummary;
  readonly policies: readonly PolicyExposure[];
  readonly people: readonly PersonExposure[];
}

export interface LiveExposureOptions {
  /** The instants of the period: [start, end). */
  readonly start: Date;
  readonly end: Date;
  /** The decision table this build runs (its version is judged by the checklist's rules). */
  readonly table: DecisionTable;
  readonly sod?: SodPolicy;
  /** Grants are judged up to this instant (the period's end, or now if sooner). */
  readonly at: Date;
}

const iso = (d: Date | null | undefined) => (d === null || d === undefined ? null : d.toISOString());

function areaLabel(a: { kind: string; area_code: string | null; prefecture: string | null; city: string | null }): string {
  if (a.kind === 'area_code') return `エリア ${a.area_code ?? ''}`;
  return a.kind === 'prefecture' ? (a.prefecture ?? '') : `${a.prefecture ?? ''}${a.city ?? ''}`;
}

/** A person registered twice while a declaration ran (revoked, registered again) is one row, with every field either registration gave. */
function onePerPerson(rows: readonly { person_id: string; name: string; fields: string[]; side: string | null }[]): EmergencyExposure['people'] {
  const out = new Map<string, { personId: string; name: string; side: string | null; fields: string[] }>();
  for (const r of rows) {
    const seen = out.get(r.person_id);
    if (seen === undefined) out.set(r.person_id, { personId: r.person_id, name: r.name, side: r.side, fields: [...r.fields] });
    else for (const f of r.fields) if (!seen.fields.includes(f)) seen.fields.push(f);
  }
  return [...out.values()];
}

async function emergencies(e: Engine, db: Queryable, opts: LiveExposureOptions): Promise<EmergencyExposure[]> {
  const { rows } = await db.query<{ id: string; reason: string; starts_at: Date; ends_at: Date }>(
    `SELECT id, reason, starts_at, least(planned_end_at, coalesce(ended_at, planned_end_at)) AS ends_at FROM emergency_declarations
      WHERE status = 'confirmed' AND starts_at < $2 AND least(planned_end_at, coalesce(ended_at, planned_end_at)) > $1 ORDER BY starts_at, id`,
    [opts.start, opts.end],
  );
  const out: EmergencyExposure[] = [];
  for (const d of rows) {
    const areas = await db.query<{ kind: string; area_code: string | null; prefecture: string | null; city: string | null }>(
      `SELECT kind, area_code, prefecture, city FROM emergency_areas WHERE declaration_id = $1 ORDER BY kind, area_code, prefecture, city`,
      [d.id],
    );
    // The people registered while it ran, and the side of each at the declaration's start (or their registration's).
    const people = await db.query<{ person_id: string; name: string; fields: string[]; side: string | null }>(
      `SELECT r.person_id, p.name, r.fields,
              (SELECT s.side FROM staff_assignments s WHERE s.person_id = r.person_id AND s.valid_from <= greatest(r.valid_from, $1)
                  AND (s.valid_to IS NULL OR s.valid_to > greatest(r.valid_from, $1)) ORDER BY s.valid_from DESC LIMIT 1) AS side
         FROM emergency_support_staff r JOIN persons p ON p.id = r.person_id
        WHERE r.valid_from < $2 AND (r.valid_to IS NULL OR r.valid_to > $1) ORDER BY r.person_id, r.valid_from`,
      [d.starts_at, d.ends_at],
    );
    const [under] = await e.rows<{ reads: number; views: number; viewers: number; points: number; first: Date | null; last: Date | null }>(
      `SELECT count(*) AS reads, count(*) FILTER (WHERE kind = 'emergency') AS views, count(DISTINCT person_id) FILTER (WHERE kind = 'emergency') AS viewers,
              count(DISTINCT supply_point_id) FILTER (WHERE kind = 'emergency') AS points, min(accessed_at) AS first, max(accessed_at) AS last
         FROM enriched WHERE in_period AND emergency_id = $1`,
      [d.id],
    );
    out.push({
      declarationId: d.id,
      reason: d.reason,
      from: d.starts_at.toISOString(),
      to: d.ends_at.toISOString(),
      areas: areas.rows.map(areaLabel),
      people: onePerPerson(people.rows),
      reads: under?.reads ?? 0,
      views: under?.views ?? 0,
      viewers: under?.viewers ?? 0,
      supplyPoints: under?.points ?? 0,
      first: iso(under?.first),
      last: iso(under?.last),
    });
  }
  return out;
}

/** gridwall's grants and staff register as `grants check` reads a legacy registry's. */
async function registry(db: Queryable): Promise<{ staff: StaffPeriod[]; permissions: PermissionSpec[]; grants: GrantRecord[] }> {
  const staff = await db.query<{ user_id: string; person_id: string; organization: string; side: string; valid_from: Date; valid_to: Date | null }>(
    `SELECT a.user_id, s.person_id, o.name AS organization, s.side, s.valid_from, s.valid_to
       FROM accounts a JOIN staff_assignments s ON s.person_id = a.person_id JOIN organizations o ON o.id = s.organization_id ORDER BY a.user_id, s.valid_from`,
  );
  const permissions = await db.query<{ id: string; name_ja: string; allowed_sides: string[] }>(
    `SELECT id, name_ja, allowed_sides FROM permissions ORDER BY id`,
  );
  // In force from its approval until its revocation or its expiry, whichever came first.
  const grants = await db.query<{ user_id: string; permission_id: string; decided_by: string; decided_at: Date; ends_at: Date }>(
    `SELECT user_id, permission_id, decided_by, decided_at, least(expires_at, coalesce(revoked_at, expires_at)) AS ends_at FROM grants
      WHERE status IN ('approved', 'revoked') AND decided_at IS NOT NULL ORDER BY decided_at, id`,
  );
  return {
    staff: staff.rows.flatMap((r) =>
      isSide(r.side) ? [{ userId: r.user_id, personId: r.person_id, organization: r.organization, side: r.side, from: r.valid_from, to: r.valid_to }] : [],
    ),
    permissions: permissions.rows.map((p) => ({ id: p.id, name: p.name_ja, allowedSides: p.allowed_sides.filter(isSide) })),
    grants: grants.rows.map((g) => ({
      userId: g.user_id,
      permissionId: g.permission_id,
      grantedBy: g.decided_by,
      grantedAt: g.decided_at,
      revokedAt: g.ends_at,
    })),
  };
}

async function policies(e: Engine, db: Queryable, table: DecisionTable): Promise<PolicyExposure[]> {
  const rows = await e.rows<{ version: string; reads: number; views: number; first: Date; last: Date }>(
    `SELECT policy_version AS version, count(*) AS reads, count(*) FILTER (WHERE kind = 'view') AS views, min(accessed_at) AS first, max(accessed_at) AS last
       FROM enriched WHERE in_period AND policy_version IS NOT NULL GROUP BY policy_version ORDER BY first`,
  );
  // Each version as the checklist judged it when a server recorded it (policy_versions); this build's table,
  // judged now, if it was never recorded. A version neither recorded nor held here cannot be judged.
  const recorded = await recordedViolations(
    db,
    rows.map((r) => r.version),
  );
  const verdict = (version: string): boolean | null => {
    const violations = recorded.get(version) ?? (version === table.version ? findViolations(table) : null);
    return violations === null ? null : violations.some((v) => v.rule === 'retail_sees_non_own_non_public');
  };
  return rows.map((r) => ({
    version: r.version,
    current: r.version === table.version,
    allowed: verdict(r.version),
    reads: r.reads,
    views: r.views,
    first: r.first.toISOString(),
    last: r.last.toISOString(),
  }));
}

async function people(e: Engine): Promise<PersonExposure[]> {
  const rows = await e.rows<{ user_id: string; person_id: string | null; sides: string[]; views: number; points: number; first: Date; last: Date }>(
    `SELECT user_id, any_value(person_id) AS person_id, list_sort(list_distinct(list(coalesce(decided_side, '')))) AS sides, count(*) AS views,
            count(DISTINCT supply_point_id) AS points, min(accessed_at) AS first, max(accessed_at) AS last
       FROM enriched WHERE in_period AND kind = 'view' GROUP BY user_id ORDER BY views DESC, user_id`,
  );
  return rows.map((r) => ({
    userId: r.user_id,
    personId: r.person_id,
    decidedSides: r.sides.filter((x) => x !== ''),
    views: r.views,
    supplyPoints: r.points,
    first: r.first.toISOString(),
    last: r.last.toISOString(),
  }));
}

/** The exposure report of a period; `enriched` must hold the period's reads (the report's `buildReport` makes it). */
export async function liveExposure(e: Engine, db: Queryable, opts: LiveExposureOptions): Promise<LiveExposure> {
  const reg = await registry(db);
  const exposures = grantExposures(reg.staff, reg.permissions, reg.grants, opts.at, opts.sod ?? DEFAULT_SOD_POLICY);
  const counted = await countExposure(e, exposures, japanDay, opts.at);
  return {
    emergencies: await emergencies(e, db, opts),
    grants: counted.exposure,
    grantSummary: counted.summary,
    policies: await policies(e, db, opts.table),
    people: await people(e),
  };
}
