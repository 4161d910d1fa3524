import { instant, table, text, type SpreadsheetDoc } from '../spreadsheet/table.ts';
import type { Review, ReviewRead } from './emergency-review.ts';

type Line = {
  readonly kind: 'read' | 'refused';
  readonly r: ReviewRead;
  readonly point: { readonly supplyPointId: string; readonly shown: readonly string[] } | null;
};

/**
 * Compliance's review of an emergency as a spreadsheet document: one line per supply point read or refused
 * under the declaration (a read of none has one line), who, where from, what was shown and the reason stated.
 * The stated reason is the reader's own text: issue 14's `=HYPERLINK(…)` — the spreadsheet writers keep it text.
 */
export function reviewDoc(id: string, review: Review): SpreadsheetDoc {
  const lines: Line[] = [];
  for (const [kind, reads] of [
    ['read', review.reads],
    ['refused', review.refused],
  ] as const)
    for (const r of reads) {
      if (r.supplyPoints.length === 0) lines.push({ kind, r, point: null });
      for (const point of r.supplyPoints) lines.push({ kind, r, point });
    }
  const title = `非常災害時の閲覧の点検（${id}） / emergency review`;
  return {
    title,
    tables: [
      table<Line>({
        sheet: 'review',
        title,
        columns: [
          text('kind', (x) => x.kind),
          instant('occurred_at', (x) => x.r.occurredAt),
          text('user_id', (x) => x.r.userId),
          text('person_id', (x) => x.r.personId),
          text('organization_id', (x) => x.r.organizationId),
          text('employment', (x) => x.r.employment),
          text('office', (x) => x.r.office),
          text('terminal_id', (x) => x.r.terminalId),
          text('supply_point_id', (x) => x.point?.supplyPointId),
          text('fields_shown', (x) => x.point?.shown.join(' ')),
          text('stated_reason', (x) => x.r.statedReason, 40),
          text('refusal', (x) => x.r.refusal),
          text('request_id', (x) => x.r.requestId),
        ],
        rows: lines,
      }),
    ],
  };
}
