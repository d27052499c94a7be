import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'
import { type Executor, rows } from '../db/database.js'
import { jobs } from '../db/schema.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import { afterMs, beforeMs } from './intervals.js'
import { claimHeld } from './job-leases.js'

export type Job = typeof jobs.$inferSelect
/**
 * A job's id as a JavaScript number, as the schema declares it and both drivers return int8
 * (src/db/database.ts): ids count up from 1, and 2^53 − 1 of them is far more jobs than this
 * service could queue in any lifetime, so no id ever loses a digit.
 */
export type JobId = Job['id']

/** A job a worker holds: `attempts` counts the rounds run so far, this one included. */
export type ClaimedJob = Pick<Job, 'id' | 'type' | 'entityId' | 'serialKey' | 'attempts'> & {
  lockToken: NonNullable<Job['lockToken']>
}

/**
 * Queues jobs from `source`, a `values (…)` or `select …` of (type, entity_id, serial_key): a job
 * already waiting for the same entity absorbs the new one (handlers read the entity's latest state
 * when they run). The conflict target is the partial index jobs_waiting_entity_uq. Every statement
 * that queues work composes this one, so the coalescing rule is written once.
 */
export function enqueueJobs(source: SQL): SQL {
  return sql`insert into jobs (type, entity_id, serial_key) ${source}
    on conflict (type, entity_id) where state in ('pending', 'retrying') do nothing`
}

/**
 * Deletes the waiting jobs (never started, or between retries) of these types for the entities
 * `entityIds` selects: work that must not happen any more. A running job is left to finish.
 */
export function cancelWaitingJobs(types: readonly string[], entityIds: SQL): SQL {
  const typeList = sql.join(
    types.map((type) => sql`${type}`),
    sql`, `
  )
  return sql`delete from jobs where type in (${typeList}) and entity_id in (${entityIds})
    and state in ('pending', 'retrying')`
}

/** Columns a raw statement returns as the drivers give them: a timestamp would arrive as text, not a Date. */
type RawJobColumn = { [K in keyof Job]-?: Job[K] extends Date | null ? never : K }[keyof Job]

/**
 * Runs a raw statement over jobs (a CTE, `for update skip locked`: what the query builder cannot
 * say) whose `returning`/`select` list is `columns`: the given schema columns under their schema
 * names, so the rows are typed from the schema.
 */
export async function jobRows<K extends RawJobColumn>(
  db: Pick<Executor, 'execute'>,
  keys: readonly K[],
  statement: (columns: SQL) => SQL
): Promise<Pick<Job, K>[]> {
  const columns = sql.join(
    keys.map((key) => sql`jobs.${sql.identifier(jobs[key].name)} as ${sql.identifier(key)}`),
    sql`, `
  )
  return rows<Pick<Job, K>>(db, statement(columns))
}

const heldBy = (job: ClaimedJob) => claimHeld({ jobId: job.id, lockToken: job.lockToken })

/** Adds a job inside the caller's transaction (see `enqueueJobs`). */
export async function enqueue(
  executor: Pick<Executor, 'execute'>,
  job: Pick<Job, 'type' | 'entityId' | 'serialKey'>
): Promise<void> {
  await executor.execute(enqueueJobs(sql`values (${job.type}, ${job.entityId}, ${job.serialKey})`))
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
  db: Pick<Executor, 'execute'>,
  { types, limit, leaseMs }: { types: readonly string[]; limit: number; leaseMs: number }
): Promise<ClaimedJob[]> {
  if (types.length === 0 || limit <= 0) return []
  const typeList = sql.join(
    types.map((type) => sql`${type}`),
    sql`, `
  )
  const claimed = await jobRows(
    db,
    ['id', 'type', 'entityId', 'serialKey', 'attempts', 'lockToken'],
    (columns) => sql`
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
      locked_until = ${afterMs(leaseMs)}, started_at = now(), updated_at = now()
    from picked where jobs.id = picked.id
    returning ${columns}`
  )
  // The claim has just set every lock token.
  return claimed as ClaimedJob[]
}

/** False when the job's lease was lost (another run holds it now): nothing is written then. */
export async function completeJob(db: Executor, job: ClaimedJob): Promise<boolean> {
  const completed = await db
    .update(jobs)
    .set({
      state: 'done',
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
      lockToken: null,
      lockedUntil: null,
      lastError: null
    })
    .where(heldBy(job))
    .returning({ id: jobs.id })
  return completed.length > 0
}

/** Deletes the jobs waiting for the same entity as `job` (enqueued while it ran): it takes their place. */
export async function foldWaitingJobs(tx: Executor, job: ClaimedJob): Promise<void> {
  await tx.execute(sql`
    delete from jobs where type = ${job.type} and entity_id = ${job.entityId}
      and state in ('pending', 'retrying') and id <> ${job.id}`)
}

