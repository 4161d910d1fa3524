import type { RecordView, Vocabulary } from './api.ts';
import { FieldValue } from './format.tsx';
import { useI18n } from './i18n.tsx';

/**
 * Every field of a record view, in manifest order, each with its value or masked with the reason in words: the
 * record screen, and an inquiry's answer (which is a record view read through the firewall too).
 */
export function RecordTable({ view, vocabulary, testId }: { view: RecordView; vocabulary: Vocabulary; testId?: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const classLabel = (c: keyof Vocabulary['fieldClasses']) => i18n.l(vocabulary.fieldClasses[c], c);
  return (
    <div className="table-wrap">
      <table className="record" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{t('field')}</th>
            <th scope="col">{t('value')}</th>
            <th scope="col">{t('classification')}</th>
          </tr>
        </thead>
        <tbody>
          {vocabulary.fields.map((f) => {
            const field = view.fields[f.key];
            return (
              <tr key={f.key} data-field={f.key} className={field?.shown === true ? 'is-shown' : 'is-masked'}>
                <th scope="row">{f[i18n.lang]}</th>
                <td>
                  <FieldValue field={f.key} view={field} vocabulary={vocabulary} i18n={i18n} />
                </td>
                <td className={`class class-${f.class}`}>{classLabel(f.class)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
