import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';

const base = { GRIDWALL_DATA_DIR: '/tmp/gridwall-config-test' };

test('read limits: defaults are on, and tightest under emergency_support', () => {
  const { readLimits } = loadConfig(base);
  assert.deepEqual(readLimits, {
    normal: { recordsPerMinute: 60, recordsPerDay: 5000, searchRowsPerMinute: 500 },
    emergency: { recordsPerMinute: 20, recordsPerDay: 500, searchRowsPerMinute: 100 },
    personRecordsPerDay: 5000,
    consentRefusalsPerDay: 20,
    inquiryAnswersPerDay: 10_000,
  });
});

test('read limits: each variable sets its limit; an emergency limit looser than the normal one is refused naming both', () => {
  const set = loadConfig({
    ...base,
    GRIDWALL_READ_RECORDS_PER_MINUTE: '30',
    GRIDWALL_EMERGENCY_READ_RECORDS_PER_MINUTE: '30',
    GRIDWALL_CONSENT_REFUSALS_PER_DAY: '5',
    GRIDWALL_READ_PERSON_RECORDS_PER_DAY: '700',
    GRIDWALL_INQUIRY_ANSWERS_PER_DAY: '2000',
  });
  assert.deepEqual(
    [
      set.readLimits.normal.recordsPerMinute,
      set.readLimits.emergency.recordsPerMinute,
      set.readLimits.consentRefusalsPerDay,
      set.readLimits.personRecordsPerDay,
      set.readLimits.inquiryAnswersPerDay,
    ],
    [30, 30, 5, 700, 2000],
  );
  assert.throws(
    () => loadConfig({ ...base, GRIDWALL_EMERGENCY_READ_SEARCH_ROWS_PER_MINUTE: '501' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /GRIDWALL_EMERGENCY_READ_SEARCH_ROWS_PER_MINUTE \(501\) is looser than GRIDWALL_READ_SEARCH_ROWS_PER_MINUTE \(500\)/.test(e.message),
  );
  assert.throws(() => loadConfig({ ...base, GRIDWALL_READ_RECORDS_PER_DAY: '0' }), /GRIDWALL_READ_RECORDS_PER_DAY/);
});
