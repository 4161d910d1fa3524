import type { ReactNode } from 'react';
import { formatDate } from './format.tsx';
import type { Grant, Permission } from './governance-api.ts';
import { useI18n } from './i18n.tsx';

/** Grants as a table (the grants page and the approval queue), with each row's actions when given. */
export function GrantTable({
  grants,
  permissions,
  actions,
}: {
  grants: readonly Grant[];
  permissions: readonly Permission[];
  actions?: (g: Grant) => ReactNode;
}) {
  const { t, lang } = useI18n();
  const name = (id: string) => permissions.find((p) => p.id === id)?.[lang] ?? id;
  if (grants.length === 0) return <p>{t('noGrants')}</p>;
  return (
    <table data-testid="grants">
      <thead>
        <tr>
          <th scope="col">{t('userId')}</th>
          <th scope="col">{t('permission')}</th>
          <th scope="col">{t('status')}</th>
          <th scope="col">{t('until')}</th>
          <th scope="col">{t('reason')}</th>
          <th scope="col">
            {t('requestedBy')} ／ {t('decidedBy')}
          </th>
          {actions !== undefined && <th scope="col" />}
        </tr>
      </thead>
      <tbody>
        {grants.map((g) => (
          <tr key={g.id} data-grant={g.id} data-status={g.status} data-user={g.userId} data-permission={g.permissionId}>
            <td>
              {g.personName}（{g.userId}）
            </td>
            <td>
              {name(g.permissionId)}
              {g.scopeOrganizationId !== null && <span className="small"> {g.scopeOrganizationId}</span>}
            </td>
            <td>{t(`grantStatus_${g.status}`)}</td>
            <td>{formatDate(new Date(new Date(g.expiresAt).getTime() - 1).toISOString(), lang)}</td>
            <td>{g.reason}</td>
            <td>
              {g.requestedBy} ／ {g.decidedBy ?? '—'}
            </td>
            {actions !== undefined && <td>{actions(g)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
