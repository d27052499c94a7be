/** How something that failed waits before it is tried again; each use picks its own numbers. */
export interface BackoffPolicy {
  /** The first delay; each further step doubles it. */
  baseMs: number
  /** No delay is longer than this (before jitter); unset: no cap. */
  maxMs?: number
  /**
   * Up to this fraction of the delay is added at random (0.2: up to 20 % longer). Negative takes it
   * off instead (−0.2: up to 20 % shorter), for a use whose cap must never be exceeded.
   */
  jitter: number
}

// Past this many doublings every sane cap is reached; it keeps huge step counts finite.
const MAX_DOUBLINGS = 40

/**
 * Delay of step `step` (0-based: step 0 waits `baseMs`): baseMs·2^step, capped, with jitter so
 * that what failed together does not come back together. Rounded to whole milliseconds.
 */
export function exponentialBackoff(
  step: number,
  policy: BackoffPolicy,
  random: () => number = Math.random
): number {
  const doublings = Math.min(Math.max(step, 0), MAX_DOUBLINGS)
  const delay = Math.min(policy.maxMs ?? Number.POSITIVE_INFINITY, policy.baseMs * 2 ** doublings)
  return Math.round(delay + delay * policy.jitter * random())
}
