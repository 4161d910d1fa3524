// The fault suite (issue 17): gridwall run as an operator runs it, under load and faults, on a PostgreSQL
// cluster of its own or the embedded store. Each scenario prints its figures and checks the promises that
// must hold whatever happens: every 200 has its committed event in the access log (matched by request id),
// no failure is a 500, every failure a client saw is in the server log under its request id, the chain
// verifies afterwards, and service comes back by itself. docs/RELIABILITY.md lists them with their figures.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANSWER_TIMEOUT_DEFAULT_MS } from '../../src/config.ts';
import { untilDone } from './cleanup.ts';
import { clusterUnavailable, freePort, startCluster, type Cluster } from './cluster.ts';
import { embeddedStore, login, postgresStore, startServer, supplyPointIds, type Server, type Store } from './gridwall.ts';
import { figures, sleep, startLoad, type Answer } from './load.ts';

export type StoreKind = 'postgres' | 'pglite';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface Report {
  readonly scenario: string;
  readonly store: StoreKind;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly figures: Readonly<Record<string, unknown>>;
  readonly checks: readonly Check[];
  /** The server's output (banner and structured log) of the run. */
  readonly serverLog: string;
}

export interface Common {
  readonly store: StoreKind;
  readonly clients: number;
  readonly seconds: number;
  readonly supplyPoints: number;
  /** Where the server's output is kept (a new temporary directory when not given). */
  readonly outDir?: string;
  /** More of gridwall's configuration for the server (e.g. shorter time-outs for the short runs in npm test). */
  readonly serverEnv?: NodeJS.ProcessEnv;
}

/** The store and, on PostgreSQL, the cluster under it; torn down whatever happens. */
async function withStore<T>(c: Common, fn: (store: Store, cluster: Cluster | null) => Promise<T>, clusterDir?: string): Promise<T> {
  const cluster = c.store === 'postgres' ? await startCluster(clusterDir === undefined ? {} : { dataDir: clusterDir }) : null;
  let store: Store | null = null;
  try {
    store = cluster === null ? embeddedStore(c.supplyPoints) : await postgresStore(cluster, c.supplyPoints);
    return await fn(store, cluster);
  } finally {
    store?.destroy();
    cluster?.destroy();
  }
}

