// The load generator (bench/load.mjs) run in its own process, so it does not share the server's event loop:
// one way for every bench. The configuration goes in a file (a bench's bodies can be too big for argv).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What load.mjs prints: requests per second, latencies in ms, and the responses by kind. */
export interface Load {
  rps: number;
  mean: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
}

export function load(cfg: Record<string, unknown>): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const file = join(dir, 'load.json');
  writeFileSync(file, JSON.stringify(cfg));
  return new Promise<Load>((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/load.mjs', `@${file}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Load) : reject(new Error(`load exited ${code}`))));
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
