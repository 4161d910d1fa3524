import { useEffect, useState, type FormEvent } from 'react';
import type { Me, Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatSupplyPointId } from './format.tsx';
import { messageKey, useI18n, type I18n } from './i18n.tsx';
import { opsApi, type ActiveEmergencies, type Declaration, type Declarations, type EmergencyArea, type Review, type SupportStaff } from './ops-api.ts';
import { onLinkClick } from './router.ts';

const CONTACT_FIELDS = ['address', 'holder_name', 'phone'] as const;

/** An instant in Japan time, as office staff read it. */
export function jst(iso: string, lang: string): string {
  return new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo', dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

/** Fired on `window` when a declaration changes here, so the banner need not wait for its next poll. */
const CHANGED = 'gridwall:emergencies-changed';

/** A `datetime-local` value, meant as Japan time, as an ISO instant. */
const fromLocal = (v: string) => new Date(`${v}:00+09:00`).toISOString();
/** An instant as a `datetime-local` value in Japan time. */
const toLocal = (d: Date) => new Date(d.getTime() + 9 * 3_600_000).toISOString().slice(0, 16);

function areaText(a: EmergencyArea, i18n: I18n): string {
  switch (a.kind) {
    case 'area_code':
      return `${i18n.t('area_code')} ${a.areaCode}`;
    case 'prefecture':
      return a.prefecture;
    case 'municipality':
      return `${a.prefecture} ${a.city}`;
  }
}

/** The banner everyone sees while an emergency is in force (and, for support staff, what they may see). */
export function EmergencyBanner({ vocabulary }: { vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [active, setActive] = useState<ActiveEmergencies | null>(null);
  useEffect(() => {
    let live = true;
    const load = () => opsApi.activeEmergencies().then((a) => live && setActive(a), () => undefined);
    void load();
    const timer = setInterval(() => void load(), 60_000);
    const changed = () => void load();
    window.addEventListener(CHANGED, changed);
    return () => {
      live = false;
      clearInterval(timer);
      window.removeEventListener(CHANGED, changed);
    };
  }, []);
  if (active === null || active.emergencies.length === 0) return null;
  const label = (f: string) => i18n.l(vocabulary.fields.find((x) => x.key === f), f);
  return (
    <div className="emergency-banner" role="status" data-testid="emergency-banner">
      {active.emergencies.map((e) => (
        <p key={e.id}>
          <strong>⚠ {t('emergencyBanner')}</strong> {e.id}：{e.areas.map((a) => areaText(a, i18n)).join('、')} {e.window !== null && t('emergencyUntil', { until: jst(e.window.to, lang) })} — {e.reason}
        </p>
      ))}
      {active.support !== null && <p className="small">{t('emergencyBannerSupport', { fields: active.support.fields.map(label).join('・') })}</p>}
    </div>
  );
}

function AreaEditor({ areas, onChange }: { areas: EmergencyArea[]; onChange: (a: EmergencyArea[]) => void }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<EmergencyArea['kind']>('prefecture');
  const [value, setValue] = useState('');
  const [city, setCity] = useState('');
  const add = () => {
    if (value.trim() === '') return;
    const a: EmergencyArea = kind === 'area_code' ? { kind, areaCode: value.trim() } : kind === 'prefecture' ? { kind, prefecture: value.trim() } : { kind, prefecture: value.trim(), city: city.trim() };
    onChange([...areas, a]);
    setValue('');
    setCity('');
  };
  return (
    <fieldset>
      <legend>{t('areas')}</legend>
      <ul data-testid="areas">
        {areas.map((a, i) => (
          <li key={i}>
            {a.kind === 'area_code' ? `${t('area_code')} ${a.areaCode}` : a.kind === 'prefecture' ? a.prefecture : `${a.prefecture} ${a.city}`}{' '}
            <button type="button" className="secondary" onClick={() => onChange(areas.filter((_, j) => j !== i))}>
              {t('removeArea')}
            </button>
          </li>
        ))}
      </ul>
      <label>
        {t('areaKind')}
        <select value={kind} onChange={(e) => setKind(e.target.value as EmergencyArea['kind'])} name="areaKind">
          <option value="prefecture">{t('prefecture')}</option>
          <option value="municipality">{t('municipality')}</option>
          <option value="area_code">{t('area_code')}</option>
        </select>
      </label>
      <label>
        {kind === 'area_code' ? t('area_code') : t('prefecture')}
        <input name="areaValue" value={value} onChange={(e) => setValue(e.target.value)} placeholder={kind === 'area_code' ? '02' : '宮城県'} />
      </label>
      {kind === 'municipality' && (
        <label>
          {t('city')}
          <input name="areaCity" value={city} onChange={(e) => setCity(e.target.value)} placeholder="仙台市青葉区" />
        </label>
      )}
      <button type="button" className="secondary" onClick={add}>
        {t('addArea')}
      </button>
    </fieldset>
  );
}

function DeclareForm({ maxHours, onDone }: { maxHours: number; onDone: () => void }) {
  const { t } = useI18n();
  const now = new Date();
  const [areas, setAreas] = useState<EmergencyArea[]>([]);
  const [startsAt, setStartsAt] = useState(toLocal(now));
  const [plannedEndAt, setPlannedEndAt] = useState(toLocal(new Date(now.getTime() + Math.min(24, maxHours) * 3_600_000)));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await opsApi.declare({ areas, startsAt: fromLocal(startsAt), plannedEndAt: fromLocal(plannedEndAt), reason });
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

function DeclarationActions({ d, me, onDone }: { d: Declaration; me: Me; onDone: () => void }) {
  const { t } = useI18n();
  const [comment, setComment] = useState('');
  const [until, setUntil] = useState(toLocal(new Date(new Date(d.plannedEndAt).getTime() + 12 * 3_600_000)));
  const [error, setError] = useState<unknown>(null);
  const act = (fn: () => Promise<unknown>) => async () => {
    setError(null);
    try {
      await fn();
      setComment('');
      window.dispatchEvent(new Event(CHANGED));
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  const mine = d.declaredBy === me.userId;
  const declarer = me.abilities.declareEmergency === true;
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
          <button type="button" onClick={act(() => opsApi.confirm(d.id, comment))}>
            {t('confirm')}
          </button>
          <button type="button" className="secondary" onClick={act(() => opsApi.reject(d.id, comment || '-'))}>
            {t('reject')}
          </button>
        </>
      )}
      {d.state === 'pending' && mine && (
        <button type="button" className="secondary" onClick={act(() => opsApi.withdraw(d.id))}>
          {t('withdraw')}
        </button>
      )}
      {declarer && (d.state === 'active' || d.state === 'scheduled') && (
        <>
          <button type="button" className="secondary" onClick={act(() => opsApi.end(d.id, comment || '-'))}>
            {t('endNow')}
          </button>
          <label className="small">
            {t('extendUntil')}
            <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} name={`extend-${d.id}`} />
          </label>
          <button type="button" className="secondary" onClick={act(() => opsApi.extend(d.id, fromLocal(until), comment || '-'))}>
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

function SupportStaffPanel({ vocabulary, canManage }: { vocabulary: Vocabulary; canManage: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [staff, setStaff] = useState<readonly SupportStaff[] | null>(null);
  const [personId, setPersonId] = useState('');
  const [fields, setFields] = useState<string[]>([...CONTACT_FIELDS]);
  const [error, setError] = useState<unknown>(null);
  const load = () => opsApi.supportStaff().then((r) => setStaff(r.staff), setError);
  useEffect(() => void load(), []);
  const label = (f: string) => i18n.l(vocabulary.fields.find((x) => x.key === f), f);
  const register = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await opsApi.register(personId.trim(), fields);
      setPersonId('');
      await load();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="panel" aria-labelledby="support-title" data-testid="support-staff">
      <h2 id="support-title">{t('supportTitle')}</h2>
      <p className="small">{t('supportLead')}</p>
      {staff !== null && staff.length === 0 && <p>{t('noSupport')}</p>}
      {staff !== null && staff.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('person')}</th>
              <th scope="col">{t('fieldsLabel')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {staff.map((s) => (
              <tr key={s.personId} data-person={s.personId}>
                <td>
                  {s.personName}（{s.personId}）<span className="small"> {s.organization}</span>
                </td>
                <td>{s.fields.map(label).join('・')}</td>
                <td>
                  {canManage && (
                    <button type="button" className="secondary" onClick={() => void opsApi.unregister(s.personId).then(load, setError)}>
                      {t('unregister')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canManage && (
        <form onSubmit={(e) => void register(e)}>
          <label>
            {t('person')}
            <input name="personId" value={personId} onChange={(e) => setPersonId(e.target.value)} required />
          </label>
          <fieldset>
            <legend>{t('fieldsLabel')}</legend>
            {CONTACT_FIELDS.map((f) => (
              <label key={f} className="inline">
                <input type="checkbox" name="fields" value={f} checked={fields.includes(f)} onChange={(e) => setFields(e.target.checked ? [...fields, f] : fields.filter((x) => x !== f))} /> {label(f)}
              </label>
            ))}
          </fieldset>
          <button type="submit">{t('register')}</button>
        </form>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}

/** Declarations: declare, confirm (a second person), end, extend; the register of support staff. */
export function EmergenciesPage({ me, vocabulary }: { me: Me; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [data, setData] = useState<Declarations | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => opsApi.emergencies().then(setData, setError);
  useEffect(() => void load(), []);
  return (
    <section aria-labelledby="emergencies-title">
      <h1 id="emergencies-title">{t('emergenciesTitle')}</h1>
      {data !== null && <p>{t('emergencyLead', { hours: data.maxHours })}</p>}
      <ErrorMessage error={error} />
      {me.abilities.declareEmergency === true && data !== null && <DeclareForm maxHours={data.maxHours} onDone={() => void load()} />}
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
              <th scope="col">{t('declaredBy')} ／ {t('confirmedBy')}</th>
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
                  {jst(d.window?.from ?? d.startsAt, lang)} 〜 {jst(d.window?.to ?? d.plannedEndAt, lang)}
                </td>
                <td>{d.reason}</td>
                <td>
                  {d.declaredBy} ／ {d.decidedBy ?? '—'}
                </td>
                <td>
                  <DeclarationActions d={d} me={me} onDone={() => void load()} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <SupportStaffPanel vocabulary={vocabulary} canManage={me.abilities.manageAccess === true} />
    </section>
  );
}

/** Every read made under one declaration, the refused attempts during it, and compliance's sign-off. */
export function EmergencyReviewPage({ id, me, vocabulary }: { id: string; me: Me; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [comment, setComment] = useState('');
  const load = () => opsApi.review(id).then(setReview, setError);
  useEffect(() => void load(), [id]);
  const label = (f: string) => i18n.l(vocabulary.fields.find((x) => x.key === f), f);
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
            <td>{jst(r.occurredAt, lang)}</td>
            <td>
              {r.userId ?? r.personId}
              <span className="small"> {r.organizationId}</span>
            </td>
            <td className="mono">{r.terminalId ?? '—'}</td>
            <td className="mono">{r.supplyPoints.map((p) => formatSupplyPointId(p.supplyPointId)).join(' ')}</td>
            <td>{refused ? (r.refusal ?? '') : [...new Set(r.supplyPoints.flatMap((p) => p.shown))].map(label).join('・')}</td>
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
      await load();
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
            {t('reviewSummary', { reads: review.summary.reads, people: review.summary.people, points: review.summary.supplyPoints, refused: review.summary.refused })}
          </p>
          <p>
            <a href={`/api/emergencies/${encodeURIComponent(id)}/review?format=csv`} download>
              {t('downloadCsv')}
            </a>
          </p>
          <h2>{t('reviewReads')}</h2>
          {rows(review.reads, false)}
          <h2>{t('reviewRefused')}</h2>
          {rows(review.refused, true)}
          {d.signedOffAt !== null ? (
            <p className="alert ok" data-testid="signed-off">
              {t('signedOff', { by: d.signedOffBy ?? '', at: jst(d.signedOffAt, lang), comment: d.signOffComment ?? '' })}
            </p>
          ) : (
            me.abilities.reviewFindings === true &&
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
