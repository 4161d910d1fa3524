/**
 * CP932 (Shift_JIS as Windows writes it) for CSV exports (issue 19). Node decodes CP932 — gridwall reads
 * legacy registers with the WHATWG `shift_jis` decoder, which is Windows' table — but cannot encode it; the
 * table here is that decoder's exact inverse, built once by decoding every one- and two-byte sequence, so no
 * dependency is needed and what gridwall writes reads back the same through its own importer.
 */

let table: Map<string, number[]> | null = null;

/**
 * Every character CP932 holds, with its bytes. Where Windows has two codes for one character, the one
 * Windows itself writes: the lower code, except that the NEC-selected IBM extensions (lead bytes 0xED and
 * 0xEE) yield to the IBM extensions (0xFA–0xFC), as WHATWG's encoder and Windows' WideCharToMultiByte do.
 */
export function cp932Table(): ReadonlyMap<string, readonly number[]> {
  if (table !== null) return table;
  const decoder = new TextDecoder('shift_jis', { fatal: true });
  const map = new Map<string, number[]>();
  const add = (bytes: number[]) => {
    try {
      const ch = decoder.decode(Uint8Array.from(bytes));
      if ([...ch].length !== 1 || ch === '\uFFFD') return;
      const held = map.get(ch);
      const necSelected = (b: readonly number[]) => b.length === 2 && (b[0] === 0xed || b[0] === 0xee);
      if (held === undefined || (necSelected(held) && !necSelected(bytes))) map.set(ch, bytes);
    } catch {
      // not a character in CP932
    }
  };
  for (let b = 0x00; b <= 0x7f; b++) add([b]);
  for (let b = 0xa1; b <= 0xdf; b++) add([b]);
  for (let lead = 0x81; lead <= 0xfc; lead++) {
    if (lead > 0x9f && lead < 0xe0) continue;
    for (let trail = 0x40; trail <= 0xfc; trail++) if (trail !== 0x7f) add([lead, trail]);
  }
  table = map;
  return map;
}

/**
 * Characters Unicode has twice, once as JIS maps them and once as Windows does, which CP932 holds in the
 * Windows form only (the "wave dash problem"): written as that form, which looks the same. `¥` and `‾` are
 * written as 0x5C and 0x7E, as WHATWG's encoder does and as Japanese Windows shows those bytes.
 */
const SAME_LOOKING: Readonly<Record<string, string>> = {
  '\u301C': '\uFF5E', // 〜 WAVE DASH → ～
  '\u2016': '\u2225', // ‖ DOUBLE VERTICAL LINE → ∥
  '\u2212': '\uFF0D', // − MINUS SIGN → －
  '\u2014': '\u2015', // — EM DASH → ―
  '\u00A2': '\uFFE0', // ¢ → ￠
  '\u00A3': '\uFFE1', // £ → ￡
  '\u00AC': '\uFFE2', // ¬ → ￢
  '\u00A5': '\\',
  '\u203E': '~',
};

/** What stands for a character CP932 cannot hold: 〓 (GETA MARK), the JIS convention for a missing glyph. */
export const CP932_REPLACEMENT = '〓';

let composed: Map<string, readonly number[]> | null = null;

/**
 * The bytes of a character as NFC writes it: CP932's own, or — for the three characters CP932 holds that NFC
 * rewrites into ones it does not (Å ANGSTROM SIGN → Å, the compatibility ideographs 凞 U+FA15 and 蘒 U+FA20 →
 * their unified forms) — the bytes of the one NFC rewrote, which looks the same. So normalising never costs
 * a character CP932 held.
 */
function bytesOf(ch: string): readonly number[] | undefined {
  const map = cp932Table();
  if (composed === null) {
    composed = new Map();
    for (const [k, bytes] of map) {
      const n = k.normalize('NFC');
      if (n !== k && [...n].length === 1 && !map.has(n) && !composed.has(n)) composed.set(n, bytes);
    }
  }
  return map.get(ch) ?? composed.get(ch);
}

/**
 * What is written before encoding, counted as nothing: variation selectors (U+FE00–FE0F, and the ideographic
 * ones U+E0100–E01EF that pick a glyph of 葛 or 辻) are dropped — CP932 has one form of each character, and the
 * character itself is kept; a no-break space (U+00A0) becomes a space.
 */
const DROPPED = /[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu;

/** A character with the combining marks after it (or marks with nothing before them). */
const CLUSTER = /\P{M}\p{M}*|\p{M}+/gsu;

/**
 * The text in CP932, each character CP932 cannot hold written as 〓 and counted. What CP932 cannot hold as
 * written is put in Unicode NFC first, so a decomposed `か\u3099` (as macOS file names and some input methods
 * give it) is written as が, not か〓, and Ω OHM SIGN as Ω. A character CP932 holds is written as it is — the
 * compatibility ideographs of its IBM extensions (飯 U+FA2A …) too, which NFC would turn into their unified
 * forms — so that what CP932 holds reads back as itself.
 */
export function encodeCp932(text: string): { bytes: Buffer; replaced: number } {
  const map = cp932Table();
  const geta = map.get(CP932_REPLACEMENT) ?? [];
  const out: number[] = [];
  let replaced = 0;
  for (const [cluster] of text
    .replace(DROPPED, '')
    .replace(/\u00A0/g, ' ')
    .matchAll(CLUSTER)) {
    const held = map.get(SAME_LOOKING[cluster] ?? cluster);
    if (held !== undefined) {
      out.push(...held);
      continue;
    }
    for (const ch of cluster.normalize('NFC')) {
      const bytes = bytesOf(SAME_LOOKING[ch] ?? ch);
      if (bytes === undefined) {
        replaced++;
        out.push(...geta);
      } else out.push(...bytes);
    }
  }
  return { bytes: Buffer.from(out), replaced };
}
