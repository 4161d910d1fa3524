import { useState } from 'react';
import type { Me } from './api.ts';
import { useVocabulary, VocabularyLabel } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant } from './format.tsx';
import { governanceApi, type Device, type Terminal } from './governance-api.ts';
import { useI18n } from './i18n.tsx';
import { SpreadsheetDownloads } from './spreadsheet-downloads.tsx';
import { TerminalRequestsPanel } from './terminal-requests-panel.tsx';
import { useLoad } from './use-load.ts';

/**
 * The terminal registry, its reconciliation (misplaced, unused) with a CSV download, and retirement; the
 * browsers bound to terminals — this browser registered, a one-time enrolment code for a PC, revocation —
 * and the registrations to network-site terminals awaiting a second access administrator's confirmation.
 */
export function TerminalsPage({ me }: { me: Me }) {
  const { t, lang } = useI18n();
  const vocabulary = useVocabulary();
  const [terminals, error, reload, setError] = useLoad(() => governanceApi.terminals().then((r) => r.terminals));
  const [devices, devicesError, reloadDevices] = useLoad(() => governanceApi.devices().then((r) => r.devices));
  const [notice, setNotice] = useState<{ kind: 'code' | 'browser'; text: string } | null>(null);
  const act = (fn: () => Promise<void>) => async () => {
    setNotice(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    }
  };
  const retire = (id: string) =>
    act(async () => {
      await governanceApi.retire(id);
      await reload();
      await reloadDevices();
    });
  const enrollHere = (id: string) =>
    act(async () => {
      const enrolled = await governanceApi.enrollThisBrowser(id, navigator.userAgent.slice(0, 100) || 'browser');
      setNotice({ kind: 'browser', text: t(enrolled.pending ? 'enrollPendingNotice' : 'enrollThisBrowserDone', { id }) });
      await reloadDevices();
    });
  const issueCode = (id: string) =>
    act(async () => {
      const issued = await governanceApi.issueEnrollmentCode(id);
      setNotice({ kind: 'code', text: t('enrollmentCodeIssued', { id, code: issued.code, until: formatInstant(issued.expiresAt, lang) }) });
    });
  const revoke = (d: Device) =>
    act(async () => {
      const reason = window.prompt(t('deviceRevokeReason'));
      if (reason === null || reason.trim() === '') return;
      await governanceApi.revokeDevice(d.id, reason.trim());
      await reloadDevices();
    });
  const confirm = (d: Device) =>
    act(async () => {
      await governanceApi.confirmDevice(d.id);
      await reloadDevices();
    });
  const reject = (d: Device) =>
    act(async () => {
      const reason = window.prompt(t('deviceRejectReason'));
      if (reason === null || reason.trim() === '') return;
      await governanceApi.rejectDevice(d.id, reason.trim());
      await reloadDevices();
    });
  const pending = (devices ?? []).filter((d) => d.awaitsConfirmation);
  // Misplaced terminals first (F1: what an inventory walk must see before anything else), then unused ones.
  const flagged = (terminals ?? []).filter((x) => x.misplaced || x.unused).sort((a, b) => Number(b.misplaced) - Number(a.misplaced));
  const table = (rows: readonly Terminal[], testId: string, actions: boolean) => (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">ID</th>
          <th scope="col">{t('scope')}</th>
          <th scope="col">{t('setting')}</th>
          <th scope="col">{t('siteSide')}</th>
          <th scope="col">{t('terminalShared')}</th>
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
            <td>
              <VocabularyLabel map={vocabulary?.terminalSettings} code={x.setting} />
            </td>
            <td>
              <VocabularyLabel map={vocabulary?.siteSides} code={x.siteSide} />
            </td>
            <td>{x.shared ? t('terminalShared') : ''}</td>
            <td>{x.lastUsedAt === null ? t('never') : formatInstant(x.lastUsedAt, lang)}</td>
            <td>
              {x.misplaced && <span className="state state-active">{t('misplaced')}</span>} <UsageState terminal={x} />
              {x.retiredAt !== null && <span className="state">{t('retire')}</span>}
            </td>
            {me.abilities.manageAccess && (
              <td>
                {x.retiredAt === null && (
                  <>
                    {actions && (
                      <>
                        <button type="button" className="secondary" data-action="enroll-browser" onClick={() => void enrollHere(x.id)()}>
                          {t('enrollThisBrowser')}
                        </button>{' '}
                        <button type="button" className="secondary" data-action="enrollment-code" onClick={() => void issueCode(x.id)()}>
                          {t('issueEnrollmentCode')}
                        </button>{' '}
                      </>
                    )}
                    <button type="button" className="secondary" onClick={() => void retire(x.id)()}>
                      {t('retire')}
                    </button>
                  </>
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
      <ErrorMessage error={error ?? devicesError} />
      {notice !== null && (
        <p className="alert" role="status" data-testid={notice.kind === 'code' ? 'enrollment-code' : 'browser-enrolled'}>
          {notice.text}
        </p>
      )}
      <h2>{t('reconciliation')}</h2>
      <p>
        {t('downloadReconciliation')}: <SpreadsheetDownloads base="/api/terminals/reconciliation" />
      </p>
      {terminals !== null && table(flagged, 'reconciliation', false)}
      <TerminalRequestsPanel me={me} onDecided={reload} />
      <h2>{t('navTerminals')}</h2>
      {terminals !== null && table(terminals, 'terminals', true)}
      <h2>{t('devicesPendingTitle')}</h2>
      <p className="small">{t('devicesPendingLead')}</p>
      {devices !== null &&
        (pending.length === 0 ? (
          <p data-testid="devices-pending-none">{t('devicesPendingNone')}</p>
        ) : (
          <table data-testid="devices-pending">
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">{t('navTerminals')}</th>
                <th scope="col">{t('deviceLabel')}</th>
                <th scope="col">{t('deviceIssuedBy')}</th>
                <th scope="col">{t('deviceEnrolledAt')}</th>
                {me.abilities.manageAccess && <th scope="col" />}
              </tr>
            </thead>
            <tbody>
              {pending.map((d) => (
                <tr key={d.id} data-device={d.id} data-terminal={d.terminalId}>
                  <th scope="row" className="mono">
                    {d.id}
                  </th>
                  <td className="mono">{d.terminalId}</td>
                  <td>{d.label}</td>
                  <td className="mono">{d.issuedBy}</td>
                  <td>{formatInstant(d.enrolledAt, lang)}</td>
                  {me.abilities.manageAccess && (
                    <td>
                      {d.issuedBy !== me.userId && (
                        <>
                          <button type="button" data-action="confirm-device" onClick={() => void confirm(d)()}>
                            {t('deviceConfirm')}
                          </button>{' '}
                        </>
                      )}
                      <button type="button" className="secondary" data-action="reject-device" onClick={() => void reject(d)()}>
                        {t('deviceReject')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      <h2>{t('devicesTitle')}</h2>
      {devices !== null && (
        <table data-testid="devices">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">{t('navTerminals')}</th>
              <th scope="col">{t('deviceLabel')}</th>
              <th scope="col">{t('deviceMethod')}</th>
              <th scope="col">{t('deviceEnrolledAt')}</th>
              <th scope="col">{t('lastLogin')}</th>
              <th scope="col">{t('status')}</th>
              {me.abilities.manageAccess && <th scope="col" />}
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.id} data-device={d.id} data-terminal={d.terminalId} data-revoked={d.revokedAt !== null}>
                <th scope="row" className="mono">
                  {d.id}
                </th>
                <td className="mono">{d.terminalId}</td>
                <td>{d.label}</td>
                <td>{t(d.method === 'code' ? 'deviceMethod_code' : 'deviceMethod_browser')}</td>
                <td>{formatInstant(d.enrolledAt, lang)}</td>
                <td>{d.lastUsedAt === null ? t('never') : formatInstant(d.lastUsedAt, lang)}</td>
                <td>
                  {d.decision === 'rejected' ? (
                    <span className="state">{t('deviceRejected')}</span>
                  ) : (
                    d.revokedAt !== null && <span className="state">{t('deviceRevoked')}</span>
                  )}
                  {d.awaitsConfirmation && <span className="state state-pending">{t('devicePendingState')}</span>}
                </td>
                {me.abilities.manageAccess && (
                  <td>
                    {d.revokedAt === null && (
                      <button type="button" className="secondary" onClick={() => void revoke(d)()}>
                        {t('deviceRevoke')}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * Whether a terminal is in use, in words: "unused" only past the report's days (the server's `unused`); a
 * terminal never logged in from says how long since its registration, so one registered today is never
 * called unused (issue 20).
 */
function UsageState({ terminal: x }: { terminal: Terminal }) {
  const { t } = useI18n();
  if (x.retiredAt !== null) return null;
  const since = x.lastUsedAt ?? x.registeredAt;
  const days = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 86_400_000));
  const text = x.lastUsedAt === null ? t('neverUsedSince', { n: days }) : x.unused ? t('unusedSinceLogin', { n: days }) : null;
  if (text === null) return null;
  return (
    <span className={x.unused ? 'state state-pending' : 'state'} data-testid="usage" data-unused={x.unused}>
      {text}
    </span>
  );
}
