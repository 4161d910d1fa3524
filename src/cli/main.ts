import { writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config.ts';
import { Refusal } from '../domain/refusal.ts';
import { compileDecisionTable } from '../domain/decision-table.ts';
import { AREA_CODES, type AreaCode } from '../domain/supply-point.ts';
import { checklist, checklistDoc, checklistMarkdown, findViolations, inquiryChecklist, inquiryMarkdown, inquiryViolations } from '../firewall/verify.ts';
import { parseLegacyTime } from '../legacy/csv-file.ts';
import { DAY_MS } from '../domain/japan-time.ts';
import { DEFAULT_RECIPROCAL_DAYS, DEFAULT_SOD_PAIRS, parseSodPairs, SOD_PAIR_IDS, sodPolicy } from '../domain/separation-of-duties.ts';
import { CSV_ENCODINGS, type CsvEncoding } from '../domain/export-file.ts';

import type { VerifyOptions } from './audit-command.ts';
import { EXIT, exitForRefusal, UsageError } from './exit.ts';
import { processIo, type CliIo } from './io.ts';

export { EXIT, UsageError };
export type { CliIo };

/** `--encoding` of a CSV: UTF-8 with a BOM (the default) or CP932 for older Excel; given with another format, a usage error. */
function encodingOption(): Option {
  return new Option(
    '--encoding <encoding>',
    'CSV character encoding: utf-8 (with a BOM; the default) or cp932 (a character it cannot hold is written as 〓 and counted)',
  ).choices([...CSV_ENCODINGS]);
}

function month(v: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(v)) throw new InvalidArgumentError('must be a month YYYY-MM');
  return v;
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

/** A calendar day, `YYYY-MM-DD` or `YYYY/MM/DD` (the legacy formats' dates), as its first instant in Japan time. */
function day(v: string): Date {
  const t = parseLegacyTime(v);
  if (t === null || !t.dateOnly) throw new InvalidArgumentError('must be a calendar day YYYY-MM-DD or YYYY/MM/DD (Japan time)');
  return t.at;
}

/** Days of the reciprocal-approval period: a whole number, 0 (off) to 3660. */
function reciprocalDays(v: string): number {
  if (!/^\d{1,4}$/.test(v.trim()) || Number(v) > 3660) throw new InvalidArgumentError('must be a whole number of days, 0 (off) to 3660');
  return Number(v);
}

/** A calendar day as `YYYY-MM-DD` (slashes accepted), for options that name days. */
function dayText(v: string, option: string): string {
  const m = /^(\d{4})[-/](\d{2})[-/](\d{2})$/.exec(v.trim());
  if (m === null) throw new UsageError(`${option} ${v}: must be a calendar day YYYY-MM-DD (Japan time)`);
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function write(io: CliIo, out: string | undefined, text: string): void {
  if (out === undefined) io.stdout.write(text);
  else writeFileSync(out, text);
}

function program(setExit: (code: number) => void, io: CliIo): Command {
  const cmd = new Command('gridwall')
    .description('Information firewall for an unbundled grid operator: every read of customer data decided per person and per field, and logged.')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's defaults, on the given streams (80 columns when not a terminal).
      getOutHelpWidth: () => (io.stdout.isTTY === true ? io.stdout.columns : undefined) ?? 80,
      getErrHelpWidth: () => (io.stderr.isTTY === true ? io.stderr.columns : undefined) ?? 80,
    });

  cmd
    .command('start')
    .description('start the server (embedded PostgreSQL in GRIDWALL_DATA_DIR, or DATABASE_URL); seeds demo data on first start')
    .addOption(
      new Option(
        '--workers <n>',
        'server processes on the port, each with its own log writer, on one PostgreSQL (DATABASE_URL); default GRIDWALL_WORKERS or 1',
      ).argParser(positiveInt),
    )
    .action(async (opts: { workers?: number }) => {
      const { runStart } = await import('./start-command.ts');
      setExit(await runStart(loadConfig(opts.workers === undefined ? io.env : { ...io.env, GRIDWALL_WORKERS: String(opts.workers) }), io));
    });

  cmd
    .command('demo')
    .description('generate a realistic demo area into an empty store')
    .addOption(new Option('--supply-points <n>', 'number of supply points').argParser(positiveInt).default(20000))
    .addOption(new Option('--seed <n>', 'random seed (same seed, same data)').argParser(positiveInt).default(2016))
    .addOption(new Option('--area <code>', 'area code 01–10').argParser(areaCode).default('02'))
    .action(async (opts: { supplyPoints: number; seed: number; area: AreaCode }) => {
      const { runDemo } = await import('./demo-command.ts');
      setExit(await runDemo(loadConfig(io.env), opts, io));
    });

  cmd
    .command('verify')
    .description('enumerate the whole decision space and every data route; print the masking checklist; exit 1 if any invariant is broken')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'csv', 'xlsx', 'json']).default('md'))
    .addOption(encodingOption())
    .option('--out <file>', 'write to a file instead of stdout (required for xlsx)')
    .action(async (opts: { format: 'md' | 'csv' | 'xlsx' | 'json'; encoding?: CsvEncoding; out?: string }) => {
      const { csvEncodingOption, writeSpreadsheet, xlsxNeedsOut } = await import('./spreadsheet-output.ts');
      xlsxNeedsOut(opts.format, opts.out);
      const encoding = csvEncodingOption(opts.format, opts.encoding);
      const table = compileDecisionTable();
      const rows = checklist(table);
      const violations = findViolations(table);
      // The inquiry allowances: every case × item × consent × retailer, answered alike and never beyond the case.
      const inquiryRows = inquiryChecklist(table);
      const inquiryBroken = inquiryViolations(inquiryRows);
      const pass = violations.length === 0 && inquiryBroken.length === 0;
      if (opts.format === 'csv' || opts.format === 'xlsx') await writeSpreadsheet(io, checklistDoc(rows), opts.format, encoding, opts.out);
      else
        write(
          io,
          opts.out,
          opts.format === 'json'
            ? `${JSON.stringify({ policyVersion: table.version, pass, violations, rows, inquiry: { pass: inquiryBroken.length === 0, violations: inquiryBroken, rows: inquiryRows } }, null, 2)}\n`
            : `${checklistMarkdown(rows, table, violations)}\n${inquiryMarkdown(inquiryRows, inquiryBroken)}`,
        );
      io.stderr.write(
        pass
          ? `verify: PASS — ${table.size} decisions, ${rows.length} checklist rows, ${inquiryRows.length} inquiry rows, policy ${table.version.slice(0, 12)}\n`
          : violations.length > 0
            ? `verify: FAIL — ${violations.length} decisions let the wrong side see non-public data\n`
            : `verify: FAIL — ${inquiryBroken.length} inquiry allowances treat retailers unequally or go beyond their case\n`,
      );
      setExit(pass ? EXIT.ok : EXIT.failed);
    });
  const audit = cmd.command('audit').description('the access log as evidence: verify, export, stream, partitions');
  audit
    .command('verify')
    .description(
      'verify the log in the database (archives, hash chain, every event sealed by the writer) or an exported file, against trusted keys and the witness; names the first broken event; exit 1 if broken',
    )
    .option('--file <file>', 'an exported JSON Lines file instead of the database')
    .addOption(
      new Option(
        '--public-key <file>',
        'trusted public key(s) (PEM) for the seals; repeatable (default: the configured signing key and GRIDWALL_LOG_TRUSTED_KEYS — never the keys the database records)',
      )
        .argParser((v: string, prev: string[] = []) => [...prev, v])
        .default([]),
    )
    .option(
      '--witness <file>',
      "seals published outside the database (the writer's witness file, or the SIEM's copy) to hold the log against (default for the database: GRIDWALL_LOG_WITNESS_FILE when it exists)",
    )
    .option('--archive-dir <dir>', 'where the archived files are, when not at their recorded paths')
    .addOption(new Option('--from-seq <n>', 'the database only: verify from this event on its own (anchored at the hash it states)').argParser(positiveInt))
    .addOption(
      new Option('--to-seq <n>', 'the database only: verify up to this event (rounded up to the end of its seal; default: the head)').argParser(positiveInt),
    )
    .addOption(
      new Option('--partition <month>', "the database only: verify one month's partition on its own (YYYY-MM, Japan time)")
        .argParser(month)
        .conflicts(['fromSeq', 'toSeq', 'file']),
    )
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: VerifyOptions) => {
      if (opts.file !== undefined && (opts.fromSeq !== undefined || opts.toSeq !== undefined))
        throw new UsageError('--from-seq and --to-seq verify a part of the database, not a file');
      if (opts.fromSeq !== undefined && opts.toSeq !== undefined && opts.toSeq < opts.fromSeq) throw new UsageError('--to-seq is before --from-seq');
      const { runVerify } = await import('./audit-command.ts');
      setExit(await runVerify(loadConfig(io.env), opts, io));
    });
  audit
    .command('export')
    .description(
      'export a period of the log: JSON Lines (verifies on its own), CSV or XLSX for a spreadsheet (CSV in UTF-8 with a BOM, or CP932), or Parquet for DuckDB',
    )
    .addOption(new Option('--from <date>', 'first day, Japan time (inclusive)').argParser(day))
    .addOption(new Option('--to <date>', 'last day, Japan time (inclusive)').argParser(day))
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'xlsx', 'parquet']).default('jsonl'))
    .addOption(encodingOption())
    .option('--out <file>', 'write to a file instead of stdout (required for parquet and xlsx)')
    .action(async (opts: { from?: Date; to?: Date; format: 'jsonl' | 'csv' | 'xlsx' | 'parquet'; encoding?: CsvEncoding; out?: string }) => {
      if (opts.from !== undefined && opts.to !== undefined && opts.to < opts.from) throw new UsageError('--to is before --from');
      const { runExport } = await import('./audit-command.ts');
      setExit(await runExport(loadConfig(io.env), opts, io));
    });
  audit
    .command('tail')
    .description(
      'stream the log for a SIEM: verifiable JSON lines to stdout, or RFC 5424 syslog — only events whose seal verifies with a trusted key; exit 1 at anything it cannot account for',
    )
    .addOption(new Option('--from-seq <n>', 'start at this sequence number (default: new events only)').argParser(positiveInt))
    .option('--follow', 'keep streaming new events until interrupted', false)
    .addOption(new Option('--interval <seconds>', 'polling interval with --follow').argParser(positiveInt).default(1))
    .option('--syslog <target>', 'send to syslog instead of stdout: udp://host:port or tcp://host:port')
    .addOption(
      new Option(
        '--public-key <file>',
        'trusted public key(s) (PEM) the feed checks the seals with before forwarding; repeatable (default: as audit verify — the configured signing key and GRIDWALL_LOG_TRUSTED_KEYS)',
      )
        .argParser((v: string, prev: string[] = []) => [...prev, v])
        .default([]),
    )
    .action(async (opts: { fromSeq?: number; follow: boolean; interval: number; syslog?: string; publicKey: string[] }) => {
      const { runTail } = await import('./audit-command.ts');
      setExit(await runTail(loadConfig(io.env), opts, io));
    });
  audit
    .command('partitions')
    .description('list the monthly partitions of the log with their events, and which are past the retention period')
    .action(async () => {
      const { runPartitions } = await import('./audit-command.ts');
      setExit(await runPartitions(loadConfig(io.env), new Date(), io));
    });
  audit
    .command('archive')
    .description('archive partitions past the retention period: export each to a verified JSON Lines file, record it, detach the partition (never dropped)')
    .requiredOption('--before <month>', 'archive months before this one (YYYY-MM, Japan time)', month)
    .requiredOption('--dir <directory>', 'where the archive files go')
    .action(async (opts: { before: string; dir: string }) => {
      const { runArchive } = await import('./audit-command.ts');
      setExit(await runArchive(loadConfig(io.env), opts, new Date(), io));
    });
  audit
    .command('key')
    .description('the keys the log is signed with')
    .command('register')
    .description(
      'register the configured signing key (GRIDWALL_LOG_KEY_FILE) for the log, recorded as a governance event: a server whose key is not registered does not start',
    )
    .option('--generate', 'make the key file first if it does not exist')
    .action(async (opts: { generate?: boolean }) => {
      const { runRegisterKey } = await import('./audit-command.ts');
      setExit(await runRegisterKey(loadConfig(io.env), opts, new Date(), io));
    });
  audit
    .command('public-key')
    .description('print the public key of the checkpoint signing key (keep a copy where those who run the log cannot change it)')
    .action(async () => {
      const { runPublicKey } = await import('./audit-command.ts');
      setExit(runPublicKey(loadConfig(io.env), io));
    });

  cmd
    .command('grants')
    .description('permission governance')
    .command('check')
    .description(
      'judge a legacy permission registry: grants in force that break a rule (side not allowed, self-grant, unknown user, user who left, unknown permission, incompatible permissions, reciprocal approval)',
    )
    .requiredOption('--staff <file>', 'staff.csv (formats.md)')
    .requiredOption('--permissions <file>', 'permissions.csv')
    .requiredOption('--grants <file>', 'grants.csv')
    .option(
      '--pairs <ids>',
      `separation of duties: the catalog's incompatible pairs to apply, comma-separated, or none (${SOD_PAIR_IDS.join(', ')})`,
      DEFAULT_SOD_PAIRS.join(','),
    )
    .option('--incompatible <file>', "the registry's own incompatible pairs: a CSV of permission_a, permission_b, reason")
    .option(
      '--log <file>',
      'with --contracts and --affiliate: access_log.csv, to report when each wrongful grant made data viewable and what its holder viewed (exposure); once per file',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--contracts <file>', 'contracts.csv (with --log)')
    .option('--affiliate <code>', 'retailer code of the affiliated retailer, e.g. A0001 (with --log)')
    .addOption(
      new Option('--reciprocal-days <days>', 'separation of duties: grants two people gave each other within this many days are reported (0: off)')
        .default(DEFAULT_RECIPROCAL_DAYS)
        .argParser(reciprocalDays),
    )
    .addOption(new Option('--at <date>', 'judge the grants in force at the end of this day, Japan time (default: now)').argParser(day))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv', 'xlsx']).default('table'))
    .addOption(encodingOption())
    .option('--out <file>', 'write to a file instead of stdout (required for xlsx)')
    .action(
      async (opts: {
        staff: string;
        permissions: string;
        grants: string;
        at?: Date;
        format: 'table' | 'json' | 'csv' | 'xlsx';
        encoding?: CsvEncoding;
        out?: string;
        pairs: string;
        incompatible?: string;
        reciprocalDays: number;
        log: string[];
        contracts?: string;
        affiliate?: string;
      }) => {
        const { runGrantsCheck } = await import('./grants-command.ts');
        const given = { '--log': opts.log.length > 0, '--contracts': opts.contracts !== undefined, '--affiliate': opts.affiliate !== undefined };
        const missing = Object.entries(given).filter(([, g]) => !g);
        if (missing.length > 0 && missing.length < 3)
          throw new UsageError(`${missing.map(([k]) => k).join(' and ')} missing: the exposure report needs --log, --contracts and --affiliate together`);
        if (opts.affiliate !== undefined && opts.affiliate.trim() === '') throw new UsageError('--affiliate must name the affiliated retailer code');
        const at = opts.at === undefined ? new Date() : new Date(opts.at.getTime() + DAY_MS - 1);
        const pairs = parseSodPairs(opts.pairs);
        if ('empty' in pairs) throw new UsageError(`--pairs is empty (give some of ${SOD_PAIR_IDS.join(', ')}, or none)`);
        if ('unknown' in pairs) throw new UsageError(`--pairs: ${pairs.unknown.join(', ')} is not a pair (give some of ${SOD_PAIR_IDS.join(', ')}, or none)`);
        const { log, contracts, affiliate, ...rest } = opts;
        const exposure =
          contracts !== undefined && affiliate !== undefined && log.length > 0 ? { logs: log, contracts, affiliate: affiliate.trim() } : undefined;
        setExit(await runGrantsCheck({ ...rest, at, sod: sodPolicy(pairs.ok, opts.reciprocalDays), ...(exposure === undefined ? {} : { exposure }) }, io));
      },
    );

  cmd
    .command('import')
    .description(
      "load the legacy registers (formats.md: staff, terminals, permissions, grants; UTF-8 or CP932) into this gridwall, judged by grants check's rules; grants become requests a second person approves (docs/controls.md)",
    )
    .requiredOption('--operator <userId>', 'your own account (it must hold access.admin): the import is recorded as yours')
    .option('--staff <file>', 'staff.csv')
    .option('--terminals <file>', 'terminals.csv')
    .option('--permissions <file>', 'permissions.csv (with an optional gridwall_permission column naming the gridwall permission of each)')
    .option('--grants <file>', 'grants.csv')
    .option('--dry-run', 'show what would be created, updated, left unchanged, requested or refused, and change nothing', false)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(
      async (opts: {
        operator: string;
        staff?: string;
        terminals?: string;
        permissions?: string;
        grants?: string;
        dryRun: boolean;
        format: 'table' | 'json';
        out?: string;
      }) => {
        const { runImport } = await import('./import-command.ts');
        setExit(await runImport(loadConfig(io.env), opts, io));
      },
    );

  cmd
    .command('analyze')
    .description(
      "the regulator's tables and anomaly findings over legacy exports (formats.md): views of other retailers' customers' non-public items by the retail side, per system and in total",
    )
    .requiredOption('--affiliate <code>', 'retailer code of the affiliated retailer, e.g. A0001')
    .requiredOption('--from <date>', 'first day, inclusive (YYYY-MM-DD, Japan time)')
    .requiredOption('--to <date>', 'last day, inclusive (YYYY-MM-DD, Japan time)')
    .requiredOption('--staff <file>', 'staff.csv')
    .requiredOption('--terminals <file>', 'terminals.csv')
    .requiredOption('--contracts <file>', 'contracts.csv')
    .requiredOption('--log <file>', 'access_log.csv; give it once per file (per system or month)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv', 'xlsx']).default('table'))
    .addOption(encodingOption())
    .option('--out <file>', 'write to a file instead of stdout (required for xlsx)')
    .option(
      '--threshold <name=value>',
      'override a rule threshold, e.g. bulkMinDaily=200 (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--memory-limit <size>', "the analysis engine's memory limit before it spills to disk (default: a quarter of this machine's memory)")
    .action(
      async (opts: {
        affiliate: string;
        from: string;
        to: string;
        staff: string;
        terminals: string;
        contracts: string;
        log: string[];
        format: 'table' | 'json' | 'csv' | 'xlsx';
        encoding?: CsvEncoding;
        out?: string;
        threshold: string[];
        memoryLimit?: string;
      }) => {
        const { runAnalyze } = await import('./analyze-command.ts');
        setExit(await runAnalyze({ ...opts, from: dayText(opts.from, '--from'), to: dayText(opts.to, '--to') }, io));
      },
    );

  const tokens = cmd
    .command('tokens')
    .description(
      "service accounts and API tokens for other retailers' systems and the HR system (a token is requested and approved by two people in the console or API)",
    );
  tokens
    .command('service-account <userId>')
    .description(
      "create a service account for a system (nobody logs in as it): a retailer's system placed at the retailer's organization, or the HR system with no organization",
    )
    .requiredOption('--name <name>', 'the system, e.g. みらいでんき 顧客システム')
    .requiredOption('--owner <personId>', 'the person who answers for it (an assignment in force)')
    .option('--org <organizationId>', "the retailer's organization it acts for (omit for the HR system)")
    .action(async (userId: string, opts: { name: string; owner: string; org?: string }) => {
      const { runServiceAccountCreate } = await import('./access-command.ts');
      setExit(await runServiceAccountCreate(loadConfig(io.env), { userId, name: opts.name, ownerPersonId: opts.owner, organizationId: opts.org ?? null }, io));
    });
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async () => {
      const { runTokenList } = await import('./access-command.ts');
      setExit(await runTokenList(loadConfig(io.env), io));
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token at once')
    .action(async (id: string) => {
      const { runTokenRevoke } = await import('./access-command.ts');
      setExit(await runTokenRevoke(loadConfig(io.env), id, io));
    });

  const accounts = cmd
    .command('accounts')
    .description('local accounts (password + TOTP) and the account lifecycle; with the embedded store, stop the server first');
  accounts
    .command('set-password <userId>')
    .description(
      "set an account's password, read from stdin (one line) or GRIDWALL_NEW_PASSWORD — never from the command line; at least 12 characters, not the user ID",
    )
    .action(async (userId: string) => {
      const { runSetPassword } = await import('./accounts-command.ts');
      setExit(await runSetPassword(loadConfig(io.env), userId, io));
    });
  accounts
    .command('enroll-totp <userId>')
    .description('enrol an authenticator app (TOTP, SHA-1, 6 digits, 30 s): prints the secret and otpauth:// URI once; replaces any earlier one')
    .option('--issuer <name>', 'issuer shown in the authenticator app', 'gridwall')
    .action(async (userId: string, opts: { issuer: string }) => {
      const { runEnrollTotp } = await import('./accounts-command.ts');
      setExit(await runEnrollTotp(loadConfig(io.env), userId, opts.issuer, io));
    });
  accounts
    .command('bind-oidc <userId>')
    .description("bind an account to the person's subject at the OpenID Connect provider (the ID token's sub claim); replaces an earlier binding")
    .requiredOption('--subject <sub>', "the person's subject identifier at the provider (Keycloak user ID, Entra object ID)")
    .option('--issuer <url>', 'the provider (default: GRIDWALL_OIDC_ISSUER)')
    .action(async (userId: string, opts: { subject: string; issuer?: string }) => {
      const { runBindOidc } = await import('./accounts-command.ts');
      setExit(await runBindOidc(loadConfig(io.env), userId, opts, io));
    });
  accounts
    .command('scim-handover [userIds...]')
    .description(
      'hand existing accounts over to the HR system (SCIM): it can then match and manage them; --all skips accounts with a local password or a control permission (name those)',
    )
    .option('--all', "every enabled person's account not yet SCIM's", false)
    .option('--dry-run', 'list what would be handed over, change nothing', false)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (userIds: string[], opts: { all: boolean; dryRun: boolean; format: 'table' | 'json' }) => {
      const { runScimHandover } = await import('./accounts-command.ts');
      setExit(await runScimHandover(loadConfig(io.env), userIds, opts, io));
    });
  accounts
    .command('sweep')
    .description('disable dormant accounts (no login for N days) and, with --orphans, accounts with no person behind them')
    .addOption(new Option('--dormant-days <n>', 'days without a login').argParser(positiveInt).default(90))
    .option('--orphans', 'also disable accounts with no staff assignment in force', false)
    .option('--dry-run', 'list what would be disabled, change nothing', false)
    .action(async (opts: { dormantDays: number; orphans: boolean; dryRun: boolean }) => {
      const { runAccountSweep } = await import('./access-command.ts');
      setExit(await runAccountSweep(loadConfig(io.env), opts, io));
    });
  accounts
    .command('check-assignments')
    .description(
      'list staff assignments in force whose side or retailer does not follow from the organization (or a contractor company no longer engaged); exit 1 if any',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (opts: { format: 'table' | 'json' }) => {
      const { runCheckAssignments } = await import('./access-command.ts');
      setExit(await runCheckAssignments(loadConfig(io.env), opts, io));
    });

  cmd
    .command('terminals')
    .description('the terminal registry')
    .command('report')
    .description('reconciliation: network-set terminals not standing at a network site (F1), and terminals unused for N days')
    .addOption(new Option('--unused-days <n>', 'days without use').argParser(positiveInt).default(90))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv', 'xlsx']).default('table'))
    .addOption(encodingOption())
    .option('--out <file>', 'write to a file instead of stdout (required for xlsx)')
    .action(async (opts: { unusedDays: number; format: 'table' | 'json' | 'csv' | 'xlsx'; encoding?: CsvEncoding; out?: string }) => {
      const { runTerminalReport } = await import('./access-command.ts');
      setExit(await runTerminalReport(loadConfig(io.env), opts, io));
    });

  const dbCmd = cmd.command('db').description('database administration (PostgreSQL server): migrate as the owner, run the server as an application role');
  dbCmd
    .command('migrate')
    .description("apply the schema's pending migrations as the connected role (the schema's owner); prints what it applied")
    .action(async () => {
      const { runDbMigrate } = await import('./db-command.ts');
      setExit(await runDbMigrate(loadConfig(io.env), io));
    });
  dbCmd
    .command('grant-app <role>')
    .description(
      "create (if needed) the role the server connects as and give it exactly what it needs: read everything, write its own tables, write the access log only through the writer's functions",
    )
    .action(async (role: string) => {
      const { runDbGrantApp } = await import('./db-command.ts');
      setExit(await runDbGrantApp(loadConfig(io.env), role, io));
    });
  dbCmd
    .command('grant-writer <role>')
    .description('deprecated: the same as grant-app')
    .action(async (role: string) => {
      io.stderr.write('gridwall: note: `db grant-writer` is deprecated; it now runs `db grant-app`, the role the server connects as\n');
      const { runDbGrantApp } = await import('./db-command.ts');
      setExit(await runDbGrantApp(loadConfig(io.env), role, io));
    });
  return cmd;
}

/** Runs the CLI; returns the exit code. Bad arguments and configuration exit 2, a rule's refusal 3, with a message. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  const cmd = program((c) => {
    code = c;
  }, io);
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof Refusal) {
      // Every refusal, answered by its kind (cli/exit.ts); a rule of the firewall or a workflow is named.
      io.stderr.write(e.family === 'input' ? `gridwall: ${e.message}\n` : `gridwall: ${e.rule}: ${e.message}\n`);
      return exitForRefusal(e.kind);
    }
    throw e;
  }
}
