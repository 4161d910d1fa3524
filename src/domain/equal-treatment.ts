import { CASE_TYPES, type CaseType, type InquiryStatus } from './inquiry.ts';

/**
 * Equal treatment of retailers' inquiries, shown rather than claimed (issue 18): the law forbids the network
 * operator to serve the group's retailer better than its rivals. Per retailer: volumes, the share answered at
 * once, the service centre's time to answer (the time asked back not counted), refusals; and, per case type,
 * flags where the affiliated retailer is served faster or differently than the others pooled. Pure: the
 * console, the API and the compliance report all call this one function.
 */

/** One retailer's inquiry as the figures need it. */
export interface InquiryFact {
  readonly retailerCode: string;
  readonly caseType: CaseType;
  readonly status: InquiryStatus;
  /** Answered in the same instant it was asked, nothing left for the queue. */
  readonly answeredAtOnce: boolean;
  /** Went to the service centre's queue (some asked item needed it). */
  readonly queued: boolean;
  /** Refused by the service centre in words (not a consent refused at intake). */
  readonly refusedByServiceCentre: boolean;
  /** Refused at intake: the consent did not hold. */
  readonly refusedAtIntake: boolean;
  readonly createdAt: Date;
  readonly closedAt: Date | null;
  readonly dueAt: Date | null;
  readonly waitingMs: number;
}

export interface Hours {
  readonly median: number | null;
  readonly p95: number | null;
}

export interface RetailerFigures {
  readonly retailerCode: string;
  readonly affiliated: boolean;
  readonly inquiries: number;
  readonly answeredAtOnce: number;
  /** answeredAtOnce / inquiries (null without inquiries). */
  readonly shareAtOnce: number | null;
  readonly queued: number;
  readonly answeredFromQueue: number;
  /** Hours from asking to the service centre's answer, of the inquiries it answered. */
  readonly queueHours: Hours;
  readonly refused: number;
  readonly refusedAtIntake: number;
  readonly open: number;
  /** Open past their service level now, or answered after it. */
  readonly late: number;
}

/** What a flag compares: how fast the queue answered, how often it refused, how much was answered at once. */
export const EQUALITY_MEASURES = ['queue_median_hours', 'queue_p95_hours', 'refusal_share', 'at_once_share'] as const;
export type EqualityMeasure = (typeof EQUALITY_MEASURES)[number];

export const EQUALITY_MEASURE_LABELS: Readonly<Record<EqualityMeasure, { ja: string; en: string }>> = {
  queue_median_hours: { ja: '回答時間（中央値）が短い', en: 'Answered faster (median)' },
  queue_p95_hours: { ja: '回答時間（95パーセンタイル）が短い', en: 'Answered faster (95th percentile)' },
  refusal_share: { ja: '回答不可の割合が低い', en: 'Refused less often' },
  at_once_share: { ja: '即時回答の割合が高い', en: 'Answered at once more often' },
};

/** A way in which the affiliated retailer was served better than the others in one case type. */
export interface EqualityFlag {
  readonly caseType: CaseType;
  readonly measure: EqualityMeasure;
  readonly affiliated: number;
  readonly others: number;
  readonly affiliatedCount: number;
  readonly othersCount: number;
}

/** Fewer inquiries than this on either side of a comparison and it is not made (too few to say anything). */
export const MIN_TO_COMPARE = 10;
/** A time is flagged when the affiliated retailer's is below this share of the others'. */
export const FASTER_RATIO = 0.8;
/** A share (refusals, at once) is flagged when it differs by at least this many points in the affiliate's favour. */
export const SHARE_POINTS = 0.1;

/** The nearest-rank percentile of sorted values (null when empty). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

const HOUR = 3_600_000;

/** Hours the service centre took to answer: asked to answered, less the time asked back. */
export function answerHours(f: InquiryFact): number | null {
  if (f.status !== 'answered' || !f.queued || f.closedAt === null) return null;
  return Math.max(0, f.closedAt.getTime() - f.createdAt.getTime() - f.waitingMs) / HOUR;
}

function isLate(f: InquiryFact, at: Date): boolean {
  if (f.dueAt === null) return false;
  if (f.status === 'open' || f.status === 'asked_back') return f.status === 'open' && f.dueAt.getTime() < at.getTime();
  return f.status === 'answered' && f.queued && f.closedAt !== null && f.closedAt.getTime() > f.dueAt.getTime();
}

function hoursOf(facts: readonly InquiryFact[]): Hours {
  const hours = facts.map(answerHours).filter((h): h is number => h !== null);
  hours.sort((a, b) => a - b);
  return { median: percentile(hours, 50), p95: percentile(hours, 95) };
}

