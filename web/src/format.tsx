import type { FieldView, Vocabulary } from './api.ts';
import type { I18n } from './i18n.tsx';

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
