import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import type { Persona } from '../demo/generate.ts';
import { startServer } from '../server.ts';
import type { CliIo } from './io.ts';

/** A worker tells the primary it is serving (or that it could not start) over the cluster's channel. */
type WorkerMessage =
  { readonly gridwall: 'ready'; readonly url: string; readonly personas: readonly Persona[] } | { readonly gridwall: 'failed'; readonly message: string };

/**
 * Which of the N places a worker fills (0…N-1): its metrics port is the configured one plus this. Set by the
 * primary for each worker it starts — not configuration, so not a GRIDWALL_ name (those are all in the reference).
 */
const SLOT_ENV = 'GW_CLUSTER_SLOT';
/** How long the primary waits for every worker to serve (migrations and the writer's check of the chain run first). */
const READY_WAIT_MS = 180_000;
/** How long the primary waits for the workers to stop after passing on a signal, before it kills them. */
const STOP_WAIT_MS = 30_000;
/** A worker that dies is started again, unless this many died within RESTART_WINDOW_MS: then everything stops. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

function banner(say: (line: string) => void, config: Config, url: string, personas: readonly Persona[], workers: number): void {
  say('');
  say(`gridwall is running: ${url}${workers > 1 ? ` (${workers} server processes on one port, one PostgreSQL)` : ''}`);
  say(`  Console (日本語 / English): open ${url}/ in a browser`);
  say(`  API description: ${url}/api/openapi.json`);
  if (personas.length > 0) {
    say('  Demo login (no password in the embedded demo): pick a persona on the console\'s login screen, or POST /api/session {"userId": "<user>"}:');
    for (const p of personas) say(`    ${p.userId.padEnd(18)} ${p.labelJa} — ${p.labelEn}`);
  }
  if (config.store.kind === 'pglite')
    say('  Note: the embedded store does not fsync; it is for demos and trials. Production runs on PostgreSQL (DATABASE_URL).');
  say('Press Ctrl+C to stop.');
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * `gridwall start`: runs until SIGINT/SIGTERM, then closes the server and releases the data directory. With
 * `workers` > 1 (PostgreSQL only; config.ts refuses it on the embedded store), N server processes share the
 * port through node:cluster (issue 21): each is a whole server — its own pool, its own group-commit writer
 * linking after the others' events, sessions and login limits read from the store — so any may take any
 * request, and one that dies is started again.
 */
export async function runStart(config: Config, io: CliIo): Promise<number> {
  if (cluster.isWorker) return runWorker(config, io);
  if (config.workers > 1) return runPrimary(config, io, config.workers);
  const say = (line: string) => io.stdout.write(`${line}\n`);
  say(config.store.kind === 'pglite' ? `gridwall: embedded PostgreSQL (PGlite) in ${config.store.dataDir}` : 'gridwall: PostgreSQL server from DATABASE_URL');
  const running = await startServer(config, () => new Date(), say);
  banner(say, config, running.url, running.personas, 1);
  await untilSignal();
  say('gridwall: stopping…');
  await running.stop();
  return 0;
}

