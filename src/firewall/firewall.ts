import { randomUUID } from 'node:crypto';
import type { AccessEvent, AccessLog, LoggedRecord } from '../audit/access-event.ts';
import type { SearchTerms } from '../audit/search-terms.ts';
import { classify, SEARCH_FIELDS, SUPPLY_POINT_FIELD_KEYS, type SearchField, type SupplyPointField } from '../domain/classification.ts';
import type { Decision, MaskReason } from '../domain/decision.ts';
import type { DecisionTable } from '../domain/decision-table.ts';
import type { PrincipalFacts } from '../domain/principal.ts';
import { isPurpose, PURPOSE_LABELS, type Purpose } from '../domain/purpose.ts';
import { answering, consentProblem, type Answering, type CaseType, type Consent, type ConsentProblem, type ConsentState } from '../domain/inquiry.ts';
import { recordValues, type StoredSupplyPoint } from '../domain/record.ts';
import { relationAt, retailerAt, RELATIONS, type Relation } from '../domain/relation.ts';
import { contractAt } from '../domain/supply-point.ts';
import { narrow, networkOnlyGate } from '../domain/terminal.ts';
import {
  anyInForce,
  emergencyCover,
  EMERGENCY_REFUSAL_LABELS,
  type Declaration,
  type EmergencyCover,
  type EmergencyRefusal,
  type SupportRegistration,
} from '../domain/emergency.ts';
import type { FindingSink, NewFinding } from '../domain/finding.ts';
import type { AccessRefusal } from '../domain/access-refusals.ts';
import { READ_LIMIT_LABELS, readLimited, type CountedRead, type LimitHit, type ReadLimited, type ReadLimiter } from '../domain/read-limits.ts';
import { declarationsInForce, registrationAt } from '../store/emergency-store.ts';
import { holds, type Actor } from '../domain/actor.ts';
import { loadRecords, searchByAddress, searchByHolderName, searchByPhone, type Page, type RetailerScope } from '../store/customer-store.ts';
import type { Queryable } from '../store/db.ts';
import type { ReadingWatch } from './reading-tally.ts';
import { applyDecisions, type FieldView, type RecordView } from './view.ts';

/** One read as the firewall sees it: who, why, through which route, at which instant. */
export interface ReadRequest {
  readonly actor: Actor;
  readonly purpose: Purpose;
  readonly route: string;
  readonly requestId?: string;
  readonly at: Date;
  /** The reason stated for this one read; required under the `emergency_support` purpose, and logged. */
  readonly statedReason?: string;
}

/** Why an emergency-support read was refused as a whole. */
export type EmergencyReadRefusal = EmergencyRefusal | 'reason_required';

/**
 * Where an emergency-support read stands before any record is looked at: not one (`none`), refused, or
 * open with the person's registration and the declarations in force.
 */
type EmergencyGate =
  | { readonly kind: 'none' }
  | { readonly kind: 'refused'; readonly reason: EmergencyReadRefusal }
  | { readonly kind: 'open'; readonly registration: SupportRegistration; readonly declarations: readonly Declaration[]; readonly reason: string };

/** The query as logged: under emergency support with the reason the person stated (served or refused alike). */
function withStatedReason(req: ReadRequest, query: Record<string, unknown>): Record<string, unknown> {
  const reason = req.statedReason?.trim() ?? '';
  return req.purpose === 'emergency_support' && reason !== '' ? { ...query, reason } : query;
}

/** How many rounds a search page makes up for candidates left out before it is answered short (firewall.ts#searchServed). */
const SEARCH_REFILL_ROUNDS = 5;

const locationOf = (r: StoredSupplyPoint) => ({ areaCode: r.areaCode, prefecture: r.address.prefecture, city: r.address.city });

export type SearchCriteria =
  { readonly by: 'address'; readonly term: string } | { readonly by: 'holder_name'; readonly term: string } | { readonly by: 'phone'; readonly digits: string };

/** A read refused by a rate or volume limit (domain/read-limits.ts): logged, raised once per window, answered 429. */
export interface Limited {
  readonly kind: 'limited';
  readonly refusal: ReadLimited;
}

export type SearchResult =
  | { readonly kind: 'served'; readonly views: RecordView<SearchField>[]; readonly hasMore: boolean }
  | Limited
  | { readonly kind: 'refused'; readonly reason: 'search_field_not_permitted' | 'permission_not_granted' | EmergencyReadRefusal };

/**
 * What the person's grants and terminal allow beyond the policy table: the gate on network-only fields
 * (null: open). Computed once per read; it can only narrow.
 */
