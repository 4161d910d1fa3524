import { useI18n } from './i18n.tsx';

/**
 * The spreadsheet downloads of a report (issue 19): XLSX, which opens with every ID as text and dates as dates
 * (tested in LibreOffice Calc; Excel reads the same cell types, not tested here); CSV in UTF-8 (with a BOM; an ID that looks like a number keeps its digits
 * behind one tab); and CSV in CP932 for older Excel (a character CP932 cannot hold becomes 〓, and the file's
 * last line says how many). `base` is the report's address without `format`.
 */
export function SpreadsheetDownloads({ base }: { base: string }) {
  const { t } = useI18n();
  const url = (format: string) => `${base}${!base.includes('?') ? '?' : base.endsWith('?') ? '' : '&'}${format}`;
  return (
    <>
      <a href={url('format=xlsx')} download>
        {t('downloadXlsx')}
      </a>{' '}
      ／{' '}
      <a href={url('format=csv')} download>
        {t('downloadCsvUtf8')}
      </a>{' '}
      ／{' '}
      <a href={url('format=csv&encoding=cp932')} download>
        {t('downloadCsvCp932')}
      </a>
    </>
  );
}
