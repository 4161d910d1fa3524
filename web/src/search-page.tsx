import { useEffect, useState, type FormEvent } from 'react';
import { api, type Me, type SearchPage as Page, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { FieldValue, formatSupplyPointId } from './format.tsx';
import { useI18n, type MessageKey } from './i18n.tsx';
import { navigate, onLinkClick } from './router.ts';

const PAGE_SIZE = 20;
/** A field a search result may carry (the server says which: the console picks none itself). */
type Column = keyof Page['items'][number]['fields'];
type By = 'id' | 'address' | 'name' | 'phone';
const BY_LABEL: Readonly<Record<By, MessageKey>> = { id: 'byId', address: 'byAddress', name: 'byName', phone: 'byPhone' };
const BY_HINT: Readonly<Record<By, MessageKey>> = { id: 'idHint', address: 'addressHint', name: 'nameHint', phone: 'phoneHint' };

/** Under emergency support each look-up carries its stated reason (the server refuses one without). */
const recordPath = (id: string, purpose: string, reason = '') => `/records/${id}?${new URLSearchParams({ purpose, ...(reason === '' ? {} : { reason }) })}`;

/**
 * Supply point search. The ways offered are those the server says this person may use under the chosen
 * purpose; the search itself runs from the URL, so back and reload repeat it.
 */
export function SearchPage({ me, purpose, vocabulary, query }: { me: Me; purpose: string; vocabulary: Vocabulary; query: URLSearchParams }) {
  const i18n = useI18n();
  const { t } = i18n;
  const allowed: By[] = [
    'id',
    'address',
    ...(me.abilities.searchByHolderName.some((p) => p === purpose) ? (['name'] as const) : []),
    ...(me.abilities.searchByPhone.some((p) => p === purpose) ? (['phone'] as const) : []),
  ];
  const qBy = query.get('by');
  const by: By = allowed.find((b) => b === qBy) ?? 'address';
  const q = query.get('q') ?? '';
  const offset = Math.max(0, Number(query.get('offset') ?? '0') || 0);
  const emergency = purpose === 'emergency_support';
  const reason = emergency ? (query.get('reason') ?? '') : '';
  const [formBy, setFormBy] = useState<By>(by);
  const [term, setTerm] = useState(q);
  const [formReason, setFormReason] = useState(reason);
  const [result, setResult] = useState<Page | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    setFormBy(by);
    setTerm(q);
  }, [by, q]);

  useEffect(() => {
    setResult(null);
    setError(null);
    if (q === '' || purpose === '' || by === 'id') return;
    let live = true;
    setLoading(true);
    const param = by === 'address' ? 'address' : by === 'name' ? 'name' : 'phone';
    api
      .search({ purpose, [param]: q, limit: String(PAGE_SIZE), offset: String(offset), ...(reason === '' ? {} : { reason }) })
      .then(
        (a) => live && setResult(a.body),
        (e: unknown) => live && setError(e),
      )
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [by, q, offset, purpose, reason]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const value = term.trim();
    if (value === '') return;
    const why = emergency ? formReason.trim() : '';
    if (formBy === 'id') navigate(recordPath(value.replace(/[\s-]/g, ''), purpose, why));
    else navigate(`/search?${new URLSearchParams({ by: formBy, q: value, ...(why === '' ? {} : { reason: why }) })}`);
  };
  const pagePath = (o: number) => `/search?${new URLSearchParams({ by, q, offset: String(o), ...(reason === '' ? {} : { reason }) })}`;
  // The columns are the fields the server put in the results (manifest order): the console picks none itself.
  const columns = vocabulary.fields.map((f) => f.key).filter((k): k is Column => k !== 'supply_point_id' && result?.items.some((i) => k in i.fields) === true);
  const columnLabel = (key: string) => {
    const f = vocabulary.fields.find((x) => x.key === key);
    return f === undefined ? key : f[i18n.lang];
  };

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">{t('searchTitle')}</h1>
      {me.abilities.purposes.length === 0 ? (
        <p className="alert">{t('purposeNone')}</p>
      ) : (
        purpose === '' && (
          <p className="alert warn" role="status">
            {t('purposeRequired')}
          </p>
        )
      )}
      <form className="search" onSubmit={submit} aria-describedby="search-hint">
        <fieldset disabled={purpose === ''}>
          <legend>{t('searchBy')}</legend>
          <div className="radios" role="radiogroup">
            {allowed.map((b) => (
              <label key={b}>
                <input type="radio" name="by" value={b} checked={formBy === b} onChange={() => setFormBy(b)} /> {t(BY_LABEL[b])}
              </label>
            ))}
          </div>
          <div className="row">
            <label htmlFor="term" className="sr-only">
              {t('searchTerm')}
            </label>
            <input
              id="term"
              name="q"
              value={term}
              onChange={(e) => setTerm(e.target.value)}
              inputMode={formBy === 'id' || formBy === 'phone' ? 'numeric' : 'text'}
              minLength={formBy === 'phone' ? 10 : 2}
              maxLength={100}
              required
              autoComplete="off"
            />
            <button type="submit">{t('search')}</button>
          </div>
          <p id="search-hint" className="small">
            {t(BY_HINT[formBy])}
          </p>
          {emergency && (
            <label className="reason">
              {t('reasonForRead')}
              <input name="reason" value={formReason} onChange={(e) => setFormReason(e.target.value)} required maxLength={200} />
              <span className="small">{t('reasonRequiredHint')}</span>
            </label>
          )}
        </fieldset>
      </form>

      <ErrorMessage error={error} />
      <div aria-live="polite">
        {loading && <p aria-busy="true">{t('loading')}</p>}
        {result !== null && (
          <>
            <h2>{t('results')}</h2>
            {result.items.length === 0 ? (
              <p>{t('noResults')}</p>
            ) : (
              <p className="small">{t('resultsCount', { n: result.items.length, from: offset + 1, to: offset + result.items.length })}</p>
            )}
          </>
        )}
      </div>
      {result !== null && result.items.length > 0 && (
        <div className="table-wrap">
          <table className="results">
            <thead>
              <tr>
                <th scope="col">{columnLabel('supply_point_id')}</th>
                {columns.map((c) => (
                  <th scope="col" key={c}>
                    {columnLabel(c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.items.map((item) => (
                <tr key={item.supplyPointId} data-supply-point={item.supplyPointId}>
                  <th scope="row">
                    <a
                      href={recordPath(item.supplyPointId, purpose, reason)}
                      onClick={onLinkClick(recordPath(item.supplyPointId, purpose, reason))}
                      className="mono"
                    >
                      {formatSupplyPointId(item.supplyPointId)}
                    </a>
                  </th>
                  {columns.map((c) => (
                    <td key={c} data-field={c}>
                      <FieldValue field={c} view={item.fields[c]} vocabulary={vocabulary} i18n={i18n} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result !== null && (offset > 0 || result.page.hasMore) && (
        <nav className="pager" aria-label={t('results')}>
          <PageLink path={offset > 0 ? pagePath(Math.max(0, offset - PAGE_SIZE)) : null} label={`← ${t('previous')}`} />
          <PageLink path={result.page.hasMore ? pagePath(offset + PAGE_SIZE) : null} label={`${t('next')} →`} />
        </nav>
      )}
    </section>
  );
}

function PageLink({ path, label }: { path: string | null; label: string }) {
  if (path === null)
    return (
      <span className="disabled" aria-disabled="true">
        {label}
      </span>
    );
  return (
    <a href={path} onClick={onLinkClick(path)}>
      {label}
    </a>
  );
}
