import { useState, type FormEvent } from 'react';
import type { Me, Vocabulary } from './api.ts';
import { VocabularyLabel } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, formatSupplyPointId } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { SpreadsheetDownloads } from './spreadsheet-downloads.tsx';
import { opsApi, type Review } from './ops-api.ts';
import { useLoad } from './use-load.ts';

/** Every read made under one declaration, the refused attempts during it, and compliance's sign-off. */
export function EmergencyReviewPage({ id, me, vocabulary }: { id: string; me: Me; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [review, error, reload, setError] = useLoad(() => opsApi.review(id), [id]);
  const [comment, setComment] = useState('');
  const label = (f: string) =>
    i18n.l(
      vocabulary.fields.find((x) => x.key === f),
      f,
    );
  const rows = (reads: Review['reads'], refused: boolean) => (
    <table data-testid={refused ? 'review-refused' : 'review-reads'}>
      <thead>
        <tr>
          <th scope="col">{t('when')}</th>
          <th scope="col">{t('who')}</th>
          <th scope="col">{t('terminal')}</th>
          <th scope="col">{t('supplyPointsCount')}</th>
          <th scope="col">{refused ? t('refusal') : t('fieldsShown')}</th>
          <th scope="col">{t('statedReason')}</th>
        </tr>
      </thead>
      <tbody>
        {reads.map((r) => (
          <tr key={r.seq}>
            <td>{formatInstant(r.occurredAt, lang)}</td>
            <td>
              {r.userId ?? r.personId}
              <span className="small"> {r.organizationId}</span>
            </td>
            <td className="mono">{r.terminalId ?? '—'}</td>
            <td className="mono">{r.supplyPoints.map((p) => formatSupplyPointId(p.supplyPointId)).join(' ')}</td>
            <td>
              {refused
                ? r.refusal !== null && <VocabularyLabel map={vocabulary.accessRefusals} code={r.refusal} />
                : [...new Set(r.supplyPoints.flatMap((p) => p.shown))].map(label).join('・')}
            </td>
            <td>{r.statedReason ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  const signOff = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await opsApi.signOff(id, comment);
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  const d = review?.declaration;
  return (
    <section aria-labelledby="review-title">
      <h1 id="review-title">{t('reviewTitle', { id })}</h1>
      <ErrorMessage error={error} />
      {review !== null && d !== undefined && (
        <>
          <p data-testid="review-summary">
            {t('reviewSummary', {
              reads: review.summary.reads,
              people: review.summary.people,
              points: review.summary.supplyPoints,
              refused: review.summary.refused,
            })}
          </p>
          <p>
            <SpreadsheetDownloads base={`/api/emergencies/${encodeURIComponent(id)}/review`} />
          </p>
          <h2>{t('reviewReads')}</h2>
          {rows(review.reads, false)}
          <h2>{t('reviewRefused')}</h2>
          {rows(review.refused, true)}
          {d.signedOffAt !== null ? (
            <p className="alert ok" data-testid="signed-off">
              {t('signedOff', { by: d.signedOffBy ?? '', at: formatInstant(d.signedOffAt, lang), comment: d.signOffComment ?? '' })}
            </p>
          ) : (
            me.abilities.reviewFindings &&
            d.state === 'ended' && (
              <form onSubmit={(e) => void signOff(e)} className="panel">
                <label>
                  {t('comment')}
                  <input name="signOffComment" value={comment} onChange={(e) => setComment(e.target.value)} required />
                </label>
                <button type="submit">{t('signOff')}</button>
              </form>
            )
          )}
        </>
      )}
    </section>
  );
}
