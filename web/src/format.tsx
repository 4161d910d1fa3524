import type { FieldView, Vocabulary } from './api.ts';
import { useI18n, type I18n } from './i18n.tsx';

const locale = (lang: string) => (lang === 'ja' ? 'ja-JP' : 'en-GB');

/** Dates and times are always shown in Japan time, whatever the browser's zone, in the user's language. */
export function formatDate(iso: string, lang: string): string {
  const style: Intl.DateTimeFormatOptions =
    lang === 'ja' ? { year: 'numeric', month: '2-digit', day: '2-digit' } : { year: 'numeric', month: 'short', day: 'numeric' };
  return new Intl.DateTimeFormat(locale(lang), { timeZone: 'Asia/Tokyo', ...style }).format(new Date(iso));
}

/**
 * An instant (UTC ISO 8601 on the wire) in Japan time, as office staff read it: to the minute, or to the
 * second where the order of events matters (the access log, its seals).
 */
export function formatInstant(iso: string, lang: string, precision: 'minutes' | 'seconds' = 'minutes'): string {
  return new Intl.DateTimeFormat(locale(lang), { timeZone: 'Asia/Tokyo', dateStyle: 'short', timeStyle: precision === 'seconds' ? 'medium' : 'short' }).format(
    new Date(iso),
  );
}

const JST_OFFSET_MS = 9 * 3_600_000;

/** An instant as a `datetime-local` input's value in Japan time (`2025-01-31T09:30`). */
export function toJstDateTimeInput(d: Date): string {
  return new Date(d.getTime() + JST_OFFSET_MS).toISOString().slice(0, 16);
}

/** An instant's day in Japan time, as a `date` input's value. */
export function toJstDateInput(d: Date): string {
  return toJstDateTimeInput(d).slice(0, 10);
}

/** Today plus `days`, as a `date` input's value in Japan time. */
export function jstDayFromNow(days: number): string {
  return toJstDateInput(new Date(Date.now() + days * 86_400_000));
}

/** A `datetime-local` input's value, meant as Japan time, as an ISO instant. */
export function fromJstDateTimeInput(v: string): string {
  return new Date(`${v}:00+09:00`).toISOString();
}

