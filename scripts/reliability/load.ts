// Clients of the fault suite: each looks records up one after another, as an agent's screen does, and keeps
// every answer's request id, status, error code and time, so that every 200 can be matched with its event in
// the access log afterwards and every failure is counted by what it said.
import { Agent, request } from 'node:http';

export interface Answer {
  /** ms since the load started, when the request was sent. */
  readonly at: number;
  readonly ms: number;
  /** HTTP status, or 0 when no answer came (refused, reset, timed out). */
  readonly status: number;
  /** The error body's code, or the network error's (ECONNREFUSED, timeout …); null for a 2xx. */
  readonly code: string | null;
  readonly requestId: string | null;
}

export interface LoadOptions {
  readonly url: () => string;
  readonly cookie: () => string;
  readonly ids: readonly string[];
  readonly clients: number;
  /** A client gives up on one answer after this. */
  readonly requestTimeoutMs?: number;
  /** A client waits this long after a failed request before the next (a person would not retry faster). */
  readonly backoffMs?: number;
}

export interface Load {
  /** Stops the clients and resolves with every answer. */
  stop(): Promise<Answer[]>;
  answers(): readonly Answer[];
  readonly startedAt: number;
}

/** Starts `clients` concurrent clients against GET /api/supply-points/:id?purpose=customer_inquiry. */
export function startLoad(opts: LoadOptions): Load {
  const answers: Answer[] = [];
  const startedAt = performance.now();
  let running = true;
  // One connection per client, kept alive, as a browser tab holds one.
  const agent = new Agent({ keepAlive: true, maxSockets: opts.clients });
  const timeout = opts.requestTimeoutMs ?? 60_000;
  let next = 0;
  const client = async () => {
    while (running) {
      const id = opts.ids[next++ % opts.ids.length] ?? '';
      const at = performance.now() - startedAt;
      let a: Answer;
      try {
        const r = await get(`${opts.url()}/api/supply-points/${id}?purpose=customer_inquiry`, { cookie: opts.cookie() }, timeout, agent);
        const text = r.body;
        let code: string | null = null;
        if (r.status >= 300) {
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? 'no_code';
          } catch {
            code = 'not_json';
          }
        }
        a = { at, ms: performance.now() - startedAt - at, status: r.status, code, requestId: r.requestId };
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'error';
        a = { at, ms: performance.now() - startedAt - at, status: 0, code, requestId: null };
      }
      answers.push(a);
      if (a.status !== 200 && running) await new Promise((r) => setTimeout(r, opts.backoffMs ?? 100));
    }
  };
  const clients = Array.from({ length: opts.clients }, client);
  return {
    startedAt,
    answers: () => answers,
    stop: async () => {
      running = false;
      await Promise.all(clients);
      agent.destroy();
      return answers;
    },
  };
}

/**
 * One GET; rejects with an error whose `code` is the network error's, or `client_timeout`. A reset on a
 * kept-alive connection the server had just closed as idle is tried once more on a new one, as browsers do
 * (Node's documentation: `request.reusedSocket`); it is not the server's failure.
 */
function get(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  agent: Agent,
  retried = false,
): Promise<{ status: number; body: string; requestId: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const id = res.headers['x-request-id'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), requestId: typeof id === 'string' ? id : null });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'client_timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && e.code === 'ECONNRESET') resolve(get(url, headers, timeoutMs, agent, true));
      else reject(e);
    });
    req.end();
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export interface Figures {
  readonly requests: number;
  readonly ok: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Failures by "status code" ("503 store_unavailable", "0 ECONNREFUSED"). */
  readonly failures: Record<string, number>;
}

export function figures(answers: readonly Answer[], seconds: number): Figures {
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const failures: Record<string, number> = {};
  for (const a of answers) if (a.status !== 200) failures[`${a.status} ${a.code}`] = (failures[`${a.status} ${a.code}`] ?? 0) + 1;
  const ok = answers.filter((a) => a.status === 200).length;
  return {
    requests: answers.length,
    ok,
    perSecond: Math.round(ok / Math.max(seconds, 0.001)),
    p50Ms: Math.round(percentile(ms, 50)),
    p99Ms: Math.round(percentile(ms, 99)),
    maxMs: Math.round(ms[ms.length - 1] ?? 0),
    failures,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
