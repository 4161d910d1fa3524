import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { csvFile, csvText } from '../../src/spreadsheet/csv-file.ts';
import { table, text } from '../../src/spreadsheet/table.ts';

// Excel's error values: typed into a cell, or read from a CSV field, each becomes the error itself, not text.
const ERROR_VALUES = [
  '#N/A',
  '#NULL!',
  '#DIV/0!',
  '#VALUE!',
  '#REF!',
  '#NAME?',
  '#NUM!',
  '#GETTING_DATA',
  '#SPILL!',
  '#CALC!',
  '#FIELD!',
  '#BLOCKED!',
  '#CONNECT!',
  '#BUSY!',
  '#UNKNOWN!',
  '#EXTERNAL!',
  '#PYTHON!',
];

test('text a spreadsheet reads as an error value (#N/A, #DIV/0! …, any case) gets the same leading tab as a number-like text', () => {
  for (const v of ERROR_VALUES) {
    assert.equal(csvText(v), `\t${v}`, v);
    assert.equal(csvText(v.toLowerCase()), `\t${v.toLowerCase()}`, v.toLowerCase());
    assert.equal(csvText(` ${v} `), `\t ${v} `, `${v} between spaces`);
  }
  const doc = { title: 't', tables: [table<string>({ sheet: 's', title: 't', columns: [text('office', (r) => r)], rows: ['#N/A', '#DIV/0!'] })] };
  assert.equal(csvFile(doc, 'utf-8').body.toString('utf8'), '\uFEFFoffice\r\n"\t#N/A"\r\n"\t#DIV/0!"\r\n');
});

test('text that only starts like an error value, or names one in passing, is written as it is', () => {
  for (const v of ['#N/A x', 'see #N/A', '#1 office', '#', '#NA', 'N/A']) assert.equal(csvText(v), v, v);
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...Array.from('#NA/!?abcXYZ あ')), maxLength: 10 }), (s) => {
      const isError = ERROR_VALUES.some((e) => e.toLowerCase() === s.trim().toLowerCase());
      assert.equal(csvText(s).startsWith('\t'), isError, JSON.stringify(s));
    }),
  );
});
