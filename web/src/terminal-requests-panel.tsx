import { useState } from 'react';
import type { Me } from './api.ts';
import { useVocabulary } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant } from './format.tsx';
import { governanceApi, type TerminalRequest } from './governance-api.ts';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/**
 * Terminal registrations and changes awaiting a second access administrator (issue 20): one that makes a
 * terminal network-set at a network site (opens network-only data) or network-set at a retail or shared site
 * (F1) is written only once another administrator approves it with a reason. Each open
 * request with what was asked, by whom and why; approve or reject with a reason. The server refuses an
 * administrator's approval of their own request whatever the screen shows; the screen offers it to nobody.
 */
export function TerminalRequestsPanel({ me, onDecided }: { me: Me; onDecided: () => Promise<void> }) {
  const { t, l, lang } = useI18n();
  const vocabulary = useVocabulary();
  const [requests, error, reload, setError] = useLoad(() => governanceApi.terminalRequests().then((r) => r.requests));
  const [reasons, setReasons] = useState<Readonly<Record<number, string>>>({});
  const [done, setDone] = useState<string | null>(null);
  const decide = (r: TerminalRequest, how: 'approve' | 'reject') => async () => {
    setDone(null);
    const reason = (reasons[r.id] ?? '').trim();
    try {
      if (how === 'approve') await governanceApi.approveTerminalRequest(r.id, reason);
      else await governanceApi.rejectTerminalRequest(r.id, reason);
      setError(null);
      setDone(t(how === 'approve' ? 'terminalRequestApproved' : 'terminalRequestRejected', { id: r.terminalId }));
      await reload();
      await onDecided();
    } catch (err) {
      setError(err);
    }
  };
  const asked = (r: TerminalRequest) => `${l(vocabulary?.terminalSettings[r.setting], r.setting)} / ${l(vocabulary?.siteSides[r.siteSide], r.siteSide)}`;
  return (
    <section aria-labelledby="terminal-requests-title" data-testid="terminal-requests-panel">
      <h2 id="terminal-requests-title">{t('terminalRequestsTitle')}</h2>
      <p className="small">{t('terminalRequestsLead')}</p>
      <ErrorMessage error={error} />
      {done !== null && (
        <p className="alert" role="status" data-testid="terminal-request-decided">
          {done}
        </p>
      )}
      {requests !== null &&
        (requests.length === 0 ? (
          <p data-testid="terminal-requests-none">{t('terminalRequestsNone')}</p>
        ) : (
          <table data-testid="terminal-requests">
            <thead>
              <tr>
                <th scope="col">{t('navTerminals')}</th>
                <th scope="col">{t('terminalRequestKind')}</th>
                <th scope="col">{t('terminalRequestAsked')}</th>
                <th scope="col">{t('terminalRequestBy')}</th>
                <th scope="col">{t('terminalRequestAt')}</th>
                <th scope="col">{t('terminalRequestReason')}</th>
                {me.abilities.manageAccess && <th scope="col">{t('terminalRequestDecisionReason')}</th>}
              </tr>
            </thead>
            <tbody>
              {requests.map((r) => (
                <tr key={r.id} data-request={r.id} data-terminal={r.terminalId}>
                  <th scope="row">
                    <span className="mono">{r.terminalId}</span>
                    <br />
                    <span className="small">
                      {r.organizationName} {r.office}
                    </span>
                  </th>
                  <td>{t(r.registered ? 'terminalRequestChange' : 'terminalRequestNew')}</td>
                  <td>
                    <span className="state state-active">{asked(r)}</span>
                  </td>
                  <td className="mono">{r.requestedBy}</td>
                  <td>{formatInstant(r.requestedAt, lang)}</td>
                  <td>{r.requestReason ?? ''}</td>
                  {me.abilities.manageAccess && (
                    <td>
                      <input
                        type="text"
                        aria-label={`${t('terminalRequestDecisionReason')} (${r.terminalId})`}
                        data-field="decision-reason"
                        maxLength={500}
                        value={reasons[r.id] ?? ''}
                        onChange={(e) => setReasons({ ...reasons, [r.id]: e.target.value })}
                      />{' '}
                      {r.requestedBy === me.userId ? (
                        <span className="small" data-testid="terminal-request-own">
                          {t('terminalRequestOwn')}
                        </span>
                      ) : (
                        <button
                          type="button"
                          data-action="approve-terminal-request"
                          disabled={(reasons[r.id] ?? '').trim() === ''}
                          onClick={() => void decide(r, 'approve')()}
                        >
                          {t('terminalRequestApprove')}
                        </button>
                      )}{' '}
                      <button
                        type="button"
                        className="secondary"
                        data-action="reject-terminal-request"
                        disabled={(reasons[r.id] ?? '').trim() === ''}
                        onClick={() => void decide(r, 'reject')()}
                      >
                        {t('terminalRequestReject')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}
