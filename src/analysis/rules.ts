import type { AnalysisRule } from '../domain/finding-rules.ts';
import type { Thresholds } from '../domain/anomaly-thresholds.ts';
import { japanDay } from '../domain/japan-time.ts';
import type { Engine } from './duck.ts';
import type { Severity } from './findings.ts';

/**
 * The anomaly rules, one code for legacy exports and gridwall's own log: each reads the `enriched` table
 * (every read joined to the person and the contract at its instant) and the `terminals` table, and returns
 * findings with a rule id, a severity, a subject and the evidence.
 */

export interface Finding {
  readonly rule: AnalysisRule;
  readonly severity: Severity;
  /** `user:<id>`, `person:<id>` or `terminal:<id>`. */
  readonly subject: string;
  /** One sentence, in Japanese (the reviewers' language); the numbers are in `evidence`. */
  readonly detail: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

/** The thresholds are domain (one definition for the scan and the firewall's live bulk rule). */
export { DEFAULT_THRESHOLDS, type Thresholds } from '../domain/anomaly-thresholds.ts';

/** The rules' codes and names are in domain/finding-rules.ts (ANALYSIS_RULES, FINDING_RULE_LABELS). */
export type RuleId = AnalysisRule;

interface Ctx {
  readonly affiliate: string;
  readonly start: Date;
  readonly end: Date;
  readonly thresholds: Thresholds;
  /** The counted views per person (viewerTotals), when the caller has them already; else read here. */
  readonly viewers?: readonly ViewerTotal[];
}

/** A person's counted views in the period: the report's viewers table and the other_customer_read rule. */
export interface ViewerTotal {
  readonly user_id: string;
  readonly person_id: string | null;
  readonly views: number;
  readonly corporate_views: number;
  readonly corporate_customers: number;
  readonly individual_views: number;
  readonly individual_customers: number;
  readonly points: number;
  readonly retailers: number;
  readonly former: number;
  readonly first: Date;
  readonly last: Date;
  readonly employment: string | null;
  readonly organization: string | null;
  readonly office: string | null;
}

/** The counted views (kind `view`, in the period) per user ID, most first: one pass for the table and the rule. */
export async function viewerTotals(e: Engine): Promise<ViewerTotal[]> {
  return e.rows<ViewerTotal & Record<string, unknown>>(`
    SELECT user_id, mode(person_id) AS person_id, count(*) AS views,
           count(*) FILTER (WHERE customer_type = 'corporate') AS corporate_views, count(DISTINCT customer_id) FILTER (WHERE customer_type = 'corporate') AS corporate_customers,
           count(*) FILTER (WHERE customer_type = 'individual') AS individual_views, count(DISTINCT customer_id) FILTER (WHERE customer_type = 'individual') AS individual_customers,
           count(DISTINCT supply_point_id) AS points, count(DISTINCT retailer_code) AS retailers, count(*) FILTER (WHERE former) AS former,
           min(accessed_at) AS first, max(accessed_at) AS last, mode(employment) AS employment, mode(organization) AS organization, mode(office) AS office
      FROM enriched WHERE in_period AND kind = 'view' GROUP BY user_id ORDER BY views DESC, user_id`);
}

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { high: 0, medium: 1, low: 2 };

export async function findAnomalies(e: Engine, ctx: Ctx): Promise<Finding[]> {
  const all = [
    ...(await bulkReading(e, ctx)),
    ...otherCustomerRead(ctx.viewers ?? (await viewerTotals(e))),
    ...(await emergencyOutsideWindow(e)),
    ...(await probing(e, ctx)),
    ...(await misplacedTerminals(e)),
    ...(await accountsWithoutPerson(e)),
    ...(await dormantAccountsUsed(e, ctx)),
    ...(await offHours(e, ctx)),
  ];
  return all.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rule.localeCompare(b.rule) || a.subject.localeCompare(b.subject));
}

const who = (personId: string | null, userId: string) => (personId !== null && personId !== userId ? `${userId}（${personId}）` : userId);

