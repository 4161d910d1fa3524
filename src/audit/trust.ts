import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parsePublicKeys, pemsOf, publicKeys, type SigningKey } from './signing.ts';
import { readWitness } from './witness.ts';
import type { Seal } from './signing.ts';
import { inputRefusal } from '../domain/refusal.ts';

/**
 * What verification trusts, and where it came from: public keys and the witness, always from outside the
 * database (issue 15) — the signing key's public half, earlier (rotated) keys from a file, keys given by hand.
 * The keys the log records are never trusted.
 */
export interface TrustAnchors {
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Each trusted key's id and where it came from, to print and show. */
  readonly described: readonly { readonly keyId: string; readonly source: string }[];
}

export class TrustError extends inputRefusal('bad_trust_anchor') {}

/** Trusted keys read from files (each may hold several PEM keys); a file without a usable key is an error naming it. */
function keysFromFiles(paths: readonly string[], what: string): TrustAnchors {
  const keys = new Map<string, KeyObject>();
  const described: { keyId: string; source: string }[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw new TrustError(`${what} ${p}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const found = parsePublicKeys(pemsOf(text));
    if (found.rejected.length > 0 || found.keys.size === 0)
      throw new TrustError(`${what} ${p}: ${found.rejected.length > 0 ? found.rejected.join('; ') : 'no PEM public key (-----BEGIN PUBLIC KEY-----) in it'}`);
    for (const [keyId, k] of found.keys) {
      keys.set(keyId, k);
      described.push({ keyId, source: p });
    }
  }
  return { keys, described };
}

/** The trust of a running server (or a CLI with its configuration): its signing key and the configured earlier keys. */
export function configuredTrust(signing: SigningKey, trustedKeysFile: string | null): TrustAnchors {
  const other =
    trustedKeysFile === null ? { keys: new Map<string, KeyObject>(), described: [] } : keysFromFiles([trustedKeysFile], 'GRIDWALL_LOG_TRUSTED_KEYS');
  return {
    keys: new Map([...publicKeys([signing.publicKeyPem]), ...other.keys]),
    described: [{ keyId: signing.keyId, source: 'the signing key (GRIDWALL_LOG_KEY_FILE)' }, ...other.described],
  };
}

/** Keys given by hand (`--public-key`), trusted instead of the configuration's. */
export function givenTrust(paths: readonly string[]): TrustAnchors {
  return keysFromFiles(paths, '--public-key');
}

/** The witness file's seals, or none when it does not exist yet (nothing was published). */
export function witnessIfAny(path: string | null): Seal[] | undefined {
  return path !== null && existsSync(path) ? readWitness(path) : undefined;
}
