import { DAY_MS, japanDayStart } from '../domain/japan-time.ts';
import { sqlString as sqlText, type Engine } from './duck.ts';
import { findAnomalies, viewerTotals, DEFAULT_THRESHOLDS, type Finding, type Thresholds } from './rules.ts';

/**
 * The regulator's tables (formats.md, "What the analysis must report") from the standard tables, for legacy
 * exports and gridwall's own log alike.
 *
 * A **view** is a read, in the period, that served non-public items of a supply point whose contract at that
 * moment was with a retailer that is neither the affiliated retailer nor last-resort supply, by a person who
 * was on the retail side at that moment (staff.csv / the staff register, valid periods honoured). Reads of
 * last-resort customers are counted apart (`lastResortViews`); reads of a point with no contract at that
 * moment (vacant) are not a customer's data and are counted apart too (`noContractViews`).
 */

export interface Split {
  readonly employee: number;
  readonly contractor: number;
  readonly total: number;
}

/** One screen of a system (formats.md `systems[].screens`): the views made on it. */
export interface ScreenCounts {
  readonly screen: string;
  readonly views: Split;
}

/** A screen name for views whose row named none, in a system whose log names screens. */
export const NO_SCREEN = '(画面名なし)';

/** The counts of a system, and of all systems together (`total`). */
export type Counts = Omit<SystemCounts, 'system' | 'screens'>;

export interface SystemCounts {
  readonly system: string;
  /** Views per screen, highest first — present when the system's log has a `screen` column with values. */
  readonly screens?: readonly ScreenCounts[];
  readonly views: Split;
  readonly lastResortViews: number;
  readonly noContractViews: number;
  /** Reads of other retailers' customers made under a declared emergency (gridwall's log): legitimate, counted apart. */
  readonly emergencyViews: number;
  /** Reads that answered a retailer's inquiry with the customer's consent (gridwall's log, purpose inquiry_answer): the proper channel, counted apart. */
  readonly inquiryViews: number;
  readonly terminals: number;
  readonly people: Split;
  readonly offices: number;
  readonly contractorOrganizations: number;
  readonly supplyPoints: number;
  readonly retailers: number;
  /** Of the views: points that had been the affiliated retailer's customers before (former customers). */
  readonly formerCustomerViews: number;
}

export interface Viewer {
  readonly userId: string;
  readonly personId: string | null;
  readonly views: number;
  readonly corporate: { readonly views: number; readonly customers: number };
  readonly individual: { readonly views: number; readonly customers: number };
  readonly employment: string | null;
  readonly organization: string | null;
  readonly office: string | null;
}