export function networkOnlyGateOf(actor: Actor): MaskReason | null {
  return networkOnlyGate(holds(actor, 'network.equipment'), actor.terminal);
}

export type LookupResult =
  | { readonly kind: 'served'; readonly view: RecordView }
  | { readonly kind: 'not_found' }
  | Limited
  | { readonly kind: 'refused'; readonly reason: 'permission_not_granted' | EmergencyReadRefusal };

/** What an inquiry asks of the firewall (the inquiry service keeps the inquiry itself, and its consent as evidence). */
export interface InquiryAsk {
  readonly inquiryId: string;
  readonly caseType: CaseType;
  readonly supplyPointId: string;
  /** The items asked for. */
  readonly items: readonly SupplyPointField[];
  readonly consent: Consent | null;
  /** Queued items the service centre has answered since (only those the case allows from the queue count). */
  readonly released?: readonly SupplyPointField[];
}

export type InquiryAnswerResult =
  | {
      readonly kind: 'answered';
      readonly view: RecordView;
      readonly consent: ConsentState;
      /** Asked items shown now; asked items for the service centre's queue; asked items this case never gives. */
      readonly atOnce: readonly SupplyPointField[];
      readonly queued: readonly SupplyPointField[];
      readonly never: readonly SupplyPointField[];
    }
  | { readonly kind: 'not_found' }
  | Limited
  | { readonly kind: 'refused'; readonly reason: 'permission_not_granted' | `consent_${ConsentProblem}` };

/** The contract holder's name at `at`, as the store holds it (null: nobody holds a contract). */
function holderAt(record: StoredSupplyPoint, at: Date): string | null {
  const v = recordValues(record, at)['holder_name'];
  return typeof v === 'string' ? v : null;
}

/**
 * The data-returning routes and the fields each serves. `gridwall verify` walks this list; a route that
 * returns customer data and is missing here fails the API test that compares it with the server's routes.
 * `via`: a record read under a declared purpose (the masking checklist's rows), or an inquiry's answer under
 * `inquiry_answer` (the inquiry checklist's rows: case × item × consent × requester).
 */
export const DATA_ROUTES: readonly {
  readonly route: string;
  readonly fields: readonly SupplyPointField[];
  readonly via: 'lookup' | 'inquiry';
  /** The route in words, for the access log screen and the checklist (issue 20: no route on a screen unnamed). */
  readonly ja: string;
  readonly en: string;
}[] = [
  { route: 'GET /api/supply-points/:id', fields: SUPPLY_POINT_FIELD_KEYS, via: 'lookup', ja: '供給地点の照会', en: 'Supply point look-up' },
  { route: 'GET /api/supply-points', fields: SEARCH_FIELDS, via: 'lookup', ja: '需要家の検索', en: 'Customer search' },
  {
    route: 'POST /api/inquiries',
    fields: SUPPLY_POINT_FIELD_KEYS,
    via: 'inquiry',
    ja: '送配電への照会（即時回答）',
    en: 'Inquiry to the network operator (answered at once)',
  },
  { route: 'POST /api/inquiries/batch', fields: SUPPLY_POINT_FIELD_KEYS, via: 'inquiry', ja: '一括照会', en: 'Batch inquiry' },
  { route: 'POST /api/inquiries/batch.csv', fields: SUPPLY_POINT_FIELD_KEYS, via: 'inquiry', ja: '一括照会（CSV）', en: 'Batch inquiry (CSV)' },
  { route: 'GET /api/inquiries/:id/answer', fields: SUPPLY_POINT_FIELD_KEYS, via: 'inquiry', ja: '照会への回答の閲覧', en: 'Inquiry answer read' },
];

const FIELD_INDEX = new Map(SUPPLY_POINT_FIELD_KEYS.map((f, i) => [f as string, i] as const));

/**
 * Decides every requested field of one record for one principal and masks it; also returns what the log
 * must keep about it. Pure: the firewall calls it and logs; property tests call it directly.
 */
