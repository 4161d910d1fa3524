import assert from 'node:assert/strict';
import type { Persona } from '../../src/contract/session.ts';
import { raiseFinding } from '../../src/analysis/findings.ts';
import type { Db } from '../../src/store/db.ts';
import { ownerOf } from './owner.ts';

/**
 * A small area with known ground truth, for store and HTTP tests. Instant of the tests: NOW.
 *
 * Supply points (the comment says who supplies it at NOW):
 * - SP.OWN_A      A0001 (affiliated) since 2010, individual 山田 太郎
 * - SP.SWITCHED   A0001 until 2020-04-01, then R0002 (former for A0001, own for R0002)
 * - SP.R3         R0003 since 2017, corporate 株式会社青葉精工
 * - SP.LAST       A0001 until 2022, then last-resort supply by NW000
 * - SP.VACANT     R0002 until 2024-01-01, vacant since
 * - SP.CORP_A     A0001, corporate 株式会社青葉精工 (same holder as SP.R3)
 */
export const NOW = new Date('2026-11-01T10:00:00+09:00');

export const SP = {
  OWN_A: '0200000000000000000011',
  SWITCHED: '0200000000000000000022',
  R3: '0200000000000000000033',
  LAST: '0200000000000000000044',
  VACANT: '0200000000000000000055',
  CORP_A: '0200000000000000000066',
} as const;

/** Login user IDs of the fixture's people. */
export const USERS = {
  callCentre: 'u-cc',
  serviceCentre: 'u-nsc',
  compliance: 'u-comp',
  admin: 'u-admin',
  retail: 'u-retail',
  retailContractor: 'u-retail-ctr',
  otherRetailer: 'u-other',
  leaver: 'u-leaver',
  mover: 'u-mover',
  admin2: 'u-admin2',
} as const;

/** Registered terminals: network-set at a network site, retail-set, and a network-set one standing in a retail office (F1). */
export const TERMINALS = { NSC: 'T-NW1', CC: 'T-CC1', RETAIL: 'T-RT1', MISPLACED: 'T-MIS' } as const;

/**
 * Loads the fixture. Master data is loaded by the schema's owner (as `gridwall demo` or an import would), so on
 * a PostgreSQL test store it goes in through `ownerOf(db)`, not the application role `db` acts as.
 */
