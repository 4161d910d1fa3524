import { useState } from 'react';
import { ErrorMessage } from './error-message.tsx';
import { governanceApi, type Grant } from './governance-api.ts';
import { GrantTable } from './grant-table.tsx';
import { SeparationRules } from './separation-rules.tsx';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

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
      await reload();
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
              <input
                aria-label={t('comment')}
                name={`comment-${g.id}`}
                value={comments[g.id] ?? ''}
                onChange={(e) => setComments({ ...comments, [g.id]: e.target.value })}
              />
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
      <SeparationRules permissions={permissions} />
    </section>
  );
}
