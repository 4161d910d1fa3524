import { useEffect, useEffectEvent, useState } from 'react';
import { formatInstant } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { inquiryApi, inquiryPath, type Notifications } from './inquiry-api.ts';
import { onLinkClick } from './router.ts';

/**
 * The person's unread notifications (an inquiry answered, asked back, refused) in the header: a count, and on
 * opening a short list with links to their subjects; marked read one by one or all at once. Loaded when the
 * screen changes (`path`) and every minute; one that cannot be read leaves the header as it was.
 */
export function NotificationBell({ path }: { path: string }) {
  const { t, lang } = useI18n();
  const [data, setData] = useState<Notifications | null>(null);
  const [open, setOpen] = useState(false);
  const load = () =>
    inquiryApi.notifications().then(
      (n) => setData(n),
      () => undefined,
    );
  const loadNow = useEffectEvent(() => void load());
  useEffect(() => loadNow(), [path]);
  useEffect(() => {
    const timer = setInterval(() => loadNow(), 60_000);
    return () => clearInterval(timer);
  }, []);
  const markRead = async (ids: readonly number[]) => {
    if (ids.length === 0) return;
    await inquiryApi.markRead(ids).catch(() => undefined);
    await load();
  };
  const unread = data?.unread ?? 0;
  const items = data?.notifications ?? [];
  return (
    <div className="notifications">
      <button
        type="button"
        className={`bell small-button${unread > 0 ? ' has-unread' : ''}`}
        aria-expanded={open}
        aria-controls="notification-list"
        onClick={() => setOpen(!open)}
        data-testid="notification-bell"
        data-unread={unread}
      >
        {t('inqNotifications')} <span className="count">{unread}</span>
        <span className="sr-only">{t('inqNotificationsUnread', { n: unread })}</span>
      </button>
      {open && (
        <div id="notification-list" className="notification-list" role="region" aria-label={t('inqNotificationsUnread', { n: unread })}>
          {items.length === 0 ? (
            <p className="small">{t('inqNoNotifications')}</p>
          ) : (
            <>
              <ul>
                {items.map((n) => {
                  const href = n.subjectType === 'inquiry' ? inquiryPath(n.subjectId) : null;
                  return (
                    <li key={n.id} data-kind={n.kind} data-subject={n.subjectId}>
                      <span className="small">{formatInstant(n.at, lang)}</span>{' '}
                      {href === null ? (
                        n.text[lang]
                      ) : (
                        <a
                          href={href}
                          onClick={(e) => {
                            setOpen(false);
                            void markRead([n.id]);
                            onLinkClick(href)(e);
                          }}
                        >
                          {n.text[lang]}
                        </a>
                      )}{' '}
                      <button type="button" className="secondary small-button" onClick={() => void markRead([n.id])}>
                        {t('inqMarkRead')}
                      </button>
                    </li>
                  );
                })}
              </ul>
              <button type="button" className="small-button" onClick={() => void markRead(items.map((n) => n.id))}>
                {t('inqMarkAllRead')}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}
