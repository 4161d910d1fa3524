import { holds, type Actor } from '../domain/actor.ts';
import { isSupplyPointField, SUPPLY_POINT_FIELDS, type SupplyPointField } from '../domain/classification.ts';
import { equalTreatment, type EqualityFlag, type InquiryFact, type RetailerFigures } from '../domain/equal-treatment.ts';
import type { GovernanceAction } from '../domain/governance-actions.ts';
import { japanDayStart } from '../domain/japan-time.ts';
import {
  answering,
  CASE_TYPE_LABELS,
  dueAt,
  INQUIRY_STATUS_LABELS,
  timeliness,
  type CaseType,
  type Consent,
  type ConsentMethod,
  type IdentityCheck,
  type InquiryChannel,
  type InquiryStatus,
  type Timeliness,
} from '../domain/inquiry.ts';
import type { Refusal, RefusalKind } from '../domain/refusal.ts';
import { refusalFamily } from '../domain/refusal.ts';
import { parseSupplyPointId } from '../domain/supply-point.ts';
import type { RecordView } from '../firewall/view.ts';
import { recordGovernance, recordingRefusals } from '../audit/governance-log.ts';
import type { FindingSink } from '../domain/finding.ts';
import type { Firewall, InquiryAnswerResult, ReadRequest } from '../firewall/firewall.ts';
import type { Db, Queryable } from '../store/db.ts';
import { dateOrNull } from '../store/db.ts';
import { personActor } from './grant-service.ts';

/**
 * Inquiries to the network operator (照会, issue 18): a retailer asks for non-public items of a supply point
 * that is not its customer's, for a case, with the customer's consent; what the case allows at once is
 * answered through the firewall in the same request, the rest waits in the service centre's queue, which
 * answers by releasing items (never beyond the case's allowance), asks back or refuses in words. A customer or
 * a contractor may ask the service centre directly, without a retailer in between. The answer is never stored:
 * the firewall serves it each time it is read, logged with the inquiry's id.
 */

export const INQUIRY_RULES = [
  'not_a_retailer',
  'not_an_answerer',
  'nothing_allowed',
  'unknown_item',
  'consent_incomplete',
  'consent_not_yet_given',
  'consent_expired',
  'consent_other_customer',
  'beyond_allowance',
  'not_open',
  'not_asked_back',
  'not_answerable',
  'unknown_inquiry',
  'unknown_supply_point',
  'batch_too_large',
  'invalid_supply_point_id',
  'not_yours',
  'permission_not_granted',
  'invalid_period',
] as const;
export type InquiryRule = (typeof INQUIRY_RULES)[number];

const INQUIRY_REFUSAL_KINDS: Readonly<Record<InquiryRule, RefusalKind>> = {
  not_a_retailer: 'refused',
  not_an_answerer: 'refused',
  nothing_allowed: 'invalid',
  unknown_item: 'invalid',
  consent_incomplete: 'invalid',
  consent_not_yet_given: 'refused',
  consent_expired: 'refused',
  consent_other_customer: 'refused',
  beyond_allowance: 'invalid',
  not_open: 'conflict',
  not_asked_back: 'conflict',
  not_answerable: 'conflict',
  unknown_inquiry: 'not_found',
  unknown_supply_point: 'not_found',
  batch_too_large: 'invalid',
  invalid_supply_point_id: 'invalid',
  not_yours: 'refused',
  permission_not_granted: 'refused',
  invalid_period: 'invalid',
};

/** A refused inquiry action: the rule it broke and a sentence saying how. */
export class InquiryRefused extends refusalFamily('inquiry', INQUIRY_REFUSAL_KINDS) {}

/** Most inquiries one batch may carry (a day's switching cases of a large retailer). */
export const MAX_BATCH = 2_000;

/** Refused consents by one person within a day before a finding is raised (someone trying names). */
export const CONSENT_REFUSALS_FOR_FINDING = 3;

/** What a requester asks. */
export interface InquiryInput {
  readonly caseType: CaseType;
  readonly supplyPointId: string;
  readonly items: readonly string[];
  readonly consent: Consent | null;
  readonly note: string | null;
}

/** A customer's or a contractor's inquiry, taken by the service centre. */
export interface DirectInquiryInput {
  readonly channel: Exclude<InquiryChannel, 'retailer'>;
  readonly caseType: CaseType;
  readonly supplyPointId: string;
  readonly items: readonly string[];
  readonly caller: string;
  readonly identityCheck: IdentityCheck;
  readonly note: string | null;
}

export interface InquiryHistoryEntry {
  readonly at: Date;
  readonly kind: string;
  readonly by: string | null;
  readonly items: readonly string[];
  readonly note: string | null;
}

export interface InquiryView {
  readonly id: string;
  readonly caseType: CaseType;
  readonly supplyPointId: string;
  readonly items: readonly string[];
  readonly channel: InquiryChannel;
  readonly retailerCode: string | null;
  readonly retailerName: string | null;
  readonly requestedBy: string | null;
  readonly requestedByPerson: string;
  readonly caller: string | null;
  readonly identityCheck: IdentityCheck | null;
  readonly consent: {
    readonly customerName: string;
    readonly method: ConsentMethod;
    readonly givenAt: Date;
    readonly reference: string;
    readonly validUntil: Date;
  } | null;
  readonly consentState: 'none' | 'valid' | 'refused';
  readonly atOnce: readonly string[];
  readonly queued: readonly string[];
  readonly never: readonly string[];
  readonly released: readonly string[];
  readonly status: InquiryStatus;
  readonly note: string | null;
  readonly createdAt: Date;
  readonly dueAt: Date | null;
  readonly timeliness: Timeliness | null;
  readonly closedAt: Date | null;
  readonly closedBy: string | null;
  readonly refusal: { readonly code: string; readonly reason: string } | null;
  readonly batchId: string | null;
  readonly history: readonly InquiryHistoryEntry[];
}

