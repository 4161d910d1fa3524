// Runs the *.test.ts files under test/ (or the files and folders named) with Node's own test runner (through
// tsx), after building the console when a browser or console-serving test is among them (they drive the
// built console; a stale build would test yesterday's screens). Node 20's --test takes no globs, so the files
// are listed here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * What a test file needs, read from what it imports: a browser (e2e), a store, a server or another process
 * (store), or nothing but the code (unit). `npm run test:unit | test:store | test:e2e` select by it, so a file
 * lands in the right loop wherever it lives in test/ (which mirrors src/).
 */
function kindOf(file) {
  const text = readFileSync(file, 'utf8');
  if (/support\/browser\.ts/.test(text)) return 'e2e';
  if (/support\/(stores|cli)\.ts|src\/store\/(pglite|postgres)\.ts|scripts\/reliability\/|node:child_process/.test(text)) return 'store';
  return 'unit';
}

// Arguments: `--unit`, `--store`, `--e2e` (by what the files need), or test files and folders; none: every test.
const args = process.argv.slice(2);
const kinds = args.filter((a) => a.startsWith('--')).map((a) => a.slice(2));
for (const k of kinds) if (!['unit', 'store', 'e2e'].includes(k)) throw new Error(`unknown option --${k} (use --unit, --store, --e2e)`);
const only = args.filter((a) => !a.startsWith('--'));
const named = (only.length > 0 ? only.flatMap((p) => (statSync(p).isDirectory() ? find(p) : [p])) : find('test')).sort();
const selected = kinds.length === 0 ? named : named.filter((f) => kinds.includes(kindOf(f)));
if (selected.length === 0) throw new Error('no test file selected');

// The longest files start first (browser, then store, then unit; the larger file first within each), so the
// run does not end with one long file going while the other slot idles: two slots finish within seconds of
// each other (measured: 234 s alphabetically, see bench/RESULTS.md).
const RANK = { e2e: 0, store: 1, unit: 2 };
const files = selected
  .map((f) => ({ f, rank: RANK[kindOf(f)], size: statSync(f).size }))
  .sort((a, b) => a.rank - b.rank || b.size - a.size)
  .map((x) => x.f);

// The console is built only when a selected test drives or serves it — a fresh build then, never a stale one.
const needsConsole = files.some((f) => kindOf(f) === 'e2e' || /console-serving\.test\.ts$/.test(f));
if (needsConsole) {
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Test files run two at a time by default: many wait on PostgreSQL, Chromium or a child process, so two
// overlap on two cores. Every store is its own (a PGlite copy, or a schema and role of its own on the server).
const CONCURRENCY = Number(process.env['GRIDWALL_TEST_CONCURRENCY'] ?? 2);
if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1)
  throw new Error(`GRIDWALL_TEST_CONCURRENCY must be a whole number ≥ 1, not ${process.env['GRIDWALL_TEST_CONCURRENCY']}`);

const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${CONCURRENCY}`, ...files], {
  stdio: 'inherit',
  env: { ...process.env, TZ: 'Asia/Tokyo' },
});
process.exit(result.status ?? 1);
