import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cp932Table, encodeCp932 } from '../../src/spreadsheet/cp932.ts';

const hex = (b: Buffer) => b.toString('hex');
const decode = (b: Buffer) => new TextDecoder('shift_jis').decode(b);

test('CP932 as Windows writes it: the IBM extensions over the NEC-selected ones, the wave dash as ～, ¥ as 0x5C', () => {
  assert.equal(hex(encodeCp932('あ髙纊①Ⅰ').bytes), '82a0fbfcfa5c87408754', '髙 FBFC, 纊 FA5C (not ED40), ① 8740, Ⅰ 8754 (NEC row 13)');
  assert.equal(hex(encodeCp932('〜−‖—¥').bytes), '8160817c8161815c5c', 'JIS-form look-alikes as their Windows form');
  assert.deepEqual(encodeCp932('ｱ,A').replaced, 0);
});

test('a character CP932 cannot hold is written as 〓 and counted, never dropped', () => {
  const r = encodeCp932('𠮷田さん😀');
  assert.equal(decode(r.bytes), '〓田さん〓');
  assert.equal(r.replaced, 2);
});

test('every character CP932 holds reads back as itself through the shift_jis decoder gridwall imports with', () => {
  const chars = [...cp932Table().keys()];
  assert.ok(chars.length > 7000, `${chars.length} characters`);
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 40 }), (cs) => {
      const s = cs.join('');
      const r = encodeCp932(s);
      assert.equal(r.replaced, 0);
      assert.equal(decode(r.bytes), s);
    }),
    { numRuns: 500 },
  );
});

test('text is put in NFC first: a decomposed が is written as が, not か〓, and nothing is counted', () => {
  const r = encodeCp932('か\u3099は\u309A\u2126e\u0301');
  assert.equal(decode(r.bytes), 'がぱ\u03A9〓', 'OHM SIGN as Ω; é is not in CP932: one 〓 for the letter with its mark');
  assert.equal(r.replaced, 1);
  const plain = encodeCp932('ざっし か\u3099くせい');
  assert.equal(decode(plain.bytes), 'ざっし がくせい');
  assert.equal(plain.replaced, 0);
});

test('variation selectors are dropped and a no-break space is a space, neither counted', () => {
  const r = encodeCp932('葛\u{E0100}城\uFE00 辻\u{E0101}\u00A0様');
  assert.equal(decode(r.bytes), '葛城 辻 様');
  assert.equal(r.replaced, 0);
});

test('NFC never costs a character CP932 holds: each, composed or decomposed, is written without a 〓', () => {
  const chars = [...cp932Table().keys()];
  for (const ch of chars) {
    for (const form of [ch, ch.normalize('NFD')]) {
      const r = encodeCp932(form);
      assert.equal(r.replaced, 0, `U+${ch.codePointAt(0)?.toString(16)} as ${form === ch ? 'itself' : 'NFD'}`);
      assert.equal(decode(r.bytes).normalize('NFC'), ch.normalize('NFC'), `U+${ch.codePointAt(0)?.toString(16)} reads back`);
    }
  }
});