/** The median of sorted numbers without the one at `skip` (an even count takes the mean of the middle two, as SQL's median); null for none. */
function medianWithout(sorted: readonly number[], skip: number): number | null {
  const n = sorted.length - 1;
  if (n <= 0) return null;
  const at = (i: number) => sorted[i < skip ? i : i + 1] ?? 0;
  return n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}

/**
 * Each person's peers' median peak day and period total: the others of the same organization and side, or
 * the whole side when they are fewer than three. Per person, in memory (a few thousand people; as SQL it was
 * a correlated subquery per person, quadratic in the staff).
 */
function withPeers(people: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const groups = new Map<string, { peaks: number[]; totals: number[] }>();
  const keys = (p: Record<string, unknown>) => [`side\u001f${String(p['side'])}`, `org\u001f${String(p['side'])}\u001f${String(p['organization'])}`] as const;
  for (const p of people)
    for (const k of keys(p)) {
      // A person with no organization has no organization's peers (SQL's NULL = NULL is not true).
      if (k.startsWith('org') && p['organization'] === null) continue;
      const g = groups.get(k) ?? { peaks: [], totals: [] };
      g.peaks.push(Number(p['peak']));
      g.totals.push(Number(p['total']));
      groups.set(k, g);
    }
  for (const g of groups.values()) {
    g.peaks.sort((a, b) => a - b);
    g.totals.sort((a, b) => a - b);
  }
  return people.map((p) => {
    const [side, org] = keys(p);
    const byOrg = p['organization'] === null ? undefined : groups.get(org);
    const group = byOrg !== undefined && byOrg.peaks.length - 1 >= 3 ? byOrg : groups.get(side);
    const peak = Number(p['peak']);
    const total = Number(p['total']);
    return {
      ...p,
      peer_peak: group === undefined ? null : medianWithout(group.peaks, group.peaks.indexOf(peak)),
      peer_total: group === undefined ? null : medianWithout(group.totals, group.totals.indexOf(total)),
      peer_group: group === byOrg && byOrg !== undefined ? 'organization' : 'side',
    };
  });
}

/**
 * Bulk reading: a person's served non-public reads per day (Japan time). Their peak day must reach
 * `bulkMinDaily` and be `bulkOwnFactor` × their own median day and `bulkPeerFactor` × their peers' median
 * peak; or their period total must reach `bulkMinTotal` and be `bulkPeerFactor` × the peers' median total.
 * Peers: the same organization and side (the whole side when fewer than three).
 */
