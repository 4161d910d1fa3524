import { PassThrough, Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/main.ts';

/** What a run of the command left behind, as `spawnSync(…, { encoding: 'utf8' })` reports it. */
export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream that keeps what is written to it; decoded as UTF-8 once, at the end (as spawnSync does). */
class Capture extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Runs `gridwall ARGS` in this process: `main` with captured stdout and stderr, stdin holding `input` (empty
 * and closed when not given, never a terminal), and exactly the environment `env` — the command sees no
 * other variable (without `env`, a copy of this process's, as a child would inherit it). An error `main`
 * throws is reported as the binary reports it: exit status 1 and the error on stderr.
 *
 * Only the binary's own lines are left out: the EPIPE handler and `process.exitCode` (test/cli/cli-binary.test.ts
 * runs the real binary). The working directory is this process's, as it was a spawned child's.
 */
export async function runCli(args: readonly string[], opts: { env?: Readonly<Record<string, string | undefined>>; input?: string } = {}): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = new PassThrough();
  stdin.end(opts.input ?? '');
  const io: CliIo = { stdout, stderr, stdin, env: { ...(opts.env ?? process.env) } };
  // Imported on the first run: a test file that only imports this helper pays nothing for the CLI's modules.
  const { main } = await import('../../src/cli/main.ts');
  let status: number;
  try {
    status = await main(args, io);
  } catch (e) {
    stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    status = 1;
  }
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}
