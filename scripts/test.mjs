// Runs the *.test.ts files under test/ (or the files and folders named) with Node's own test runner (through
// tsx), after building the console when a browser or console-serving test is among them (they drive the
// built console; a stale build would test yesterday's screens). Node 20's --test takes no globs, so the files
// are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

// Arguments name test files or folders (`npm run test:unit` and friends); none: every test.
const only = process.argv.slice(2);
const files = (only.length > 0 ? only.flatMap((p) => (statSync(p).isDirectory() ? find(p) : [p])) : find('test')).sort();

// The console is built only when a selected test drives or serves it — a fresh build then, never a stale one.
const needsConsole = files.some((f) => f.split(/[\\/]/).includes('e2e') || /console-serving\.test\.ts$/.test(f));
if (needsConsole) {
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...files],
  { stdio: 'inherit', env: { ...process.env, TZ: 'Asia/Tokyo' } },
);
process.exit(result.status ?? 1);
