import type { Executor } from '../db/database.js'
import type { JobState } from '../db/schema.js'
import { countJobsByState } from '../store/jobs.js'

export interface QueueSnapshot {
  byState: ReadonlyMap<JobState, number>
  /** Seconds since the oldest runnable pending or retrying job became due; 0 when there is none. */
  oldestRunnableAgeSeconds: number
}

/**
 * Jobs by state and the age of the oldest runnable one, in one query (a scrape costs one round
 * trip). "Runnable" is what the worker's claim looks for: pending or retrying with `run_at` passed;
 * its age counts from `run_at`, so a job retried after a long backoff is not reported as late.
 * Ages use the database clock, like the queue itself.
 */
export async function queueSnapshot(db: Pick<Executor, 'select'>): Promise<QueueSnapshot> {
  const byState = new Map<JobState, number>()
  let oldest = 0
  for (const row of await countJobsByState(db)) {
    byState.set(row.state, Number(row.count))
    if (row.oldestRunnableSeconds !== null) oldest = Math.max(oldest, Number(row.oldestRunnableSeconds))
  }
  return { byState, oldestRunnableAgeSeconds: oldest }
}

/**
 * Scrapes come from every Prometheus replica and dashboard refresh, and the figures come from a
 * `group by` over the whole table: reading them at most this often keeps scrapes off the database.
 */
export const QUEUE_STATS_MAX_AGE_MS = 5_000

/**
 * The queue figures of the last `maxAgeMs`: one reading serves every scrape until it is that old
 * (scrapes arriving while it is read share it too). A failed reading is not kept.
 */
export class QueueStatsCache {
  readonly #read: () => Promise<QueueSnapshot>
  readonly #maxAgeMs: number
  readonly #now: () => number
  #reading: Promise<QueueSnapshot> | undefined
  #readAt = 0

  constructor(
    read: () => Promise<QueueSnapshot>,
    { maxAgeMs, now }: { maxAgeMs: number; now: () => number }
  ) {
    this.#read = read
    this.#maxAgeMs = maxAgeMs
    this.#now = now
  }

  snapshot(): Promise<QueueSnapshot> {
    const now = this.#now()
    if (this.#reading && now - this.#readAt < this.#maxAgeMs) return this.#reading
    const reading = this.#read()
    this.#reading = reading
    this.#readAt = now
    reading.catch(() => {
      if (this.#reading === reading) this.#reading = undefined
    })
    return reading
  }
}
