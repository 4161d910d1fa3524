import { useEffect, useState, type FormEvent } from 'react';
import { api, labelOf, type AuditEvent, type AuditStatus, type AuditVerify, type Vocabulary } from './api.ts';
import { VocabularyLabel } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, formatSupplyPointId } from './format.tsx';
import { messageKey, useI18n } from './i18n.tsx';
import { SpreadsheetDownloads } from './spreadsheet-downloads.tsx';
import { navigate, onLinkClick } from './router.ts';

const PAGE_SIZE = 50;
const FILTERS = ['person', 'supplyPoint', 'retailer', 'from', 'to', 'outcome'] as const;
type Filter = (typeof FILTERS)[number];

const filtersOf = (query: URLSearchParams) => Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Record<Filter, string>;
const offsetOf = (query: URLSearchParams) => Math.max(0, Number(query.get('offset') ?? '0') || 0);

/** The access log for compliance: search by person, supply point, retailer, period and outcome; the chain's state. */
export function AuditPage({ vocabulary, query }: { vocabulary: Vocabulary; query: URLSearchParams }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const filters = filtersOf(query);
  const offset = offsetOf(query);
  const [form, setForm] = useState(filters);
  const [items, setItems] = useState<readonly AuditEvent[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState<AuditStatus | null>(null);
  const [check, setCheck] = useState<AuditVerify | null>(null);
  const [checking, setChecking] = useState(false);
  const key = query.toString();

  // The search runs from the URL: again whenever its query changes (read from `key`, the query's text).
  useEffect(() => {
    const asked = new URLSearchParams(key);
    const wanted = filtersOf(asked);
    setForm(wanted);
    setError(null);
    let live = true;
    const params: Record<string, string> = { limit: String(PAGE_SIZE), offset: String(offsetOf(asked)) };
    for (const f of FILTERS) if (wanted[f] !== '') params[f] = wanted[f];
    api.auditEvents(params).then(
      (r) => {
        if (!live) return;
        setItems(r.items);
        setHasMore(r.page.hasMore);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [key]);

  useEffect(() => {
    api.auditStatus().then(setStatus, setError);
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const f of FILTERS) if (form[f].trim() !== '') p.set(f, form[f].trim());
    navigate(`/audit?${p}`);
  };
  const verify = async () => {
    setChecking(true);
    setCheck(null);
    try {
      setCheck(await api.auditVerify());
      setStatus(await api.auditStatus());
    } catch (e) {
      setError(e);
    } finally {
      setChecking(false);
    }
  };
  const breakText = (b: AuditVerify['firstBreak']) => {
    if (b === null) return '';
    // The server's detail (English, with the numbers) stays on the element's title for the expert.
    const key = messageKey(`break_${b.kind}`);
    return key === null ? b.detail : t(key);
  };
  const pagePath = (o: number) => {
    const p = new URLSearchParams(query);
    p.set('offset', String(o));
    return `/audit?${p}`;
  };
  const exportQuery = new URLSearchParams(Object.entries({ from: filters.from, to: filters.to }).filter(([, v]) => v !== ''));
  const field = (name: Filter, label: string, type = 'text') => (
    <label>
      {label}
      <input type={type} name={name} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })} />
    </label>
  );

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">{t('auditTitle')}</h1>
      <section className="panel" aria-labelledby="chain-title" data-testid="chain-status">
        <h2 id="chain-title">{t('chainStatus')}</h2>
        {status !== null && (
          <dl className="facts">
            <dt>{t('chainHead')}</dt>
            <dd>
              {status.head.seq.toLocaleString(lang)} <span className="mono small">{status.head.hash.slice(0, 16)}…</span>
            </dd>
            <dt>{t('lastSeal')}</dt>
            <dd>
              {status.lastSeal === null
                ? t('none')
                : `${status.lastSeal.seq.toLocaleString(lang)}（${formatInstant(status.lastSeal.signedAt, lang, 'seconds')}）`}
            </dd>
            <dt>{t('trustedKeys')}</dt>
            <dd className="mono" title={status.trustedKeys.map((k) => `${k.keyId}: ${k.source}`).join('\n')}>
              {status.trustedKeys.map((k) => k.keyId).join(', ') || t('none')}
            </dd>
            <dt>{t('witness')}</dt>
            <dd>
              {status.witness === null
                ? t('none')
                : status.witness.lastPublished === null
                  ? t('witnessEmpty', { file: status.witness.file })
                  : t('witnessLast', {
                      seq: status.witness.lastPublished.seq.toLocaleString(lang),
                      at: formatInstant(status.witness.lastPublished.signedAt, lang, 'seconds'),
                      file: status.witness.file,
                    })}
            </dd>
          </dl>
        )}
        {status?.writer.halted != null && (
          <p className="alert error" role="alert" data-testid="writer-halted">
            {t('writerHalted', { reason: status.writer.halted })}
          </p>
        )}
        <button type="button" onClick={() => void verify()} disabled={checking}>
          {checking ? t('verifying') : t('verifyNow')}
        </button>
        <div aria-live="polite">
          {check !== null && (
            <p
              className={`alert ${check.ok ? 'ok' : 'error'}`}
              data-testid="verify-result"
              data-break={check.firstBreak?.kind}
              title={check.firstBreak?.detail}
            >
              {check.ok
                ? t('verifyOk', {
                    n: check.events.toLocaleString(lang),
                    c: check.seals.toLocaleString(lang),
                    keys: check.trustedKeys.map((k) => k.keyId).join(', '),
                  })
                : t('verifyBroken', { seq: check.firstBreak?.seq ?? '?', detail: breakText(check.firstBreak) })}
            </p>
          )}
        </div>
      </section>

      <form className="filters audit-filters" onSubmit={submit}>
        {field('person', t('filterPerson'))}
        {field('supplyPoint', t('byId'))}
        {field('retailer', t('filterRetailer'))}
        {field('from', t('filterFrom'), 'date')}
        {field('to', t('filterTo'), 'date')}
        <label>
          {t('filterOutcome')}
          <select name="outcome" value={form.outcome} onChange={(e) => setForm({ ...form, outcome: e.target.value })}>
            <option value="">{t('all')}</option>
            <option value="served">{t('outcome_served')}</option>
            <option value="refused">{t('outcome_refused')}</option>
          </select>
        </label>
        <button type="submit">{t('search')}</button>
      </form>
      <p className="small">
        <SpreadsheetDownloads base={`/api/audit/export?${new URLSearchParams(exportQuery).toString()}`} /> ・{' '}
        <a href={`/api/audit/export?${new URLSearchParams([...exportQuery, ['format', 'jsonl']])}`} download>
          {t('downloadJsonl')}
        </a>{' '}
        ・ {t('logXlsxLimit')}
      </p>
      <ErrorMessage error={error} />
      {items !== null && items.length === 0 && <p>{t('noEvents')}</p>}
      {items !== null && items.length > 0 && (
        <div className="table-wrap">
          <table className="audit">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('who')}</th>
                <th scope="col">{t('route')}</th>
                <th scope="col">{t('purpose')}</th>
                <th scope="col">{t('filterOutcome')}</th>
                <th scope="col">{t('supplyPoints')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.seq} data-seq={e.seq} className={e.outcome === 'refused' ? 'refused' : undefined}>
                  <td className="num">{e.seq}</td>
                  <td>{formatInstant(e.occurredAt, lang, 'seconds')}</td>
                  <td>
                    {e.side !== null && <span className={`side side-${e.side}`}>{i18n.l(labelOf(vocabulary.sides, e.side), e.side)}</span>}{' '}
                    {e.userId ?? e.personId}
                    <span className="small block">
                      {e.employment === 'contractor' ? t('contractor') : ''} {e.office ?? ''}
                    </span>
                  </td>
                  <td className="small" data-testid="route">
                    <VocabularyLabel map={vocabulary.routes} code={e.route} />
                  </td>
                  <td>{i18n.l(labelOf(vocabulary.purposes, e.purpose), e.purpose)}</td>
                  <td>
                    {e.outcome === 'served' ? (
                      t('outcome_served')
                    ) : (
                      <>
                        {t('outcome_refused')}
                        {e.refusal !== null && (
                          <span className="small block" data-testid="refusal">
                            <VocabularyLabel map={vocabulary.accessRefusals} code={e.refusal} />
                          </span>
                        )}
                      </>
                    )}
                  </td>
                  <td className="small">
                    {e.records.map((r) => (
                      <span key={r.supplyPointId} className="block">
                        <span className="mono">{formatSupplyPointId(r.supplyPointId)}</span> {t(`relation_${r.relation}`)}
                        {r.retailerCode !== null && ` ${r.retailerCode}`} ／ {t('maskedCount', { n: Object.keys(r.masked).length })}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {items !== null && (offset > 0 || hasMore) && (
        <nav className="pager" aria-label={t('results')}>
          {offset > 0 ? (
            <a href={pagePath(Math.max(0, offset - PAGE_SIZE))} onClick={onLinkClick(pagePath(Math.max(0, offset - PAGE_SIZE)))}>
              ← {t('previous')}
            </a>
          ) : (
            <span className="disabled">← {t('previous')}</span>
          )}
          {hasMore ? (
            <a href={pagePath(offset + PAGE_SIZE)} onClick={onLinkClick(pagePath(offset + PAGE_SIZE))}>
              {t('next')} →
            </a>
          ) : (
            <span className="disabled">{t('next')} →</span>
          )}
        </nav>
      )}
    </section>
  );
}
