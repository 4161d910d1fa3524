import writeXlsxFile, { type SheetData } from 'write-excel-file/node';
import { getOrderOfSiblings, insertElementMarkupAccordingToOrderOfSiblings, sanitizeTextContent } from 'write-excel-file/utility';
import { JST_OFFSET_MS } from '../domain/japan-time.ts';
import { unreachable } from '../domain/closed-set.ts';
import { inertText, type Cell, type ColumnHead, type SpreadsheetDoc, type Table } from './table.ts';

/**
 * XLSX for people (issue 19): one sheet per table, every cell typed — text as text (format `@`, so an ID keeps
 * its leading zero and all 22 digits, and a cell edited later stays text), counts as numbers, days and
 * instants as dates in Japan time — and a page set up for printing: the title in the sheet's first row and in
 * every page's header, landscape when the table is wide, fitted to the page's width, the header row repeated
 * on every page, page numbers in the footer. write-excel-file writes no page setup beyond orientation; its
 * "features" (hooks on the workbook's XML) add the rest, so no second library is needed.
 */

/** Rows a sheet holds (Excel's and LibreOffice's limit). */
export const XLSX_MAX_ROWS = 1_048_576;

/** Columns wider than this in sum do not fit a portrait A4 page at a readable size. */
const PORTRAIT_WIDTH = 100;

type XCell = SheetData[number][number];
type Feature = NonNullable<NonNullable<Parameters<typeof writeXlsxFile>[1]>['features']>[number];

function xcell(c: Cell): XCell {
  if (c.value === null) return null;
  switch (c.kind) {
    case 'text':
      return { value: inertText(c.value), type: String, format: '@' };
    case 'number':
      return Number.isFinite(c.value) ? { value: c.value, type: Number } : null;
    case 'day':
      return /^\d{4}-\d{2}-\d{2}$/.test(c.value)
        ? { value: new Date(`${c.value}T00:00:00Z`), type: Date, format: 'yyyy-mm-dd' }
        : { value: inertText(c.value), type: String, format: '@' };
    case 'instant':
      // A spreadsheet's dates have no zone: the serial number is Japan's wall clock.
      return { value: new Date(c.value.getTime() + JST_OFFSET_MS), type: Date, format: 'yyyy-mm-dd hh:mm:ss' };
    default:
      return unreachable(c);
  }
}

/** Display width, East Asian wide characters counting two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

function cellWidth(c: Cell): number {
  if (c.value === null) return 0;
  switch (c.kind) {
    case 'text':
      return displayWidth(c.value);
    case 'number':
      return String(c.value).length;
    case 'day':
      return 10;
    case 'instant':
      return 19;
    default:
      return unreachable(c);
  }
}

interface Laid {
  readonly name: string;
  readonly data: SheetData;
  readonly widths: number[];
  /** 1-based row number of the header row. */
  readonly headRow: number;
  readonly title: string;
}

function layOut(docTitle: string, t: Table): Laid {
  const head = (c: ColumnHead): XCell => ({ value: inertText(c.head), type: String, format: '@', fontWeight: 'bold', wrap: true, alignVertical: 'top' });
  const widths = t.columns.map((c) => Math.max(displayWidth(c.head) * 0.8, c.kind === 'instant' ? 19 : c.kind === 'day' ? 11 : 6));
  const data: SheetData = [[{ value: inertText(t.title), type: String, fontWeight: 'bold', fontSize: 14 }]];
  for (const n of t.notes) data.push([{ value: inertText(n), type: String }]);
  data.push([]);
  data.push(t.columns.map(head));
  const headRow = data.length;
  for (const r of t.rows) {
    if (data.length >= XLSX_MAX_ROWS) throw new Error(`the sheet ${t.sheet} has more rows than a sheet holds (${XLSX_MAX_ROWS})`);
    data.push(r.map(xcell));
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cellWidth(c));
    });
  }
  const title = t.title === docTitle ? t.title : `${docTitle} — ${t.title}`;
  return { name: t.sheet, data, widths: widths.map((w) => Math.min(60, Math.ceil(w) + 2)), headRow, title };
}

/** Header and footer codes take `&` as their escape: a literal one is doubled. */
const headerText = (s: string) => sanitizeTextContent(s.replace(/&/g, '&&'));

/** The page setup of each sheet and the workbook's print titles, as a write-excel-file feature. */
function pageSetup(sheets: readonly Laid[]): Feature {
  const order = getOrderOfSiblings('xl/worksheets/sheet{id}.xml', 'worksheet') ?? [];
  return {
    files: {
      transform: {
        'xl/worksheets/sheet{id}.xml': {
          transform: (xml, _options, { sheetIndex }) => {
            const s = sheets[sheetIndex];
            if (s === undefined) return xml;
            const landscape = s.widths.reduce((a, b) => a + b, 0) > PORTRAIT_WIDTH;
            const elements = [
              '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>',
              '<printOptions horizontalCentered="1"/>',
              '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
              `<pageSetup paperSize="9" orientation="${landscape ? 'landscape' : 'portrait'}" fitToWidth="1" fitToHeight="0"/>`,
              `<headerFooter><oddHeader>&amp;L${headerText(s.title)}</oddHeader><oddFooter>&amp;C&amp;P / &amp;N</oddFooter></headerFooter>`,
            ];
            let out = xml.replace(/<pageMargins[^>]*\/>/, '').replace(/<pageSetup[^>]*\/>/, '');
            for (const e of elements) out = insertElementMarkupAccordingToOrderOfSiblings(out, e, order, 'worksheet');
            return out;
          },
        },
        'xl/workbook.xml': {
          transform: (xml) => {
            const names = sheets
              .map(
                (s, i) =>
                  `<definedName name="_xlnm.Print_Titles" localSheetId="${i}">${sanitizeTextContent(`'${s.name.replace(/'/g, "''")}'!$${s.headRow}:$${s.headRow}`)}</definedName>`,
              )
              .join('');
            if (/<definedNames\s*\/>/.test(xml)) return xml.replace(/<definedNames\s*\/>/, `<definedNames>${names}</definedNames>`);
            if (xml.includes('</definedNames>')) return xml.replace('</definedNames>', `${names}</definedNames>`);
            return insertElementMarkupAccordingToOrderOfSiblings(
              xml,
              `<definedNames>${names}</definedNames>`,
              getOrderOfSiblings('xl/workbook.xml', 'workbook') ?? [],
              'workbook',
            );
          },
        },
      },
    },
  };
}

/** A document as an XLSX workbook. */
export async function xlsxFile(doc: SpreadsheetDoc): Promise<Buffer> {
  const sheets = doc.tables.map((t) => layOut(doc.title, t));
  return writeXlsxFile(
    sheets.map((s) => ({ sheet: s.name, data: s.data, columns: s.widths.map((width) => ({ width })), stickyRowsCount: s.headRow })),
    { features: [pageSetup(sheets)] },
  ).toBuffer();
}