export function viewRecord<F extends SupplyPointField>(
  table: DecisionTable,
  principal: PrincipalFacts,
  record: StoredSupplyPoint,
  fields: readonly F[],
  ctx: {
    readonly at: Date;
    readonly purpose: Purpose;
    readonly emergency: boolean;
    readonly networkOnly: MaskReason | null;
    /** Under an emergency: the fields the person is registered for (the table's emergency allowance narrowed to them). */
    readonly emergencyFields?: ReadonlySet<string> | null;
    /** Answering an inquiry: the fields its case and consent allow now (DecisionInput.inquiry). */
    readonly inquiryFields?: ReadonlySet<string> | null;
  },
): { view: RecordView<F>; logged: LoggedRecord } {
  const pc = principal.principalClass;
  const relation = relationAt(principal.assignment?.retailerCode ?? null, record.contracts, ctx.at);
  const values: Readonly<Record<string, unknown>> = recordValues(record, ctx.at);
  const all: Record<string, FieldView> = {};
  for (const f of fields) all[f] = { shown: true, value: values[f] ?? null };
  const shown: string[] = [];
  const masked: Record<string, MaskReason> = {};
  const view = applyDecisions(
    all,
    (f) => {
      const inquiry = ctx.inquiryFields?.has(f) ?? false;
      let d = narrow(table.lookup(pc, relation, FIELD_INDEX.get(f) ?? -1, ctx.emergency, ctx.purpose, inquiry), classify('supply_point', f), ctx.networkOnly);
      if (d.kind === 'allow' && d.basis === 'emergency' && !(ctx.emergencyFields?.has(f) ?? false)) d = { kind: 'mask', reason: 'outside_emergency_fields' };
      if (d.kind === 'allow') shown.push(f);
      else masked[f] = d.reason;
      return d;
    },
    pc,
  );
  const current = contractAt(record.contracts, ctx.at);
  return {
    // applyDecisions keeps every key of `all` — one per requested field, valued by recordValues — and only
    // ever replaces a view with a masked one: the fields of a RecordView<F>.
    view: { supplyPointId: record.id, fields: view as RecordView<F>['fields'] },
    logged: { supplyPointId: record.id, relation, retailerCode: retailerAt(record.contracts, ctx.at), lastResort: current?.lastResort ?? false, shown, masked },
  };
}

/**
 * What a logged event counted against the read limits where it was served (ReadLimiter's admissions): a
 * look-up one record, a search the rows it served, an answer with consent one answer, a consent that did not
 * hold one refusal; anything else nothing. For events of other server processes (issue 21).
 */
export function countedRead(e: AccessEvent): CountedRead | null {
  const base = { personId: e.personId, at: e.occurredAt };
  if (e.outcome === 'refused') return e.refusal?.startsWith('consent_') === true ? { kind: 'consent_refused', ...base } : null;
  if (e.outcome !== 'served') return null;
  const by = e.query['by'];
  if (by === 'inquiry') return e.query['consent'] === 'valid' ? { kind: 'inquiry_answer', ...base } : null;
  if (!isPurpose(e.purpose)) return null;
  if (by === 'id') return { kind: 'record', purpose: e.purpose, ...base };
  if (by === 'address' || by === 'holder_name' || by === 'phone') return { kind: 'rows', purpose: e.purpose, rows: e.records.length, ...base };
  return null;
}

/**
 * The one choke point: customer data leaves the store only through these functions, which decide each
 * field, mask, and write the access-log event before anything is returned. If the log write fails, the
 * call throws and nothing is returned.
 */
export class Firewall {
  readonly #db: Queryable;
  /**
   * Where searches find their candidate IDs: the read replica (DATABASE_REPLICA_URL; store/replica.ts), or `#db`.
   * Each candidate is confirmed and its record loaded on `#db`, the primary: what is decided is the latest contract.
   */
  readonly #searchDb: Queryable;
  readonly #findings: FindingSink;
  readonly #log: AccessLog;
  /** Rate and volume limits on reading, counted in this process with the reads other processes served (null: none — tests and benches that measure without them). */
  readonly #limiter: ReadLimiter | null;
  /** Bulk reading judged against the person's own baseline (reading-tally.ts), nudged after each served read; null: none. */
  readonly #watch: ReadingWatch | null;
  readonly table: DecisionTable;
  /** Seals what was searched for into the event (and opens it again for compliance). */
  readonly searchTerms: SearchTerms;

  constructor(
    db: Queryable,
    log: AccessLog,
    table: DecisionTable,
    searchTerms: SearchTerms,
    findings: FindingSink,
    limiter: ReadLimiter | null = null,
    watch: ReadingWatch | null = null,
    searchDb: Queryable = db,
  ) {
    this.#db = db;
    this.#searchDb = searchDb;
    this.#limiter = limiter;
    // Reads served by other server processes count against this process's limits as well (issue 21).
    if (limiter !== null)
      log.onOthers?.((events) => {
        for (const e of events) {
          const r = countedRead(e);
          if (r !== null) limiter.observe(r);
        }
      });
    this.#watch = watch;
    this.#findings = findings;
    this.#log = log;
    this.table = table;
    this.searchTerms = searchTerms;
  }