export async function seedFixture(db: Db): Promise<void> {
  await ownerOf(db).exec(`
INSERT INTO settings (key, value) VALUES ('affiliated_retailer', '"A0001"'), ('area_code', '"02"');
INSERT INTO retailers (code, name, affiliated) VALUES
  ('A0001', '北日本電力株式会社', true), ('R0002', 'みらいでんき株式会社', false),
  ('R0003', 'あおばエナジー株式会社', false), ('NW000', '北日本電力ネットワーク（最終保障供給）', false);
INSERT INTO organizations (id, name, kind, retailer_code) VALUES
  ('org-nw', '北日本電力ネットワーク株式会社', 'network_operator', NULL),
  ('org-a0001', '北日本電力株式会社', 'retailer', 'A0001'),
  ('org-r0002', 'みらいでんき株式会社', 'retailer', 'R0002'),
  ('org-ctr', 'みちのく営業サポート株式会社', 'contractor', NULL);
INSERT INTO persons (id, name) VALUES
  ('p-cc', '高橋 一郎'), ('p-nsc', '伊藤 二郎'), ('p-comp', '渡辺 三郎'), ('p-admin', '小林 四郎'),
  ('p-retail', '加藤 五郎'), ('p-rctr', '吉田 六郎'), ('p-other', '山本 七海'), ('p-leaver', '中村 八重'), ('p-mover', '松本 九'), ('p-admin2', '斎藤 十和')
;
-- The fixture's people are demo personas: the persona login (a user ID only) opens only such accounts.
INSERT INTO accounts (user_id, person_id, provisioned_by) VALUES
  ('u-cc', 'p-cc', 'demo'), ('u-nsc', 'p-nsc', 'demo'), ('u-comp', 'p-comp', 'demo'), ('u-admin', 'p-admin', 'demo'), ('u-retail', 'p-retail', 'demo'),
  ('u-retail-ctr', 'p-rctr', 'demo'), ('u-other', 'p-other', 'demo'), ('u-leaver', 'p-leaver', 'demo'), ('u-mover', 'p-mover', 'demo'), ('u-admin2', 'p-admin2', 'demo');
-- The contractor company works for the affiliated retailer: its staff act for A0001 while it does.
INSERT INTO contractor_engagements (contractor_organization_id, client_organization_id, valid_from) VALUES ('org-ctr', 'org-a0001', '2015-04-01');
INSERT INTO staff_assignments (person_id, organization_id, employment, side, retailer_code, office, duty, valid_from, valid_to) VALUES
  ('p-cc', 'org-nw', 'employee', 'network', NULL, '仙台コールセンター', 'call_centre', '2019-04-01', NULL),
  ('p-nsc', 'org-nw', 'employee', 'network', NULL, '青葉NSC', 'service_centre', '2019-04-01', NULL),
  ('p-comp', 'org-nw', 'employee', 'network', NULL, '本店', 'compliance', '2019-04-01', NULL),
  ('p-admin', 'org-nw', 'employee', 'network', NULL, '本店', 'access_admin', '2019-04-01', NULL),
  ('p-admin2', 'org-nw', 'employee', 'network', NULL, '本店', 'access_admin', '2019-04-01', NULL),
  ('p-retail', 'org-a0001', 'employee', 'retail', 'A0001', '仙台営業所', 'retail_customer_service', '2019-04-01', NULL),
  ('p-rctr', 'org-ctr', 'contractor', 'retail', 'A0001', '仙台営業所', 'retail_sales', '2019-04-01', NULL),
  ('p-other', 'org-r0002', 'employee', 'other_retailer', 'R0002', '本社', 'retail_customer_service', '2019-04-01', NULL),
  ('p-leaver', 'org-nw', 'employee', 'network', NULL, '仙台コールセンター', 'call_centre', '2015-04-01', '2022-04-01'),
  ('p-mover', 'org-nw', 'employee', 'network', NULL, '仙台コールセンター', 'call_centre', '2015-04-01', '2025-04-01'),
  ('p-mover', 'org-a0001', 'employee', 'retail', 'A0001', '仙台営業所', 'retail_sales', '2025-04-01', NULL);
INSERT INTO terminals (id, organization_id, office, kind, setting, site_side) VALUES
  ('T-NW1', 'org-nw', '青葉NSC', 'dedicated', 'network', 'network'),
  ('T-CC1', 'org-nw', '仙台コールセンター', 'dedicated', 'network', 'network'),
  ('T-RT1', 'org-a0001', '仙台営業所', 'dedicated', 'retail', 'retail'),
  ('T-MIS', 'org-nw', '仙台営業所', 'dedicated', 'network', 'retail');
-- Grants as an access administrator approved them; every one expires. The leaver's and the mover's old
-- network grant stay in the table as they were (the firewall ignores what the side may not hold).
INSERT INTO grants (user_id, permission_id, scope_organization_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at) VALUES
  ('u-cc', 'customer.read', NULL, 'approved', '託送業務', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-nsc', 'customer.read', NULL, 'approved', 'NSC業務', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-nsc', 'network.equipment', NULL, 'approved', '停電対応', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-nsc', 'inquiries.answer', NULL, 'approved', '照会への回答', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-comp', 'customer.read', NULL, 'approved', '行為規制の監査', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-comp', 'grants.approve', NULL, 'approved', '権限付与の第二承認者', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-admin2', 'grants.approve', 'org-a0001', 'approved', '関係小売の権限承認', 'u-admin', 'p-admin', '2019-04-01', 'u-comp', 'p-comp', '2019-04-01', '2027-04-01'),
  ('u-comp', 'audit.read', NULL, 'approved', '行為規制の監査', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-admin', 'audit.read', NULL, 'approved', 'アクセス管理', 'u-admin2', 'p-admin2', '2019-04-01', 'u-comp', 'p-comp', '2019-04-01', '2027-04-01'),
  ('u-admin', 'access.admin', NULL, 'approved', 'アクセス管理', 'u-admin2', 'p-admin2', '2019-04-01', 'u-comp', 'p-comp', '2019-04-01', '2027-04-01'),
  ('u-admin', 'grants.approve', NULL, 'approved', 'アクセス管理', 'u-admin2', 'p-admin2', '2019-04-01', 'u-comp', 'p-comp', '2019-04-01', '2027-04-01'),
  ('u-retail', 'customer.read', NULL, 'approved', '自社顧客対応', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-retail-ctr', 'customer.read', NULL, 'approved', '自社顧客対応（委託）', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-other', 'customer.read', NULL, 'approved', '自社顧客対応', 'u-admin', 'p-admin', '2019-04-01', 'u-admin2', 'p-admin2', '2019-04-01', '2027-04-01'),
  ('u-leaver', 'customer.read', NULL, 'approved', '託送業務', 'u-admin', 'p-admin', '2021-04-01', 'u-admin2', 'p-admin2', '2021-04-01', '2027-04-01'),
  ('u-mover', 'customer.read', NULL, 'approved', '託送業務', 'u-admin', 'p-admin', '2024-04-01', 'u-admin2', 'p-admin2', '2024-04-01', '2027-04-01'),
  ('u-mover', 'network.equipment', NULL, 'approved', '託送業務', 'u-admin', 'p-admin', '2024-04-01', 'u-admin2', 'p-admin2', '2024-04-01', '2027-04-01');
INSERT INTO supply_points (id, area_code, postal_code, prefecture, city, town, street, building, address_text, meter_id, reading_day, equipment, usage_kwh, usage_last_month, network_notes) VALUES
  ('0200000000000000000011', '02', '980-0811', '宮城県', '仙台市青葉区', '一番町一丁目', '1番1号', NULL, '〒980-0811 宮城県仙台市青葉区一番町一丁目1番1号', 'M0000000011', 5, '{エコキュート}', '{300,280,260,240,230,250,320,340,300,270,290,330}', '2026-10-01', '柱上変圧器 T-00011'),
  ('0200000000000000000022', '02', '980-0811', '宮城県', '仙台市青葉区', '一番町二丁目', '2番2号', 'グランドハイツ201', '〒980-0811 宮城県仙台市青葉区一番町二丁目2番2号 グランドハイツ201', 'M0000000022', 12, '{}', '{200,190}', '2026-10-01', NULL),
  ('0200000000000000000033', '02', '020-0021', '岩手県', '盛岡市', '中央通一丁目', '3番3号', '青葉ビル3F', '〒020-0021 岩手県盛岡市中央通一丁目3番3号 青葉ビル3F', 'M0000000033', 20, '{}', '{5000}', '2026-10-01', NULL),
  ('0200000000000000000044', '02', '010-0001', '秋田県', '秋田市', '中通一丁目', '4番4号', NULL, '〒010-0001 秋田県秋田市中通一丁目4番4号', 'M0000000044', 8, '{}', '{}', NULL, NULL),
  ('0200000000000000000055', '02', '990-0021', '山形県', '山形市', '本町一丁目', '5番5号', NULL, '〒990-0021 山形県山形市本町一丁目5番5号', 'M0000000055', 15, '{}', '{}', NULL, NULL),
  ('0200000000000000000066', '02', '980-0811', '宮城県', '仙台市青葉区', '一番町三丁目', '6番6号', NULL, '〒980-0811 宮城県仙台市青葉区一番町三丁目6番6号', 'M0000000066', 25, '{}', '{4000}', '2026-10-01', NULL);
INSERT INTO customers (id, type, name, name_kana, phone, phone_digits) VALUES
  ('c-yamada', 'individual', '山田 太郎', 'ヤマダ タロウ', '090-1111-2222', '09011112222'),
  ('c-sato', 'individual', '佐藤 花子', 'サトウ ハナコ', '080-3333-4444', '08033334444'),
  ('c-old', 'individual', '鈴木 一', 'スズキ ハジメ', '022-555-6666', '0225556666'),
  ('c-aoba', 'corporate', '株式会社青葉精工', 'アオバセイコウ', '022-777-8888', '0227778888'),
  ('c-akita', 'individual', '田中 実', 'タナカ ミノル', '070-9999-0000', '07099990000');
INSERT INTO contracts (supply_point_id, customer_id, retailer_code, capacity, capacity_unit, last_resort, valid_from, valid_to) VALUES
  ('0200000000000000000011', 'c-yamada', 'A0001', 40, 'A', false, '2010-01-01', NULL),
  ('0200000000000000000022', 'c-old', 'A0001', 30, 'A', false, '2005-01-01', '2018-01-01'),
  ('0200000000000000000022', 'c-sato', 'A0001', 30, 'A', false, '2018-01-01', '2020-04-01'),
  ('0200000000000000000022', 'c-sato', 'R0002', 30, 'A', false, '2020-04-01', NULL),
  ('0200000000000000000033', 'c-aoba', 'R0003', 150, 'kVA', false, '2017-01-01', NULL),
  ('0200000000000000000044', 'c-akita', 'A0001', 30, 'A', false, '2008-01-01', '2022-01-01'),
  ('0200000000000000000044', 'c-akita', 'NW000', 30, 'A', true, '2022-01-01', NULL),
  ('0200000000000000000055', 'c-old', 'R0002', 20, 'A', false, '2016-06-01', '2024-01-01'),
  ('0200000000000000000066', 'c-aoba', 'A0001', 200, 'kW', false, '2012-01-01', NULL);
`);
}

