import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from './canonical.ts';

/** The Ed25519 key that signs checkpoints of the access log. */
export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

/** A signed statement "the chain had this hash at this sequence number at this time". */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly signedAt: string;
  readonly keyId: string;
  /** Ed25519 signature (base64) over the canonical JSON of the other four members. */
  readonly signature: string;
}

export class SigningKeyError extends Error {
  readonly code = 'bad_signing_key';
}

/** A key's id: the first 16 hex characters of SHA-256 over its public key (DER). Printed, stored, compared. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function signingKeyFromPem(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new SigningKeyError(`${source}: not a PEM private key (${e instanceof Error ? e.message : String(e)})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${source}: the checkpoint key must be Ed25519, not ${privateKey.asymmetricKeyType ?? 'unknown'}`);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * Reads the signing key from `path`, or — when the file does not exist and `create` is set (the embedded
 * default) — generates one and writes it there, readable by its owner only.
 */
export function loadSigningKey(path: string, create: boolean): { key: SigningKey; created: boolean } {
  if (!existsSync(path)) {
    if (!create) throw new SigningKeyError(`${path}: no such key file`);
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    return { key: signingKeyFromPem(readFileSync(path, 'utf8'), path), created: true };
  }
  return { key: signingKeyFromPem(readFileSync(path, 'utf8'), path), created: false };
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'generated');
}

function payload(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ seq: c.seq, hash: c.hash, signedAt: c.signedAt, keyId: c.keyId }), 'utf8');
}

export function signCheckpoint(key: SigningKey, seq: number, hash: string, at: Date): Checkpoint {
  const c = { seq, hash, signedAt: at.toISOString(), keyId: key.keyId };
  return { ...c, signature: sign(null, payload(c), key.privateKey).toString('base64') };
}

/** Public keys by id, from PEM texts (the log's key table, an export's header, or a key given by hand). */
export function publicKeys(pems: readonly string[]): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const pem of pems) {
    const k = createPublicKey(pem);
    out.set(keyIdOf(k), k);
  }
  return out;
}

export function checkpointSignatureValid(c: Checkpoint, keys: ReadonlyMap<string, KeyObject>): boolean {
  const k = keys.get(c.keyId);
  if (k === undefined) return false;
  try {
    return verify(null, payload(c), k, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}
