import { useVocabulary, VocabularyLabel } from './coded-label.tsx';
import { ErrorMessage } from './error-message.tsx';
import { formatInstant } from './format.tsx';
import { governanceApi, type GovernanceEvent } from './governance-api.ts';
import { useI18n } from './i18n.tsx';
import { useLoad } from './use-load.ts';

/** Every governance action, done and refused, newest first. */
export function GovernanceLogPage() {
  const { t, lang } = useI18n();
  const vocabulary = useVocabulary();
  const rules = vocabulary === null ? undefined : { ...vocabulary.findingRules, ...vocabulary.refusalRules };
  const [events, error] = useLoad(() => governanceApi.events().then((r) => r.events));
  return (
    <section aria-labelledby="governance-title">
      <h1 id="governance-title">{t('governanceTitle')}</h1>
      <ErrorMessage error={error} />
      <table data-testid="governance-events">
        <thead>
          <tr>
            <th scope="col">{t('when')}</th>
            <th scope="col">{t('who')}</th>
            <th scope="col">{t('action')}</th>
            <th scope="col">{t('subject')}</th>
            <th scope="col">{t('outcome')}</th>
          </tr>
        </thead>
        <tbody>
          {(events ?? []).map((e: GovernanceEvent) => (
            <tr key={e.id} data-action={e.action} data-outcome={e.outcome}>
              <td>{formatInstant(e.occurredAt, lang)}</td>
              <td>{e.actorUserId ?? t('governanceSystem')}</td>
              <td data-testid="governance-action">
                <VocabularyLabel map={vocabulary?.governanceActions} code={e.action} />
              </td>
              <td>
                <VocabularyLabel map={vocabulary?.governanceSubjects} code={e.subjectType} bare /> {e.subjectId}
              </td>
              <td>
                <VocabularyLabel map={vocabulary?.governanceOutcomes} code={e.outcome} bare />
                {e.rule !== null && (
                  <span className="small block" data-testid="governance-rule">
                    <VocabularyLabel map={rules} code={e.rule} />
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
