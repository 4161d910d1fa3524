import { useMemo, useState } from 'react';
import { api, labelOf, type Checklist, type ChecklistRow, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { useI18n, type MessageKey } from './i18n.tsx';
import { SpreadsheetDownloads } from './spreadsheet-downloads.tsx';
import { useLoad } from './use-load.ts';

const RELATIONS = ['own', 'former', 'other', 'none'] as const;

/**
 * The masking checklist as a matrix: for one route and one kind of user, each field against each relation
 * to the customer, in normal times and in a declared emergency. The full list downloads as CSV / Markdown.
 */
export function ChecklistPage({ vocabulary }: { vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [route, setRoute] = useState('');
  const [principalClass, setPrincipalClass] = useState('affiliated_retail');
  const [data, error] = useLoad(() =>
    api.checklist().then((c) => {
      setRoute(c.rows[0]?.route ?? '');
      return c;
    }),
  );

  const routes = useMemo(() => [...new Set(data?.rows.map((r) => r.route) ?? [])], [data]);
  const classes = useMemo(() => [...new Set(data?.rows.map((r) => r.principalClass) ?? [])], [data]);
  const cell = (field: string, relation: string, emergency: boolean) =>
    data?.rows.find(
      (r) => r.route === route && r.principalClass === principalClass && r.field === field && r.relation === relation && r.emergency === emergency,
    );
  const purposeLabel = (p: ChecklistRow['shownFor'][number]) => i18n.l(vocabulary.purposes[p], p);
  const reasonLabel = (r: ChecklistRow['reasons'][number]) => i18n.l(vocabulary.reasons[r], r);

  return (
    <section aria-labelledby="checklist-title">
      <h1 id="checklist-title">{t('checklistTitle')}</h1>
      <p>{t('checklistLead')}</p>
      <ErrorMessage error={error} />
      {data === null && error === null && <p aria-busy="true">{t('loading')}</p>}
      {data !== null && (
        <>
          <p className={`alert ${data.pass ? 'ok' : 'error'}`} role="status" data-testid="checklist-verdict">
            {data.pass ? t('checklistPass') : t('checklistFail', { n: data.violations.length })}
          </p>
          <p className="small">
            {t('policyVersion')}: <span className="mono">{data.policyVersion.slice(0, 16)}</span> ・ <SpreadsheetDownloads base="/api/policy/checklist" /> ・{' '}
            <a href="/api/policy/checklist?format=md" download="masking-checklist.md">
              {t('downloadMd')}
            </a>
          </p>
          <div className="filters">
            <label>
              {t('route')}{' '}
              <select value={route} onChange={(e) => setRoute(e.target.value)}>
                {routes.map((r) => (
                  <option key={r} value={r}>
                    {i18n.l(labelOf(vocabulary.routes, r), r)}（{r}）
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('principalClass')}{' '}
              <select value={principalClass} onChange={(e) => setPrincipalClass(e.target.value)}>
                {classes.map((c) => (
                  <option key={c} value={c}>
                    {i18n.l(vocabulary.principalClasses[c], c)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="table-wrap">
            <table className="matrix">
              <thead>
                <tr>
                  <th scope="col" rowSpan={2}>
                    {t('field')}
                  </th>
                  {RELATIONS.map((r) => (
                    <th scope="colgroup" colSpan={2} key={r}>
                      {t(`relation_${r}` as MessageKey)}
                    </th>
                  ))}
                </tr>
                <tr>
                  {RELATIONS.flatMap((r) => [
                    <th scope="col" key={`${r}-n`}>
                      {t('emergencyOff')}
                    </th>,
                    <th scope="col" key={`${r}-e`}>
                      {t('emergencyOn')}
                    </th>,
                  ])}
                </tr>
              </thead>
              <tbody>
                {vocabulary.fields
                  .filter((f) => data.rows.some((r) => r.route === route && r.field === f.key))
                  .map((f) => (
                    <tr key={f.key} data-field={f.key}>
                      <th scope="row">{f[i18n.lang]}</th>
                      {RELATIONS.flatMap((r) =>
                        [false, true].map((e) => {
                          const row = cell(f.key, r, e);
                          const shown = row?.outcome === 'shown';
                          const detail = row === undefined ? '' : shown ? row.shownFor.map(purposeLabel).join('、') : row.reasons.map(reasonLabel).join('、');
                          return (
                            <td key={`${r}-${e}`} className={shown ? 'cell-shown' : 'cell-masked'} data-relation={r} data-emergency={e}>
                              <span className="mark">{shown ? `○ ${t('shown')}` : `— ${t('masked')}`}</span>
                              <span className="small detail">
                                <span className="sr-only">{shown ? t('shownFor') : t('reasons')}: </span>
                                {detail}
                              </span>
                            </td>
                          );
                        }),
                      )}
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
          <InquiryAllowances inquiry={data.inquiry} vocabulary={vocabulary} principalClass={principalClass} />
        </>
      )}
    </section>
  );
}

/**
 * The inquiry allowances as `gridwall verify` enumerates them: per case type and item, how a retailer of the
 * chosen kind is answered with the customer's consent (without it, nothing), whether the firewall shows it,
 * and the verdict of the inquiry rules (every retailer alike, never beyond the case, every allowance served).
 */
function InquiryAllowances({ inquiry, vocabulary, principalClass }: { inquiry: Checklist['inquiry']; vocabulary: Vocabulary; principalClass: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const rows = inquiry.rows.filter((r) => r.requester === principalClass && r.consent === 'valid');
  if (rows.length === 0) return null;
  const cases = [...new Set(rows.map((r) => r.caseType))];
  const items = vocabulary.fields.filter((f) => rows.some((r) => r.item === f.key));
  return (
    <section aria-labelledby="inquiry-checklist-title" data-testid="inquiry-checklist">
      <h2 id="inquiry-checklist-title">{t('inqChecklistTitle')}</h2>
      <p className={`alert ${inquiry.pass ? 'ok' : 'error'}`} role="status" data-testid="inquiry-verdict">
        {inquiry.pass ? t('inqChecklistPass') : t('inqChecklistFail', { n: inquiry.violations.length })}
      </p>
      <p className="small">{t('inqChecklistLead')}</p>
      <div className="table-wrap">
        <table className="matrix">
          <thead>
            <tr>
              <th scope="col">{t('field')}</th>
              {cases.map((c) => (
                <th scope="col" key={c}>
                  {i18n.l(vocabulary.caseTypes[c], c)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((f) => (
              <tr key={f.key} data-field={f.key}>
                <th scope="row">{f[i18n.lang]}</th>
                {cases.map((c) => {
                  const row = rows.find((r) => r.caseType === c && r.item === f.key);
                  const how = row?.answering ?? 'never';
                  return (
                    <td key={c} className={row?.outcome === 'shown' ? 'cell-shown' : 'cell-masked'} data-case={c} data-answering={how}>
                      {t(`inqAnswering_${how}` as MessageKey)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
