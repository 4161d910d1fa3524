import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { labelOf, type Me, type Vocabulary } from './api.ts';
import { jst } from './emergency-page.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatDate } from './format.tsx';
import { governanceApi, type Account, type Campaign, type CampaignItem, type GovernanceEvent, type Grant, type Permission, type Terminal, type Token, type TokenScope } from './governance-api.ts';
import { useI18n } from './i18n.tsx';

/** Today plus `days`, as a `date` input's value in Japan time. */
const dayFromNow = (days: number) => new Date(Date.now() + 9 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);

function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[] = []): [T | null, unknown, () => void, (e: unknown) => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = () => {
    load().then(setData, setError);
  };
  useEffect(reload, deps);
  return [data, error, reload, setError];
}

function GrantTable({ grants, permissions, actions }: { grants: readonly Grant[]; permissions: readonly Permission[]; actions?: (g: Grant) => ReactNode }) {
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

/** Grants: one's own (everyone's for those who oversee them), a request form, revocation. */
export function GrantsPage({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [permissions] = useLoad(() => governanceApi.permissions().then((r) => r.permissions));
  const [grants, error, reload, setError] = useLoad(() => governanceApi.grants(me.abilities.overseeGrants ? {} : { userId: me.userId }).then((r) => r.grants));
  const [form, setForm] = useState({ userId: me.userId, permissionId: '', scopeOrganizationId: '', reason: '', expiresOn: dayFromNow(90) });
  const [reasons, setReasons] = useState<Record<number, string>>({});
  const perm = permissions?.find((p) => p.id === form.permissionId);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await governanceApi.request({ userId: form.userId.trim(), permissionId: form.permissionId, reason: form.reason, expiresOn: form.expiresOn, ...(perm?.scoped === true ? { scopeOrganizationId: form.scopeOrganizationId.trim() } : {}) });
      setForm({ ...form, reason: '' });
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = (g: Grant) => async () => {
    setError(null);
    try {
      await governanceApi.revoke(g.id, reasons[g.id] ?? '');
      reload();
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
          <input name="userId" value={form.userId} onChange={(e) => setForm({ ...form, userId: e.target.value })} required readOnly={!me.abilities.manageAccess && !me.abilities.approveGrants} />
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
            {t('allowedSides')}: {perm.allowedSides.join(', ')}
          </p>
        )}
        {perm?.scoped === true && (
          <label>
            {t('scope')}
            <input name="scopeOrganizationId" value={form.scopeOrganizationId} onChange={(e) => setForm({ ...form, scopeOrganizationId: e.target.value })} required />
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
      {grants !== null && permissions !== null && (
        <GrantTable
          grants={grants}
          permissions={permissions}
          actions={(g) =>
            mayRevoke && g.status === 'approved' ? (
              <div className="actions">
                <input aria-label={t('reason')} name={`revoke-${g.id}`} value={reasons[g.id] ?? ''} onChange={(e) => setReasons({ ...reasons, [g.id]: e.target.value })} />
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

/** Requests the person may decide: never their own; approve, or reject with a comment. */
export function QueuePage() {
  const { t } = useI18n();
  const [permissions] = useLoad(() => governanceApi.permissions().then((r) => r.permissions));
  const [queue, error, reload, setError] = useLoad(() => governanceApi.queue().then((r) => r.grants));
  const [comments, setComments] = useState<Record<number, string>>({});
  const decide = (g: Grant, approve: boolean) => async () => {
    setError(null);
    try {
      if (approve) await governanceApi.approve(g.id, comments[g.id] ?? '');
      else await governanceApi.reject(g.id, comments[g.id] ?? '-');
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">{t('queueTitle')}</h1>
      <ErrorMessage error={error} />
      {queue !== null && queue.length === 0 && <p>{t('queueEmpty')}</p>}
      {queue !== null && queue.length > 0 && permissions !== null && (
        <GrantTable
          grants={queue}
          permissions={permissions}
          actions={(g) => (
            <div className="actions">
              <input aria-label={t('comment')} name={`comment-${g.id}`} value={comments[g.id] ?? ''} onChange={(e) => setComments({ ...comments, [g.id]: e.target.value })} />
              <button type="button" onClick={() => void decide(g, true)()}>
                {t('approve')}
              </button>
              <button type="button" className="secondary" onClick={() => void decide(g, false)()}>
                {t('reject')}
              </button>
            </div>
          )}
        />
      )}
    </section>
  );
}

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
        reload();
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
                <td>{a.assignment === null ? '—' : `${i18n.l(labelOf(vocabulary.sides, a.assignment.side), a.assignment.side)} ${a.assignment.organizationName} ${a.assignment.office}`}</td>
                <td>{a.lastLoginAt === null ? t('never') : jst(a.lastLoginAt, lang)}</td>
                <td className="num">{a.grants}</td>
                <td>
                  {a.disabledAt !== null && <span className="state">{t('disabled')}</span>} {a.dormant && <span className="state state-pending">{t('dormant')}</span>}{' '}
                  {a.orphan && <span className="state state-active">{t('orphan')}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The terminal registry, its reconciliation (misplaced, unused) with a CSV download, and retirement. */
export function TerminalsPage({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [terminals, error, reload, setError] = useLoad(() => governanceApi.terminals().then((r) => r.terminals));
  const retire = (id: string) => async () => {
    try {
      await governanceApi.retire(id);
      reload();
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
            <td>{x.lastUsedAt === null ? t('never') : jst(x.lastUsedAt, lang)}</td>
            <td>
              {x.misplaced && <span className="state state-active">{t('misplaced')}</span>} {x.unused && <span className="state state-pending">{t('unused')}</span>}
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

/** Recertification: start a campaign; each grant's reviewer keeps or revokes it before the end. */
export function CampaignsPage({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [campaigns, error, reload, setError] = useLoad(() => governanceApi.campaigns().then((r) => r.campaigns));
  const [open, setOpen] = useState<{ id: number; items: readonly CampaignItem[] } | null>(null);
  const [form, setForm] = useState({ name: '', endsOn: dayFromNow(30) });
  const load = async (id: number) => setOpen({ id, items: (await governanceApi.campaignItems(id)).items });
  const start = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await governanceApi.startCampaign(form.name, form.endsOn);
      setForm({ ...form, name: '' });
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const decide = (c: number, g: number, d: 'confirmed' | 'revoked') => async () => {
    try {
      await governanceApi.decideItem(c, g, d);
      await load(c);
      reload();
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
            <strong>{c.name}</strong>（{t('endsOn')} {jst(c.endsAt, lang)}）{t('progress', { confirmed: c.confirmed, revoked: c.revoked, open: c.open })}{' '}
            <button type="button" className="secondary" onClick={() => void load(c.id)}>
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

/**
 * Service accounts and their API tokens: create a service account for a system, request a token for it (the
 * secret shown once), approve or reject another administrator's request (never one's own: the server
 * refuses it), revoke.
 */
/** The scopes a token may be given: every one the contract knows, and only those (the compiler checks both). */
const TOKEN_SCOPE_OPTIONS: Readonly<Record<TokenScope, true>> = { 'customer.read': true, scim: true };
const tokenScopes = Object.keys(TOKEN_SCOPE_OPTIONS) as TokenScope[];

export function TokensPage() {
  const { t, lang } = useI18n();
  const [tokens, error, reload, setError] = useLoad(() => governanceApi.tokens().then((r) => r.tokens));
  const [form, setForm] = useState<{ userId: string; name: string; scope: TokenScope; expiresOn: string }>({ userId: '', name: '', scope: 'customer.read', expiresOn: dayFromNow(180) });
  const [account, setAccount] = useState({ userId: '', name: '', organizationId: '', ownerPersonId: '' });
  const [created, setCreated] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await governanceApi.createToken({ userId: form.userId.trim(), name: form.name, scopes: [form.scope], expiresOn: form.expiresOn });
      setSecret(r.token);
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const createAccount = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const org = account.organizationId.trim();
      const r = await governanceApi.createServiceAccount({ userId: account.userId.trim(), name: account.name, ownerPersonId: account.ownerPersonId.trim(), ...(org === '' ? {} : { organizationId: org }) });
      setCreated(r.userId);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">{t('tokensTitle')}</h1>
      <h2>{t('serviceAccountsTitle')}</h2>
      <form className="panel" onSubmit={(e) => void createAccount(e)}>
        <label>
          {t('userId')}
          <input name="serviceUser" value={account.userId} onChange={(e) => setAccount({ ...account, userId: e.target.value })} required />
        </label>
        <label>
          {t('serviceAccountName')}
          <input name="serviceName" value={account.name} onChange={(e) => setAccount({ ...account, name: e.target.value })} required />
        </label>
        <label>
          {t('serviceAccountOrg')}
          <input name="serviceOrg" value={account.organizationId} onChange={(e) => setAccount({ ...account, organizationId: e.target.value })} />
        </label>
        <label>
          {t('serviceAccountOwner')}
          <input name="serviceOwner" value={account.ownerPersonId} onChange={(e) => setAccount({ ...account, ownerPersonId: e.target.value })} required />
        </label>
        <button type="submit">{t('createServiceAccount')}</button>
      </form>
      {created !== null && (
        <p className="alert ok" role="status">
          {t('serviceAccountCreated', { userId: created })}
        </p>
      )}
      <p>{t('tokenPendingNote')}</p>
      <form className="panel" onSubmit={(e) => void create(e)}>
        <label>
          {t('userId')}
          <input name="tokenUser" value={form.userId} onChange={(e) => setForm({ ...form, userId: e.target.value })} required />
        </label>
        <label>
          {t('tokenName')}
          <input name="tokenName" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          {t('scopes')}
          <select name="tokenScope" value={form.scope} onChange={(e) => setForm({ ...form, scope: tokenScopes.find((x) => x === e.target.value) ?? form.scope })}>
            {tokenScopes.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('expiresOn')}
          <input type="date" name="tokenExpires" value={form.expiresOn} onChange={(e) => setForm({ ...form, expiresOn: e.target.value })} required />
        </label>
        <button type="submit">{t('createToken')}</button>
      </form>
      {secret !== null && (
        <p className="alert ok" role="status">
          {t('tokenSecretOnce')} <code data-testid="token-secret">{secret}</code>
        </p>
      )}
      <ErrorMessage error={error} />
      <table data-testid="tokens">
        <tbody>
          {(tokens ?? []).map((x: Token) => (
            <tr key={x.id} data-token={x.id}>
              <td className="mono">{x.id}</td>
              <td>{x.name}</td>
              <td>{x.userId}</td>
              <td>{x.scopes.join(', ')}</td>
              <td>{jst(x.expiresAt, lang)}</td>
              <td data-testid="token-status">{x.status}</td>
              <td>
                {x.status === 'pending' && x.revokedAt === null && (
                  <>
                    <button type="button" onClick={() => void governanceApi.decideToken(x.id, 'approve').then(reload, setError)}>
                      {t('approveToken')}
                    </button>{' '}
                    <button type="button" className="secondary" onClick={() => void governanceApi.decideToken(x.id, 'reject').then(reload, setError)}>
                      {t('rejectToken')}
                    </button>{' '}
                  </>
                )}
                {x.revokedAt === null ? (
                  <button type="button" className="secondary" onClick={() => void governanceApi.revokeToken(x.id).then(reload, setError)}>
                    {t('revoke')}
                  </button>
                ) : (
                  t('revoked')
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Every governance action, done and refused, newest first. */
export function GovernanceLogPage() {
  const { t, lang } = useI18n();
  const [events, error] = useLoad(() => governanceApi.events().then((r) => r.events));
  return (
    <section aria-labelledby="governance-title">
      <h1 id="governance-title">{t('governanceTitle')}</h1>
      <ErrorMessage error={error} />
      <table data-testid="governance-events">
        <thead>
          <tr>
            <th scope="col">{t('when')}</th>
            <th scope="col">{t('who')}</th>
            <th scope="col">{t('action')}</th>
            <th scope="col">{t('subject')}</th>
            <th scope="col">{t('outcome')}</th>
          </tr>
        </thead>
        <tbody>
          {(events ?? []).map((e: GovernanceEvent) => (
            <tr key={e.id} data-action={e.action} data-outcome={e.outcome}>
              <td>{jst(e.occurredAt, lang)}</td>
              <td>{e.actorUserId ?? 'system'}</td>
              <td className="mono">{e.action}</td>
              <td>
                {e.subjectType} {e.subjectId}
              </td>
              <td>
                {e.outcome}
                {e.rule !== null && <span className="small"> {e.rule}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