  async lookup(req: ReadRequest, supplyPointId: string): Promise<LookupResult> {
    // Every refusal keeps the supply point asked for (issue 14: a refused look-up was logged with no point,
    // so nobody could tell whose record someone without the grant had tried to open).
    const asked = { by: 'id', supplyPointId };
    const record = await this.#guarded(req, asked, async () => (await loadRecords(this.#db, [supplyPointId]))[0]);
    if (!holds(req.actor, 'customer.read')) {
      await this.#log.append(this.#event(req, 'refused', 'permission_not_granted', asked, record === undefined ? [] : [this.#nothingShown(req, record)]));
      return { kind: 'refused', reason: 'permission_not_granted' };
    }
    const gate = await this.#emergencyGate(req);
    const query = withStatedReason(req, { by: 'id' });
    if (record === undefined) {
      await this.#log.append(this.#event(req, 'refused', 'not_found', { ...query, supplyPointId }, []));
      return { kind: 'not_found' };
    }
    if (gate.kind === 'refused') {
      await this.#refuseEmergency(req, gate.reason, query, record);
      return { kind: 'refused', reason: gate.reason };
    }
    if (gate.kind === 'open') {
      const cover = emergencyCover(gate.registration, gate.declarations, locationOf(record), req.at);
      if (cover.kind === 'refused') {
        await this.#refuseEmergency(req, cover.reason, query, record);
        return { kind: 'refused', reason: cover.reason };
      }
    }
    const limited = await this.#limited(req, this.#limiter?.admitRecord(req.actor.personId, req.purpose, req.at) ?? null, query, record);
    if (limited !== null) return limited;
    const {
      views: [view],
    } = await this.#serve(req, [record], SUPPLY_POINT_FIELD_KEYS, query, gate);
    if (view === undefined) throw new Error('firewall produced no view for a loaded record');
    return { kind: 'served', view };
  }

  async search(req: ReadRequest, criteria: SearchCriteria, page: Page): Promise<SearchResult> {
    // The term goes into the event sealed, with a keyed hash to match on (audit/search-terms.ts), whatever
    // the outcome: a refused or zero-hit search by name or number is exactly what probing looks like.
    const term = this.searchTerms.seal(criteria.by, criteria.by === 'phone' ? criteria.digits : criteria.term);
    const plain = { by: criteria.by, limit: page.limit, offset: page.offset, ...(page.after === undefined ? {} : { after: page.after }), term };
    const probe = { ...page, limit: page.limit + 1 };
    if (!holds(req.actor, 'customer.read')) {
      await this.#log.append(this.#event(req, 'refused', 'permission_not_granted', plain, []));
      return { kind: 'refused', reason: 'permission_not_granted' };
    }
    const gate = await this.#emergencyGate(req);
    const query = withStatedReason(req, plain);
    if (gate.kind === 'refused') {
      await this.#refuseEmergency(req, gate.reason, query, null);
      return { kind: 'refused', reason: gate.reason };
    }
    const scope = criteria.by === 'address' ? null : this.searchScope(req.actor, req.purpose, criteria.by);
    if (scope?.kind === 'refused') {
      await this.#log.append(this.#event(req, 'refused', 'search_field_not_permitted', query, []));
      return { kind: 'refused', reason: 'search_field_not_permitted' };
    }
    const admission = this.#limiter?.admitSearch(req.actor.personId, req.purpose, req.at, page.limit) ?? null;
    const limited = await this.#limited(req, admission?.kind === 'limited' ? admission.hit : null, query, null);
    if (limited !== null) return limited;
    const reservation = admission?.kind === 'admitted' ? admission.reservation : null;
    try {
      const served = await this.#searchServed(req, criteria, scope, query, probe, page, gate);
      if (reservation !== null) this.#limiter?.searched(reservation, served.views.length);
      return served;
    } catch (e) {
      if (reservation !== null) this.#limiter?.searched(reservation, 0);
      throw e;
    }
  }

