import { useEffect, useState } from 'react';
import { api, labelOf, type Answer, type RecordView, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { FieldValue, formatSupplyPointId } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { navigate, onLinkClick } from './router.ts';

/**
 * One supply point's record, every field as the firewall decided it for this person, this purpose, now.
 * The purpose is part of the URL: the read is logged under it, and the screen says which it was.
 */
export function RecordPage({ id, purpose, reason = '', vocabulary }: { id: string; purpose: string; reason?: string; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [answer, setAnswer] = useState<Answer<RecordView> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [why, setWhy] = useState(reason);
  // Under emergency support nothing is looked up before a reason is stated for this read.
  const needsReason = purpose === 'emergency_support' && reason === '';

  useEffect(() => {
    setAnswer(null);
    setError(null);
    if (purpose === '' || needsReason) return;
    let live = true;
    api.record(id, purpose, reason).then(
      (a) => live && setAnswer(a),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [id, purpose, reason, needsReason]);

  const classLabel = (c: keyof Vocabulary['fieldClasses']) => i18n.l(vocabulary.fieldClasses[c], c);
  return (
    <section aria-labelledby="record-title">
      <p>
        <a href="/search" onClick={onLinkClick('/search')}>
          ← {t('backToSearch')}
        </a>
      </p>
      <h1 id="record-title">
        {t('recordTitle')} <span className="mono">{formatSupplyPointId(answer?.body.supplyPointId ?? id)}</span>
      </h1>
      {purpose === '' ? (
        <p className="alert warn" role="status">
          {t('purposeRequired')}
        </p>
      ) : (
        <p className="declared" data-testid="declared-purpose">
          {t('purpose')}
          <strong>{i18n.l(labelOf(vocabulary.purposes, purpose), purpose)}</strong>
        </p>
      )}
      {needsReason && (
        <form
          className="panel reason"
          onSubmit={(e) => {
            e.preventDefault();
            if (why.trim() !== '') navigate(`/records/${id}?${new URLSearchParams({ purpose, reason: why.trim() })}`, { replace: true });
          }}
        >
          <label>
            {t('reasonForRead')}
            <input name="reason" value={why} onChange={(e) => setWhy(e.target.value)} required maxLength={200} autoFocus />
          </label>
          <p className="small">{t('reasonRequiredHint')}</p>
          <button type="submit">{t('search')}</button>
        </form>
      )}
      {purpose === 'emergency_support' && reason !== '' && (
        <p className="small" data-testid="stated-reason">
          {t('statedReason')}：{reason}
        </p>
      )}
      <ErrorMessage error={error} />
      {answer === null && error === null && purpose !== '' && !needsReason && <p aria-busy="true">{t('loading')}</p>}
      {answer !== null && (
        <>
          <div className="table-wrap">
            <table className="record">
              <thead>
                <tr>
                  <th scope="col">{t('field')}</th>
                  <th scope="col">{t('value')}</th>
                  <th scope="col">{t('classification')}</th>
                </tr>
              </thead>
              <tbody>
                {vocabulary.fields.map((f) => {
                  const view = answer.body.fields[f.key];
                  return (
                    <tr key={f.key} data-field={f.key} className={view?.shown === true ? 'is-shown' : 'is-masked'}>
                      <th scope="row">{f[i18n.lang]}</th>
                      <td>
                        <FieldValue field={f.key} view={view} vocabulary={vocabulary} i18n={i18n} />
                      </td>
                      <td className={`class class-${f.class}`}>{classLabel(f.class)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {answer.requestId !== null && <p className="small logged">{t('loggedRead', { id: answer.requestId })}</p>}
        </>
      )}
    </section>
  );
}
