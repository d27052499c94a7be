import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { releaseLease, renewLease, takeLease } from '../store/leases.js'
import type { Database } from './database.js'

/** Long enough for a list and a create with their in-line retries; renewed while the work runs. */
const LEASE_MS = 30_000
const RENEWALS_PER_LEASE = 3
/** How long a caller waits for another holder before giving up (its round is retried later). */
const WAIT_MS = 20_000
const POLL_MS = 100

export class LeaseBusyError extends Error {
  override name = 'LeaseBusyError'
}

export interface NamedLeaseOptions {
  leaseMs?: number
  waitMs?: number
}

/**
 * Short named leases in the `leases` table, for work that must happen once across every instance:
 * one holder at a time, renewed while its work runs, lapsing `leaseMs` after a crash.
 */
export class NamedLeases {
  readonly #db: Database
  readonly #leaseMs: number
  readonly #waitMs: number

  constructor(db: Database, options: NamedLeaseOptions = {}) {
    this.#db = db
    this.#leaseMs = options.leaseMs ?? LEASE_MS
    this.#waitMs = options.waitMs ?? WAIT_MS
  }

  /** Runs `work` holding the lease `name`; its signal aborts when the lease is lost. */
  async exclusive<T>(name: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const token = randomUUID()
    await this.#take(name, token)
    const controller = new AbortController()
    const renewal = setInterval(() => {
      renewLease(this.#db, name, token, this.#leaseMs).then(
        (kept) => {
          if (!kept) controller.abort(new Error(`lease ${name} lost`))
        },
        // A renewal that fails is tried again at the next tick; the lease lasts until then.
        () => {}
      )
    }, this.#leaseMs / RENEWALS_PER_LEASE)
    try {
      return await work(controller.signal)
    } finally {
      clearInterval(renewal)
      // A release that fails leaves the lease to lapse on its own.
      await releaseLease(this.#db, name, token).catch(() => {})
    }
  }

  async #take(name: string, token: string): Promise<void> {
    const deadline = Date.now() + this.#waitMs
    for (;;) {
      if (await takeLease(this.#db, name, token, this.#leaseMs)) return
      if (Date.now() > deadline)
        throw new LeaseBusyError(`${name} is held by another process; retrying later`)
      await sleep(POLL_MS)
    }
  }
}
