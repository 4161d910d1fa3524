import { writeFileSync } from 'node:fs';
import { japanDay } from '../domain/japan-time.ts';
import type { CsvEncoding } from '../domain/export-file.ts';
import { day as dayColumn, instant, number, table, text as textColumn } from '../spreadsheet/table.ts';
import { csvEncodingOption, writeSpreadsheet, xlsxNeedsOut } from './spreadsheet-output.ts';
import { checkGrants, type GrantViolation } from '../governance/grant-rules.ts';
import { grantExposures } from '../governance/grant-exposure.ts';
import { openEngine } from '../analysis/duck.ts';
import { countExposure, enrichAllTime, type ExposureRow, type ExposureSummary } from '../analysis/exposure.ts';
import { loadLegacy, type InputSummary } from '../analysis/legacy-load.ts';
import type { RejectedRow } from '../legacy/csv-file.ts';
import { loadGrants, loadIncompatiblePairs, loadPermissions, loadStaff } from '../legacy/registers.ts';
import { isSodPairId, RECIPROCAL_REASON, RECIPROCAL_REASON_EN, SOD_PAIR_IDS, SOD_PAIRS, type SodPolicy } from '../domain/separation-of-duties.ts';
import { EXIT } from './exit.ts';
import type { CliIo } from './io.ts';

/**
 * The separation-of-duties rules a run applies, with their reasons (formats.md allows more keys: this is
 * `separationOfDuties` in the JSON output, and the head of the table).
 */
function sodRules(policy: SodPolicy) {
  const enforced = new Set(policy.pairs.map((p) => p.id));
  const catalog = SOD_PAIR_IDS.map((id) => ({ ...SOD_PAIRS[id], enforced: enforced.has(id) }));
  const own = policy.pairs.filter((p) => !isSodPairId(p.id)).map((p) => ({ ...p, enforced: true }));
  return {
    pairs: [...catalog, ...own].map((p) => ({
      rule: 'incompatible_permissions',
      id: p.id,
      permissions: [...p.permissions],
      enforced: p.enforced,
      reason: p.reason,
      reasonEn: p.reasonEn,
    })),
    reciprocal: {
      rule: 'reciprocal_approval',
      days: policy.reciprocalDays,
      enforced: policy.reciprocalDays > 0,
      reason: RECIPROCAL_REASON,
      reasonEn: RECIPROCAL_REASON_EN,
    },
  };
}

/** What the exposure report adds (formats.md `exposure`, `exposureSummary`), and the log files it read. */
interface Exposure {
  readonly exposure: ExposureRow[];
  readonly exposureSummary: ExposureSummary;
  readonly inputs: InputSummary[];
  readonly rejected: RejectedRow[];
}

/**
 * The regulator's follow-up questions over the log (issue 22): every grant that broke a rule while in force up
 * to `at`, the periods in which it did, and what its holder viewed of other retailers' customers inside them —
 * the log, the contracts and the staff register loaded and counted as `analyze` counts views.
 */
async function exposureOf(
  opts: { staff: string; at: Date; known: readonly RejectedRow[]; exposure: { logs: readonly string[]; contracts: string; affiliate: string } },
  registry: Parameters<typeof grantExposures>,
): Promise<Exposure> {
  const exposures = grantExposures(...registry);
  const engine = await openEngine();
  try {
    const inputs = await loadLegacy(engine, { staff: opts.staff, terminals: null, contracts: opts.exposure.contracts, logs: opts.exposure.logs });
    await enrichAllTime(engine, opts.exposure.affiliate);
    const counted = await countExposure(engine, exposures, japanDay, opts.at);
    // A staff row the register's loader listed already is not listed twice; one that only the analysis's stricter
    // loader refused (an employment it does not know, say) is listed: its views could not be counted.
    const known = new Set(opts.known.map((r) => `${r.file}\n${r.line}`));
    const rejected = (await engine.rows<{ file: string; line: number; reason: string }>(`SELECT file, line, reason FROM rejected ORDER BY file, line`)).filter(
      (r) => !known.has(`${r.file}\n${r.line}`),
    );
    return { exposure: counted.exposure, exposureSummary: counted.summary, inputs, rejected };
  } finally {
    engine.close();
  }
}

