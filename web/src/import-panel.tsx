import { useState } from 'react';
import { call } from './api.ts';
import type * as imp from '../../src/contract/import.ts';
import type { BodyOf, ReplyOf } from '../../src/contract/schema.ts';
import { ErrorMessage } from './error-message.tsx';
import { useI18n, type MessageKey } from './i18n.tsx';

/** The registers in the order they are imported (src/domain/register-import.ts REGISTER_FILES). */
const FILES = ['staff', 'terminals', 'permissions', 'grants'] as const;
type RegisterFile = (typeof FILES)[number];
const OUTCOMES = ['created', 'updated', 'unchanged', 'requested', 'skipped', 'refused', 'rejected'] as const;

type Report = ReplyOf<typeof imp.registerImport, 200>;
type Row = Report['rows'][number];

const FILE_LABEL: Readonly<Record<RegisterFile, MessageKey>> = {
  staff: 'importFileStaff',
  terminals: 'importFileTerminals',
  permissions: 'importFilePermissions',
  grants: 'importFileGrants',
};

/** The name the route accepts (src/contract/import.ts RegisterUpload): other characters become `_`. */
function uploadName(name: string, f: RegisterFile): string {
  const safe = name.replace(/[^A-Za-z0-9 ._()[\]+\u3000-\u30ff\u4e00-\u9fff\uff01-\uff9f-]/g, '_').slice(0, 120);
  return safe === '' ? `${f}.csv` : safe;
}

/** A file's bytes in base64 (as the route takes it: UTF-8 or CP932 as it is; the server decodes). */
async function base64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * 既存台帳の取り込み (issue 20, rollout from the legacy registers): access administration uploads the four
 * registers, sees what would happen — counts per file, and every row not imported by file and line with its
 * rule in words — and then imports. The server decides everything; imported grants wait in the approval
 * queue for a second person.
 */
export function ImportPanel({ onImported }: { onImported: () => Promise<void> }) {
  const { t, l } = useI18n();
  const [files, setFiles] = useState<Partial<Record<RegisterFile, File>>>({});
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [noFile, setNoFile] = useState(false);

  const choose = (f: RegisterFile, file: File | undefined) => {
    setReport(null);
    setFiles((prev) => {
      const next = { ...prev };
      if (file === undefined) delete next[f];
      else next[f] = file;
      return next;
    });
  };
  const run = async (dryRun: boolean) => {
    setError(null);
    const chosen = FILES.filter((f) => files[f] !== undefined);
    setNoFile(chosen.length === 0);
    if (chosen.length === 0) return;
    setBusy(true);
    try {
      const uploads: BodyOf<typeof imp.registerImport>['files'] = {};
      for (const f of chosen) {
        const file = files[f];
        if (file !== undefined) uploads[f] = { name: uploadName(file.name, f), contentBase64: await base64(file) };
      }
      const r = await call<Report>('POST', '/api/access/import', { dryRun, files: uploads } satisfies BodyOf<typeof imp.registerImport>);
      setReport(r.body);
      if (!dryRun) await onImported();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const notImported = report?.rows.filter((r) => r.outcome === 'refused' || r.outcome === 'rejected') ?? [];
  const changes = report?.rows.filter((r) => r.outcome === 'created' || r.outcome === 'updated' || r.outcome === 'requested') ?? [];
  const total = report?.total;
  const changed = total === undefined ? 0 : total.created + total.updated + total.requested;
  const rowTable = (rows: readonly Row[], testId: string) => (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">{t('importFile')}</th>
          <th scope="col">{t('importLine')}</th>
          <th scope="col">{t('importSubject')}</th>
          <th scope="col">{t('importOutcome')}</th>
          <th scope="col">{t('importReason')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.file}:${r.line}`} data-row={`${r.file}:${r.line}`}>
            <td>{r.name}</td>
            <td className="num">{r.line}</td>
            <td>{r.subject}</td>
            <td>
              <span className="state">{t(`importResult_${r.outcome}`)}</span>
            </td>
            <td>
              {r.ruleText !== null && <span>{l(r.ruleText, r.rule ?? '')}</span>}
              <div className="small">{r.detail}</div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );

  return (
    <section aria-labelledby="import-title" data-testid="import-panel">
      <h2 id="import-title">{t('importTitle')}</h2>
      <p className="small">{t('importLead')}</p>
      <p className="small">{t('importSecondPerson')}</p>
      {FILES.map((f) => (
        <p key={f}>
          <label>
            {t(FILE_LABEL[f])}
            <input type="file" accept=".csv,text/csv" name={`import-${f}`} data-testid={`import-file-${f}`} onChange={(e) => choose(f, e.target.files?.[0])} />
          </label>
        </p>
      ))}
      <p>
        <button type="button" className="secondary" disabled={busy} onClick={() => void run(true)} data-testid="import-dry-run">
          {t('importDryRun')}
        </button>{' '}
        {report?.dryRun === true && changed > 0 && (
          <button type="button" disabled={busy} onClick={() => void run(false)} data-testid="import-apply">
            {t('importApply')}
          </button>
        )}
      </p>
      {noFile && <p className="alert">{t('importNoFile')}</p>}
      <ErrorMessage error={error} />
      {report !== null && total !== undefined && (
        <div aria-live="polite" data-testid="import-report" data-dry-run={String(report.dryRun)}>
          <h3>{t(report.dryRun ? 'importPlanTitle' : 'importDoneTitle')}</h3>
          <p className={report.dryRun ? undefined : 'alert ok'} data-testid="import-summary">
            {changed === 0
              ? t('importNothingChanges')
              : t(report.dryRun ? 'importWouldChange' : 'importChanged', { created: total.created, updated: total.updated, requested: total.requested })}
          </p>
          <table data-testid="import-counts">
            <thead>
              <tr>
                <th scope="col">{t('importFile')}</th>
                <th scope="col">{t('importRead')}</th>
                {OUTCOMES.map((o) => (
                  <th scope="col" key={o}>
                    {t(`importResult_${o}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {report.files.map((f) => {
                const c = report.counts[f.file];
                return (
                  <tr key={f.file} data-file={f.file}>
                    <td>
                      {t(FILE_LABEL[f.file])} {f.name}
                    </td>
                    <td className="num">{c?.read ?? 0}</td>
                    {OUTCOMES.map((o) => (
                      <td className="num" key={o} data-outcome={o}>
                        {c?.[o] ?? 0}
                      </td>
                    ))}
                  </tr>
                );
              })}
              <tr data-file="total">
                <td>{t('importTotal')}</td>
                <td className="num">{total.read}</td>
                {OUTCOMES.map((o) => (
                  <td className="num" key={o} data-outcome={o}>
                    {total[o]}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
          {notImported.length > 0 && (
            <>
              <h3>{t('importNotImportedTitle', { n: notImported.length })}</h3>
              {rowTable(notImported, 'import-not-imported')}
            </>
          )}
          {changes.length > 0 && (
            <>
              <h3>{t(report.dryRun ? 'importChangesTitle' : 'importChangedTitle')}</h3>
              {rowTable(changes, 'import-changes')}
            </>
          )}
        </div>
      )}
    </section>
  );
}
