import { useState } from 'react';
import type { Me, Vocabulary } from './api.ts';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant, formatSupplyPointId } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { inquiryApi, inquiryPath, type Inquiry, type InquiryScope } from './inquiry-api.ts';
import { DirectInquiryForm } from './inquiry-direct-form.tsx';
import { fieldLabel, StatusBadge, Timeliness } from './inquiry-items.tsx';
import { onLinkClick } from './router.ts';
import { useLoad } from './use-load.ts';

/** Inquiries as a table, in the server's order: each links to its detail. */
function InquiryTable({ inquiries, vocabulary, testId }: { inquiries: readonly Inquiry[]; vocabulary: Vocabulary; testId: string }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  return (
    <div className="table-wrap">
      <table className="inquiries" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{t('inqId')}</th>
            <th scope="col">{t('inqCaseType')}</th>
            <th scope="col">{t('inqSupplyPointId')}</th>
            <th scope="col">{t('inqItems')}</th>
            <th scope="col">{t('status')}</th>
            <th scope="col">{t('inqDueAt')}</th>
            <th scope="col">{t('inqCreatedAt')}</th>
            <th scope="col">{t('inqRequester')}</th>
          </tr>
        </thead>
        <tbody>
          {inquiries.map((q) => (
            <tr
              key={q.id}
              data-id={q.id}
              data-status={q.status}
              data-timeliness={q.timeliness ?? undefined}
              className={q.timeliness === 'late' ? 'late' : undefined}
            >
              <th scope="row">
                <a className="mono" href={inquiryPath(q.id)} onClick={onLinkClick(inquiryPath(q.id))}>
                  {q.id}
                </a>
              </th>
              <td>{i18n.l(vocabulary.caseTypes[q.caseType], q.caseType)}</td>
              <td className="mono">{formatSupplyPointId(q.supplyPointId)}</td>
              <td>{q.items.map((k) => fieldLabel(vocabulary, i18n, k)).join('、')}</td>
              <td>
                <StatusBadge status={q.status} vocabulary={vocabulary} />
              </td>
              <td>
                <Timeliness inquiry={q} />
              </td>
              <td>{formatInstant(q.createdAt, lang)}</td>
              <td>
                {q.channel === 'retailer'
                  ? `${q.retailerName ?? q.retailerCode ?? ''} ${q.requestedBy ?? ''}`
                  : `${t(`inqChannel_${q.channel}`)}：${q.caller ?? ''}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** My inquiries, or my retailer's: status, due time, and the way to a new one. */
export function InquiriesPage({ me, vocabulary }: { me: Me; vocabulary: Vocabulary }) {
  const { t } = useI18n();
  const [scope, setScope] = useState<InquiryScope>('mine');
  const [data, error] = useLoad(() => inquiryApi.list(scope), [scope]);
  return (
    <section aria-labelledby="inquiries-title">
      <h1 id="inquiries-title">{t('inqListTitle')}</h1>
      <p>
        <a className="button" href="/inquiries/new" onClick={onLinkClick('/inquiries/new')}>
          {t('inqNew')}
        </a>
      </p>
      {me.assignment?.retailerCode != null && (
        <div className="radios" role="radiogroup" aria-label={t('inqListTitle')}>
          {(['mine', 'retailer'] as const).map((s) => (
            <label key={s} className="inline">
              <input type="radio" name="scope" value={s} checked={scope === s} onChange={() => setScope(s)} />
              {t(s === 'mine' ? 'inqScopeMine' : 'inqScopeRetailer')}
            </label>
          ))}
        </div>
      )}
      <ErrorMessage error={error} />
      {data === null && error === null && <p aria-busy="true">{t('loading')}</p>}
      {data !== null && data.inquiries.length === 0 && <p>{t('inqNone')}</p>}
      {data !== null && data.inquiries.length > 0 && <InquiryTable inquiries={data.inquiries} vocabulary={vocabulary} testId="inquiry-list" />}
    </section>
  );
}

/** The network service centre's queue (late first, as the server orders it), and the intake of direct calls. */
export function InquiryQueuePage({ vocabulary }: { vocabulary: Vocabulary }) {
  const { t } = useI18n();
  const [data, error, reload] = useLoad(() => inquiryApi.list('queue'));
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">{t('inqQueueTitle')}</h1>
      <p>{t('inqQueueLead')}</p>
      <ErrorMessage error={error} />
      {data === null && error === null && <p aria-busy="true">{t('loading')}</p>}
      {data !== null && data.inquiries.length === 0 && <p>{t('inqQueueEmpty')}</p>}
      {data !== null && data.inquiries.length > 0 && <InquiryTable inquiries={data.inquiries} vocabulary={vocabulary} testId="inquiry-queue" />}
      <DirectInquiryForm vocabulary={vocabulary} onTaken={() => void reload()} />
    </section>
  );
}
