import { useEffect, useState } from 'react';
import type { Vocabulary } from './api.ts';
import { areaText } from './emergency-areas.tsx';
import { formatInstant } from './format.tsx';
import { useI18n } from './i18n.tsx';
import { opsApi, type ActiveEmergencies } from './ops-api.ts';

/** Fired on `window` when a declaration changes here, so the banner need not wait for its next poll. */
export const EMERGENCIES_CHANGED = 'gridwall:emergencies-changed';

/** The banner everyone sees while an emergency is in force (and, for support staff, what they may see). */
export function EmergencyBanner({ vocabulary }: { vocabulary: Vocabulary }) {
  const i18n = useI18n();
  const { t, lang } = i18n;
  const [active, setActive] = useState<ActiveEmergencies | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      opsApi.activeEmergencies().then(
        (a) => live && setActive(a),
        () => undefined,
      );
    void load();
    const timer = setInterval(() => void load(), 60_000);
    const changed = () => void load();
    window.addEventListener(EMERGENCIES_CHANGED, changed);
    return () => {
      live = false;
      clearInterval(timer);
      window.removeEventListener(EMERGENCIES_CHANGED, changed);
    };
  }, []);
  if (active === null || active.emergencies.length === 0) return null;
  const label = (f: string) =>
    i18n.l(
      vocabulary.fields.find((x) => x.key === f),
      f,
    );
  return (
    <div className="emergency-banner" role="status" data-testid="emergency-banner">
      {active.emergencies.map((e) => (
        <p key={e.id}>
          <strong>⚠ {t('emergencyBanner')}</strong> {e.id}：{e.areas.map((a) => areaText(a, i18n)).join('、')}{' '}
          {e.window !== null && t('emergencyUntil', { until: formatInstant(e.window.to, lang) })} — {e.reason}
        </p>
      ))}
      {active.support !== null && <p className="small">{t('emergencyBannerSupport', { fields: active.support.fields.map(label).join('・') })}</p>}
    </div>
  );
}