function figuresOf(retailerCode: string, affiliated: boolean, facts: readonly InquiryFact[], at: Date): RetailerFigures {
  const count = (p: (f: InquiryFact) => boolean) => facts.filter(p).length;
  const answeredAtOnce = count((f) => f.answeredAtOnce);
  return {
    retailerCode,
    affiliated,
    inquiries: facts.length,
    answeredAtOnce,
    shareAtOnce: facts.length === 0 ? null : answeredAtOnce / facts.length,
    queued: count((f) => f.queued),
    answeredFromQueue: count((f) => f.queued && f.status === 'answered'),
    queueHours: hoursOf(facts),
    refused: count((f) => f.refusedByServiceCentre),
    refusedAtIntake: count((f) => f.refusedAtIntake),
    open: count((f) => f.status === 'open' || f.status === 'asked_back'),
    late: count((f) => isLate(f, at)),
  };
}

function flagsOf(caseType: CaseType, mine: readonly InquiryFact[], theirs: readonly InquiryFact[]): EqualityFlag[] {
  const flags: EqualityFlag[] = [];
  const flag = (measure: EqualityMeasure, affiliated: number, others: number, affiliatedCount: number, othersCount: number) =>
    flags.push({ caseType, measure, affiliated, others, affiliatedCount, othersCount });
  if (mine.length >= MIN_TO_COMPARE && theirs.length >= MIN_TO_COMPARE) {
    const share = (fs: readonly InquiryFact[]) => fs.filter((f) => f.answeredAtOnce).length / fs.length;
    const [a, o] = [share(mine), share(theirs)];
    if (a - o >= SHARE_POINTS) flag('at_once_share', a, o, mine.length, theirs.length);
  }
  const mq = mine.filter((f) => f.queued && (f.status === 'answered' || f.refusedByServiceCentre));
  const tq = theirs.filter((f) => f.queued && (f.status === 'answered' || f.refusedByServiceCentre));
  if (mq.length >= MIN_TO_COMPARE && tq.length >= MIN_TO_COMPARE) {
    const refusal = (fs: readonly InquiryFact[]) => fs.filter((f) => f.refusedByServiceCentre).length / fs.length;
    const [a, o] = [refusal(mq), refusal(tq)];
    if (o - a >= SHARE_POINTS) flag('refusal_share', a, o, mq.length, tq.length);
    const [mh, th] = [hoursOf(mq), hoursOf(tq)];
    const answered = (fs: readonly InquiryFact[]) => fs.filter((f) => answerHours(f) !== null).length;
    if (answered(mq) >= MIN_TO_COMPARE && answered(tq) >= MIN_TO_COMPARE) {
      if (mh.median !== null && th.median !== null && th.median > 0 && mh.median < FASTER_RATIO * th.median)
        flag('queue_median_hours', mh.median, th.median, answered(mq), answered(tq));
      if (mh.p95 !== null && th.p95 !== null && th.p95 > 0 && mh.p95 < FASTER_RATIO * th.p95)
        flag('queue_p95_hours', mh.p95, th.p95, answered(mq), answered(tq));
    }
  }
  return flags;
}

export interface EqualTreatment {
  /** Every retailer that asked, the affiliated first, then by volume. */
  readonly retailers: readonly RetailerFigures[];
  /** The affiliated retailer against all the others pooled. */
  readonly affiliated: RetailerFigures | null;
  readonly others: RetailerFigures;
  readonly flags: readonly EqualityFlag[];
}

/** The figures for a period's inquiries, `affiliatedCode` being the group's retailer, as of `at`. */
export function equalTreatment(facts: readonly InquiryFact[], affiliatedCode: string | null, at: Date): EqualTreatment {
  const by = new Map<string, InquiryFact[]>();
  for (const f of facts) by.set(f.retailerCode, [...(by.get(f.retailerCode) ?? []), f]);
  const retailers = [...by.entries()]
    .map(([code, fs]) => figuresOf(code, code === affiliatedCode, fs, at))
    .sort((a, b) => Number(b.affiliated) - Number(a.affiliated) || b.inquiries - a.inquiries || a.retailerCode.localeCompare(b.retailerCode));
  const mine = facts.filter((f) => f.retailerCode === affiliatedCode);
  const theirs = facts.filter((f) => f.retailerCode !== affiliatedCode);
  const flags =
    affiliatedCode === null
      ? []
      : CASE_TYPES.flatMap((c) =>
          flagsOf(
            c,
            mine.filter((f) => f.caseType === c),
            theirs.filter((f) => f.caseType === c),
          ),
        );
  return {
    retailers,
    affiliated: affiliatedCode === null || mine.length === 0 ? null : figuresOf(affiliatedCode, true, mine, at),
    others: figuresOf('*', false, theirs, at),
    flags,
  };
}
