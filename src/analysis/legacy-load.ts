import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvFileError } from '../legacy/csv-file.ts';
import { prepareCsv, readCsvSql, type PreparedCsv } from './csv-input.ts';
import type { Engine } from './duck.ts';

/**
 * Loads the legacy exports of formats.md into the analysis engine's standard tables — `staff`, `terminals`,
 * `contracts`, `reads` — which the live log fills the same way, so one report and one set of rules serve
 * both. Values are parsed and checked in SQL; a row that cannot be used goes to `rejected` with its file,
 * line and reason, and never stops the run.
 *
 * Line numbers count one record per physical line after the header (a quoted value spanning lines shifts
 * the numbers of the rows after it in that file).
 */

export interface LegacyFiles {
  readonly staff: string;
  /** null: no terminal register (`grants check` with the log counts views, which do not depend on terminals). */
  readonly terminals: string | null;
  readonly contracts: string;
  readonly logs: readonly string[];
}

export interface InputSummary {
  readonly file: string;
  readonly kind: 'staff' | 'terminals' | 'contracts' | 'log';
  readonly encoding: 'utf-8' | 'shift_jis';
  readonly read: number;
  readonly rejected: number;
}

/** The SQL macros every loader uses, so a timestamp means the same in every file. Created once per engine. */
export async function createMacros(e: Engine): Promise<void> {
  // Timestamps: ISO 8601 with an offset, or YYYY-MM-DD / YYYY/MM/DD HH:MM[:SS] read as Japan time (the
  // engine's time zone). The same shapes as parseLegacyTime in src/legacy/csv-file.ts (a test compares them).
  // The common shape (19 characters, no offset) takes a fast path; every other shape the checked one. A
  // time without an offset is Japan time by arithmetic (UTC + 9 h, as parseLegacyTime reads it), not through
  // the time zone library, which cost as much per row as the rest of the parsing (issue 21).
  await e.run(`CREATE OR REPLACE MACRO gw_time_checked(v) AS CASE WHEN regexp_full_match(v, '\\d{4}[-/]\\d{2}[-/]\\d{2}[ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?')
    THEN try_cast(regexp_replace(regexp_replace(replace(v, '/', '-'), 'T', ' '), '^(\\S+ \\d{2}:\\d{2})(Z|[+-]|$)', '\\1:00\\2') AS TIMESTAMPTZ) END`);
  await e.run(`CREATE OR REPLACE MACRO gw_time(v) AS CASE
    WHEN length(v) = 19 AND regexp_full_match(v, '\\d{4}/\\d{2}/\\d{2} \\d{2}:\\d{2}:\\d{2}|\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}') THEN coalesce(to_timestamp(epoch(try_strptime(v, ['%Y/%m/%d %H:%M:%S', '%Y-%m-%d %H:%M:%S'])) - 32400), gw_time_checked(v))
    ELSE gw_time_checked(trim(v)) END`);
  await e.run(`CREATE OR REPLACE MACRO gw_day(v) AS CASE WHEN regexp_full_match(trim(v), '\\d{4}[-/]\\d{2}[-/]\\d{2}')
    THEN to_timestamp(epoch(try_cast(replace(trim(v), '/', '-') AS DATE)) - 32400) END`);
  // A start: a timestamp, or a date's first instant. Ten characters can only be a date (a time has at least sixteen).
  await e.run(`CREATE OR REPLACE MACRO gw_start(v) AS CASE WHEN length(trim(v)) = 10 THEN gw_day(v) ELSE coalesce(gw_time(v), gw_day(v)) END`);
  // An end: a timestamp is the instant it stops; a date is the last day it holds (registers write it so).
  await e.run(
    `CREATE OR REPLACE MACRO gw_end(v) AS CASE WHEN length(trim(v)) = 10 THEN gw_day(v) + INTERVAL 1 DAY ELSE coalesce(gw_time(v), gw_day(v) + INTERVAL 1 DAY) END`,
  );
  await e.run(
    `CREATE OR REPLACE MACRO gw_bool(v) AS CASE lower(trim(coalesce(v, ''))) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false WHEN '' THEN false END`,
  );
  await e.run(`CREATE OR REPLACE MACRO gw_spid(v) AS regexp_replace(coalesce(v, ''), '[-\\s]', '', 'g')`);
}