async function bulkReading(e: Engine, ctx: Ctx): Promise<Finding[]> {
  const t = ctx.thresholds;
  const people = await e.rows<Record<string, unknown>>(
    `
    WITH per_day AS (
      SELECT user_id, any_value(person_id) AS person_id, any_value(side) AS side, any_value(organization) AS organization, jst_day, count(*) AS n,
             count(*) FILTER (WHERE customer_type = 'corporate') AS corporate, count(*) FILTER (WHERE kind = 'view') AS views
        FROM enriched WHERE outcome = 'served' AND non_public AND side IS NOT NULL GROUP BY user_id, jst_day
    )
    SELECT user_id, any_value(person_id) AS person_id, any_value(side) AS side, any_value(organization) AS organization,
           median(n) AS own_median,
           max(n) FILTER (WHERE jst_day >= $1::DATE AND jst_day <= $2::DATE) AS peak,
           strftime(arg_max(jst_day, n) FILTER (WHERE jst_day >= $1::DATE AND jst_day <= $2::DATE), '%Y-%m-%d') AS peak_day,
           sum(n) FILTER (WHERE jst_day >= $1::DATE AND jst_day <= $2::DATE) AS total,
           sum(corporate) FILTER (WHERE jst_day >= $1::DATE AND jst_day <= $2::DATE) AS corporate,
           sum(views) FILTER (WHERE jst_day >= $1::DATE AND jst_day <= $2::DATE) AS views
      FROM per_day GROUP BY user_id`,
    [japanDay(ctx.start), japanDay(new Date(ctx.end.getTime() - 1))],
  );
  const rows = withPeers(people.filter((p) => p['total'] !== null));
  const out: Finding[] = [];
  for (const r of rows) {
    const peak = Number(r['peak'] ?? 0);
    const total = Number(r['total'] ?? 0);
    const own = Number(r['own_median'] ?? 0);
    const peerPeak = r['peer_peak'] === null ? null : Number(r['peer_peak']);
    const peerTotal = r['peer_total'] === null ? null : Number(r['peer_total']);
    const byDay = peak >= t.bulkMinDaily && peak >= t.bulkOwnFactor * own && (peerPeak === null || peak >= t.bulkPeerFactor * peerPeak);
    const byTotal = total >= t.bulkMinTotal && peerTotal !== null && total >= t.bulkPeerFactor * peerTotal;
    if (!byDay && !byTotal) continue;
    const ratio = Math.max(peerTotal === null || peerTotal === 0 ? 0 : total / peerTotal, peerPeak === null || peerPeak === 0 ? 0 : peak / peerPeak);
    const severity: Severity = ratio >= 2 * t.bulkPeerFactor || total >= 10 * t.bulkMinTotal ? 'high' : 'medium';
    const userId = String(r['user_id']);
    const personId = (r['person_id'] as string | null) ?? null;
    out.push({
      rule: 'bulk_reading',
      severity,
      subject: `user:${userId}`,
      detail: `${who(personId, userId)} が期間中に非公開情報を ${total} 件閲覧（最多の日 ${String(r['peak_day'])} に ${peak} 件；本人の通常の日 ${own} 件、同僚の中央値 ${peerTotal ?? '—'} 件）`,
      evidence: {
        userId,
        personId,
        organization: r['organization'],
        side: r['side'],
        total,
        peak,
        peakDay: r['peak_day'],
        ownMedianDay: own,
        peerGroup: r['peer_group'],
        peerMedianPeak: peerPeak,
        peerMedianTotal: peerTotal,
        corporate: Number(r['corporate'] ?? 0),
        otherCustomerViews: Number(r['views'] ?? 0),
        triggeredBy: [byDay ? 'peak_day' : null, byTotal ? 'period_total' : null].filter((x) => x !== null),
      },
    });
  }
  return out;
}

/** Every person who viewed another retailer's (or a former) customer's non-public items: the counted views. */
function otherCustomerRead(viewers: readonly ViewerTotal[]): Finding[] {
  return viewers.map((r) => {
    const userId = String(r.user_id);
    const views = Number(r.views);
    return {
      rule: 'other_customer_read',
      severity: 'high',
      subject: `user:${userId}`,
      detail: `${who(r.person_id ?? null, userId)}（小売側）が他の小売電気事業者の需要家の非公開情報を ${views} 件閲覧（供給地点 ${Number(r.points)}、うち元自社需要家 ${Number(r.former)} 件）`,
      evidence: {
        userId,
        personId: r.person_id,
        views,
        supplyPoints: Number(r.points),
        retailers: Number(r.retailers),
        formerCustomerViews: Number(r.former),
        first: r.first,
        last: r.last,
        organization: r.organization,
        employment: r.employment,
      },
    };
  });
}

/** Emergency-support reads refused for want of a window or outside its area (gridwall's own log). */
async function emergencyOutsideWindow(e: Engine): Promise<Finding[]> {
  const rows = await e.rows<Record<string, unknown>>(`
    SELECT user_id, mode(person_id) AS person_id, count(*) AS attempts, list(DISTINCT refusal) AS refusals, min(accessed_at) AS first, max(accessed_at) AS last
      FROM enriched WHERE in_period AND outcome = 'refused' AND refusal IN ('no_active_emergency', 'outside_emergency_area') GROUP BY user_id`);
  return rows.map((r) => ({
    rule: 'emergency_outside_window',
    severity: 'high',
    subject: `user:${String(r['user_id'])}`,
    detail: `${who((r['person_id'] as string | null) ?? null, String(r['user_id']))} が非常災害時の支援目的での照会を期間外・地域外で ${Number(r['attempts'])} 回試みました`,
    evidence: { userId: r['user_id'], attempts: Number(r['attempts']), refusals: r['refusals'], first: r['first'], last: r['last'] },
  }));
}

