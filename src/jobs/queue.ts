import { exponentialBackoff } from '../backoff.js'
import type { Database, Executor } from '../db/database.js'
import { type ClaimedJob, foldWaitingJobs, recordFailedRound, returnClaim } from '../store/jobs.js'
import { JobLeaseLostError } from './job-lease.js'

const MAX_ERROR_LENGTH = 1_000

export type FailOutcome = 'retrying' | 'dead' | 'lost'

/**
 * Ends a failed round: dead, or retrying after `retryInMs`. A job waiting for the same entity
 * (enqueued while this one ran) is folded into the retry, which reads the latest state anyway.
 */
export interface FailureReport {
  dead: boolean
  error: string
  /** ISO 8601; null when dead. */
  nextAttemptAt: string | null
}

export async function failJob(
  db: Database,
  job: ClaimedJob,
  { error, dead, retryInMs }: { error: string; dead: boolean; retryInMs: number },
  /** Runs in the same transaction, after the job's state was written (e.g. a callback to the CRM). */
  report?: (tx: Executor, failure: FailureReport) => Promise<void>
): Promise<FailOutcome> {
  const message = error.slice(0, MAX_ERROR_LENGTH)
  const outcome = db.transaction(async (tx) => {
    if (!dead) await foldWaitingJobs(tx, job)
    const runAtMs = await recordFailedRound(tx, job, { error: message, dead, retryInMs })
    // Rolls the folding of waiting jobs back: a run that lost the job writes nothing.
    if (runAtMs === undefined) throw new JobLeaseLostError(job.id)
    await report?.(tx, {
      dead,
      error: message,
      nextAttemptAt: dead ? null : new Date(runAtMs).toISOString()
    })
    return dead ? 'dead' : 'retrying'
  })
  return outcome.catch((error: unknown) => {
    if (error instanceof JobLeaseLostError) return 'lost' as const
    throw error
  })
}

/** Delay before the next round: doubling from `baseMs`, capped, less up to 20 % jitter. */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number, random: () => number): number {
  // Jitter shortens: SYNC_BACKOFF_MAX_MS is the longest a job ever waits (docs/sync.md).
  return exponentialBackoff(attempts - 1, { baseMs, maxMs, jitter: -0.2 }, random)
}

/**
 * Gives a claimed job back without counting the round (see `returnClaim`), due in `delayMs`. A job
 * waiting for the same entity (enqueued while this one ran) is folded into it.
 */
export async function deferJob(db: Database, job: ClaimedJob, delayMs: number): Promise<boolean> {
  // A claim that is no longer ours rolls the whole transaction back: the waiting job it would have
  // folded in stays.
  return db
    .transaction(async (tx) => {
      await foldWaitingJobs(tx, job)
      if (!(await returnClaim(tx, job, delayMs))) throw new JobLeaseLostError(job.id)
      return true
    })
    .catch((error: unknown) => {
      if (error instanceof JobLeaseLostError) return false
      throw error
    })
}
