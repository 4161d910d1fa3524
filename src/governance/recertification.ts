import { holds, type Actor } from '../domain/actor.ts';
import { dateOrNull, type Db, type Queryable } from '../store/db.ts';
import { recordGovernance } from '../audit/governance-log.ts';
import { GrantRefusal, personActor, revokeGrant } from './grant-service.ts';

/**
 * Recertification campaigns. Each approved grant gets a reviewer — the person who approved it, or, when that
 * account can no longer approve, any approver for the holder's organization — who confirms or revokes it. A
 * grant left unreviewed stops counting at the campaign's end: the session's grant query reads the deadline,
 * so nothing has to run at the end for it to happen.
 */
export interface CampaignRow {
  readonly id: number;
  readonly name: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly endsAt: Date;
  readonly items: number;
  readonly confirmed: number;
  readonly revoked: number;
  readonly open: number;
}

export interface ItemRow {
  readonly campaignId: number;
  readonly grantId: number;
  readonly userId: string;
  readonly personId: string;
  readonly personName: string;
  readonly permissionId: string;
  readonly scopeOrganizationId: string | null;
  readonly holderOrganizationId: string | null;
  readonly reviewerUserId: string | null;
  readonly decision: 'confirmed' | 'revoked' | null;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly comment: string | null;
  readonly grantExpiresAt: Date;
}

export class Recertification {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Starts a campaign over every approved grant (or those of the given permissions). Access administration only. */
  async start(actor: Actor, spec: { name: string; endsAt: Date; permissionIds?: readonly string[] }, at: Date): Promise<CampaignRow> {
    if (!holds(actor, 'access.admin')) throw new GrantRefusal('not_permitted', 'starting a recertification campaign needs access.admin');
    if (spec.endsAt.getTime() <= at.getTime()) throw new GrantRefusal('expiry_invalid', 'a campaign ends after it starts');
    return this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        'INSERT INTO recert_campaigns (name, created_by, created_at, ends_at) VALUES ($1, $2, $3, $4) RETURNING id',
        [spec.name, actor.userId, at, spec.endsAt],
      );
      const id = Number(rows[0]?.id);
      // Reviewer: the approver, if that account is still enabled, is not the holder and still holds grants.approve
      // for the holder's organization; otherwise any approver in scope.
      const inserted = await tx.query(
        `INSERT INTO recert_items (campaign_id, grant_id, reviewer_user_id)
         SELECT $1, g.id,
                CASE WHEN EXISTS (SELECT 1 FROM accounts ra JOIN accounts ha ON ha.user_id = g.user_id
                                   WHERE ra.user_id = g.decided_by AND ra.disabled_at IS NULL AND ra.person_id <> ha.person_id
                                     AND EXISTS (SELECT 1 FROM grants ag WHERE ag.user_id = ra.user_id AND ag.permission_id = 'grants.approve'
                                                  AND ag.status = 'approved' AND ag.expires_at > $2
                                                  AND (ag.scope_organization_id IS NULL OR ag.scope_organization_id IN (
                                                        SELECT s.organization_id FROM staff_assignments s WHERE s.person_id = ha.person_id
                                                           AND s.valid_from <= $2 AND (s.valid_to IS NULL OR s.valid_to > $2)))))
                     THEN g.decided_by END
           FROM grants g
          WHERE g.status = 'approved' AND g.expires_at > $2 AND ($3::text[] IS NULL OR g.permission_id = ANY($3::text[]))
         RETURNING grant_id`,
        [id, at, spec.permissionIds === undefined ? null : [...spec.permissionIds]],
      );
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: 'campaign.start',
        subjectType: 'campaign',
        subjectId: String(id),
        outcome: 'done',
        details: { name: spec.name, endsAt: spec.endsAt.toISOString(), items: inserted.rows.length, permissionIds: spec.permissionIds ?? null },
      });
      const [c] = await listCampaigns(tx, id);
      if (c === undefined) throw new Error('campaign vanished');
      return c;
    });
  }

  /**
   * Confirms or revokes one grant of a campaign. The reviewer decides; when the item has none, any person
   * holding grants.approve for the holder's organization. Nobody reviews their own grant.
   */
  async decide(actor: Actor, campaignId: number, grantId: number, decision: 'confirmed' | 'revoked', comment: string | null, at: Date): Promise<ItemRow> {
    return this.#db.transaction(async (tx) => {
      const [item] = await listItems(tx, campaignId, at, { grantId });
      if (item === undefined) throw new GrantRefusal('not_pending', `grant ${grantId} is not in campaign ${campaignId}`);
      if (item.decision !== null) throw new GrantRefusal('not_pending', `grant ${grantId} was already ${item.decision} in this campaign`);
      const ends = await tx.query<{ ends_at: Date | string }>('SELECT ends_at FROM recert_campaigns WHERE id = $1', [campaignId]);
      if (new Date(ends.rows[0]?.ends_at ?? 0).getTime() <= at.getTime())
        throw new GrantRefusal('not_pending', `campaign ${campaignId} has ended; unreviewed grants have lapsed`);
      if (item.personId === actor.personId) throw new GrantRefusal('self_grant', `${actor.userId} may not review their own grant`);
      const mayReview =
        item.reviewerUserId !== null
          ? item.reviewerUserId === actor.userId
          : item.holderOrganizationId !== null && holds(actor, 'grants.approve', item.holderOrganizationId);
      if (!mayReview)
        throw new GrantRefusal(
          'not_an_approver',
          item.reviewerUserId !== null
            ? `grant ${grantId} is for ${item.reviewerUserId} to review`
            : `${actor.userId} may not approve grants for ${item.holderOrganizationId ?? 'a leaver'}`,
        );
      await tx.query('UPDATE recert_items SET decision = $3, decided_by = $4, decided_at = $5, comment = $6 WHERE campaign_id = $1 AND grant_id = $2', [
        campaignId,
        grantId,
        decision,
        actor.userId,
        at,
        comment,
      ]);
      if (decision === 'revoked') await revokeGrant(tx, grantId, personActor(actor), `recertification ${campaignId}: ${comment ?? 'not confirmed'}`, at, null);
      await recordGovernance(tx, {
        at,
        actor: personActor(actor),
        action: `campaign.${decision === 'confirmed' ? 'confirm' : 'revoke'}`,
        subjectType: 'grant',
        subjectId: String(grantId),
        outcome: 'done',
        details: { campaignId, comment },
      });
      const [after] = await listItems(tx, campaignId, at, { grantId });
      if (after === undefined) throw new Error('item vanished');
      return after;
    });
  }
}

