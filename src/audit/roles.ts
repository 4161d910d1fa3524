import type { Queryable } from '../store/db.ts';

const ROLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export class RoleNameError extends Error {
  readonly code = 'bad_role_name';
}

/**
 * Least privilege for the role the application connects with (PostgreSQL server): it may append to the
 * access log and read it, move the chain's head, add checkpoints and keys — and never UPDATE, DELETE or
 * TRUNCATE log rows, checkpoints or keys. The append-only triggers hold as well, even for the owner.
 * Customer and identity tables get the plain rights the application needs. Idempotent.
 */
export function logWriterGrants(role: string, schema: string): string {
  if (!ROLE_RE.test(role)) throw new RoleNameError(`role name ${JSON.stringify(role)}: use lower-case letters, digits and _`);
  if (!ROLE_RE.test(schema)) throw new RoleNameError(`schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`);
  return `
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF;
END $$;
GRANT USAGE ON SCHEMA ${schema} TO ${role};
REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${role};
GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role};
GRANT INSERT, UPDATE, DELETE ON ${schema}.sessions, ${schema}.accounts, ${schema}.settings TO ${role};
GRANT INSERT ON ${schema}.access_log, ${schema}.access_log_checkpoints, ${schema}.access_log_keys TO ${role};
GRANT UPDATE ON ${schema}.access_log_head TO ${role};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role};
GRANT EXECUTE ON FUNCTION ${schema}.access_log_ensure_partition(timestamptz) TO ${role};
`;
}

/** Applies the grants (the caller must be allowed to create roles and grant on the schema). */
export async function grantLogWriter(q: Queryable, role: string, schema: string): Promise<void> {
  await q.exec(logWriterGrants(role, schema));
}
