/**
 * The seam between the Pipedrive client and whatever keeps count of a token's requests: the
 * service uses shared.ts (kept in the database, shared by every instance); in-process.ts is the
 * per-process one (unit tests, benchmarks, a connection built without a database).
 */

/** A search call uses a slot of both budgets: it is also one more request for the token. */
export type CallKind = 'general' | 'search'

export interface RatePermit {
  /** How long the call waited for its slot, for metrics. */
  readonly waitedMs: number
  /**
   * Slots of the call's budgets (the fuller one, for a search) still free right after this grant.
   * Pipedrive answering `remaining: 0` while this is above 0 means someone else uses the token.
   */
  readonly spare: number
  /**
   * Ends the call's hold on its slot. `sent: false` (the connection was refused, nothing reached
   * Pipedrive) frees the slot at once; otherwise the request counts for a full window from now.
   */
  release(sent: boolean): void | Promise<void>
}

export interface RateBudget {
  /**
   * Resolves when the call may be sent; callers beyond the budget wait in FIFO order, except that
   * general calls pass a search call that waits for the search budget. While the token is paused
   * for longer than the budget's `maxPauseWaitMs` (when set), waiting calls are rejected with
   * PipedriveRatePausedError.
   */
  acquire(key: string, kind: CallKind, signal?: AbortSignal): Promise<RatePermit>
  /** No call of this token is granted for `ms` (a 429's retry-after, or an unexpected remaining: 0 until reset). */
  pause(key: string, ms: number): void | Promise<void>
}

export interface BudgetLimit {
  limit: number
  windowMs: number
}

/**
 * Pauses of a token up to this long are waited out inside the call; a longer one fails the call
 * with PipedriveRatePausedError instead, so the job gives its worker slot back (one paused token
 * must not hold every slot while other tokens' work waits) and is run again when the pause ends.
 */
export const MAX_INLINE_PAUSE_MS = 2_000
