import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { Secret, TOTP } from 'otpauth';
import { refusalFamily } from '../domain/refusal.ts';
import { recordGovernance, type GovernanceActor } from '../audit/governance-log.ts';
import type { Db } from '../store/db.ts';

/**
 * Local accounts: a password (argon2id) and a TOTP second factor, for the embedded default and for sites
 * without an identity provider. A server with one should use OpenID Connect instead (docs/identity.md).
 *
 * Both factors are always required: an account with a password but no TOTP enrolled cannot log in.
 */

/**
 * `Algorithm.Argon2id`. The package declares its enum as an ambient `const enum`, which TypeScript will not
 * read as a value under verbatimModuleSyntax, so the member's value is written here and checked by its type.
 */
const ARGON2ID: Algorithm.Argon2id = 2;

/** OWASP's argon2id parameters (m = 19 MiB, t = 2, p = 1): about 20–50 ms per hash on a server core. */
const ARGON2 = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** What every authenticator app supports: RFC 6238 defaults. */
const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** Steps either side of the current one a code may come from (clock drift, typing time). */
const TOTP_WINDOW = 1;

export const MIN_PASSWORD_LENGTH = 12;
/** Long enough for any passphrase; short enough that hashing it is no denial of service. */
export const MAX_PASSWORD_LENGTH = 1024;

/** A refused credential change: the account is unknown or disabled, or the password breaks the policy. */
export class AccountError extends refusalFamily('account', { unknown_account: 'not_found', disabled_account: 'refused', weak_password: 'invalid' }) {}

/** Who changed a credential and when (recorded in the governance log); the operator at the CLI by default. */
export interface CredentialChange {
  readonly by?: GovernanceActor;
  readonly at?: Date;
}

/** The key that encrypts TOTP secrets at rest (32 bytes, from GRIDWALL_TOTP_KEY), or null to store them in the clear. */
export type TotpKey = Buffer | null;

/**
 * Passwords are compared after NFKC normalisation (NIST SP 800-63B §5.1.1.2): a Japanese IME may type the
 * same passphrase in full-width or half-width forms, and the person means one password.
 */
function normalise(password: string): string {
  return password.normalize('NFKC');
}

/** Why a password is refused, or null when the policy accepts it. */
export function passwordProblem(userId: string, password: string): string | null {
  const p = normalise(password);
  const length = [...p].length;
  if (length < MIN_PASSWORD_LENGTH) return `the password must have at least ${MIN_PASSWORD_LENGTH} characters (it has ${length})`;
  if (length > MAX_PASSWORD_LENGTH) return `the password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  if (p.trim().toLowerCase() === userId.trim().toLowerCase()) return 'the password must not be the user ID';
  return null;
}

async function usableAccount(db: Db, userId: string): Promise<void> {
  const { rows } = await db.query<{ disabled: boolean }>('SELECT disabled_at IS NOT NULL AS disabled FROM accounts WHERE user_id = $1', [userId]);
  const row = rows[0];
  if (row === undefined) throw new AccountError('unknown_account', `no account with user ID ${userId}`);
  if (row.disabled) throw new AccountError('disabled_account', `account ${userId} is disabled`);
}

const CLI: GovernanceActor = { kind: 'system', job: 'cli' };

/** Sets (or replaces) an account's password; the policy refusal is an AccountError naming what is wrong. */
export async function setPassword(db: Db, userId: string, password: string, change: CredentialChange = {}): Promise<void> {
  const problem = passwordProblem(userId, password);
  if (problem !== null) throw new AccountError('weak_password', problem);
  await usableAccount(db, userId);
  const passwordHash = await hash(normalise(password), ARGON2);
  const at = change.at ?? new Date();
  await db.transaction(async (tx) => {
    await tx.query('UPDATE accounts SET password_hash = $2 WHERE user_id = $1', [userId, passwordHash]);
    await recordGovernance(tx, { at, actor: change.by ?? CLI, action: 'account.set_password', subjectType: 'account', subjectId: userId, outcome: 'done' });
  });
}

// TOTP secrets at rest. Unlike a password, the server needs the secret itself to check a code, so it cannot
// be hashed. With a key it is sealed with AES-256-GCM, bound to its account (AAD) so a sealed secret copied
// to another row does not open; without one it is stored as base32 in the clear.
const SEALED = /^gcm1:([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/;
const aad = (userId: string) => Buffer.from(`gridwall-totp:${userId}`, 'utf8');

function seal(secret: string, userId: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(userId));
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `gcm1:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ct.toString('base64url')}`;
}

/** The base32 secret, or null when it is sealed and cannot be opened (no key, another key, tampered). */
function unseal(stored: string, userId: string, key: TotpKey): string | null {
  const m = SEALED.exec(stored);
  if (m === null) return stored; // enrolled in the clear (before a key was configured): still valid
  if (key === null) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(m[1] ?? '', 'base64url')).setAAD(aad(userId));
    decipher.setAuthTag(Buffer.from(m[2] ?? '', 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(m[3] ?? '', 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

export interface TotpEnrolment {
  /** Base32, for typing into an authenticator app. */
  readonly secret: string;
  /** `otpauth://totp/…`, for a QR code. */
  readonly uri: string;
}

