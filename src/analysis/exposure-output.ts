import { day, instant, number, table, text, type Table } from '../spreadsheet/table.ts';
import { isSide, SIDE_LABELS } from '../domain/organization.ts';
import type { LiveExposure } from './live-exposure.ts';

/**
 * The exposure report (live-exposure.ts) as the compliance report's tables: one per way data could be seen —
 * declared emergencies, grants that should not exist, policy versions — after the regulator's tables.
 */

const sideJa = (side: string | null): string => (side !== null && isSide(side) ? SIDE_LABELS[side].ja : (side ?? '不明'));
const dateOf = (s: string | null) => (s === null ? null : new Date(s));

export function exposureTables(x: LiveExposure): Table[] {
  type Emergency = LiveExposure['emergencies'][number];
  type Grant = LiveExposure['grants'][number];
  type Policy = LiveExposure['policies'][number];
  type Person = LiveExposure['people'][number];
  return [
    table<Emergency>({
      sheet: '閲覧可能性（非常災害）',
      title: '非常災害の宣言で閲覧可能となっていた期間と閲覧実績',
      notes: ['登録された支援要員が、宣言の期間中に宣言地域の需要家の停電連絡項目を閲覧できました。閲覧件数は小売側による他社需要家の非公開項目の閲覧です。'],
      columns: [
        text('宣言ID', (e) => e.declarationId, 16),
        text('理由', (e) => e.reason, 30),
        instant('開始', (e) => dateOf(e.from)),
        instant('終了', (e) => dateOf(e.to)),
        text('地域', (e) => e.areas.join('、'), 24),
        text('支援要員（側・閲覧できた項目）', (e) => e.people.map((p) => `${p.name}（${sideJa(p.side)}：${p.fields.join('・')}）`).join('、'), 40),
        number('宣言下の閲覧（全体）', (e) => e.reads),
        number('閲覧件数（小売側・他社需要家）', (e) => e.views),
        number('閲覧者数', (e) => e.viewers),
        number('供給地点数', (e) => e.supplyPoints),
        instant('最初の閲覧', (e) => dateOf(e.first)),
        instant('最後の閲覧', (e) => dateOf(e.last)),
      ],
      rows: x.emergencies,
    }),
    table<Grant>({
      sheet: '閲覧可能性（権限）',
      title: `あるべきでない権限と、その間の閲覧実績（保有者 ${x.grantSummary.holders} 人、閲覧者 ${x.grantSummary.viewers} 人、${x.grantSummary.views} 件）`,
      columns: [
        text('ログインID', (g) => g.userId),
        text('権限', (g) => g.permissionId, 24),
        text('承認者', (g) => g.grantedBy),
        text('違反ルール', (g) => g.rules.join(';'), 30),
        day('付与', (g) => g.from),
        day('取消', (g) => g.to),
        text('違反の期間', (g) => g.windows.map((w) => `${w.from} 〜${w.to === null ? '' : ` ${w.to}`}`).join('、'), 28),
        number('閲覧件数', (g) => g.views),
        number('供給地点数', (g) => g.supplyPoints),
        instant('最初の閲覧', (g) => dateOf(g.first)),
        instant('最後の閲覧', (g) => dateOf(g.last)),
      ],
      rows: x.grants,
    }),
    table<Policy>({
      sheet: '閲覧可能性（方針）',
      title: '判定表（方針）の版と、その下での閲覧',
      notes: [
        '「許していた」は、小売側が他社需要家の非公開項目を非常災害・照会回答以外で見られる判定があったかを、マスキング点検表の規則で判定したものです（この版を保持していない場合は判定できません）。',
      ],
      columns: [
        text('版', (p) => p.version.slice(0, 16), 20),
        text('この版', (p) => (p.current ? '現在の版' : '過去の版'), 10),
        text('許していた', (p) => (p.allowed === null ? '判定できない' : p.allowed ? 'はい' : 'いいえ'), 12),
        number('判定した読み取り', (p) => p.reads),
        number('閲覧件数（非常災害・照会回答以外）', (p) => p.views),
        instant('最初', (p) => dateOf(p.first)),
        instant('最後', (p) => dateOf(p.last)),
      ],
      rows: x.policies,
    }),
    table<Person>({
      sheet: '閲覧可能性（所属）',
      title: '所属台帳（現在）で小売側の人に表示された他社需要家の非公開項目（非常災害・照会回答以外）',
      notes: ['判定は閲覧の時点の所属台帳によります。「判定時の側」が送配電なら、所属の変更が後から登録されたことを示します（九州の事例）。'],
      columns: [
        text('ログインID', (p) => p.userId),
        text('個人ID', (p) => p.personId),
        text('判定時の側', (p) => p.decidedSides.map(sideJa).join('・'), 16),
        number('閲覧件数', (p) => p.views),
        number('供給地点数', (p) => p.supplyPoints),
        instant('最初の閲覧', (p) => dateOf(p.first)),
        instant('最後の閲覧', (p) => dateOf(p.last)),
      ],
      rows: x.people,
    }),
  ];
}
