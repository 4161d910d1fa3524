import { useEffect, useState } from 'react';

/** The console's few paths live in the URL, so reload, back and bookmarks work. */
export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(window.location.href));
  useEffect(() => {
    const update = () => setUrl(new URL(window.location.href));
    window.addEventListener('popstate', update);
    window.addEventListener('gridwall:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('gridwall:navigate', update);
    };
  }, []);
  return url;
}

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace === true) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event('gridwall:navigate'));
  window.scrollTo(0, 0);
}

/** A link that navigates inside the console (and still opens in a new tab with a modifier key). */
export function onLinkClick(path: string) {
  return (e: { preventDefault(): void; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; button: number }) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(path);
  };
}
