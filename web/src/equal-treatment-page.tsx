import { useState, type FormEvent } from 'react';
import { labelOf, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { useI18n } from './i18n.tsx';
import { SpreadsheetDownloads } from './spreadsheet-downloads.tsx';
import { inquiryApi, type EqualTreatment, type RetailerFigures } from './inquiry-api.ts';
import { useLoad } from './use-load.ts';

/**
 * Equal treatment of retailers' inquiries (GET /api/inquiries/equal-treatment): per retailer as the server
 * lists them (the affiliated one first, marked), all the others pooled, and the flags — where the affiliated
 * retailer was served faster or differently — shown above the table. The period opens as the server's
 * default (the last 30 days by its clock) and can be changed; CSV and XLSX for the compliance report.
 */
export function EqualTreatmentPage({ vocabulary }: { vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  // The period asked for: none at first (the server's default), then the one the form submits.
  const [askedFrom, setAskedFrom] = useState('');
  const [askedTo, setAskedTo] = useState('');
  const [period, setPeriod] = useState<{ from: string; to: string } | null>(null);
  const [data, error] = useLoad(
    () =>
      inquiryApi.equalTreatment(askedFrom === '' ? null : { from: askedFrom, to: askedTo }).then((d) => {
        setPeriod({ from: d.from, to: d.to });
        return d;
      }),
    [askedFrom, askedTo],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (period === null) return;
    setAskedFrom(period.from);
    setAskedTo(period.to);
  };
  const num = (n: number) => n.toLocaleString(lang);
  const hours = (n: number | null) => (n === null ? '—' : t('inqHours', { n: n.toLocaleString(lang, { maximumFractionDigits: 1 }) }));
  const share = (n: number | null) => (n === null ? '—' : n.toLocaleString(lang, { style: 'percent', maximumFractionDigits: 1 }));
  const measureValue = (measure: string, n: number) => (measure.endsWith('_hours') ? hours(n) : share(n));
  const row = (f: RetailerFigures, name: string, kind: 'affiliated' | 'retailer' | 'others') => (
    <tr key={`${kind}-${f.retailerCode}`} data-retailer={f.retailerCode} data-kind={kind} className={kind === 'others' ? 'total' : kind}>
      <th scope="row">
        {name}
        {kind === 'affiliated' && <span className="state affiliated-mark">{t('inqAffiliated')}</span>}
      </th>
      {[
        num(f.inquiries),
        num(f.answeredAtOnce),
        share(f.shareAtOnce),
        num(f.queued),
        num(f.answeredFromQueue),
        hours(f.queueHours.median),
        hours(f.queueHours.p95),
        num(f.refused),
        num(f.refusedAtIntake),
        num(f.open),
        num(f.late),
      ].map((v, i) => (
        <td key={i} className="num" data-col={i}>
          {v}
        </td>
      ))}
    </tr>
  );
  const q = data === null ? null : new URLSearchParams({ from: data.from, to: data.to });
  return (
    <section aria-labelledby="equal-title">
      <h1 id="equal-title">{t('inqEqualTitle')}</h1>
      <p>{t('inqEqualLead')}</p>
      <form className="filters" onSubmit={submit}>
        <label>
          {t('from')}
          <input type="date" name="from" value={period?.from ?? ''} onChange={(e) => setPeriod({ from: e.target.value, to: period?.to ?? '' })} required />
        </label>
        <label>
          {t('to')}
          <input type="date" name="to" value={period?.to ?? ''} onChange={(e) => setPeriod({ from: period?.from ?? '', to: e.target.value })} required />
        </label>
        <button type="submit">{t('inqShowPeriod')}</button>
      </form>
      <ErrorMessage error={error} />
      {data === null && error === null && <p aria-busy="true">{t('loading')}</p>}
      {data !== null && q !== null && (
        <div data-testid="equal-treatment">
          <Flags data={data} vocabulary={vocabulary} measureValue={measureValue} />
          <p className="downloads">
            <SpreadsheetDownloads base={`/api/inquiries/equal-treatment?${q}`} />
          </p>
          <p className="small">
            {t('period')}: {data.from} 〜 {data.to}
          </p>
          <div className="table-wrap">
            <table data-testid="equal-table">
              <thead>
                <tr>
                  <th scope="col">{t('inqRetailer')}</th>
                  <th scope="col">{t('inqCount')}</th>
                  <th scope="col">{t('inqAtOnce')}</th>
                  <th scope="col">{t('inqShareAtOnce')}</th>
                  <th scope="col">{t('inqQueued')}</th>
                  <th scope="col">{t('inqAnsweredFromQueue')}</th>
                  <th scope="col">{t('inqMedianHours')}</th>
                  <th scope="col">{t('inqP95Hours')}</th>
                  <th scope="col">{t('inqRefused')}</th>
                  <th scope="col">{t('inqRefusedAtIntake')}</th>
                  <th scope="col">{t('inqOpen')}</th>
                  <th scope="col">{t('inqLate')}</th>
                </tr>
              </thead>
              <tbody>
                {data.retailers.map((f) => row(f, `${f.retailerName ?? f.retailerCode}（${f.retailerCode}）`, f.affiliated ? 'affiliated' : 'retailer'))}
                {row(data.others, t('inqOthersPooled'), 'others')}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}

/** The flags, prominently: each a case type where the affiliated retailer was served better, by how much. */
function Flags({ data, vocabulary, measureValue }: { data: EqualTreatment; vocabulary: Vocabulary; measureValue: (measure: string, n: number) => string }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  if (data.flags.length === 0)
    return (
      <p className="alert ok" role="status" data-testid="no-flags">
        {t('inqNoFlags')}
      </p>
    );
  return (
    <div className="alert warn flags" role="alert" data-testid="flags">
      <p>
        <strong>⚠ {t('inqFlagsTitle')}</strong>
      </p>
      <ul>
        {data.flags.map((f) => (
          <li key={`${f.caseType}-${f.measure}`} data-case={f.caseType} data-measure={f.measure}>
            {t('inqFlagLine', {
              case: i18n.l(labelOf(vocabulary.caseTypes, f.caseType), f.caseType),
              measure: i18n.l(labelOf(vocabulary.equalityMeasures, f.measure), f.measure),
              a: measureValue(f.measure, f.affiliated),
              o: measureValue(f.measure, f.others),
              ac: f.affiliatedCount.toLocaleString(lang),
              oc: f.othersCount.toLocaleString(lang),
            })}
          </li>
        ))}
      </ul>
    </div>
  );
}