/**
 * The emergency roles the emergency tests need on top of the fixture: the call centre and the service
 * centre may declare (and so confirm each other's declarations); the retail agent and the contractor hold
 * emergency.support (registration as support staff is left to each test).
 */
/** An open finding (bulk reading, high) about the affiliated retailer's agent: what the metrics count as open. */
export async function raiseBulkReadingFinding(db: Db): Promise<void> {
  await raiseFinding(db, {
    rule: 'bulk_reading',
    severity: 'high',
    occurredAt: NOW,
    detectedAt: NOW,
    source: 'live',
    subjectPersonId: null,
    subjectUserId: USERS.retail,
    summary: 'test',
    evidence: {},
  });
}

export async function seedEmergencyRoles(db: Db): Promise<void> {
  await db.exec(`
INSERT INTO grants (user_id, permission_id, status, reason, requested_by, requested_by_person, requested_at, decided_by, decided_by_person, decided_at, expires_at) VALUES
  ('u-cc', 'emergency.declare', 'approved', '災害対応', 'u-admin', 'p-admin', '2026-04-01', 'u-admin2', 'p-admin2', '2026-04-01', '2027-04-01'),
  ('u-nsc', 'emergency.declare', 'approved', '災害対応', 'u-admin', 'p-admin', '2026-04-01', 'u-admin2', 'p-admin2', '2026-04-01', '2027-04-01'),
  ('u-retail', 'emergency.support', 'approved', '停電連絡の支援', 'u-admin', 'p-admin', '2026-04-01', 'u-admin2', 'p-admin2', '2026-04-01', '2027-04-01'),
  ('u-retail-ctr', 'emergency.support', 'approved', '停電連絡の支援', 'u-admin', 'p-admin', '2026-04-01', 'u-admin2', 'p-admin2', '2026-04-01', '2027-04-01');`);
}

