import { useState, type FormEvent } from 'react';
import type { Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { useI18n } from './i18n.tsx';
import { inquiryApi, inquiryPath, type DirectBody, type Inquiry } from './inquiry-api.ts';
import { answeringOf, caseTypesOf, CaseTypeSelect, ItemChoice, type CaseType } from './inquiry-items.tsx';
import { onLinkClick } from './router.ts';

type IdentityCheck = keyof Vocabulary['identityChecks'];
const CHANNELS = ['customer', 'contractor'] as const satisfies readonly DirectBody['channel'][];

/**
 * A customer's or contractor's call taken at the service centre (POST /api/inquiries/direct): who called and how
 * they were identified. Whatever the case may give waits in the queue, so an item is either answered by the
 * service centre or never.
 */
export function DirectInquiryForm({ vocabulary, onTaken }: { vocabulary: Vocabulary; onTaken: (i: Inquiry) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const cases = caseTypesOf(vocabulary);
  const checks = Object.keys(vocabulary.identityChecks) as IdentityCheck[];
  const [channel, setChannel] = useState<DirectBody['channel']>('customer');
  const [caseType, setCaseType] = useState<CaseType>(cases[0] ?? 'switching');
  const [supplyPointId, setSupplyPointId] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [caller, setCaller] = useState('');
  const [identityCheck, setIdentityCheck] = useState<IdentityCheck>(checks[0] ?? 'bill_details');
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [taken, setTaken] = useState<Inquiry | null>(null);
  // A direct inquiry is answered by the service centre: what the case gives at all, it gives from the queue.
  const how = (item: string) => (answeringOf(vocabulary, caseType, item) === 'never' ? 'never' : 'queue');
  const items = [...selected].filter((i) => how(i) !== 'never');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setTaken(null);
    try {
      const v = await inquiryApi.direct({
        channel,
        caseType,
        supplyPointId: supplyPointId.trim(),
        items,
        caller: caller.trim(),
        identityCheck,
        ...(note.trim() === '' ? {} : { note: note.trim() }),
      });
      setTaken(v);
      setSupplyPointId('');
      setSelected(new Set());
      setCaller('');
      setNote('');
      onTaken(v);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="panel" onSubmit={(e) => void submit(e)} aria-labelledby="direct-title" data-testid="direct-form">
      <h2 id="direct-title">{t('inqDirectTitle')}</h2>
      <p className="small">{t('inqDirectLead')}</p>
      <div className="fields">
        <label>
          {t('inqDirectChannel')}
          <select name="channel" value={channel} onChange={(e) => setChannel(e.target.value as DirectBody['channel'])}>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`inqChannel_${c}`)}
              </option>
            ))}
          </select>
        </label>
        <CaseTypeSelect vocabulary={vocabulary} name="directCaseType" value={caseType} onChange={setCaseType} />
        <label>
          {t('inqSupplyPointId')}
          <input name="directSupplyPointId" value={supplyPointId} onChange={(e) => setSupplyPointId(e.target.value)} required maxLength={64} />
        </label>
        <label>
          {t('inqDirectCaller')}
          <input name="caller" value={caller} onChange={(e) => setCaller(e.target.value)} required maxLength={100} />
        </label>
        <label>
          {t('inqIdentityCheck')}
          <select name="identityCheck" value={identityCheck} onChange={(e) => setIdentityCheck(e.target.value as IdentityCheck)}>
            {checks.map((c) => (
              <option key={c} value={c}>
                {i18n.l(vocabulary.identityChecks[c], c)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ItemChoice vocabulary={vocabulary} answering={how} selected={selected} onChange={setSelected} name="directItems" />
      <label className="block">
        {t('inqNote')}
        <input name="directNote" value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} className="wide" />
      </label>
      <p>
        <button type="submit" disabled={items.length === 0}>
          {t('inqTakeDirect')}
        </button>
      </p>
      <ErrorMessage error={error} />
      {taken !== null && (
        <p className="alert ok" role="status">
          <a href={inquiryPath(taken.id)} onClick={onLinkClick(inquiryPath(taken.id))}>
            {t('inqDirectTaken', { id: taken.id })}
          </a>
        </p>
      )}
    </form>
  );
}
