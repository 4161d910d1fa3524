import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { SearchKind } from '../domain/classification.ts';
import type { SigningKey } from './signing.ts';

/**
 * What was searched for, kept in the access log (issue 14: a search event said only `by: phone`, so
 * compliance could not tell what someone looked for, and zero-hit probing of names and numbers left nothing
 * to match). A search term is a customer's name, number or address, so it is never stored in the clear:
 *
 * - `sealed`: AES-256-GCM under a key derived from the log's signing key — compliance reads it back through
 *   gridwall (audit.read only); a copy of the database alone does not reveal it.
 * - `match`: HMAC-SHA-256 of the normalised term under a second derived key — every search for the same
 *   number or name has the same value, so compliance finds them all without decrypting the log.
 *
 * Both keys are derived (HKDF) from the signing key, which lives outside the database (the data directory
 * or GRIDWALL_LOG_KEY_FILE): whoever can read terms back can also sign checkpoints, and nobody with the
 * database alone can do either. `keyId` names the signing key the term was sealed under (and is bound into
 * the seal): after the signing key is rotated, older terms neither open nor match under the new one — keep
 * the old key file to read them (issue 15 takes the log's keys on). Never written to the server's own logs.
 */

export interface SealedTerm {
  readonly keyId: string;
  readonly sealed: string;
  readonly match: string;
}

/** The term as compared: a phone number by its digits, a name without spaces, any text NFKC-normalised. */
export function normaliseTerm(by: SearchKind, term: string): string {
  const text = term.normalize('NFKC');
  switch (by) {
    case 'phone':
      return text.replace(/\D/g, '');
    case 'holder_name':
      return text.replace(/\s+/g, '');
    case 'address':
      return text.trim().replace(/\s+/g, ' ');
  }
}

function derive(key: SigningKey, info: string): Buffer {
  const ikm = key.privateKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', ikm, 'gridwall access log', info, 32));
}

export class SearchTerms {
  readonly #keyId: string;
  readonly #seal: Buffer;
  readonly #match: Buffer;

  constructor(key: SigningKey) {
    this.#keyId = key.keyId;
    this.#seal = derive(key, 'search-term seal v1');
    this.#match = derive(key, 'search-term match v1');
  }

  /** The keyed hash every search for this term (as normalised) shares. */
  match(by: SearchKind, term: string): string {
    return createHmac('sha256', this.#match)
      .update(`${by}\u0000${normaliseTerm(by, term)}`)
      .digest('hex');
  }

  seal(by: SearchKind, term: string): SealedTerm {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#seal, iv);
    cipher.setAAD(Buffer.from(`${this.#keyId}\u0000${by}`, 'utf8'));
    const body = Buffer.concat([cipher.update(term, 'utf8'), cipher.final()]);
    return { keyId: this.#keyId, sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url'), match: this.match(by, term) };
  }

  /** The term back, or null when it was sealed under another key or does not open (altered). */
  open(by: SearchKind, t: SealedTerm): string | null {
    if (t.keyId !== this.#keyId) return null;
    const raw = Buffer.from(t.sealed, 'base64url');
    if (raw.length < 12 + 16) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#seal, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${this.#keyId}\u0000${by}`, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