/**
 * The fixture's people as demo personas, so the console's login screen offers them (as `gridwall demo` does
 * for its own): the browser suites seed all of them or a subset (`seedPersonas`).
 */
export const FIXTURE_PERSONAS: readonly Persona[] = [
  {
    key: 'cc',
    terminalId: TERMINALS.CC,
    userId: USERS.callCentre,
    name: '高橋 一郎',
    side: 'network',
    principalClass: 'network_call_centre',
    labelJa: '送配電 託送コールセンター',
    labelEn: 'Network — call centre',
  },
  {
    key: 'nsc',
    terminalId: TERMINALS.NSC,
    userId: USERS.serviceCentre,
    name: '伊藤 二郎',
    side: 'network',
    principalClass: 'network_service_centre',
    labelJa: '送配電 ネットワークサービスセンター',
    labelEn: 'Network — service centre',
  },
  {
    key: 'retail',
    terminalId: TERMINALS.RETAIL,
    userId: USERS.retail,
    name: '加藤 五郎',
    side: 'retail',
    principalClass: 'affiliated_retail',
    labelJa: '関係小売 お客さま窓口',
    labelEn: 'Affiliated retailer — customer service',
  },
  {
    key: 'rctr',
    userId: USERS.retailContractor,
    name: '吉田 六郎',
    side: 'retail',
    principalClass: 'affiliated_retail',
    labelJa: '関係小売の委託会社',
    labelEn: 'Contractor of the affiliated retailer',
  },
  {
    key: 'other',
    userId: USERS.otherRetailer,
    name: '山本 七海',
    side: 'other_retailer',
    principalClass: 'other_retailer',
    labelJa: '新電力 お客さま窓口',
    labelEn: 'Other retailer — customer service',
  },
  {
    key: 'comp',
    userId: USERS.compliance,
    name: '渡辺 三郎',
    side: 'network',
    principalClass: 'network_compliance',
    labelJa: '送配電 行為規制管理者',
    labelEn: 'Network — compliance',
  },
  {
    key: 'admin',
    userId: USERS.admin,
    name: '小林 四郎',
    side: 'network',
    principalClass: 'network_access_admin',
    labelJa: '送配電 アクセス管理者',
    labelEn: 'Network — access administration',
  },
];

