import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSheet } from 'read-excel-file/node';
import { openEngine } from '../../src/analysis/duck.ts';
import { loadLegacy } from '../../src/analysis/legacy-load.ts';
import { buildReport, type Report } from '../../src/analysis/report.ts';
import { runCli } from '../support/cli.ts';
import { AFFILIATE, PERIOD, SYSTEMS, writeDataset, type Dataset } from '../support/legacy-dataset.ts';

async function analyse(d: Dataset): Promise<Report> {
  const e = await openEngine({ memoryLimit: '512MB' });
  try {
    await loadLegacy(e, { staff: d.files.staff, terminals: d.files.terminals, contracts: d.files.contracts, logs: d.files.logs });
    return await buildReport(e, { affiliate: AFFILIATE, ...PERIOD });
  } finally {
    e.close();
  }
}

/** Runs the CLI in-process; stderr is captured for the message checks. */
async function cli(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  const r = await runCli(args);
  return { code: r.status, stderr: r.stderr };
}

describe('gridwall analyze over legacy exports with known ground truth', () => {
  let dir: string;
  let utf8: Dataset;
  let report: Report;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-analyze-'));
    utf8 = writeDataset(join(dir, ''), { seed: 7 });
    report = await analyse(utf8);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('rows read, used, rejected and outside the period; every rejected row with file, line and reason', () => {
    assert.deepEqual(report.rows, utf8.expected.rows);
    assert.equal(report.rejected.length, utf8.expected.rejected.length);
    for (const want of utf8.expected.rejected) {
      const got = report.rejected.find((r) => r.file === want.file && r.line === want.line);
      assert.ok(got !== undefined, `rejected ${want.file}:${want.line} is listed`);
      assert.match(got.reason, want.reason);
    }
  });

  test('per system and in total: views by employees / contractors, last-resort apart, distinct terminals, people, offices, contractor companies, points, retailers', () => {
    assert.deepEqual(report.systems.map((s) => s.system).sort(), [...SYSTEMS].sort());
    for (const s of report.systems) {
      const { system, ...counts } = s;
      assert.deepEqual(counts, utf8.expected.systems[system], system);
    }
    assert.deepEqual(report.total, utf8.expected.total);
    // The shapes the regulator asked for are all there and not trivial.
    assert.ok(
      report.total.views.contractor > 0 && report.total.views.employee > 0 && report.total.lastResortViews === 30 && report.total.contractorOrganizations === 2,
    );
  });

  test('viewers ranked by views with the corporate / individual split; the top viewer is the bulk reader of eight companies', () => {
    assert.deepEqual(
      report.viewers.map(({ userId, views, corporate, individual }) => ({ userId, views, corporate, individual })),
      utf8.expected.viewers,
    );
    const top = report.viewers[0];
    assert.equal(top?.userId, utf8.expected.bulkReader);
    assert.deepEqual(top?.corporate, { views: 1600, customers: 8 });
  });

  test('findings: the bulk reader is high and alone; the misplaced terminal, the IDs without a person, the night reader', () => {
    const by = (rule: string) => report.findings.filter((f) => f.rule === rule);
    assert.deepEqual(
      by('bulk_reading').map((f) => [f.subject, f.severity]),
      [[`user:${utf8.expected.bulkReader}`, 'high']],
      'ordinary viewers are not bulk readers',
    );
    assert.deepEqual(
      by('misplaced_terminal').map((f) => [f.subject, f.severity]),
      [[`terminal:${utf8.expected.misplacedTerminal}`, 'high']],
    );
    assert.deepEqual(
      by('account_without_person')
        .map((f) => f.subject)
        .sort(),
      utf8.expected.withoutPerson.map((u) => `user:${u}`).sort(),
    );
    assert.deepEqual(
      by('off_hours').map((f) => f.subject),
      [`user:${utf8.expected.offHours}`],
    );
    assert.deepEqual(
      by('dormant_account_used').map((f) => f.subject),
      [`user:${utf8.expected.dormant}`],
      'only the ID unused for 90 days or more',
    );
    assert.equal(by('other_customer_read').length, utf8.expected.viewers.length, 'every counted viewer is a finding');
    assert.deepEqual(by('probing'), [], 'a legacy log has no refusals');
    for (const f of report.findings) assert.ok(f.detail.length > 0 && Object.keys(f.evidence).length > 0, `${f.rule} carries evidence`);
  });

  test('the same exports in CP932 give the same report', async () => {
    const cp = writeDataset(join(dir, 'cp932'), { seed: 7, cp932: true });
    assert.notDeepEqual(readFileSync(cp.files.staff), readFileSync(utf8.files.staff), 'the bytes differ');
    const other = await analyse(cp);
    const strip = (r: Report) => ({ ...r, rejected: r.rejected.map((x) => ({ ...x, file: x.file.split('/').pop() })) });
    assert.deepEqual(strip(other), strip(report));
  });

  test('through the command line: JSON with the keys of formats.md, CSV for Excel, and an XLSX workbook', async () => {
    const base = [
      'analyze',
      '--affiliate',
      AFFILIATE,
      '--from',
      PERIOD.from,
      '--to',
      PERIOD.to,
      '--staff',
      utf8.files.staff,
      '--terminals',
      utf8.files.terminals,
      '--contracts',
      utf8.files.contracts,
      ...utf8.files.logs.flatMap((l) => ['--log', l]),
    ];
    const json = join(dir, 'r.json');
    assert.equal((await cli([...base, '--format', 'json', '--out', json])).code, 0);
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    for (const k of ['period', 'affiliate', 'rows', 'systems', 'total', 'viewers', 'findings']) assert.ok(k in parsed, k);
    assert.deepEqual(parsed['total'], JSON.parse(JSON.stringify(report.total)));

    const csv = join(dir, 'r.csv');
    assert.equal((await cli([...base, '--format', 'csv', '--out', csv])).code, 0);
    const text = readFileSync(csv, 'utf8');
    assert.ok(text.startsWith('\uFEFF'), 'UTF-8 with BOM');
    const totalLine = text.split('\r\n').find((l) => l.startsWith('合計'));
    assert.equal(totalLine?.split(',')[3], String(report.total.views.total));

    const xlsx = join(dir, 'r.xlsx');
    assert.equal((await cli([...base, '--format', 'xlsx', '--out', xlsx])).code, 0);
    const sheet = await readSheet(readFileSync(xlsx), '集計');
    const total = sheet.find((row) => row[0] === '合計（全システム・重複なし）');
    assert.equal(total?.[3], report.total.views.total);
    const viewers = await readSheet(readFileSync(xlsx), '閲覧者');
    assert.equal(viewers.length, report.viewers.length + 3, 'the title, a blank row and the header row, then one row per viewer');
    // Per screen (issue 22): the first system's log names screens, so its rows are in the 画面別 sheet, summing to
    // the system's views; the second system's log names none.
    const screens = await readSheet(readFileSync(xlsx), '画面別');
    const first = report.systems.find((s) => s.system === SYSTEMS[0]);
    assert.ok(first?.screens !== undefined && first.screens.length === 4);
    assert.ok(first.screens.some((x) => x.screen === '(画面名なし)' && x.views.total > 0));
    const rows = screens.filter((row) => row[0] === SYSTEMS[0]);
    assert.deepEqual(
      rows.map((row) => [row[1], row[4]]),
      first.screens.map((x) => [x.screen, x.views.total]),
    );
    assert.equal(
      rows.reduce((n, row) => n + Number(row[4]), 0),
      first.views.total,
    );
    assert.equal(screens.filter((row) => row[0] === SYSTEMS[1]).length, 0);
    assert.equal(report.systems.find((s) => s.system === SYSTEMS[1])?.screens, undefined);
    assert.match(readFileSync(csv, 'utf8'), /画面別/);
  });

  test('bad arguments and unusable files exit 2 naming what is wrong', async () => {
    const args = (over: Record<string, string>) => {
      const o = {
        '--affiliate': AFFILIATE,
        '--from': PERIOD.from,
        '--to': PERIOD.to,
        '--staff': utf8.files.staff,
        '--terminals': utf8.files.terminals,
        '--contracts': utf8.files.contracts,
        '--log': utf8.files.logs[0] ?? '',
        ...over,
      };
      return ['analyze', ...Object.entries(o).flat(), '--format', 'json', '--out', join(dir, 'x.json')];
    };
    const noColumn = join(dir, 'no-column.csv');
    writeFileSync(noColumn, 'accessed_at,system,user_id,terminal_id\n2022/11/01 10:00,a,b,c\n');
    const cases: [Record<string, string>, RegExp][] = [
      [{ '--log': noColumn }, /missing column supply_point_id/],
      [{ '--staff': join(dir, 'nope.csv') }, /nope\.csv: cannot read \(ENOENT\)/],
      [{ '--from': '2022-13-01' }, /--from 2022-13-01 is not a date/],
      [{ '--to': '2022-10-01' }, /--to 2022-10-01 is before --from/],
    ];
    for (const [over, message] of cases) {
      const r = await cli(args(over));
      assert.equal(r.code, 2, JSON.stringify(over));
      assert.match(r.stderr, message);
    }
    const r = await cli([...args({}), '--threshold', 'bulkMaxFun=3']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown; known: bulkMinDaily/);
  });
});

