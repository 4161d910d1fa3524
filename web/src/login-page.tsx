import { useEffect, useState } from 'react';
import { ApiFailure, api, type Me, type Persona, type Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { useI18n } from './i18n.tsx';

const SIDE_ORDER = ['network', 'retail', 'other_retailer'];

/** The embedded demo's login: pick a person. Each is labelled with the side they act for. */
export function LoginPage({ vocabulary, onLogin }: { vocabulary: Vocabulary; onLogin: (me: Me) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [personas, setPersonas] = useState<readonly Persona[] | null>(null);
  const [disabled, setDisabled] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    api.personas().then(setPersonas, (e: unknown) => {
      if (e instanceof ApiFailure && e.code === 'demo_login_disabled') setDisabled(true);
      else setError(e);
    });
  }, []);

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
      {disabled ? <p className="alert">{t('demoLoginDisabled')}</p> : <p>{t('loginLead')}</p>}
      <ErrorMessage error={error} />
      {personas === null && !disabled && error === null && <p aria-busy="true">{t('loading')}</p>}
      <ul className="personas">
        {sorted.map((p) => (
          <li key={p.userId}>
            <button type="button" className="persona" data-user={p.userId} disabled={busy !== null} onClick={() => void login(p.userId, p.terminalId ?? null)} aria-describedby={`persona-${p.key}`}>
              <span className={`side side-${p.side}`}>{i18n.l(vocabulary.sides[p.side], p.side)}</span>
              <span className="persona-label">{i18n.lang === 'ja' ? p.labelJa : p.labelEn}</span>
              <span className="small" id={`persona-${p.key}`}>
                {p.name}（{p.userId}{p.terminalId ? ` · ${t('terminal')} ${p.terminalId}` : ''}）— {t('loginAs')}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
