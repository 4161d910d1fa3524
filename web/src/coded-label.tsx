import { useEffect, useState } from 'react';
import { api, labelOf, type Labels, type Vocabulary } from './api.ts';
import { useI18n } from './i18n.tsx';

let vocabularyOnce: Promise<Vocabulary> | null = null;

/**
 * The server's vocabulary for a page that is not handed it: fetched once per page load and shared, so the
 * console keeps no second copy of a label (src/api/vocabulary-routes.ts is the one place). Null until loaded.
 */
export function useVocabulary(): Vocabulary | null {
  const [vocabulary, setVocabulary] = useState<Vocabulary | null>(null);
  useEffect(() => {
    let live = true;
    vocabularyOnce ??= api.vocabulary();
    vocabularyOnce.then(
      (v) => {
        if (live) setVocabulary(v);
      },
      () => {
        vocabularyOnce = null;
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return vocabulary;
}

/**
 * A code in words (issue 20: no rule, side, route or action code on a screen without its label): the label in
 * the user's language, the code beside it in small print for support (`<code class="code">`, the one place a
 * bare code may stand — test/e2e/console-labels.test.ts checks the rest of the text). Without a label the code
 * still shows, marked as a code and as `data-missing-label` (which that test refuses once the page has loaded). `bare`: the label alone, for words everybody knows (done / refused).
 */
export function CodedLabel({ labels, code, bare = false }: { labels: Labels | undefined; code: string; bare?: boolean }) {
  const { l } = useI18n();
  if (bare && labels !== undefined) return <>{l(labels, code)}</>;
  return (
    <>
      {labels === undefined ? null : <>{l(labels, code)} </>}
      {/* A code without its words is marked, so the browser walk (test/e2e/console-labels.test.ts) can find it. */}
      <code className="code small" data-missing-label={labels === undefined ? '' : undefined}>
        {code}
      </code>
    </>
  );
}

/** CodedLabel looked up in one of the vocabulary's maps (none while it loads). */
export function VocabularyLabel({ map, code, bare = false }: { map: Readonly<Partial<Record<string, Labels>>> | undefined; code: string; bare?: boolean }) {
  return <CodedLabel labels={map === undefined ? undefined : labelOf(map, code)} code={code} bare={bare} />;
}
