import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Config } from '../config.ts';
import { enrollTotp, setPassword } from '../identity/local-accounts.ts';
import { bindOidcSubject } from '../identity/oidc.ts';
import { handOverToScim } from '../identity/scim.ts';
import { openStore } from '../store/open.ts';
import { EXIT, UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/**
 * `gridwall accounts set-password | enroll-totp`: local credentials, set by the operator at the server.
 * They open the configured store like every other command; the embedded store must not be in use by a
 * running server (its data directory is locked), so stop the server first.
 */

/** Env variable a script may use instead of stdin. Never argv: arguments show in `ps` and shell history. */
export const PASSWORD_ENV = 'GRIDWALL_NEW_PASSWORD';

/** Reads one line without echoing it (an interactive terminal); the prompt goes to stderr. */
function askHidden(io: CliIo, prompt: string): Promise<string> {
  io.stderr.write(prompt);
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: io.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.once('line', (line) => {
      rl.close();
      io.stderr.write('\n');
      resolve(line);
    });
    rl.once('close', () => resolve(''));
  });
}

/** The first line of piped stdin (without its line ending); empty when stdin is empty. */
async function firstLine(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (chunk.includes('\n')) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

async function newPassword(io: CliIo): Promise<string> {
  const fromEnv = io.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (io.stdin.isTTY === true) {
    const first = await askHidden(io, 'New password: ');
    const again = await askHidden(io, 'Again: ');
    if (first !== again) throw new UsageError('the two passwords differ; nothing changed');
    return first;
  }
  const line = await firstLine(io);
  if (line === '') throw new UsageError(`no password given: pipe it on stdin (one line) or set ${PASSWORD_ENV}`);
  return line;
}

async function withStore<T>(config: Config, fn: (db: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const db = await openStore(config.store);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** `gridwall accounts set-password <userId>`: the password from stdin or GRIDWALL_NEW_PASSWORD. */
export async function runSetPassword(config: Config, userId: string, io: CliIo): Promise<number> {
  const password = await newPassword(io);
  return withStore(config, async (db) => {
    await setPassword(db, userId, password);
    io.stderr.write(`password set for ${userId}${config.passwordLogin ? '' : ' (note: GRIDWALL_PASSWORD_LOGIN is off on this configuration)'}\n`);
    return EXIT.ok;
  });
}

/** `gridwall accounts enroll-totp <userId>`: prints the new secret and its otpauth URI once, on stdout. */
export async function runEnrollTotp(config: Config, userId: string, issuer: string, io: CliIo): Promise<number> {
  return withStore(config, async (db) => {
    const { secret, uri } = await enrollTotp(db, userId, issuer, config.totpKey);
    io.stderr.write(
      `TOTP enrolled for ${userId}; any earlier authenticator no longer works. Shown once — add it to the person's authenticator app (SHA-1, 6 digits, 30 s)${config.totpKey === null ? '; stored in the clear (set GRIDWALL_TOTP_KEY to encrypt it)' : ''}:\n`,
    );
    io.stdout.write(`secret: ${secret}\nuri: ${uri}\n`);
    return EXIT.ok;
  });
}

/** `gridwall accounts bind-oidc <userId> --subject S [--issuer URL]`: who the account is at the identity provider. */
export async function runBindOidc(config: Config, userId: string, opts: { subject: string; issuer?: string }, io: CliIo): Promise<number> {
  const issuer = opts.issuer ?? config.oidc?.issuer;
  if (issuer === undefined) throw new UsageError('no identity provider: give --issuer or set GRIDWALL_OIDC_ISSUER');
  if (opts.subject.trim() === '') throw new UsageError('--subject must not be empty');
  return withStore(config, async (db) => {
    await bindOidcSubject(db, userId, issuer, opts.subject);
    io.stderr.write(`${userId} logs in as subject ${opts.subject} at ${issuer}\n`);
    return EXIT.ok;
  });
}

/**
 * `gridwall accounts scim-handover [USER…] [--all] [--dry-run]`: existing accounts become the HR system's to
 * match and manage (docs/access-governance.md, "Introducing HR sync"). Each is a governance event naming the
 * operator's OS user.
 */
export async function runScimHandover(
  config: Config,
  userIds: readonly string[],
  opts: { all: boolean; dryRun: boolean; format: 'table' | 'json' },
  io: CliIo,
): Promise<number> {
  if (opts.all === userIds.length > 0) throw new UsageError('name the accounts to hand over, or give --all (not both)');
  return withStore(config, async (db) => {
    const r = await handOverToScim(db, opts.all ? { all: true } : { userIds }, {
      by: { kind: 'system', job: `cli accounts scim-handover (${userInfo().username})` },
      at: new Date(),
      dryRun: opts.dryRun,
    });
    if (opts.format === 'json') io.stdout.write(`${JSON.stringify({ dryRun: opts.dryRun, ...r }, null, 2)}\n`);
    else {
      for (const h of r.handedOver)
        io.stdout.write(`${opts.dryRun ? 'would hand over' : 'handed over'}\t${h.userId}\t${h.userName}\t(was ${h.provisionedBefore})\n`);
      for (const s of r.skipped) io.stdout.write(`skipped\t${s.userId}\t${s.reason}\n`);
      io.stderr.write(`${r.handedOver.length} ${opts.dryRun ? 'would be handed over' : 'handed over to SCIM'}, ${r.skipped.length} skipped\n`);
    }
    // A named account that could not be handed over is the operator's mistake to see: exit 2.
    return !opts.all && r.skipped.length > 0 ? EXIT.usage : EXIT.ok;
  });
}
