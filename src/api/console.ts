import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { inputRefusal } from '../domain/refusal.ts';

/** Where `npm run build` (Vite) puts the console, relative to the package root. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export class ConsoleNotBuiltError extends inputRefusal('console_not_built') {
  constructor(dir: string) {
    super(`the console is not built (no ${join(dir, 'index.html')}): run \`npm run build\` (npm install does it too)`);
  }
}

/**
 * Serves the built console from `dir`: hashed assets cached for a year, the page itself never cached (so a
 * new build is picked up at once). Returns the function that answers the console's own paths with its page.
 */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<(reply: FastifyReply) => FastifyReply> {
  if (!existsSync(join(dir, 'index.html'))) throw new ConsoleNotBuiltError(dir);
  // Loaded here, not at the top: the CLI imports this file for its error class and serves no pages.
  const { default: fastifyStatic } = await import('@fastify/static');
  await app.register(fastifyStatic, {
    root: dir,
    wildcard: false,
    index: ['index.html'],
    setHeaders(reply, path) {
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (reply) => reply.header('cache-control', 'no-cache').sendFile('index.html');
}