/** Many refused reads by one person in a short window: someone trying what they may not see. */
async function probing(e: Engine, ctx: Ctx): Promise<Finding[]> {
  const t = ctx.thresholds;
  const rows = await e.rows<Record<string, unknown>>(
    `
    WITH refused AS (
      SELECT user_id, person_id, accessed_at,
             count(*) OVER (PARTITION BY user_id ORDER BY accessed_at RANGE BETWEEN INTERVAL (${Math.max(1, Math.floor(t.probingWindowMinutes))}) MINUTE PRECEDING AND CURRENT ROW) AS burst
        FROM enriched WHERE in_period AND outcome = 'refused'
    )
    SELECT user_id, mode(person_id) AS person_id, max(burst) AS burst, arg_max(accessed_at, burst) AS at, count(*) AS refused
      FROM refused GROUP BY user_id HAVING max(burst) >= $1`,
    [t.probingRefusals],
  );
  return rows.map((r) => ({
    rule: 'probing',
    severity: 'medium',
    subject: `user:${String(r['user_id'])}`,
    detail: `${who((r['person_id'] as string | null) ?? null, String(r['user_id']))} の照会が ${t.probingWindowMinutes} 分間に ${Number(r['burst'])} 回拒否されました（期間中の拒否 ${Number(r['refused'])} 回）`,
    evidence: { userId: r['user_id'], burst: Number(r['burst']), at: r['at'], refused: Number(r['refused']), windowMinutes: t.probingWindowMinutes },
  }));
}

/** Terminals set `network` but installed where the retail side works (the Tohoku case); high when used in the period. */
async function misplacedTerminals(e: Engine): Promise<Finding[]> {
  const rows = await e.rows<Record<string, unknown>>(`
    WITH misplaced AS (SELECT terminal_id, organization, office, site_side FROM terminals WHERE setting = 'network' AND site_side IN ('retail', 'other_retailer')),
         used AS (SELECT terminal_id, count(*) AS reads, count(DISTINCT user_id) AS users FROM enriched
                   WHERE in_period AND terminal_id IN (SELECT terminal_id FROM misplaced) GROUP BY terminal_id)
    SELECT m.terminal_id, m.organization, m.office, m.site_side, coalesce(u.reads, 0) AS reads, coalesce(u.users, 0) AS users
      FROM misplaced m LEFT JOIN used u ON u.terminal_id = m.terminal_id ORDER BY m.terminal_id`);
  return rows.map((r) => {
    const reads = Number(r['reads']);
    return {
      rule: 'misplaced_terminal',
      severity: reads > 0 ? 'high' : 'medium',
      subject: `terminal:${String(r['terminal_id'])}`,
      detail: `送配電設定の端末 ${String(r['terminal_id'])} が ${String(r['organization'])} ${String(r['office'])}（小売側の拠点）に設置されています（期間中の閲覧 ${reads} 件）`,
      evidence: {
        terminalId: r['terminal_id'],
        organization: r['organization'],
        office: r['office'],
        siteSide: r['site_side'],
        reads,
        users: Number(r['users']),
      },
    };
  });
}

/** Reads by a user ID with no staff row at that moment: a legacy ID of someone who left, or one nobody owns. */
async function accountsWithoutPerson(e: Engine): Promise<Finding[]> {
  const rows = await e.rows<Record<string, unknown>>(`
    SELECT r.user_id, count(*) AS reads, count(*) FILTER (WHERE r.non_public) AS non_public, min(r.accessed_at) AS first, max(r.accessed_at) AS last,
           (SELECT max(s.valid_to) FROM staff s WHERE s.user_id = r.user_id) AS left_at, (SELECT count(*) FROM staff s WHERE s.user_id = r.user_id) AS rows
      FROM enriched r WHERE r.in_period AND NOT r.staffed GROUP BY r.user_id ORDER BY reads DESC`);
  return rows.map((r) => {
    const known = Number(r['rows']) > 0;
    return {
      rule: 'account_without_person',
      severity: 'high',
      subject: `user:${String(r['user_id'])}`,
      detail: known
        ? `在籍期間外のID ${String(r['user_id'])} で ${Number(r['reads'])} 件の閲覧（退職・異動後のIDの使用）`
        : `人事の記録にないID ${String(r['user_id'])} で ${Number(r['reads'])} 件の閲覧`,
      evidence: {
        userId: r['user_id'],
        reads: Number(r['reads']),
        nonPublic: Number(r['non_public']),
        first: r['first'],
        last: r['last'],
        knownInStaff: known,
        lastStaffRowEnded: r['left_at'],
      },
    };
  });
}

