import { useState } from 'react';
import { labelOf, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant } from './format.tsx';
import { governanceApi, type Account } from './governance-api.ts';
import { ImportPanel } from './import-panel.tsx';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/** People and their accounts: dormant and person-less accounts flagged; the dormant sweep with a preview. */
export function PeoplePage({ vocabulary }: { vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [search, setSearch] = useState('');
  const [accounts, error, reload, setError] = useLoad(() => governanceApi.accounts(search).then((r) => r.accounts), [search]);
  const [preview, setPreview] = useState<readonly string[] | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const sweep = async (dryRun: boolean) => {
    setError(null);
    try {
      const r = await governanceApi.sweep(dryRun);
      if (dryRun) setPreview(r.disabled.map((d) => d.userId));
      else {
        setPreview(null);
        setDone(r.disabled.length);
        await reload();
      }
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="people-title">
      <h1 id="people-title">{t('peopleTitle')}</h1>
      <label>
        {t('userId')}
        <input type="search" name="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <p>
        <button type="button" className="secondary" onClick={() => void sweep(true)}>
          {t('sweepPreview')}
        </button>{' '}
        {preview !== null && preview.length > 0 && (
          <button type="button" onClick={() => void sweep(false)}>
            {t('sweepRun')}
          </button>
        )}
      </p>
      <div aria-live="polite">
        {preview !== null && <p data-testid="sweep-preview">{t('sweepWould', { n: preview.length, ids: preview.join(', ') })}</p>}
        {done !== null && <p className="alert ok">{t('sweepResult', { n: done })}</p>}
      </div>
      <ErrorMessage error={error} />
      {accounts !== null && (
        <table data-testid="accounts">
          <thead>
            <tr>
              <th scope="col">{t('userId')}</th>
              <th scope="col">{t('side')}</th>
              <th scope="col">{t('lastLogin')}</th>
              <th scope="col">{t('navGrants')}</th>
              <th scope="col">{t('status')}</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((a: Account) => (
              <tr key={a.userId} data-user={a.userId}>
                <td>
                  {a.personName}（{a.userId}）
                </td>
                <td>
                  {a.assignment === null
                    ? '—'
                    : `${i18n.l(labelOf(vocabulary.sides, a.assignment.side), a.assignment.side)} ${a.assignment.organizationName} ${a.assignment.office}`}
                </td>
                <td>{a.lastLoginAt === null ? t('never') : formatInstant(a.lastLoginAt, lang)}</td>
                <td className="num">{a.grants}</td>
                <td>
                  {a.disabledAt !== null && <span className="state">{t('disabled')}</span>}{' '}
                  {a.dormant && <span className="state state-pending">{t('dormant')}</span>}{' '}
                  {a.orphan && <span className="state state-active">{t('orphan')}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ImportPanel onImported={reload} />
    </section>
  );
}
