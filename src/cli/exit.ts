import { inputRefusal, type RefusalKind } from '../domain/refusal.ts';

/** Exit codes, chosen here and nowhere else: 2 for what was asked wrongly, 3 for what a rule refuses. */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

/** The exit code of each kind of refusal (docs/ARCHITECTURE.md, "Refusals"). */
export function exitForRefusal(kind: RefusalKind): number {
  switch (kind) {
    case 'invalid':
    case 'not_found':
      return EXIT.usage;
    case 'refused':
    case 'conflict':
      return EXIT.refused;
    case 'busy':
    case 'limited':
      return EXIT.failed;
  }
}

/** Bad arguments or unreadable input: exit 2 with the message. */
export class UsageError extends inputRefusal('usage') {}
