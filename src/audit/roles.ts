import type { Db, Queryable } from '../store/db.ts';
import { inputRefusal } from '../domain/refusal.ts';

const ROLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export class RoleNameError extends inputRefusal('bad_role_name') {}

/** Throws RoleNameError unless `name` is a plain lower-case identifier (it is spliced into GRANT statements). */
export function checkRoleName(name: string, what: 'role' | 'schema' = 'role'): string {
  if (!ROLE_RE.test(name))
    throw new RoleNameError(`${what} name ${JSON.stringify(name)}: use lower-case letters, digits and _ (at most 63, not starting with a digit)`);
  return name;
}

/**
 * The tables the server writes, and how. Every other table in the schema — the customer master data (loaded by
 * `gridwall demo` or an import, as the owner), the access log with its partitions, head, keys, checkpoints,
 * seals and archives, and schema_migrations — the application role may only read. Found by grepping the
 * server's INSERT / UPDATE / DELETE; test/audit/app-role.test.ts checks that every table of a migrated
 * schema is either here or read-only on purpose, so a new table is a decision, not an accident.
 */
export const APP_WRITES: Readonly<Record<string, readonly ('INSERT' | 'UPDATE' | 'DELETE')[]>> = {
  sessions: ['INSERT', 'UPDATE', 'DELETE'],
  accounts: ['INSERT', 'UPDATE', 'DELETE'],
  persons: ['INSERT', 'UPDATE', 'DELETE'],
  staff_assignments: ['INSERT', 'UPDATE', 'DELETE'],
  terminals: ['INSERT', 'UPDATE', 'DELETE'],
  grants: ['INSERT', 'UPDATE', 'DELETE'],
  recert_campaigns: ['INSERT', 'UPDATE', 'DELETE'],
  recert_items: ['INSERT', 'UPDATE', 'DELETE'],
  api_tokens: ['INSERT', 'UPDATE', 'DELETE'],
  oidc_logins: ['INSERT', 'UPDATE', 'DELETE'],
  terminal_devices: ['INSERT', 'UPDATE'],
  terminal_enrollment_codes: ['INSERT', 'UPDATE'],
  terminal_requests: ['INSERT', 'UPDATE'],
  // Each person's non-public reads per day and how far the log is counted (issue 20: bulk reading judged live).
  reading_days: ['INSERT', 'UPDATE', 'DELETE'],
  reading_tally: ['INSERT', 'UPDATE'],
  emergency_declarations: ['INSERT', 'UPDATE', 'DELETE'],
  emergency_areas: ['INSERT', 'UPDATE', 'DELETE'],
  emergency_support_staff: ['INSERT', 'UPDATE', 'DELETE'],
  findings: ['INSERT', 'UPDATE', 'DELETE'],
  analysis_digests: ['INSERT', 'UPDATE', 'DELETE'],
  // One open finding per rule and subject, the periods scans queued, and the alerts with their deliveries (issue 20).
  finding_periods: ['INSERT'],
  alert_outbox: ['INSERT', 'UPDATE'],
  alert_deliveries: ['INSERT', 'UPDATE'],
  inquiries: ['INSERT', 'UPDATE'],
  inquiry_events: ['INSERT'],
  notifications: ['INSERT', 'UPDATE'],
  // Login attempts counted for every server process together (issue 21).
  rate_limit_windows: ['INSERT', 'UPDATE', 'DELETE'],
  // The permission catalog is reference data owned by the code, brought in step at start (migrate.ts).
  permissions: ['INSERT', 'UPDATE', 'DELETE'],
  // Append-only by trigger; the server only ever adds to it.
  governance_events: ['INSERT'],
  // Each decision table the server runs, recorded at start (append-only by trigger; issue 22).
  policy_versions: ['INSERT'],
};

/** Tables the application role reads and never writes (besides the customer master data). */
export const READ_ONLY_TABLES: readonly string[] = [
  'access_log',
  'access_log_unchained',
  'access_log_head',
  'access_log_keys',
  'access_log_checkpoints',
  'access_log_seals',
  'access_log_archives',
  'schema_migrations',
  'settings',
  'retailers',
  'organizations',
  'contractor_engagements',
  'customers',
  'supply_points',
  'contracts',
];

/**
 * The only ways the application role writes the access log: the writer's SECURITY DEFINER functions, which check
 * the link. Of the log's keys it registers only the first, its own, on an empty log (access_log_add_first_key);
 * access_log_add_key, which registers any key, is the owner's (`gridwall audit key register`).
 */
export const LOG_FUNCTIONS: readonly string[] = [
  'access_log_append(bigint, text, jsonb, jsonb)',
  'access_log_seal_existing(jsonb)',
  'access_log_add_first_key(text, text, timestamptz)',
  'access_log_ensure_partition(timestamptz)',
  // A writer that lost the race for the head takes it for its transaction (issue 21, migration 019).
  'access_log_take_head()',
];

