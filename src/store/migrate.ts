import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { syncPermissionCatalog } from './permission-catalog.ts';
import type { Db, Queryable } from './db.ts';
import { inputRefusal } from '../domain/refusal.ts';

const DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** The schema is behind this gridwall and the connected role cannot bring it up to date (exit 2). */
export class SchemaVersionError extends inputRefusal('schema_version') {}

/** The migrations this gridwall carries, in order (file names without `.sql`). */
export function migrationVersions(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => f.replace(/\.sql$/, ''));
}

export interface SchemaStatus {
  /** The schema gridwall's tables live in (the first existing schema of the search path). */
  readonly schema: string | null;
  readonly applied: readonly string[];
  /** Migrations of this gridwall not yet applied, in order. */
  readonly pending: readonly string[];
}

/** Where the connected database's schema stands, found without DDL (an application role may ask). */
export async function schemaStatus(q: Queryable): Promise<SchemaStatus> {
  const { rows } = await q.query<{ schema: string | null; present: boolean }>(
    `SELECT current_schema() AS schema, current_schema() IS NOT NULL AND to_regclass(quote_ident(current_schema()) || '.schema_migrations') IS NOT NULL AS present`,
  );
  const schema = rows[0]?.schema ?? null;
  const applied =
    rows[0]?.present === true ? (await q.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version) : [];
  const done = new Set(applied);
  return { schema, applied, pending: migrationVersions().filter((v) => !done.has(v)) };
}

function behind(status: SchemaStatus, cause: string): SchemaVersionError {
  const at =
    status.applied.length === 0
      ? `empty (no gridwall tables in schema ${status.schema ?? '(none: the search path names no existing schema)'})`
      : `at version ${status.applied[status.applied.length - 1]}`;
  const needs = migrationVersions().at(-1) ?? '(none)';
  return new SchemaVersionError(`the database schema is ${at}; this gridwall needs ${needs}: run \`gridwall db migrate\` as the schema's owner (${cause})`);
}

/**
 * Applies the SQL files in migrations/ in name order, each once, each in its own transaction, and returns the
 * versions it applied. The same files run on PGlite and on a PostgreSQL server; an advisory lock keeps two
 * starting servers apart. When nothing is pending it runs no DDL at all, so the application role (which may
 * not create anything) opens an up-to-date store; when something is pending and the connected role may not
 * apply it, SchemaVersionError says what to do.
 */
export async function migrate(db: Db): Promise<string[]> {
  const status = await schemaStatus(db);
  const applied: string[] = [];
  if (status.pending.length > 0) {
    try {
      await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const version of status.pending) {
        const done = await db.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock(7152016)');
          const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
          if (seen.rows.length > 0) return false;
          await tx.exec(readFileSync(`${DIR}${version}.sql`, 'utf8'));
          await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
          return true;
        });
        if (done) applied.push(version);
      }
    } catch (e) {
      // 42501 insufficient_privilege: no CREATE on the schema, not the owner of a table, …
      if ((e as { code?: unknown }).code === '42501') throw behind(await schemaStatus(db).catch(() => status), (e as Error).message);
      throw e;
    }
  }
  // Reference data owned by the code, kept in step on every start (it writes only what differs).
  await syncPermissionCatalog(db);
  return applied;
}
