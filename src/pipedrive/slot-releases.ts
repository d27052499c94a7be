import type { Executor } from '../db/database.js'
import { returnSlots, type SlotRelease } from './rate-slots.js'

/**
 * Group commit for releases: while one release statement runs, the releases that arrive wait and
 * go together in the next one. At a full budget many calls end at once; one statement each would
 * queue on the connection pool, and a late release counts its slot from later than the call's end,
 * which is safe but wastes budget.
 */
export class SlotReleases {
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
