import { writeFileSync } from 'node:fs';
import { japanDay } from '../domain/japan-time.ts';
import type { CsvEncoding } from '../domain/export-file.ts';
import { table, text as textColumn } from '../spreadsheet/table.ts';
import { csvEncodingOption, writeSpreadsheet, xlsxNeedsOut } from './spreadsheet-output.ts';
import { checkGrants, type GrantViolation } from '../governance/grant-rules.ts';
import type { RejectedRow } from '../legacy/csv-file.ts';
import { loadGrants, loadPermissions, loadStaff } from '../legacy/registers.ts';
import { EXIT } from './exit.ts';
import type { CliIo } from './io.ts';

/**
 * `gridwall grants check` (formats.md): the grants of a legacy permission registry in force at `at`,
 * judged by the same rules as live grants. Findings are data: exit 0 when the run completed.
 */
export async function runGrantsCheck(
  opts: { staff: string; permissions: string; grants: string; at: Date; format: 'table' | 'json' | 'csv' | 'xlsx'; encoding?: CsvEncoding; out?: string },
  io: CliIo,
): Promise<number> {
  xlsxNeedsOut(opts.format, opts.out);
  const encoding = csvEncodingOption(opts.format, opts.encoding);
  const staff = loadStaff(opts.staff);
  const permissions = loadPermissions(opts.permissions);
  const grants = loadGrants(opts.grants);
  const result = checkGrants(staff.items, permissions.items, grants.items, opts.at);
  const rejected: RejectedRow[] = [...staff.rejected, ...permissions.rejected, ...grants.rejected];
  const read = staff.read + permissions.read + grants.read;
  const rows = { read, used: read - rejected.length, rejected: rejected.length };
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
    text = `${JSON.stringify({ at: opts.at.toISOString(), rows, violations: result.violations.map(violation), summary: result.summary, rejected }, null, 2)}\n`;
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
      ...result.violations.map(
        (v) => `${v.rule.padEnd(18)} ${v.userId.padEnd(12)} ${v.permissionId.padEnd(10)} by ${v.grantedBy.padEnd(12)} ${japanDay(v.grantedAt)}  ${v.detail}`,
      ),
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
