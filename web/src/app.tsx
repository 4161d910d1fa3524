import { useEffect, useState, type ReactNode } from 'react';
import { SESSION_ENDED, api, labelOf, setCsrfToken, type Me, type ProviderLogout, type Vocabulary } from './api.ts';
import { AnalysisPage, FindingsPage } from './analysis-page.tsx';
import { AuditPage } from './audit-page.tsx';
import { CampaignsPage } from './campaigns-page.tsx';
import { ChecklistPage } from './checklist-page.tsx';
import { EmergenciesPage } from './emergencies-page.tsx';
import { EmergencyBanner } from './emergency-banner.tsx';
import { EmergencyReviewPage } from './emergency-review-page.tsx';
import { EqualTreatmentPage } from './equal-treatment-page.tsx';
import { governanceApi } from './governance-api.ts';
import { GovernanceLogPage } from './governance-log-page.tsx';
import { QueuePage } from './grant-queue-page.tsx';
import { GrantsPage } from './grants-page.tsx';
import { HomePage, hasHome } from './home-page.tsx';
import { InquiriesPage, InquiryQueuePage } from './inquiries-page.tsx';
import { InquiryDetailPage } from './inquiry-detail-page.tsx';
import { InquiryFormPage } from './inquiry-form-page.tsx';
import { NotificationBell } from './notifications.tsx';
import { PeoplePage } from './people-page.tsx';
import { TerminalsPage } from './terminals-page.tsx';
import { TokensPage } from './tokens-page.tsx';
import { ErrorMessage } from './error-message.tsx';
import { useI18n, type MessageKey } from './i18n.tsx';
import { LOGOUT_STATE_KEY, LoginPage, PROVIDER_LOGOUT_KEY } from './login-page.tsx';
import { RecordPage } from './record-page.tsx';
import { navigate, onLinkClick, useLocation } from './router.ts';
import { SearchPage } from './search-page.tsx';

const purposeKey = (me: Me) => `gridwall.purpose.${me.userId}`;

/** The declared purpose of use, kept for the browser tab's session and only ever one the server offers. */
function usePurpose(me: Me | null | undefined): [string, (p: string) => void] {
  const [purpose, setPurpose] = useState('');
  useEffect(() => {
    if (me === null || me === undefined) return setPurpose('');
    const saved = sessionStorage.getItem(purposeKey(me)) ?? '';
    const offered: readonly string[] = me.abilities.purposes.map((p) => p.code);
    setPurpose(offered.includes(saved) ? saved : offered.length === 1 ? (offered[0] ?? '') : '');
  }, [me]);
  return [
    purpose,
    (p) => {
      if (me !== null && me !== undefined) sessionStorage.setItem(purposeKey(me), p);
      setPurpose(p);
    },
  ];
}