/** 22 digits in groups of four, as printed on bills (0211-5203-2938-2516-5992-21). */
export function formatSupplyPointId(id: string): string {
  return id.replace(/(\d{4})(?=\d)/g, '$1-');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** A shown field's value in words. Null means "nothing to show" and says so, never an empty cell. */
function renderValue(field: string, value: unknown, i18n: I18n) {
  const { t, lang } = i18n;
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) return <span className="none">{t('none')}</span>;
  switch (field) {
    case 'supply_point_id':
      return <span className="mono">{formatSupplyPointId(str(value))}</span>;
    case 'address':
      return <span>{isRecord(value) ? str(value['text']) : str(value)}</span>;
    case 'contracted_capacity':
      return <span>{isRecord(value) ? `${str(value['value'])} ${str(value['unit'])}` : str(value)}</span>;
    case 'retailer':
      return <span>{isRecord(value) ? `${str(value['name'])}（${str(value['code'])}）` : str(value)}</span>;
    case 'customer_type':
      return <span>{value === 'corporate' ? t('corporate') : value === 'individual' ? t('individual') : str(value)}</span>;
    case 'last_resort':
      return <span>{value === true ? t('yes') : t('no')}</span>;
    case 'equipment':
      return <span>{Array.isArray(value) ? value.map(str).join('、') : str(value)}</span>;
    case 'meter':
      return <span>{isRecord(value) ? `${str(value['meterId'])} ／ ${t('readingDay', { d: str(value['readingDay']) })}` : str(value)}</span>;
    case 'usage':
      return Array.isArray(value) ? (
        <table className="mini">
          <tbody>
            {value.filter(isRecord).map((u) => (
              <tr key={str(u['month'])}>
                <th scope="row">{str(u['month'])}</th>
                <td className="num">{Number(u['kwh']).toLocaleString(lang)} kWh</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <span>{str(value)}</span>
      );
    case 'contract_history':
      return Array.isArray(value) ? (
        <ol className="history">
          {value.filter(isRecord).map((c, i) => (
            <li key={i}>
              {formatDate(str(c['validFrom']), lang)} 〜 {c['validTo'] === null ? t('current') : formatDate(str(c['validTo']), lang)}：
              {c['lastResort'] === true ? t('lastResortSupply') : `${str(c['retailerName'])}（${str(c['retailerCode'])}）`}
            </li>
          ))}
        </ol>
      ) : (
        <span>{str(value)}</span>
      );
    default:
      return <span>{typeof value === 'object' ? JSON.stringify(value) : str(value)}</span>;
  }
}

/**
 * One field as the firewall decided it: the value, or a masked marker that states the reason in words. A
 * masked field never renders as an empty cell that could be read as "no data".
 */
export function FieldValue({ field, view, vocabulary, i18n }: { field: string; view: FieldView | undefined; vocabulary: Vocabulary; i18n: I18n }) {
  // A field the server did not send is treated like an unclassified one: masked, never blank.
  if (view === undefined || !view.shown) {
    const reason = view === undefined ? 'unclassified' : view.reason;
    return (
      <span className="masked" data-masked={reason}>
        <LockIcon />
        <span className="sr-only">{i18n.t('masked')}: </span>
        {i18n.l(vocabulary.reasons[reason], reason)}
      </span>
    );
  }
  return <span data-shown="true">{renderValue(field, view.value, i18n)}</span>;
}

function LockIcon() {
  return (
    <svg aria-hidden="true" className="lock" viewBox="0 0 16 16" width="12" height="12">
      <path fill="currentColor" d="M4 7V5a4 4 0 1 1 8 0v2h1a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1h1Zm2 0h4V5a2 2 0 1 0-4 0v2Z" />
    </svg>
  );
}

/** A day `YYYY-MM-DD` on a chart's axis: 11/3(火) in Japanese, Tue 3 Nov in English. */
export function chartDayLabel(ymd: string, lang: string): string {
  const d = new Date(`${ymd}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return ymd;
  if (lang === 'ja') return `${d.getUTCMonth() + 1}/${d.getUTCDate()}(${'日月火水木金土'[d.getUTCDay()] ?? ''})`;
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(d);
}

/** Round steps for a value axis: 1, 2 or 5 × 10ⁿ, about `count` of them up to `max`. */
export function axisTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step / 2 && ticks.length <= count * 2 + 1; v += step) ticks.push(Math.round(v));
  if ((ticks[ticks.length - 1] ?? 0) < max) ticks.push(Math.round((ticks[ticks.length - 1] ?? 0) + step));
  return ticks;
}

const CHART_FONT = 14;

/**
 * A horizontal bar chart in SVG, readable at a glance: labels at 14 px in a column of their own, each bar with
 * its value, a value axis with gridlines, and the chart's title for screen readers. Two small charts do not
 * justify a charting library.
 */
export function BarChart({ title, data, testId }: { title: string; data: readonly { label: string; value: number }[]; testId: string }) {
  const { lang } = useI18n();
  const ticks = axisTicks(Math.max(1, ...data.map((d) => d.value)), 4);
  const top = ticks[ticks.length - 1] ?? 1;
  const rowH = 32;
  const labelW = 230;
  const valueW = 80;
  const width = 720;
  const axisH = 28;
  const plotW = width - labelW - valueW;
  const height = Math.max(1, data.length) * rowH + axisH;
  const x = (v: number) => labelW + (plotW * v) / top;
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg role="img" aria-label={title} width={width} height={height} viewBox={`0 0 ${width} ${height}`} className="chart-svg" fontSize={CHART_FONT}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={x(v)} x2={x(v)} y1={0} y2={height - axisH} className="grid" />
            <text x={x(v)} y={height - 8} textAnchor="middle" className="axis">
              {v.toLocaleString(lang)}
            </text>
          </g>
        ))}
        {data.map((d, i) => {
          const w = x(d.value) - labelW;
          return (
            <g key={d.label} transform={`translate(0 ${i * rowH})`}>
              <title>{`${d.label}: ${d.value.toLocaleString(lang)}`}</title>
              <text x={labelW - 10} y={rowH / 2 + CHART_FONT / 2 - 2} textAnchor="end">
                {d.label.length > 26 ? `${d.label.slice(0, 25)}…` : d.label}
              </text>
              <rect x={labelW} y={5} width={Math.max(d.value > 0 ? 2 : 0, w)} height={rowH - 10} className="bar" />
              <text x={labelW + w + 8} y={rowH / 2 + CHART_FONT / 2 - 2} className="value">
                {d.value.toLocaleString(lang)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** Every day from the first to the last of `data` (`YYYY-MM-DD`), the days without a value as 0. */
function everyDay(data: readonly { day: string; value: number }[]): { day: string; value: number }[] {
  const byDay = new Map<string, number>();
  for (const d of data) byDay.set(d.day, (byDay.get(d.day) ?? 0) + d.value);
  const days = [...byDay.keys()].sort();
  const first = days[0];
  const last = days[days.length - 1];
  if (first === undefined || last === undefined) return [];
  const out: { day: string; value: number }[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`) && out.length < 400; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ day, value: byDay.get(day) ?? 0 });
  }
  return out;
}

