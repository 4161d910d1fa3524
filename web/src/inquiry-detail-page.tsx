import { useState, type FormEvent } from 'react';
import { labelOf, type Answer, type Me, type RecordView, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, formatSupplyPointId } from './format.tsx';
import { messageKey, useI18n } from './i18n.tsx';
import { inquiryApi, type Inquiry } from './inquiry-api.ts';
import { fieldLabel, StatusBadge, Timeliness } from './inquiry-items.tsx';
import { RecordTable } from './record-table.tsx';
import { onLinkClick } from './router.ts';
import { useLoad } from './use-load.ts';

const waiting = (q: Inquiry) => q.status === 'open' || q.status === 'asked_back';

/**
 * One inquiry: its case, items and consent, its history; for its requester's retailer the answer (read again
 * through the firewall, logged), a reply to a question and withdrawal; for the service centre, answering from
 * the queue (only the items the case left to it), asking back and refusing in words. What is offered follows
 * the inquiry and the person's abilities; the server decides each action.
 */
export function InquiryDetailPage({ id, me, vocabulary }: { id: string; me: Me; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [q, error, reload, setError] = useLoad(() => inquiryApi.get(id), [id]);
  const [answer, setAnswer] = useState<Answer<{ answer: RecordView }> | null>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      setAnswer(null);
      await reload();
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  const showAnswer = async () => {
    setError(null);
    try {
      setAnswer(await inquiryApi.answer(id));
    } catch (e) {
      setError(e);
    }
  };
  const labels = (keys: readonly string[]) => keys.map((k) => fieldLabel(vocabulary, i18n, k)).join('、');
  const back = me.abilities.answerInquiries ? '/inquiries/queue' : '/inquiries';
  const requesterSide = q !== null && q.channel === 'retailer' && q.retailerCode !== null && q.retailerCode === me.assignment?.retailerCode;
  return (
    <section aria-labelledby="inquiry-title">
      <p>
        <a href={back} onClick={onLinkClick(back)}>
          ← {t(me.abilities.answerInquiries ? 'inqBackToQueue' : 'inqBack')}
        </a>
      </p>
      <h1 id="inquiry-title">{t('inqTitle', { id })}</h1>
      <ErrorMessage error={error} />
      {q === null && error === null && <p aria-busy="true">{t('loading')}</p>}
      {q !== null && (
        <>
          <dl className="facts" data-testid="inquiry-facts" data-status={q.status}>
            <dt>{t('status')}</dt>
            <dd>
              <StatusBadge status={q.status} vocabulary={vocabulary} />
            </dd>
            <dt>{t('inqCaseType')}</dt>
            <dd>{i18n.l(vocabulary.caseTypes[q.caseType], q.caseType)}</dd>
            <dt>{t('inqSupplyPointId')}</dt>
            <dd className="mono">{formatSupplyPointId(q.supplyPointId)}</dd>
            <dt>{t('inqChannel')}</dt>
            <dd>
              {t(`inqChannel_${q.channel}`)}
              {q.channel === 'retailer' && `：${q.retailerName ?? ''}（${q.retailerCode ?? ''}） ${q.requestedBy ?? ''}`}
            </dd>
            {q.caller !== null && (
              <>
                <dt>{t('inqCaller')}</dt>
                <dd>
                  {q.caller}
                  {q.identityCheck !== null && (
                    <span className="small">（{i18n.l(labelOf(vocabulary.identityChecks, q.identityCheck), q.identityCheck)}）</span>
                  )}
                </dd>
              </>
            )}
            <dt>{t('inqConsent')}</dt>
            <dd data-testid="consent">
              {t(`inqConsentState_${q.consentState}`)}
              {q.consent !== null && (
                <span className="small">
                  {' '}
                  — {q.consent.customerName} ／ {i18n.l(labelOf(vocabulary.consentMethods, q.consent.method), q.consent.method)} ／{' '}
                  {formatInstant(q.consent.givenAt, lang)} 〜 {formatInstant(q.consent.validUntil, lang)} ／ <span className="mono">{q.consent.reference}</span>
                </span>
              )}
            </dd>
            <dt>{t('inqCreatedAt')}</dt>
            <dd>{formatInstant(q.createdAt, lang)}</dd>
            {q.atOnce.length > 0 && (
              <>
                <dt>{t('inqAtOnceItems')}</dt>
                <dd data-testid="at-once">{labels(q.atOnce)}</dd>
              </>
            )}
            {q.queued.length > 0 && (
              <>
                <dt>{t('inqQueuedItems')}</dt>
                <dd data-testid="queued">{labels(q.queued)}</dd>
              </>
            )}
            {q.released.length > 0 && (
              <>
                <dt>{t('inqReleasedItems')}</dt>
                <dd data-testid="released">{labels(q.released)}</dd>
              </>
            )}
            {q.never.length > 0 && (
              <>
                <dt>{t('inqNeverItems')}</dt>
                <dd data-testid="never">{labels(q.never)}</dd>
              </>
            )}
            {q.dueAt !== null && (
              <>
                <dt>{t('inqDueAt')}</dt>
                <dd>
                  <Timeliness inquiry={q} />
                </dd>
              </>
            )}
            {q.refusal !== null && (
              <>
                <dt>{t('inqRefusal')}</dt>
                <dd data-testid="refusal">
                  {q.refusal.reason}
                  {q.refusal.code !== 'service_centre' && <span className="small">（{q.refusal.code}）</span>}
                </dd>
              </>
            )}
            {q.note !== null && (
              <>
                <dt>{t('inqNote')}</dt>
                <dd>{q.note}</dd>
              </>
            )}
          </dl>

          {requesterSide && (q.status === 'answered' || waiting(q)) && (
            <p>
              <button type="button" onClick={() => void showAnswer()} data-testid="show-answer">
                {t('inqShowAnswer')}
              </button>{' '}
              <span className="small">{t('inqAnswerLogged')}</span>
            </p>
          )}
          {answer !== null && (
            <section aria-labelledby="answer-title" data-testid="answer">
              <h2 id="answer-title">{t('inqAnswerTitle')}</h2>
              <RecordTable view={answer.body.answer} vocabulary={vocabulary} testId="inquiry-answer" />
              {answer.requestId !== null && <p className="small logged">{t('loggedRead', { id: answer.requestId })}</p>}
            </section>
          )}
          {requesterSide && q.status === 'asked_back' && <ReplyForm onReply={(text) => act(() => inquiryApi.reply(id, text))} />}
          {waiting(q) && q.requestedByPerson === me.personId && q.channel === 'retailer' && (
            <p>
              <button type="button" className="secondary" onClick={() => void act(() => inquiryApi.withdraw(id))}>
                {t('inqWithdraw')}
              </button>
            </p>
          )}
          {me.abilities.answerInquiries && waiting(q) && <AnswerPanel inquiry={q} vocabulary={vocabulary} act={act} />}

          <h2>{t('inqHistory')}</h2>
          <ol className="inquiry-history" data-testid="history">
            {q.history.map((h, i) => {
              const kind = messageKey(`inqHist_${h.kind}`);
              return (
                <li key={i} data-kind={h.kind}>
                  <span className="small">{formatInstant(h.at, lang)}</span> <strong>{kind === null ? h.kind : t(kind)}</strong>
                  {h.by !== null && <span className="small">（{h.by}）</span>}
                  {h.items.length > 0 && <span>：{labels(h.items)}</span>}
                  {h.note !== null && h.note !== '' && <span> — {h.note}</span>}
                </li>
              );
            })}
          </ol>
        </>
      )}
    </section>
  );
}

function ReplyForm({ onReply }: { onReply: (text: string) => Promise<boolean> }) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await onReply(text.trim())) setText('');
  };
  return (
    <form className="panel" onSubmit={(e) => void submit(e)} data-testid="reply-form">
      <h2>{t('inqReplyTitle')}</h2>
      <label className="block">
        {t('inqReplyText')}
        <input name="reply" value={text} onChange={(e) => setText(e.target.value)} required maxLength={500} className="wide" />
      </label>
      <p>
        <button type="submit">{t('inqSendReply')}</button>
      </p>
    </form>
  );
}