/**
 * Enrols (or re-enrols, e.g. after a lost phone) a TOTP authenticator: a fresh 160-bit secret replaces any
 * earlier one, which stops working at once. Show the result to the person once; it is not retrievable.
 *
 * The secret is stored in the database — in the clear unless `key` is given (GRIDWALL_TOTP_KEY), in which
 * case it is encrypted with AES-256-GCM. Anyone who can read the accounts table of an unencrypted store can
 * compute the codes; production should log in through OpenID Connect, or at least set the key.
 */
export async function enrollTotp(db: Db, userId: string, issuerLabel: string, key: TotpKey = null, change: CredentialChange = {}): Promise<TotpEnrolment> {
  await usableAccount(db, userId);
  const totp = new TOTP({ ...TOTP_PARAMS, issuer: issuerLabel, label: userId, secret: new Secret({ size: 20 }) });
  const secret = totp.secret.base32;
  const stored = key === null ? secret : seal(secret, userId, key);
  const at = change.at ?? new Date();
  await db.transaction(async (tx) => {
    // totp_last_step is kept: time only moves forward, so a step already used stays used under the new secret.
    await tx.query('UPDATE accounts SET totp_secret = $2 WHERE user_id = $1', [userId, stored]);
    await recordGovernance(tx, {
      at,
      actor: change.by ?? CLI,
      action: 'account.enroll_totp',
      subjectType: 'account',
      subjectId: userId,
      outcome: 'done',
      details: { encrypted: key !== null },
    });
  });
  return { secret, uri: totp.toString() };
}

/** Why a login was refused: for the server log only, never for the client (which learns only "wrong"). */
export type LoginRefusal =
  'unknown_account' | 'disabled_account' | 'no_password' | 'wrong_password' | 'totp_not_enrolled' | 'totp_key_missing' | 'wrong_code' | 'code_replayed';

export type LoginResult = { readonly ok: true } | { readonly ok: false; readonly reason: LoginRefusal };

/**
 * A hash of a random password with the same parameters, verified when the account is unknown or has no
 * password, so the response time does not tell which user IDs exist. Started when the module loads (off the
 * event loop), so not even the first such login pays for making it; a failure surfaces there as a refusal.
 */
const DUMMY_HASH: Promise<string> = hash(randomBytes(24).toString('base64url'), ARGON2);
DUMMY_HASH.catch(() => undefined);

/**
 * A one-time code as people type it: NFKC turns full-width digits from a Japanese IME into ASCII, and the
 * space some apps show in the middle ("123 456") is dropped. Null when it is not six digits.
 */
function codeOf(code: string): string | null {
  const c = code.normalize('NFKC').replace(/\s+/g, '');
  return /^[0-9]{6}$/.test(c) ? c : null;
}

/**
 * Checks a password and a TOTP code for an account at `at`. The argon2 verification always runs — against a
 * dummy hash for an unknown account or one without a password — so timing does not reveal which accounts
 * exist. The code may come from the current step or one either side; each step is accepted at most once
 * per account (and never one older than the last accepted), which the store decides atomically so two
 * concurrent logins with the same code cannot both succeed. A step is used up only once the password is right.
 */
export async function verifyLogin(db: Db, userId: string, password: string, code: string, at: Date, key: TotpKey = null): Promise<LoginResult> {
  const { rows } = await db.query<{ password_hash: string | null; totp_secret: string | null; disabled: boolean }>(
    'SELECT password_hash, totp_secret, disabled_at IS NOT NULL AS disabled FROM accounts WHERE user_id = $1',
    [userId],
  );
  const account = rows[0];
  const stored = account?.password_hash ?? null;
  let passwordOk: boolean;
  try {
    passwordOk = (await verify(stored ?? (await DUMMY_HASH), normalise(password))) && stored !== null;
  } catch {
    passwordOk = false; // a malformed stored hash refuses like a wrong password
  }
  if (account === undefined) return { ok: false, reason: 'unknown_account' };
  if (account.disabled) return { ok: false, reason: 'disabled_account' };
  if (stored === null) return { ok: false, reason: 'no_password' };
  if (!passwordOk) return { ok: false, reason: 'wrong_password' };
  if (account.totp_secret === null) return { ok: false, reason: 'totp_not_enrolled' };
  const secret = unseal(account.totp_secret, userId, key);
  if (secret === null) return { ok: false, reason: 'totp_key_missing' };

  const token = codeOf(code);
  if (token === null) return { ok: false, reason: 'wrong_code' };
  const totp = new TOTP({ ...TOTP_PARAMS, secret: Secret.fromBase32(secret) });
  const timestamp = at.getTime();
  const delta = totp.validate({ token, timestamp, window: TOTP_WINDOW });
  if (delta === null) return { ok: false, reason: 'wrong_code' };
  const step = totp.counter({ timestamp }) + delta;
  const used = await db.query(
    'UPDATE accounts SET totp_last_step = $2 WHERE user_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING user_id',
    [userId, step],
  );
  if (used.rows.length === 0) return { ok: false, reason: 'code_replayed' };
  return { ok: true };
}
