import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { syncPermissionCatalog } from '../governance/permissions.ts';
import type { Db } from './db.ts';

const DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Applies the SQL files in migrations/ in name order, each once, each in its own transaction. The same
 * files run on PGlite and on a PostgreSQL server; an advisory lock keeps two starting servers apart.
 */
export async function migrate(db: Db): Promise<string[]> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const files = readdirSync(DIR).filter((f) => f.endsWith('.sql')).sort();
  const applied: string[] = [];
  for (const file of files) {
    const version = file.replace(/\.sql$/, '');
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(7152016)');
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
      if (seen.rows.length > 0) return false;
      await tx.exec(readFileSync(`${DIR}${file}`, 'utf8'));
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      return true;
    });
    if (done) applied.push(version);
  }
  // Reference data owned by the code, kept in step on every start.
  await syncPermissionCatalog(db);
  return applied;
}
