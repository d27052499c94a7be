import { performance } from 'node:perf_hooks'
import type { Executor } from '../db/database.js'
import { type Logger, silentLogger } from '../logger-interface.js'
import { REQUEST_TIMEOUT_MS } from '../pipedrive/dispatcher.js'
import { PipedriveRatePausedError } from '../pipedrive/errors.js'
import {
  ensureSlots,
  msUntilFree,
  pauseToken,
  returnSlots,
  type SlotGrant,
  type SlotNeed,
  type SlotRelease,
  type TakenSlot,
  takeSlots
} from '../store/rate-slots.js'
import { type PassResult, WakeLoop } from '../wake-loop.js'
import type { BudgetLimit, CallKind, RateBudget, RatePermit } from './budget.js'
import { type Waiter as QueuedCall, WaiterQueue } from './waiter-queue.js'

/**
 * A token's budgets kept in the database (src/store/rate-slots.ts), so every instance on one
 * database draws from the same `limit` per window. Counting is as in the in-process budget: a
 * slot is held while the call runs and then counts for a whole window from the call's end.
 *
 * Within a process, a token's callers queue in FIFO order and only the head asks the database,
 * so waiting callers cost one query per wake-up, not one each. One exception keeps the general
 * budget busy: while the head is a search call waiting for the search budget, the general calls
 * behind it go ahead (they cannot starve it: once its search slot is free, it is blocked by the
 * general budget like everyone, and it is first). Across instances there is no order: whichever
 * asks first after a slot frees gets it.
 */
export interface SharedBudgetOptions {
  general: BudgetLimit
  search: BudgetLimit
  /**
   * How long a granted slot counts as in flight before it is released. A process that dies mid-call
   * never releases; its slots free themselves this long (plus a window) after the grant.
   */
  holdMs?: number
  /** A pause longer than this rejects the token's waiting calls (unset: every pause is waited out). */
  maxPauseWaitMs?: number
  logger?: Logger
}

// Longer than any call can run (the request timeout), so a slot is never taken from a live call.
const HOLD_MARGIN_MS = 5_000
export const DEFAULT_HOLD_MS = REQUEST_TIMEOUT_MS + HOLD_MARGIN_MS
// Another instance may release a slot long before the estimate (which assumes running calls use
// their whole hold); this bounds how late we notice.
const MAX_POLL_MS = 250
// A free slot we could not take (another instance was taking it): retry soon, not in a busy loop.
const CONTENDED_RETRY_MS = 5
// Callers granted by one query at most: bounds the statement, not the throughput.
const MAX_BATCH = 100

type Waiter = QueuedCall<readonly SlotNeed[]>

interface TokenQueue {
  waiters: WaiterQueue<readonly SlotNeed[]>
  /** Serves the queue while it has callers; woken when a slot may have freed or the head left. */
  loop: WakeLoop
}

export class SharedRateBudget implements RateBudget {
  readonly #db: Executor
  readonly #releases: SlotReleases
  readonly #needs: Record<CallKind, readonly SlotNeed[]>
  readonly #holdMs: number
  readonly #maxPauseWaitMs: number
  readonly #log: Logger
  readonly #queues = new Map<string, TokenQueue>()
  /** Tokens whose slot rows this process has already created. */
  readonly #ensured = new Set<string>()

  constructor(db: Executor, options: SharedBudgetOptions) {
    for (const limit of [options.general, options.search]) {
      if (!(Number.isInteger(limit.limit) && limit.limit >= 1 && limit.windowMs > 0))
        throw new RangeError('a budget needs an integer limit ≥ 1 and windowMs > 0')
    }
    const general: SlotNeed = { kind: 'general', ...options.general }
    const search: SlotNeed = { kind: 'search', ...options.search }
    this.#db = db
    this.#releases = new SlotReleases(db)
    // A search call is also one more request for the token: it needs a slot of both budgets.
    this.#needs = { general: [general], search: [general, search] }
    this.#holdMs = options.holdMs ?? DEFAULT_HOLD_MS
    this.#maxPauseWaitMs = options.maxPauseWaitMs ?? Number.POSITIVE_INFINITY
    this.#log = options.logger ?? silentLogger
  }

