import { useState, type FormEvent } from 'react';
import type { Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, formatSupplyPointId } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { inquiryApi, inquiryPath, type Asked } from './inquiry-api.ts';
import { answeringOf, caseTypesOf, CaseTypeSelect, fieldLabel, ItemChoice, StatusBadge, type CaseType } from './inquiry-items.tsx';
import { RecordTable } from './record-table.tsx';
import { onLinkClick } from './router.ts';

/** A `datetime-local` value, meant as Japan time, as an ISO 8601 instant with its offset (`2026-11-01T09:30:00+09:00`). */
const jstInstant = (v: string) => `${v}:00+09:00`;

type ConsentMethod = keyof Vocabulary['consentMethods'];
type ConsentForm = { customerName: string; method: ConsentMethod; givenAt: string; reference: string; validUntil: string };

/**
 * Asking the network operator (POST /api/inquiries): the case, the supply point, the items (each saying how
 * the case answers it), the customer's consent and a note. The answer comes back at once: the record view with
 * what the case allowed now, the inquiry's status, and what waits for the service centre until when.
 */
export function InquiryFormPage({ query, vocabulary }: { query: URLSearchParams; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const cases = caseTypesOf(vocabulary);
  const asked = query.get('caseType') ?? '';
  const [caseType, setCaseType] = useState<CaseType>(cases.find((c) => c === asked) ?? cases[0] ?? 'switching');
  const [supplyPointId, setSupplyPointId] = useState(query.get('supplyPointId') ?? '');
  const [selected, setSelected] = useState<Set<string>>(
    () =>
      new Set(
        (query.get('items') ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
  );
  const methods = Object.keys(vocabulary.consentMethods) as ConsentMethod[];
  const [consent, setConsent] = useState<ConsentForm>({ customerName: '', method: methods[0] ?? 'signed_form', givenAt: '', reference: '', validUntil: '' });
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<Asked | null>(null);

  const how = (item: string) => answeringOf(vocabulary, caseType, item);
  // Only what the chosen case gives is sent: an item it never gives is not asked for.
  const items = [...selected].filter((i) => how(i) !== 'never');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    setBusy(true);
    try {
      setResult(
        await inquiryApi.ask({
          caseType,
          supplyPointId: supplyPointId.trim(),
          items,
          consent: {
            customerName: consent.customerName.trim(),
            method: consent.method,
            givenAt: jstInstant(consent.givenAt),
            reference: consent.reference.trim(),
            validUntil: jstInstant(consent.validUntil),
          },
          ...(note.trim() === '' ? {} : { note: note.trim() }),
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const set = (k: Exclude<keyof ConsentForm, 'method'>) => (e: { target: { value: string } }) => setConsent({ ...consent, [k]: e.target.value });
  const labels = (keys: readonly string[]) => keys.map((k) => fieldLabel(vocabulary, i18n, k)).join('、');

  return (
    <section aria-labelledby="inquiry-new-title">
      <p>
        <a href="/inquiries" onClick={onLinkClick('/inquiries')}>
          ← {t('inqBack')}
        </a>
      </p>
      <h1 id="inquiry-new-title">{t('inqNewTitle')}</h1>
      <p>{t('inqNewLead')}</p>
      <form className="panel inquiry-form" onSubmit={(e) => void submit(e)} data-testid="inquiry-form">
        <div className="fields">
          <CaseTypeSelect vocabulary={vocabulary} name="caseType" value={caseType} onChange={setCaseType} />
          <label>
            {t('inqSupplyPointId')}
            <input name="supplyPointId" value={supplyPointId} onChange={(e) => setSupplyPointId(e.target.value)} required maxLength={64} inputMode="numeric" />
            <span className="small">{t('idHint')}</span>
          </label>
        </div>
        <ItemChoice vocabulary={vocabulary} answering={how} selected={selected} onChange={setSelected} />
        <p className="small" data-testid="service-level">
          {t('inqServiceLevel', { hours: vocabulary.serviceLevelHours[caseType] })}
        </p>
        <fieldset className="consent">
          <legend>{t('inqConsentTitle')}</legend>
          <p className="small">{t('inqConsentLead')}</p>
          <div className="fields">
            <label>
              {t('inqConsentName')}
              <input name="consentCustomerName" value={consent.customerName} onChange={set('customerName')} required maxLength={100} />
            </label>
            <label>
              {t('inqConsentMethod')}
              <select
                name="consentMethod"
                value={consent.method}
                onChange={(e) => setConsent({ ...consent, method: e.target.value as ConsentMethod })}
                required
              >
                {methods.map((m) => (
                  <option key={m} value={m}>
                    {i18n.l(vocabulary.consentMethods[m], m)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('inqConsentGivenAt')}
              <input type="datetime-local" name="consentGivenAt" value={consent.givenAt} onChange={set('givenAt')} required />
            </label>
            <label>
              {t('inqConsentReference')}
              <input name="consentReference" value={consent.reference} onChange={set('reference')} required maxLength={100} />
            </label>
            <label>
              {t('inqConsentValidUntil')}
              <input type="datetime-local" name="consentValidUntil" value={consent.validUntil} onChange={set('validUntil')} required />
            </label>
          </div>
        </fieldset>
        <label className="block">
          {t('inqNote')}
          <input name="note" value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} className="wide" />
        </label>
        {items.length === 0 && (
          <p className="small" role="status">
            {t('inqNoAllowedItem')}
          </p>
        )}
        <p>
          <button type="submit" disabled={busy || items.length === 0}>
            {busy ? t('inqSubmitting') : t('inqSubmit')}
          </button>
        </p>
      </form>
      <ErrorMessage error={error} />
      {result !== null && (
        <section aria-labelledby="inquiry-result-title" aria-live="polite" data-testid="inquiry-result" data-status={result.inquiry.status}>
          <h2 id="inquiry-result-title">{t('inqResultTitle')}</h2>
          <dl className="facts">
            <dt>{t('inqId')}</dt>
            <dd>
              <a href={inquiryPath(result.inquiry.id)} onClick={onLinkClick(inquiryPath(result.inquiry.id))} className="mono" data-testid="inquiry-id">
                {result.inquiry.id}
              </a>
            </dd>
            <dt>{t('status')}</dt>
            <dd>
              <StatusBadge status={result.inquiry.status} vocabulary={vocabulary} />
            </dd>
            <dt>{t('inqSupplyPointId')}</dt>
            <dd className="mono">{formatSupplyPointId(result.inquiry.supplyPointId)}</dd>
            <dt>{t('inqConsent')}</dt>
            <dd>{t(`inqConsentState_${result.inquiry.consentState}`)}</dd>
            {result.inquiry.atOnce.length > 0 && (
              <>
                <dt>{t('inqAtOnceItems')}</dt>
                <dd data-testid="at-once">{labels(result.inquiry.atOnce)}</dd>
              </>
            )}
            {result.inquiry.queued.length > 0 && (
              <>
                <dt>{t('inqQueuedItems')}</dt>
                <dd data-testid="queued">
                  {labels(result.inquiry.queued)}
                  {result.inquiry.dueAt !== null && <span className="small">（{t('inqQueuedDue', { due: formatInstant(result.inquiry.dueAt, lang) })}）</span>}
                </dd>
              </>
            )}
            {result.inquiry.never.length > 0 && (
              <>
                <dt>{t('inqNeverItems')}</dt>
                <dd data-testid="never">{labels(result.inquiry.never)}</dd>
              </>
            )}
          </dl>
          {result.answer !== null && (
            <>
              <h3>{t('inqAnswerTitle')}</h3>
              <RecordTable view={result.answer} vocabulary={vocabulary} testId="inquiry-answer" />
            </>
          )}
        </section>
      )}
    </section>
  );
}