/**
 * Ends a failed round: dead, or retrying in `retryInMs`. Returns when the job runs next (epoch ms;
 * now when dead), or undefined when the job's lease was lost and nothing was written.
 */
export async function recordFailedRound(
  tx: Executor,
  job: ClaimedJob,
  { error, dead, retryInMs }: { error: string; dead: boolean; retryInMs: number }
): Promise<number | undefined> {
  const [row] = await tx
    .update(jobs)
    .set({
      state: dead ? 'dead' : 'retrying',
      runAt: afterMs(dead ? 0 : retryInMs),
      failedAt: sql`now()`,
      lastError: error,
      updatedAt: sql`now()`,
      lockToken: null,
      lockedUntil: null
    })
    .where(heldBy(job))
    .returning({ runAtMs: sql<number>`(extract(epoch from ${jobs.runAt}) * 1000)::float8` })
  return row?.runAtMs
}

/**
 * Gives a claimed job back without counting the round: waiting again (`pending`, or `retrying`
 * when it had failed before), due in `delayMs`, its attempts as before the claim, no failure
 * recorded. False when the job's lease was lost and nothing was written.
 */
export async function returnClaim(tx: Executor, job: ClaimedJob, delayMs: number): Promise<boolean> {
  const returned = await tx
    .update(jobs)
    .set({
      state: sql`case when ${jobs.failedAt} is null then 'pending' else 'retrying' end`,
      attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
      runAt: afterMs(Math.max(0, Math.ceil(delayMs))),
      lockToken: null,
      lockedUntil: null,
      updatedAt: sql`now()`
    })
    .where(heldBy(job))
    .returning({ id: jobs.id })
  return returned.length > 0
}

/**
 * Called in the transaction that links a contact to its Pipedrive person: every activity of the
 * contact that waited for the person is queued again, oldest first (job ids follow CRM creation
 * order, and one contact's jobs run in id order).
 */
export async function releaseWaitingActivities(
  tx: Pick<Executor, 'execute'>,
  contactId: string
): Promise<void> {
  await tx.execute(sql`
    with released as (
      update activities set state = 'pending', updated_at = now()
      where contact_id = ${contactId} and state = 'waiting_for_person'
      returning id, contact_id, crm_created_at
    )
    ${enqueueJobs(sql`select ${JOB_TYPES.activityReplicate}, id, contact_id from released order by crm_created_at, id`)}`)
}

/** Jobs per state, and per state the seconds since its oldest runnable job became due (null: none). */
export async function countJobsByState(db: Pick<Executor, 'select'>) {
  return db
    .select({
      state: jobs.state,
      count: sql<number>`count(*)::integer`,
      oldestRunnableSeconds: sql<number | null>`extract(epoch from now() - min(${jobs.runAt}) filter (
        where ${jobs.state} in ('pending', 'retrying') and ${jobs.runAt} <= now()))::float8`
    })
    .from(jobs)
    .groupBy(jobs.state)
}

/**
 * Deletes up to `limit` finished jobs (done or replayed) older than `olderThanMs`; returns how
 * many. An entity's older dead jobs go with the newer job deleted. They are history — the
 * failures list and retry-dead see only the latest job of each entity — and deleting the newer
 * job alone would make the older dead one the latest again: back among the failures, and replayed.
 */
export async function deleteFinishedJobs(
  db: Pick<Executor, 'execute'>,
  olderThanMs: number,
  limit: number
): Promise<number> {
  const deleted = await jobRows(
    db,
    ['id'],
    (columns) => sql`with finished as (
        select id, type, entity_id from jobs
        where state in ('done', 'replayed') and finished_at < ${beforeMs(olderThanMs)} limit ${limit}
      ), history as (
        delete from jobs dead using finished
        where dead.state = 'dead' and dead.type = finished.type and dead.entity_id = finished.entity_id
          and dead.id < finished.id
      )
      delete from jobs where id in (select id from finished) returning ${columns}`
  )
  return deleted.length
}

/** The contact's waiting sync job runs now (a retrying one without its backoff). */
export async function runContactSyncNow(db: Executor, contactId: string): Promise<void> {
  await db
    .update(jobs)
    .set({ runAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(jobs.type, JOB_TYPES.contactSync),
        eq(jobs.entityId, contactId),
        inArray(jobs.state, ['pending', 'retrying'])
      )
    )
}

/** The state of the contact's latest sync job; undefined when it never had one. */
export async function latestContactSyncState(db: Executor, contactId: string) {
  const [job] = await db
    .select({ state: jobs.state })
    .from(jobs)
    .where(and(eq(jobs.type, JOB_TYPES.contactSync), eq(jobs.entityId, contactId)))
    .orderBy(desc(jobs.id))
    .limit(1)
  return job?.state
}
