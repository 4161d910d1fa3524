import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openEngine, type Engine } from '../../src/analysis/duck.ts';
import { createMacros } from '../../src/analysis/legacy-load.ts';
import { parseLegacyTime } from '../../src/legacy/csv-file.ts';

/**
 * The analysis engine parses timestamps in SQL (10 M rows do not go through JavaScript); the registers and
 * `grants check` parse them in TypeScript. Both must read every legacy timestamp the same way.
 */
let e: Engine;
before(async () => {
  e = await openEngine({ memoryLimit: '256MB' });
  await createMacros(e);
});
after(() => e.close());

const two = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((n) => String(n).padStart(2, '0'));
const legacyTime = fc
  .record({
    y: fc.integer({ min: 1990, max: 2040 }).map(String),
    m: fc.oneof(two(1, 12), two(0, 13)),
    d: fc.oneof(two(1, 28), two(29, 32)),
    sep: fc.constantFrom('-', '/'),
    t: fc.constantFrom(' ', 'T'),
    hh: fc.oneof(two(0, 23), two(24, 25)),
    mm: two(0, 59),
    ss: fc.option(two(0, 59), { nil: undefined }),
    frac: fc.option(
      fc.integer({ min: 0, max: 999 }).map((n) => `.${String(n).padStart(3, '0')}`),
      { nil: undefined },
    ),
    zone: fc.option(fc.constantFrom('Z', '+09:00', '+0900', '-05:00', '+00:00'), { nil: undefined }),
    dateOnly: fc.boolean(),
  })
  .map((r) =>
    r.dateOnly
      ? `${r.y}${r.sep}${r.m}${r.sep}${r.d}`
      : `${r.y}${r.sep}${r.m}${r.sep}${r.d}${r.t}${r.hh}:${r.mm}${r.ss === undefined ? '' : `:${r.ss}${r.frac ?? ''}`}${r.zone ?? ''}`,
  );

test('SQL and TypeScript read every legacy timestamp alike (or both refuse it)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(legacyTime, fc.string({ maxLength: 20 })), async (v) => {
      const js = parseLegacyTime(v);
      const [row] = await e.rows<{ at: Date | null }>('SELECT gw_start($1) AS at', [v]);
      const sql = row?.at ?? null;
      assert.equal(sql === null ? null : new Date(sql).getTime(), js === null ? null : js.at.getTime(), v);
    }),
    {
      numRuns: 400,
      // The edges of the fast path (19 characters) and of the calendar, always tried.
      examples: [
        ['2022-10-05 24:00:00'],
        ['2022/10/05 23:59:60'],
        ['2022-02-29 10:00:00'],
        ['2024-02-29 10:00:00'],
        ['2022/1/015 10:00:00'],
        ['2022-10-05 10:00Z'],
        ['2022-10-05T10:00+0900'],
      ],
    },
  );
});

test('both read representative timestamps as the instants they name: Japan time unless an offset is given', async () => {
  // Expected instants worked out by hand, so a misreading both parsers share fails too.
  const cases: [string, string | null][] = [
    ['2026/11/01 09:00:00', '2026-11-01T00:00:00.000Z'],
    ['2026-11-01T09:00', '2026-11-01T00:00:00.000Z'],
    ['2026/11/01', '2026-10-31T15:00:00.000Z'],
    ['2024-02-29 10:00:00.123', '2024-02-29T01:00:00.123Z'],
    ['2022-10-05 10:00Z', '2022-10-05T10:00:00.000Z'],
    ['2022-10-05T10:00+0900', '2022-10-05T01:00:00.000Z'],
    ['2022-10-05 10:00:00-05:00', '2022-10-05T15:00:00.000Z'],
    ['2022-02-29 10:00:00', null],
    ['2022/13/01', null],
  ];
  for (const [v, expected] of cases) {
    const js = parseLegacyTime(v);
    const [row] = await e.rows<{ at: Date | null }>('SELECT gw_start($1) AS at', [v]);
    const sql = row?.at ?? null;
    assert.equal(js === null ? null : js.at.toISOString(), expected, `TypeScript reads ${v}`);
    assert.equal(sql === null ? null : new Date(sql).toISOString(), expected, `SQL reads ${v}`);
  }
});

test('a date-only end is the last day it holds; a timestamp end is the instant it stops', async () => {
  const [r] = await e.rows<{ a: Date; b: Date }>(`SELECT gw_end('2022/11/15') AS a, gw_end('2022-11-15 18:00') AS b`);
  assert.equal(new Date(r?.a ?? 0).toISOString(), '2022-11-15T15:00:00.000Z', 'the start of 16 November, Japan time');
  assert.equal(new Date(r?.b ?? 0).toISOString(), '2022-11-15T09:00:00.000Z');
});