  acquire(key: string, kind: CallKind, signal?: AbortSignal): Promise<RatePermit> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    const queue = this.#queue(key)
    const permit = queue.waiters.wait(this.#needs[kind], signal, (wasFirst) => {
      if (wasFirst) queue.loop.wake()
    })
    queue.loop.start()
    return permit
  }

  /**
   * Best effort: a failed write is logged, not thrown, because the client pauses while handling a
   * response and an error there would turn a call that succeeded into one that is retried.
   */
  async pause(key: string, ms: number): Promise<void> {
    if (!(ms > 0)) return
    try {
      await pauseToken(this.#db, key, ms)
    } catch (error) {
      this.#log.warn({ pipedriveToken: key, err: error }, 'Could not store a rate-limit pause')
    }
  }

  /** Calls of this process waiting for a slot, all tokens together (for metrics and tests). */
  get waiting(): number {
    let count = 0
    for (const queue of this.#queues.values()) count += queue.waiters.length
    return count
  }

  #queue(key: string): TokenQueue {
    let queue = this.#queues.get(key)
    if (!queue) {
      const created: TokenQueue = {
        waiters: new WaiterQueue(),
        loop: new WakeLoop({
          pass: () => this.#serve(key, created),
          pollIntervalMs: MAX_POLL_MS,
          // A pass handles its own failures (the head is rejected): this is a bug in it.
          onError: (err, retryInMs) =>
            this.#log.warn({ pipedriveToken: key, err, retryInMs }, 'Rate budget queue pass failed')
        })
      }
      queue = created
      this.#queues.set(key, queue)
    }
    return queue
  }

  /**
   * One database attempt for the token's queue head. The queue leaves the map in the same
   * synchronous step that finds it empty, so an acquire() either queues before that check (and is
   * served) or after it (and creates a fresh queue).
   */
  async #serve(key: string, queue: TokenQueue): Promise<PassResult> {
    const head = queue.waiters.first
    if (!head) {
      this.#queues.delete(key)
      return 'done'
    }
    // The head and the callers right behind it that need the same budgets share one query.
    const batch = leadingRun(queue.waiters.items, head.need)
    let delayMs: number
    try {
      const granted = await this.#take(key, head.need, batch.length)
      if (granted.length > 0) {
        await this.#grant(key, queue, batch, granted)
        return 'again'
      }
      if (await this.#grantAroundSearch(key, queue, head)) return 'again'
      const free = await msUntilFree(this.#db, key, head.need)
      if (free.pausedMs > this.#maxPauseWaitMs) {
        for (const waiter of [...queue.waiters.items])
          queue.waiters.take(waiter)?.reject(new PipedriveRatePausedError(free.pausedMs))
        return 'again'
      }
      delayMs = free.waitMs
    } catch (error) {
      // The database is unreachable: fail this call (nothing was sent) rather than hang it.
      queue.waiters.take(head)?.reject(error)
      return 'again'
    }
    return delayMs > 0 ? Math.min(delayMs, MAX_POLL_MS) : CONTENDED_RETRY_MS
  }

  async #take(key: string, needs: readonly SlotNeed[], calls: number): Promise<SlotGrant[]> {
    for (const need of needs) {
      const id = `${key}\u0000${need.kind}\u0000${need.limit}`
      if (this.#ensured.has(id)) continue
      await ensureSlots(this.#db, key, need)
      this.#ensured.add(id)
    }
    return takeSlots(this.#db, key, needs, calls, this.#holdMs)
  }

  /** The head is a search call that got nothing: the general-only calls behind it try the general budget. */
  async #grantAroundSearch(key: string, queue: TokenQueue, head: Waiter): Promise<boolean> {
    const general = this.#needs.general
    if (head.need === general) return false
    const batch = leadingRun(
      queue.waiters.items.filter((waiter) => waiter.need === general),
      general
    )
    if (batch.length === 0) return false
    const granted = await this.#take(key, general, batch.length)
    if (granted.length === 0) return false
    await this.#grant(key, queue, batch, granted)
    return true
  }

  /** Hands the slots to the batch in queue order; slots of callers aborted meanwhile go back. */
  async #grant(key: string, queue: TokenQueue, batch: Waiter[], granted: SlotGrant[]): Promise<void> {
    const unused: TakenSlot[] = []
    granted.forEach(({ slots, spare }, i) => {
      const waiter = queue.waiters.take(batch[i] as Waiter)
      if (waiter)
        waiter.resolve(this.#permit(key, queue, slots, spare, performance.now() - waiter.enqueuedAt))
      else unused.push(...slots)
    })
    if (unused.length > 0) await this.#release(key, unused, false)
  }

  #permit(key: string, queue: TokenQueue, slots: TakenSlot[], spare: number, waitedMs: number): RatePermit {
    let released = false
    return {
      waitedMs,
      spare,
      release: async (sent: boolean) => {
        if (released) return
        released = true
        await this.#release(key, slots, sent)
        // The queue may have ended and been replaced meanwhile: wake the one serving the token now.
        const current = this.#queues.get(key) ?? queue
        current.loop.wake()
      }
    }
  }

  /** Never throws: a slot whose release failed stays held and frees itself after its hold. */
  async #release(key: string, slots: TakenSlot[], sent: boolean): Promise<void> {
    try {
      await this.#releases.release({ key, slots, sent })
    } catch (error) {
      this.#log.warn({ pipedriveToken: key, err: error }, 'Could not release a rate-limit slot')
    }
  }
}

/** The queue's first callers with these needs, up to the smallest limit (no more could be granted). */
function leadingRun(waiters: readonly Waiter[], needs: readonly SlotNeed[]): Waiter[] {
  const most = Math.min(MAX_BATCH, ...needs.map((need) => need.limit))
  const run: Waiter[] = []
  for (const waiter of waiters) {
    if (waiter.need !== needs || run.length >= most) break
    run.push(waiter)
  }
  return run
}

/**
 * Group commit for releases: while one release statement runs, the releases that arrive wait and
 * go together in the next one. At a full budget many calls end at once; one statement each would
 * queue on the connection pool, and a late release counts its slot from later than the call's end,
 * which is safe but wastes budget.
 */
class SlotReleases {
  readonly #db: Executor
  #pending: Array<SlotRelease & { done: (error?: unknown) => void }> = []
  #flushing = false

  constructor(db: Executor) {
    this.#db = db
  }

  release(release: SlotRelease): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ ...release, done: (error) => (error === undefined ? resolve() : reject(error)) })
      void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return
    this.#flushing = true
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending
        this.#pending = []
        let failure: unknown
        try {
          await returnSlots(this.#db, batch)
        } catch (error) {
          failure = error ?? new Error('release failed')
        }
        for (const release of batch) release.done(failure)
      }
    } finally {
      this.#flushing = false
    }
  }
}
