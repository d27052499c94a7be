import { performance } from 'node:perf_hooks'
import { PipedriveRatePausedError } from '../pipedrive/errors.js'
import type { BudgetLimit, CallKind, RateBudget, RatePermit } from './budget.js'
import { type Waiter, WaiterQueue } from './waiter-queue.js'

/**
 * Per-process sliding-window budget per token. A slot is held from the grant until the call
 * ends and then stays counted for a whole window from that END: Pipedrive counts a request when
 * it receives it, which can be later than our grant (socket-pool queueing, a slow connect), so
 * counting from the grant would let one request too many land in Pipedrive's window. Counting
 * from the end is exact without a safety margin: every request Pipedrive sees in a window was
 * either still running or ended inside that window when the last of them was granted.
 */
export interface InProcessBudgetOptions {
  general: BudgetLimit
  search: BudgetLimit
  /** A pause longer than this rejects the token's waiting calls (unset: every pause is waited out). */
  maxPauseWaitMs?: number
}

interface Bucket {
  limit: number
  windowMs: number
  inFlight: number
  /** End times of finished calls still inside the window, oldest first. */
  ended: number[]
}

interface TokenState {
  queue: WaiterQueue<CallKind>
  general: Bucket
  search: Bucket
  pausedUntil: number
  timer: NodeJS.Timeout | undefined
}

export class InProcessRateBudget implements RateBudget {
  readonly #options: InProcessBudgetOptions
  readonly #tokens = new Map<string, TokenState>()

  constructor(options: InProcessBudgetOptions) {
    for (const limit of [options.general, options.search]) {
      if (!(limit.limit >= 1 && limit.windowMs > 0))
        throw new RangeError('a budget needs limit ≥ 1 and windowMs > 0')
    }
    this.#options = options
  }

  acquire(key: string, kind: CallKind, signal?: AbortSignal): Promise<RatePermit> {
    signal?.throwIfAborted()
    const state = this.#state(key)
    const permit = state.queue.wait(kind, signal, () => this.#drain(state))
    this.#drain(state)
    return permit
  }

  pause(key: string, ms: number): void {
    if (!(ms > 0)) return
    const state = this.#state(key)
    state.pausedUntil = Math.max(state.pausedUntil, performance.now() + ms)
    this.#drain(state)
  }

  /** Calls waiting for a slot, all tokens together (for metrics and tests). */
  get waiting(): number {
    let count = 0
    for (const state of this.#tokens.values()) count += state.queue.length
    return count
  }

  #state(key: string): TokenState {
    let state = this.#tokens.get(key)
    if (!state) {
      state = {
        queue: new WaiterQueue(),
        general: { ...this.#options.general, inFlight: 0, ended: [] },
        search: { ...this.#options.search, inFlight: 0, ended: [] },
        pausedUntil: 0,
        timer: undefined
      }
      this.#tokens.set(key, state)
    }
    return state
  }

  /**
   * Grants slots in arrival order: the head of the queue blocks everyone behind it, except that
   * while a search call waits for the search budget alone, general calls behind it go ahead (it
   * is still first for the general budget once its search slot is free).
   */
  #drain(state: TokenState): void {
    if (state.timer) {
      clearTimeout(state.timer)
      state.timer = undefined
    }
    for (;;) {
      const head = state.queue.first
      if (!head) return
      const now = performance.now()
      const pauseLeftMs = state.pausedUntil - now
      const { maxPauseWaitMs } = this.#options
      if (maxPauseWaitMs !== undefined && pauseLeftMs > maxPauseWaitMs) {
        state.queue.take(head)?.reject(new PipedriveRatePausedError(pauseLeftMs))
        continue
      }
      const readyAt = this.#readyAt(state, head.need, now)
      if (readyAt <= now) {
        this.#grant(state, head, now)
        continue
      }
      const general = state.queue.items.find((waiter) => waiter.need === 'general')
      if (general && general !== head && this.#readyAt(state, 'general', now) <= now) {
        this.#grant(state, general, now)
        continue
      }
      // Infinity: only running calls fill the budget, and their release drains the queue.
      if (Number.isFinite(readyAt)) {
        state.timer = setTimeout(() => this.#drain(state), Math.max(1, Math.ceil(readyAt - now)))
      }
      return
    }
  }

  #buckets(state: TokenState, kind: CallKind): Bucket[] {
    return kind === 'search' ? [state.general, state.search] : [state.general]
  }

  #readyAt(state: TokenState, kind: CallKind, now: number): number {
    let readyAt = Math.max(state.pausedUntil, now)
    for (const bucket of this.#buckets(state, kind)) readyAt = Math.max(readyAt, freeAt(bucket, now))
    return readyAt
  }

  #grant(state: TokenState, queued: Waiter<CallKind>, now: number): void {
    const waiter = state.queue.take(queued)
    if (!waiter) return
    const buckets = this.#buckets(state, waiter.need)
    for (const bucket of buckets) bucket.inFlight++
    const spare = Math.min(...buckets.map((bucket) => bucket.limit - bucket.inFlight - bucket.ended.length))
    waiter.resolve(this.#permit(state, buckets, now - waiter.enqueuedAt, spare))
  }

  #permit(state: TokenState, buckets: Bucket[], waitedMs: number, spare: number): RatePermit {
    let released = false
    return {
      waitedMs,
      spare,
      release: (sent: boolean) => {
        if (released) return
        released = true
        const end = performance.now()
        for (const bucket of buckets) {
          bucket.inFlight--
          if (sent) bucket.ended.push(end)
        }
        this.#drain(state)
      }
    }
  }
}

/** Earliest time this bucket has a free slot: now, a future time, or Infinity (wait for a release). */
function freeAt(bucket: Bucket, now: number): number {
  const horizon = now - bucket.windowMs
  let expired = 0
  while (expired < bucket.ended.length && (bucket.ended[expired] as number) <= horizon) expired++
  if (expired > 0) bucket.ended.splice(0, expired)
  const used = bucket.inFlight + bucket.ended.length
  if (used < bucket.limit) return now
  const mustExpire = used - bucket.limit + 1
  if (mustExpire > bucket.ended.length) return Number.POSITIVE_INFINITY
  return (bucket.ended[mustExpire - 1] as number) + bucket.windowMs
}
