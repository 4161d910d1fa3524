import { japanDay } from '../domain/japan-time.ts';
import { SITE_SIDE_LABELS, TERMINAL_SETTING_LABELS } from '../domain/terminal.ts';
import { instant, table, text, type SpreadsheetDoc } from '../spreadsheet/table.ts';
import type { Reconciliation, TerminalRow } from './terminals.ts';

type Line = { readonly finding: 'misplaced' | 'unused'; readonly t: TerminalRow };

/** The reconciliation in words (issue 20: headers and findings in Japanese; the console says the same). */
const FINDING_JA = { misplaced: '設置場所の不一致（送配電設定の端末が送配電の拠点の外）', unused: '未使用' } as const;
const KIND_JA: Readonly<Record<TerminalRow['kind'], string>> = { dedicated: '専用端末', virtual: '仮想端末' };

/**
 * The terminal reconciliation as a spreadsheet document (`gridwall terminals report`, `GET
 * /api/terminals/reconciliation?format=csv|xlsx`): one line per finding, network-set terminals not at a
 * network site (F1) first, then terminals unused for the report's days (never used: counted from registration,
 * so one registered today is never here). Headed and worded in Japanese, settings as the console names them.
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
          text('指摘', (x) => FINDING_JA[x.finding]),
          text('端末ID', (x) => x.t.id),
          text('組織', (x) => x.t.organizationName),
          text('事業所', (x) => x.t.office),
          text('端末の種類', (x) => KIND_JA[x.t.kind]),
          text('設定', (x) => TERMINAL_SETTING_LABELS[x.t.setting].ja),
          text('設置場所', (x) => SITE_SIDE_LABELS[x.t.siteSide].ja),
          instant('登録日時', (x) => x.t.registeredAt),
          instant('最終ログイン日時', (x) => x.t.lastUsedAt),
        ],
        rows: [...r.misplaced.map((t) => ({ finding: 'misplaced' as const, t })), ...r.unused.map((t) => ({ finding: 'unused' as const, t }))],
      }),
    ],
  };
}
