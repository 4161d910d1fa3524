import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnalysisBusy } from '../../src/analysis/analysis-queue.ts';
import { PeriodTooLong, ReviewRefused } from '../../src/analysis/review.ts';
import { ERROR_STATUS, REFUSAL_STATUS, refusalCode } from '../../src/api/errors.ts';
import { REFUSAL_FAMILIES, REFUSAL_KINDS, Refusal } from '../../src/domain/refusal.ts';
import { EmergencyActionRefused } from '../../src/governance/emergency-refusals.ts';
import { GrantRefusal } from '../../src/governance/grant-service.ts';
import { TokenError } from '../../src/identity/api-tokens.ts';
import { AccountError } from '../../src/identity/local-accounts.ts';
import { OidcBindingError } from '../../src/identity/oidc.ts';
import { TerminalError } from '../../src/identity/terminals.ts';
import { DeviceError } from '../../src/identity/terminal-devices.ts';
import { EXIT, exitForRefusal } from '../../src/cli/exit.ts';
import { ReadLimited } from '../../src/domain/read-limits.ts';

// Issue 16: one refusal model. Every rule of every family has a kind; the kind alone decides the HTTP status
// and the exit code, and the wire code a family gives a kind carries that same status.

const FAMILIES = [GrantRefusal, EmergencyActionRefused, TokenError, ReviewRefused, AccountError, OidcBindingError, TerminalError, DeviceError, ReadLimited];

test('every rule of every family is a refusal of its family and kind, with its rule on it', () => {
  let rules = 0;
  for (const F of FAMILIES) {
    const make = F as unknown as new (rule: string, message: string) => Refusal;
    for (const [rule, kind] of Object.entries(F.kinds as Readonly<Record<string, string>>)) {
      const r = new make(rule, 'a sentence');
      assert.ok(r instanceof Refusal);
      assert.equal(r.rule, rule);
      assert.equal(r.kind, kind);
      assert.ok(REFUSAL_KINDS.includes(r.kind));
      assert.equal(r.message, 'a sentence', 'the message is the sentence alone: the rule is not folded into it');
      rules++;
    }
  }
  assert.ok(rules >= 50, `${rules} rules`);
});

test('the wire code of every family and kind carries the status of its kind', () => {
  for (const family of REFUSAL_FAMILIES) {
    for (const kind of REFUSAL_KINDS) {
      const code = refusalCode(family, kind);
      assert.equal(ERROR_STATUS[code], REFUSAL_STATUS[kind], `${family}/${kind} → ${code}`);
    }
  }
  assert.deepEqual(REFUSAL_STATUS, { invalid: 400, refused: 403, not_found: 404, conflict: 409, busy: 503, limited: 429 });
});

test('families keep their own codes: a grant conflict is grant_conflict, a token not found is not_found', () => {
  assert.equal(refusalCode('grant', 'conflict'), 'grant_conflict');
  assert.equal(refusalCode('emergency', 'invalid'), 'emergency_invalid');
  assert.equal(refusalCode('token', 'not_found'), 'not_found');
  assert.equal(refusalCode('token', 'invalid'), 'validation_failed');
  assert.equal(refusalCode('review', 'conflict'), 'review_conflict');
  assert.equal(refusalCode('terminal', 'invalid'), 'validation_failed');
  assert.equal(refusalCode('analysis', 'busy'), 'analysis_busy');
});

test('refusals with facts carry them in details', () => {
  const long = new PeriodTooLong(400, 366);
  assert.deepEqual([long.rule, long.kind, long.details], ['period_too_long', 'invalid', { days: 400, maxDays: 366 }]);
  const busy = new AnalysisBusy(15_000, 15);
  assert.deepEqual([busy.rule, busy.kind, busy.details], ['analysis_busy', 'busy', { retryAfterSeconds: 15 }]);
});

test('the CLI answers each kind with its exit code: bad input 2, refused by a rule 3, busy or limited 1', () => {
  const exits = Object.fromEntries(REFUSAL_KINDS.map((k) => [k, exitForRefusal(k)]));
  assert.deepEqual(exits, {
    invalid: EXIT.usage,
    not_found: EXIT.usage,
    refused: EXIT.refused,
    conflict: EXIT.refused,
    busy: EXIT.failed,
    limited: EXIT.failed,
  });
  assert.deepEqual(EXIT, { ok: 0, failed: 1, usage: 2, refused: 3 });
});
