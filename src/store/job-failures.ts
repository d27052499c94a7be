import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import { type JobState, jobs } from '../db/schema.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import { enqueueJobs, type Job, type JobId, jobRows } from './jobs.js'

type FailedState = Extract<JobState, 'retrying' | 'dead'>

/** What an operator sees and replays: the sync jobs (handlers of other types may exist in tests). */
const SYNC_JOB = sql`${jobs.type} in (${JOB_TYPES.contactSync}, ${JOB_TYPES.activityReplicate},
  ${JOB_TYPES.activityUpdate}, ${JOB_TYPES.activityDelete}, ${JOB_TYPES.personDelete})`
/** The latest job of its entity: an older dead job whose entity has been retried since is history. */
const LATEST = sql`not exists (select 1 from jobs newer
  where newer.type = jobs.type and newer.entity_id = jobs.entity_id and newer.id > jobs.id)`
/** When the job last failed, in microseconds: the page order, and half of its cursor. */
const FAILED_AT_MICROS = sql`(extract(epoch from ${jobs.failedAt}) * 1000000)::bigint`

/** Where a page of failures starts: after the (failed_at, id) of the previous page's last item. */
export interface FailuresPageStart {
  failedAtMicros: string
  id: string
}

/**
 * Up to `limit` retrying and dead sync jobs (each the latest of its entity), newest failure first;
 * `failedAtMicros` is text, as int8 microseconds exceed a JavaScript number's exact range.
 */
export async function failedJobsPage(
  db: Pick<Executor, 'select'>,
  { limit, after }: { limit: number; after?: FailuresPageStart | undefined }
) {
  return db
    .select({
      jobId: jobs.id,
      entity: sql<
        'contact' | 'activity'
      >`case when ${jobs.type} in (${JOB_TYPES.activityReplicate}, ${JOB_TYPES.activityUpdate}, ${JOB_TYPES.activityDelete})
        then 'activity' else 'contact' end`,
      id: jobs.entityId,
      state: sql<FailedState>`${jobs.state}`,
      attempts: jobs.attempts,
      lastError: jobs.lastError,
      nextAttemptAt: sql<string | null>`case when ${jobs.state} = 'retrying'
        then to_char(${jobs.runAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end`,
      failedAtMicros: sql<string>`${FAILED_AT_MICROS}::text`
    })
    .from(jobs)
    .where(
      and(
        inArray(jobs.state, ['retrying', 'dead']),
        SYNC_JOB,
        LATEST,
        after
          ? sql`(${FAILED_AT_MICROS}, ${jobs.id}) < (${after.failedAtMicros}::bigint, ${after.id}::bigint)`
          : undefined
      )
    )
    .orderBy(desc(FAILED_AT_MICROS), desc(jobs.id))
    .limit(limit)
}

/** The job's state and entity, its row locked until the transaction ends; undefined when there is none. */
export async function lockJob(tx: Executor, id: JobId) {
  const [job] = await tx
    .select({ state: jobs.state, type: jobs.type, entityId: jobs.entityId })
    .from(jobs)
    .where(eq(jobs.id, id))
    .for('update')
  return job
}

/** The newest job of an entity. */
export async function latestJobOf(tx: Executor, { type, entityId }: Pick<Job, 'type' | 'entityId'>) {
  const [job] = await tx
    .select({ id: jobs.id, state: jobs.state })
    .from(jobs)
    .where(and(eq(jobs.type, type), eq(jobs.entityId, entityId)))
    .orderBy(desc(jobs.id))
    .limit(1)
  return job
}

/** Makes the job waiting for an entity (if any) due now. */
export async function runWaitingJobNow(tx: Executor, { type, entityId }: Pick<Job, 'type' | 'entityId'>) {
  await tx
    .update(jobs)
    .set({ runAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(eq(jobs.type, type), eq(jobs.entityId, entityId), inArray(jobs.state, ['pending', 'retrying']))
    )
}

/**
 * Marks the dead jobs `where` picks replayed and queues a new job for each entity — unless one
 * already waits for it (`enqueueJobs`). A new job rather than the old row revived: the old row's
 * id may be older than a job of the same contact that runs now, and the queue serves a contact's
 * jobs in id order, so the replay belongs behind everything queued since. Returns how many new
 * jobs were queued.
 */
async function replay(db: Pick<Executor, 'execute'>, where: SQL): Promise<number> {
  const queued = await jobRows(
    db,
    ['id'],
    (columns) => sql`
    with replayed as (
      update jobs set state = 'replayed', finished_at = now(), updated_at = now()
      where state = 'dead' and ${where}
      returning id, type, entity_id, serial_key
    )
    ${enqueueJobs(sql`select type, entity_id, serial_key from replayed order by id`)}
    returning ${columns}`
  )
  return queued.length
}

/** Replays one dead job (see `replay`). */
export async function replayDeadJob(tx: Pick<Executor, 'execute'>, id: JobId): Promise<void> {
  await replay(tx, sql`id = ${id}::bigint`)
}

/** Replays every dead sync job that is the latest of its entity; returns how many new jobs were queued. */
export function replayDeadSyncJobs(db: Pick<Executor, 'execute'>): Promise<number> {
  return replay(db, sql`${SYNC_JOB} and ${LATEST}`)
}
