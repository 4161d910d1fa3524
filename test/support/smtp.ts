import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server for the tests that mail (smtp-server on a free local port, never a mock transport), and
 * the mail as its reader sees it. `password` is the one AUTH accepts for the user `gridwall`.
 */
export interface Received {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  readonly user: string | null;
  readonly raw: string;
}

/** The password the test SMTP server accepts by default (user `gridwall`). */
export const SMTP_PASSWORD = 's3cret-pass';

/** A real SMTP server on a free local port that keeps what it is sent (AUTH over plain TCP allowed: loopback only). */
export async function smtpServer(password = SMTP_PASSWORD): Promise<{ server: SMTPServer; port: number; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'gridwall' && auth.password === password) callback(null, { user: auth.username });
      else callback(new Error('invalid credentials'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        received.push({
          mailFrom: mailFrom === false ? '' : mailFrom.address,
          rcptTo: rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : null,
          raw: Buffer.concat(chunks).toString('latin1'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { server, port, received, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Quoted-printable (RFC 2045) to bytes. */
function qpBytes(s: string): Buffer {
  const t = s.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < t.length; i++) {
    const m = t[i] === '=' ? /^[0-9A-F]{2}$/i.exec(t.slice(i + 1, i + 3)) : null;
    if (m !== null) {
      out.push(parseInt(m[0], 16));
      i += 2;
    } else out.push(t.charCodeAt(i));
  }
  return Buffer.from(out);
}

/** The mail as its reader sees it: headers unfolded, the subject's encoded words and the body decoded. */
export function readMail(raw: string): { headers: Record<string, string>; subject: string; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const words = (headers['subject'] ?? '').replace(/\?=\s+=\?/g, '?==?');
  const subject = words.replace(/(?:=\?utf-8\?[bq]\?[^?]*\?=)+/gi, (run) =>
    Buffer.concat(
      [...run.matchAll(/=\?utf-8\?([bq])\?([^?]*)\?=/gi)].map(([, enc, text]) =>
        enc?.toLowerCase() === 'b' ? Buffer.from(text ?? '', 'base64') : qpBytes((text ?? '').replace(/_/g, ' ')),
      ),
    ).toString('utf8'),
  );
  const encoded = raw.slice(split + 4);
  const cte = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  const body = (cte === 'base64' ? Buffer.from(encoded, 'base64') : cte === 'quoted-printable' ? qpBytes(encoded) : Buffer.from(encoded, 'latin1')).toString(
    'utf8',
  );
  return { headers, subject, body };
}
