// Load generator, run as its own process so it does not share the server's event loop.
// Usage: node bench/load.mjs <json-config>; prints one JSON line of results.
import autocannon from 'autocannon';

const cfg = JSON.parse(process.argv[2]);
let i = 0;
const result = await autocannon({
  url: cfg.url,
  connections: cfg.connections,
  duration: cfg.seconds,
  headers: cfg.cookie ? { cookie: cfg.cookie } : {},
  requests: [
    {
      setupRequest: (req) => {
        const id = cfg.ids[i++ % cfg.ids.length];
        return { ...req, path: cfg.path.replace(':id', id) };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, ok: result['2xx'], non2xx: result.non2xx, errors: result.errors })}\n`,
);
