/** How long to wait before trying again: exponential in the attempt, capped, with equal jitter. */
export type BackoffOptions = { readonly baseMs: number; readonly maxMs: number };

/** The clients' default: half a second at first, never more than ten. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000 };

/**
 * Delay before retry `attempt` (0, 1, ...): a ceiling of `baseMs * 2^attempt` capped at `maxMs`,
 * and a delay between half the ceiling and the whole (equal jitter), so that many clients cut off
 * at once do not all come back in the same instant.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}
