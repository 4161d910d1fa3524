import { labelOf, type RecordView, type Vocabulary } from './api.ts';
import { useI18n } from './i18n.tsx';
import { onLinkClick } from './router.ts';

type Flow = Vocabulary['properFlows'][number];

/**
 * What a record's masked fields leave to do, from the server's proper flows (one per misuse pattern): the
 * fields masked for a reason some flow answers (a rival's, a former or no retailer's customer), grouped by that
 * reason, and once for the record the flows that apply under the declared purpose — so the screen says what
 * to do instead of looking, not only that it cannot show. With `canAsk`, the way to ask the network operator
 * for the masked items some case may give.
 */
export function InquiryGuidance({ view, purpose, vocabulary, canAsk }: { view: RecordView; purpose: string; vocabulary: Vocabulary; canAsk: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  // The reasons the flows answer are the server's: a field masked for any other (network-only, not needed
  // for the duty) has no flow, and no guidance.
  const answered = new Set(vocabulary.properFlows.flatMap((f) => f.reasons));
  const byReason = new Map<string, string[]>();
  for (const f of vocabulary.fields) {
    const v = view.fields[f.key];
    if (v === undefined || v.shown || !answered.has(v.reason)) continue;
    byReason.set(v.reason, [...(byReason.get(v.reason) ?? []), f.key]);
  }
  if (byReason.size === 0) return null;
  const applies = (f: Flow) => f.reasons.some((r) => byReason.has(r)) && (f.purposes.length === 0 || f.purposes.includes(purpose));
  const flows = vocabulary.properFlows.filter(applies);
  // The items an inquiry could ask for: masked here, and given by some case (at once or from the queue).
  const askable = new Set(Object.values(vocabulary.caseAllowances).flatMap((a) => [...a.atOnce, ...a.queued]));
  const items = [...byReason.values()].flat().filter((k) => askable.has(k));
  // Asking is offered only where a flow for this purpose names a case: never beside "no look-up" (unpaid
  // bills of a former customer) or "ask the customer" alone.
  const caseType = (flows.find((f) => f.action === 'inquiry' && f.caseType !== null) ?? flows.find((f) => f.caseType !== null))?.caseType ?? null;
  const href = `/inquiries/new?${new URLSearchParams({
    supplyPointId: view.supplyPointId,
    items: items.join(','),
    ...(caseType === null ? {} : { caseType }),
  })}`;
  const fieldLabel = (k: string) =>
    i18n.l(
      vocabulary.fields.find((f) => f.key === k),
      k,
    );
  return (
    <section className="panel guidance" aria-labelledby="guidance-title" data-testid="proper-flows">
      <h2 id="guidance-title">{t('inqGuidanceTitle')}</h2>
      {[...byReason].map(([reason, fields]) => (
        <p key={reason} className="small" data-reason={reason}>
          {t('inqGuidanceFields', {
            reason: i18n.l(labelOf(vocabulary.reasons, reason), reason),
            fields: fields.map(fieldLabel).join('、'),
          })}
        </p>
      ))}
      <ul className="flows">
        {flows.map((f) => (
          <li key={`${f.pattern}-${f.action}-${f.caseType ?? ''}`} data-pattern={f.pattern} data-action={f.action}>
            {f[i18n.lang]}
            {f.caseType !== null && <span className="small">（{i18n.l(vocabulary.caseTypes[f.caseType], f.caseType)}）</span>}
          </li>
        ))}
      </ul>
      {canAsk && items.length > 0 && caseType !== null && (
        <p>
          <a className="button" href={href} onClick={onLinkClick(href)} data-testid="ask-network">
            {t('inqAskNetwork')}
          </a>{' '}
          <span className="small">{t('inqAskNetworkHint')}</span>
        </p>
      )}
    </section>
  );
}
