import { useEffect, useEffectEvent, useState } from 'react';

/** What a load depends on: values compared by value, so a fresh array on every render does not load again. */
export type LoadKey = readonly (string | number | boolean | null)[];

/**
 * What a page loads when it opens (and again when a value in `key` changes): the data (null until the first answer),
 * the error of the last failed load or action, `reload` (after an action; its promise settles once the
 * answer is in, and never rejects: a failure becomes the error) and `setError` for the page's actions.
 * The data of an earlier load stays on screen while the next one runs, and a reload does not clear the error.
 *
 * `key` lists the props and state `load` reads (e.g. `[search]`), as a dependency list would. It is not passed
 * to `useEffect` as one: the lint rule of hooks can only check a literal list, so the effect depends on the
 * key's text instead (hence values only, never objects), and always calls the `load` of the latest render.
 */
export function useLoad<T>(load: () => Promise<T>, key: LoadKey = []): [T | null, unknown, () => Promise<void>, (e: unknown) => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = () => load().then(setData, setError);
  const loadNow = useEffectEvent(() => void reload());
  const keyText = JSON.stringify(key);
  useEffect(() => loadNow(), [keyText]);
  return [data, error, reload, setError];
}
