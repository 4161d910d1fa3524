// Load generator, run as its own process so it does not share the server's event loop.
// Usage: node bench/load.mjs <json-config> (or @<file> holding it); prints one JSON line of results.
// GET by default, `:id` in the path taken from `ids` in turn; with `bodies`, each request sends the next body
// (JSON text) with `method` (POST), and `headers` are added to every request (a CSRF token, a content type).
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const arg = process.argv[2];
const cfg = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg);
let i = 0;
let b = 0;
const result = await autocannon({
  url: cfg.url,
  connections: cfg.connections,
  duration: cfg.seconds,
  headers: { ...(cfg.cookie ? { cookie: cfg.cookie } : {}), ...(cfg.headers ?? {}) },
  requests: [
    {
      setupRequest: (req) => {
        if (cfg.bodies) return { ...req, method: cfg.method ?? 'POST', path: cfg.path, body: cfg.bodies[b++ % cfg.bodies.length] };
        const id = cfg.ids[i++ % cfg.ids.length];
        return { ...req, path: cfg.path.replace(':id', id) };
      },
    },
  ],
});
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ clientCpuMs: (cpu.user + cpu.system) / 1000, rps: result.requests.average, mean: result.latency.average, p50: result.latency.p50, p99: result.latency.p99, ok: result['2xx'], non2xx: result.non2xx, errors: result.errors })}\n`,
);
