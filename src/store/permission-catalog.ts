import { PERMISSION_CATALOG, PERMISSION_IDS } from '../domain/permissions.ts';
import type { Queryable } from './db.ts';

/**
 * Writes the catalog into the store (foreign keys and SQL reports read it there). Idempotent, and writes only
 * the entries that differ, so a start with the catalog in step writes nothing.
 */
export async function syncPermissionCatalog(db: Queryable): Promise<void> {
  const { rows } = await db.query<{ id: string; name_ja: string; name_en: string; allowed_sides: string[]; scoped: boolean; max_days: number }>(
    'SELECT id, name_ja, name_en, allowed_sides, scoped, max_days FROM permissions',
  );
  const stored = new Map(rows.map((r) => [r.id, JSON.stringify([r.name_ja, r.name_en, r.allowed_sides, r.scoped, r.max_days])]));
  for (const id of PERMISSION_IDS) {
    const p = PERMISSION_CATALOG[id];
    if (stored.get(id) === JSON.stringify([p.name, p.nameEn, [...p.allowedSides], p.scoped, p.maxDays])) continue;
    await db.query(
      `INSERT INTO permissions (id, name_ja, name_en, allowed_sides, scoped, max_days) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, allowed_sides = excluded.allowed_sides,
         scoped = excluded.scoped, max_days = excluded.max_days`,
      [p.id, p.name, p.nameEn, [...p.allowedSides], p.scoped, p.maxDays],
    );
  }
}
