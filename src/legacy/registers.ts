import { DAY_MS } from '../domain/japan-time.ts';
import { isSide } from '../domain/organization.ts';
import { parseSides, type GrantRecord, type StaffPeriod } from '../governance/grant-rules.ts';
import type { PermissionSpec } from '../domain/permissions.ts';
import type { IncompatiblePair } from '../domain/separation-of-duties.ts';
import { basename } from 'node:path';
import { parseLegacyTime, readCsvFile, type CsvSource, type RejectedRow } from './csv-file.ts';

export interface Loaded<T> {
  readonly items: T[];
  /** The line of each item, in the same order (for a rule that refuses a row, e.g. `gridwall import`). */
  readonly lines: number[];
  readonly read: number;
  readonly rejected: RejectedRow[];
}

/**
 * `staff.csv` (formats.md). A date-only `valid_to` is the last day the row holds (inclusive), as HR
 * registers write it; a timestamp is the instant it stops.
 */
export function loadStaff(source: CsvSource): Loaded<StaffPeriod> {
  const f = readCsvFile(source, ['user_id', 'organization', 'side', 'valid_from']);
  const path = f.path;
  const items: StaffPeriod[] = [];
  const lines: number[] = [];
  const rejected: RejectedRow[] = [];
  for (const r of f.rows) {
    const reject = (reason: string) => rejected.push({ file: path, line: r.line, reason });
    const userId = r.get('user_id');
    const side = r.get('side');
    const from = parseLegacyTime(r.get('valid_from'));
    const toText = r.get('valid_to');
    const to = toText === '' ? null : parseLegacyTime(toText);
    if (userId === '') reject('user_id is empty');
    else if (!isSide(side)) reject(`side ${JSON.stringify(side)} is not network, retail or other_retailer`);
    else if (from === null) reject(`valid_from ${JSON.stringify(r.get('valid_from'))} is not a date`);
    else if (toText !== '' && to === null) reject(`valid_to ${JSON.stringify(toText)} is not a date`);
    else {
      const end = to === null ? null : to.dateOnly ? new Date(to.at.getTime() + DAY_MS) : to.at;
      if (end !== null && end.getTime() <= from.at.getTime()) reject('valid_to is before valid_from');
      else {
        items.push({ userId, personId: r.get('person_id') || userId, organization: r.get('organization'), side, from: from.at, to: end });
        lines.push(r.line);
      }
    }
  }
  return { items, lines, read: f.rows.length, rejected };
}

export function loadPermissions(source: CsvSource): Loaded<PermissionSpec> {
  const f = readCsvFile(source, ['permission_id', 'name', 'allowed_sides']);
  const path = f.path;
  const items: PermissionSpec[] = [];
  const lines: number[] = [];
  const rejected: RejectedRow[] = [];
  for (const r of f.rows) {
    const sides = parseSides(r.get('allowed_sides'));
    if (r.get('permission_id') === '') rejected.push({ file: path, line: r.line, reason: 'permission_id is empty' });
    else if (sides === null)
      rejected.push({ file: path, line: r.line, reason: `allowed_sides ${JSON.stringify(r.get('allowed_sides'))}: use network;retail;other_retailer` });
    else {
      items.push({ id: r.get('permission_id'), name: r.get('name'), allowedSides: sides });
      lines.push(r.line);
    }
  }
  return { items, lines, read: f.rows.length, rejected };
}

export function loadGrants(source: CsvSource): Loaded<GrantRecord> {
  const f = readCsvFile(source, ['user_id', 'permission_id', 'granted_by', 'granted_at']);
  const path = f.path;
  const items: GrantRecord[] = [];
  const lines: number[] = [];
  const rejected: RejectedRow[] = [];
  for (const r of f.rows) {
    const reject = (reason: string) => rejected.push({ file: path, line: r.line, reason });
    const at = parseLegacyTime(r.get('granted_at'));
    const revokedText = r.get('revoked_at');
    const revoked = revokedText === '' ? null : parseLegacyTime(revokedText);
    if (r.get('user_id') === '' || r.get('permission_id') === '') reject('user_id or permission_id is empty');
    else if (at === null) reject(`granted_at ${JSON.stringify(r.get('granted_at'))} is not a date`);
    else if (revokedText !== '' && revoked === null) reject(`revoked_at ${JSON.stringify(revokedText)} is not a date`);
    else if (revoked !== null && revoked.at.getTime() <= at.at.getTime()) reject(`revoked_at ${JSON.stringify(revokedText)} is not after granted_at`);
    else {
      items.push({
        userId: r.get('user_id'),
        permissionId: r.get('permission_id'),
        grantedBy: r.get('granted_by'),
        grantedAt: at.at,
        revokedAt: revoked?.at ?? null,
      });
      lines.push(r.line);
    }
  }
  return { items, lines, read: f.rows.length, rejected };
}

/**
 * `gridwall grants check --incompatible`: a registry's own incompatible pairs (its permission IDs are not
 * gridwall's): `permission_a`, `permission_b`, `reason`. Each row is a pair named `<file name>:<line>`.
 */
export function loadIncompatiblePairs(path: string): Loaded<IncompatiblePair> {
  const f = readCsvFile(path, ['permission_a', 'permission_b', 'reason']);
  const items: IncompatiblePair[] = [];
  const lines: number[] = [];
  const rejected: RejectedRow[] = [];
  const name = basename(path);
  for (const r of f.rows) {
    const a = r.get('permission_a');
    const b = r.get('permission_b');
    if (a === '' || b === '') rejected.push({ file: path, line: r.line, reason: 'permission_a or permission_b is empty' });
    else if (a === b) rejected.push({ file: path, line: r.line, reason: `a permission (${a}) is not incompatible with itself` });
    else {
      items.push({ id: `${name}:${r.line}`, permissions: [a, b], reason: r.get('reason'), reasonEn: r.get('reason') });
      lines.push(r.line);
    }
  }
  return { items, lines, read: f.rows.length, rejected };
}
