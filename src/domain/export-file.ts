import { memberOf } from './closed-set.ts';

/**
 * The character encodings a CSV export is offered in (issue 19): UTF-8 with a byte-order mark, the default,
 * which Excel and LibreOffice open as Unicode; and CP932 (Shift_JIS as Windows writes it) for the older Excel
 * and the Japanese tools that read nothing else.
 */
export const CSV_ENCODINGS = ['utf-8', 'cp932'] as const;
export type CsvEncoding = (typeof CSV_ENCODINGS)[number];
export const isCsvEncoding = memberOf(CSV_ENCODINGS);

/**
 * What a CSV upload's `?encoding=` accepts (the inquiry batch import): the encodings above, and `shift_jis`,
 * the name the import took before issue 19, kept as an alias of `cp932` so existing clients go on working
 * (WHATWG's `shift_jis` decoder, which gridwall reads with, is Windows' CP932).
 */
export const CSV_UPLOAD_ENCODINGS = [...CSV_ENCODINGS, 'shift_jis'] as const;
export type CsvUploadEncoding = (typeof CSV_UPLOAD_ENCODINGS)[number];

/** The encoding an upload names, its alias resolved. */
export function csvEncodingNamed(name: CsvUploadEncoding): CsvEncoding {
  return name === 'shift_jis' ? 'cp932' : name;
}
