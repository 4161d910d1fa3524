import { useState, type FormEvent } from 'react';
import type { Me } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, jstDayFromNow } from './format.tsx';
import { governanceApi, type Campaign, type CampaignItem } from './governance-api.ts';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/** Recertification: start a campaign; each grant's reviewer keeps or revokes it before the end. */
export function CampaignsPage({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [campaigns, error, reload, setError] = useLoad(() => governanceApi.campaigns().then((r) => r.campaigns));
  const [open, setOpen] = useState<{ id: number; items: readonly CampaignItem[] } | null>(null);
  const [form, setForm] = useState({ name: '', endsOn: jstDayFromNow(30) });
  const load = async (id: number) => setOpen({ id, items: (await governanceApi.campaignItems(id)).items });
  const start = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await governanceApi.startCampaign(form.name, form.endsOn);
      setForm({ ...form, name: '' });
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  const decide = (c: number, g: number, d: 'confirmed' | 'revoked') => async () => {
    try {
      await governanceApi.decideItem(c, g, d);
      await load(c);
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="campaigns-title">
      <h1 id="campaigns-title">{t('campaignsTitle')}</h1>
      {me.abilities.manageAccess && (
        <form className="panel" onSubmit={(e) => void start(e)}>
          <label>
            {t('campaignName')}
            <input name="campaignName" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
          </label>
          <label>
            {t('endsOn')}
            <input type="date" name="endsOn" value={form.endsOn} onChange={(e) => setForm({ ...form, endsOn: e.target.value })} required />
          </label>
          <button type="submit">{t('startCampaign')}</button>
        </form>
      )}
      <ErrorMessage error={error} />
      <ul>
        {(campaigns ?? []).map((c: Campaign) => (
          <li key={c.id} data-campaign={c.id}>
            <strong>{c.name}</strong>（{t('endsOn')} {formatInstant(c.endsAt, lang)}）
            {t('progress', { confirmed: c.confirmed, revoked: c.revoked, open: c.open })}{' '}
            <button type="button" className="secondary" onClick={() => void load(c.id).catch(setError)}>
              {t('openCampaign')}
            </button>
          </li>
        ))}
      </ul>
      {open !== null && (
        <table data-testid="campaign-items">
          <tbody>
            {open.items.map((i) => (
              <tr key={i.grantId} data-grant={i.grantId}>
                <td>
                  {i.personName}（{i.userId}）
                </td>
                <td>{i.permissionId}</td>
                <td>
                  {i.decision ?? (
                    <>
                      <button type="button" onClick={() => void decide(open.id, i.grantId, 'confirmed')()}>
                        {t('confirmGrant')}
                      </button>{' '}
                      <button type="button" className="secondary" onClick={() => void decide(open.id, i.grantId, 'revoked')()}>
                        {t('revokeGrant')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
