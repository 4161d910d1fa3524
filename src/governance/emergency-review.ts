import type { Actor } from '../domain/actor.ts';
import { holds } from '../domain/actor.ts';
import { windowOf } from '../domain/emergency.ts';
import { recordGovernance } from '../audit/governance-log.ts';
import type { Db } from '../store/db.ts';
import { loadDeclaration } from '../store/emergency-store.ts';
import { declarationViews, lockedView, type DeclarationView } from './emergency-declarations.ts';
import { EmergencyActionRefused, guarded } from './emergency-refusals.ts';
import { personActor } from './grant-service.ts';

/**
 * After an emergency: every read made under the declaration and every emergency-support read refused during
 * its window, for review; compliance — someone who neither declared nor confirmed it — signs the review off.
 */

/** One read made under a declaration, for the review. */
export interface ReviewRead {
  readonly seq: number;
  readonly occurredAt: Date;
  readonly requestId: string;
  readonly personId: string;
  readonly userId: string | null;
  readonly organizationId: string | null;
  readonly employment: string | null;
  readonly office: string | null;
  readonly terminalId: string | null;
  readonly route: string;
  readonly outcome: string;
  readonly refusal: string | null;
  readonly statedReason: string | null;
  readonly supplyPoints: readonly { readonly supplyPointId: string; readonly shown: readonly string[] }[];
}

export interface Review {
  readonly declaration: DeclarationView;
  /** Every read logged with this declaration's id. */
  readonly reads: readonly ReviewRead[];
  /** Emergency-support reads refused during the window (outside the area, unregistered people, …). */
  readonly refused: readonly ReviewRead[];
  readonly summary: { readonly reads: number; readonly people: number; readonly supplyPoints: number; readonly refused: number };
}

export class EmergencyReviews {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Every read logged under the declaration, and the emergency-support reads refused during its window. */
  async review(id: string, at: Date): Promise<Review | null> {
    const [declaration] = await declarationViews(this.#db, [id], at);
    if (declaration === undefined) return null;
    const loaded = await loadDeclaration(this.#db, id);
    const w = loaded === null ? null : windowOf(loaded.declaration, loaded.lines);
    const select = `SELECT seq::text AS seq, occurred_at, request_id, person_id, user_id, organization_id, employment, office, terminal_id, route, outcome, refusal, query, records FROM access_log`;
    const reads = await this.#db.query<Record<string, unknown>>(`${select} WHERE emergency_id = $1 ORDER BY access_log.seq`, [id]);
    const refused =
      w === null
        ? { rows: [] }
        : await this.#db.query<Record<string, unknown>>(
            `${select} WHERE occurred_at >= $1 AND occurred_at < $2 AND purpose = 'emergency_support' AND outcome = 'refused' ORDER BY access_log.seq`,
            [w.from, w.to],
          );
    const toRead = (r: Record<string, unknown>): ReviewRead => {
      const query = (typeof r['query'] === 'string' ? JSON.parse(r['query']) : r['query']) as Record<string, unknown>;
      const records = (typeof r['records'] === 'string' ? JSON.parse(r['records']) : r['records']) as { supplyPointId: string; shown: string[] }[];
      return {
        seq: Number(r['seq']),
        occurredAt: new Date(r['occurred_at'] as string),
        requestId: String(r['request_id']),
        personId: String(r['person_id']),
        userId: (r['user_id'] as string | null) ?? null,
        organizationId: (r['organization_id'] as string | null) ?? null,
        employment: (r['employment'] as string | null) ?? null,
        office: (r['office'] as string | null) ?? null,
        terminalId: (r['terminal_id'] as string | null) ?? null,
        route: String(r['route']),
        outcome: String(r['outcome']),
        refusal: (r['refusal'] as string | null) ?? null,
        statedReason: typeof query['reason'] === 'string' ? query['reason'] : null,
        supplyPoints: records.map((x) => ({ supplyPointId: x.supplyPointId, shown: x.shown })),
      };
    };
    const readRows = reads.rows.map(toRead);
    const refusedRows = refused.rows.map(toRead);
    return {
      declaration,
      reads: readRows,
      refused: refusedRows,
      summary: {
        reads: readRows.length,
        people: new Set(readRows.map((r) => r.personId)).size,
        supplyPoints: new Set(readRows.flatMap((r) => r.supplyPoints.map((s) => s.supplyPointId))).size,
        refused: refusedRows.length,
      },
    };
  }

  /**
   * Compliance signs the review off once the window is over: someone holding audit.read who neither
   * declared nor confirmed the emergency.
   */
  async signOff(actor: Actor, id: string, comment: string, at: Date): Promise<DeclarationView> {
    return guarded(this.#db, actor, at, { action: 'emergency.sign_off', subjectType: 'emergency', subjectId: id, details: { comment } }, async (tx) => {
      if (!holds(actor, 'audit.read')) throw new EmergencyActionRefused('not_compliance', 'the review is signed off by compliance (grant audit.read)');
      const d = await lockedView(tx, id, at);
      if (d.status !== 'confirmed') throw new EmergencyActionRefused('nothing_to_review', `${id} was never in force (${d.status})`);
      if (d.state !== 'ended') throw new EmergencyActionRefused('not_over', `${id} is ${d.state}; the review is signed off after the emergency`);
      if (d.declaredByPerson === actor.personId || d.decidedByPerson === actor.personId) {
        throw new EmergencyActionRefused('not_independent', 'whoever declared or confirmed the emergency does not sign off its review');
      }
      if (d.signedOffAt !== null) throw new EmergencyActionRefused('already_signed_off', `${id} was signed off at ${d.signedOffAt.toISOString()}`);
      await tx.query(
        'UPDATE emergency_declarations SET signed_off_by = $2, signed_off_by_person = $3, signed_off_at = $4, sign_off_comment = $5 WHERE id = $1',
        [id, actor.userId, actor.personId, at, comment],
      );
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'emergency.sign_off',
        subjectType: 'emergency',
        subjectId: id,
        outcome: 'done',
        details: { comment },
      });
      return lockedView(tx, id, at);
    });
  }
}