/** The standard tables, empty. The live log fills the same ones (live.ts). */
export async function createStandardTables(e: Engine): Promise<void> {
  await e.run(`CREATE TABLE rejected (file VARCHAR, line BIGINT, reason VARCHAR)`);
  /** The files whose rows are reads (their rows are what `rows.read` counts). */
  await e.run(`CREATE TABLE log_files (file VARCHAR)`);
  // Each table has a `reason` column while loading: a row that cannot be used is inserted with its reason,
  // listed in `rejected` with its line, and deleted at the end of the load (loadLegacy).
  await e.run(
    `CREATE TABLE staff (user_id VARCHAR, person_id VARCHAR, organization VARCHAR, side VARCHAR, employment VARCHAR, office VARCHAR, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ, reason VARCHAR)`,
  );
  await e.run(
    `CREATE TABLE terminals (terminal_id VARCHAR, setting VARCHAR, kind VARCHAR, organization VARCHAR, office VARCHAR, site_side VARCHAR, reason VARCHAR)`,
  );
  await e.run(
    `CREATE TABLE contracts (supply_point_id HUGEINT, customer_id VARCHAR, customer_type VARCHAR, retailer_code VARCHAR, retailer_name VARCHAR, last_resort BOOLEAN, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ, reason VARCHAR)`,
  );
  // One row per read of one supply point's record. `outcome` and `emergency_id` come from gridwall's own log;
  // a legacy system logged only what it served.
  // Supply point IDs as HUGEINT (22 digits do not fit BIGINT): joins on ten million reads go much faster
  // than on text. The leading zero of the area code is restored where an ID is shown (lpad to 22).
  // `screen`: the screen of the legacy system the row was read on, when its log says (formats.md's optional
  // column; `analyze` then breaks each system down by screen).
  // `policy_version`, `decided_side`: the decision table gridwall's own log says decided the read, and the side
  // the firewall took the reader to be on at that moment (NULL for a legacy log).
  await e.run(`CREATE TABLE reads (system VARCHAR, accessed_at TIMESTAMPTZ, user_id VARCHAR, terminal_id VARCHAR, supply_point_id HUGEINT,
    non_public BOOLEAN, outcome VARCHAR, refusal VARCHAR, purpose VARCHAR, emergency_id VARCHAR, screen VARCHAR, policy_version VARCHAR,
    decided_side VARCHAR, reason VARCHAR)`);
}

/** `column` when the file has it, else NULL (optional columns). */
const col = (f: PreparedCsv, name: string) => (f.columns.includes(name) ? `"${name}"` : 'NULL');

/**
 * Loads a file in one parallel pass into `table`: the values parsed once (`parseSql`, columns named p_…),
 * converted (`columnsSql`) and checked (`reasonSql`). DuckDB keeps the file's order on insert, so a row's
 * line is its position in the insert plus two (the header is line 1): rows with a reason are listed in
 * `rejected` with it, and leave the table when the whole load is done.
 */
async function loadTable(
  e: Engine,
  f: PreparedCsv,
  table: string,
  parseSql: string,
  columnsSql: string,
  reasonSql: string,
): Promise<{ read: number; rejected: number }> {
  const [before] = await e.rows<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
  const base = before?.n ?? 0;
  const read = await e.exec(`INSERT INTO ${table} SELECT ${columnsSql}, ${reasonSql} FROM (SELECT *, ${parseSql} FROM ${readCsvSql(f)})`);
  const rejected = await e.exec(
    `INSERT INTO rejected SELECT ${sqlText(f.file)}, rowid - ${base} + 2, reason FROM ${table} WHERE rowid >= ${base} AND reason IS NOT NULL`,
  );
  return { read, rejected };
}

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A quoted value for a reason message: the first 40 characters of what was there. */
const shown = (expr: string) => `'"' || left(coalesce(${expr}, ''), 40) || '"'`;

