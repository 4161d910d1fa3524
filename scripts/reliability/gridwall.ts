// gridwall as an operator runs it, for the fault suite: the real binary as a child process on a store made
// the documented way (migrate, demo, grant-app, key register on PostgreSQL; the first start on the embedded
// store), and the evidence read back from the store afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { openPglite } from '../../src/store/pglite.ts';
import { untilDone } from './cleanup.ts';
import type { Cluster } from './cluster.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/gridwall.js');

/** The caller's environment without anything that would point gridwall elsewhere (CI sets DATABASE_URL). */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('GRIDWALL_') && k !== 'PORT') env[k] = v;
  return env;
}

/** Runs a gridwall command to its end; throws with its output unless it exits 0. */
export function gridwallCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...baseEnv(), ...env }, encoding: 'utf8', timeout: timeoutMs, cwd: ROOT });
  if (r.status !== 0) throw new Error(`gridwall ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A store ready for `gridwall start`: the server's environment, and the log read back by request id. */
export interface Store {
  readonly kind: 'postgres' | 'pglite';
  readonly dir: string;
  readonly serverEnv: NodeJS.ProcessEnv;
  /** The request ids among `ids` that have an event in the access log (on the embedded store: the server must be stopped). */
  logged(ids: readonly string[]): Promise<Set<string>>;
  /** `gridwall audit verify` over the store (the embedded one: server stopped). */
  verify(): { ok: boolean; output: string };
  destroy(): void;
}

async function loggedIn(
  q: { query(sql: string, params: unknown[]): Promise<{ rows: { request_id: string }[] }> },
  ids: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 20_000) {
    const { rows } = await q.query('SELECT request_id FROM access_log WHERE request_id = ANY($1::text[])', [ids.slice(i, i + 20_000)]);
    for (const r of rows) found.add(r.request_id);
  }
  return found;
}

function verifyWith(env: NodeJS.ProcessEnv): { ok: boolean; output: string } {
  const r = spawnSync(process.execPath, [BIN, 'audit', 'verify'], { env: { ...baseEnv(), ...env }, encoding: 'utf8', timeout: 300_000, cwd: ROOT });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * A PostgreSQL store on the suite's own cluster, made as docs/DEPLOYMENT.md says: the owner migrates, loads
 * the demo area and registers the signing key; the server connects as the application role.
 */
export async function postgresStore(cluster: Cluster, supplyPoints: number): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-reliability-'));
  const keyFile = join(dir, 'log-signing-key.pem');
  const owner = { DATABASE_URL: cluster.url, GRIDWALL_LOG_KEY_FILE: keyFile };
  gridwallCli(['db', 'migrate'], owner);
  gridwallCli(['demo', '--supply-points', String(supplyPoints)], owner);
  gridwallCli(['db', 'grant-app', 'gridwall_app'], owner);
  gridwallCli(['audit', 'key', 'register', '--generate'], owner);
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    await client.query('ALTER ROLE gridwall_app LOGIN');
  } finally {
    await client.end();
  }
  const appUrl = `postgres://gridwall_app@127.0.0.1:${cluster.port}/postgres`;
  return {
    kind: 'postgres',
    dir,
    serverEnv: { DATABASE_URL: appUrl, GRIDWALL_LOG_KEY_FILE: keyFile, GRIDWALL_DEMO_LOGIN: 'true' },
    logged: async (ids) => {
      const c = new pg.Client({ connectionString: cluster.url, connectionTimeoutMillis: 10_000 });
      await c.connect();
      try {
        return await loggedIn(c, ids);
      } finally {
        await c.end();
      }
    },
    verify: () => verifyWith(owner),
    destroy: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The embedded store as `npm start` makes it: the first start seeds the demo area. */
export function embeddedStore(supplyPoints: number): Store {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-reliability-'));
  return {
    kind: 'pglite',
    dir,
    serverEnv: { GRIDWALL_DATA_DIR: dir, GRIDWALL_DEMO_SUPPLY_POINTS: String(supplyPoints) },
    logged: async (ids) => {
      const db = await openPglite(dir);
      try {
        return await loggedIn(db, ids);
      } finally {
        await db.close();
      }
    },
    verify: () => verifyWith({ GRIDWALL_DATA_DIR: dir }),
    destroy: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A running `gridwall start`; its output (banner and the structured server log) goes to `logFile`. */
export interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM and wait: the clean stop. */
  stop(): Promise<void>;
  /** The server log's JSON lines so far (the banner's plain lines left out). */
  logLines(): Record<string, unknown>[];
}

/**
 * The rate and volume limits on reading (issue 20) set as high as they go: a load of thousands of reads by one
 * persona measures the server, not the limits, which would answer it 429 after 60 records a minute.
 */
export const LOAD_READ_LIMITS_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  [
    'GRIDWALL_READ_RECORDS_PER_MINUTE',
    'GRIDWALL_READ_RECORDS_PER_DAY',
    'GRIDWALL_READ_SEARCH_ROWS_PER_MINUTE',
    'GRIDWALL_EMERGENCY_READ_RECORDS_PER_MINUTE',
    'GRIDWALL_EMERGENCY_READ_RECORDS_PER_DAY',
    'GRIDWALL_EMERGENCY_READ_SEARCH_ROWS_PER_MINUTE',
    'GRIDWALL_READ_PERSON_RECORDS_PER_DAY',
    'GRIDWALL_INQUIRY_ANSWERS_PER_DAY',
  ].map((k) => [k, '1000000']),
);

export async function startServer(store: Store, logFile: string, extraEnv: NodeJS.ProcessEnv = {}, readyMs = 180_000): Promise<Server> {
  const out: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const lines: string[] = [];
  let pending = '';
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: { ...baseEnv(), PORT: '0', ...LOAD_READ_LIMITS_ENV, ...store.serverEnv, ...extraEnv },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((res) => child.once('exit', (code, signal) => res(code ?? signal ?? 'unknown')));
  // Interrupted, the run does not leave the server behind.
  void exited.then(untilDone(() => child.kill('SIGKILL')));
  const ready = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`gridwall did not start within ${readyMs} ms (see ${logFile})`)), readyMs);
    const take = (d: Buffer) => {
      out.write(d);
      pending += d.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
      const m = /gridwall is running: (http:\/\/\S+)/.exec(lines.join('\n'));
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        res(m[1]);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', (d: Buffer) => out.write(d));
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`gridwall exited ${code} before it was ready (see ${logFile})`));
    });
  });
  let url: string;
  try {
    url = await ready;
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
  return {
    url,
    child,
    exited: exited.finally(() => out.end()),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    logLines: () =>
      lines.flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
}

/** Logs in as a demo person (the persona login the scripts switch on) and returns the session cookie. */
export async function login(url: string, userId = 'demo-nw-cc'): Promise<string> {
  const r = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
    signal: AbortSignal.timeout(10_000),
  });
  if (r.status !== 201) throw new Error(`login as ${userId}: ${r.status} ${await r.text()}`);
  return (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

/** Supply point ids to look up, found the way an agent finds them (a search), `pages` × 100. */
export async function supplyPointIds(url: string, cookie: string, pages = 3): Promise<string[]> {
  const ids: string[] = [];
  for (let p = 0; p < pages; p++) {
    const q = new URLSearchParams({ purpose: 'customer_inquiry', address: '丁目', limit: '100', offset: String(p * 100) });
    const r = await fetch(`${url}/api/supply-points?${q.toString()}`, { headers: { cookie }, signal: AbortSignal.timeout(30_000) });
    if (r.status !== 200) throw new Error(`search: ${r.status} ${await r.text()}`);
    const body = (await r.json()) as { items: { supplyPointId: string }[]; page: { hasMore: boolean } };
    ids.push(...body.items.map((i) => i.supplyPointId));
    if (!body.page.hasMore) break;
  }
  if (ids.length === 0) throw new Error('search found no supply points to look up');
  return ids;
}
