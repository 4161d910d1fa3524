import { useEffect, useState } from 'react';

/**
 * What a page loads when it opens (and again when `deps` change): the data (null until the first answer),
 * the error of the last failed load or action, `reload` (after an action; its promise settles once the
 * answer is in, and never rejects: a failure becomes the error) and `setError` for the page's actions.
 * The data of an earlier load stays on screen while the next one runs, and a reload does not clear the error.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[] = []): [T | null, unknown, () => Promise<void>, (e: unknown) => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = () => load().then(setData, setError);
  useEffect(() => void reload(), deps);
  return [data, error, reload, setError];
}
