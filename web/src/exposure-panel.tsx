import { useState } from 'react';
import { useVocabulary, VocabularyLabel } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { opsApi, type Exposure } from './ops-api.ts';

/**
 * The exposure report beside the regulator's tables (issue 22): every way a retail-side person could see another
 * retailer's customer's non-public items in the period — declared emergencies, grants that should not exist,
 * decision-table versions — each with its window, its people and the reads made under it. Built on request (it
 * loads the period's log again); the compliance report download carries the same tables.
 */
export function ExposurePanel({ period }: { period: { from: string; to: string } }) {
  const { t, lang } = useI18n();
  const vocabulary = useVocabulary();
  const [exposure, setExposure] = useState<Exposure | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setExposure(await opsApi.exposure(period.from, period.to));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const when = (iso: string | null) => (iso === null ? '—' : formatInstant(iso, lang));
  const num = (n: number) => n.toLocaleString(lang);
  const fieldName = (key: string) => {
    const f = vocabulary?.fields.find((x) => x.key === key);
    return f === undefined ? key : lang === 'ja' ? f.ja : f.en;
  };
  return (
    <section aria-labelledby="exposure-title" data-testid="exposure">
      <h2 id="exposure-title">{t('exposureTitle')}</h2>
      <p className="small">{t('exposureLead')}</p>
      <p className="no-print">
        <button type="button" className="secondary" onClick={() => void run()} disabled={busy}>
          {busy ? t('running') : t('exposureRun')}
        </button>
      </p>
      <ErrorMessage error={error} />
      {exposure !== null && (
        <div aria-live="polite">
          <h3>{t('exposureEmergencies')}</h3>
          {exposure.emergencies.length === 0 ? (
            <p>{t('exposureNone')}</p>
          ) : (
            <table data-testid="exposure-emergencies">
              <thead>
                <tr>
                  <th scope="col">{t('exposureWindow')}</th>
                  <th scope="col">{t('exposureAreas')}</th>
                  <th scope="col">{t('exposurePeople')}</th>
                  <th scope="col">{t('exposureReads')}</th>
                  <th scope="col">{t('exposureViews')}</th>
                  <th scope="col">{t('exposureViewers')}</th>
                  <th scope="col">{t('exposureFirstLast')}</th>
                </tr>
              </thead>
              <tbody>
                {exposure.emergencies.map((e) => (
                  <tr key={e.declarationId} data-declaration={e.declarationId}>
                    <th scope="row">
                      {e.reason}
                      <span className="small">
                        {' '}
                        {when(e.from)} 〜 {when(e.to)}
                      </span>
                    </th>
                    <td>{e.areas.join('、')}</td>
                    <td>
                      {e.people.map((p) => (
                        <div key={p.personId}>
                          {p.name}（{p.side === null ? '—' : <VocabularyLabel map={vocabulary?.sides} code={p.side} bare />}：
                          {p.fields.map(fieldName).join('・')}）
                        </div>
                      ))}
                    </td>
                    <td className="num">{num(e.reads)}</td>
                    <td className="num" data-testid="emergency-views">
                      {num(e.views)}
                    </td>
                    <td className="num">{num(e.viewers)}</td>
                    <td>
                      {when(e.first)} ／ {when(e.last)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('exposureGrants')}</h3>
          <p className="small">
            {t('exposureGrantSummary', {
              holders: exposure.grantSummary.holders,
              viewers: exposure.grantSummary.viewers,
              views: exposure.grantSummary.views,
              points: exposure.grantSummary.supplyPoints,
            })}
          </p>
          {exposure.grants.length === 0 ? (
            <p>{t('exposureNone')}</p>
          ) : (
            <table data-testid="exposure-grants">
              <thead>
                <tr>
                  <th scope="col">{t('exposureHolder')}</th>
                  <th scope="col">{t('exposurePermission')}</th>
                  <th scope="col">{t('exposureRules')}</th>
                  <th scope="col">{t('exposureInForce')}</th>
                  <th scope="col">{t('exposureWrongful')}</th>
                  <th scope="col">{t('exposureViews')}</th>
                  <th scope="col">{t('exposureFirstLast')}</th>
                </tr>
              </thead>
              <tbody>
                {exposure.grants.map((g) => (
                  <tr key={`${g.userId}/${g.permissionId}/${g.grantedAt}`}>
                    <th scope="row">{g.userId}</th>
                    <td>{g.permissionId}</td>
                    <td>
                      {g.rules.map((rule) => (
                        <div key={rule}>
                          <VocabularyLabel map={vocabulary?.refusalRules} code={rule} />
                        </div>
                      ))}
                    </td>
                    <td>
                      {g.from} 〜 {g.to ?? t('exposureStillOpen')}
                    </td>
                    <td data-testid="wrongful">{g.windows.map((w) => `${w.from} 〜 ${w.to ?? t('exposureStillOpen')}`).join('、')}</td>
                    <td className="num">{num(g.views)}</td>
                    <td>
                      {when(g.first)} ／ {when(g.last)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('exposurePolicies')}</h3>
          {exposure.policies.length === 0 ? (
            <p>{t('exposureNone')}</p>
          ) : (
            <table data-testid="exposure-policies">
              <thead>
                <tr>
                  <th scope="col">{t('exposureVersion')}</th>
                  <th scope="col">{t('exposureAllowed')}</th>
                  <th scope="col">{t('exposurePolicyReads')}</th>
                  <th scope="col">{t('exposurePolicyViews')}</th>
                  <th scope="col">{t('exposureFirstLast')}</th>
                </tr>
              </thead>
              <tbody>
                {exposure.policies.map((p) => (
                  <tr key={p.version}>
                    <th scope="row">
                      <code>{p.version.slice(0, 12)}</code> <span className="small">{p.current ? t('exposureCurrent') : t('exposurePast')}</span>
                    </th>
                    <td>{p.allowed === null ? t('exposureAllowedUnknown') : p.allowed ? t('exposureAllowedYes') : t('exposureAllowedNo')}</td>
                    <td className="num">{num(p.reads)}</td>
                    <td className="num">{num(p.views)}</td>
                    <td>
                      {when(p.first)} ／ {when(p.last)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('exposurePeopleTitle')}</h3>
          <p className="small">{t('exposurePeopleLead')}</p>
          {exposure.people.length === 0 ? (
            <p>{t('exposureNone')}</p>
          ) : (
            <table data-testid="exposure-people">
              <thead>
                <tr>
                  <th scope="col">{t('exposureHolder')}</th>
                  <th scope="col">{t('exposureDecidedSide')}</th>
                  <th scope="col">{t('exposureViews')}</th>
                  <th scope="col">{t('exposureFirstLast')}</th>
                </tr>
              </thead>
              <tbody>
                {exposure.people.map((p) => (
                  <tr key={p.userId}>
                    <th scope="row">{p.userId}</th>
                    <td>
                      {p.decidedSides.map((side) => (
                        <VocabularyLabel key={side} map={vocabulary?.sides} code={side} bare />
                      ))}
                    </td>
                    <td className="num">{num(p.views)}</td>
                    <td>
                      {when(p.first)} ／ {when(p.last)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
