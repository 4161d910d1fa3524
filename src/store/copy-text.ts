import { StringDecoder } from 'node:string_decoder';

/** What a backslash followed by this letter stands for in COPY's text format. */
const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One column of COPY's text format: `\N` is NULL; backslash escapes (named, octal `\123`, hex `\x41`) undone. */
export function copyTextField(raw: string): string | null {
  if (raw === '\\N') return null;
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/gs, (_m, oct?: string, hex?: string, ch?: string) =>
    oct !== undefined
      ? String.fromCharCode(Number.parseInt(oct, 8))
      : hex !== undefined
        ? String.fromCharCode(Number.parseInt(hex, 16))
        : (ESCAPES[ch ?? ''] ?? ch ?? ''),
  );
}

/**
 * Rows of `COPY … TO STDOUT` in its text format (the default: columns separated by tabs, rows by line feeds,
 * UTF-8), decoded from the byte chunks the server sends, however the chunks cut rows or characters.
 */
export async function* copyTextRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<(string | null)[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
      yield text.slice(start, end).split('\t').map(copyTextField);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') throw new Error('COPY output ended inside a row');
}
