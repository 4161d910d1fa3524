import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

// The other command-line tests run `main` in-process (test/support/cli.ts). This one runs the real binary,
// end to end: tsx start-up, the process's streams and the exit status set from `main`'s result.
test('bin/gridwall.js runs: `verify --format csv` prints the checklist and exits 0; a bad option exits 2 saying which', () => {
  const ok = spawnSync(process.execPath, ['bin/gridwall.js', 'verify', '--format', 'csv'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.stdout.startsWith('\uFEFF照会経路,利用者区分,需要家との関係,非常災害時,項目,'));
  assert.match(ok.stderr, /verify: PASS/);
  const bad = spawnSync(process.execPath, ['bin/gridwall.js', 'verify', '--format', 'pdf'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /option '--format <format>' argument 'pdf' is invalid/);
});