/**
 * Stores the demo personas the login screen offers: all of FIXTURE_PERSONAS, or those named by `keys`, in
 * that order. Returns what it stored.
 */
export async function seedPersonas(db: Db, keys?: readonly string[]): Promise<readonly Persona[]> {
  const personas = keys === undefined ? FIXTURE_PERSONAS : keys.map((k) => FIXTURE_PERSONAS.find((p) => p.key === k) ?? assert.fail(`no fixture persona ${k}`));
  await ownerOf(db).query(`INSERT INTO settings (key, value) VALUES ('demo_personas', $1::jsonb)`, [JSON.stringify(personas)]);
  return personas;
}

/**
 * Forty queued switching inquiries about SP.R3, answered five days before NOW: twenty of the affiliated
 * retailer's in 1 hour, twenty of R0002's in 10 hours — a service centre favouring the affiliate, for the
 * equal-treatment figures to flag. Inserted as the schema's owner (no reads: the queue's history alone).
 */
export async function seedUnequalInquiryAnswers(owner: Db): Promise<void> {
  await owner.query(
    `INSERT INTO inquiries (id, case_type, supply_point_id, items, channel, retailer_code, requested_by, requested_by_person, consent_state, queued, released,
        status, created_at, due_at, closed_at, closed_by, closed_by_person)
     SELECT 'INQ-8' || lpad(g::text, 5, '0'), 'switching', $1, '{equipment}', 'retailer', CASE WHEN g <= 20 THEN 'A0001' ELSE 'R0002' END,
            'x', 'p-x', 'valid', '{equipment}', '{equipment}', 'answered', $2::timestamptz - interval '5 days',
            $2::timestamptz - interval '4 days', $2::timestamptz - interval '5 days' + CASE WHEN g <= 20 THEN interval '1 hour' ELSE interval '10 hours' END, 'u-nsc', 'p-nsc'
       FROM generate_series(1, 40) g`,
    [SP.R3, NOW],
  );
}
