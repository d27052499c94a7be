import { and, eq, type SQL, sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import { jobs } from '../db/schema.js'
import { afterMs } from './intervals.js'
import type { ClaimedJob, JobId } from './jobs.js'

/** What a running job's writes are fenced by: its id and the lock token of its claim. */
export type JobClaim = { jobId: JobId; lockToken: ClaimedJob['lockToken'] }

/** The WHERE of a write to the job itself by the run holding `claim`. */
export function claimHeld(claim: JobClaim): SQL | undefined {
  return and(eq(jobs.id, claim.jobId), eq(jobs.lockToken, claim.lockToken), eq(jobs.state, 'running'))
}

/** Keeps a long job's lease alive; false when the lease was lost (another process took the job). */
export async function extendLease(db: Executor, job: ClaimedJob, leaseMs: number): Promise<boolean> {
  const extended = await db
    .update(jobs)
    .set({ lockedUntil: afterMs(leaseMs) })
    .where(claimHeld({ jobId: job.id, lockToken: job.lockToken }))
    .returning({ id: jobs.id })
  return extended.length > 0
}

/**
 * A condition for the WHERE of a write: true while the job still holds its lease. It locks the
 * job's row (share) until the write's transaction ends, so a run taking the job over cannot
 * commit its claim between this check and the write's commit (claims skip locked rows).
 */
export function leaseHeld(lease: JobClaim): SQL {
  return sql`exists (select 1 from jobs where id = ${lease.jobId}::bigint
    and lock_token = ${lease.lockToken}::uuid and state = 'running' for share)`
}

/** Whether the job still holds its lease (inside a transaction: until it ends, see `leaseHeld`). */
export async function isLeaseHeld(db: Pick<Executor, 'select'>, lease: JobClaim): Promise<boolean> {
  const held = await db.select({ id: jobs.id }).from(jobs).where(claimHeld(lease)).for('share')
  return held.length > 0
}
