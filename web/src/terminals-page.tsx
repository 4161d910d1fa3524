import type { Me } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant } from './format.tsx';
import { governanceApi, type Terminal } from './governance-api.ts';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/** The terminal registry, its reconciliation (misplaced, unused) with a CSV download, and retirement. */
export function TerminalsPage({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [terminals, error, reload, setError] = useLoad(() => governanceApi.terminals().then((r) => r.terminals));
  const retire = (id: string) => async () => {
    try {
      await governanceApi.retire(id);
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  const flagged = (terminals ?? []).filter((x) => x.misplaced || x.unused);
  const table = (rows: readonly Terminal[], testId: string) => (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">ID</th>
          <th scope="col">{t('scope')}</th>
          <th scope="col">{t('setting')}</th>
          <th scope="col">{t('siteSide')}</th>
          <th scope="col">{t('lastLogin')}</th>
          <th scope="col">{t('status')}</th>
          {me.abilities.manageAccess && <th scope="col" />}
        </tr>
      </thead>
      <tbody>
        {rows.map((x) => (
          <tr key={x.id} data-terminal={x.id} data-misplaced={x.misplaced}>
            <th scope="row" className="mono">
              {x.id}
            </th>
            <td>
              {x.organizationName} {x.office}
            </td>
            <td>{x.setting}</td>
            <td>{x.siteSide}</td>
            <td>{x.lastUsedAt === null ? t('never') : formatInstant(x.lastUsedAt, lang)}</td>
            <td>
              {x.misplaced && <span className="state state-active">{t('misplaced')}</span>}{' '}
              {x.unused && <span className="state state-pending">{t('unused')}</span>}
              {x.retiredAt !== null && <span className="state">{t('retire')}</span>}
            </td>
            {me.abilities.manageAccess && (
              <td>
                {x.retiredAt === null && (
                  <button type="button" className="secondary" onClick={() => void retire(x.id)()}>
                    {t('retire')}
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <section aria-labelledby="terminals-title">
      <h1 id="terminals-title">{t('terminalsTitle')}</h1>
      <ErrorMessage error={error} />
      <h2>{t('reconciliation')}</h2>
      <p>
        <a href="/api/terminals/reconciliation?format=csv" download>
          {t('downloadReconciliation')}
        </a>
      </p>
      {terminals !== null && table(flagged, 'reconciliation')}
      <h2>{t('navTerminals')}</h2>
      {terminals !== null && table(terminals, 'terminals')}
    </section>
  );
}
