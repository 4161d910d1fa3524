import { useState, type FormEvent } from 'react';
import type { Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { useI18n } from './i18n.tsx';
import { opsApi } from './ops-api.ts';
import { useLoad } from './use-load.ts';

const CONTACT_FIELDS = ['address', 'holder_name', 'phone'] as const;

/**
 * The register of emergency support staff, with the contact fields each may read in a declared emergency;
 * registering and unregistering for those who manage access.
 */
export function SupportStaffPanel({ vocabulary, canManage }: { vocabulary: Vocabulary; canManage: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [staff, error, reload, setError] = useLoad(() => opsApi.supportStaff().then((r) => r.staff));
  const [personId, setPersonId] = useState('');
  const [fields, setFields] = useState<string[]>([...CONTACT_FIELDS]);
  const label = (f: string) =>
    i18n.l(
      vocabulary.fields.find((x) => x.key === f),
      f,
    );
  const register = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await opsApi.register(personId.trim(), fields);
      setPersonId('');
      await reload();
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
                    <button type="button" className="secondary" onClick={() => void opsApi.unregister(s.personId).then(reload, setError)}>
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
                <input
                  type="checkbox"
                  name="fields"
                  value={f}
                  checked={fields.includes(f)}
                  onChange={(e) => setFields(e.target.checked ? [...fields, f] : fields.filter((x) => x !== f))}
                />{' '}
                {label(f)}
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
