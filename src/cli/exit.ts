/** Exit codes, chosen here and nowhere else. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad arguments or unreadable input: exit 2 with the message. */
export class UsageError extends Error {
  readonly code = 'usage';
}