/**
 * `gridwall grants check` (formats.md): the grants of a legacy permission registry in force at `at`,
 * judged by the same rules as live grants — separation of duties included (`sod`: the catalog's pairs
 * policy enforces, plus `--incompatible`'s own). With the log (`exposure`), also when each wrongful grant made
 * data viewable and what was viewed under it. Findings are data: exit 0 when the run completed.
 */
export async function runGrantsCheck(
  opts: {
    staff: string;
    permissions: string;
    grants: string;
    at: Date;
    format: 'table' | 'json' | 'csv' | 'xlsx';
    encoding?: CsvEncoding;
    out?: string;
    sod: SodPolicy;
    incompatible?: string;
    exposure?: { logs: readonly string[]; contracts: string; affiliate: string };
  },
  io: CliIo,
): Promise<number> {
  xlsxNeedsOut(opts.format, opts.out);
  const encoding = csvEncodingOption(opts.format, opts.encoding);
  const staff = loadStaff(opts.staff);
  const permissions = loadPermissions(opts.permissions);
  const grants = loadGrants(opts.grants);
  const own = opts.incompatible === undefined ? { items: [], read: 0, rejected: [] } : loadIncompatiblePairs(opts.incompatible);
  const policy: SodPolicy = { pairs: [...opts.sod.pairs, ...own.items], reciprocalDays: opts.sod.reciprocalDays };
  const result = checkGrants(staff.items, permissions.items, grants.items, opts.at, policy);
  const rules = sodRules(policy);
  const exposure =
    opts.exposure === undefined
      ? null
      : await exposureOf({ staff: opts.staff, at: opts.at, known: staff.rejected, exposure: opts.exposure }, [
          staff.items,
          permissions.items,
          grants.items,
          opts.at,
          policy,
        ]);
  const rejected: RejectedRow[] = [...staff.rejected, ...permissions.rejected, ...grants.rejected, ...own.rejected, ...(exposure?.rejected ?? [])];
  const read = staff.read + permissions.read + grants.read + own.read;
  const registryRejected = rejected.length - (exposure?.rejected.length ?? 0);
  const rows = { read, used: read - registryRejected, rejected: registryRejected };
  const violation = (v: GrantViolation) => ({
    rule: v.rule,
    userId: v.userId,
    permissionId: v.permissionId,
    grantedBy: v.grantedBy,
    grantedAt: japanDay(v.grantedAt),
    detail: v.detail,
  });
  let text: string | null;
  if (opts.format === 'json') {
    text = `${JSON.stringify(
      {
        at: opts.at.toISOString(),
        rows,
        violations: result.violations.map(violation),
        summary: result.summary,
        ...(exposure === null
          ? {}
          : {
              exposure: exposure.exposure,
              exposureSummary: exposure.exposureSummary,
              // The log's and contracts' rows read, and the rows the exposure's load refused (listed in `rejected`).
              exposureRows: {
                read: exposure.inputs.filter((i) => i.kind !== 'staff').reduce((n, i) => n + i.read, 0),
                rejected: exposure.rejected.length,
              },
              inputs: exposure.inputs,
            }),
        rejected,
        separationOfDuties: rules,
      },
      null,
      2,
    )}\n`;
  } else if (opts.format === 'csv' || opts.format === 'xlsx') {
    type Row = ReturnType<typeof violation>;
    const title = `権限の点検（${japanDay(opts.at)}時点） / grants check`;
    const doc = {
      title,
      tables: [
        table<Row>({
          sheet: 'violations',
          title,
          columns: [
            textColumn('rule', (v) => v.rule),
            textColumn('user_id', (v) => v.userId),
            textColumn('permission_id', (v) => v.permissionId),
            textColumn('granted_by', (v) => v.grantedBy),
            { kind: 'day', head: 'granted_at', value: (v) => v.grantedAt },
            textColumn('detail', (v) => v.detail, 60),
          ],
          rows: result.violations.map(violation),
        }),
        ...(exposure === null
          ? []
          : [
              table<ExposureRow>({
                sheet: 'exposure',
                title: `閲覧可能期間と閲覧実績（違反の権限ごと） / exposure: ${exposureLine(exposure.exposureSummary)}`,
                columns: [
                  textColumn('user_id', (x) => x.userId),
                  textColumn('permission_id', (x) => x.permissionId),
                  textColumn('rules', (x) => x.rules.join(';'), 30),
                  dayColumn('from', (x) => x.from),
                  dayColumn('to', (x) => x.to),
                  number('views', (x) => x.views),
                  number('supply_points', (x) => x.supplyPoints),
                  instant('first', (x) => (x.first === null ? null : new Date(x.first))),
                  instant('last', (x) => (x.last === null ? null : new Date(x.last))),
                ],
                rows: exposure.exposure,
              }),
            ]),
      ],
    };
    await writeSpreadsheet(io, doc, opts.format, encoding, opts.out);
    text = null;
  } else {
    const s = result.summary;
    const out = [
      `grants check at ${opts.at.toISOString()}: ${s.grantsInForce} grants in force, ${s.violatingGrants} break a rule`,
      `  holders ${s.holders}, grantors ${s.grantors}, self-grants ${s.selfGrants}`,
      `  rows read ${rows.read}, used ${rows.used}, rejected ${rows.rejected}`,
      '',
      'separation of duties (職務分離):',
      ...rules.pairs.map(
        (r) => `  ${r.enforced ? 'enforced' : 'not enforced'}  incompatible_permissions ${r.id}: ${r.permissions.join(' + ')} — ${r.reasonEn}`,
      ),
      `  ${rules.reciprocal.enforced ? 'enforced' : 'not enforced'}  reciprocal_approval: within ${rules.reciprocal.days} days — ${rules.reciprocal.reasonEn}`,
      '',
      ...result.violations.map(
        (v) => `${v.rule.padEnd(24)} ${v.userId.padEnd(12)} ${v.permissionId.padEnd(10)} by ${v.grantedBy.padEnd(12)} ${japanDay(v.grantedAt)}  ${v.detail}`,
      ),
      ...(exposure === null
        ? []
        : [
            '',
            `exposure (閲覧可能期間と閲覧実績): ${exposureLine(exposure.exposureSummary)}`,
            ...exposure.exposure.map(
              (x) =>
                `${x.userId.padEnd(12)} ${x.permissionId.padEnd(10)} ${x.from} – ${(x.to ?? 'in force').padEnd(10)}  ${String(x.views).padStart(6)} views  ${String(x.supplyPoints).padStart(5)} points  ${x.first === null ? '' : `${x.first} … ${x.last ?? ''}`}  ${x.rules.join(', ')}`,
            ),
          ]),
      ...(rejected.length > 0 ? ['', 'rejected rows:', ...rejected.map((r) => `  ${r.file}:${r.line}: ${r.reason}`)] : []),
    ];
    text = `${out.join('\n')}\n`;
  }
  if (text !== null) {
    if (opts.out === undefined) io.stdout.write(text);
    else writeFileSync(opts.out, text);
  }
  if (rejected.length > 0 && opts.format !== 'table') io.stderr.write(`grants check: ${rejected.length} rows rejected (listed in the output)\n`);
  return EXIT.ok;
}

function exposureLine(s: ExposureSummary): string {
  return `${s.holders} holders of wrongful grants, ${s.viewers} of them viewed: ${s.views} views of ${s.supplyPoints} supply points of other retailers' customers`;
}
