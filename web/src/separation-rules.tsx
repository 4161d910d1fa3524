import { governanceApi, type Permission } from './governance-api.ts';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/**
 * 職務分離のルール: the incompatible permission pairs and the reciprocal-approval rule as the server enforces them
 * (GET /api/grants/separation-rules), each with its reason — what a grant request or approval may be refused
 * under, shown before anyone meets the refusal.
 */
export function SeparationRules({ permissions }: { permissions: readonly Permission[] | null }) {
  const { t, lang } = useI18n();
  const [rules] = useLoad(() => governanceApi.separationRules());
  if (rules === null) return null;
  // The permission in words, its ID beside it in small print (issue 20: no code standing alone).
  const name = (id: string) => {
    const p = permissions?.find((x) => x.id === id);
    return (
      <span key={id}>
        {p === undefined ? (
          <code className="code">{id}</code>
        ) : (
          <>
            {p[lang]}（<code className="code">{id}</code>）
          </>
        )}
      </span>
    );
  };
  const enforced = (on: boolean) => <span className={`state ${on ? 'sod-on' : 'sod-off'}`}>{t(on ? 'sodOn' : 'sodOff')}</span>;
  return (
    <section className="panel" data-testid="separation-rules" aria-labelledby="sod-title">
      <h2 id="sod-title">{t('sodTitle')}</h2>
      <p className="small">{t('sodLead')}</p>
      <table className="mini">
        <thead>
          <tr>
            <th>{t('sodRule')}</th>
            <th>{t('sodPermissions')}</th>
            <th>{t('sodReason')}</th>
            <th>{t('sodEnforced')}</th>
          </tr>
        </thead>
        <tbody>
          {rules.pairs.map((p) => (
            <tr key={p.id} data-pair={p.id} data-enforced={p.enforced}>
              <td>{t('sodPairRule')}</td>
              <td>{p.permissions.map((id, i) => [i > 0 ? ' ＋ ' : null, name(id)])}</td>
              <td>{p[lang]}</td>
              <td>{enforced(p.enforced)}</td>
            </tr>
          ))}
          <tr data-pair="reciprocal_approval" data-enforced={rules.reciprocal.enforced}>
            <td>{t('sodReciprocalRule', { days: rules.reciprocal.days })}</td>
            <td>{t('sodReciprocalPermissions')}</td>
            <td>{rules.reciprocal[lang]}</td>
            <td>{enforced(rules.reciprocal.enforced)}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}