/** Non-public reads at night or at weekends (Japan time), above a count over the period. */
async function offHours(e: Engine, ctx: Ctx): Promise<Finding[]> {
  const t = ctx.thresholds;
  const night =
    t.offHoursFrom > t.offHoursTo
      ? `(jst_hour >= ${t.offHoursFrom} OR jst_hour < ${t.offHoursTo})`
      : `(jst_hour >= ${t.offHoursFrom} AND jst_hour < ${t.offHoursTo})`;
  const rows = await e.rows<Record<string, unknown>>(
    `
    SELECT user_id, mode(person_id) AS person_id, count(*) AS reads, count(*) FILTER (WHERE isodow(jst_day) >= 6) AS weekend
      FROM enriched WHERE in_period AND outcome = 'served' AND non_public AND (${night} OR isodow(jst_day) >= 6)
     GROUP BY user_id HAVING count(*) >= $1 ORDER BY reads DESC`,
    [t.offHoursMin],
  );
  return rows.map((r) => ({
    rule: 'off_hours',
    severity: Number(r['reads']) >= 5 * t.offHoursMin ? 'medium' : 'low',
    subject: `user:${String(r['user_id'])}`,
    detail: `${who((r['person_id'] as string | null) ?? null, String(r['user_id']))} が夜間（${t.offHoursFrom}時〜${t.offHoursTo}時）・休日に非公開情報を ${Number(r['reads'])} 件閲覧`,
    evidence: { userId: r['user_id'], reads: Number(r['reads']), weekend: Number(r['weekend']), hours: [t.offHoursFrom, t.offHoursTo] },
  }));
}

/** A read in the period by an ID that had read nothing for `dormantDays` before it (in the log analysed). */
async function dormantAccountsUsed(e: Engine, ctx: Ctx): Promise<Finding[]> {
  const days = ctx.thresholds.dormantDays;
  // A gap of a day or more ends at the first read of a day and starts at the last read of an earlier day, so
  // for such thresholds the gaps are looked for between each ID's days (one row per ID and day, not per read).
  const gapsSql =
    days >= 1
      ? `WITH per_day AS (
           SELECT user_id, jst_day, arg_min_null(person_id, accessed_at) AS person_id, min(accessed_at) AS first_at, max(accessed_at) AS last_at FROM enriched GROUP BY user_id, jst_day
         ), gaps AS (
           SELECT user_id, person_id, first_at AS accessed_at, first_at >= $2::TIMESTAMPTZ AND first_at < $3::TIMESTAMPTZ AS in_period,
                  lag(last_at) OVER (PARTITION BY user_id ORDER BY jst_day) AS previous FROM per_day
         )`
      : `WITH gaps AS (
           SELECT user_id, person_id, accessed_at, in_period, lag(accessed_at) OVER (PARTITION BY user_id ORDER BY accessed_at) AS previous FROM enriched
         )`;
  const rows = await e.rows<Record<string, unknown>>(
    `
    ${gapsSql}
    SELECT user_id, mode(person_id) AS person_id, max(accessed_at - previous) AS gap, arg_max(accessed_at, accessed_at - previous) AS at, arg_max(previous, accessed_at - previous) AS previous
      FROM gaps WHERE in_period AND previous IS NOT NULL AND accessed_at - previous >= to_days($1::INTEGER)
     GROUP BY user_id ORDER BY user_id`,
    days >= 1 ? [days, ctx.start, ctx.end] : [days],
  );
  return rows.map((r) => ({
    rule: 'dormant_account_used',
    severity: 'medium',
    subject: `user:${String(r['user_id'])}`,
    detail: `${who((r['person_id'] as string | null) ?? null, String(r['user_id']))} のIDが ${days} 日以上使われていなかった後に使われました`,
    evidence: { userId: r['user_id'], at: r['at'], previousRead: r['previous'], dormantDays: days },
  }));
}