/** One inquiry asked, with what the firewall could show of it at once. */
export interface AskedInquiry {
  readonly inquiry: InquiryView;
  readonly answer: RecordView | null;
}

/** One line of a batch: its inquiry and answer, or why it was not taken. */
export type BatchLine =
  | { readonly line: number; readonly ok: true; readonly inquiry: InquiryView; readonly answer: RecordView | null }
  | {
      readonly line: number;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      /** A consent refused at intake: the inquiry kept as evidence (null: nothing was kept). */
      readonly inquiryId?: string | null;
    };

export interface InquiryFilter {
  readonly scope: 'mine' | 'retailer' | 'queue' | 'all';
  readonly status?: InquiryStatus | undefined;
  readonly caseType?: CaseType | undefined;
  readonly limit: number;
  readonly offset: number;
}

const SEL = `i.*, r.name AS retailer_name,
  coalesce((SELECT jsonb_agg(jsonb_build_object('at', e.at, 'kind', e.kind, 'by', e.by_user, 'items', e.items, 'note', e.note) ORDER BY e.id)
              FROM inquiry_events e WHERE e.inquiry_id = i.id), '[]'::jsonb) AS history
  FROM inquiries i LEFT JOIN retailers r ON r.code = i.retailer_code`;

type Row = Record<string, unknown>;

function viewOf(r: Row, at: Date): InquiryView {
  const status = r['status'] as InquiryStatus;
  const due = dateOrNull(r['due_at']);
  const caseType = r['case_type'] as CaseType;
  const history = (typeof r['history'] === 'string' ? JSON.parse(r['history']) : r['history']) as {
    at: string;
    kind: string;
    by: string | null;
    items: string[];
    note: string | null;
  }[];
  return {
    id: String(r['id']),
    caseType,
    supplyPointId: String(r['supply_point_id']),
    items: r['items'] as string[],
    channel: r['channel'] as InquiryChannel,
    retailerCode: (r['retailer_code'] as string | null) ?? null,
    retailerName: (r['retailer_name'] as string | null) ?? null,
    requestedBy: (r['requested_by'] as string | null) ?? null,
    requestedByPerson: String(r['requested_by_person']),
    caller: (r['caller'] as string | null) ?? null,
    identityCheck: (r['identity_check'] as IdentityCheck | null) ?? null,
    consent:
      r['consent_customer_name'] === null || r['consent_customer_name'] === undefined
        ? null
        : {
            customerName: r['consent_customer_name'] as string,
            method: r['consent_method'] as ConsentMethod,
            givenAt: new Date(r['consent_given_at'] as string),
            reference: String(r['consent_reference']),
            validUntil: new Date(r['consent_valid_until'] as string),
          },
    consentState: r['consent_state'] as 'none' | 'valid' | 'refused',
    atOnce: r['at_once'] as string[],
    queued: r['queued'] as string[],
    never: r['never'] as string[],
    released: r['released'] as string[],
    status,
    note: (r['note'] as string | null) ?? null,
    createdAt: new Date(r['created_at'] as string),
    dueAt: due,
    timeliness: (status === 'open' || status === 'asked_back') && due !== null ? timeliness(caseType, due, at) : null,
    closedAt: dateOrNull(r['closed_at']),
    closedBy: (r['closed_by'] as string | null) ?? null,
    refusal:
      r['refusal_code'] === null || r['refusal_code'] === undefined
        ? null
        : { code: r['refusal_code'] as string, reason: (r['refusal_reason'] as string | null) ?? '' },
    batchId: (r['batch_id'] as string | null) ?? null,
    history: history.map((h) => ({ at: new Date(h.at), kind: h.kind, by: h.by, items: h.items, note: h.note })),
  };
}

/** The fields an inquiry may name: every field of the manifest, checked here so a typo is a 400, not a silent `never`. */
function checkedItems(items: readonly string[]): SupplyPointField[] {
  const unknown = items.filter((i) => !isSupplyPointField(i));
  if (unknown.length > 0)
    throw new InquiryRefused('unknown_item', `no such item: ${unknown.join(', ')} (GET /api/vocabulary lists the fields)`, { items: unknown });
  return [...new Set(items)] as SupplyPointField[];
}

/** The supply point ID as stored (22 digits; hyphens and spaces dropped), or the line's refusal. */
function checkedSupplyPointId(raw: string): string {
  const parsed = parseSupplyPointId(raw);
  if (parsed.kind === 'ok') return parsed.id;
  throw new InquiryRefused(
    'invalid_supply_point_id',
    parsed.problem === 'not_22_digits'
      ? 'a supply point ID has 22 digits (hyphens and spaces are ignored)'
      : 'a supply point ID starts with an area code 01–10',
  );
}

/** Items this case could ever give (with consent): asking for anything else alone is a mistake, said before any read. */
function checkAllowed(caseType: CaseType, items: readonly SupplyPointField[]): void {
  if (items.some((f) => answering(caseType, f, 'valid') !== 'never')) return;
  const may = Object.keys(SUPPLY_POINT_FIELDS).filter((f) => answering(caseType, f as SupplyPointField, 'valid') !== 'never');
  throw new InquiryRefused(
    'nothing_allowed',
    `a ${CASE_TYPE_LABELS[caseType].en.toLowerCase()} inquiry gives none of ${items.join(', ')}; it may give ${may.join(', ')}`,
    { caseType, allowed: may },
  );
}

