/**
 * Japan time, the clock every user, register and regulator's table of gridwall reads. Japan has had no
 * daylight saving since 1951, so a fixed offset is exact.
 */
export const JST_OFFSET_MS = 9 * 3_600_000;
export const DAY_MS = 86_400_000;

/** The calendar day in Japan of an instant: `YYYY-MM-DD`. */
export function japanDay(at: Date): string {
  return new Date(at.getTime() + JST_OFFSET_MS).toISOString().slice(0, 10);
}

/** An instant as people in the office read it, with its offset: `2026-11-24T10:15:00.000+09:00`. */
export function japanIso(at: Date): string {
  return `${new Date(at.getTime() + JST_OFFSET_MS).toISOString().slice(0, 23)}+09:00`;
}

/** The first instant of the calendar day `YYYY-MM-DD` in Japan; null when it is not a real day (2026-02-30). */
export function japanDayStart(ymd: string): Date | null {
  const at = new Date(`${ymd}T00:00:00+09:00`);
  return Number.isNaN(at.getTime()) || japanDay(at) !== ymd ? null : at;
}

/** Inclusive calendar days (given by their first instants) as the half-open period [from, to + 1 day). */
export function japanPeriod(from: Date | null | undefined, to: Date | null | undefined): { from: Date | null; to: Date | null } {
  return { from: from ?? null, to: to === null || to === undefined ? null : new Date(to.getTime() + DAY_MS) };
}
