import { sql } from 'drizzle-orm'
import { type Database, rows } from '../src/db/database.js'
import type { JobLease } from '../src/jobs/job-lease.js'
import { uid } from './helper.js'

/** A job type no worker handles: the job exists only to hold a lease. */
const LEASE_HOLDER_TYPE = 'test.lease-holder'

export interface HeldLease extends JobLease {
  /** What the work asked to renew with the job; a test runs them as a heartbeat would. */
  readonly renewals: Set<() => Promise<unknown>>
}

/**
 * A running job's lease, for calling an orchestrator directly (no worker): its writes pass the
 * fence while the job row keeps this lock token, and are refused once a test changes it.
 */
export async function heldLease(db: Database, leaseMs = 30_000): Promise<HeldLease> {
  const key = uid('lease')
  const [job] = await rows<{ id: number; lock_token: string }>(
    db,
    sql`insert into jobs (type, entity_id, serial_key, state, attempts, lock_token, locked_until, started_at)
        values (${LEASE_HOLDER_TYPE}, ${key}, ${key}, 'running', 1, gen_random_uuid(),
          now() + interval '1 hour', now())
        returning id, lock_token::text as lock_token`
  )
  if (!job) throw new Error('lease holder not inserted')
  const renewals = new Set<() => Promise<unknown>>()
  return {
    jobId: job.id,
    lockToken: job.lock_token,
    leaseMs,
    renewals,
    renewWithJob(renew) {
      renewals.add(renew)
      return () => {
        renewals.delete(renew)
      }
    }
  }
}

/** Another run took the job over: the lease's holder is no longer the one with this token. */
export async function takeOver(db: Database, lease: JobLease): Promise<void> {
  await db.execute(sql`update jobs set lock_token = gen_random_uuid() where id = ${lease.jobId}::bigint`)
}
