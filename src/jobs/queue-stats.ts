import { sql } from 'drizzle-orm'
import { type Database, rows } from '../db/database.js'
import type { JobState } from '../db/schema.js'

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
export async function queueSnapshot(db: Pick<Database, 'execute'>): Promise<QueueSnapshot> {
  const found = await rows<{ state: JobState; count: number; oldest_runnable_s: number | null }>(
    db,
    sql`select state, count(*)::integer as count,
               extract(epoch from now() - min(run_at) filter (
                 where state in ('pending', 'retrying') and run_at <= now()))::float8 as oldest_runnable_s
        from jobs group by state`
  )
  const byState = new Map<JobState, number>()
  let oldest = 0
  for (const row of found) {
    byState.set(row.state, Number(row.count))
    if (row.oldest_runnable_s !== null) oldest = Math.max(oldest, Number(row.oldest_runnable_s))
  }
  return { byState, oldestRunnableAgeSeconds: oldest }
}
