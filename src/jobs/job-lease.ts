import type { Executor } from '../db/database.js'
import { isLeaseHeld, type JobClaim } from '../store/job-leases.js'
import type { JobId } from '../store/jobs.js'

/**
 * What a running job holds: its claim (id and lock token) and the length of its lease. Every write
 * a job's work makes is conditional on the claim still being its own (see `leaseHeld`): a job
 * whose lease lapsed and was taken over by another run writes nothing.
 */
export interface JobLease extends Readonly<JobClaim> {
  readonly leaseMs: number
  /**
   * Runs `renew` after each renewal of the job's own lease (the worker's heartbeat), so leases the
   * work takes (an organization's) last as long as the job does. Returns the function that stops it.
   */
  renewWithJob(renew: () => Promise<unknown>): () => void
}

/** Thrown when a write finds the job's lease gone: nothing of it was stored. */
export class JobLeaseLostError extends Error {
  constructor(jobId: JobId) {
    super(`job ${jobId} lost its lease to another run; nothing was written`)
    this.name = 'JobLeaseLostError'
  }
}

/** Throws JobLeaseLostError unless the job still holds its lease (inside a transaction: until it ends). */
export async function requireLease(db: Pick<Executor, 'select'>, lease: JobClaim): Promise<void> {
  if (!(await isLeaseHeld(db, lease))) throw new JobLeaseLostError(lease.jobId)
}

/**
 * The outcome of a write fenced by `leaseHeld`: true when it wrote rows; false when its other
 * conditions refused it while the job still holds its lease; JobLeaseLostError when the lease was lost.
 */
export async function writtenUnderLease(
  db: Pick<Executor, 'select'>,
  lease: JobClaim,
  written: unknown[]
): Promise<boolean> {
  if (written.length > 0) return true
  await requireLease(db, lease)
  return false
}
