import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import { type Database, rows } from './database.js'

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
      this.#renew(name, token).then(
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
      await this.#db
        .execute(sql`delete from leases where name = ${name} and token = ${token}::uuid`)
        .catch(() => {})
    }
  }

  async #take(name: string, token: string): Promise<void> {
    const deadline = Date.now() + this.#waitMs
    for (;;) {
      const taken = await rows(
        this.#db,
        sql`insert into leases (name, token, until)
            values (${name}, ${token}::uuid, now() + ${this.#leaseMs} * interval '1 millisecond')
            on conflict (name) do update set token = excluded.token, until = excluded.until
              where leases.until < now()
            returning name`
      )
      if (taken.length > 0) return
      if (Date.now() > deadline)
        throw new LeaseBusyError(`${name} is held by another process; retrying later`)
      await sleep(POLL_MS)
    }
  }

  async #renew(name: string, token: string): Promise<boolean> {
    const renewed = await rows(
      this.#db,
      sql`update leases set until = now() + ${this.#leaseMs} * interval '1 millisecond'
          where name = ${name} and token = ${token}::uuid returning name`
    )
    return renewed.length > 0
  }
}
