import type { Queryable } from '../store/db.ts';

/**
 * In-app notifications: what changed for a person (an inquiry answered, asked back, refused). Written in the
 * transaction of the change; read and marked read by their person only. Never customer data: a subject's id
 * and a sentence.
 */
export interface Notification {
  readonly id: number;
  readonly at: Date;
  readonly kind: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly text: { readonly ja: string; readonly en: string };
  readonly read: boolean;
}

export async function listNotifications(
  q: Queryable,
  personId: string,
  opts: { unreadOnly: boolean; limit: number; offset: number },
): Promise<{ unread: number; notifications: Notification[] }> {
  const [{ rows }, unread] = await Promise.all([
    q.query<Record<string, unknown>>(
      `SELECT id, at, kind, subject_type, subject_id, text_ja, text_en, read_at FROM notifications
        WHERE person_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL) ORDER BY id DESC LIMIT $3 OFFSET $4`,
      [personId, opts.unreadOnly, opts.limit, opts.offset],
    ),
    q.query<{ n: string }>('SELECT count(*) AS n FROM notifications WHERE person_id = $1 AND read_at IS NULL', [personId]),
  ]);
  return {
    unread: Number(unread.rows[0]?.n ?? 0),
    notifications: rows.map((r) => ({
      id: Number(r['id']),
      at: new Date(r['at'] as string),
      kind: String(r['kind']),
      subjectType: String(r['subject_type']),
      subjectId: String(r['subject_id']),
      text: { ja: String(r['text_ja']), en: String(r['text_en']) },
      read: r['read_at'] !== null,
    })),
  };
}

/** Marks the person's own notifications read (another person's ids are ignored). */
export async function markNotificationsRead(q: Queryable, personId: string, ids: readonly number[], at: Date): Promise<void> {
  await q.query('UPDATE notifications SET read_at = $3 WHERE person_id = $1 AND id = ANY($2::bigint[]) AND read_at IS NULL', [personId, [...ids], at]);
}
