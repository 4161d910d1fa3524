import type { Db, Queryable } from '../store/db.ts';
import { recordGovernance, type GovernanceActor } from './governance-log.ts';
import { SigningKeyError, type SigningKey } from './signing.ts';

/**
 * The keys a log's seals may be signed with are registered on purpose (issue 17: a second server started in
 * another directory generated a key of its own and registered it without a word, and the log it then wrote
 * verified only with a key nobody had published). The first key of an empty log is registered by the first
 * writer; every later one by `gridwall audit key register`, a governance event. A writer whose key is not
 * registered does not start. Run as the schema's owner: the application's role may not call
 * access_log_add_key (a refusal with SQLSTATE 42501).
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
 * a refusal naming the command that registers it. The first key is the database's to decide
 * (access_log_add_first_key, migration 011): the application's role may register no other, and two writers
 * starting together on an empty log cannot both register a key, nor one key twice on the record.
 */
export async function requireRegisteredKey(q: Queryable, key: Pick<SigningKey, 'keyId' | 'publicKeyPem'>, at: Date): Promise<void> {
  if (await isRegistered(q, key.keyId)) return;
  const { rows } = await q
    .query<{ registered: boolean }>('SELECT access_log_add_first_key($1, $2, $3) AS registered', [key.keyId, key.publicKeyPem, at])
    .catch((e: unknown) => {
      // 42501: a role an older `db grant-app` set up, before the first-key function existed.
      if ((e as { code?: unknown }).code === '42501')
        throw new SigningKeyError(
          `the signing key ${key.keyId} is not registered, and the connected role may not register the log's first key: run \`gridwall db grant-app <role>\` again as the schema's owner (after each \`db migrate\`), or register the key as the owner with \`gridwall audit key register\``,
        );
      throw e;
    });
  if (rows[0]?.registered === true) return;
  throw new SigningKeyError(
    `the signing key ${key.keyId} is not registered for this log, which is signed with other keys: use the key this log was written with (GRIDWALL_LOG_KEY_FILE), or register this one on purpose with \`gridwall audit key register\` (a governance event)`,
  );
}
