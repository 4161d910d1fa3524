import { useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, api, type Me, type Persona, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { governanceApi, type AuthMethods } from './governance-api.ts';
import { errorKey, useI18n } from './i18n.tsx';

const SIDE_ORDER = ['network', 'retail', 'other_retailer'];

/**
 * Login: single sign-on when the server has an identity provider, a local account (password and the
 * authenticator app's code), and in the embedded demo a person to pick, labelled with the side they act for.
 */
export function LoginPage({ vocabulary, onLogin }: { vocabulary: Vocabulary; onLogin: (me: Me) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [personas, setPersonas] = useState<readonly Persona[] | null>(null);
  const [disabled, setDisabled] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [methods, setMethods] = useState<AuthMethods | null>(null);
  const [creds, setCreds] = useState({ userId: '', password: '', code: '' });
  // A refused single sign-on comes back to the login screen with its code.
  const loginError = new URLSearchParams(window.location.search).get('loginError');
  const loginErrorKey = loginError === null ? null : errorKey(loginError);

  useEffect(() => {
    governanceApi.methods().then(setMethods, () => setMethods({ demo: true, password: false, oidc: null }));
    api.personas().then(setPersonas, (e: unknown) => {
      if (e instanceof ApiFailure && e.code === 'demo_login_disabled') setDisabled(true);
      else setError(e);
    });
  }, []);

  const passwordLogin = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(creds.userId);
    setError(null);
    try {
      const res = await governanceApi.passwordLogin(creds.userId.trim(), creds.password, creds.code, null);
      onLogin({ ...res.me, csrfToken: res.csrfToken });
    } catch (err) {
      setError(err);
      setBusy(null);
      setCreds({ ...creds, password: '', code: '' });
    }
  };

  const login = async (userId: string, terminalId: string | null) => {
    setBusy(userId);
    setError(null);
    try {
      const res = await api.login(userId, terminalId);
      onLogin({ ...res.me, csrfToken: res.csrfToken });
    } catch (e) {
      setError(e);
      setBusy(null);
    }
  };

  const sorted = [...(personas ?? [])].sort((a, b) => SIDE_ORDER.indexOf(a.side) - SIDE_ORDER.indexOf(b.side));
  return (
    <section aria-labelledby="login-title" className="login">
      <h1 id="login-title">{t('loginTitle')}</h1>
      {loginError !== null && (
        <p className="alert error" role="alert" data-login-error={loginError}>
          {loginErrorKey === null ? loginError : t(loginErrorKey)}
        </p>
      )}
      {methods?.oidc != null && (
        <p>
          <a className="button" href={methods.oidc.loginUrl} data-testid="sso">
            {t('loginSso', { label: methods.oidc.label })}
          </a>
        </p>
      )}
      {methods?.password === true && (
        <form className="panel" onSubmit={(e) => void passwordLogin(e)} data-testid="password-login">
          <h2>{t('loginPassword')}</h2>
          <label>
            {t('userId')}
            <input name="userId" autoComplete="username" value={creds.userId} onChange={(e) => setCreds({ ...creds, userId: e.target.value })} required />
          </label>
          <label>
            {t('password')}
            <input
              type="password"
              name="password"
              autoComplete="current-password"
              value={creds.password}
              onChange={(e) => setCreds({ ...creds, password: e.target.value })}
              required
            />
          </label>
          <label>
            {t('oneTimeCode')}
            <input
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              value={creds.code}
              onChange={(e) => setCreds({ ...creds, code: e.target.value })}
              required
              maxLength={16}
            />
          </label>
          <button type="submit" disabled={busy !== null}>
            {t('loginSubmit')}
          </button>
        </form>
      )}
      {disabled ? <p className="alert">{t('demoLoginDisabled')}</p> : <p>{t('loginLead')}</p>}
      <ErrorMessage error={error} />
      {personas === null && !disabled && error === null && <p aria-busy="true">{t('loading')}</p>}
      <ul className="personas">
        {sorted.map((p) => (
          <li key={p.userId}>
            <button
              type="button"
              className="persona"
              data-user={p.userId}
              disabled={busy !== null}
              onClick={() => void login(p.userId, p.terminalId ?? null)}
              aria-describedby={`persona-${p.key}`}
            >
              <span className={`side side-${p.side}`}>{i18n.l(vocabulary.sides[p.side], p.side)}</span>
              <span className="persona-label">{i18n.lang === 'ja' ? p.labelJa : p.labelEn}</span>
              <span className="small" id={`persona-${p.key}`}>
                {p.name}（{p.userId}
                {p.terminalId ? ` · ${t('terminal')} ${p.terminalId}` : ''}）— {t('loginAs')}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
