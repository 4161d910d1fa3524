import { checkRoleName, grantAppRole } from '../audit/roles.ts';
import type { Config } from '../config.ts';
import type { Db } from '../store/db.ts';
import { migrate, schemaStatus } from '../store/migrate.ts';
import { openPglite } from '../store/pglite.ts';
import { openPostgres } from '../store/postgres.ts';
import { EXIT, UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/** Opens the store without migrating it (the db commands decide what to run). */
async function openBare(config: Config): Promise<Db> {
  return config.store.kind === 'postgres' ? openPostgres(config.store.url, { poolSize: 2 }) : openPglite(config.store.dataDir);
}

/** `gridwall db migrate`: applies the pending migrations as the connected role and says which. */
export async function runDbMigrate(config: Config, io: CliIo): Promise<number> {
  const db = await openBare(config);
  try {
    const applied = await migrate(db);
    const status = await schemaStatus(db);
    const where = config.store.kind === 'postgres' ? `schema ${status.schema ?? '?'}` : `the embedded store in ${config.store.dataDir}`;
    for (const v of applied) io.stdout.write(`db: applied ${v}\n`);
    io.stdout.write(
      applied.length === 0
        ? `db: ${where} is up to date (${status.applied.at(-1) ?? 'no migrations'}); nothing applied\n`
        : `db: ${where} is now at ${status.applied.at(-1) ?? '?'} (${applied.length} migration(s) applied)\n`,
    );
  } finally {
    await db.close();
  }
  return EXIT.ok;
}

/** `gridwall db grant-app ROLE` (and the deprecated `grant-writer`): the role the server connects as. */
export async function runDbGrantApp(config: Config, role: string, io: CliIo): Promise<number> {
  checkRoleName(role);
  if (config.store.kind !== 'postgres') {
    throw new UsageError('grant-app is for a PostgreSQL server (set DATABASE_URL); the embedded store has no roles: the server is its only user');
  }
  const db = await openBare(config);
  try {
    const status = await schemaStatus(db);
    if (status.schema === null)
      throw new UsageError('the search path names no existing schema: set it in DATABASE_URL (options=-c search_path=…) or create the schema');
    if (status.pending.length > 0) {
      throw new UsageError(
        `schema ${status.schema} has pending migrations (${status.pending.join(', ')}): run \`gridwall db migrate\` as the schema's owner first`,
      );
    }
    await grantAppRole(db, role, status.schema);
    io.stderr.write(
      `db: role ${role} may now read gridwall's tables in schema ${status.schema}, write the application's own, and write the access log only through its functions (never change it).\n` +
        `db: give it LOGIN to connect as it — ALTER ROLE ${role} LOGIN PASSWORD '…'; (or GRANT ${role} TO a login role) — and start the server with DATABASE_URL naming ${role}.\n`,
    );
  } finally {
    await db.close();
  }
  return EXIT.ok;
}
