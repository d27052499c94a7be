import { performance } from 'node:perf_hooks'
import type { RatePermit } from './budget.js'

/** A call waiting for a rate-limit slot; `need` is what it waits for (a call kind, budgets). */
export interface Waiter<N> {
  readonly need: N
  readonly enqueuedAt: number
  resolve(permit: RatePermit): void
  reject(reason: unknown): void
}

interface Entry<N> extends Waiter<N> {
  /** Stops listening to the caller's abort signal. */
  detach(): void
}

/**
 * One token's waiting calls in arrival order, for both rate budgets. A call whose signal aborts
 * leaves the queue and is rejected with the signal's reason; whoever serves the queue is told.
 */
export class WaiterQueue<N> {
  readonly #entries: Entry<N>[] = []

  get items(): readonly Waiter<N>[] {
    return this.#entries
  }

  get first(): Waiter<N> | undefined {
    return this.#entries[0]
  }

  get length(): number {
    return this.#entries.length
  }

  /** Queues a call; `onAbort(wasFirst)` runs after an abort took it out. */
  wait(need: N, signal: AbortSignal | undefined, onAbort: (wasFirst: boolean) => void): Promise<RatePermit> {
    return new Promise<RatePermit>((resolve, reject) => {
      const entry: Entry<N> = { need, enqueuedAt: performance.now(), resolve, reject, detach: () => {} }
      if (signal) {
        const aborted = () => {
          const index = this.#entries.indexOf(entry)
          if (index < 0) return
          this.#entries.splice(index, 1)
          reject(signal.reason)
          onAbort(index === 0)
        }
        signal.addEventListener('abort', aborted, { once: true })
        entry.detach = () => signal.removeEventListener('abort', aborted)
      }
      this.#entries.push(entry)
    })
  }

  /** Takes the call out of the queue to serve it, unless an abort already did (then undefined). */
  take(waiter: Waiter<N>): Waiter<N> | undefined {
    const index = this.#entries.indexOf(waiter as Entry<N>)
    if (index < 0) return undefined
    const [entry] = this.#entries.splice(index, 1)
    entry?.detach()
    return entry
  }
}
