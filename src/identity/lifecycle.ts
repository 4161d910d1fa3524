import { DAY_MS } from '../domain/japan-time.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import { dateOrNull, type Db, type Queryable } from '../store/db.ts';

/**
 * Account lifecycle checks (F2: login IDs from before unbundling kept working for years). Dormant accounts —
 * no login for N days — are disabled; accounts with no person behind them (no staff assignment in force,
 * or the person has left) are reported, and disabled when asked.
 */
export interface AccountRow {
  readonly userId: string;
  readonly personId: string;
  readonly personName: string;
  readonly createdAt: Date;
  readonly lastLoginAt: Date | null;
  readonly disabledAt: Date | null;
  readonly disabledReason: string | null;
  readonly provisionedBy: string;
  /** The person's assignment in force: organization, side, duty; null when there is none. */
  readonly assignment: { organizationId: string; organizationName: string; side: string; duty: string; office: string; employment: string } | null;
  /** Approved grants of the account (in force or not). */
  readonly grants: number;
  readonly dormant: boolean;
  /** Enabled, but no assignment in force: nobody the firewall could attribute a read to. */
  readonly orphan: boolean;
}

/** No login for this many days makes an account dormant (F2), unless configured otherwise. */
export const DEFAULT_DORMANT_DAYS = 90;

/**
 * Why an account may not log in now: dormant (no login for `dormantDays`) or with no person behind it (no
 * assignment in force: a leaver's or a legacy ID). The same test the sweep applies, read at the instant of
 * the login, so an account the sweep would disable never opens a session in the meantime (issue 14: a leaver's
 * account logged in, and a dormant one logged in and so stopped being dormant). Null when it may.
 */
export async function loginStanding(q: Queryable, userId: string, at: Date, dormantDays: number): Promise<'dormant_account' | 'account_without_person' | null> {
  const [a] = await listAccounts(q, at, dormantDays, { userId });
  if (a === undefined) return null; // unknown or not a person's account: refused further on, as such
  return a.dormant ? 'dormant_account' : a.orphan ? 'account_without_person' : null;
}

export async function listAccounts(
  q: Queryable,
  at: Date,
  dormantDays: number,
  filter: { search?: string; userId?: string; limit?: number; offset?: number } = {},
): Promise<AccountRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT a.user_id, a.kind, a.person_id, p.name AS person_name, a.created_at, a.last_login_at, a.reenabled_at, a.disabled_at, a.disabled_reason, a.provisioned_by,
            s.organization_id, o.name AS organization_name, s.side, s.duty, s.office, s.employment,
            (SELECT count(*) FROM grants g WHERE g.user_id = a.user_id AND g.status = 'approved') AS grants
       FROM accounts a JOIN persons p ON p.id = a.person_id
       LEFT JOIN LATERAL (SELECT * FROM staff_assignments s WHERE s.person_id = a.person_id AND s.valid_from <= $1 AND (s.valid_to IS NULL OR s.valid_to > $1) LIMIT 1) s ON true
       LEFT JOIN organizations o ON o.id = s.organization_id
      WHERE ($2::text IS NULL OR a.user_id ILIKE '%' || $2 || '%' OR p.name ILIKE '%' || $2 || '%') AND ($5::text IS NULL OR a.user_id = $5)
      ORDER BY a.user_id LIMIT $3 OFFSET $4`,
    [at, filter.search ?? null, filter.limit ?? 500, filter.offset ?? 0, filter.userId ?? null],
  );
  const cutoff = at.getTime() - dormantDays * DAY_MS;
  return rows.map((r) => {
    const disabled = r['disabled_at'] !== null && new Date(r['disabled_at'] as string).getTime() <= at.getTime();
    // The last sign of life: a login, the account's creation, or its re-enabling when the person rejoined.
    const seen = Math.max(
      ...[r['last_login_at'], r['created_at'], r['reenabled_at']].filter((v) => v !== null && v !== undefined).map((v) => new Date(v as string).getTime()),
    );
    return {
      userId: String(r['user_id']),
      personId: String(r['person_id']),
      personName: String(r['person_name']),
      createdAt: new Date(r['created_at'] as string),
      lastLoginAt: dateOrNull(r['last_login_at']),
      disabledAt: dateOrNull(r['disabled_at']),
      disabledReason: (r['disabled_reason'] as string | null) ?? null,
      provisionedBy: String(r['provisioned_by']),
      assignment:
        r['organization_id'] === null
          ? null
          : {
              organizationId: r['organization_id'] as string,
              organizationName: String(r['organization_name']),
              side: String(r['side']),
              duty: String(r['duty']),
              office: String(r['office']),
              employment: String(r['employment']),
            },
      grants: Number(r['grants']),
      // A service account never logs in and has no person of its own: what keeps it alive is its owner and
      // its tokens' approval and expiry (api-tokens.ts), not these two tests.
      dormant: r['kind'] === 'person' && !disabled && seen < cutoff,
      orphan: r['kind'] === 'person' && !disabled && r['organization_id'] === null,
    };
  });
}

export interface SweepResult {
  readonly dormantDays: number;
  readonly disabled: readonly { userId: string; rule: 'dormant' | 'orphan' }[];
}

/**
 * Disables dormant accounts (and, with `orphans`, accounts with no person behind them), ends their sessions
 * and logs each as a governance event — one transaction. `endSessions` lets the app drop them from its cache.
 */
export async function sweepAccounts(
  db: Db,
  by: GovernanceActor,
  at: Date,
  opts: { dormantDays: number; orphans: boolean; dryRun?: boolean },
  endSessions: (tx: Queryable, personId: string, at: Date) => Promise<number> = async (tx, personId, t) =>
    (await tx.query('UPDATE sessions SET ended_at = $2, oidc_id_token = NULL WHERE person_id = $1 AND ended_at IS NULL RETURNING id', [personId, t])).rows
      .length,
): Promise<SweepResult> {
  const accounts = await listAccounts(db, at, opts.dormantDays, { limit: 1_000_000 });
  const targets = accounts.flatMap((a): { a: AccountRow; rule: 'dormant' | 'orphan' }[] =>
    a.dormant ? [{ a, rule: 'dormant' }] : a.orphan && opts.orphans ? [{ a, rule: 'orphan' }] : [],
  );
  if (opts.dryRun === true) return { dormantDays: opts.dormantDays, disabled: targets.map((t) => ({ userId: t.a.userId, rule: t.rule })) };
  await db.transaction(async (tx) => {
    for (const { a, rule } of targets) {
      const { rows } = await tx.query(
        'UPDATE accounts SET disabled_at = $2, disabled_reason = $3 WHERE user_id = $1 AND disabled_at IS NULL RETURNING user_id',
        [a.userId, at, rule],
      );
      if (rows.length === 0) continue;
      const ended = await endSessions(tx, a.personId, at);
      await recordGovernance(tx, {
        at,
        actor: by,
        action: 'account.disable',
        subjectType: 'account',
        subjectId: a.userId,
        outcome: 'done',
        rule,
        details: {
          lastLoginAt: a.lastLoginAt?.toISOString() ?? null,
          createdAt: a.createdAt.toISOString(),
          dormantDays: opts.dormantDays,
          endedSessions: ended,
        },
      });
    }
  });
  return { dormantDays: opts.dormantDays, disabled: targets.map((t) => ({ userId: t.a.userId, rule: t.rule })) };
}
