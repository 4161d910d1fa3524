import type { Readable, Writable } from 'node:stream';

/** Where a command writes its output and messages: the process's stdout or stderr, or a test's capture. */
export type CliOutput = Writable & { readonly isTTY?: boolean; readonly columns?: number };

/** Where a command reads input (a password piped in): the process's stdin, or a test's. */
export type CliInput = Readable & { readonly isTTY?: boolean };

/**
 * Everything a command touches of the process it runs in: its streams and its environment. The `gridwall`
 * binary passes the process's own (`processIo`); tests run `main` in-process with captured streams and an
 * environment of their own. Commands never read `process.stdout`, `process.env` and the like directly.
 */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly stdin: CliInput;
  readonly env: NodeJS.ProcessEnv;
}

/** The process's streams and environment (the streams themselves, so a handler set on them applies). */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Read only when a command asks: creating process.stdin opens fd 0.
    get stdin(): CliInput {
      return process.stdin;
    },
    env: process.env,
  };
}
