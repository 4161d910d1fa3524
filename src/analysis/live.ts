import type { Queryable } from '../store/db.ts';
import { showsNonPublic } from '../domain/reading-baseline.ts';
import type { Engine } from './duck.ts';
import { createMacros, createStandardTables } from './legacy-load.ts';

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

async function* paged<R extends Record<string, unknown>>(q: Queryable, sql: string, params: readonly unknown[], key: (r: R) => string): AsyncGenerator<R> {
  let after = '0';
  for (;;) {
    const { rows } = await q.query<R>(`${sql} LIMIT ${PAGE}`, [...params, after]);
    yield* rows;
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || last === undefined) return;
    after = key(last);
  }
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

export async function loadLive(e: Engine, q: Queryable, period: { start: Date; end: Date }): Promise<void> {
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

  // Contracts of the supply points read in the period only: the store may hold millions.
  await e.run(
    `CREATE TEMP TABLE s_contracts (supply_point_id VARCHAR, customer_id VARCHAR, customer_type VARCHAR, retailer_code VARCHAR, retailer_name VARCHAR, last_resort VARCHAR, valid_from VARCHAR, valid_to VARCHAR)`,
  );
  await append(
    e,
    's_contracts',
    (async function* () {
      for await (const r of paged<Record<string, unknown>>(
        q,
        `SELECT c.id AS k, c.supply_point_id, c.customer_id, cu.type, c.retailer_code, r.name, c.last_resort, c.valid_from, c.valid_to
           FROM contracts c JOIN customers cu ON cu.id = c.customer_id JOIN retailers r ON r.code = c.retailer_code
          WHERE c.supply_point_id IN (SELECT DISTINCT unnest(supply_point_ids) FROM access_log WHERE occurred_at >= $1 AND occurred_at < $2)
            AND c.id > $3::bigint ORDER BY c.id`,
        [period.start, period.end],
        (r) => String(r['k']),
      )) {
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

  await e.run(
    `CREATE TEMP TABLE s_reads (accessed_at VARCHAR, user_id VARCHAR, terminal_id VARCHAR, supply_point_id VARCHAR, non_public VARCHAR, outcome VARCHAR, refusal VARCHAR, purpose VARCHAR, emergency_id VARCHAR)`,
  );
  await append(
    e,
    's_reads',
    (async function* () {
      for await (const ev of paged<Record<string, unknown>>(
        q,
        `SELECT id AS k, occurred_at, coalesce(user_id, person_id) AS user_id, terminal_id, outcome, refusal, purpose, emergency_id, records, query->>'by' AS searched_by
           FROM access_log WHERE occurred_at >= $1 AND occurred_at < $2 AND id > $3::bigint ORDER BY id`,
        [period.start, period.end],
        (r) => String(r['k']),
      )) {
        const records = (typeof ev['records'] === 'string' ? JSON.parse(ev['records']) : ev['records']) as { supplyPointId: string; shown: string[] }[];
        const base = [iso(ev['occurred_at']), String(ev['user_id'])] as const;
        // A search by a customer's name or number that found nothing is counted with the refusals: guessing
        // names and numbers until one hits is probing, whether or not the firewall had anything to refuse.
        const missed = ev['outcome'] === 'served' && records.length === 0 && (ev['searched_by'] === 'holder_name' || ev['searched_by'] === 'phone');
        const rest = [
          missed ? 'refused' : String(ev['outcome']),
          missed ? 'no_match' : ((ev['refusal'] as string | null) ?? null),
          String(ev['purpose']),
          (ev['emergency_id'] as string | null) ?? null,
        ] as const;
        const terminal = (ev['terminal_id'] as string | null) ?? null;
        if (records.length === 0) yield [...base, terminal, null, 'false', ...rest];
        for (const r of records) yield [...base, terminal, r.supplyPointId, String(ev['outcome'] === 'served' && showsNonPublic(r.shown)), ...rest];
      }
    })(),
  );
  await e.run(
    `INSERT INTO reads SELECT 'gridwall', accessed_at::TIMESTAMPTZ, user_id, terminal_id, supply_point_id::HUGEINT, non_public::BOOLEAN, outcome, refusal, purpose, emergency_id, NULL FROM s_reads`,
  );
  await e.run('DROP TABLE s_staff; DROP TABLE s_terminals; DROP TABLE s_contracts; DROP TABLE s_reads');
}
