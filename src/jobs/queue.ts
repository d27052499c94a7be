import { sql } from 'drizzle-orm'
import { exponentialBackoff } from '../backoff.js'
import { type Database, type Executor, rows } from '../db/database.js'
import { JobLeaseLostError } from './job-lease.js'

export interface ClaimedJob {
  id: string
  type: string
  entityId: string
  serialKey: string
  /** Rounds run so far, this one included. */
  attempts: number
  lockToken: string
}

export interface EnqueueInput {
  type: string
  entityId: string
  serialKey: string
}

const MAX_ERROR_LENGTH = 1_000

/**
 * Adds a job inside the caller's transaction. A job already waiting for the same entity absorbs
 * this one: handlers read the entity's latest state when they run.
 */
export async function enqueue(executor: Executor, job: EnqueueInput): Promise<void> {
  await executor.execute(sql`
    insert into jobs (type, entity_id, serial_key) values (${job.type}, ${job.entityId}, ${job.serialKey})
    on conflict (type, entity_id) where state in ('pending', 'retrying') do nothing`)
}

/**
 * Claims up to `limit` runnable jobs of the given types. A contact's jobs (one serial key) run one
 * at a time and in order, across processes:
 * - a waiting job is a candidate only when it is the oldest waiting job of its key and no job of
 *   its key is running — whatever the ids say, so a job queued with an older id than the running
 *   one (a replay, a row left by an older version) waits for it instead of colliding with it;
 * - a running job whose lease expired (its process died) is always a candidate: it was its key's
 *   head when it started, and nothing else of the key can start before it ends.
 * So a claim can never pick two running jobs of one key, and the partial unique index
 * `jobs_running_key_uq` (which would abort the whole statement, for every contact) only backs
 * the guarantee. SKIP LOCKED lets concurrent claimers pass each other.
 * Heads are looked up per candidate (jobs_active_key_idx, jobs_running_key_uq): a join against
 * all heads (`distinct on`) was planned as a nested loop whenever the statistics predate a backlog
 * (a fresh table, or a burst after a quiet time) — 0.4 to 2.6 s per claim at 2,000–3,000 waiting jobs.
 */
export async function claimJobs(
  db: Executor,
  { types, limit, leaseMs }: { types: readonly string[]; limit: number; leaseMs: number }
): Promise<ClaimedJob[]> {
  if (types.length === 0 || limit <= 0) return []
  const typeList = sql.join(
    types.map((type) => sql`${type}`),
    sql`, `
  )
  return rows<ClaimedJob>(
    db,
    sql`
    with picked as (
      select j.id
      from jobs j
      where j.type in (${typeList})
        and ((j.state = 'running' and j.locked_until < now())
          or (j.state in ('pending', 'retrying') and j.run_at <= now()
            -- With no job of the key running, this is its oldest waiting job (and the index's
            -- own states let min() read the first entry of jobs_active_key_idx).
            and j.id = (
              select min(head.id) from jobs head
              where head.serial_key = j.serial_key and head.state in ('pending', 'retrying', 'running'))
            and not exists (
              select 1 from jobs busy where busy.serial_key = j.serial_key and busy.state = 'running')))
      order by j.run_at, j.id
      limit ${limit}
      for update of j skip locked
    )
    update jobs set
      state = 'running', attempts = jobs.attempts + 1, lock_token = gen_random_uuid(),
      locked_until = now() + ${leaseMs} * interval '1 millisecond',
      started_at = now(), updated_at = now()
    from picked where jobs.id = picked.id
    returning jobs.id::text as "id", jobs.type, jobs.entity_id as "entityId",
      jobs.serial_key as "serialKey", jobs.attempts, jobs.lock_token::text as "lockToken"`
  )
}

/** Keeps a long job's lease alive; false when the lease was lost (another process took the job). */
export async function extendLease(db: Executor, job: ClaimedJob, leaseMs: number): Promise<boolean> {
  const result = await rows(
    db,
    sql`update jobs set locked_until = now() + ${leaseMs} * interval '1 millisecond'
        where id = ${job.id} and lock_token = ${job.lockToken}::uuid and state = 'running'
        returning id`
  )
  return result.length > 0
}

/** False when the job's lease was lost (another run holds it now): nothing is written then. */
export async function completeJob(db: Executor, job: ClaimedJob): Promise<boolean> {
  const result = await rows(
    db,
    sql`update jobs set state = 'done', finished_at = now(), updated_at = now(), lock_token = null,
          locked_until = null, last_error = null
        where id = ${job.id} and lock_token = ${job.lockToken}::uuid and state = 'running'
        returning id`
  )
  return result.length > 0
}

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
    if (!dead) {
      await tx.execute(sql`
        delete from jobs where type = ${job.type} and entity_id = ${job.entityId}
          and state in ('pending', 'retrying') and id <> ${job.id}`)
    }
    const updated = await rows<{ run_at_ms: number }>(
      tx,
      sql`update jobs set
            state = ${dead ? 'dead' : 'retrying'},
            run_at = now() + ${dead ? 0 : retryInMs} * interval '1 millisecond',
            failed_at = now(), last_error = ${message}, updated_at = now(),
            lock_token = null, locked_until = null
          where id = ${job.id} and lock_token = ${job.lockToken}::uuid and state = 'running'
          returning (extract(epoch from run_at) * 1000)::float8 as run_at_ms`
    )
    const [row] = updated
    // Rolls the folding of waiting jobs back: a run that lost the job writes nothing.
    if (!row) throw new JobLeaseLostError(job.id)
    await report?.(tx, {
      dead,
      error: message,
      nextAttemptAt: dead ? null : new Date(row.run_at_ms).toISOString()
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
 * Gives a claimed job back without counting the round: waiting again (`pending`, or `retrying`
 * when it had failed before), due in `delayMs`, its attempts as before the claim, no failure
 * recorded. A job waiting for the same entity (enqueued while this one ran) is folded into it.
 */
export async function deferJob(db: Database, job: ClaimedJob, delayMs: number): Promise<boolean> {
  // A claim that is no longer ours rolls the whole transaction back: the waiting job it would have
  // folded in stays.
  return db
    .transaction(async (tx) => {
      await tx.execute(sql`
      delete from jobs where type = ${job.type} and entity_id = ${job.entityId}
        and state in ('pending', 'retrying') and id <> ${job.id}`)
      const deferred = await rows(
        tx,
        sql`update jobs set
            state = case when failed_at is null then 'pending' else 'retrying' end,
            attempts = greatest(attempts - 1, 0),
            run_at = now() + ${Math.max(0, Math.ceil(delayMs))} * interval '1 millisecond',
            lock_token = null, locked_until = null, updated_at = now()
          where id = ${job.id} and lock_token = ${job.lockToken}::uuid and state = 'running'
          returning id`
      )
      if (deferred.length === 0) throw new JobLeaseLostError(job.id)
      return true
    })
    .catch((error: unknown) => {
      if (error instanceof JobLeaseLostError) return false
      throw error
    })
}
