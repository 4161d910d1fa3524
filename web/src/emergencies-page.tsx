import { useState } from 'react';
import type { Me, Vocabulary } from './api.ts';
import { areaText } from './emergency-areas.tsx';
import { EMERGENCIES_CHANGED } from './emergency-banner.tsx';
import { DeclareForm } from './emergency-declare-form.tsx';
import { SupportStaffPanel } from './emergency-support-panel.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, fromJstDateTimeInput, toJstDateTimeInput } from './format.tsx';
import { messageKey, useI18n } from './i18n.tsx';
import { opsApi, type Declaration } from './ops-api.ts';
import { onLinkClick } from './router.ts';
import { useLoad } from './use-load.ts';

/** Declarations: declare, confirm (a second person), end, extend; the register of support staff. */
export function EmergenciesPage({ me, vocabulary }: { me: Me; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [data, error, reload] = useLoad(() => opsApi.emergencies());
  return (
    <section aria-labelledby="emergencies-title">
      <h1 id="emergencies-title">{t('emergenciesTitle')}</h1>
      {data !== null && <p>{t('emergencyLead', { hours: data.maxHours })}</p>}
      <ErrorMessage error={error} />
      {me.abilities.declareEmergency && data !== null && <DeclareForm maxHours={data.maxHours} onDone={() => void reload()} />}
      {data !== null && data.declarations.length === 0 && <p>{t('noDeclarations')}</p>}
      {data !== null && data.declarations.length > 0 && (
        <table className="declarations" data-testid="declarations">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('areas')}</th>
              <th scope="col">{t('window')}</th>
              <th scope="col">{t('reason')}</th>
              <th scope="col">
                {t('declaredBy')} ／ {t('confirmedBy')}
              </th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {data.declarations.map((d) => (
              <tr key={d.id} data-id={d.id} data-state={d.state}>
                <th scope="row" className="mono">
                  {d.id}
                  {d.extendsId !== null && <span className="small"> ← {d.extendsId}</span>}
                </th>
                <td>
                  <span className={`state state-${d.state}`}>{t(messageKey(`state_${d.state}`) ?? 'state')}</span>
                </td>
                <td>{d.areas.map((a) => areaText(a, i18n)).join('、')}</td>
                <td>
                  {formatInstant(d.window?.from ?? d.startsAt, lang)} 〜 {formatInstant(d.window?.to ?? d.plannedEndAt, lang)}
                </td>
                <td>{d.reason}</td>
                <td>
                  {d.declaredBy} ／ {d.decidedBy ?? '—'}
                </td>
                <td>
                  <DeclarationActions d={d} me={me} onDone={() => void reload()} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <SupportStaffPanel vocabulary={vocabulary} canManage={me.abilities.manageAccess} />
    </section>
  );
}

/**
 * What this person may do to one declaration now: confirm or reject another's, withdraw their own, end or
 * extend it; the link to its review once confirmed.
 */
function DeclarationActions({ d, me, onDone }: { d: Declaration; me: Me; onDone: () => void }) {
  const { t } = useI18n();
  const [comment, setComment] = useState('');
  const [until, setUntil] = useState(toJstDateTimeInput(new Date(new Date(d.plannedEndAt).getTime() + 12 * 3_600_000)));
  const [error, setError] = useState<unknown>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      setComment('');
      window.dispatchEvent(new Event(EMERGENCIES_CHANGED));
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  const mine = d.declaredBy === me.userId;
  const declarer = me.abilities.declareEmergency;
  return (
    <div className="actions" data-testid={`actions-${d.id}`}>
      {declarer && d.state !== 'ended' && d.state !== 'rejected' && d.state !== 'withdrawn' && (
        <label className="small">
          {t('comment')}
          <input value={comment} onChange={(e) => setComment(e.target.value)} name={`comment-${d.id}`} />
        </label>
      )}
      {declarer && d.state === 'pending' && !mine && (
        <>
          <button type="button" onClick={() => void act(() => opsApi.confirm(d.id, comment))}>
            {t('confirm')}
          </button>
          <button type="button" className="secondary" onClick={() => void act(() => opsApi.reject(d.id, comment || '-'))}>
            {t('reject')}
          </button>
        </>
      )}
      {d.state === 'pending' && mine && (
        <button type="button" className="secondary" onClick={() => void act(() => opsApi.withdraw(d.id))}>
          {t('withdraw')}
        </button>
      )}
      {declarer && (d.state === 'active' || d.state === 'scheduled') && (
        <>
          <button type="button" className="secondary" onClick={() => void act(() => opsApi.end(d.id, comment || '-'))}>
            {t('endNow')}
          </button>
          <label className="small">
            {t('extendUntil')}
            <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} name={`extend-${d.id}`} />
          </label>
          <button type="button" className="secondary" onClick={() => void act(() => opsApi.extend(d.id, fromJstDateTimeInput(until), comment || '-'))}>
            {t('extend')}
          </button>
        </>
      )}
      {d.status === 'confirmed' && (
        <a href={`/emergencies/${d.id}/review`} onClick={onLinkClick(`/emergencies/${d.id}/review`)}>
          {t('review')}
        </a>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
