import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parsePublicKeys, pemsOf, type SigningKey } from './signing.ts';
import { readWitness } from './witness.ts';
import type { Seal } from './signing.ts';

/**
 * What verification trusts, and where it came from: public keys and the witness, always from outside the
 * database (issue 15) — the signing key's public half, earlier (rotated) keys from a file, keys given by hand.
 * The keys the log records are never trusted.
 */
export interface TrustAnchors {
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Each trusted key's id and where it came from, to print and show. */
  readonly described: readonly { readonly keyId: string; readonly source: string }[];
  /** PEM texts of the trusted keys other than the signing key (for the writer). */
  readonly otherPems: readonly string[];
}

export class TrustError extends Error {
  readonly code = 'bad_trust_anchor';
}

/** Public keys from files (each may hold several PEM keys); a file without a usable key is an error naming it. */
export function keysFromFiles(paths: readonly string[], what: string): { pems: string[]; described: { keyId: string; source: string }[] } {
  const pems: string[] = [];
  const described: { keyId: string; source: string }[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw new TrustError(`${what} ${p}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const found = pemsOf(text);
    const { keys, rejected } = parsePublicKeys(found);
    if (rejected.length > 0 || keys.size === 0) throw new TrustError(`${what} ${p}: ${rejected.length > 0 ? rejected.join('; ') : 'no PEM public key (-----BEGIN PUBLIC KEY-----) in it'}`);
    pems.push(...found);
    for (const keyId of keys.keys()) described.push({ keyId, source: p });
  }
  return { pems, described };
}

/** The trust of a running server (or a CLI with its configuration): its signing key and the configured earlier keys. */
export function configuredTrust(signing: SigningKey, trustedKeysFile: string | null): TrustAnchors {
  const other = trustedKeysFile === null ? { pems: [], described: [] } : keysFromFiles([trustedKeysFile], 'GRIDWALL_LOG_TRUSTED_KEYS');
  const { keys } = parsePublicKeys([signing.publicKeyPem, ...other.pems]);
  return { keys, described: [{ keyId: signing.keyId, source: 'the signing key (GRIDWALL_LOG_KEY_FILE)' }, ...other.described], otherPems: other.pems };
}

/** Keys given by hand (`--public-key`), trusted instead of the configuration's. */
export function givenTrust(paths: readonly string[]): TrustAnchors {
  const { pems, described } = keysFromFiles(paths, '--public-key');
  return { keys: parsePublicKeys(pems).keys, described, otherPems: pems };
}

/** The witness file's seals, or none when it does not exist yet (nothing was published). */
export function witnessIfAny(path: string | null): Seal[] | undefined {
  return path !== null && existsSync(path) ? readWitness(path) : undefined;
}
