import net from 'node:net';

/**
 * A TCP relay in front of a real server, for faults a test cannot ask the server itself for: `cut` closes
 * every connection and refuses new ones (a server that went away), `freeze` stops reading from both sides, so
 * bytes wait in the sockets' buffers as they would for a server stopped with SIGSTOP (and flow on `heal`).
 * The server behind it is the real one (PostgreSQL on 5432); only the wire between is broken.
 */
export interface TcpProxy {
  readonly port: number;
  cut(): Promise<void>;
  freeze(): void;
  heal(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let frozen = false;
  let port = 0;
  let server: net.Server;
  const listen = (p: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const sock of [client, upstream]) {
          open.add(sock);
          sock.on('close', () => open.delete(sock));
          sock.on('error', () => undefined);
        }
        client.pipe(upstream);
        upstream.pipe(client);
        if (frozen) for (const sock of [client, upstream]) sock.pause();
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve(s));
    });
  server = await listen(0);
  port = (server.address() as net.AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    });
  return {
    port,
    async cut() {
      await stop();
    },
    freeze() {
      frozen = true;
      for (const s of open) s.pause();
    },
    async heal() {
      frozen = false;
      for (const s of open) s.resume();
      if (!server.listening) server = await listen(port);
    },
    close: stop,
  };
}
