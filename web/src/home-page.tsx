import type { ReactNode } from 'react';
import type * as home from '../../src/contract/home.ts';
import type { ReplyOf } from '../../src/contract/schema.ts';
import { call, type Me } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant } from './format.tsx';
import { useI18n, type MessageKey } from './i18n.tsx';
import { onLinkClick } from './router.ts';
import { useLoad } from './use-load.ts';

/** What GET /api/home answers: a section per duty the person holds, each a few counts. */
export type HomeCounts = ReplyOf<typeof home.home, 200>;

/**
 * Whether the person has a home screen: a duty the server counts something for (GET /api/home's sections are
 * behind these abilities or narrower ones). Everyone else — a call-centre agent, a retailer's staff — opens on
 * the customer look-up, as before.
 */
export function hasHome(a: Me['abilities']): boolean {
  return a.approveGrants || a.answerInquiries || a.reviewFindings || a.overseeEmergencies || a.overseeGrants;
}

interface Count {
  readonly key: string;
  readonly label: ReactNode;
  readonly n: number;
  readonly href: string;
  /** The count is something urgent (high findings, late inquiries, an emergency in force), not just waiting. */
  readonly urgent?: boolean;
}

/** One duty's counts, each a link to the list it counts. */
function Section({ id, title, counts }: { id: home.HomeSection; title: MessageKey; counts: readonly Count[] }) {
  const { t } = useI18n();
  return (
    <section className="home-card" data-section={id} aria-labelledby={`home-${id}`}>
      <h2 id={`home-${id}`}>{t(title)}</h2>
      <ul>
        {counts.map((c) => (
          <li key={c.key} data-count={c.key} data-n={c.n}>
            <a href={c.href} onClick={onLinkClick(c.href)}>
              <span className={`home-n${c.n > 0 ? (c.urgent === true ? ' urgent' : ' waiting') : ''}`}>{t('homeCount', { n: c.n })}</span>
              <span className="home-label">{c.label}</span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The counts of each section the server sent, in the order of HOME_SECTIONS. */
function sections(h: HomeCounts, t: ReturnType<typeof useI18n>['t']): [home.HomeSection, MessageKey, Count[]][] {
  const out: [home.HomeSection, MessageKey, Count[]][] = [];
  if (h.approvals !== undefined)
    out.push(['approvals', 'homeApprovals', [{ key: 'waiting', label: t('homeApprovalsWaiting'), n: h.approvals.waiting, href: '/grants/queue' }]]);
  if (h.inquiries !== undefined)
    out.push([
      'inquiries',
      'homeInquiries',
      [
        { key: 'waiting', label: t('homeInquiriesWaiting'), n: h.inquiries.waiting, href: '/inquiries/queue' },
        { key: 'late', label: t('homeInquiriesLate'), n: h.inquiries.late, href: '/inquiries/queue', urgent: true },
      ],
    ]);
  if (h.findings !== undefined) {
    const f = h.findings;
    out.push([
      'findings',
      'homeFindings',
      [
        ...(['high', 'medium', 'low'] as const).map((s) => ({
          key: s,
          label: t('homeFindingsBy', { severity: t(`severity_${s}`) }),
          n: f[s],
          href: '/findings',
          urgent: s === 'high',
        })),
        { key: 'unacknowledged', label: t('homeFindingsUnacknowledged'), n: f.unacknowledged, href: '/findings' },
      ],
    ]);
  }
  if (h.emergencies !== undefined)
    out.push([
      'emergencies',
      'homeEmergencies',
      [
        { key: 'active', label: t('homeEmergenciesActive'), n: h.emergencies.active, href: '/emergencies', urgent: true },
        { key: 'pending', label: t('homeEmergenciesPending'), n: h.emergencies.pending, href: '/emergencies' },
        { key: 'awaitingReview', label: t('homeEmergenciesReview'), n: h.emergencies.awaitingReview, href: '/emergencies' },
      ],
    ]);
  if (h.terminals !== undefined)
    out.push([
      'terminals',
      'homeTerminals',
      [{ key: 'misplaced', label: t('homeTerminalsMisplaced'), n: h.terminals.misplaced, href: '/terminals', urgent: true }],
    ]);
  if (h.recertifications !== undefined)
    out.push([
      'recertifications',
      'homeRecertifications',
      [
        { key: 'waitingForYou', label: t('homeRecertificationsMine'), n: h.recertifications.waitingForYou, href: '/campaigns' },
        { key: 'open', label: t('homeRecertificationsOpen'), n: h.recertifications.open, href: '/campaigns' },
      ],
    ]);
  return out;
}

/** The home screen at `/`: per duty the person holds, what waits for a person now, each count a link to its list. */
export function HomePage({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const [counts, error] = useLoad(() => call<HomeCounts>('GET', '/api/home').then((a) => a.body));
  const shown = counts === null ? [] : sections(counts, t);
  const allClear = counts !== null && shown.every(([, , cs]) => cs.every((c) => c.n === 0));
  return (
    <section aria-labelledby="home-title" className="home">
      <h1 id="home-title">{t('homeTitle')}</h1>
      <p className="small">
        {t('homeLead')}
        {counts !== null && <> {t('homeAt', { at: formatInstant(counts.at, lang) })}</>}
      </p>
      <ErrorMessage error={error} />
      {counts === null && error === null && <p aria-busy="true">{t('loading')}</p>}
      {allClear && (
        <div className="alert ok" role="status">
          <p>{t('homeAllClear')}</p>
        </div>
      )}
      <div className="home-cards" data-testid="home">
        {shown.map(([id, title, cs]) => (
          <Section key={id} id={id} title={title} counts={cs} />
        ))}
      </div>
      {me.abilities.lookup && (
        <p>
          <a href="/search" onClick={onLinkClick('/search')}>
            {t('homeSearch')}
          </a>
        </p>
      )}
    </section>
  );
}
