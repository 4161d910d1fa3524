import { useState } from 'react';
import { useI18n, type I18n } from './i18n.tsx';
import type { EmergencyArea } from './ops-api.ts';

/** An area a declaration covers, in words (the banner, the declarations, the form's list). */
export function areaText(a: EmergencyArea, i18n: I18n): string {
  switch (a.kind) {
    case 'area_code':
      return `${i18n.t('area_code')} ${a.areaCode}`;
    case 'prefecture':
      return a.prefecture;
    case 'municipality':
      return `${a.prefecture} ${a.city}`;
  }
}

/** The areas of a new declaration: a list, each removable, and a row to add one (prefecture, city or area code). */
export function AreaEditor({ areas, onChange }: { areas: EmergencyArea[]; onChange: (a: EmergencyArea[]) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [kind, setKind] = useState<EmergencyArea['kind']>('prefecture');
  const [value, setValue] = useState('');
  const [city, setCity] = useState('');
  const add = () => {
    if (value.trim() === '') return;
    const a: EmergencyArea =
      kind === 'area_code'
        ? { kind, areaCode: value.trim() }
        : kind === 'prefecture'
          ? { kind, prefecture: value.trim() }
          : { kind, prefecture: value.trim(), city: city.trim() };
    onChange([...areas, a]);
    setValue('');
    setCity('');
  };
  return (
    <fieldset>
      <legend>{t('areas')}</legend>
      <ul data-testid="areas">
        {areas.map((a, i) => (
          <li key={i}>
            {areaText(a, i18n)}{' '}
            <button type="button" className="secondary" onClick={() => onChange(areas.filter((_, j) => j !== i))}>
              {t('removeArea')}
            </button>
          </li>
        ))}
      </ul>
      <label>
        {t('areaKind')}
        <select value={kind} onChange={(e) => setKind(e.target.value as EmergencyArea['kind'])} name="areaKind">
          <option value="prefecture">{t('prefecture')}</option>
          <option value="municipality">{t('municipality')}</option>
          <option value="area_code">{t('area_code')}</option>
        </select>
      </label>
      <label>
        {kind === 'area_code' ? t('area_code') : t('prefecture')}
        <input name="areaValue" value={value} onChange={(e) => setValue(e.target.value)} placeholder={kind === 'area_code' ? '02' : '宮城県'} />
      </label>
      {kind === 'municipality' && (
        <label>
          {t('city')}
          <input name="areaCity" value={city} onChange={(e) => setCity(e.target.value)} placeholder="仙台市青葉区" />
        </label>
      )}
      <button type="button" className="secondary" onClick={add}>
        {t('addArea')}
      </button>
    </fieldset>
  );
}
