import { useEffect, useEffectEvent, useState, type FormEvent, type ReactNode } from 'react';
import { useVocabulary, VocabularyLabel } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { ExposurePanel } from './exposure-panel.tsx';
import { BarChart, DailyChart, formatInstant, toJstDateInput } from './format.tsx';
import { messageKey, useI18n } from './i18n.tsx';
import { SpreadsheetDownloads } from './spreadsheet-downloads.tsx';
import { opsApi, type Counts, type Report } from './ops-api.ts';
import { useLoad } from './use-load.ts';

function lastMonth(): { from: string; to: string } {
  const now = new Date();
  return { from: toJstDateInput(new Date(now.getTime() - 30 * 86_400_000)), to: toJstDateInput(now) };
}

/** The regulator's report over gridwall's own log, with charts and downloads (CSV, XLSX, PDF by printing). */
export function AnalysisPage({ query }: { query: URLSearchParams }) {
  const { t, lang } = useI18n();
  const initial = { from: query.get('from') ?? lastMonth().from, to: query.get('to') ?? lastMonth().to };
  const [period, setPeriod] = useState(initial);
  const [report, setReport] = useState<Report | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [scanned, setScanned] = useState<{ findings: number; queued: number; updated: number } | null>(null);
  const run = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setReport(await opsApi.report(period.from, period.to));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  // The report of the period in the URL (or the last month) runs once when the page opens; later, on submit.
  const runOnOpen = useEffectEvent(() => void run());
  useEffect(() => runOnOpen(), []);
  const scan = async () => {
    setError(null);
    try {
      setScanned(await opsApi.scan(period.from, period.to));
    } catch (err) {
      setError(err);
    }
  };
  const q = new URLSearchParams(period);
  const cells = (c: Counts) => [
    c.views.employee,
    c.views.contractor,
    c.views.total,
    c.lastResortViews,
    c.emergencyViews,
    c.inquiryViews,
    c.terminals,
    c.people.total,
    c.offices,
    c.supplyPoints,
    c.retailers,
  ];
  const perOrganization = new Map<string, number>();
  for (const v of report?.viewers ?? []) perOrganization.set(v.organization ?? '—', (perOrganization.get(v.organization ?? '—') ?? 0) + v.views);
  return (
    <section aria-labelledby="analysis-title" className="analysis">
      <h1 id="analysis-title">{t('analysisTitle')}</h1>
      <p className="no-print">{t('analysisLead')}</p>
      <form className="filters no-print" onSubmit={(e) => void run(e)}>
        <label>
          {t('from')}
          <input type="date" name="from" value={period.from} onChange={(e) => setPeriod({ ...period, from: e.target.value })} required />
        </label>
        <label>
          {t('to')}
          <input type="date" name="to" value={period.to} onChange={(e) => setPeriod({ ...period, to: e.target.value })} required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? t('running') : t('run')}
        </button>
        <button type="button" className="secondary" onClick={() => void scan()}>
          {t('scan')}
        </button>
      </form>
      <ErrorMessage error={error} />
      {scanned !== null && (
        <p className="alert ok" role="status">
          {t('scanned', { findings: scanned.findings, queued: scanned.queued, updated: scanned.updated })}
        </p>
      )}
      {report !== null && (
        <div aria-live="polite" data-testid="report">
          <p className="downloads no-print">
            <SpreadsheetDownloads base={`/api/analysis/report?${q}`} /> ／{' '}
            <button type="button" className="secondary" onClick={() => window.print()}>
              {t('printPdf')}
            </button>
          </p>
          <p className="small">
            {t('period')}: {report.period.from} 〜 {report.period.to}
          </p>
          <h2>{t('bySystem')}</h2>
          <table data-testid="systems">
            <thead>
              <tr>
                <th scope="col">{t('system')}</th>
                <th scope="col">
                  {t('views')}（{t('employee')}）
                </th>
                <th scope="col">
                  {t('views')}（{t('contractorShort')}）
                </th>
                <th scope="col">
                  {t('views')}（{t('total')}）
                </th>
                <th scope="col">{t('lastResortViews')}</th>
                <th scope="col">{t('emergencyViews')}</th>
                <th scope="col">{t('inquiryViews')}</th>
                <th scope="col">{t('terminals')}</th>
                <th scope="col">{t('people')}</th>
                <th scope="col">{t('offices')}</th>
                <th scope="col">{t('supplyPointsCount')}</th>
                <th scope="col">{t('retailers')}</th>
              </tr>
            </thead>
            <tbody>
              {report.systems.map((s) => (
                <tr key={s.system}>
                  <th scope="row">{s.system}</th>
                  {cells(s).map((n, i) => (
                    <td key={i} className="num">
                      {n.toLocaleString(lang)}
                    </td>
                  ))}
                </tr>
              ))}
              <tr className="total">
                <th scope="row">{t('total')}</th>
                {cells(report.total).map((n, i) => (
                  <td key={i} className="num" data-total={i}>
                    {n.toLocaleString(lang)}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
          <div className="charts">
            <DailyChart title={t('viewsPerDay')} testId="chart-daily" data={report.daily.map((d) => ({ day: d.day, value: d.views + d.lastResortViews }))} />
            <BarChart title={t('viewsPerSystem')} testId="chart-systems" data={report.systems.map((x) => ({ label: x.system, value: x.views.total }))} />
            <BarChart title={t('viewsPerOrganization')} testId="chart-organizations" data={[...perOrganization].map(([label, value]) => ({ label, value }))} />
            <BarChart title={t('topViewers')} testId="chart-viewers" data={report.viewers.slice(0, 10).map((v) => ({ label: v.userId, value: v.views }))} />
          </div>
          <h2>{t('findingsTitle')}</h2>
          {report.findings.length === 0 ? (
            <p>{t('noFindings')}</p>
          ) : (
            <FindingRows findings={report.findings.map((f, i) => ({ id: i, rule: f.rule, severity: f.severity, summary: f.detail, subject: f.subject }))} />
          )}
          <ExposurePanel key={`${report.period.from}/${report.period.to}`} period={report.period} />
        </div>
      )}
    </section>
  );
}

function FindingRows({
  findings,
  actions,
}: {
  findings: readonly {
    id: number;
    rule: string;
    severity: string;
    summary: string;
    subject?: string;
    status?: string;
    when?: string;
    /** An open finding is one per rule and subject: how often it was raised, and when last (issue 20). */
    occurrences?: number;
    lastSeen?: string;
  }[];
  actions?: (id: number) => ReactNode;
}) {
  const { t } = useI18n();
  const vocabulary = useVocabulary();
  return (
    <table data-testid="findings">
      <thead>
        <tr>
          <th scope="col">{t('severity')}</th>
          <th scope="col">{t('rule')}</th>
          <th scope="col">{t('detail')}</th>
          {findings.some((f) => f.occurrences !== undefined) && <th scope="col">{t('occurrences')}</th>}
          {findings.some((f) => f.lastSeen !== undefined) && <th scope="col">{t('lastSeen')}</th>}
          {findings.some((f) => f.status !== undefined) && <th scope="col">{t('status')}</th>}
          {actions !== undefined && <th scope="col" />}
        </tr>
      </thead>
      <tbody>
        {findings.map((f) => (
          <tr key={f.id} data-rule={f.rule} data-severity={f.severity} data-status={f.status}>
            <td>
              <span className={`severity severity-${f.severity}`}>{t(messageKey(`severity_${f.severity}`) ?? 'severity')}</span>
            </td>
            <td data-testid="finding-rule">
              <VocabularyLabel map={vocabulary?.findingRules} code={f.rule} />
            </td>
            <td>
              {f.summary}
              {f.when !== undefined && <span className="small"> {f.when}</span>}
            </td>
            {f.occurrences !== undefined && (
              <td className="num" data-testid="occurrences">
                {t('occurrencesValue', { n: f.occurrences })}
              </td>
            )}
            {f.lastSeen !== undefined && <td data-testid="last-seen">{f.lastSeen}</td>}
            {f.status !== undefined && <td>{t(messageKey(`status_${f.status}`) ?? 'status')}</td>}
            {actions !== undefined && <td>{actions(f.id)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The review queue: findings raised live and by the rules; acknowledge and resolve with a comment. */
export function FindingsPage() {
  const { t, lang } = useI18n();
  const [openOnly, setOpenOnly] = useState(true);
  const [items, error, reload, setError] = useLoad(() => opsApi.findings(openOnly).then((r) => r.findings), [openOnly]);
  // Digests are a summary beside the queue: one that cannot be read is left out, never shown as an error.
  const [digests] = useLoad(() =>
    opsApi.digests().then(
      (r) => r.digests,
      () => [],
    ),
  );
  const [comments, setComments] = useState<Record<number, string>>({});
  const decide = (id: number, decision: 'acknowledge' | 'resolve') => async () => {
    setError(null);
    try {
      await opsApi.reviewFinding(id, decision, comments[id] ?? '');
      await reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="findings-title">
      <h1 id="findings-title">{t('findingsTitle')}</h1>
      <label className="inline">
        <input type="checkbox" checked={openOnly} onChange={(e) => setOpenOnly(e.target.checked)} name="openOnly" /> {t('openOnly')}
      </label>
      <ErrorMessage error={error} />
      {items !== null && items.length === 0 && <p>{t('noFindings')}</p>}
      {items !== null && items.length > 0 && (
        <FindingRows
          findings={items.map((f) => ({
            id: f.id,
            rule: f.rule,
            severity: f.severity,
            summary: f.summary,
            status: f.status,
            when: t('firstSeenSince', { at: formatInstant(f.firstSeenAt, lang) }),
            occurrences: f.occurrences,
            lastSeen: formatInstant(f.lastSeenAt, lang),
          }))}
          actions={(id) => {
            const f = items.find((x) => x.id === id);
            if (f === undefined || f.status === 'resolved') return <></>;
            return (
              <div className="actions">
                <label className="small">
                  {t('comment')}
                  <input name={`comment-${id}`} value={comments[id] ?? ''} onChange={(e) => setComments({ ...comments, [id]: e.target.value })} />
                </label>
                {f.status === 'open' && (
                  <button type="button" className="secondary" onClick={() => void decide(id, 'acknowledge')()}>
                    {t('acknowledge')}
                  </button>
                )}
                <button type="button" onClick={() => void decide(id, 'resolve')()}>
                  {t('resolve')}
                </button>
              </div>
            );
          }}
        />
      )}
      {digests !== null && digests.length > 0 && (
        <section aria-labelledby="digests-title">
          <h2 id="digests-title">{t('digests')}</h2>
          <ul>
            {digests.map((d) => (
              <li key={d.day}>{t('digestLine', { day: d.day, views: d.views, emergency: d.emergencyViews, refused: d.refused, queued: d.queued })}</li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}
