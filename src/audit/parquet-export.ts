import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Queryable } from '../store/db.ts';
import { eventColumns } from './access-event.ts';
import { seqRange } from './export.ts';
import { readLinks } from './log-reader.ts';

/** Column types of the Parquet file: one row per event, its supply points as a JSON column. */
const COLUMNS = {
  seq: 'BIGINT',
  occurred_at: 'TIMESTAMPTZ',
  request_id: 'VARCHAR',
  person_id: 'VARCHAR',
  user_id: 'VARCHAR',
  session_id: 'VARCHAR',
  principal_class: 'VARCHAR',
  side: 'VARCHAR',
  organization_id: 'VARCHAR',
  employment: 'VARCHAR',
  office: 'VARCHAR',
  terminal_id: 'VARCHAR',
  route: 'VARCHAR',
  purpose: 'VARCHAR',
  outcome: 'VARCHAR',
  refusal: 'VARCHAR',
  query: 'JSON',
  supply_point_ids: 'VARCHAR[]',
  records: 'JSON',
  policy_version: 'VARCHAR',
  emergency_id: 'VARCHAR',
  prev_hash: 'VARCHAR',
  hash: 'VARCHAR',
} as const;

/**
 * A period of the log as Parquet, for bulk analysis in DuckDB (or any Parquet reader). The events are
 * streamed to a temporary JSON Lines file and DuckDB writes the Parquet file from it, so memory stays flat.
 * Parquet is for analysis; the JSON Lines export is the one that verifies on its own.
 */
export async function exportParquet(q: Queryable, outPath: string, period: { from: Date | null; to: Date | null }): Promise<{ events: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-parquet-'));
  try {
    const tmp = join(dir, 'events.jsonl');
    const out = createWriteStream(tmp);
    let events = 0;
    const range = await seqRange(q, period.from, period.to);
    if (range !== null) {
      for await (const { event: e, link } of readLinks(q, range)) {
        // The event's columns between its number and its links, the order the export has always had.
        const line = { seq: link.seq, ...eventColumns(e), prev_hash: link.prevHash, hash: link.hash };
        if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        events++;
      }
    }
    out.end();
    await finished(out);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    // No extension is ever downloaded: this machine class has no network, and evidence tools should not fetch code.
    const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const conn = await instance.connect();
    try {
      const columns = `{${Object.entries(COLUMNS)
        .map(([k, t]) => `'${k}': '${t}'`)
        .join(', ')}}`;
      const quoted = (p: string) => `'${p.replace(/'/g, "''")}'`;
      await conn.run(
        `COPY (SELECT * FROM read_json(${quoted(tmp)}, format = 'newline_delimited', columns = ${columns})) TO ${quoted(outPath)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    return { events };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
