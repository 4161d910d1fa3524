// A PostgreSQL cluster of the fault suite's own: initdb in a directory of its own, its own port, started,
// stopped, restarted and frozen by the scripts — never the shared server on 5432 (developers' guide).
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { untilDone } from './cleanup.ts';

/** Where Debian keeps the server's programs (initdb and pg_ctl are not on PATH there). */
function binDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const root = '/usr/lib/postgresql';
    const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions[0] === undefined) throw new Error('PostgreSQL server programs not found (pg_config --bindir, /usr/lib/postgresql/*/bin): install postgresql');
    return join(root, versions[0], 'bin');
  }
}

/** initdb refuses to run as root; the scripts then run the server's programs as the `postgres` user. */
const AS_ROOT = process.getuid?.() === 0;

function pgUser(): { uid: number; gid: number } | null {
  if (!AS_ROOT) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('running as root, and there is no `postgres` user to run the cluster as');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(program: string, args: readonly string[], timeoutMs = 60_000): string {
  const bin = join(binDir(), program);
  const [cmd, argv] = AS_ROOT ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, [...args]];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the cluster to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Why this machine cannot start a cluster of its own, or null when it can. */
export function clusterUnavailable(): string | null {
  try {
    if (!existsSync(join(binDir(), 'initdb'))) return `no initdb in ${binDir()}: install PostgreSQL's server package`;
    pgUser();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export interface Cluster {
  readonly port: number;
  readonly dataDir: string;
  /** The superuser's URL (the schema owner in the scripts). */
  readonly url: string;
  start(): void;
  /** `pg_ctl stop -m immediate` is a crash as far as the clients can tell; `fast` a clean shutdown. */
  stop(mode: 'immediate' | 'fast'): void;
  /** SIGSTOP to the postmaster and every backend: connections stay open and nothing answers. */
  freeze(): number;
  thaw(): void;
  /** Stops the cluster and removes its directory. */
  destroy(): void;
}

/** Process ids of the postmaster (first line of postmaster.pid) and of its children, from /proc. */
function clusterPids(dataDir: string): number[] {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return [];
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/**
 * initdb (trust authentication on 127.0.0.1 only, a socket in the data directory) and start, on a free port.
 * `dataDir` lets a script put the cluster on a disk of its choosing (the disk-full scenario's tmpfs).
 */
export async function startCluster(opts: { dataDir?: string; settings?: Readonly<Record<string, string>> } = {}): Promise<Cluster> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'gridwall-reliability-pg-'));
  const removeDir = () => {
    if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  let cluster: Cluster | null = null;
  try {
    const owner = pgUser();
    if (owner !== null) chownSync(dataDir, owner.uid, owner.gid);
    run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], 120_000);
    cluster = await startOnFreePort(dataDir, opts.settings ?? {}, removeDir);
    return cluster;
  } catch (e) {
    if (cluster === null) removeDir();
    throw e;
  }
}

/**
 * A streaming replica of `primary` (issue 21): `pg_basebackup -R` into a directory of its own (a base backup
 * with the WAL streamed beside it, and the settings that make it a standby following the primary over the
 * replication protocol — initdb's trust lines for 127.0.0.1 admit it), started on a free port of its own as a
 * hot standby (read-only queries while it replays). `settings` are the standby's own (e.g. hot_standby_feedback).
 */
export async function startStandby(primary: Cluster, opts: { settings?: Readonly<Record<string, string>> } = {}): Promise<Cluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gridwall-reliability-pg-standby-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  let cluster: Cluster | null = null;
  try {
    const owner = pgUser();
    if (owner !== null) chownSync(dataDir, owner.uid, owner.gid);
    // A fast checkpoint: the backup starts now, not at the primary's next spread checkpoint.
    run(
      'pg_basebackup',
      ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
      120_000,
    );
    cluster = await startOnFreePort(dataDir, opts.settings ?? {}, removeDir);
    return cluster;
  } catch (e) {
    if (cluster === null) removeDir();
    throw e;
  }
}

/**
 * Starts the cluster in `dataDir` on a free port. The port is asked of the kernel and released before
 * PostgreSQL binds it: another process may take it meanwhile, so a start that cannot bind tries another port.
 */
async function startOnFreePort(dataDir: string, settings: Readonly<Record<string, string>>, removeDir: () => void): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    const candidate = make(dataDir, await freePort(), settings, removeDir);
    try {
      candidate.start();
      return candidate;
    } catch (e) {
      if (attempt >= 3 || !/could not bind|already in use/i.test(readLog(dataDir))) throw e;
    }
  }
}

/** A signal to a process that may have ended meanwhile (a backend that finished its session). */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ESRCH') throw e;
  }
}

function readLog(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, 'server.log'), 'utf8');
  } catch {
    return '';
  }
}

function make(dataDir: string, port: number, extra: Readonly<Record<string, string>>, removeDir: () => void): Cluster {
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dataDir, max_connections: '100', ...extra };
  const options = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  let done: (() => void) | null = null;
  let thawDone: (() => void) | null = null;
  const stop = (mode: 'immediate' | 'fast') => void run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  const thaw = () => {
    for (const pid of clusterPids(dataDir)) signal(pid, 'SIGCONT');
    thawDone?.();
    thawDone = null;
  };
  const cluster: Cluster = {
    port,
    dataDir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => {
      run('pg_ctl', ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
      // Interrupted, the run stops the cluster it started (and does not leave it behind).
      done ??= untilDone(() => {
        thaw();
        stop('immediate');
      });
    },
    stop,
    freeze: () => {
      // The postmaster first: stopped, it forks no backend while its children are being stopped.
      const [postmaster, ...rest] = clusterPids(dataDir);
      if (postmaster === undefined) return 0;
      signal(postmaster, 'SIGSTOP');
      thawDone ??= untilDone(thaw);
      for (const pid of rest) signal(pid, 'SIGSTOP');
      const children = clusterPids(dataDir).slice(1);
      for (const pid of children) if (!rest.includes(pid)) signal(pid, 'SIGSTOP');
      return 1 + new Set([...rest, ...children]).size;
    },
    thaw,
    destroy: () => {
      try {
        thaw();
        if (existsSync(join(dataDir, 'postmaster.pid'))) stop('immediate');
      } finally {
        done?.();
        removeDir();
      }
    },
  };
  return cluster;
}
