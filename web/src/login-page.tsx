import { useEffect, useState, type FormEvent } from 'react';
import { ApiFailure, api, type DeviceStatus, type Me, type Persona, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { governanceApi, type AuthMethods } from './governance-api.ts';
import { errorKey, messageKey, useI18n } from './i18n.tsx';

const SIDE_ORDER = ['network', 'retail', 'other_retailer'];

/** The state sent with the provider's logout, checked when the browser comes back to the login screen. */
export const LOGOUT_STATE_KEY = 'gridwall.logoutState';
/** A single sign-on logout the provider could not do (`unsupported`, `unavailable`), for the login screen to say. */
export const PROVIDER_LOGOUT_KEY = 'gridwall.providerLogout';

/**
 * What the last logout did at the identity provider: back from its logout with the state this tab sent
 * (`done`), or the provider could not (`unsupported`, `unavailable`); null after no single sign-on logout.
 */
function providerLogoutNotice(): 'ssoLoggedOut' | 'ssoLogoutUnsupported' | 'ssoLogoutUnavailable' | null {
  const params = new URLSearchParams(window.location.search);
  const sent = sessionStorage.getItem(LOGOUT_STATE_KEY);
  const failed = sessionStorage.getItem(PROVIDER_LOGOUT_KEY);
  sessionStorage.removeItem(PROVIDER_LOGOUT_KEY);
  if (failed === 'unsupported') return 'ssoLogoutUnsupported';
  if (failed === 'unavailable') return 'ssoLogoutUnavailable';
  const back = params.get('state');
  if (sent === null || back === null) return null;
  sessionStorage.removeItem(LOGOUT_STATE_KEY);
  window.history.replaceState(null, '', '/');
  return back === sent ? 'ssoLoggedOut' : null;
}

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
  const [device, setDevice] = useState<DeviceStatus | null>(null);
  const [enrollCode, setEnrollCode] = useState('');
  const [enrolled, setEnrolled] = useState<string | null>(null);
  const [logoutNotice] = useState(providerLogoutNotice);
  // A refused single sign-on comes back to the login screen with its code.
  const loginError = new URLSearchParams(window.location.search).get('loginError');
  // An error code (err_…) or a rule that refused the login (rule_…, e.g. retail_on_network_terminal).
  const loginErrorKey = loginError === null ? null : (errorKey(loginError) ?? messageKey(`rule_${loginError}`));

  useEffect(() => {
    api.device().then(setDevice, () => setDevice({ terminal: null }));
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

  const enroll = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const res = await api.enrollDevice(enrollCode);
      setEnrolled(res.terminalId);
      setEnrollCode('');
      setDevice(await api.device());
    } catch (err) {
      setError(err);
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
      {logoutNotice !== null && (
        <p className={logoutNotice === 'ssoLoggedOut' ? 'alert' : 'alert error'} role="status" data-testid="provider-logout" data-notice={logoutNotice}>
          {t(logoutNotice)}
        </p>
      )}
      {device !== null && (
        <p data-testid="device" data-terminal={device.terminal?.id ?? ''} data-pending={device.terminal?.pending === true}>
          {device.terminal === null
            ? t('deviceNone')
            : device.terminal.retired
              ? t('deviceRetired')
              : device.terminal.pending
                ? t('devicePending', { id: device.terminal.id })
                : `${t('deviceThisBrowser', { id: device.terminal.id })}${device.terminal.shared ? `（${t('deviceShared')}）` : ''}`}
        </p>
      )}
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
      <details className="panel" data-testid="device-enroll">
        <summary>{t('deviceEnrollTitle')}</summary>
        <form onSubmit={(e) => void enroll(e)}>
          <p className="small">{t('deviceEnrollLead')}</p>
          <label>
            {t('deviceEnrollCode')}
            <input name="enrollmentCode" autoComplete="off" value={enrollCode} onChange={(e) => setEnrollCode(e.target.value)} required maxLength={40} />
          </label>
          <button type="submit">{t('deviceEnrollSubmit')}</button>
        </form>
        {enrolled !== null && (
          <p className="alert" role="status" data-testid="device-enrolled">
            {t('deviceEnrolled', { id: enrolled })}
          </p>
        )}
      </details>
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
