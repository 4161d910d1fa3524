import { ApiFailure } from './api.ts';
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

function RuleNote({ rule, message }: { rule: string; message: string }) {
  const { t } = useI18n();
  const key = messageKey(`rule_${rule}`);
  return (
    <p className="small" data-testid="refusal-rule" data-rule={rule}>
      <strong>{key === null ? rule : t(key)}</strong>（{rule}）— {message}
    </p>
  );
}