test('in a file large enough to be read in parallel, rejected rows keep their true line numbers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-analyze-big-'));
  try {
    const d = writeDataset(dir, { seed: 11 });
    // 600,000 rows (~60 MB, more than one of DuckDB's 32 MB read buffers) with bad rows far into the file.
    const lines: string[] = ['accessed_at,system,user_id,terminal_id,supply_point_id,screen,fields'];
    const bad = new Map<number, RegExp>([
      [12_345, /accessed_at/],
      [300_001, /supply_point_id/],
      [599_999, /user_id is empty/],
    ]);
    for (let line = 2; line <= 600_001; line++) {
      const want = bad.get(line);
      const id = `02${String(line).padStart(20, '0')}`;
      if (want === undefined) lines.push(`2022/11/01 10:00:00,NWオンラインシステム,aff1,RT-001,${id},照会,`);
      else if (line === 12_345) lines.push(`2022/11/31 10:00:00,NWオンラインシステム,aff1,RT-001,${id},照会,`);
      else if (line === 300_001) lines.push(`2022/11/01 10:00:00,NWオンラインシステム,aff1,RT-001,0212,照会,`);
      else lines.push(`2022/11/01 10:00:00,NWオンラインシステム,,RT-001,${id},照会,`);
    }
    const big = join(dir, 'big.csv');
    writeFileSync(big, `${lines.join('\n')}\n`);
    const e = await openEngine({ memoryLimit: '1GB', threads: 2 });
    try {
      const inputs = await loadLegacy(e, { ...d.files, logs: [big] });
      assert.deepEqual(
        inputs.find((i) => i.file === big),
        { file: big, kind: 'log', encoding: 'utf-8', read: 600_000, rejected: 3 },
      );
      const rejected = await e.rows<{ line: number; reason: string }>(`SELECT line, reason FROM rejected WHERE file = $1 ORDER BY line`, [big]);
      assert.deepEqual(
        rejected.map((r) => r.line),
        [...bad.keys()],
      );
      for (const r of rejected) assert.match(r.reason, bad.get(r.line) ?? /never/);
    } finally {
      e.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