function checkConsent(c: Consent | null): void {
  if (c === null) return;
  if (c.customerName.trim() === '' || c.reference.trim() === '')
    throw new InquiryRefused('consent_incomplete', 'a consent names the customer who gave it and where its evidence is (reference)');
  if (c.validUntil.getTime() <= c.givenAt.getTime()) throw new InquiryRefused('consent_incomplete', 'a consent is valid until after it was given');
}

const CONSENT_MESSAGES: Readonly<Record<'consent_not_yet_given' | 'consent_expired' | 'consent_other_customer', string>> = {
  consent_not_yet_given: 'the consent is dated after now: give the instant the customer consented',
  consent_expired: "the customer's consent has expired: ask the customer again",
  consent_other_customer: 'the consent does not name the contract holder of this supply point: ask the customer for the name on their bill',
};

/** The equal-treatment figures of a period, each retailer named: what the console, the API and the compliance report show. */
export interface EqualTreatmentReport {
  readonly from: string;
  readonly to: string;
  readonly affiliatedCode: string | null;
  readonly retailers: readonly (RetailerFigures & { readonly retailerName: string | null })[];
  readonly affiliated: (RetailerFigures & { readonly retailerName: string | null }) | null;
  readonly others: RetailerFigures & { readonly retailerName: string | null };
  readonly flags: readonly EqualityFlag[];
}

/**
 * The figures for the retailers' inquiries asked on the days `from`–`to` (inclusive, Japan time), as of `at`.
 * Throws InquiryRefused (invalid) for a day that does not exist or a period that ends before it starts.
 */
export async function equalTreatmentReport(q: Queryable, from: string, to: string, at: Date): Promise<EqualTreatmentReport> {
  const start = japanDayStart(from);
  const last = japanDayStart(to);
  if (start === null || last === null) throw new InquiryRefused('invalid_period', 'from and to are days that exist (YYYY-MM-DD)');
  const end = new Date(last.getTime() + 86_400_000);
  if (end.getTime() <= start.getTime()) throw new InquiryRefused('invalid_period', 'to is on or after from');
  const { rows } = await q.query<Row>(
    `SELECT retailer_code, case_type, status, created_at, closed_at, due_at, waiting_ms, cardinality(queued) > 0 AS queued, refusal_code
       FROM inquiries WHERE channel = 'retailer' AND created_at >= $1 AND created_at < $2`,
    [start, end],
  );
  const facts: InquiryFact[] = rows.map((r) => {
    const status = r['status'] as InquiryStatus;
    const queued = r['queued'] === true;
    const refusal = (r['refusal_code'] as string | null) ?? null;
    return {
      retailerCode: String(r['retailer_code']),
      caseType: r['case_type'] as CaseType,
      status,
      answeredAtOnce: status === 'answered' && !queued,
      queued,
      refusedByServiceCentre: refusal === 'service_centre',
      refusedAtIntake: refusal !== null && refusal.startsWith('consent_'),
      createdAt: new Date(r['created_at'] as string),
      closedAt: dateOrNull(r['closed_at']),
      dueAt: dateOrNull(r['due_at']),
      waitingMs: Number(r['waiting_ms']),
    };
  });
  const retailers = await q.query<{ code: string; name: string; affiliated: boolean }>('SELECT code, name, affiliated FROM retailers');
  const affiliatedCode = retailers.rows.find((r) => r.affiliated)?.code ?? null;
  const names = new Map(retailers.rows.map((r) => [r.code, r.name]));
  const t = equalTreatment(facts, affiliatedCode, at);
  const named = (f: RetailerFigures) => ({ ...f, retailerName: names.get(f.retailerCode) ?? null });
  return {
    from,
    to,
    affiliatedCode,
    retailers: t.retailers.map(named),
    affiliated: t.affiliated === null ? null : named(t.affiliated),
    others: { ...t.others, retailerName: null },
    flags: t.flags,
  };
}

/** Inquiry numbers taken from the sequence at a time. */
const ID_BLOCK = 64;

/** The columns a new inquiry's row has that askMany does not set (as the store defaults them). */
const NEW_ROW: Row = {
  released: [],
  caller: null,
  identity_check: null,
  waiting_ms: 0,
  closed_by: null,
  asked_back_at: null,
};

/**
 * Writes new inquiries and their first events the way the access log is written: the requests that arrive
 * while a write is under way wait and go together in the next one, a single statement (atomic without a
 * transaction of its own). Under load each request's inquiry costs a share of one statement, not a
 * transaction of its own — what keeps an at-once answer close to a plain look-up (bench/inquiry.bench.ts).
 * A failed write fails every request in it; nothing is half written.
 */
class InquiryWriter {
  readonly #db: Queryable;
  #waiting: { rows: Row[]; events: Row[]; done: (e?: Error) => void }[] = [];
  #writing = false;

  constructor(db: Queryable) {
    this.#db = db;
  }