async function withUtf8Retry<T>(
  file: string,
  required: readonly string[],
  work: string,
  load: (f: PreparedCsv) => Promise<T>,
): Promise<{ f: PreparedCsv; result: T }> {
  const f = await prepareCsv(file, required, work);
  try {
    return { f, result: await load(f) };
  } catch (err) {
    // UTF-8 in the first megabyte, CP932 later on: read it again as CP932.
    if (f.encoding === 'utf-8' && /unicode|utf-?8/i.test(String(err))) {
      const again = await prepareCsv(file, required, work, 'shift_jis');
      return { f: again, result: await load(again) };
    }
    if (err instanceof CsvFileError) throw err;
    throw new CsvFileError(`${file}: cannot be read as CSV (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
}

/**
 * Loads the four kinds of files. Throws CsvFileError (exit 2) for a missing file or column; bad rows are
 * rejected and counted. `onFile` reports progress per file.
 */
export async function loadLegacy(e: Engine, files: LegacyFiles, onFile: (file: string, bytes: number) => void = () => undefined): Promise<InputSummary[]> {
  await createMacros(e);
  await createStandardTables(e);
  const work = mkdtempSync(join(tmpdir(), 'gridwall-csv-'));
  const out: InputSummary[] = [];
  try {
    const staff = await withUtf8Retry(files.staff, ['user_id', 'organization', 'side', 'employment', 'office', 'valid_from'], work, (f) =>
      loadTable(
        e,
        f,
        'staff',
        `gw_start(valid_from) AS p_from, CASE WHEN coalesce(trim(${col(f, 'valid_to')}), '') = '' THEN NULL ELSE gw_end(${col(f, 'valid_to')}) END AS p_to`,
        `trim(user_id), coalesce(nullif(trim(${col(f, 'person_id')}), ''), trim(user_id)), trim(coalesce(organization, '')), lower(trim(side)),
         lower(trim(employment)), trim(coalesce(office, '')), p_from, p_to`,
        `CASE WHEN coalesce(trim(user_id), '') = '' THEN 'user_id is empty'
              WHEN lower(trim(coalesce(side, ''))) NOT IN ('network', 'retail', 'other_retailer') THEN 'side ' || ${shown('side')} || ' is not network, retail or other_retailer'
              WHEN lower(trim(coalesce(employment, ''))) NOT IN ('employee', 'contractor') THEN 'employment ' || ${shown('employment')} || ' is not employee or contractor'
              WHEN p_from IS NULL THEN 'valid_from ' || ${shown('valid_from')} || ' is not a date'
              WHEN coalesce(trim(${col(f, 'valid_to')}), '') <> '' AND p_to IS NULL THEN 'valid_to ' || ${shown(col(f, 'valid_to'))} || ' is not a date'
              WHEN p_to <= p_from THEN 'valid_to is before valid_from' END`,
      ),
    );
    out.push({ file: files.staff, kind: 'staff', encoding: staff.f.encoding, ...staff.result });
    onFile(files.staff, staff.f.bytes);

    if (files.terminals !== null) {
      const terminalsFile = files.terminals;
      const terminals = await withUtf8Retry(terminalsFile, ['terminal_id', 'setting', 'organization', 'office'], work, (f) =>
        loadTable(
          e,
          f,
          'terminals',
          `lower(trim(setting)) AS p_setting, nullif(lower(trim(${col(f, 'kind')})), '') AS p_kind`,
          // Where it stands (site_side) is set below from the side of the people of its organization.
          `trim(terminal_id), p_setting, p_kind, trim(organization), trim(coalesce(office, '')), NULL`,
          `CASE WHEN coalesce(trim(terminal_id), '') = '' THEN 'terminal_id is empty'
              WHEN coalesce(p_setting, '') NOT IN ('network', 'retail') THEN 'setting ' || ${shown('setting')} || ' is not network or retail'
              WHEN coalesce(p_kind, '') NOT IN ('', 'dedicated', 'virtual') THEN 'kind ' || ${shown(col(f, 'kind'))} || ' is not dedicated or virtual' END`,
        ),
      );
      out.push({ file: terminalsFile, kind: 'terminals', encoding: terminals.f.encoding, ...terminals.result });
      onFile(terminalsFile, terminals.f.bytes);
    }

    const contracts = await withUtf8Retry(files.contracts, ['supply_point_id', 'customer_id', 'customer_type', 'retailer_code', 'valid_from'], work, (f) =>
      loadTable(
        e,
        f,
        'contracts',
        `gw_spid(supply_point_id) AS p_id, lower(trim(coalesce(customer_type, ''))) AS p_type, gw_bool(${col(f, 'last_resort')}) AS p_last_resort, gw_start(valid_from) AS p_from,
         CASE WHEN coalesce(trim(${col(f, 'valid_to')}), '') = '' THEN NULL ELSE gw_end(${col(f, 'valid_to')}) END AS p_to`,
        `try_cast(p_id AS HUGEINT), trim(customer_id), p_type, trim(retailer_code), trim(coalesce(${col(f, 'retailer_name')}, '')), p_last_resort, p_from, p_to`,
        `CASE WHEN NOT regexp_full_match(p_id, '(0[1-9]|10)\\d{20}') THEN 'supply_point_id ' || ${shown('supply_point_id')} || ' is not 22 digits starting with an area code 01–10'
              WHEN coalesce(trim(customer_id), '') = '' THEN 'customer_id is empty'
              WHEN p_type NOT IN ('individual', 'corporate') THEN 'customer_type ' || ${shown('customer_type')} || ' is not individual or corporate'
              WHEN coalesce(trim(retailer_code), '') = '' THEN 'retailer_code is empty'
              WHEN p_last_resort IS NULL THEN 'last_resort ' || ${shown(col(f, 'last_resort'))} || ' is not true/false, 1/0 or yes/no'
              WHEN p_from IS NULL THEN 'valid_from ' || ${shown('valid_from')} || ' is not a date'
              WHEN coalesce(trim(${col(f, 'valid_to')}), '') <> '' AND p_to IS NULL THEN 'valid_to ' || ${shown(col(f, 'valid_to'))} || ' is not a date'
              WHEN p_to <= p_from THEN 'valid_to is before valid_from' END`,
      ),
    );
    out.push({ file: files.contracts, kind: 'contracts', encoding: contracts.f.encoding, ...contracts.result });
    onFile(files.contracts, contracts.f.bytes);

    for (const file of files.logs) {
      await e.run(`INSERT INTO log_files VALUES (${sqlText(file)})`);
      const log = await withUtf8Retry(file, ['accessed_at', 'system', 'user_id', 'terminal_id', 'supply_point_id'], work, (f) =>
        loadTable(
          e,
          f,
          'reads',
          `gw_time(accessed_at) AS p_at, gw_spid(supply_point_id) AS p_id`,
          // A view of non-public information: the whole record (no field list), or any field that is not
          // public. An unknown field key counts as non-public: what is not classified is never public. The
          // common lists are answered without splitting them.
          `trim(system), p_at, trim(user_id), nullif(trim(coalesce(terminal_id, '')), ''), try_cast(p_id AS HUGEINT),
           CASE WHEN coalesce(trim(${col(f, 'fields')}), '') = '' THEN true
                WHEN trim(${col(f, 'fields')}) IN ('supply_point_id;address', 'address;supply_point_id', 'supply_point_id', 'address') THEN false
                ELSE len(list_filter(string_split(trim(${col(f, 'fields')}), ';'), x -> trim(x) NOT IN ('', 'supply_point_id', 'address'))) > 0 END,
           'served', NULL, NULL, NULL, nullif(trim(coalesce(${col(f, 'screen')}, '')), ''), NULL, NULL`,
          `CASE WHEN p_at IS NULL THEN 'accessed_at ' || ${shown('accessed_at')} || ' is not a date and time'
                WHEN coalesce(trim(system), '') = '' THEN 'system is empty'
                WHEN coalesce(trim(user_id), '') = '' THEN 'user_id is empty'
                WHEN NOT regexp_full_match(p_id, '(0[1-9]|10)\\d{20}') THEN 'supply_point_id ' || ${shown('supply_point_id')} || ' is not 22 digits starting with an area code 01–10' END`,
        ),
      );
      out.push({ file, kind: 'log', encoding: log.f.encoding, ...log.result });
      onFile(file, log.f.bytes);
    }
    // The rows that cannot be used are listed in `rejected`; now they leave the tables.
    for (const t of ['staff', 'terminals', 'contracts', 'reads']) await e.run(`DELETE FROM ${t} WHERE reason IS NOT NULL`);
    await e.run(
      `UPDATE terminals t SET site_side = s.side FROM (SELECT organization, mode(side) AS side FROM staff GROUP BY organization) s WHERE s.organization = t.organization`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}
