import { cp932Table } from '../../src/spreadsheet/cp932.ts';

/**
 * A CP932 (Shift_JIS as Windows writes it) encoder for test fixtures: the table gridwall's CSV exports encode
 * with (the exact inverse of the `shift_jis` decoder the code under test reads legacy exports with), but strict
 * — no 〓, no folding of look-alike characters — so a fixture never silently changes.
 */
export function encodeCp932(text: string): Buffer {
  const table = cp932Table();
  const out: number[] = [];
  for (const ch of text) {
    const bytes = table.get(ch);
    if (bytes === undefined) throw new Error(`CP932 has no ${JSON.stringify(ch)} (U+${ch.codePointAt(0)?.toString(16)})`);
    out.push(...bytes);
  }
  return Buffer.from(out);
}
