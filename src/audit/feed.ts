import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Queryable } from '../store/db.ts';
import { eventLine } from './chain.ts';
import { SealCursor } from './export.ts';
import { readChainLinks, readSeals } from './log-reader.ts';
import { sealLine } from './witness.ts';

/**
 * The live feed for a SIEM: the log's events from `fromSeq` on, as the same verifiable lines an export
 * holds, each batch's seal after its last event (so the SIEM keeps a copy of the seals outside the database:
 * a witness of its own), and — with `follow` — every new event as it is committed (polled), until `signal`
 * aborts.
 */
export async function* feed(
  q: Queryable,
  opts: { fromSeq: number; follow: boolean; intervalMs?: number; signal?: AbortSignal },
): AsyncGenerator<{ seq: number; line: string }> {
  let next = opts.fromSeq;
  const aborted = () => opts.signal?.aborted === true;
  for (;;) {
    const seals = new SealCursor(readSeals(q, { fromSeq: next }));
    for await (const link of readChainLinks(q, { fromSeq: next })) {
      yield { seq: link.seq, line: eventLine(link.hash, link.prevHash, link.canonical) };
      const seal = await seals.at(link.seq);
      if (seal !== null) yield { seq: link.seq, line: sealLine(seal) };
      next = link.seq + 1;
    }
    if (!opts.follow || aborted()) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.intervalMs ?? 1000);
      opts.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
    if (aborted()) return;
  }
}

export class SyslogTargetError extends Error {
  readonly code = 'bad_syslog_target';
}

/** A syslog destination: RFC 5424 messages, over UDP (one datagram each) or TCP (octet-counted, RFC 6587). */
export interface SyslogSink {
  send(line: string): Promise<void>;
  close(): Promise<void>;
}

/** How messages are framed: RFC 5424's MSGID and severity (the facility is always 13, log audit). */
export interface SyslogFraming {
  /** `access` for the log's events (the default); `alert` for gridwall's alerts (issue 20). */
  readonly msgid?: string;
  /** 0–7; default 6, informational. */
  readonly severity?: number;
}

export async function openSyslog(target: string, framing: SyslogFraming = {}): Promise<SyslogSink> {
  const m = /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(target);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined)
    throw new SyslogTargetError(`syslog target ${JSON.stringify(target)}: use udp://host:port or tcp://host:port`);
  const host = m[2].replace(/^\[|\]$/g, '');
  const port = Number(m[3]);
  // Facility 13 (log audit), severity 6 (informational) unless said otherwise.
  const pri = 13 * 8 + Math.min(7, Math.max(0, Math.trunc(framing.severity ?? 6)));
  const msgid = framing.msgid ?? 'access';
  const frame = (line: string) => `<${pri}>1 ${new Date().toISOString()} ${hostname()} gridwall ${process.pid} ${msgid} - ${line}`;
  if (m[1] === 'udp') {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    return {
      send: (line) => new Promise((resolve, reject) => sock.send(frame(line), port, host, (e) => (e ? reject(e) : resolve()))),
      close: () => new Promise((resolve) => sock.close(() => resolve())),
    };
  }
  const sock: Socket = connect({ host, port });
  await once(sock, 'connect');
  return {
    async send(line) {
      const msg = Buffer.from(frame(line), 'utf8');
      if (!sock.write(`${msg.length} `) || !sock.write(msg)) await once(sock, 'drain');
    },
    close: () => new Promise((resolve) => sock.end(() => resolve())),
  };
}