export function App() {
  const i18n = useI18n();
  const { t } = i18n;
  const url = useLocation();
  const [vocabulary, setVocabulary] = useState<Vocabulary | null>(null);
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [fatal, setFatal] = useState<unknown>(null);
  // A failed "log out everywhere": the other sessions may still be open, so this one stays and says so.
  const [sessionError, setSessionError] = useState<unknown>(null);
  const [purpose, setPurpose] = usePurpose(me);

  useEffect(() => {
    api.vocabulary().then(setVocabulary, setFatal);
    api.me().then(
      (m) => {
        setCsrfToken(m.csrfToken);
        setMe(m);
      },
      () => setMe(null),
    );
  }, []);

  useEffect(() => {
    const ended = () => {
      setCsrfToken(null);
      setMe(null);
      navigate('/', { replace: true });
    };
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, []);

  useEffect(() => {
    document.title = `gridwall — ${t('appSubtitle')}`;
  }, [t]);

  if (fatal !== null)
    return (
      <Frame>
        <ErrorMessage error={fatal} />
      </Frame>
    );
  if (vocabulary === null || me === undefined)
    return (
      <Frame>
        <p aria-busy="true">{t('loading')}</p>
      </Frame>
    );

  if (me === null) {
    return (
      <Frame>
        <LoginPage
          vocabulary={vocabulary}
          onLogin={(m) => {
            setSessionError(null);
            setCsrfToken(m.csrfToken);
            setMe(m);
            // The home screen of their duties (or, for someone with none, the look-up it falls back to).
            navigate('/', { replace: true });
          }}
        />
      </Frame>
    );
  }

  const loggedOut = (provider: ProviderLogout | null) => {
    setSessionError(null);
    setCsrfToken(null);
    sessionStorage.removeItem(purposeKey(me));
    // A single sign-on session: the provider's session ends too (its logout page, then back to the login
    // screen with the state kept here), or the login screen says that it could not.
    if (provider?.kind === 'redirect') {
      sessionStorage.setItem(LOGOUT_STATE_KEY, provider.state);
      window.location.assign(provider.url);
      return;
    }
    if (provider !== null) sessionStorage.setItem(PROVIDER_LOGOUT_KEY, provider.kind);
    setMe(null);
    navigate('/', { replace: true });
  };
  const logout = async () => loggedOut(await api.logout().catch(() => null));
  const logoutEverywhere = async () => {
    setSessionError(null);
    let provider: ProviderLogout | null;
    try {
      provider = await governanceApi.logoutEverywhere();
    } catch (e) {
      setSessionError(e);
      return;
    }
    loggedOut(provider);
  };

  const path = url.pathname;
  const home = hasHome(me.abilities);
  const record = /^\/records\/([^/]+)$/.exec(path);
  const emergencyReview = /^\/emergencies\/([^/]+)\/review$/.exec(path);
  const inquiry = /^\/inquiries\/(INQ-\d+)$/.exec(path);
  let page: ReactNode;
  if (path === '/checklist' && me.abilities.viewChecklist) page = <ChecklistPage vocabulary={vocabulary} />;
  else if (path === '/audit' && me.abilities.viewAuditLog) page = <AuditPage vocabulary={vocabulary} query={url.searchParams} />;
  else if (path === '/grants') page = <GrantsPage me={me} />;
  else if (path === '/grants/queue' && me.abilities.approveGrants) page = <QueuePage />;
  else if (path === '/people' && me.abilities.manageAccess) page = <PeoplePage vocabulary={vocabulary} />;
  else if (path === '/terminals' && me.abilities.overseeGrants) page = <TerminalsPage me={me} />;
  else if (path === '/campaigns' && me.abilities.overseeGrants) page = <CampaignsPage me={me} />;
  else if (path === '/tokens' && me.abilities.manageAccess) page = <TokensPage />;
  else if (path === '/governance' && me.abilities.overseeGrants) page = <GovernanceLogPage />;
  else if (path === '/emergencies' && me.abilities.overseeEmergencies) page = <EmergenciesPage me={me} vocabulary={vocabulary} />;
  else if (emergencyReview?.[1] !== undefined && me.abilities.overseeEmergencies)
    page = <EmergencyReviewPage id={decodeURIComponent(emergencyReview[1])} me={me} vocabulary={vocabulary} />;
  else if (path === '/analysis' && me.abilities.reviewFindings) page = <AnalysisPage query={url.searchParams} />;
  else if (path === '/findings' && me.abilities.reviewFindings) page = <FindingsPage />;
  else if (path === '/inquiries/new' && me.abilities.askInquiries) page = <InquiryFormPage key={url.search} query={url.searchParams} vocabulary={vocabulary} />;
  else if (path === '/inquiries' && me.abilities.askInquiries) page = <InquiriesPage me={me} vocabulary={vocabulary} />;
  else if (path === '/inquiries/queue' && me.abilities.answerInquiries) page = <InquiryQueuePage vocabulary={vocabulary} />;
  else if (path === '/inquiries/equal-treatment' && me.abilities.viewEqualTreatment) page = <EqualTreatmentPage vocabulary={vocabulary} />;
  else if (inquiry?.[1] !== undefined && (me.abilities.askInquiries || me.abilities.answerInquiries || me.abilities.viewEqualTreatment))
    page = <InquiryDetailPage key={inquiry[1]} id={inquiry[1]} me={me} vocabulary={vocabulary} />;
  else if (record?.[1] !== undefined)
    page = (
      <RecordPage
        id={decodeURIComponent(record[1])}
        purpose={url.searchParams.get('purpose') ?? purpose}
        reason={url.searchParams.get('reason') ?? ''}
        me={me}
        vocabulary={vocabulary}
      />
    );
  else if (path === '/' && home) page = <HomePage me={me} />;
  else page = <SearchPage me={me} purpose={purpose} vocabulary={vocabulary} query={url.searchParams} />;

  const a = me.abilities;
  // The screens this person may use, grouped by duty in menu order: the server's `abilities` decide, the server
  // enforces. A group shows only when it holds a screen for this person.
  const nav: readonly NavGroup[] = [
    {
      label: 'navGroupInquiry',
      items: [
        { href: '/search', label: 'navSearch', show: true, current: path === '/search' || (path === '/' && !home) },
        { href: '/inquiries', label: 'navInquiries', show: a.askInquiries, current: path === '/inquiries' || path === '/inquiries/new' || inquiry !== null },
        {
          href: '/inquiries/queue',
          label: 'navInquiryQueue',
          show: a.answerInquiries,
          current: path === '/inquiries/queue' || (inquiry !== null && !a.askInquiries),
        },
      ],
    },
    {
      label: 'navGroupAccess',
      items: [
        { href: '/grants', label: 'navGrants', show: true, current: path === '/grants' },
        { href: '/grants/queue', label: 'navQueue', show: a.approveGrants, current: path === '/grants/queue' },
        { href: '/people', label: 'navPeople', show: a.manageAccess, current: path === '/people' },
        { href: '/terminals', label: 'navTerminals', show: a.overseeTerminals, current: path === '/terminals' },
        { href: '/campaigns', label: 'navCampaigns', show: a.overseeGrants, current: path === '/campaigns' },
        { href: '/tokens', label: 'navTokens', show: a.manageAccess, current: path === '/tokens' },
        { href: '/governance', label: 'navGovernance', show: a.overseeGrants, current: path === '/governance' },
      ],
    },
    {
      label: 'navGroupAudit',
      items: [
        { href: '/audit', label: 'navAudit', show: a.viewAuditLog, current: path === '/audit' },
        { href: '/checklist', label: 'navChecklist', show: a.viewChecklist, current: path === '/checklist' },
        { href: '/analysis', label: 'navAnalysis', show: a.reviewFindings, current: path === '/analysis' },
        { href: '/findings', label: 'navFindings', show: a.reviewFindings, current: path === '/findings' },
        { href: '/inquiries/equal-treatment', label: 'navEqualTreatment', show: a.viewEqualTreatment, current: path === '/inquiries/equal-treatment' },
      ],
    },
    {
      label: 'navGroupEmergency',
      items: [{ href: '/emergencies', label: 'navEmergencies', show: a.overseeEmergencies, current: path.startsWith('/emergencies') }],
    },
  ];
  const side = me.assignment?.side ?? 'none';
  return (
    <Frame
      nav={<Navigation groups={nav} home={home ? path === '/' : null} />}
      header={
        <>
          <div className="who" data-testid="who">
            <span className={`side side-${side}`}>{i18n.l(labelOf(vocabulary.sides, side), side)}</span>
            <span>
              <strong>{me.name}</strong>（{me.userId}）
            </span>
            <span className="small">
              {i18n.l(vocabulary.principalClasses[me.principalClass], me.principalClass)}
              {me.assignment !== null && ` ／ ${me.assignment.organization ?? ''} ${me.assignment.office}`}
            </span>
          </div>
          <NotificationBell path={path} />
          <button type="button" className="secondary" onClick={() => void logout()}>
            {t('logout')}
          </button>
          <button type="button" className="secondary small-button" onClick={() => void logoutEverywhere()}>
            {t('logoutEverywhere')}
          </button>
        </>
      }
      bar={
        <>
          <EmergencyBanner vocabulary={vocabulary} />
          <div className={`purpose-bar${purpose === '' ? ' unset' : ''}`}>
            <label htmlFor="purpose">{t('purpose')}</label>
            <select
              id="purpose"
              value={record === null ? purpose : (url.searchParams.get('purpose') ?? purpose)}
              onChange={(e) => {
                setPurpose(e.target.value);
                // On a record, a new purpose is a new read under that purpose (logged as such).
                if (record?.[1] !== undefined) navigate(`/records/${record[1]}?${new URLSearchParams({ purpose: e.target.value })}`, { replace: true });
              }}
              required
              aria-describedby="purpose-note"
            >
              <option value="">{t('purposeChoose')}</option>
              {me.abilities.purposes.map((p) => (
                <option key={p.code} value={p.code}>
                  {p[i18n.lang]}
                </option>
              ))}
            </select>
            <span id="purpose-note" className="small">
              {t('purposeNote')}
            </span>
          </div>
          <ErrorMessage error={sessionError} />
        </>
      }
    >
      {page}
    </Frame>
  );
}

interface NavItem {
  readonly href: string;
  readonly label: MessageKey;
  readonly show: boolean;
  readonly current: boolean;
}

interface NavGroup {
  readonly label: MessageKey;
  readonly items: readonly NavItem[];
}

/**
 * The menu, grouped by duty (照会 / 権限管理 / 監査・分析 / 非常災害), every link always visible: a group is a
 * labelled list, shown only when it holds a screen for this person. `home`: null without a home screen, else
 * whether it is the current page.
 */
function Navigation({ groups, home }: { groups: readonly NavGroup[]; home: boolean | null }) {
  const { t } = useI18n();
  const link = (n: { href: string; label: MessageKey; current: boolean }) => (
    <a href={n.href} aria-current={n.current ? 'page' : undefined} onClick={onLinkClick(n.href)}>
      {t(n.label)}
    </a>
  );
  return (
    <nav aria-label={t('navMenu')} className="nav">
      {home !== null && <p className="nav-home">{link({ href: '/', label: 'navHome', current: home })}</p>}
      {groups.map((g) => {
        const items = g.items.filter((n) => n.show);
        if (items.length === 0) return null;
        return (
          <section key={g.label} className="nav-group" aria-labelledby={`nav-${g.label}`} data-group={g.label}>
            <h2 id={`nav-${g.label}`}>{t(g.label)}</h2>
            <ul>
              {items.map((n) => (
                <li key={n.href}>{link(n)}</li>
              ))}
            </ul>
          </section>
        );
      })}
    </nav>
  );
}

/** The page frame: skip link, title bar, language switch, the menu beside the main landmark. */
function Frame({ header, bar, nav, children }: { header?: ReactNode; bar?: ReactNode; nav?: ReactNode; children: ReactNode }) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <>
      <a className="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ▦
          </span>
          <span>
            <strong>{t('appName')}</strong>
            <span className="small">{t('appSubtitle')}</span>
          </span>
        </div>
        {header}
        <button
          type="button"
          className="lang"
          lang={i18n.lang === 'ja' ? 'en' : 'ja'}
          aria-label={`${t('language')}: ${t('switchLanguage')}`}
          onClick={() => i18n.setLang(i18n.lang === 'ja' ? 'en' : 'ja')}
        >
          {t('switchLanguage')}
        </button>
      </header>
      {bar}
      <div className={nav === undefined ? 'shell' : 'shell with-nav'}>
        {nav}
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </>
  );
}
