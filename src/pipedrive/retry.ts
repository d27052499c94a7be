import { setTimeout as sleep } from 'node:timers/promises'
import pRetry from 'p-retry'
import { exponentialBackoff } from '../backoff.js'
import { isRetryable, PipedriveRateLimitError } from './errors.js'

export interface RetryOptions {
  /** Retries after the first attempt (3: docs/sync.md). */
  retries: number
  /** First retry delay; it doubles for each further retry (SYNC_RETRY_BASE_MS). */
  baseMs: number
  /** Jitter as a fraction of the delay, added on top (default 0.2). */
  jitter?: number
  signal?: AbortSignal
  /** Called before each wait, e.g. to log; `delayMs` is what will be waited. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void
  /** Replaceable for tests that check the chosen delays without waiting them. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
}

const DEFAULT_JITTER = 0.2

/** Delay before retry number `retry` (0-based): base·2^retry plus up to `jitter` of it. */
export function backoffMs(
  retry: number,
  baseMs: number,
  jitter = DEFAULT_JITTER,
  random = Math.random
): number {
  return exponentialBackoff(retry, { baseMs, jitter }, random)
}

/**
 * Runs `attempt` with in-line retries on network errors, 429 and 5xx only. After a rate limit
 * the wait is the longer of Pipedrive's retry-after and the backoff (docs/sync.md). Anything
 * else (400/401/402/403/404/410/422, and errors that are not Pipedrive's) fails at once.
 * p-retry runs the loop; the delays are ours because p-retry cannot wait per error.
 */
export function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions
): Promise<T> {
  const wait = options.wait ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }))
  return pRetry(attempt, {
    retries: options.retries,
    minTimeout: 0,
    ...(options.signal ? { signal: options.signal } : {}),
    shouldRetry: async ({ error, attemptNumber, retriesConsumed }) => {
      if (!isRetryable(error)) return false
      let delayMs = backoffMs(retriesConsumed, options.baseMs, options.jitter, options.random)
      if (error instanceof PipedriveRateLimitError) delayMs = Math.max(delayMs, error.waitMs)
      options.onRetry?.({ error, attempt: attemptNumber, delayMs })
      await wait(delayMs, options.signal)
      return true
    }
  })
}
