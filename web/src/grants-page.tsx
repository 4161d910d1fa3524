import { useState, type FormEvent } from 'react';
import { labelOf, type Me } from './api.ts';
import { useVocabulary } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { jstDayFromNow } from './format.tsx';
import { governanceApi, type Grant } from './governance-api.ts';
import { GrantTable } from './grant-table.tsx';
import { SeparationRules } from './separation-rules.tsx';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/** Grants: one's own (everyone's for those who oversee them), a request form, revocation. */
export function GrantsPage({ me }: { me: Me }) {
  const { t, l, lang } = useI18n();
  const vocabulary = useVocabulary();
  const [permissions] = useLoad(() => governanceApi.permissions().then((r) => r.permissions));
  const [grants, error, reload, setError] = useLoad(
    () => governanceApi.grants(me.abilities.overseeGrants ? {} : { userId: me.userId }).then((r) => r.grants),
    [me.abilities.overseeGrants, me.userId],
  );
  const [form, setForm] = useState({ userId: me.userId, permissionId: '', scopeOrganizationId: '', reason: '', expiresOn: jstDayFromNow(90) });
  const [reasons, setReasons] = useState<Record<number, string>>({});
  const perm = permissions?.find((p) => p.id === form.permissionId);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await governanceApi.request({
        userId: form.userId.trim(),
        permissionId: form.permissionId,
        reason: form.reason,
        expiresOn: form.expiresOn,
        ...(perm?.scoped === true ? { scopeOrganizationId: form.scopeOrganizationId.trim() } : {}),
      });
      setForm({ ...form, reason: '' });
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = (g: Grant) => async () => {
    setError(null);
    try {
      await governanceApi.revoke(g.id, reasons[g.id] ?? '');
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  const mayRevoke = me.abilities.manageAccess || me.abilities.approveGrants;
  return (
    <section aria-labelledby="grants-title">
      <h1 id="grants-title">{t('grantsTitle')}</h1>
      <p>{t('grantsLead')}</p>
      <form className="panel" onSubmit={(e) => void submit(e)} data-testid="grant-request">
        <h2>{t('requestTitle')}</h2>
        <label>
          {t('userId')}
          <input
            name="userId"
            value={form.userId}
            onChange={(e) => setForm({ ...form, userId: e.target.value })}
            required
            readOnly={!me.abilities.manageAccess && !me.abilities.approveGrants}
          />
        </label>
        <label>
          {t('permission')}
          <select name="permissionId" value={form.permissionId} onChange={(e) => setForm({ ...form, permissionId: e.target.value })} required>
            <option value="">—</option>
            {(permissions ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p[lang]}（{p.id}）
              </option>
            ))}
          </select>
        </label>
        {perm !== undefined && (
          <p className="small" data-testid="allowed-sides">
            {t('allowedSides')}: {perm.allowedSides.map((side) => l(vocabulary === null ? undefined : labelOf(vocabulary.sides, side), side)).join('、')}
          </p>
        )}
        {perm?.scoped === true && (
          <label>
            {t('scope')}
            <input
              name="scopeOrganizationId"
              value={form.scopeOrganizationId}
              onChange={(e) => setForm({ ...form, scopeOrganizationId: e.target.value })}
              required
            />
          </label>
        )}
        <label>
          {t('reason')}
          <input name="reason" value={form.reason} onChange={(e) => setForm({ ...form, reason: e.target.value })} required minLength={2} />
        </label>
        <label>
          {t('expiresOn')}
          <input type="date" name="expiresOn" value={form.expiresOn} onChange={(e) => setForm({ ...form, expiresOn: e.target.value })} required />
        </label>
        <button type="submit">{t('requestGrant')}</button>
      </form>
      <ErrorMessage error={error} />
      <SeparationRules permissions={permissions} />
      {grants !== null && permissions !== null && (
        <GrantTable
          grants={grants}
          permissions={permissions}
          actions={(g) =>
            mayRevoke && g.status === 'approved' ? (
              <div className="actions">
                <input
                  aria-label={t('reason')}
                  name={`revoke-${g.id}`}
                  value={reasons[g.id] ?? ''}
                  onChange={(e) => setReasons({ ...reasons, [g.id]: e.target.value })}
                />
                <button type="button" className="secondary" onClick={() => void revoke(g)()}>
                  {t('revoke')}
                </button>
              </div>
            ) : null
          }
        />
      )}
    </section>
  );
}