/** One of N server processes: serves until told to stop, then says so to the primary by leaving the cluster. */
async function runWorker(config: Config, io: CliIo): Promise<number> {
  const slot = Number(io.env[SLOT_ENV] ?? '0');
  const say = (line: string) => io.stdout.write(`[worker ${slot + 1}] ${line}\n`);
  const metrics = config.metrics === null || config.metrics.port === 0 ? config.metrics : { ...config.metrics, port: config.metrics.port + slot };
  const send = (m: WorkerMessage) => process.send?.(m);
  // Heard from the start: a stop that comes while this process is still starting (the primary stopping all
  // just after starting this one again) ends it cleanly once started, not by the signal's default.
  const signalled = untilSignal();
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer({ ...config, metrics }, () => new Date(), say);
  } catch (e) {
    send({ gridwall: 'failed', message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  send({ gridwall: 'ready', url: running.url, personas: running.personas });
  await signalled;
  say('stopping…');
  await running.stop();
  cluster.worker?.disconnect();
  return 0;
}

/**
 * The primary: starts the workers, waits until every one serves (or stops them all if one cannot start),
 * prints where to go once, starts again a worker that dies, and on SIGINT/SIGTERM stops them all and waits.
 */
async function runPrimary(config: Config, io: CliIo, count: number): Promise<number> {
  const say = (line: string) => io.stdout.write(`${line}\n`);
  say(`gridwall: PostgreSQL server from DATABASE_URL; starting ${count} server processes`);
  // The workers run the command's own entry point (not whatever script loaded this module, e.g. a test).
  cluster.setupPrimary({ exec: fileURLToPath(new URL('../../bin/gridwall.js', import.meta.url)), args: ['start'], execArgv: [], silent: false });
  const bySlot = new Map<number, Worker>();
  const deaths: number[] = [];
  let stopping = false;
  // Until every process serves, one that ends is not started again: the start failed (and stops the rest).
  let serving = false;
  // Set by a worker's exit handler (the compiler cannot see it change there).
  let failure = null as string | null;
  let wakeUp: () => void = () => undefined;
  const woken = () => new Promise<void>((r) => (wakeUp = r));

  const fork = (slot: number): Worker => {
    const w = cluster.fork({ [SLOT_ENV]: String(slot) });
    bySlot.set(slot, w);
    w.on('exit', (code, signal) => {
      if (bySlot.get(slot) === w) bySlot.delete(slot);
      if (stopping || !serving) return wakeUp();
      const now = Date.now();
      deaths.push(now);
      while (deaths.length > 0 && (deaths[0] ?? 0) < now - RESTART_WINDOW_MS) deaths.shift();
      say(`gridwall: server process ${slot + 1} ended (${signal ?? `exit ${code}`})`);
      if (deaths.length >= MAX_RESTARTS) {
        failure = `${deaths.length} server processes ended within a minute; stopping`;
        return wakeUp();
      }
      say(`gridwall: starting server process ${slot + 1} again`);
      fork(slot);
    });
    return w;
  };

  // Every worker must serve before the primary says where to go; one that cannot start stops the rest.
  const ready = await new Promise<{ url: string; personas: readonly Persona[] } | string>((resolve) => {
    const up = new Set<number>();
    let first: { url: string; personas: readonly Persona[] } | null = null;
    const timer = setTimeout(() => resolve(`not every server process was serving after ${READY_WAIT_MS / 1000} s`), READY_WAIT_MS);
    for (let slot = 0; slot < count; slot++) {
      const w = fork(slot);
      w.on('message', (m: WorkerMessage) => {
        if (m?.gridwall === 'failed') {
          clearTimeout(timer);
          resolve(`server process ${slot + 1} could not start: ${m.message}`);
        } else if (m?.gridwall === 'ready') {
          first ??= { url: m.url, personas: m.personas };
          up.add(slot);
          if (up.size === count) {
            clearTimeout(timer);
            resolve(first);
          }
        }
      });
      // Any process that ends before all serve fails the start — one that was ready already too (it would
      // otherwise be left out: nothing restarts a process until all serve).
      w.once('exit', () => {
        clearTimeout(timer);
        resolve(`server process ${slot + 1} ended before every process served`);
      });
    }
  });

  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const w of bySlot.values()) w.process.kill('SIGTERM');
    const deadline = Date.now() + STOP_WAIT_MS;
    while (bySlot.size > 0 && Date.now() < deadline) await Promise.race([woken(), new Promise((r) => setTimeout(r, 500))]);
    for (const w of bySlot.values()) w.process.kill('SIGKILL');
  };

  if (typeof ready === 'string') {
    io.stderr.write(`gridwall: ${ready}\n`);
    await stopAll();
    return 1;
  }
  serving = true;
  banner(say, config, ready.url, ready.personas, count);
  await Promise.race([untilSignal(), woken().then(() => undefined)]);
  // A wake-up without a signal is a worker that keeps dying.
  const crashed = failure;
  say('gridwall: stopping…');
  await stopAll();
  if (crashed !== null) {
    io.stderr.write(`gridwall: ${crashed}\n`);
    return 1;
  }
  return 0;
}
