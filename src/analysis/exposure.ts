import type { GrantExposure } from '../governance/grant-exposure.ts';
import { enrich } from './report.ts';
import type { Engine } from './duck.ts';

/**
 * The regulator's second follow-up question (issue 22): what was actually viewed under a wrongful grant? Over
 * the standard tables (`staff`, `contracts`, `reads`, loaded from the legacy files as `analyze` loads them),
 * each grant's views are the log rows in the period it was in force (up to the day judged) in which its holder
 * viewed — by the same rule as
 * `analyze`'s views (report.ts `enrich`: retail side at that moment, non-public items, a supply point whose
 * retailer at that moment was neither the affiliate nor last-resort supply).
 */

/** One row of formats.md's `exposure`. */
export interface ExposureRow {
  readonly userId: string;
  readonly permissionId: string;
  readonly grantedBy: string;
  readonly grantedAt: string;
  readonly rules: readonly string[];
  /** The period it was in force (formats.md): granted, and revoked (Japan days; `to` null while in force at the day judged). */
  readonly from: string;
  readonly to: string | null;
  /** Within it, the stretches in which it broke a rule (a permission becomes wrongful when its holder moves to retail). */
  readonly windows: readonly { readonly from: string; readonly to: string | null }[];
  readonly views: number;
  readonly supplyPoints: number;
  readonly first: string | null;
  readonly last: string | null;
}

export interface ExposureSummary {
  /** Distinct user IDs holding a violating grant. */
  readonly holders: number;
  /** Of them, those with at least one view under a violating grant. */
  readonly viewers: number;
  /** Log rows under some violating grant of their user (a row under two grants counts once). */
  readonly views: number;
  readonly supplyPoints: number;
}

/** Far enough back and ahead to take every read as "in the period" of `enrich` (the windows bound them here). */
const ALL_TIME = { start: new Date('1900-01-01T00:00:00Z'), end: new Date('9999-01-01T00:00:00Z') };

/** Every loaded read classified as `analyze` classifies it, whenever it was made (the legacy files' whole span). */
export async function enrichAllTime(e: Engine, affiliate: string): Promise<void> {
  await enrich(e, { affiliate, ...ALL_TIME });
}

/**
 * Counts what each exposure's holder viewed while its grant was in force, up to `until` (the end of the day
 * judged), over the classified reads (`enriched`: built by `enrichAllTime`, or by the report for a period, whose
 * reads outside it are not counted). `day` renders the periods' bounds (a Japan day, as `grants check` writes
 * dates); views' instants are ISO 8601.
 */
export async function countExposure(
  e: Engine,
  exposures: readonly GrantExposure[],
  day: (d: Date) => string,
  until: Date,
): Promise<{ exposure: ExposureRow[]; summary: ExposureSummary }> {
  await e.run(`CREATE OR REPLACE TEMP TABLE exposure_windows (idx INTEGER, user_id VARCHAR, w_from TIMESTAMPTZ, w_to TIMESTAMPTZ)`);
  const endOf = (x: GrantExposure) => (x.grant.revokedAt !== null && x.grant.revokedAt.getTime() <= until.getTime() ? x.grant.revokedAt : null);
  for (const [idx, x] of exposures.entries())
    await e.run(`INSERT INTO exposure_windows VALUES ($1, $2, $3::TIMESTAMPTZ, $4::TIMESTAMPTZ)`, [
      idx,
      x.grant.userId,
      x.grant.grantedAt,
      endOf(x) ?? new Date(until.getTime() + 1),
    ]);
  await e.run(`CREATE OR REPLACE TEMP TABLE exposure_hits AS
    SELECT w.idx, r.rowid AS read_id, r.user_id, r.supply_point_id, r.accessed_at
      FROM exposure_windows w JOIN enriched r ON r.user_id = w.user_id AND r.accessed_at >= w.w_from AND r.accessed_at < w.w_to
     WHERE r.kind = 'view' AND r.in_period`);
  const per = await e.rows<{ idx: number; views: number; points: number; first: Date; last: Date }>(
    `SELECT idx, count(DISTINCT read_id) AS views, count(DISTINCT supply_point_id) AS points, min(accessed_at) AS first, max(accessed_at) AS last
       FROM exposure_hits GROUP BY idx`,
  );
  const byIdx = new Map(per.map((r) => [r.idx, r]));
  const [all] = await e.rows<{ views: number; points: number; viewers: number }>(
    `SELECT count(DISTINCT read_id) AS views, count(DISTINCT supply_point_id) AS points, count(DISTINCT user_id) AS viewers FROM exposure_hits`,
  );
  const exposure = exposures.map((x, idx): ExposureRow => {
    const hit = byIdx.get(idx);
    const end = endOf(x);
    const windows = x.windows.map((w) => ({ from: day(w.from), to: w.to === null ? null : day(w.to) }));
    return {
      userId: x.grant.userId,
      permissionId: x.grant.permissionId,
      grantedBy: x.grant.grantedBy,
      grantedAt: day(x.grant.grantedAt),
      rules: x.rules,
      from: day(x.grant.grantedAt),
      to: end === null ? null : day(end),
      windows,
      views: hit?.views ?? 0,
      supplyPoints: hit?.points ?? 0,
      first: hit === undefined ? null : hit.first.toISOString(),
      last: hit === undefined ? null : hit.last.toISOString(),
    };
  });
  return {
    exposure,
    summary: {
      holders: new Set(exposures.map((x) => x.grant.userId)).size,
      viewers: all?.viewers ?? 0,
      views: all?.views ?? 0,
      supplyPoints: all?.points ?? 0,
    },
  };
}
