import type { Db, Queryable } from '../store/db.ts';
import { recordGovernance, type GovernanceActor } from './governance-log.ts';
import { SigningKeyError, type SigningKey } from './signing.ts';

/**
 * The keys a log's seals may be signed with are registered on purpose (issue 17: a second server started in
 * another directory generated a key of its own and registered it without a word, and the log it then wrote
 * verified only with a key nobody had published). The first key of an empty log is registered by the first
 * writer; every later one by `gridwall audit key register`, a governance event. A writer whose key is not
 * registered does not start.
 */
export async function registerSigningKey(
  db: Db,
  key: Pick<SigningKey, 'keyId' | 'publicKeyPem'>,
  actor: GovernanceActor,
  at: Date,
): Promise<'registered' | 'already'> {
  return db.transaction(async (tx) => {
    if (await isRegistered(tx, key.keyId)) return 'already';
    await tx.query('SELECT access_log_add_key($1, $2)', [key.keyId, key.publicKeyPem]);
    await recordGovernance(tx, { at, actor, action: 'log_key.register', subjectType: 'log_key', subjectId: key.keyId, outcome: 'done' });
    return 'registered';
  });
}

async function isRegistered(q: Queryable, keyId: string): Promise<boolean> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM access_log_keys WHERE key_id = $1', [keyId]);
  return (rows[0]?.n ?? 0) > 0;
}

/**
 * At a writer's start: its key registered, or the log's first key (registered now, as the system's act), or
 * a refusal naming the command that registers it.
 */
export async function requireRegisteredKey(q: Queryable, key: Pick<SigningKey, 'keyId' | 'publicKeyPem'>, at: Date): Promise<void> {
  // Both facts from one snapshot: read apart, a second writer starting with the same key could find it
  // unregistered, then find the key table no longer empty (the first writer's key, which is its own) and refuse.
  const { rows } = await q.query<{ registered: boolean; any: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM access_log_keys WHERE key_id = $1) AS registered, EXISTS (SELECT 1 FROM access_log_keys) AS any',
    [key.keyId],
  );
  if (rows[0]?.registered === true) return;
  if (rows[0]?.any !== true) {
    await q.query('SELECT access_log_add_key($1, $2)', [key.keyId, key.publicKeyPem]);
    await recordGovernance(q, {
      at,
      actor: { kind: 'system', job: 'log-writer' },
      action: 'log_key.register',
      subjectType: 'log_key',
      subjectId: key.keyId,
      outcome: 'done',
      details: { first: true },
    });
    return;
  }
  throw new SigningKeyError(
    `the signing key ${key.keyId} is not registered for this log, which is signed with other keys: use the key this log was written with (GRIDWALL_LOG_KEY_FILE), or register this one on purpose with \`gridwall audit key register\` (a governance event)`,
  );
}
