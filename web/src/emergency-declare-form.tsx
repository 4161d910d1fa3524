import { useState, type FormEvent } from 'react';
import { AreaEditor } from './emergency-areas.tsx';
import { ErrorMessage } from './error-message.tsx';
import { fromJstDateTimeInput, toJstDateTimeInput } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { opsApi, type EmergencyArea } from './ops-api.ts';

/** A new declaration: its areas, its window (Japan time, at most `maxHours` long) and its reason. */
export function DeclareForm({ maxHours, onDone }: { maxHours: number; onDone: () => void }) {
  const { t } = useI18n();
  const now = new Date();
  const [areas, setAreas] = useState<EmergencyArea[]>([]);
  const [startsAt, setStartsAt] = useState(toJstDateTimeInput(now));
  const [plannedEndAt, setPlannedEndAt] = useState(toJstDateTimeInput(new Date(now.getTime() + Math.min(24, maxHours) * 3_600_000)));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await opsApi.declare({ areas, startsAt: fromJstDateTimeInput(startsAt), plannedEndAt: fromJstDateTimeInput(plannedEndAt), reason });
      setAreas([]);
      setReason('');
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="panel" onSubmit={(e) => void submit(e)} aria-labelledby="declare-title" data-testid="declare-form">
      <h2 id="declare-title">{t('declareTitle')}</h2>
      <AreaEditor areas={areas} onChange={setAreas} />
      <label>
        {t('startsAt')}
        <input type="datetime-local" name="startsAt" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} required />
      </label>
      <label>
        {t('plannedEndAt')}
        <input type="datetime-local" name="plannedEndAt" value={plannedEndAt} onChange={(e) => setPlannedEndAt(e.target.value)} required />
      </label>
      <label>
        {t('reason')}
        <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} />
      </label>
      <button type="submit" disabled={areas.length === 0}>
        {t('declare')}
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