export async function listCampaigns(q: Queryable, id?: number): Promise<CampaignRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT c.id, c.name, c.created_by, c.created_at, c.ends_at,
            count(i.grant_id) AS items, count(*) FILTER (WHERE i.decision = 'confirmed') AS confirmed,
            count(*) FILTER (WHERE i.decision = 'revoked') AS revoked, count(*) FILTER (WHERE i.grant_id IS NOT NULL AND i.decision IS NULL) AS open
       FROM recert_campaigns c LEFT JOIN recert_items i ON i.campaign_id = c.id
      WHERE ($1::bigint IS NULL OR c.id = $1)
      GROUP BY c.id ORDER BY c.id DESC`,
    [id ?? null],
  );
  return rows.map((r) => ({
    id: Number(r['id']),
    name: String(r['name']),
    createdBy: String(r['created_by']),
    createdAt: new Date(r['created_at'] as string),
    endsAt: new Date(r['ends_at'] as string),
    items: Number(r['items']),
    confirmed: Number(r['confirmed']),
    revoked: Number(r['revoked']),
    open: Number(r['open']),
  }));
}

export async function listItems(q: Queryable, campaignId: number, at: Date, f: { grantId?: number; reviewer?: string } = {}): Promise<ItemRow[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT i.campaign_id, i.grant_id, g.user_id, a.person_id, p.name AS person_name, g.permission_id, g.scope_organization_id, s.organization_id AS holder_org,
            i.reviewer_user_id, i.decision, i.decided_by, i.decided_at, i.comment, g.expires_at
       FROM recert_items i JOIN grants g ON g.id = i.grant_id JOIN accounts a ON a.user_id = g.user_id JOIN persons p ON p.id = a.person_id
       LEFT JOIN LATERAL (SELECT organization_id FROM staff_assignments s WHERE s.person_id = a.person_id AND s.valid_from <= $2 AND (s.valid_to IS NULL OR s.valid_to > $2) LIMIT 1) s ON true
      WHERE i.campaign_id = $1 AND ($3::bigint IS NULL OR i.grant_id = $3) AND ($4::text IS NULL OR i.reviewer_user_id = $4)
      ORDER BY i.grant_id`,
    [campaignId, at, f.grantId ?? null, f.reviewer ?? null],
  );
  return rows.map((r) => ({
    campaignId: Number(r['campaign_id']),
    grantId: Number(r['grant_id']),
    userId: String(r['user_id']),
    personId: String(r['person_id']),
    personName: String(r['person_name']),
    permissionId: String(r['permission_id']),
    scopeOrganizationId: (r['scope_organization_id'] as string | null) ?? null,
    holderOrganizationId: (r['holder_org'] as string | null) ?? null,
    reviewerUserId: (r['reviewer_user_id'] as string | null) ?? null,
    decision: (r['decision'] as ItemRow['decision']) ?? null,
    decidedBy: (r['decided_by'] as string | null) ?? null,
    decidedAt: dateOrNull(r['decided_at']),
    comment: (r['comment'] as string | null) ?? null,
    grantExpiresAt: new Date(r['expires_at'] as string),
  }));
}
