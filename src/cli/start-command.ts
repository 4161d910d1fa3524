import type { Config } from '../config.ts';
import { startServer } from '../server.ts';
import type { CliIo } from './io.ts';

/** `gridwall start`: runs until SIGINT/SIGTERM, then closes the server and releases the data directory. */
export async function runStart(config: Config, io: CliIo): Promise<number> {
  const say = (line: string) => io.stdout.write(`${line}\n`);
  say(config.store.kind === 'pglite' ? `gridwall: embedded PostgreSQL (PGlite) in ${config.store.dataDir}` : 'gridwall: PostgreSQL server from DATABASE_URL');
  const running = await startServer(config, () => new Date(), say);
  say('');
  say(`gridwall is running: ${running.url}`);
  say(`  Console (日本語 / English): open ${running.url}/ in a browser`);
  say(`  API description: ${running.url}/api/openapi.json`);
  if (running.personas.length > 0) {
    say('  Demo login (no password in the embedded demo): pick a persona on the console\'s login screen, or POST /api/session {"userId": "<user>"}:');
    for (const p of running.personas) say(`    ${p.userId.padEnd(18)} ${p.labelJa} — ${p.labelEn}`);
  }
  if (config.store.kind === 'pglite')
    say('  Note: the embedded store does not fsync; it is for demos and trials. Production runs on PostgreSQL (DATABASE_URL).');
  say('Press Ctrl+C to stop.');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  say('gridwall: stopping…');
  await running.stop();
  return 0;
}