  write(rows: readonly Row[], events: readonly Row[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({
        rows: [...rows],
        events: [...events],
        done: (e) => (e === undefined ? resolve() : reject(e)),
      });
      if (!this.#writing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        await this.#db.query(
          `WITH new AS (
             INSERT INTO inquiries (id, case_type, supply_point_id, items, channel, retailer_code, requested_by, requested_by_person, consent_customer_name,
                consent_method, consent_given_at, consent_reference, consent_valid_until, consent_state, at_once, queued, never, status, note, created_at,
                due_at, closed_at, refusal_code, refusal_reason, batch_id)
             SELECT id, case_type, supply_point_id, items, channel, retailer_code, requested_by, requested_by_person, consent_customer_name, consent_method,
                consent_given_at, consent_reference, consent_valid_until, consent_state, at_once, queued, never, status, note, created_at, due_at, closed_at,
                refusal_code, refusal_reason, batch_id
               FROM jsonb_to_recordset($1::jsonb) AS x(id text, case_type text, supply_point_id text, items text[], channel text, retailer_code text,
                requested_by text, requested_by_person text, consent_customer_name text, consent_method text, consent_given_at timestamptz,
                consent_reference text, consent_valid_until timestamptz, consent_state text, at_once text[], queued text[], never text[], status text,
                note text, created_at timestamptz, due_at timestamptz, closed_at timestamptz, refusal_code text, refusal_reason text, batch_id text)
           )
           -- The events in the order given (their ids order an inquiry's history); the inquiries above are
           -- inserted whether or not this reads them, and the foreign key is checked at the statement's end.
           INSERT INTO inquiry_events (inquiry_id, at, kind, by_user, by_person, items, note)
           SELECT inquiry_id, at, kind, by_user, by_person, items, note
             FROM jsonb_to_recordset($2::jsonb) AS x(inquiry_id text, at timestamptz, kind text, by_user text, by_person text, items text[], note text)`,
          [JSON.stringify(batch.flatMap((b) => b.rows)), JSON.stringify(batch.flatMap((b) => b.events))],
        );
        for (const b of batch) b.done();
      } catch (e) {
        for (const b of batch) b.done(e instanceof Error ? e : new Error('the inquiries could not be written'));
      }
    }
    this.#writing = false;
  }
}

export class Inquiries {
  readonly #db: Db;
  readonly #firewall: Firewall;
  readonly #findings: FindingSink;
  readonly #notified: (personIds: readonly string[]) => void;
  readonly #writer: InquiryWriter;
  readonly #idPool: string[] = [];
  #idFetch: Promise<void> | null = null;
  readonly #names = new Map<string, string>();

  constructor(db: Db, firewall: Firewall, findings: FindingSink, opts: { notified?: (personIds: readonly string[]) => void } = {}) {
    this.#db = db;
    this.#firewall = firewall;
    this.#findings = findings;
    this.#notified = opts.notified ?? (() => undefined);
    this.#writer = new InquiryWriter(db);
  }

  /** A retailer's person or system asks; what the case allows at once comes back in the same answer. */
  async ask(req: ReadRequest, input: InquiryInput): Promise<AskedInquiry> {
    const { lines, limited } = await this.#askMany(req, [input], null);
    const [line] = lines;
    if (line === undefined) throw new Error('no answer for one inquiry');
    if (!line.ok) throw limited.get(line.line) ?? this.#lineError(line);
    return { inquiry: line.inquiry, answer: line.answer };
  }

