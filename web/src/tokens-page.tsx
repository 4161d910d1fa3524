import { useState, type FormEvent } from 'react';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, jstDayFromNow } from './format.tsx';
import { governanceApi, type Token, type TokenScope } from './governance-api.ts';
import { messageKey, useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/** The scopes a token may be given: every one the contract knows, and only those (the compiler checks both). */
const TOKEN_SCOPE_OPTIONS: Readonly<Record<TokenScope, true>> = { 'customer.read': true, scim: true };
const tokenScopes = Object.keys(TOKEN_SCOPE_OPTIONS) as TokenScope[];

/**
 * Service accounts and their API tokens: create a service account for a system, request a token for it (the
 * secret shown once), approve or reject another administrator's request (never one's own: the server
 * refuses it), revoke.
 */
export function TokensPage() {
  const { t, lang } = useI18n();
  const [tokens, error, reload, setError] = useLoad(() => governanceApi.tokens().then((r) => r.tokens));
  const [form, setForm] = useState<{ userId: string; name: string; scope: TokenScope; expiresOn: string }>({
    userId: '',
    name: '',
    scope: 'customer.read',
    expiresOn: jstDayFromNow(180),
  });
  const [account, setAccount] = useState({ userId: '', name: '', organizationId: '', ownerPersonId: '' });
  const [created, setCreated] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await governanceApi.createToken({ userId: form.userId.trim(), name: form.name, scopes: [form.scope], expiresOn: form.expiresOn });
      setSecret(r.token);
      await reload();
    } catch (err) {
      setError(err);
    }
  };
  const createAccount = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const org = account.organizationId.trim();
      const r = await governanceApi.createServiceAccount({
        userId: account.userId.trim(),
        name: account.name,
        ownerPersonId: account.ownerPersonId.trim(),
        ...(org === '' ? {} : { organizationId: org }),
      });
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
          <select
            name="tokenScope"
            value={form.scope}
            onChange={(e) => setForm({ ...form, scope: tokenScopes.find((x) => x === e.target.value) ?? form.scope })}
          >
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
              <td>{formatInstant(x.expiresAt, lang)}</td>
              <td data-testid="token-status">
                <TokenStatus status={x.status} />
              </td>
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

/** A token's status in words, the code beside it in small print (issue 20). */
function TokenStatus({ status }: { status: string }) {
  const { t } = useI18n();
  const key = messageKey(`tokenStatus_${status}`);
  return (
    <>
      {key !== null && <>{t(key)} </>}
      <code className="code small">{status}</code>
    </>
  );
}
