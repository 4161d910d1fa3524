/**
 * A CP932 (Shift_JIS as Windows writes it) encoder for test fixtures. Node decodes CP932 (WHATWG's
 * shift_jis decoder) but cannot encode it, so the table is built once by decoding every one- and two-byte
 * sequence: the exact inverse of what the code under test uses to read legacy exports.
 */
let table: Map<string, number[]> | null = null;

function build(): Map<string, number[]> {
  const decoder = new TextDecoder('shift_jis', { fatal: true });
  const map = new Map<string, number[]>();
  const add = (bytes: number[]) => {
    try {
      const ch = decoder.decode(Uint8Array.from(bytes));
      if ([...ch].length === 1 && ch !== '\uFFFD' && !map.has(ch)) map.set(ch, bytes);
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
  return map;
}

/** The text in CP932; throws on a character CP932 cannot hold (so a fixture never silently changes). */
export function encodeCp932(text: string): Buffer {
  table ??= build();
  const out: number[] = [];
  for (const ch of text) {
    const bytes = table.get(ch);
    if (bytes === undefined) throw new Error(`CP932 has no ${JSON.stringify(ch)} (U+${ch.codePointAt(0)?.toString(16)})`);
    out.push(...bytes);
  }
  return Buffer.from(out);
}
