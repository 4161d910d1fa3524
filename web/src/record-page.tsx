import { useEffect, useState } from 'react';
import { api, labelOf, type Answer, type Me, type RecordView, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatSupplyPointId } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { InquiryGuidance } from './inquiry-guidance.tsx';
import { RecordTable } from './record-table.tsx';
import { navigate, onLinkClick } from './router.ts';

/**
 * One supply point's record, every field as the firewall decided it for this person, this purpose, now.
 * The purpose is part of the URL: the read is logged under it, and the screen says which it was.
 */
export function RecordPage({ id, purpose, reason = '', me, vocabulary }: { id: string; purpose: string; reason?: string; me: Me; vocabulary: Vocabulary }) {
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
          <RecordTable view={answer.body} vocabulary={vocabulary} />
          <InquiryGuidance view={answer.body} purpose={purpose} vocabulary={vocabulary} canAsk={me.abilities.askInquiries} />
          {answer.requestId !== null && <p className="small logged">{t('loggedRead', { id: answer.requestId })}</p>}
        </>
      )}
    </section>
  );
}
