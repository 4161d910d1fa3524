import { ApiFailure, labelOf } from './api.ts';
import { useVocabulary } from './coded-label.tsx';
import { errorKey, messageKey, useI18n } from './i18n.tsx';

/**
 * An API error in the user's language, with the request id that finds it in the server's log; a refusal also
 * names the rule it broke (from `details.rule`, never parsed out of the message) and the server's sentence.
 */
export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (error === null || error === undefined) return null;
  const failure = error instanceof ApiFailure ? error : null;
  const key = failure === null ? 'err_internal' : errorKey(failure.code);
  return (
    <div className="alert error" role="alert" data-error-code={failure?.code ?? 'client'}>
      <p>{key === null ? (failure?.message ?? t('err_internal')) : t(key)}</p>
      {failure?.rule != null && <RuleNote rule={failure.rule} message={failure.message} />}
      {failure?.requestId != null && (
        <p className="small">
          {t('errorRequestId')}: <span className="mono">{failure.requestId}</span>
        </p>
      )}
    </div>
  );
}

/**
 * The rule in words: the console's sentence for it when it has one (`rule_<code>`), else the server's label of
 * the rule (the vocabulary's refusal, access-refusal and finding rules); the code beside it in small print.
 * The server's sentence is English and names codes (sides, permissions): shown in English, or when the console
 * has no words for the rule.
 */
function RuleNote({ rule, message }: { rule: string; message: string }) {
  const { t, l, lang } = useI18n();
  const vocabulary = useVocabulary();
  const key = messageKey(`rule_${rule}`);
  const labels =
    vocabulary === null
      ? undefined
      : (labelOf(vocabulary.refusalRules, rule) ?? labelOf(vocabulary.accessRefusals, rule) ?? labelOf(vocabulary.findingRules, rule));
  const words = key !== null ? t(key) : labels !== undefined ? l(labels, rule) : null;
  return (
    <p className="small" data-testid="refusal-rule" data-rule={rule}>
      {words !== null && <strong>{words}</strong>}（<code className="code">{rule}</code>）{(lang === 'en' || words === null) && <> — {message}</>}
    </p>
  );
}
