import { type SQL, sql } from 'drizzle-orm'
import { type Executor, rows } from '../db/database.js'

/**
 * What a running job holds: its claim (id and lock token) and the length of its lease. Every write
 * a job's work makes is conditional on the claim still being its own (see `leaseHeld`): a job
 * whose lease lapsed and was taken over by another run writes nothing.
 */
export interface JobLease {
  readonly jobId: string
  readonly lockToken: string
  readonly leaseMs: number
  /**
   * Runs `renew` after each renewal of the job's own lease (the worker's heartbeat), so leases the
   * work takes (an organization's) last as long as the job does. Returns the function that stops it.
   */
  renewWithJob(renew: () => Promise<unknown>): () => void
}

/** Thrown when a write finds the job's lease gone: nothing of it was stored. */
export class JobLeaseLostError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} lost its lease to another run; nothing was written`)
    this.name = 'JobLeaseLostError'
  }
}

/**
 * A condition for the WHERE of a write: true while the job still holds its lease. It locks the
 * job's row (share) until the write's transaction ends, so a run taking the job over cannot
 * commit its claim between this check and the write's commit (claims skip locked rows).
 */
export function leaseHeld(lease: Pick<JobLease, 'jobId' | 'lockToken'>): SQL {
  return sql`exists (select 1 from jobs where id = ${lease.jobId}::bigint
    and lock_token = ${lease.lockToken}::uuid and state = 'running' for share)`
}

/** Throws JobLeaseLostError unless the job still holds its lease (inside a transaction: until it ends). */
export async function requireLease(
  db: Executor,
  lease: Pick<JobLease, 'jobId' | 'lockToken'>
): Promise<void> {
  const [row] = await rows<{ held: boolean }>(db, sql`select ${leaseHeld(lease)} as held`)
  if (!row?.held) throw new JobLeaseLostError(lease.jobId)
}
