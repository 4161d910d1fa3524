import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from './canonical.ts';
import { inputRefusal } from '../domain/refusal.ts';

/** The Ed25519 key that signs checkpoints of the access log. */
export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

/** A signed statement "the chain had this hash at this sequence number at this time" (version 1; seals replace it). */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly signedAt: string;
  readonly keyId: string;
  /** Ed25519 signature (base64) over the canonical JSON of the other four members. */
  readonly signature: string;
}

export class SigningKeyError extends inputRefusal('bad_signing_key') {}

/** A key's id: the first 16 hex characters of SHA-256 over its public key (DER). Printed, stored, compared. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function signingKeyFromPem(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new SigningKeyError(`${source}: not a PEM private key (${e instanceof Error ? e.message : String(e)})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new SigningKeyError(`${source}: the checkpoint key must be Ed25519, not ${privateKey.asymmetricKeyType ?? 'unknown'}`);
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

/**
 * A batch seal: the writer's signed statement "I committed events `firstSeq`–`seq`, linked after `prevHash`,
 * ending at `hash`, after the seal whose digest is `prevSeal`". Every group commit carries one; events no seal
 * covers were not written by the writer. Seals form a chain of their own (`prevSeal`), so a valid signature on
 * the last seal vouches for every seal before it: a verifier checks each seal's place and link, and the
 * signatures of the last seal and of the witness's seals (docs/LOG-FORMAT.md).
 */
export interface Seal {
  readonly firstSeq: number;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** SHA-256 (hex) of the canonical JSON of the previous seal, all eight members; 64 zeros for the first. */
  readonly prevSeal: string;
  readonly signedAt: string;
  readonly keyId: string;
  /** Ed25519 signature (base64) over the canonical JSON of the other seven members. */
  readonly signature: string;
}

/**
 * The canonical JSON of a seal's members (sorted keys, no whitespace), written out for this fixed shape: the
 * same bytes `canonicalJson` gives (a test holds them equal), without its generic walk and sort — a verifier
 * computes it for every seal of a file.
 */
function sealCanonical(s: Omit<Seal, 'signature'>, signature: string | null): string {
  const q = JSON.stringify;
  return `{"firstSeq":${q(s.firstSeq)},"hash":${q(s.hash)},"keyId":${q(s.keyId)},"prevHash":${q(s.prevHash)},"prevSeal":${q(s.prevSeal)},"seq":${q(s.seq)},${signature === null ? '' : `"signature":${q(signature)},`}"signedAt":${q(s.signedAt)}}`;
}

function sealPayload(s: Omit<Seal, 'signature'>): Buffer {
  return Buffer.from(sealCanonical(s, null), 'utf8');
}

/** A seal's digest, as the next seal names it in `prevSeal`: SHA-256 over the canonical JSON of all its members. */
export function sealDigest(s: Seal): string {
  return createHash('sha256').update(sealCanonical(s, s.signature), 'utf8').digest('hex');
}

export function signSeal(key: SigningKey, batch: { firstSeq: number; seq: number; prevHash: string; hash: string; prevSeal: string }, at: Date): Seal {
  const s = {
    firstSeq: batch.firstSeq,
    seq: batch.seq,
    prevHash: batch.prevHash,
    hash: batch.hash,
    prevSeal: batch.prevSeal,
    signedAt: at.toISOString(),
    keyId: key.keyId,
  };
  return { ...s, signature: sign(null, sealPayload(s), key.privateKey).toString('base64') };
}

/** Whether `signature` over `payload` verifies with the trusted key `keyId` (an unknown key never does). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function signedBy(keys: ReadonlyMap<string, KeyObject>, keyId: string, payload: Buffer, signature: string): boolean {
  const k = keys.get(keyId);
  // Standard base64 with padding only (Node's decoder would skip other characters; the spec's verifiers do not).
  if (k === undefined || !BASE64.test(signature)) return false;
  try {
    return verify(null, payload, k, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export function sealSignatureValid(s: Seal, keys: ReadonlyMap<string, KeyObject>): boolean {
  return signedBy(keys, s.keyId, sealPayload(s), s.signature);
}

/**
 * Public keys by id, from PEM texts (given by hand, configured, or an export's header). A text that is not an
 * Ed25519 public key is left out and named in `rejected` — reported, never a crash.
 */
export function parsePublicKeys(pems: readonly string[]): { keys: Map<string, KeyObject>; rejected: string[] } {
  const keys = new Map<string, KeyObject>();
  const rejected: string[] = [];
  pems.forEach((pem, i) => {
    try {
      const k = createPublicKey(pem);
      if (k.asymmetricKeyType !== 'ed25519') throw new Error(`a ${k.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
      keys.set(keyIdOf(k), k);
    } catch (e) {
      rejected.push(`key ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return { keys, rejected };
}

export function publicKeys(pems: readonly string[]): Map<string, KeyObject> {
  return parsePublicKeys(pems).keys;
}

/** Reads PEM public keys from a file (one or several keys, concatenated). */
export function pemsOf(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----\n?/g)].map((m) => m[0]);
}

export function checkpointSignatureValid(c: Checkpoint, keys: ReadonlyMap<string, KeyObject>): boolean {
  return signedBy(keys, c.keyId, payload(c), c.signature);
}