/**
 * The rights of the role the server connects as on a PostgreSQL server (issue 15): it reads every table, writes
 * the application's own tables (APP_WRITES), uses their sequences, and writes the access log only by calling
 * LOG_FUNCTIONS. It gets no INSERT, UPDATE, DELETE or TRUNCATE on the log, its partitions (present or future:
 * access_log_ensure_partition creates them as its owner, whose default privileges give the role SELECT on new
 * tables of the schema and nothing else), its head, keys, checkpoints, seals or archives, and no right to create
 * anything. Run
 * as the schema's owner, after `gridwall db migrate`. Idempotent: everything the role held in the schema is
 * revoked first, so an older `grant-writer` role loses its direct INSERT on the log.
 */
export function appRoleGrants(role: string, schema: string): string {
  checkRoleName(role);
  checkRoleName(schema, 'schema');
  const lit = (s: string) => `'${s}'`; // both names match ROLE_RE: no quote can occur
  const written = Object.keys(APP_WRITES);
  const writes = Object.entries(APP_WRITES)
    .map(([table, privs]) => `GRANT ${privs.join(', ')} ON ${schema}.${table} TO ${role};`)
    .join('\n');
  return `
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${lit(role)}) THEN CREATE ROLE ${role} NOLOGIN; END IF;
END $$;
REVOKE ALL ON SCHEMA ${schema} FROM ${role};
GRANT USAGE ON SCHEMA ${schema} TO ${role};
REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${role};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${role};
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${schema} FROM ${role};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} REVOKE ALL ON TABLES FROM ${role};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} REVOKE ALL ON SEQUENCES FROM ${role};
-- Partitions made later by access_log_ensure_partition belong to the function's owner: the role may read them
-- (the partition list counts each one) and nothing more.
DO $$ DECLARE o text; BEGIN
  SELECT pg_get_userbyid(p.proowner) INTO o FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = ${lit(schema)} AND p.proname = 'access_log_ensure_partition';
  IF o IS NOT NULL THEN
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON TABLES FROM %I', o, ${lit(schema)}, ${lit(role)});
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM %I', o, ${lit(schema)}, ${lit(role)});
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON TABLES TO %I', o, ${lit(schema)}, ${lit(role)});
  END IF;
END $$;
GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role};
${writes}
-- Sequences: those of the tables the role writes, and free-standing ones (the emergency declaration number);
-- never those of the log's tables.
DO $$ DECLARE s record; BEGIN
  FOR s IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ${lit(schema)} AND c.relkind = 'S'
       AND NOT EXISTS (
         SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
            AND t.relname <> ALL (ARRAY[${written.map(lit).join(', ')}]))
  LOOP
    EXECUTE format('GRANT USAGE ON SEQUENCE %I.%I TO %I', ${lit(schema)}, s.relname, ${lit(role)});
  END LOOP;
END $$;
${LOG_FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION ${schema}.${f} TO ${role};`).join('\n')}
`;
}

/**
 * Applies appRoleGrants (the caller must own the schema's tables and may create roles). Refuses a role that
 * owns the tables or is a superuser: revoking its rights would strip the owner, and such a role could switch
 * the append-only triggers off anyway.
 */
export async function grantAppRole(q: Queryable, role: string, schema: string): Promise<void> {
  const sql = appRoleGrants(role, schema);
  const { rows } = await q.query<{ privileged: boolean }>(
    `SELECT r.rolsuper OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                   WHERE n.nspname = $2 AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS privileged
       FROM pg_roles r WHERE r.rolname = $1`,
    [role, schema],
  );
  if (rows[0]?.privileged === true)
    throw new RoleNameError(`role ${role} owns tables in schema ${schema} (or is a superuser): the application role must be another role`);
  await q.exec(sql);
}

/**
 * The start-up warning (PostgreSQL only): a server connected as the role that owns the access log (or as a
 * superuser) could switch its append-only triggers off. Null when the role is an application role.
 */
export async function privilegedRoleWarning(db: Db): Promise<string | null> {
  if (db.kind !== 'postgres') return null;
  const { rows } = await db.query<{ me: string; superuser: boolean; owner: boolean; table_owner: string | null }>(
    `SELECT current_user AS me, r.rolsuper AS superuser, c.oid IS NOT NULL AND pg_has_role(current_user, c.relowner, 'MEMBER') AS owner,
            pg_get_userbyid(c.relowner) AS table_owner
       FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('access_log')
      WHERE r.rolname = current_user`,
  );
  const r = rows[0];
  if (r === undefined || (!r.superuser && !r.owner)) return null;
  const why = r.superuser
    ? `is a superuser`
    : r.me === r.table_owner
      ? 'owns the access log'
      : `is a member of ${r.table_owner ?? 'the role'} that owns the access log`;
  return (
    `warning: connected to PostgreSQL as ${r.me}, which ${why}: it can switch the log's append-only triggers off. ` +
    'In production, migrate as the owner (`gridwall db migrate`) and run the server as a role made by `gridwall db grant-app ROLE`.'
  );
}

/** Says privilegedRoleWarning's warning, if any (the one call the server makes after opening its store). */
export async function warnIfPrivilegedRole(db: Db, say: (line: string) => void): Promise<void> {
  const w = await privilegedRoleWarning(db);
  if (w !== null) say(w);
}
