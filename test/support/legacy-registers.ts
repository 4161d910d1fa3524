import type { ImportOutcome, ImportRule, RegisterFile } from '../../src/domain/register-import.ts';
import { encodeCp932 } from './cp932.ts';

/**
 * Legacy registers (formats.md) for `gridwall import`, written against the fixture (test/support/fixture.ts),
 * with the ground truth of every row: what it must become and, when refused or rejected, by which rule. Staff
 * comes in CP932 (as Japanese HR exports do), the rest in UTF-8, the grants with a BOM.
 */
export interface ExpectedRow {
  readonly file: RegisterFile;
  readonly line: number;
  readonly outcome: ImportOutcome;
  readonly rule: ImportRule | null;
}

interface Row {
  readonly csv: string;
  readonly outcome: ImportOutcome;
  readonly rule?: ImportRule;
}

const STAFF_HEAD = 'user_id,person_id,organization,side,employment,office,valid_from,valid_to,name';
const STAFF: readonly Row[] = [
  // A new network employee, the organization named by its name (as HR registers write it).
  { csv: 'u-imp1,p-imp1,北日本電力ネットワーク株式会社,network,employee,本店,2024-04-01,,青木 一', outcome: 'created' },
  { csv: 'u-imp2,p-imp2,org-a0001,retail,employee,仙台営業所,2024/04/01,,青木 二', outcome: 'created' },
  // A leaver: the period ended (inclusive last day).
  { csv: 'u-imp3,p-imp3,org-nw,network,employee,仙台コールセンター,2020-04-01,2025-03-31,青木 三', outcome: 'created' },
  // The fixture's call-centre agent exactly as gridwall holds them.
  { csv: 'u-cc,p-cc,org-nw,network,employee,仙台コールセンター,2019-04-01,,高橋 一郎', outcome: 'unchanged' },
  { csv: 'u-imp4,p-imp4,org-nw,retial,employee,本店,2024-04-01,,青木 四', outcome: 'rejected', rule: 'bad_value' },
  { csv: 'u-imp5,p-imp5,ゆめ電力株式会社,other_retailer,employee,本社,2024-04-01,,青木 五', outcome: 'rejected', rule: 'unknown_organization' },
  // A retailer's employee written as a contractor: the organization says otherwise.
  { csv: 'u-imp6,p-imp6,org-a0001,retail,contractor,仙台営業所,2024-04-01,,青木 六', outcome: 'refused', rule: 'employment_mismatch' },
  // A user ID gridwall knows as someone else's.
  { csv: 'u-retail,p-imp7,org-a0001,retail,employee,仙台営業所,2024-04-01,,青木 七', outcome: 'refused', rule: 'account_of_another_person' },
];

const TERMINALS_HEAD = 'terminal_id,setting,kind,organization,office';
const TERMINALS: readonly Row[] = [
  { csv: 'T-IMP1,retail,dedicated,org-a0001,仙台営業所', outcome: 'created' },
  // Opens network-only data: a second access administrator decides it.
  { csv: 'T-IMP2,network,dedicated,org-nw,本店', outcome: 'requested' },
  // Network-set in a retail office (F1): a second access administrator decides it.
  { csv: 'T-IMP3,network,virtual,org-a0001,仙台営業所', outcome: 'requested' },
  { csv: 'T-NW1,network,dedicated,org-nw,青葉NSC', outcome: 'unchanged' },
  { csv: 'T 4,retail,dedicated,org-a0001,仙台営業所', outcome: 'rejected', rule: 'bad_value' },
];

const PERMISSIONS_HEAD = 'permission_id,name,allowed_sides,gridwall_permission';
const PERMISSIONS: readonly Row[] = [
  { csv: 'P01,顧客照会,network;retail;other_retailer,customer.read', outcome: 'unchanged' },
  // The legacy list let retail hold equipment data (F5); gridwall's catalog decides.
  { csv: 'P02,設備情報,network;retail,network.equipment', outcome: 'unchanged' },
  { csv: 'P03,アクセスログ閲覧,network,audit.read', outcome: 'unchanged' },
  { csv: 'P04,帳票出力,network,', outcome: 'rejected', rule: 'unknown_permission' },
  { csv: 'P05,利用者管理,network,access.admin', outcome: 'unchanged' },
];

const GRANTS_HEAD = 'user_id,permission_id,granted_by,granted_at,revoked_at';
const GRANTS: readonly Row[] = [
  { csv: 'u-imp1,P01,u-admin,2024-04-01,', outcome: 'requested' },
  { csv: 'u-imp2,P02,u-admin,2024-04-01,', outcome: 'refused', rule: 'side_not_allowed' },
  { csv: 'u-imp1,P03,u-imp1,2024-04-02,', outcome: 'refused', rule: 'self_grant' },
  { csv: 'u-imp3,P01,u-admin,2021-04-01,', outcome: 'refused', rule: 'left_organization' },
  { csv: 'u-cc,P01,u-admin,2019-04-01,', outcome: 'unchanged' },
  // Compliance holds audit.read in gridwall: access.admin too would break separation of duties.
  { csv: 'u-comp,P05,u-admin2,2024-05-01,', outcome: 'refused', rule: 'incompatible_permissions' },
  { csv: 'u-ghost,P01,u-admin,2024-04-01,', outcome: 'refused', rule: 'unknown_user' },
  { csv: 'u-imp2,P01,u-admin,2024-04-01,2025-01-01', outcome: 'skipped', rule: 'not_in_force' },
  { csv: 'u-imp2,P01,u-admin,2024-13-01,', outcome: 'rejected', rule: 'bad_value' },
  { csv: 'u-imp2,P04,u-admin,2024-04-01,', outcome: 'rejected', rule: 'unknown_permission' },
];

const text = (head: string, rows: readonly Row[]) => `${[head, ...rows.map((r) => r.csv)].join('\r\n')}\r\n`;

/** The four files' bytes: staff in CP932, grants in UTF-8 with a BOM, the others plain UTF-8. */
export function legacyRegisters(): Record<RegisterFile, Buffer> {
  return {
    staff: encodeCp932(text(STAFF_HEAD, STAFF)),
    terminals: Buffer.from(text(TERMINALS_HEAD, TERMINALS), 'utf8'),
    permissions: Buffer.from(text(PERMISSIONS_HEAD, PERMISSIONS), 'utf8'),
    grants: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text(GRANTS_HEAD, GRANTS), 'utf8')]),
  };
}

/** Every row's ground truth: line 1 is the header, so the first row is line 2. */
export function expectedRows(): ExpectedRow[] {
  const of = (file: RegisterFile, rows: readonly Row[]) => rows.map((r, i) => ({ file, line: i + 2, outcome: r.outcome, rule: r.rule ?? null }));
  return [...of('staff', STAFF), ...of('terminals', TERMINALS), ...of('permissions', PERMISSIONS), ...of('grants', GRANTS)];
}

/** The staff register with one row changed (u-imp1 moved office within the same assignment). */
export function staffWithChangedOffice(): Buffer {
  const rows = STAFF.map((r) => (r.csv.startsWith('u-imp1,') ? { ...r, csv: r.csv.replace(',本店,', ',仙台コールセンター,') } : r));
  return encodeCp932(text(STAFF_HEAD, rows));
}