/** The service centre's answer: release some of the queued items (never others), ask back, or refuse in words. */
function AnswerPanel({ inquiry, vocabulary, act }: { inquiry: Inquiry; vocabulary: Vocabulary; act: (fn: () => Promise<unknown>) => Promise<boolean> }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [items, setItems] = useState<Set<string>>(() => new Set(inquiry.queued));
  const [note, setNote] = useState('');
  const [question, setQuestion] = useState('');
  const [reason, setReason] = useState('');
  const ordered = inquiry.queued;
  return (
    <section className="panel" aria-labelledby="answer-panel-title" data-testid="answer-panel">
      <h2 id="answer-panel-title">{t('inqActionsTitle')}</h2>
      <fieldset>
        <legend>{t('inqReleaseItems')}</legend>
        <ul className="checks">
          {ordered.map((k) => (
            <li key={k}>
              <label className="inline">
                <input
                  type="checkbox"
                  name="release"
                  value={k}
                  checked={items.has(k)}
                  onChange={(e) => {
                    const next = new Set(items);
                    if (e.target.checked) next.add(k);
                    else next.delete(k);
                    setItems(next);
                  }}
                />
                {fieldLabel(vocabulary, i18n, k)}
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <div className="actions">
        <label className="small">
          {t('inqReleaseNote')}
          <input name="releaseNote" value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />
        </label>
        <button
          type="button"
          data-testid="release"
          onClick={() =>
            void act(() =>
              inquiryApi.release(
                inquiry.id,
                ordered.filter((k) => items.has(k)),
                note.trim(),
              ),
            )
          }
        >
          {t('inqRelease')}
        </button>
      </div>
      {inquiry.status === 'open' && (
        <div className="actions">
          <label className="small">
            {t('inqQuestion')}
            <input name="question" value={question} onChange={(e) => setQuestion(e.target.value)} maxLength={500} />
          </label>
          <button
            type="button"
            className="secondary"
            data-testid="ask-back"
            disabled={question.trim() === ''}
            onClick={() => void act(() => inquiryApi.askBack(inquiry.id, question.trim()))}
          >
            {t('inqAskBack')}
          </button>
        </div>
      )}
      <div className="actions">
        <label className="small">
          {t('inqRefuseReason')}
          <input name="refuseReason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
        </label>
        <button
          type="button"
          className="secondary"
          data-testid="refuse"
          disabled={reason.trim() === ''}
          onClick={() => void act(() => inquiryApi.refuse(inquiry.id, reason.trim()))}
        >
          {t('inqRefuse')}
        </button>
      </div>
    </section>
  );
}
