import { ApiFailure } from './api.ts';
import { errorKey, useI18n } from './i18n.tsx';

/** An API error in the user's language, with the request id that finds it in the server's log. */
export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (error === null || error === undefined) return null;
  const failure = error instanceof ApiFailure ? error : null;
  const key = failure === null ? 'err_internal' : errorKey(failure.code);
  return (
    <div className="alert error" role="alert" data-error-code={failure?.code ?? 'client'}>
      <p>{key === null ? (failure?.message ?? t('err_internal')) : t(key)}</p>
      {failure?.requestId != null && (
        <p className="small">
          {t('errorRequestId')}: <span className="mono">{failure.requestId}</span>
        </p>
      )}
    </div>
  );
}