export interface RejectedRow {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

export interface Report {
  readonly period: { readonly from: string; readonly to: string };
  readonly affiliate: string;
  readonly rows: { readonly read: number; readonly used: number; readonly rejected: number; readonly outsidePeriod: number };
  readonly systems: readonly SystemCounts[];
  readonly total: Counts;
  readonly viewers: readonly Viewer[];
  readonly findings: readonly Finding[];
  /** Views per day (Japan time) of the period, for charts. */
  readonly daily: readonly { readonly day: string; readonly views: number; readonly lastResortViews: number }[];
  readonly rejected: readonly RejectedRow[];
  readonly thresholds: Thresholds;
}

export interface ReportOptions {
  readonly affiliate: string;
  /** Inclusive calendar days in Japan time, YYYY-MM-DD. */
  readonly from: string;
  readonly to: string;
  readonly thresholds?: Partial<Thresholds>;
}

/** The instants [start of `from`, start of the day after `to`) in Japan time; throws on a bad day. */
export function periodBounds(from: string, to: string): { start: Date; end: Date } {
  const start = japanDayStart(from);
  const last = japanDayStart(to);
  if (start === null) throw new RangeError(`--from ${from} is not a date (YYYY-MM-DD)`);
  if (last === null) throw new RangeError(`--to ${to} is not a date (YYYY-MM-DD)`);
  if (last.getTime() < start.getTime()) throw new RangeError(`--to ${to} is before --from ${from}`);
  return { start, end: new Date(last.getTime() + DAY_MS) };
}

const COUNTS = (where: string) => `
  count(*) FILTER (WHERE ${where} AND employment = 'employee') AS v_employee,
  count(*) FILTER (WHERE ${where} AND employment = 'contractor') AS v_contractor,
  count(*) FILTER (WHERE ${where}) AS v_total,
  count(*) FILTER (WHERE kind = 'last_resort') AS last_resort_views,
  count(*) FILTER (WHERE kind = 'no_contract') AS no_contract_views,
  count(*) FILTER (WHERE kind = 'emergency') AS emergency_views,
  count(*) FILTER (WHERE kind = 'inquiry') AS inquiry_views,
  count(*) FILTER (WHERE ${where} AND former) AS former_views,
  count(DISTINCT terminal_id) FILTER (WHERE ${where}) AS terminals,
  count(DISTINCT person_id) FILTER (WHERE ${where} AND employment = 'employee') AS p_employee,
  count(DISTINCT person_id) FILTER (WHERE ${where} AND employment = 'contractor') AS p_contractor,
  count(DISTINCT person_id) FILTER (WHERE ${where}) AS p_total,
  count(DISTINCT organization || chr(31) || office) FILTER (WHERE ${where}) AS offices,
  count(DISTINCT organization) FILTER (WHERE ${where} AND employment = 'contractor') AS contractor_orgs,
  count(DISTINCT supply_point_id) FILTER (WHERE ${where}) AS supply_points,
  count(DISTINCT retailer_code) FILTER (WHERE ${where}) AS retailers`;

type CountRow = Record<string, number> & { system?: string };

function counts(r: CountRow): Counts {
  return {
    views: { employee: r['v_employee'] ?? 0, contractor: r['v_contractor'] ?? 0, total: r['v_total'] ?? 0 },
    lastResortViews: r['last_resort_views'] ?? 0,
    noContractViews: r['no_contract_views'] ?? 0,
    emergencyViews: r['emergency_views'] ?? 0,
    inquiryViews: r['inquiry_views'] ?? 0,
    terminals: r['terminals'] ?? 0,
    people: { employee: r['p_employee'] ?? 0, contractor: r['p_contractor'] ?? 0, total: r['p_total'] ?? 0 },
    offices: r['offices'] ?? 0,
    contractorOrganizations: r['contractor_orgs'] ?? 0,
    supplyPoints: r['supply_points'] ?? 0,
    retailers: r['retailers'] ?? 0,
    formerCustomerViews: r['former_views'] ?? 0,
  };
}

/**
 * Joins every read to the person and the contract in force at its instant (`enriched`), and classifies it:
 * `view` (counted), `last_resort`, `no_contract`, or NULL (not a retail-side non-public read of another's
 * customer). Reads outside the period are kept for the baselines of the anomaly rules.
 */
export async function enrich(e: Engine, opts: { affiliate: string; start: Date; end: Date }): Promise<void> {
  // The staff row and the contract in force at each read are the latest to start at or before it. Each row
  // holds from its start until the next row's start (for the same user ID or point), so the rows in force are
  // found by hash joins on the ID with the read's instant inside that span — no sort of the reads, which the
  // ASOF joins this replaces needed twice (issue 21). Rows starting at the same instant: the later in the
  // file holds (the first one's span is empty).
  await e.run(
    `CREATE OR REPLACE TABLE enriched AS
    WITH staff_span AS (
      SELECT user_id, valid_from, coalesce(lead(valid_from) OVER (PARTITION BY user_id ORDER BY valid_from, rowid), 'infinity'::TIMESTAMPTZ) AS next_from,
             valid_to, person_id, side, employment, organization, office FROM staff
    ), contract_span AS (
      SELECT supply_point_id, valid_from, coalesce(lead(valid_from) OVER (PARTITION BY supply_point_id ORDER BY valid_from, rowid), 'infinity'::TIMESTAMPTZ) AS next_from,
             valid_to, retailer_code, last_resort, customer_id, customer_type FROM contracts
    ), affiliate_since AS (
      SELECT supply_point_id, min(valid_from) AS since FROM contracts WHERE retailer_code = $1 GROUP BY supply_point_id
    ), joined AS (
      SELECT r.system, r.accessed_at, r.user_id, r.terminal_id, r.supply_point_id, r.non_public, r.outcome, r.refusal, r.purpose, r.emergency_id, r.screen, r.policy_version, r.decided_side,
             -- Japan time without a time-zone library: Japan keeps no daylight saving, so it is UTC + 9 h.
             (DATE '1970-01-01' + CAST(floor((epoch(r.accessed_at) + 32400) / 86400) AS INTEGER)) AS jst_day,
             CAST(floor(((epoch(r.accessed_at) + 32400) % 86400) / 3600) AS INTEGER) AS jst_hour,
             s.person_id IS NOT NULL AND (s.valid_to IS NULL OR r.accessed_at < s.valid_to) AS staffed,
             c.supply_point_id IS NOT NULL AND (c.valid_to IS NULL OR r.accessed_at < c.valid_to) AS contracted,
             s.person_id, s.side, s.employment, s.organization, s.office,
             c.retailer_code, c.last_resort, c.customer_id, c.customer_type,
             a.since IS NOT NULL AND a.since < r.accessed_at AS was_affiliate_customer
        FROM reads r
        LEFT JOIN staff_span s ON s.user_id = r.user_id AND r.accessed_at >= s.valid_from AND r.accessed_at < s.next_from
        LEFT JOIN contract_span c ON c.supply_point_id = r.supply_point_id AND r.accessed_at >= c.valid_from AND r.accessed_at < c.next_from
        LEFT JOIN affiliate_since a ON a.supply_point_id = r.supply_point_id
    ), at_moment AS (
      SELECT * EXCLUDE (person_id, side, employment, organization, office, retailer_code, last_resort, customer_id, customer_type),
             CASE WHEN staffed THEN person_id END AS person_id, CASE WHEN staffed THEN side END AS side,
             CASE WHEN staffed THEN employment END AS employment, CASE WHEN staffed THEN organization END AS organization,
             CASE WHEN staffed THEN office END AS office,
             CASE WHEN contracted THEN retailer_code END AS retailer_code, CASE WHEN contracted THEN last_resort END AS last_resort,
             CASE WHEN contracted THEN customer_id END AS customer_id, CASE WHEN contracted THEN customer_type END AS customer_type
        FROM joined
    )
    SELECT * EXCLUDE (was_affiliate_customer),
           accessed_at >= $2::TIMESTAMPTZ AND accessed_at < $3::TIMESTAMPTZ AS in_period,
           CASE WHEN outcome <> 'served' OR NOT non_public OR side IS DISTINCT FROM 'retail' THEN NULL
                WHEN retailer_code IS NULL THEN 'no_contract'
                WHEN last_resort THEN 'last_resort'
                WHEN retailer_code = $1 THEN NULL
                WHEN emergency_id IS NOT NULL THEN 'emergency'
                WHEN purpose = 'inquiry_answer' THEN 'inquiry'
                ELSE 'view' END AS kind,
           was_affiliate_customer AND retailer_code IS DISTINCT FROM $1 AS former
      FROM at_moment`,
    [opts.affiliate, opts.start, opts.end],
  );
}

/** The whole report. The standard tables must be loaded; `enriched` is built here. */
export async function buildReport(e: Engine, opts: ReportOptions): Promise<Report> {
  const { start, end } = periodBounds(opts.from, opts.to);
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  // The loads needed the file's order (a rejected row's line is its position); from here every result is
  // ordered by its query, so DuckDB may write and read the tables in any order.
  await e.run('SET preserve_insertion_order = false');
  await enrich(e, { affiliate: opts.affiliate, start, end });
  const inPeriod = `(SELECT * FROM enriched WHERE in_period)`;
  const perSystem = await e.rows<CountRow>(`SELECT system, ${COUNTS(`kind = 'view'`)} FROM ${inPeriod} t GROUP BY system ORDER BY v_total DESC, system`);
  const [total] = await e.rows<CountRow>(`SELECT ${COUNTS(`kind = 'view'`)} FROM ${inPeriod} t`);
  // Per screen, for the systems whose log names screens (a read of the period with one).
  const systemsWithScreens = new Set(
    (await e.rows<{ system: string }>(`SELECT DISTINCT system FROM enriched WHERE in_period AND screen IS NOT NULL`)).map((r) => r.system),
  );
  const screensOf = new Map<string, ScreenCounts[]>();
  if (systemsWithScreens.size > 0) {
    const screenRows = await e.rows<{ system: string; screen: string; employee: number; contractor: number; total: number }>(`
      SELECT system, coalesce(screen, ${sqlText(NO_SCREEN)}) AS screen, count(*) FILTER (WHERE employment = 'employee') AS employee,
             count(*) FILTER (WHERE employment = 'contractor') AS contractor, count(*) AS total
        FROM ${inPeriod} t WHERE kind = 'view' GROUP BY ALL ORDER BY total DESC, screen`);
    for (const r of screenRows)
      if (systemsWithScreens.has(r.system))
        screensOf.set(r.system, [
          ...(screensOf.get(r.system) ?? []),
          { screen: r.screen, views: { employee: r.employee, contractor: r.contractor, total: r.total } },
        ]);
  }

  // One pass over the views per person: the viewers' table and the other_customer_read rule share it.
  const viewers = await viewerTotals(e);
  const daily = await e.rows<{ day: string; views: number; last_resort_views: number }>(`
    SELECT strftime(jst_day, '%Y-%m-%d') AS day, count(*) FILTER (WHERE kind = 'view') AS views, count(*) FILTER (WHERE kind = 'last_resort') AS last_resort_views
      FROM enriched WHERE in_period GROUP BY day ORDER BY day`);
  // Every read is in `enriched` once (the joins keep one row per read), in the period or not.
  const [rows] = await e.rows<{ read: number; rejected: number; outside: number }>(`
    SELECT (SELECT count(*) FROM enriched) + (SELECT count(*) FROM rejected WHERE file IN (SELECT file FROM log_files)) AS read,
           (SELECT count(*) FROM rejected WHERE file IN (SELECT file FROM log_files)) AS rejected,
           (SELECT count(*) FROM enriched WHERE NOT in_period) AS outside`);
  const rejected = await e.rows<{ file: string; line: number; reason: string }>(`SELECT file, line, reason FROM rejected ORDER BY file, line`);
  const findings = await findAnomalies(e, { affiliate: opts.affiliate, start, end, thresholds, viewers });
  const read = rows?.read ?? 0;
  const rej = rows?.rejected ?? 0;
  const outside = rows?.outside ?? 0;
  return {
    period: { from: opts.from, to: opts.to },
    affiliate: opts.affiliate,
    rows: { read, used: read - rej - outside, rejected: rej, outsidePeriod: outside },
    systems: perSystem.map((r) => ({
      system: String(r.system),
      ...(systemsWithScreens.has(String(r.system)) ? { screens: screensOf.get(String(r.system)) ?? [] } : {}),
      ...counts(r),
    })),
    total: counts(total ?? {}),
    viewers: viewers.map((v) => ({
      userId: v.user_id,
      personId: v.person_id,
      views: v.views,
      corporate: { views: v.corporate_views, customers: v.corporate_customers },
      individual: { views: v.individual_views, customers: v.individual_customers },
      employment: v.employment,
      organization: v.organization,
      office: v.office,
    })),
    findings,
    daily: daily.map((d) => ({ day: d.day, views: d.views, lastResortViews: d.last_resort_views })),
    rejected,
    thresholds,
  };
}
