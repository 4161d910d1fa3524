import { instant, table, text, type SpreadsheetDoc } from '../spreadsheet/table.ts';
import { LOG_HEADS } from '../audit/export.ts';
import type { Review, ReviewRead } from './emergency-review.ts';

/** A line's kind in words: a read under the declaration, or one refused. */
const KIND_JA = { read: '閲覧', refused: '拒否' } as const;

type Line = {
  readonly kind: 'read' | 'refused';
  readonly r: ReviewRead;
  readonly point: { readonly supplyPointId: string; readonly shown: readonly string[] } | null;
};

/**
 * Compliance's review of an emergency as a spreadsheet document: one line per supply point read or refused
 * under the declaration (a read of none has one line), who, where from, what was shown and the reason stated.
 * The stated reason is the reader's own text: issue 14's `=HYPERLINK(…)` — the spreadsheet writers keep it text.
 * Headed in Japanese, the access log's columns as the log's export heads them (LOG_HEADS).
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
          text('種別', (x) => KIND_JA[x.kind]),
          instant(LOG_HEADS.occurred_at, (x) => x.r.occurredAt),
          text(LOG_HEADS.user_id, (x) => x.r.userId),
          text(LOG_HEADS.person_id, (x) => x.r.personId),
          text(LOG_HEADS.organization_id, (x) => x.r.organizationId),
          text(LOG_HEADS.employment, (x) => x.r.employment),
          text(LOG_HEADS.office, (x) => x.r.office),
          text(LOG_HEADS.terminal_id, (x) => x.r.terminalId),
          text(LOG_HEADS.supply_point_id, (x) => x.point?.supplyPointId),
          text(LOG_HEADS.fields_shown, (x) => x.point?.shown.join(' ')),
          text('申告された理由', (x) => x.r.statedReason, 40),
          text(LOG_HEADS.refusal, (x) => x.r.refusal),
          text(LOG_HEADS.request_id, (x) => x.r.requestId),
        ],
        rows: lines,
      }),
    ],
  };
}
