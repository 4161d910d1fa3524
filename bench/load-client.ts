// The load generator (bench/load.mjs) run in its own process, so it does not share the server's event loop:
// one way for every bench. The configuration goes in a file (a bench's bodies can be too big for argv).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /**
   * CPU time per 2xx response, in ms, during the run: this process (the server, and PGlite when embedded), the
   * PostgreSQL server's processes on this machine (0 with PGlite or a remote server), and the load generator.
   * On two shared cores throughput follows the sum, so this says where a route's cost goes, run to run steadier
   * than requests per second.
   */
  cpu: { server: number; database: number; client: number };
}

/** CPU time (ms) used so far by the local PostgreSQL server's processes, read from /proc (Linux). */
function postgresCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      const f = stat.slice(close + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // The process ended while we looked.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

export async function load(cfg: Record<string, unknown>): Promise<Load> {
  const server0 = process.cpuUsage();
  const db0 = postgresCpuMs();
  const r = await run(cfg);
  const server = process.cpuUsage(server0);
  const per = (ms: number) => ms / Math.max(1, r.ok);
  return { ...r, cpu: { server: per((server.user + server.system) / 1000), database: per(postgresCpuMs() - db0), client: per(r.clientCpuMs) } };
}

function run(cfg: Record<string, unknown>): Promise<Omit<Load, 'cpu'> & { clientCpuMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const file = join(dir, 'load.json');
  writeFileSync(file, JSON.stringify(cfg));
  return new Promise<Omit<Load, 'cpu'> & { clientCpuMs: number }>((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/load.mjs', `@${file}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Omit<Load, 'cpu'> & { clientCpuMs: number }) : reject(new Error(`load exited ${code}`)),
    );
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
