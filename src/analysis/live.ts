import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from './duck.ts';
import { createMacros, createStandardTables } from './legacy-load.ts';
import { loadLogReads, type ArchiveUse, type LogSource } from './log-archive.ts';

/**
 * Fills the analysis engine's standard tables from gridwall's own store for a period, so the report and
 * the anomaly rules that serve legacy exports serve the live log too: staff from the staff register, the
 * terminal registry (where each stands is recorded, not inferred), contracts, and one read per supply point
 * of each access-log event (a refused event with none is one read without a point).
 */

const PAGE = 20_000;

async function append(e: Engine, table: string, rows: AsyncIterable<readonly (string | null)[]>): Promise<number> {
  const appender = await e.conn.createAppender(table);
  let n = 0;
  for await (const row of rows) {
    for (const v of row) {
      if (v === null) appender.appendNull();
      else appender.appendVarchar(v);
    }
    appender.endRow();
    n++;
  }
  appender.closeSync();
  return n;
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

export interface LiveLoadOptions {
  /** The Parquet archive of closed months (GRIDWALL_ANALYSIS_ARCHIVE_DIR); unset: every month from the database. */
  readonly archiveDir?: string;
}

export async function loadLive(e: Engine, q: LogSource, period: { start: Date; end: Date }, opts: LiveLoadOptions = {}): Promise<ArchiveUse> {
  await createMacros(e);
  await createStandardTables(e);
  await e.run(
    `CREATE TEMP TABLE s_staff (user_id VARCHAR, person_id VARCHAR, organization VARCHAR, side VARCHAR, employment VARCHAR, office VARCHAR, valid_from VARCHAR, valid_to VARCHAR)`,
  );
  const staff = await q.query<Record<string, unknown>>(
    `SELECT a.user_id, s.person_id, o.name AS organization, s.side, s.employment, s.office, s.valid_from, s.valid_to
       FROM accounts a JOIN staff_assignments s ON s.person_id = a.person_id JOIN organizations o ON o.id = s.organization_id`,
  );
  await append(
    e,
    's_staff',
    (async function* () {
      for (const r of staff.rows)
        yield [
          String(r['user_id']),
          String(r['person_id']),
          String(r['organization']),
          String(r['side']),
          String(r['employment']),
          String(r['office']),
          iso(r['valid_from']),
          iso(r['valid_to']),
        ];
    })(),
  );
  await e.run(
    `INSERT INTO staff SELECT user_id, person_id, organization, side, employment, office, valid_from::TIMESTAMPTZ, valid_to::TIMESTAMPTZ, NULL FROM s_staff`,
  );

  const terminals = await q.query<Record<string, unknown>>(
    `SELECT t.id, t.setting, t.kind, o.name AS organization, t.office, t.site_side FROM terminals t JOIN organizations o ON o.id = t.organization_id WHERE t.retired_at IS NULL`,
  );
  await e.run(`CREATE TEMP TABLE s_terminals (terminal_id VARCHAR, setting VARCHAR, kind VARCHAR, organization VARCHAR, office VARCHAR, site_side VARCHAR)`);
  await append(
    e,
    's_terminals',
    (async function* () {
      for (const r of terminals.rows)
        yield [String(r['id']), String(r['setting']), String(r['kind']), String(r['organization']), String(r['office']), String(r['site_side'])];
    })(),
  );
  await e.run(`INSERT INTO terminals SELECT *, NULL FROM s_terminals`);

  // The reads: closed months from the Parquet archive (exported once), the open one from the database.
  const work = mkdtempSync(join(tmpdir(), 'gridwall-live-'));
  let use: ArchiveUse;
  try {
    use = await loadLogReads(e, q, period, opts.archiveDir ?? null, work);
    // A search by a customer's name or number that found nothing is counted with the refusals: guessing
    // names and numbers until one hits is probing, whether or not the firewall had anything to refuse.
    await e.run(`INSERT INTO reads SELECT 'gridwall', occurred_at, user_id, terminal_id, supply_point_id::HUGEINT,
        outcome = 'served' AND coalesce(non_public, false),
        CASE WHEN missed THEN 'refused' ELSE outcome END, CASE WHEN missed THEN 'no_match' ELSE refusal END, purpose, emergency_id, NULL, policy_version, side, NULL
      FROM (SELECT *, outcome = 'served' AND records = 0 AND coalesce(searched_by IN ('holder_name', 'phone'), false) AS missed FROM log_reads)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  // Contracts of the supply points read in the period only (the store may hold millions), asked for by ID.
  await e.run(
    `CREATE TEMP TABLE s_contracts (supply_point_id VARCHAR, customer_id VARCHAR, customer_type VARCHAR, retailer_code VARCHAR, retailer_name VARCHAR, last_resort VARCHAR, valid_from VARCHAR, valid_to VARCHAR)`,
  );
  const points = (
    await e.rows<{ id: string }>(`SELECT DISTINCT lpad(supply_point_id::VARCHAR, 22, '0') AS id FROM reads WHERE supply_point_id IS NOT NULL`)
  ).map((r) => r.id);
  await append(
    e,
    's_contracts',
    (async function* () {
      for (let i = 0; i < points.length; i += PAGE) {
        const { rows } = await q.query<Record<string, unknown>>(
          `SELECT c.supply_point_id, c.customer_id, cu.type, c.retailer_code, r.name, c.last_resort, c.valid_from, c.valid_to
             FROM contracts c JOIN customers cu ON cu.id = c.customer_id JOIN retailers r ON r.code = c.retailer_code
            WHERE c.supply_point_id = ANY($1::text[])`,
          [points.slice(i, i + PAGE)],
        );
        for (const r of rows)
          yield [
            String(r['supply_point_id']),
            String(r['customer_id']),
            String(r['type']),
            String(r['retailer_code']),
            String(r['name']),
            String(r['last_resort']),
            iso(r['valid_from']),
            iso(r['valid_to']),
          ];
      }
    })(),
  );
  await e.run(
    `INSERT INTO contracts SELECT supply_point_id::HUGEINT, customer_id, customer_type, retailer_code, retailer_name, last_resort::BOOLEAN, valid_from::TIMESTAMPTZ, valid_to::TIMESTAMPTZ, NULL FROM s_contracts`,
  );
  await e.run('DROP TABLE s_staff; DROP TABLE s_terminals; DROP TABLE s_contracts');
  return use;
}
