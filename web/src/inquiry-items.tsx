import { labelOf, type Vocabulary } from './api.ts';
import { formatInstant } from './format.tsx';
import { messageKey, useI18n, type I18n } from './i18n.tsx';
import type { Inquiry } from './inquiry-api.ts';

/** How the server's case allowances answer an item of a case (with the customer's consent). */
export type Answering = 'at_once' | 'queue' | 'never';

export type CaseType = keyof Vocabulary['caseTypes'];

/** The case types in the vocabulary's order. */
export const caseTypesOf = (vocabulary: Vocabulary) => Object.keys(vocabulary.caseTypes) as CaseType[];

/** How `caseType` answers `item`, as the server's vocabulary says. */
export function answeringOf(vocabulary: Vocabulary, caseType: CaseType, item: string): Answering {
  const a = vocabulary.caseAllowances[caseType];
  return a.atOnce.includes(item) ? 'at_once' : a.queued.includes(item) ? 'queue' : 'never';
}

/** The non-public fields: the only ones an inquiry asks for (public ones are shown anyway, network-only never leave). */
/** The case-type choice of both inquiry forms (a retailer's, and a call taken by the service centre). */
export function CaseTypeSelect({
  vocabulary,
  name,
  value,
  onChange,
}: {
  vocabulary: Vocabulary;
  name: string;
  value: CaseType;
  onChange: (caseType: CaseType) => void;
}) {
  const i18n = useI18n();
  return (
    <label>
      {i18n.t('inqCaseType')}
      <select name={name} value={value} onChange={(e) => onChange(e.target.value as CaseType)} required>
        {caseTypesOf(vocabulary).map((c) => (
          <option key={c} value={c}>
            {i18n.l(vocabulary.caseTypes[c], c)}
          </option>
        ))}
      </select>
    </label>
  );
}

export const nonPublicFields = (vocabulary: Vocabulary) => vocabulary.fields.filter((f) => f.class === 'non_public');

export const fieldLabel = (vocabulary: Vocabulary, i18n: I18n, key: string) =>
  i18n.l(
    vocabulary.fields.find((f) => f.key === key),
    key,
  );

/**
 * The non-public fields as checkboxes, each saying how the chosen case answers it; a field the case never
 * gives is offered disabled (the server would list it as never given), and is not sent.
 */
export function ItemChoice({
  vocabulary,
  answering,
  selected,
  onChange,
  name = 'items',
}: {
  vocabulary: Vocabulary;
  answering: (item: string) => Answering;
  selected: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
  name?: string;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <fieldset className="items" data-testid="item-choice">
      <legend>{t('inqItems')}</legend>
      <p className="small">{t('inqItemsHint')}</p>
      <ul className="checks">
        {nonPublicFields(vocabulary).map((f) => {
          const how = answering(f.key);
          return (
            <li key={f.key} data-item={f.key} data-answering={how}>
              <label className="inline">
                <input
                  type="checkbox"
                  name={name}
                  value={f.key}
                  checked={how !== 'never' && selected.has(f.key)}
                  disabled={how === 'never'}
                  onChange={(e) => {
                    const next = new Set(selected);
                    if (e.target.checked) next.add(f.key);
                    else next.delete(f.key);
                    onChange(next);
                  }}
                />
                {f[i18n.lang]}
              </label>
              <span className={`answering answering-${how}`}>{t(`inqAnswering_${how}`)}</span>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}

/** An inquiry's status as the server names it, as a badge. */
export function StatusBadge({ status, vocabulary }: { status: Inquiry['status']; vocabulary: Vocabulary }) {
  const i18n = useI18n();
  return (
    <span className={`state inquiry-status status-${status}`} data-status={status}>
      {i18n.l(labelOf(vocabulary.inquiryStatuses, status), status)}
    </span>
  );
}

/** A duration in words: hours and minutes, or days and hours past two days. */
function duration(ms: number, t: I18n['t']): string {
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  if (hours >= 48) return t('inqDaysHours', { d: Math.floor(hours / 24), h: hours % 24 });
  return t('inqHoursMinutes', { h: hours, m: minutes % 60 });
}

/**
 * Where an open inquiry stands against its service level: the server's judgement (late, due soon, on time) as a
 * badge, and the time left to its due time (or past it).
 */
export function Timeliness({ inquiry }: { inquiry: Inquiry }) {
  const { t, lang } = useI18n();
  if (inquiry.dueAt === null) return <span className="none">—</span>;
  const left = new Date(inquiry.dueAt).getTime() - Date.now();
  const key = inquiry.timeliness === null ? null : messageKey(`inqTimeliness_${inquiry.timeliness}`);
  return (
    <span className="timeliness" data-timeliness={inquiry.timeliness ?? 'closed'}>
      {key !== null && <span className={`state timeliness-${inquiry.timeliness ?? ''}`}>{t(key)}</span>}{' '}
      <span className="small">
        {formatInstant(inquiry.dueAt, lang)}
        {inquiry.timeliness !== null && (
          <span data-testid="remaining">（{left >= 0 ? t('inqRemaining', { t: duration(left, t) }) : t('inqOverdue', { t: duration(-left, t) })}）</span>
        )}
      </span>
    </span>
  );
}
