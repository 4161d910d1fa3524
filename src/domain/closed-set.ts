/**
 * Closed sets (sides, field classes, relations, purposes…) are declared once as an `as const` array; this
 * helper gives the matching runtime guard so the type, the list and the check never drift apart.
 */
export function memberOf<const T extends readonly string[]>(set: T) {
  const members: ReadonlySet<string> = new Set(set);
  return (value: unknown): value is T[number] => typeof value === 'string' && members.has(value);
}

/** Exhaustiveness check for `switch` over a closed set. */
export function unreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