function outDir(c: Common): string {
  const dir = c.outDir ?? mkdtempSync(join(tmpdir(), 'gridwall-reliability-out-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A session and the supply points to look up; the server is stopped when either cannot be had. */
async function session(server: Server): Promise<{ cookie: string; ids: string[] }> {
  try {
    const cookie = await login(server.url);
    return { cookie, ids: await supplyPointIds(server.url, cookie) };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** The promises every scenario checks once the server is stopped. */
async function evidence(
  store: Store,
  answers: readonly Answer[],
  servers: readonly Server[],
  serverLog: string,
): Promise<{ figures: Record<string, unknown>; checks: Check[] }> {
  // Every answer the clients got, for a closer look (at: ms since the load began), beside the server's log.
  writeFileSync(serverLog.replace(/server\.log$/, 'answers.jsonl'), answers.map((a) => JSON.stringify(a)).join('\n'));
  const okIds = answers.filter((a) => a.status === 200).map((a) => a.requestId ?? '');
  const logged = await store.logged(okIds);
  const unlogged = okIds.filter((id) => !logged.has(id));
  const fiveHundreds = answers.filter((a) => a.status >= 500 && a.status !== 503).length;
  // Every answered failure is findable in the server log by the request id the client was given — beyond the
  // line every answer leaves: a 503 has the operator's line (warning or error) saying what failed.
  const operator = servers.flatMap((s) => s.logLines()).filter((l) => typeof l['level'] === 'number' && l['level'] >= 40);
  const operatorIds = new Set(operator.map((l) => (typeof l['reqId'] === 'string' ? l['reqId'] : '')));
  const failedIds = answers.filter((a) => a.status !== 200 && a.requestId !== null).map((a) => a.requestId ?? '');
  const untraced = failedIds.filter((id) => !operatorIds.has(id));
  const operatorLines: Record<string, number> = {};
  for (const l of operator) operatorLines[String(l['msg'])] = (operatorLines[String(l['msg'])] ?? 0) + 1;
  const verified = store.verify();
  return {
    figures: { servedWithData: okIds.length, servedAndLogged: logged.size, failuresAnswered: failedIds.length, operatorLines },
    checks: [
      { name: 'every 200 has its event in the access log', ok: okIds.length > 0 && unlogged.length === 0, detail: `${logged.size} of ${okIds.length}` },
      { name: 'no failure is a 500', ok: fiveHundreds === 0, detail: `${fiveHundreds} answers 5xx other than 503` },
      {
        name: 'every failure answered has its warning or error line in the server log',
        ok: untraced.length === 0,
        detail: `${failedIds.length - untraced.length} of ${failedIds.length}`,
      },
      { name: 'gridwall audit verify', ok: verified.ok, detail: verified.output.split('\n').slice(0, 3).join(' / ') },
    ],
  };
}

/** The first 200 sent at or after `t` (ms since the load began), as the time from `t` to its answer. */
function backAfter(answers: readonly Answer[], t: number): number | null {
  const first = answers.filter((a) => a.at >= t && a.status === 200).sort((a, b) => a.at - b.at)[0];
  return first === undefined ? null : Math.round(first.at + first.ms - t);
}

/** Failures among the answers sent in [from, to), by "status code". */
function failuresBetween(answers: readonly Answer[], from: number, to: number): Record<string, number> {
  return figures(
    answers.filter((a) => a.at >= from && a.at < to),
    1,
  ).failures;
}

/** Steady load: each client count in turn for `seconds`; no failure at all is expected. */
export async function loadScenario(c: Common & { readonly clientCounts: readonly number[] }): Promise<Report> {
  const dir = outDir(c);
  const serverLog = join(dir, 'load.server.log');
  return withStore(c, async (store) => {
    const server = await startServer(store, serverLog, c.serverEnv);
    const all: Answer[] = [];
    const rounds: Record<string, unknown>[] = [];
    try {
      const { cookie, ids } = await session(server);
      for (const clients of c.clientCounts) {
        const load = startLoad({ url: () => server.url, cookie: () => cookie, ids, clients });
        await sleep(c.seconds * 1000);
        const answers = await load.stop();
        all.push(...answers);
        rounds.push({ clients, ...figures(answers, c.seconds) });
      }
    } finally {
      await server.stop();
    }
    const e = await evidence(store, all, [server], serverLog);
    const failed = all.filter((a) => a.status !== 200).length;
    return {
      scenario: 'load',
      store: c.store,
      settings: { clientCounts: c.clientCounts, seconds: c.seconds, supplyPoints: c.supplyPoints },
      figures: { rounds, ...e.figures },
      checks: [{ name: 'no failure under steady load', ok: failed === 0, detail: `${failed} of ${all.length} failed` }, ...e.checks],
      serverLog,
    };
  });
}

/** kill -9 of the server under load, then a restart on the same port: nothing it answered is lost. */
export async function kill9Scenario(c: Common): Promise<Report> {
  const dir = outDir(c);
  const serverLog = join(dir, 'kill9.server.log');
  return withStore(c, async (store) => {
    const port = String(await freePort());
    const first = await startServer(store, serverLog, { ...c.serverEnv, PORT: port });
    const servers = [first];
    const { cookie, ids } = await session(first);
    const load = startLoad({ url: () => first.url, cookie: () => cookie, ids, clients: c.clients, backoffMs: 50 });
    let killAt: number;
    let restartMs: number;
    try {
      await sleep((c.seconds * 1000) / 2);
      killAt = performance.now() - load.startedAt;
      first.child.kill('SIGKILL');
      await first.exited;
      const t0 = performance.now();
      servers.push(await startServer(store, serverLog, { ...c.serverEnv, PORT: port }));
      restartMs = Math.round(performance.now() - t0);
      await sleep((c.seconds * 1000) / 2);
    } finally {
      await load.stop();
      for (const s of servers) await s.stop();
    }
    const answers = load.answers();
    const beforeKill = answers.filter((a) => a.status === 200 && a.at + a.ms <= killAt).length;
    const e = await evidence(store, answers, servers, serverLog);
    const back = backAfter(answers, killAt);
    return {
      scenario: 'kill9',
      store: c.store,
      settings: { clients: c.clients, seconds: c.seconds, supplyPoints: c.supplyPoints },
      figures: {
        ...figures(answers, c.seconds),
        servedBeforeKill: beforeKill,
        restartMs,
        firstServedAfterKillMs: back,
        failuresAroundKill: failuresBetween(answers, killAt - 1000, killAt + restartMs + 1000),
        ...e.figures,
      },
      checks: [
        { name: 'served again after the restart (sessions kept in the store)', ok: back !== null, detail: `first 200 ${back} ms after the kill` },
        ...e.checks,
      ],
      serverLog,
    };
  });
}

/**
 * The shape of a fault under load: the clients run for a third of `seconds`, the fault begins, holds for
 * `holdMs`, ends, and the clients run on for `settleMs` (at least a third of `seconds`); the fault is undone
 * and the server stopped whatever happens. Returns every answer, and when the fault began and ended (ms
 * since the load began).
 */
async function faultUnderLoad(
  c: Common,
  store: Store,
  serverLog: string,
  fault: { begin(): void; end(): void; readonly holdMs: number; readonly settleMs: number; readonly requestTimeoutMs?: number },
): Promise<{ answers: readonly Answer[]; from: number; to: number; server: Server }> {
  const server = await startServer(store, serverLog, c.serverEnv);
  const { cookie, ids } = await session(server);
  const load = startLoad({
    url: () => server.url,
    cookie: () => cookie,
    ids,
    clients: c.clients,
    ...(fault.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: fault.requestTimeoutMs }),
  });
  let from: number;
  let to: number;
  // Undone once, and only if it began (a cluster that was never stopped is not started again).
  let state: 'before' | 'on' | 'over' = 'before';
  const end = () => {
    if (state === 'on') fault.end();
    state = 'over';
  };
  try {
    await sleep((c.seconds * 1000) / 3);
    from = performance.now() - load.startedAt;
    state = 'on';
    fault.begin();
    await sleep(fault.holdMs);
    end();
    to = performance.now() - load.startedAt;
    await sleep(Math.max(fault.settleMs, (c.seconds * 1000) / 3));
  } finally {
    end();
    await load.stop();
    await server.stop();
  }
  return { answers: load.answers(), from, to, server };
}

const STABLE_503 = /^503 (store_unavailable|log_unavailable|answer_timeout)$/;

/** The check that failures during a fault were there, and each a 503 with a stable code. */
function stable503(name: string, during: Record<string, number>): Check {
  const codes = Object.keys(during);
  return { name, ok: codes.length > 0 && codes.every((k) => STABLE_503.test(k)), detail: JSON.stringify(during) };
}

/**
 * PostgreSQL stopped (`pg_ctl stop -m immediate`, a crash to its clients) under load for `downSeconds`, then
 * started again: 503 with a stable code meanwhile, service back without restarting gridwall.
 */
export async function pgRestartScenario(c: Common & { readonly downSeconds: number }): Promise<Report> {
  const dir = outDir(c);
  const serverLog = join(dir, 'pg-restart.server.log');
  return withStore({ ...c, store: 'postgres' }, async (store, cluster) => {
    if (cluster === null) throw new Error('pg-restart needs PostgreSQL');
    const { answers, from, to, server } = await faultUnderLoad(c, store, serverLog, {
      begin: () => cluster.stop('immediate'),
      end: () => cluster.start(),
      holdMs: c.downSeconds * 1000,
      settleMs: 5000,
    });
    const during = failuresBetween(answers, from, to);
    const e = await evidence(store, answers, [server], serverLog);
    const back = backAfter(answers, to);
    return {
      scenario: 'pg-restart',
      store: 'postgres',
      settings: { clients: c.clients, seconds: c.seconds, downSeconds: c.downSeconds, supplyPoints: c.supplyPoints },
      figures: { ...figures(answers, c.seconds), failuresWhileDown: during, firstServedAfterStartMs: back, ...e.figures },
      checks: [
        stable503('while PostgreSQL is down: 503 with a stable code (store_unavailable, log_unavailable or answer_timeout)', during),
        { name: 'served again once PostgreSQL is back, without restarting gridwall', ok: back !== null, detail: `${back} ms after the start` },
        ...e.checks,
      ],
      serverLog,
    };
  });
}

/**
 * PostgreSQL frozen (SIGSTOP to every process of the cluster) under load: no request waits longer than the
 * time-outs allow, the answers are 503s with a stable code, and service comes back after SIGCONT.
 */
export async function pgFreezeScenario(c: Common & { readonly freezeSeconds: number }): Promise<Report> {
  const dir = outDir(c);
  const serverLog = join(dir, 'pg-freeze.server.log');
  // Whatever the store does, a request is answered within the answer time-out (+ 2 s for the machine).
  const answerMs = Number(c.serverEnv?.['GRIDWALL_HTTP_ANSWER_TIMEOUT_MS'] ?? ANSWER_TIMEOUT_DEFAULT_MS);
  const bound = answerMs + 2_000;
  return withStore({ ...c, store: 'postgres' }, async (store, cluster) => {
    if (cluster === null) throw new Error('pg-freeze needs PostgreSQL');
    let processes = 0;
    const { answers, from, to, server } = await faultUnderLoad(c, store, serverLog, {
      begin: () => (processes = cluster.freeze()),
      end: () => cluster.thaw(),
      holdMs: c.freezeSeconds * 1000,
      settleMs: 5000,
      requestTimeoutMs: 120_000,
    });
    // In flight at any moment of the freeze, those sent before it included (they wait longest).
    const frozen = answers.filter((a) => a.at < to && a.at + a.ms > from);
    const longest = Math.round(Math.max(0, ...frozen.map((a) => a.ms)));
    const during = failuresBetween(answers, from, to);
    const e = await evidence(store, answers, [server], serverLog);
    const back = backAfter(answers, to);
    return {
      scenario: 'pg-freeze',
      store: 'postgres',
      settings: { clients: c.clients, seconds: c.seconds, freezeSeconds: c.freezeSeconds, supplyPoints: c.supplyPoints },
      figures: {
        ...figures(answers, c.seconds),
        processesFrozen: processes,
        longestWaitWhileFrozenMs: longest,
        failuresWhileFrozen: during,
        firstServedAfterThawMs: back,
        ...e.figures,
      },
      checks: [
        {
          name: `no request waits past the time-outs while PostgreSQL is frozen (≤ ${bound} ms)`,
          ok: frozen.length > 0 && longest <= bound,
          detail: `${longest} ms over ${frozen.length} requests`,
        },
        stable503('while frozen: 503 with a stable code', during),
        { name: 'served again after SIGCONT, without restarting gridwall', ok: back !== null, detail: `${back} ms after the thaw` },
        ...e.checks,
      ],
      serverLog,
    };
  });
}

/** Mounts a tmpfs of `sizeMb` (root only: the scenario says so and stops otherwise). */
function mountTmpfs(sizeMb: number): { dir: string; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gridwall-reliability-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`disk-full needs a tmpfs it can mount (run as root): mount said ${r.stderr.trim() || r.status}`);
  }
  const unmount = () => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  };
  // Interrupted, the run unmounts it (registered after the cluster on it, so undone after the cluster stops).
  const done = untilDone(unmount);
  return {
    dir,
    unmount: () => {
      done();
      unmount();
    },
  };
}

/** Fills the file system under `dir` until it has no room left; returns the filler's size in bytes. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return written;
}

/**
 * The disk under PostgreSQL fills up (a small tmpfs the cluster lives on) under load for `fullSeconds`, then
 * room is made again: nothing is served without its event meanwhile, and service comes back by itself.
 */
export async function diskFullScenario(c: Common & { readonly fullSeconds: number; readonly sizeMb: number }): Promise<Report> {
  const dir = outDir(c);
  const serverLog = join(dir, 'disk-full.server.log');
  const tmpfs = mountTmpfs(c.sizeMb);
  const mount = tmpfs.dir;
  try {
    const pgDir = join(mount, 'pg');
    mkdirSync(pgDir);
    return await withStore(
      { ...c, store: 'postgres' },
      async (store) => {
        const filler = join(mount, 'filler');
        let filled = 0;
        const { answers, from, to, server } = await faultUnderLoad(c, store, serverLog, {
          begin: () => (filled = fill(filler)),
          end: () => rmSync(filler, { force: true }),
          holdMs: c.fullSeconds * 1000,
          settleMs: 10_000,
        });
        const during = failuresBetween(answers, from, to);
        const e = await evidence(store, answers, [server], serverLog);
        const back = backAfter(answers, to);
        return {
          scenario: 'disk-full',
          store: 'postgres' as const,
          settings: { clients: c.clients, seconds: c.seconds, fullSeconds: c.fullSeconds, tmpfsMb: c.sizeMb, supplyPoints: c.supplyPoints },
          figures: { ...figures(answers, c.seconds), fillerBytes: filled, failuresWhileFull: during, firstServedAfterFreedMs: back, ...e.figures },
          checks: [
            stable503('while the disk is full: 503 with a stable code (and no 200 without its event, below)', during),
            { name: 'served again once there is room, without restarting gridwall', ok: back !== null, detail: `${back} ms after room was made` },
            ...e.checks,
          ],
          serverLog,
        };
      },
      pgDir,
    );
  } finally {
    tmpfs.unmount();
  }
}

/**
 * Slow-header clients (a byte a second, never finishing the headers) against a running server: each is cut
 * off once the header time-out passes, and an ordinary client is served throughout.
 */
export async function slowHeadersScenario(c: Common & { readonly connections: number; readonly headersTimeoutMs: number }): Promise<Report> {
  const dir = outDir(c);
  const serverLog = join(dir, 'slow-headers.server.log');
  return withStore(c, async (store) => {
    const server = await startServer(store, serverLog, { ...c.serverEnv, GRIDWALL_HTTP_HEADERS_TIMEOUT_MS: String(c.headersTimeoutMs) });
    const { hostname, port } = new URL(server.url);
    const t0 = performance.now();
    const lifetimes: number[] = [];
    const answers: string[] = [];
    const sockets: Socket[] = [];
    const closed = Array.from(
      { length: c.connections },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(Number(port), hostname);
          sockets.push(s);
          let reply = '';
          let n = 0;
          const drip = setInterval(() => s.write(n++ === 0 ? 'GET /api/health/live HTTP/1.1\r\nHost: gridwall\r\nX-Slow: ' : 'a'), 1000);
          s.on('data', (d: Buffer) => (reply += d.toString()));
          s.on('error', () => undefined);
          s.on('close', () => {
            clearInterval(drip);
            lifetimes.push(Math.round(performance.now() - t0));
            answers.push(reply);
            resolve();
          });
        }),
    );
    const bound = c.headersTimeoutMs + 3000;
    let served = 0;
    let refused = 0;
    let giveUpTimer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<'timeout'>((resolve) => (giveUpTimer = setTimeout(() => resolve('timeout'), Math.max(bound + 5000, c.seconds * 1000))));
    const all = Promise.all(closed).then(() => 'closed' as const);
    const ordinary = (async () => {
      while ((await Promise.race([all, sleep(250).then(() => 'tick' as const)])) === 'tick') {
        const r = await fetch(`${server.url}/api/health/live`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
        if (r?.status === 200) served++;
        else refused++;
      }
    })();
    const outcome = await Promise.race([all, giveUp]);
    clearTimeout(giveUpTimer);
    for (const s of sockets) s.destroy();
    await ordinary;
    await server.stop();
    const longest = Math.max(0, ...lifetimes);
    const statuses: Record<string, number> = {};
    const statusLine = (a: string) => a.split('\r\n')[0] || '(closed without an answer)';
    for (const a of answers) statuses[statusLine(a)] = (statuses[statusLine(a)] ?? 0) + 1;
    const inShape = (a: string) => {
      try {
        const e = (JSON.parse(a.slice(a.indexOf('\r\n\r\n') + 4)) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } }).error;
        return typeof e?.code === 'string' && typeof e.message === 'string' && typeof e.requestId === 'string';
      } catch {
        return false;
      }
    };
    return {
      scenario: 'slow-headers',
      store: c.store,
      settings: { connections: c.connections, headersTimeoutMs: c.headersTimeoutMs },
      figures: { longestSlowConnectionMs: longest, slowConnectionAnswers: statuses, ordinaryServed: served, ordinaryFailed: refused },
      checks: [
        {
          name: `every slow-header connection cut off within the header time-out + 3 s (≤ ${bound} ms)`,
          ok: outcome === 'closed' && longest <= bound,
          detail: `longest ${longest} ms`,
        },
        {
          name: 'each is answered 408 in the one error shape before it is closed',
          ok: answers.length > 0 && answers.every((a) => /^HTTP\/1\.1 408/.test(a) && inShape(a)),
          detail: JSON.stringify(statuses),
        },
        { name: 'an ordinary client is served throughout', ok: served > 0 && refused === 0, detail: `${served} served, ${refused} failed` },
      ],
      serverLog,
    };
  });
}

export const SCENARIOS = ['load', 'kill9', 'pg-restart', 'pg-freeze', 'disk-full', 'slow-headers'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Whether this machine can run a scenario (PostgreSQL's programs; root for the tmpfs). */
export function unavailable(s: Scenario, store: StoreKind): string | null {
  const needsPg = store === 'postgres' || s === 'pg-restart' || s === 'pg-freeze' || s === 'disk-full';
  const noCluster = needsPg ? clusterUnavailable() : null;
  if (noCluster !== null) return noCluster;
  if (s === 'disk-full' && process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  return null;
}
