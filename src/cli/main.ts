import { writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';
import { compileDecisionTable } from '../domain/decision-table.ts';
import { AREA_CODES, type AreaCode } from '../domain/supply-point.ts';
import { checklist, checklistCsv, checklistMarkdown, findViolations } from '../firewall/verify.ts';
import { ConsoleNotBuiltError } from '../api/console.ts';
import { DataDirLockedError } from '../store/pglite.ts';

/** Exit codes, chosen here and nowhere else. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {
  readonly code = 'usage';
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

function areaCode(v: string): AreaCode {
  const a = AREA_CODES.find((c) => c === v);
  if (a === undefined) throw new InvalidArgumentError('must be an area code 01–10');
  return a;
}

function write(out: string | undefined, text: string): void {
  if (out === undefined) process.stdout.write(text);
  else writeFileSync(out, text);
}

function program(setExit: (code: number) => void): Command {
  const cmd = new Command('gridwall')
    .description('Information firewall for an unbundled grid operator: every read of customer data decided per person and per field, and logged.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  cmd
    .command('start')
    .description('start the server (embedded PostgreSQL in GRIDWALL_DATA_DIR, or DATABASE_URL); seeds demo data on first start')
    .action(async () => {
      const { runStart } = await import('./start-command.ts');
      setExit(await runStart(loadConfig(process.env)));
    });

  cmd
    .command('demo')
    .description('generate a realistic demo area into an empty store')
    .addOption(new Option('--supply-points <n>', 'number of supply points').argParser(positiveInt).default(20000))
    .addOption(new Option('--seed <n>', 'random seed (same seed, same data)').argParser(positiveInt).default(2016))
    .addOption(new Option('--area <code>', 'area code 01–10').argParser(areaCode).default('02'))
    .action(async (opts: { supplyPoints: number; seed: number; area: AreaCode }) => {
      const { runDemo } = await import('./demo-command.ts');
      setExit(await runDemo(loadConfig(process.env), opts));
    });

  cmd
    .command('verify')
    .description('enumerate the whole decision space and every data route; print the masking checklist; exit 1 if any invariant is broken')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'csv', 'json']).default('md'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action((opts: { format: 'md' | 'csv' | 'json'; out?: string }) => {
      const table = compileDecisionTable();
      const rows = checklist(table);
      const violations = findViolations(table);
      const text =
        opts.format === 'csv' ? checklistCsv(rows) : opts.format === 'json' ? `${JSON.stringify({ policyVersion: table.version, pass: violations.length === 0, violations, rows }, null, 2)}\n` : checklistMarkdown(rows, table, violations);
      write(opts.out, text);
      process.stderr.write(
        violations.length === 0
          ? `verify: PASS — ${table.size} decisions, ${rows.length} checklist rows, policy ${table.version.slice(0, 12)}\n`
          : `verify: FAIL — ${violations.length} decisions let the wrong side see non-public data\n`,
      );
      setExit(violations.length === 0 ? EXIT.ok : EXIT.failed);
    });
  return cmd;
}

/** Runs the CLI; returns the exit code. Bad arguments and configuration exit 2 with a message. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const cmd = program((c) => {
    code = c;
  });
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof DataDirLockedError || e instanceof ConsoleNotBuiltError) {
      process.stderr.write(`gridwall: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}