/**
 * A day-by-day column chart in SVG: one column per calendar day (days without reads shown as such, weekends
 * shaded), a value axis with gridlines, and day labels in the reader's language (11/3(火)) often enough to
 * find a day — each column names its day and count on hover and to screen readers.
 */
export function DailyChart({ title, data, testId }: { title: string; data: readonly { day: string; value: number }[]; testId: string }) {
  const { lang } = useI18n();
  const days = everyDay(data);
  const ticks = axisTicks(Math.max(1, ...days.map((d) => d.value)), 5);
  const top = ticks[ticks.length - 1] ?? 1;
  const width = 960;
  const height = 320;
  const left = 64;
  const right = 16;
  const bottom = 56;
  const plotH = height - bottom - 12;
  const colW = (width - left - right) / Math.max(1, days.length);
  const y = (v: number) => 12 + plotH - (plotH * v) / top;
  // A label every day for a fortnight; beyond, on Mondays — every one, or every n-th so that at most ten fit.
  const daily = days.length <= 16;
  const weeksApart = Math.max(1, Math.ceil(days.length / 70));
  let mondays = 0;
  return (
    <figure className="chart chart-wide" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <svg role="img" aria-label={title} width={width} height={height} viewBox={`0 0 ${width} ${height}`} className="chart-svg" fontSize={CHART_FONT}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={left} x2={width - right} y1={y(v)} y2={y(v)} className="grid" />
            <text x={left - 8} y={y(v) + CHART_FONT / 2 - 2} textAnchor="end" className="axis">
              {v.toLocaleString(lang)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const dow = new Date(`${d.day}T00:00:00Z`).getUTCDay();
          const x = left + i * colW;
          if (dow === 1) mondays++;
          const labelled = daily || (dow === 1 && (mondays - 1) % weeksApart === 0);
          return (
            <g key={d.day}>
              <title>{`${chartDayLabel(d.day, lang)}: ${d.value.toLocaleString(lang)}`}</title>
              {(dow === 0 || dow === 6) && <rect x={x} y={12} width={colW} height={plotH} className="weekend" />}
              <rect x={x + colW * 0.15} y={y(d.value)} width={Math.max(1, colW * 0.7)} height={Math.max(0, y(0) - y(d.value))} className="bar" />
              {labelled && (
                <>
                  <line x1={x + colW / 2} x2={x + colW / 2} y1={y(0)} y2={y(0) + 6} className="tick" />
                  <text x={x + colW / 2} y={y(0) + 24} textAnchor="middle" className="axis">
                    {chartDayLabel(d.day, lang)}
                  </text>
                </>
              )}
            </g>
          );
        })}
        <line x1={left} x2={width - right} y1={y(0)} y2={y(0)} className="baseline" />
      </svg>
    </figure>
  );
}
