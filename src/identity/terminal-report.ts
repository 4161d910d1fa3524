import { japanDay } from '../domain/japan-time.ts';
import { instant, table, text, type SpreadsheetDoc } from '../spreadsheet/table.ts';
import type { Reconciliation, TerminalRow } from './terminals.ts';

type Line = { readonly finding: 'misplaced' | 'unused'; readonly t: TerminalRow };

/**
 * The terminal reconciliation as a spreadsheet document (`gridwall terminals report`, `GET
 * /api/terminals/reconciliation?format=csv|xlsx`): one line per finding, network-set terminals not at a
 * network site (F1) first, then terminals unused for the report's days.
 */
export function reconciliationDoc(r: Reconciliation): SpreadsheetDoc {
  const title = `端末の照合（${japanDay(r.at)}） / terminal reconciliation`;
  return {
    title,
    tables: [
      table<Line>({
        sheet: 'reconciliation',
        title,
        columns: [
          text('finding', (x) => x.finding),
          text('terminal', (x) => x.t.id),
          text('organization', (x) => x.t.organizationName),
          text('office', (x) => x.t.office),
          text('kind', (x) => x.t.kind),
          text('setting', (x) => x.t.setting),
          text('site_side', (x) => x.t.siteSide),
          instant('last_used_at', (x) => x.t.lastUsedAt),
        ],
        rows: [...r.misplaced.map((t) => ({ finding: 'misplaced' as const, t })), ...r.unused.map((t) => ({ finding: 'unused' as const, t }))],
      }),
    ],
  };
}