  #lineError(line: Extract<BatchLine, { ok: false }>): Error {
    const rule = line.code as InquiryRule;
    const details = line.inquiryId === undefined || line.inquiryId === null ? {} : { inquiryId: line.inquiryId };
    return (INQUIRY_RULES as readonly string[]).includes(rule) ? new InquiryRefused(rule, line.message, details) : new Error(line.message);
  }

  /**
   * Many inquiries at once (a batch of switching cases): each line checked on its own (a bad line is listed
   * with its reason, never dropped), the good ones answered through the firewall in one group commit and
   * stored in one transaction.
   */
  async askMany(req: ReadRequest, inputs: readonly InquiryInput[], batchId: string | null): Promise<BatchLine[]> {
    return (await this.#askMany(req, inputs, batchId)).lines;
  }

  /** The lines, and the refusal of each line a read limit refused (a single inquiry answers it: 429). */
  async #askMany(req: ReadRequest, inputs: readonly InquiryInput[], batchId: string | null): Promise<{ lines: BatchLine[]; limited: Map<number, Refusal> }> {
    const limited = new Map<number, Refusal>();
    const actor = req.actor;
    const retailerCode = actor.principal.assignment?.retailerCode ?? null;
    if (retailerCode === null || actor.principal.assignment?.side === 'network')
      throw new InquiryRefused(
        'not_a_retailer',
        "inquiries are a retailer's way to the network operator's data; the network side reads records directly (a customer's or contractor's call: POST /api/inquiries/direct)",
      );
    if (inputs.length > MAX_BATCH) throw new InquiryRefused('batch_too_large', `at most ${MAX_BATCH} inquiries in one batch; this one has ${inputs.length}`);
    const lines: (BatchLine | { line: number; ok: 'pending'; input: InquiryInput; items: SupplyPointField[] })[] = inputs.map((input, i) => {
      try {
        const supplyPointId = checkedSupplyPointId(input.supplyPointId);
        const items = checkedItems(input.items);
        checkAllowed(input.caseType, items);
        checkConsent(input.consent);
        return { line: i + 1, ok: 'pending', input: { ...input, supplyPointId }, items };
      } catch (e) {
        if (e instanceof InquiryRefused) return { line: i + 1, ok: false, code: e.rule, message: e.message };
        throw e;
      }
    });
    const pending = lines.filter((l): l is Extract<typeof l, { ok: 'pending' }> => l.ok === 'pending');
    if (pending.length === 0) return { lines: lines as BatchLine[], limited };
    const ids = await this.#ids(pending.length);
    const at = req.at;
    const rows: Row[] = [];
    const events: Row[] = [];
    const out = new Map<number, BatchLine>();
    let consentRefusals = 0;
    // The inquiries as the firewall sorted their items, written beside the log's commit of their reads.
    const store = async (answers: readonly InquiryAnswerResult[]): Promise<void> => {
      pending.forEach((p, k) => {
        const id = ids[k] ?? '';
        const a = answers[k] as InquiryAnswerResult;
        if (a.kind === 'not_found') {
          out.set(p.line, { line: p.line, ok: false, code: 'unknown_supply_point', message: `no supply point ${p.input.supplyPointId}` });
          return;
        }
        if (a.kind === 'limited') {
          // Past the person's refused consent checks of a day: not checked, nothing kept (docs/controls.md).
          limited.set(p.line, a.refusal);
          out.set(p.line, { line: p.line, ok: false, code: a.refusal.rule, message: a.refusal.message });
          return;
        }
        if (a.kind === 'refused' && a.reason === 'permission_not_granted') {
          out.set(p.line, {
            line: p.line,
            ok: false,
            code: 'permission_not_granted',
            message: 'you hold no grant of customer.read (需要家情報の照会) in force',
          });
          return;
        }
        const c = p.input.consent;
        const base = {
          id,
          case_type: p.input.caseType,
          supply_point_id: p.input.supplyPointId,
          items: p.items,
          channel: 'retailer',
          retailer_code: retailerCode,
          requested_by: actor.userId,
          requested_by_person: actor.personId,
          consent_customer_name: c?.customerName ?? null,
          consent_method: c?.method ?? null,
          consent_given_at: c?.givenAt.toISOString() ?? null,
          consent_reference: c?.reference ?? null,
          consent_valid_until: c?.validUntil.toISOString() ?? null,
          note: p.input.note,
          created_at: at.toISOString(),
          batch_id: batchId,
        };
        if (a.kind === 'refused') {
          consentRefusals += 1;
          const rule = a.reason as keyof typeof CONSENT_MESSAGES;
          rows.push({
            ...base,
            consent_state: 'refused',
            at_once: [],
            queued: [],
            never: [],
            status: 'refused',
            due_at: null,
            closed_at: at.toISOString(),
            refusal_code: rule,
            refusal_reason: CONSENT_MESSAGES[rule],
          });
          out.set(p.line, { line: p.line, ok: false, code: rule, message: `${id}: ${CONSENT_MESSAGES[rule]}`, inquiryId: id });
          return;
        }
        const open = a.queued.length > 0;
        rows.push({
          ...base,
          consent_state: a.consent,
          at_once: a.atOnce,
          queued: a.queued,
          never: a.never,
          status: open ? 'open' : 'answered',
          due_at: open ? dueAt(p.input.caseType, at, 0).toISOString() : null,
          closed_at: open ? null : at.toISOString(),
          refusal_code: null,
          refusal_reason: null,
        });
        out.set(p.line, { line: p.line, ok: true, inquiry: null as unknown as InquiryView, answer: a.view });
      });
      events.push(
        ...rows.flatMap((r): Row[] => {
          const asked = {
            inquiry_id: r['id'],
            at: at.toISOString(),
            kind: 'asked',
            by_user: actor.userId,
            by_person: actor.personId,
            items: r['items'],
            note: r['note'],
          };
          if (r['status'] === 'refused') return [asked, { ...asked, kind: 'refused', by_user: null, by_person: null, items: [], note: r['refusal_reason'] }];
          return (r['at_once'] as string[]).length > 0
            ? [asked, { ...asked, kind: 'answered_at_once', by_user: null, by_person: null, items: r['at_once'], note: null }]
            : [asked];
        }),
      );
      if (rows.length > 0) await this.#writer.write(rows, events);
    };
    await this.#firewall.answerInquiries(
      req,
      pending.map((p, k) => ({
        inquiryId: ids[k] ?? '',
        caseType: p.input.caseType,
        supplyPointId: p.input.supplyPointId,
        items: p.items,
        consent: p.input.consent,
      })),
      store,
    );
    if (consentRefusals > 0) await this.#watchConsentRefusals(actor, at);
    // The views are made from the rows just written (what a read would give back), without reading them again.
    const names = await this.#retailerNames(retailerCode);
    const history = new Map<string, Row[]>();
    for (const e of events) history.set(String(e['inquiry_id']), [...(history.get(String(e['inquiry_id'])) ?? []), e]);
    const stored = new Map(
      rows.map((r) => {
        const id = String(r['id']);
        const h = (history.get(id) ?? []).map((e) => ({ at: e['at'], kind: e['kind'], by: e['by_user'], items: e['items'], note: e['note'] }));
        return [id, viewOf({ ...NEW_ROW, ...r, retailer_name: names, history: h }, at)] as const;
      }),
    );
    const answered = lines.map((l): BatchLine => {
      if (l.ok !== 'pending') return l;
      const done = out.get(l.line);
      if (done === undefined) throw new Error(`no outcome for line ${l.line}`);
      if (!done.ok) return done;
      const id = ids[pending.indexOf(l)] ?? '';
      const inquiry = stored.get(id);
      if (inquiry === undefined) throw new Error(`inquiry ${id} not stored`);
      return { ...done, inquiry };
    });
    return { lines: answered, limited };
  }

  /**
   * The answer as it stands, read again through the firewall (logged, purpose inquiry_answer): what the case
   * allowed at once and what the service centre has released since, while the consent still holds.
   */
  async answer(req: ReadRequest, id: string): Promise<{ inquiry: InquiryView; answer: RecordView }> {
    const inquiry = await this.get(req.actor, id, req.at);
    if (inquiry.channel !== 'retailer' || inquiry.retailerCode !== (req.actor.principal.assignment?.retailerCode ?? null))
      throw new InquiryRefused(
        'not_yours',
        `${id} is not your retailer's inquiry: its answer is for its requester (the service centre reads records directly)`,
      );
    if (inquiry.status === 'refused' || inquiry.status === 'withdrawn')
      throw new InquiryRefused('not_answerable', `${id} is ${inquiry.status}: it has no answer`);
    const a = await this.#firewall.answerInquiry(req, {
      inquiryId: inquiry.id,
      caseType: inquiry.caseType,
      supplyPointId: inquiry.supplyPointId,
      items: inquiry.items as SupplyPointField[],
      consent: inquiry.consent,
      released: inquiry.released as SupplyPointField[],
    });
    if (a.kind === 'not_found') throw new InquiryRefused('unknown_supply_point', `supply point ${inquiry.supplyPointId} is no longer on record`);
    if (a.kind === 'limited') throw a.refusal;
    if (a.kind === 'refused') {
      if (a.reason === 'permission_not_granted')
        throw new InquiryRefused('permission_not_granted', 'you hold no grant of customer.read (需要家情報の照会) in force');
      throw new InquiryRefused(a.reason, CONSENT_MESSAGES[a.reason]);
    }
    return { inquiry, answer: a.view };
  }

  /** One inquiry, for whoever may see it: its requester's retailer, the service centre, compliance. */
  async get(actor: Actor, id: string, at: Date): Promise<InquiryView> {
    const [view] = await this.#load(this.#db, [id], at);
    if (view === undefined) throw new InquiryRefused('unknown_inquiry', `no inquiry ${id}`);
    if (!this.#maySee(actor, view))
      throw new InquiryRefused('not_yours', `${id} is another retailer's inquiry: its requester's retailer, the service centre and compliance see it`);
    return view;
  }

  #maySee(actor: Actor, v: InquiryView): boolean {
    if (holds(actor, 'inquiries.answer') || holds(actor, 'audit.read')) return true;
    if (v.requestedByPerson === actor.personId) return true;
    const code = actor.principal.assignment?.retailerCode ?? null;
    return code !== null && v.retailerCode === code;
  }

  /**
   * Inquiries: `mine` (asked by me), `retailer` (my retailer's), `queue` (open and asked back, late first, then
   * about to be late, then by due time — the service centre's), `all` (the service centre and compliance).
   */
  async list(actor: Actor, filter: InquiryFilter, at: Date): Promise<{ inquiries: InquiryView[]; total: number }> {
    const code = actor.principal.assignment?.retailerCode ?? null;
    const overseer = holds(actor, 'inquiries.answer') || holds(actor, 'audit.read');
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.scope === 'mine') where.push(`i.requested_by_person = ${p(actor.personId)}`);
    else if (filter.scope === 'retailer') {
      if (code === null) throw new InquiryRefused('not_a_retailer', 'you are not placed at a retailer');
      where.push(`i.retailer_code = ${p(code)}`);
    } else {
      if (!overseer) throw new InquiryRefused('not_an_answerer', 'the queue and every inquiry are for inquiries.answer or audit.read holders');
      if (filter.scope === 'queue') where.push(`i.status IN ('open', 'asked_back')`);
    }
    if (filter.status !== undefined) where.push(`i.status = ${p(filter.status)}`);
    if (filter.caseType !== undefined) where.push(`i.case_type = ${p(filter.caseType)}`);
    const cond = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    // The queue: waiting on the service centre first (asked back waits on the requester), by due time.
    const order = filter.scope === 'queue' ? `(i.status = 'asked_back'), i.due_at, i.id` : 'i.created_at DESC, i.id DESC';
    const [{ rows }, total] = await Promise.all([
      this.#db.query<Row>(`SELECT ${SEL} ${cond} ORDER BY ${order} LIMIT ${p(filter.limit)} OFFSET ${p(filter.offset)}`, params),
      this.#db.query<{ n: string }>(`SELECT count(*) AS n FROM inquiries i ${cond}`, params.slice(0, params.length - 2)),
    ]);
    return { inquiries: rows.map((r) => viewOf(r, at)), total: Number(total.rows[0]?.n ?? 0) };
  }

  /** The service centre answers: releases queued items (never beyond what the case allows from the queue). */
  async release(actor: Actor, id: string, items: readonly string[], note: string | null, at: Date): Promise<InquiryView> {
    return this.#act(actor, id, 'inquiry.answer', { items, note }, at, async (tx, v) => {
      if (v.status !== 'open' && v.status !== 'asked_back') throw new InquiryRefused('not_open', `${id} is ${v.status}; only an open inquiry is answered`);
      const chosen = checkedItems(items);
      const beyond = chosen.filter((f) => !v.queued.includes(f));
      if (beyond.length > 0)
        throw new InquiryRefused(
          'beyond_allowance',
          `${beyond.join(', ')} ${beyond.length === 1 ? 'is' : 'are'} not among the items this inquiry's case leaves to the service centre (${v.queued.join(', ') || 'none'})`,
          { beyond, queued: v.queued },
        );
      await tx.query(
        `UPDATE inquiries SET status = 'answered', released = $2, note = coalesce($3, note), closed_at = $4, closed_by = $5, closed_by_person = $6,
                waiting_ms = waiting_ms + CASE WHEN asked_back_at IS NULL THEN 0 ELSE (extract(epoch FROM ($4::timestamptz - asked_back_at)) * 1000)::bigint END,
                asked_back_at = NULL
          WHERE id = $1`,
        [id, chosen, note, at, actor.userId, actor.personId],
      );
      await this.#event(tx, id, at, 'answered', actor, chosen, note);
      await this.#notify(tx, v, at, 'answered', `照会 ${id} に回答がありました`, `Inquiry ${id} has been answered`);
    });
  }

  /** The service centre asks the requester back (the service level's clock stops until they reply). */
  async askBack(actor: Actor, id: string, question: string, at: Date): Promise<InquiryView> {
    return this.#act(actor, id, 'inquiry.ask_back', { question }, at, async (tx, v) => {
      if (v.status !== 'open') throw new InquiryRefused('not_open', `${id} is ${v.status}; only an open inquiry is asked back`);
      await tx.query(`UPDATE inquiries SET status = 'asked_back', asked_back_at = $2 WHERE id = $1`, [id, at]);
      await this.#event(tx, id, at, 'asked_back', actor, [], question);
      await this.#notify(tx, v, at, 'asked_back', `照会 ${id} について確認依頼があります`, `The service centre asks about inquiry ${id}`);
    });
  }

  /** The service centre refuses, saying why in words. */
  async refuse(actor: Actor, id: string, reason: string, at: Date): Promise<InquiryView> {
    return this.#act(actor, id, 'inquiry.refuse', { reason }, at, async (tx, v) => {
      if (v.status !== 'open' && v.status !== 'asked_back') throw new InquiryRefused('not_open', `${id} is ${v.status}; only an open inquiry is refused`);
      await tx.query(
        `UPDATE inquiries SET status = 'refused', refusal_code = 'service_centre', refusal_reason = $2, closed_at = $3, closed_by = $4, closed_by_person = $5,
                waiting_ms = waiting_ms + CASE WHEN asked_back_at IS NULL THEN 0 ELSE (extract(epoch FROM ($3::timestamptz - asked_back_at)) * 1000)::bigint END,
                asked_back_at = NULL
          WHERE id = $1`,
        [id, reason, at, actor.userId, actor.personId],
      );
      await this.#event(tx, id, at, 'refused', actor, [], reason);
      await this.#notify(tx, v, at, 'refused', `照会 ${id} は回答できませんでした`, `Inquiry ${id} was refused`);
    });
  }

  /** The requester replies to a question; the inquiry goes back to the queue, its due time moved by the wait. */
  async reply(actor: Actor, id: string, text: string, at: Date): Promise<InquiryView> {
    const v = await this.get(actor, id, at);
    if (v.requestedByPerson !== actor.personId && v.retailerCode !== (actor.principal.assignment?.retailerCode ?? '\0'))
      throw new InquiryRefused('not_yours', `${id} is not your retailer's inquiry: its requester replies`);
    if (v.status !== 'asked_back') throw new InquiryRefused('not_asked_back', `${id} is ${v.status}: nothing was asked of you`);
    await this.#db.transaction(async (tx) => {
      await tx.query(
        `UPDATE inquiries SET status = 'open',
                waiting_ms = waiting_ms + (extract(epoch FROM ($2::timestamptz - asked_back_at)) * 1000)::bigint,
                due_at = due_at + ($2::timestamptz - asked_back_at), asked_back_at = NULL
          WHERE id = $1 AND status = 'asked_back'`,
        [id, at],
      );
      await this.#event(tx, id, at, 'replied', actor, [], text);
    });
    return this.get(actor, id, at);
  }

  /** The requester withdraws an inquiry still in the queue. */
  async withdraw(actor: Actor, id: string, at: Date): Promise<InquiryView> {
    const v = await this.get(actor, id, at);
    if (v.requestedByPerson !== actor.personId) throw new InquiryRefused('not_yours', `${id} is not your inquiry: its requester withdraws it`);
    if (v.status !== 'open' && v.status !== 'asked_back') throw new InquiryRefused('not_open', `${id} is ${v.status}; only an open inquiry is withdrawn`);
    await this.#db.transaction(async (tx) => {
      await tx.query(
        `UPDATE inquiries SET status = 'withdrawn', closed_at = $2, closed_by = $3, closed_by_person = $4, asked_back_at = NULL WHERE id = $1 AND status IN ('open', 'asked_back')`,
        [id, at, actor.userId, actor.personId],
      );
      await this.#event(tx, id, at, 'withdrawn', actor, [], null);
    });
    return this.get(actor, id, at);
  }

  /**
   * A customer's or contractor's inquiry taken by the service centre, with how the caller was identified
   * (misuse patterns 1 and 3: the caller is sent to the network operator rather than looked up by a retailer).
   * It waits in the queue like any other; the items it may give are the case's, with the caller's consent.
   */
  async takeDirect(actor: Actor, raw: DirectInquiryInput, at: Date): Promise<InquiryView> {
    const input = { ...raw, supplyPointId: checkedSupplyPointId(raw.supplyPointId) };
    const items = checkedItems(input.items);
    checkAllowed(input.caseType, items);
    const queued = items.filter((f) => answering(input.caseType, f, 'valid') !== 'never');
    const never = items.filter((f) => !queued.includes(f));
    // Its number before the transaction: the embedded store has one connection, which the transaction holds.
    const [id] = await this.#ids(1);
    return recordingRefusals(
      this.#db,
      'inquiry',
      {
        at,
        actor: personActor(actor),
        action: 'inquiry.take_direct',
        subjectType: 'inquiry',
        subjectId: input.supplyPointId,
        details: { channel: input.channel, caseType: input.caseType },
      },
      async (tx) => {
        if (!holds(actor, 'inquiries.answer'))
          throw new InquiryRefused('not_an_answerer', "taking a customer's or contractor's inquiry needs the grant inquiries.answer");
        await tx.query(
          `INSERT INTO inquiries (id, case_type, supply_point_id, items, channel, requested_by, requested_by_person, caller, identity_check, consent_state,
              queued, never, status, note, created_at, due_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'valid', $10, $11, 'open', $12, $13, $14)`,
          [
            id,
            input.caseType,
            input.supplyPointId,
            items,
            input.channel,
            actor.userId,
            actor.personId,
            input.caller,
            input.identityCheck,
            queued,
            never,
            input.note,
            at,
            dueAt(input.caseType, at, 0),
          ],
        );
        await this.#event(tx, id ?? '', at, 'asked', actor, items, input.note);
        const [v] = await this.#load(tx, [id ?? ''], at);
        if (v === undefined) throw new Error('inquiry not stored');
        return v;
      },
    );
  }

  /** Equal treatment of retailers over the days `from`–`to` (inclusive, Japan time): see domain/equal-treatment.ts. */
  async equalTreatment(actor: Actor, from: string, to: string, at: Date): Promise<EqualTreatmentReport> {
    if (!holds(actor, 'inquiries.answer') && !holds(actor, 'audit.read'))
      throw new InquiryRefused('not_an_answerer', 'the equal-treatment figures are for inquiries.answer or audit.read holders');
    return equalTreatmentReport(this.#db, from, to, at);
  }

  async #act(
    actor: Actor,
    id: string,
    action: GovernanceAction,
    details: Record<string, unknown>,
    at: Date,
    fn: (tx: Queryable, v: InquiryView) => Promise<void>,
  ): Promise<InquiryView> {
    const done = await recordingRefusals<InquiryView>(
      this.#db,
      'inquiry',
      { at, actor: personActor(actor), action, subjectType: 'inquiry', subjectId: id, details },
      async (tx) => {
        if (!holds(actor, 'inquiries.answer'))
          throw new InquiryRefused('not_an_answerer', 'answering inquiries needs the grant inquiries.answer (the network service centre)');
        const [v] = await this.#load(tx, [id], at, true);
        if (v === undefined) throw new InquiryRefused('unknown_inquiry', `no inquiry ${id}`);
        await fn(tx, v);
        await recordGovernance(tx, { at, actor: personActor(actor), action, subjectType: 'inquiry', subjectId: id, outcome: 'done', rule: null, details });
        return v;
      },
    );
    this.#notified([done.requestedByPerson]);
    return this.get(actor, id, at);
  }

  async #event(tx: Queryable, id: string, at: Date, kind: string, actor: Actor | null, items: readonly string[], note: string | null): Promise<void> {
    await tx.query('INSERT INTO inquiry_events (inquiry_id, at, kind, by_user, by_person, items, note) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id,
      at,
      kind,
      actor?.userId ?? null,
      actor?.personId ?? null,
      [...items],
      note,
    ]);
  }

  /** An in-app notification to the requester (mailed afterwards when SMTP is configured). */
  async #notify(tx: Queryable, v: InquiryView, at: Date, kind: string, ja: string, en: string): Promise<void> {
    await tx.query(`INSERT INTO notifications (person_id, at, kind, subject_type, subject_id, text_ja, text_en) VALUES ($1, $2, $3, 'inquiry', $4, $5, $6)`, [
      v.requestedByPerson,
      at,
      `inquiry.${kind}`,
      v.id,
      `${ja}（${CASE_TYPE_LABELS[v.caseType].ja}・${INQUIRY_STATUS_LABELS[kind === 'asked_back' ? 'asked_back' : kind === 'refused' ? 'refused' : 'answered'].ja}）`,
      en,
    ]);
  }

  /**
   * `n` new inquiry ids. Numbers are taken from the sequence in blocks (one round trip per ID_BLOCK inquiries,
   * not one per inquiry); a block not used up when the process stops leaves a gap in the numbering, as a
   * sequence does anyway after a rolled-back transaction.
   */
  async #ids(n: number): Promise<string[]> {
    while (this.#idPool.length < n) {
      this.#idFetch ??= this.#db
        .query<{ n: string }>("SELECT nextval('inquiry_no') AS n FROM generate_series(1, $1::int)", [Math.max(ID_BLOCK, n - this.#idPool.length)])
        .then(({ rows }) => void this.#idPool.push(...rows.map((r) => `INQ-${String(r.n).padStart(6, '0')}`)))
        .finally(() => (this.#idFetch = null));
      await this.#idFetch;
    }
    return this.#idPool.splice(0, n);
  }

  /** The requester's retailer's name (for the views made from written rows), cached: the register changes rarely. */
  async #retailerNames(code: string): Promise<string | null> {
    if (!this.#names.has(code)) {
      const { rows } = await this.#db.query<{ code: string; name: string }>('SELECT code, name FROM retailers');
      for (const r of rows) this.#names.set(r.code, r.name);
    }
    return this.#names.get(code) ?? null;
  }

  async #load(q: Queryable, ids: readonly string[], at: Date, lock = false): Promise<InquiryView[]> {
    if (ids.length === 0) return [];
    const { rows } = await q.query<Row>(`SELECT ${SEL} WHERE i.id = ANY($1::text[])${lock ? ' FOR UPDATE OF i' : ''}`, [[...ids]]);
    return rows.map((r) => viewOf(r, at));
  }

  /**
   * A person whose consents keep failing is trying names (or has a broken form): after a few in a day, a
   * finding for compliance — once while one is open.
   */
  async #watchConsentRefusals(actor: Actor, at: Date): Promise<void> {
    const since = new Date(at.getTime() - 86_400_000);
    const { rows } = await this.#db.query<{ n: string; open: boolean }>(
      `SELECT (SELECT count(*) FROM inquiries WHERE requested_by_person = $1 AND refusal_code LIKE 'consent\\_%' AND created_at > $2 AND created_at <= $3) AS n,
              EXISTS (SELECT 1 FROM findings WHERE rule = 'inquiry_consent_refused' AND subject_person_id = $1 AND status <> 'resolved') AS open`,
      [actor.personId, since, at],
    );
    const n = Number(rows[0]?.n ?? 0);
    if (n < CONSENT_REFUSALS_FOR_FINDING || rows[0]?.open === true) return;
    await this.#findings.raise({
      rule: 'inquiry_consent_refused',
      severity: 'medium',
      occurredAt: at,
      detectedAt: at,
      source: 'live',
      subjectPersonId: actor.personId,
      subjectUserId: actor.userId,
      summary: `${actor.personName}（${actor.userId ?? actor.personId}）の照会で、同意が契約名義と一致しない・期限切れのものが24時間に${n}件ありました`,
      evidence: { refusedConsents: n, since: since.toISOString() },
    });
  }
}