  /** A search admitted: the store searched, each record decided and masked, the event logged. */
  async #searchServed(
    req: ReadRequest,
    criteria: SearchCriteria,
    scope: ReturnType<Firewall['searchScope']> | null,
    query: Record<string, unknown>,
    probe: Page,
    page: Page,
    gate: EmergencyGate,
  ): Promise<Extract<SearchResult, { kind: 'served' }>> {
    const retailer: RetailerScope | null = scope?.kind === 'retailer' ? { retailerCode: scope.retailerCode } : null;
    const find = (db: Queryable, p: Page, among: readonly string[] | null) =>
      criteria.by === 'address'
        ? searchByAddress(db, criteria.term, p, among)
        : criteria.by === 'holder_name'
          ? searchByHolderName(db, criteria.term, req.at, retailer, p, among)
          : searchByPhone(db, criteria.digits, req.at, retailer, p, among);
    const records: StoredSupplyPoint[] = [];
    let hasMore = false;
    let at: Page = probe;
    // Candidates left out below (gone stale on the replica, or not shown by the defence in depth) are made up
    // for from the ones after them — a few rounds at most — so a page is not short, and a client paging with
    // `after` (the last item served) never meets a page that has more but nothing to continue from.
    for (let round = 0; round < SEARCH_REFILL_ROUNDS && records.length < page.limit; round++) {
      const want = page.limit - records.length;
      const found = await this.#guarded(req, query, () => find(this.#searchDb, { ...at, limit: want + 1 }, null));
      hasMore = found.length > want;
      const candidates = found.slice(0, want);
      // Found on a replica, the candidates are searched again on the primary among those IDs: a point that no
      // longer matches there (a holder or contract changed seconds ago) is left out; one added since may be missing.
      const ids =
        this.#searchDb === this.#db || candidates.length === 0
          ? candidates
          : await this.#guarded(req, query, () => find(this.#db, { limit: candidates.length, offset: 0 }, candidates));
      let loaded = await this.#guarded(req, query, () => loadRecords(this.#db, ids));
      if (criteria.by !== 'address') {
        // Defence in depth: a record matches a search by a non-public field only if that field is shown.
        const field = criteria.by;
        loaded = loaded.filter((r) => this.#decide(req, r, field).kind === 'allow');
      }
      records.push(...loaded);
      const last = candidates.at(-1);
      if (!hasMore || loaded.length === candidates.length || last === undefined) break;
      at = { limit: 0, offset: 0, after: last };
    }
    const { views, outsideArea, requestId } = await this.#serve(req, records, SEARCH_FIELDS, query, gate);
    if (gate.kind === 'open' && views.length > 0 && outsideArea === views.length) await this.#searchedOutsideArea(req, gate, outsideArea, requestId);
    return { kind: 'served', views, hasMore };
  }

  /**
   * The answer to an inquiry (issue 18), as far as it can be given at once: the record with the items the
   * inquiry's case allows with the customer's consent shown — the asked ones, and those the service centre
   * has since released from the queue — under the purpose `inquiry_answer`, logged with the inquiry's id like
   * any read. The consent is checked against the contract holder here, inside the one choke point; since the
   * check itself tells whether a name is the holder's, a consent that does not hold is a refused read, logged
   * with the inquiry and the problem (never the name given).
   */
  async answerInquiry(req: ReadRequest, ask: InquiryAsk): Promise<InquiryAnswerResult> {
    const [result] = await this.answerInquiries(req, [ask]);
    if (result === undefined) throw new Error('firewall produced no answer for an inquiry');
    return result;
  }

  /**
   * Many inquiries of one requester at once (a batch of switching cases): the records loaded in one query,
   * one event per inquiry, all appended together and awaited as one group commit. Answers in `asks` order.
   * `alongside` (the inquiry service's own write of the inquiries) runs beside the log's commit, given the
   * results; nothing is returned unless both succeed, so no answer leaves without its event. (A failed commit
   * with a succeeded write leaves inquiries whose answer never left: the log, which has no event for them, is
   * what says what was served.)
   */
  async answerInquiries(
    req: ReadRequest,
    asks: readonly InquiryAsk[],
    alongside?: (results: readonly InquiryAnswerResult[]) => Promise<void>,
  ): Promise<InquiryAnswerResult[]> {
    const read: ReadRequest = { ...req, purpose: 'inquiry_answer' };
    const queryOf = (ask: InquiryAsk) => ({
      by: 'inquiry',
      inquiryId: ask.inquiryId,
      caseType: ask.caseType,
      supplyPointId: ask.supplyPointId,
      items: [...ask.items],
    });
    const ids = [...new Set(asks.map((a) => a.supplyPointId))];
    const loaded = await this.#guarded(read, { by: 'inquiry', inquiries: asks.map((a) => a.inquiryId) }, () => loadRecords(this.#db, ids));
    const records = new Map(loaded.map((r) => [r.id, r]));
    const mayRead = holds(req.actor, 'customer.read');
    const events: AccessEvent[] = [];
    const limits: NewFinding[] = [];
    /** An answer refused by a limit: a refused event, and the finding the first time in its window. */
    const limitedAnswer = (hit: LimitHit, query: Record<string, unknown>, record: StoredSupplyPoint): Limited => {
      const event = this.#event(read, 'refused', hit.rule, query, [this.#nothingShown(read, record)]);
      events.push(event);
      if (hit.raise) limits.push(this.#limitFinding(read, hit, event, record));
      return { kind: 'limited', refusal: readLimited(hit) };
    };
    const results = asks.map((ask): InquiryAnswerResult => {
      const query = queryOf(ask);
      const record = records.get(ask.supplyPointId);
      if (!mayRead) {
        events.push(this.#event(read, 'refused', 'permission_not_granted', query, record === undefined ? [] : [this.#nothingShown(read, record)]));
        return { kind: 'refused', reason: 'permission_not_granted' };
      }
      if (record === undefined) {
        events.push(this.#event(read, 'refused', 'not_found', query, []));
        return { kind: 'not_found' };
      }
      let consent: ConsentState = 'none';
      if (ask.consent !== null) {
        // The check tells whether a name is the holder's (docs/SECURITY.md): past the person's refused checks
        // of a day it is not made at all, so names cannot be tried one after another.
        const hit = this.#limiter?.admitConsentCheck(req.actor.personId, req.at) ?? null;
        if (hit !== null) return limitedAnswer(hit, query, record);
        const problem = consentProblem(ask.consent, holderAt(record, req.at), req.at, ask.caseType);
        if (problem !== null) {
          this.#limiter?.consentRefused(req.actor.personId, req.at);
          events.push(this.#event(read, 'refused', `consent_${problem}`, query, [this.#nothingShown(read, record)]));
          return { kind: 'refused', reason: `consent_${problem}` };
        }
        consent = 'valid';
        // Answers with consent have a volume of their own (a retailer's batch of 2,000 is a day's work; more
        // than the limit a day is not), counted per person (a system: its service account's person).
        const answerHit = this.#limiter?.admitInquiryAnswer(req.actor.personId, req.at) ?? null;
        if (answerHit !== null) return limitedAnswer(answerHit, query, record);
      }
      const by = (a: Answering) => ask.items.filter((f) => answering(ask.caseType, f, consent) === a);
      const atOnce = by('at_once');
      const released = (ask.released ?? []).filter((f) => answering(ask.caseType, f, consent) === 'queue');
      const out = viewRecord(this.table, read.actor.principal, record, SUPPLY_POINT_FIELD_KEYS, {
        at: req.at,
        purpose: 'inquiry_answer',
        emergency: false,
        networkOnly: networkOnlyGateOf(req.actor),
        inquiryFields: new Set<string>([...atOnce, ...released]),
      });
      events.push(this.#event(read, 'served', null, { ...query, consent, released }, [out.logged]));
      return { kind: 'answered', view: out.view, consent, atOnce, queued: by('queue').filter((f) => !released.includes(f)), never: by('never') };
    });
    await Promise.all([...events.map((e) => this.#log.append(e)), alongside?.(results)]);
    if (results.some((r) => r.kind === 'answered')) this.#watch?.nudge();
    for (const f of limits) await this.#findings.raise(f);
    return results;
  }

  /**
   * Which supply points a principal may search by a non-public field: those on which the table lets them
   * see that field. Derived from the table, so search can never disclose more than the record screen.
   */
  searchScope(
    actor: Actor,
    purpose: Purpose,
    field: 'holder_name' | 'phone',
  ): { kind: 'all' } | { kind: 'retailer'; retailerCode: string } | { kind: 'refused' } {
    const fi = FIELD_INDEX.get(field) ?? -1;
    const allowed = new Set<Relation>(RELATIONS.filter((r) => this.table.lookup(actor.principal.principalClass, r, fi, false, purpose).kind === 'allow'));
    if (allowed.size === RELATIONS.length) return { kind: 'all' };
    const retailerCode = actor.principal.assignment?.retailerCode ?? null;
    if (allowed.size === 1 && allowed.has('own') && retailerCode !== null) return { kind: 'retailer', retailerCode };
    return { kind: 'refused' };
  }

  #decide(req: ReadRequest, record: StoredSupplyPoint, field: string): Decision {
    const principal = req.actor.principal;
    const relation = relationAt(principal.assignment?.retailerCode ?? null, record.contracts, req.at);
    // Searching by a non-public field is never an emergency allowance (searchScope refuses it under that purpose).
    const d = this.table.lookup(principal.principalClass, relation, FIELD_INDEX.get(field) ?? -1, false, req.purpose);
    return narrow(d, classify('supply_point', field), networkOnlyGateOf(req.actor));
  }

  /**
   * Under the `emergency_support` purpose: a stated reason, a registration and the grant `emergency.support`
   * in force, and some declaration in force — or the refusal. Read from the store at the instant of the
   * read, so a window that has ended gives nothing without any job having run. Other purposes: `none`.
   */
  async #emergencyGate(req: ReadRequest): Promise<EmergencyGate> {
    if (req.purpose !== 'emergency_support') return { kind: 'none' };
    const reason = req.statedReason?.trim() ?? '';
    if (reason === '') return { kind: 'refused', reason: 'reason_required' };
    const [registration, declarations] = await Promise.all([registrationAt(this.#db, req.actor.personId, req.at), declarationsInForce(this.#db, req.at)]);
    if (registration === null || !holds(req.actor, 'emergency.support')) return { kind: 'refused', reason: 'not_emergency_support' };
    if (!anyInForce(declarations, req.at)) return { kind: 'refused', reason: 'no_active_emergency' };
    return { kind: 'open', registration, declarations, reason };
  }

  /**
   * Runs a read of the store; if it fails, the attempt is still logged — refused, `read_failed`, with what
   * was asked — before the failure goes on (issue 14: a search that failed in the store left no event). If
   * the log cannot be written either, the original failure is what the caller sees.
   */
  async #guarded<T>(req: ReadRequest, query: Record<string, unknown>, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      await this.#log.append(this.#event(req, 'refused', 'read_failed', query, [])).catch(() => undefined);
      throw e;
    }
  }

  /** A record as logged when nothing of it was shown: the point, its relation and retailer at that moment. */
  #nothingShown(req: ReadRequest, record: StoredSupplyPoint): LoggedRecord {
    return viewRecord(this.table, req.actor.principal, record, [], { at: req.at, purpose: req.purpose, emergency: false, networkOnly: null }).logged;
  }

  /**
   * Logs a refused emergency-support read (with the supply point asked for, nothing shown) and raises it as
   * a finding: emergency rights used outside a window or area, or by someone not registered, is what F3 was.
   */
  async #refuseEmergency(req: ReadRequest, reason: EmergencyReadRefusal, query: Record<string, unknown>, record: StoredSupplyPoint | null): Promise<void> {
    const logged = record === null ? [] : [this.#nothingShown(req, record)];
    const event = this.#event(req, 'refused', reason, query, logged);
    await this.#log.append(event);
    if (reason === 'reason_required') return; // a form left empty, not a use of emergency rights
    const what = record === null ? '住所検索' : `供給地点 ${record.id} の照会`;
    await this.#findings.raise({
      rule: reason === 'not_emergency_support' ? 'emergency_not_registered' : 'emergency_outside_window',
      severity: reason === 'not_emergency_support' ? 'medium' : 'high',
      occurredAt: req.at,
      detectedAt: req.at,
      source: 'live',
      subjectPersonId: req.actor.personId,
      subjectUserId: req.actor.userId,
      summary: `${req.actor.personName}（${req.actor.userId ?? req.actor.personId}）が非常災害時の支援目的で${what}を試みました：${EMERGENCY_REFUSAL_LABELS[reason].ja}`,
      evidence: {
        requestId: event.requestId,
        route: req.route,
        refusal: reason,
        supplyPointId: record?.id ?? null,
        statedReason: query['reason'] ?? null,
        terminalId: req.actor.terminalId,
      },
    });
  }

  /**
   * An emergency-support search whose every hit lies outside the declarations' areas: served as an ordinary
   * read (no emergency allowance, so masked as the person's own policy says), and raised at once as what the
   * scan's `emergency_outside_window` is about — emergency rights used outside their area (F3) — folded into
   * the person's open finding like the refused look-ups.
   */
  async #searchedOutsideArea(req: ReadRequest, gate: Extract<EmergencyGate, { kind: 'open' }>, outsideArea: number, requestId: string): Promise<void> {
    await this.#findings.raise({
      rule: 'emergency_outside_window',
      severity: 'high',
      occurredAt: req.at,
      detectedAt: req.at,
      source: 'live',
      subjectPersonId: req.actor.personId,
      subjectUserId: req.actor.userId,
      summary: `${req.actor.personName}（${req.actor.userId ?? req.actor.personId}）が非常災害時の支援目的で住所検索を行い、該当した ${outsideArea} 件がすべて${EMERGENCY_REFUSAL_LABELS.outside_emergency_area.ja}（支援目的の表示はしていません）`,
      evidence: {
        requestId,
        route: req.route,
        refusal: 'outside_emergency_area',
        outsideArea,
        supplyPointId: null,
        statedReason: gate.reason,
        terminalId: req.actor.terminalId,
      },
    });
  }

  /**
   * A read over a limit: logged as refused under the limit's rule (with the supply point asked for, nothing
   * shown) and, the first time in its window, raised as a live finding — one per window, not one per
   * refused read. High under `emergency_support` (the Tohoku pattern), medium otherwise.
   */
  async #limited(req: ReadRequest, hit: LimitHit | null, query: Record<string, unknown>, record: StoredSupplyPoint | null): Promise<Limited | null> {
    if (hit === null) return null;
    const event = this.#event(req, 'refused', hit.rule, query, record === null ? [] : [this.#nothingShown(req, record)]);
    await this.#log.append(event);
    if (hit.raise) await this.#findings.raise(this.#limitFinding(req, hit, event, record));
    return { kind: 'limited', refusal: readLimited(hit) };
  }

  #limitFinding(req: ReadRequest, hit: LimitHit, event: AccessEvent, record: StoredSupplyPoint | null): NewFinding {
    const label = READ_LIMIT_LABELS[hit.rule].ja;
    return {
      rule: hit.rule,
      severity: req.purpose === 'emergency_support' ? 'high' : 'medium',
      occurredAt: req.at,
      detectedAt: req.at,
      source: 'live',
      subjectPersonId: req.actor.personId,
      subjectUserId: req.actor.userId,
      summary: `${req.actor.personName}（${req.actor.userId ?? req.actor.personId}）が${label}（${hit.limit}件）を超えて照会しようとしました（利用目的：${PURPOSE_LABELS[req.purpose].ja}）。以後の照会は拒否しています`,
      evidence: {
        requestId: event.requestId,
        route: req.route,
        purpose: req.purpose,
        refusal: hit.rule,
        limit: hit.limit,
        windowSeconds: hit.windowSeconds,
        supplyPointId: record?.id ?? null,
        terminalId: req.actor.terminalId,
      },
    };
  }

  async #serve<F extends SupplyPointField>(
    req: ReadRequest,
    records: readonly StoredSupplyPoint[],
    fields: readonly F[],
    query: Record<string, unknown>,
    gate: EmergencyGate,
  ): Promise<{ views: RecordView<F>[]; outsideArea: number; requestId: string }> {
    const views: RecordView<F>[] = [];
    const logged: LoggedRecord[] = [];
    let emergencyId: string | null = null;
    let outsideArea = 0;
    const networkOnly = networkOnlyGateOf(req.actor);
    for (const record of records) {
      const cover: EmergencyCover | null = gate.kind === 'open' ? emergencyCover(gate.registration, gate.declarations, locationOf(record), req.at) : null;
      const covered = cover?.kind === 'covered' ? cover : null;
      if (covered !== null) emergencyId ??= covered.declarationId;
      else if (cover !== null) outsideArea++;
      const out = viewRecord(this.table, req.actor.principal, record, fields, {
        at: req.at,
        purpose: req.purpose,
        emergency: covered !== null,
        networkOnly,
        emergencyFields: covered === null ? null : new Set<string>(covered.fields),
      });
      views.push(out.view);
      logged.push(out.logged);
    }
    const event = { ...this.#event(req, 'served', null, query, logged), emergencyId };
    await this.#log.append(event);
    this.#watch?.nudge();
    return { views, outsideArea, requestId: event.requestId };
  }

  #event(
    req: ReadRequest,
    outcome: 'served' | 'refused',
    refusal: AccessRefusal | null,
    query: Record<string, unknown>,
    records: readonly LoggedRecord[],
  ): AccessEvent {
    const a = req.actor.principal.assignment;
    return {
      occurredAt: req.at,
      requestId: req.requestId ?? randomUUID(),
      personId: req.actor.personId,
      userId: req.actor.userId,
      sessionId: req.actor.sessionId,
      principalClass: req.actor.principal.principalClass,
      side: a?.side ?? null,
      organizationId: a?.organizationId ?? null,
      employment: a?.employment ?? null,
      office: a?.office ?? null,
      terminalId: req.actor.terminalId,
      route: req.route,
      purpose: req.purpose,
      outcome,
      refusal,
      // A read through an API token names the token and the person who answers for its service account.
      query: req.actor.token === null ? query : { ...query, token: { id: req.actor.token.id, owner: req.actor.token.ownerPersonId } },
      records,
      policyVersion: this.table.version,
      emergencyId: null,
    };
  }
}
