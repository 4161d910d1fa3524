import { writeFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import type { CsvEncoding } from '../domain/export-file.ts';
import type { GovernanceActor } from '../audit/governance-log.ts';
import { createServiceAccount, listTokens, revokeToken } from '../identity/api-tokens.ts';
import { assignmentsBreakingRules } from '../identity/assignments.ts';
import { sweepAccounts } from '../identity/lifecycle.ts';
import { reconcileTerminals } from '../identity/terminals.ts';
import { reconciliationDoc } from '../identity/terminal-report.ts';
import { csvEncodingOption, writeSpreadsheet, xlsxNeedsOut } from './spreadsheet-output.ts';
import { openStore } from '../store/open.ts';
import { EXIT, UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/** The operator at the server's command line: recorded as such in the governance log. */
const CLI: GovernanceActor = { kind: 'system', job: 'cli' };

async function withStore<T>(config: Config, fn: (db: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const db = await openStore(config.store);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** `gridwall tokens service-account`: a service account for a system, answered for by a person. */
export async function runServiceAccountCreate(
  config: Config,
  spec: { userId: string; name: string; ownerPersonId: string; organizationId: string | null },
  io: CliIo,
): Promise<number> {
  return withStore(config, async (db) => {
    const r = await createServiceAccount(db, CLI, spec, new Date());
    io.stderr.write(`service account ${r.userId} (identity ${r.personId}) created\n`);
    return EXIT.ok;
  });
}

export async function runTokenList(config: Config, io: CliIo): Promise<number> {
  return withStore(config, async (db) => {
    for (const t of await listTokens(db)) {
      const state = t.revokedAt !== null ? `revoked ${t.revokedAt.toISOString()}` : `${t.status} until ${t.expiresAt.toISOString()}`;
      io.stdout.write(
        `${t.id}  ${t.userId.padEnd(14)} ${t.scopes.join(',').padEnd(20)} ${state}  last used ${t.lastUsedAt?.toISOString() ?? 'never'}  ${t.name}\n`,
      );
    }
    return EXIT.ok;
  });
}

export async function runTokenRevoke(config: Config, id: string, io: CliIo): Promise<number> {
  return withStore(config, async (db) => {
    if (!(await revokeToken(db, CLI, id, new Date()))) throw new UsageError(`no live token ${id}`);
    io.stderr.write(`token ${id} revoked\n`);
    return EXIT.ok;
  });
}

/** `gridwall terminals report`: the reconciliation report (misplaced network-set terminals, unused ones). */
export async function runTerminalReport(
  config: Config,
  opts: { unusedDays: number; format: 'table' | 'json' | 'csv' | 'xlsx'; encoding?: CsvEncoding; out?: string },
  io: CliIo,
): Promise<number> {
  xlsxNeedsOut(opts.format, opts.out);
  const encoding = csvEncodingOption(opts.format, opts.encoding);
  return withStore(config, async (db) => {
    const r = await reconcileTerminals(db, new Date(), opts.unusedDays);
    if (opts.format === 'csv' || opts.format === 'xlsx') {
      await writeSpreadsheet(io, reconciliationDoc(r), opts.format, encoding, opts.out);
      return EXIT.ok;
    }
    let text: string;
    if (opts.format === 'json') text = `${JSON.stringify(r, null, 2)}\n`;
    else {
      const line = (t: (typeof r.misplaced)[number]) =>
        `  ${t.id.padEnd(10)} ${t.organizationName} ${t.office} (${t.setting}-set, site ${t.siteSide}) last used ${t.lastUsedAt?.toISOString() ?? 'never'}`;
      text = [
        `${r.terminals} terminals registered`,
        `network-set terminals not at a network site: ${r.misplaced.length}`,
        ...r.misplaced.map(line),
        `unused for ${r.unusedDays} days or more: ${r.unused.length}`,
        ...r.unused.map(line),
        '',
      ].join('\n');
    }
    if (opts.out === undefined) io.stdout.write(text);
    else writeFileSync(opts.out, text);
    return EXIT.ok;
  });
}

/** `gridwall accounts sweep`: disables dormant accounts (and, with --orphans, accounts with no person). */
export async function runAccountSweep(config: Config, opts: { dormantDays: number; orphans: boolean; dryRun: boolean }, io: CliIo): Promise<number> {
  return withStore(config, async (db) => {
    const r = await sweepAccounts(db, CLI, new Date(), { dormantDays: opts.dormantDays, orphans: opts.orphans, dryRun: opts.dryRun });
    for (const d of r.disabled) io.stdout.write(`${opts.dryRun ? 'would disable' : 'disabled'} ${d.userId} (${d.rule})\n`);
    io.stderr.write(
      `${r.disabled.length} account(s) ${opts.dryRun ? 'would be' : ''} disabled (no login for ${opts.dormantDays} days${opts.orphans ? ', or no person behind them' : ''})\n`,
    );
    return EXIT.ok;
  });
}

/**
 * `gridwall accounts check-assignments`: staff assignments in force that the assignment rules refuse (a side
 * or retailer that does not follow from the organization, a contractor company no longer engaged). Exit 1
 * when there is one, so a scheduler can alert.
 */
export async function runCheckAssignments(config: Config, opts: { format: 'table' | 'json' }, io: CliIo): Promise<number> {
  return withStore(config, async (db) => {
    const found = await assignmentsBreakingRules(db, new Date());
    if (opts.format === 'json') io.stdout.write(`${JSON.stringify({ assignments: found }, null, 2)}\n`);
    else
      for (const f of found)
        io.stdout.write(
          `${f.personId}  ${f.userIds.join(',') || '-'}  ${f.organizationId}  ${f.side}  ${f.retailerCode ?? '-'}  since ${f.validFrom}  ${f.problems.join(', ')}\n`,
        );
    io.stderr.write(`${found.length} staff assignment(s) in force break the assignment rules\n`);
    return found.length === 0 ? EXIT.ok : EXIT.failed;
  });
}
