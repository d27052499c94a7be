import { type SQL, sql } from 'drizzle-orm'
import { type Database, type Executor, rows } from '../db/database.js'
import type { JobState } from '../db/schema.js'
import { JOB_TYPES } from './job-types.js'

export interface FailureItem {
  jobId: string
  entity: 'contact' | 'activity'
  id: string
  state: 'retrying' | 'dead'
  attempts: number
  lastError: string | null
  nextAttemptAt: string | null
}

const ENTITY = sql`case type when ${JOB_TYPES.contactSync} then 'contact' else 'activity' end`
/** What an operator sees and replays: the sync jobs (handlers of other types may exist in tests). */
const SYNC_JOB = sql`type in (${JOB_TYPES.contactSync}, ${JOB_TYPES.activityReplicate})`
/** The latest job of its entity: an older dead job whose entity has been retried since is history. */
const LATEST = sql`not exists (select 1 from jobs newer
  where newer.type = jobs.type and newer.entity_id = jobs.entity_id and newer.id > jobs.id)`

/** Opaque cursor: the (failed_at, id) of the last item of a page. */
function encodeCursor(failedAtMicros: string, id: string): string {
  return Buffer.from(`${failedAtMicros}:${id}`).toString('base64url')
}

export class BadCursorError extends Error {
  override name = 'BadCursorError'
}

// Both parts are compared as int8 in SQL: a larger number would fail there (a 500), not here.
const MAX_INT8 = 2n ** 63n - 1n

function decodeCursor(cursor: string): { failedAtMicros: string; id: string } {
  const match = /^(\d{1,19}):(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString())
  const [, failedAtMicros, id] = match ?? []
  if (!failedAtMicros || !id || BigInt(failedAtMicros) > MAX_INT8 || BigInt(id) > MAX_INT8)
    throw new BadCursorError('cursor is not one this service handed out')
  return { failedAtMicros, id }
}

/** Retrying and dead sync jobs, newest failure first (docs/interface.md `GET /api/sync/failures`). */
export async function listFailures(
  db: Executor,
  { limit, cursor }: { limit: number; cursor?: string | undefined }
): Promise<{ items: FailureItem[]; nextCursor: string | null }> {
  const after = cursor ? decodeCursor(cursor) : undefined
  const page = await rows<FailureItem & { failed_at_micros: string }>(
    db,
    sql`select id::text as "jobId", ${ENTITY} as entity, entity_id as id, state, attempts,
          last_error as "lastError",
          case when state = 'retrying'
            then to_char(run_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end as "nextAttemptAt",
          (extract(epoch from failed_at) * 1000000)::bigint::text as failed_at_micros
        from jobs
        where state in ('retrying', 'dead') and ${SYNC_JOB}
          and ${LATEST}
          ${
            after
              ? sql`and ((extract(epoch from failed_at) * 1000000)::bigint, id) <
                    (${after.failedAtMicros}::bigint, ${after.id}::bigint)`
              : sql``
          }
        order by (extract(epoch from failed_at) * 1000000)::bigint desc, id desc
        limit ${limit + 1}`
  )
  const items = page.slice(0, limit).map(({ failed_at_micros: _, ...item }) => item)
  const last = page.length > limit ? page[limit - 1] : undefined
  return { items, nextCursor: last ? encodeCursor(last.failed_at_micros, last.jobId) : null }
}

export type RetryOutcome =
  | { kind: 'queued' }
  | { kind: 'not_found' }
  /** `latest`: for a replayed job, the newest job of its entity (its replay, or what came after). */
  | { kind: 'not_failed'; state: JobState; latest?: { id: string; state: JobState } | undefined }

/** Runs in the transaction of an operator's replay of one dead job (not of `retryDeadJobs`). */
export type DeadJobReplayed = (tx: Executor, job: { type: string; entityId: string }) => Promise<void>

/**
 * Marks a dead job replayed and queues a new job for its entity — unless one already waits for
 * it: a waiting job reads the entity's latest state anyway. A new job rather than the old row
 * revived: the old row's id may be older than a job of the same contact that runs now, and the
 * queue serves a contact's jobs in id order, so the replay belongs behind everything queued since.
 */
const replay = (where: SQL) => sql`
  with replayed as (
    update jobs set state = 'replayed', finished_at = now(), updated_at = now()
    where state = 'dead' and ${where}
    returning id, type, entity_id, serial_key
  )
  insert into jobs (type, entity_id, serial_key)
  select type, entity_id, serial_key from replayed order by id
  on conflict (type, entity_id) where state in ('pending', 'retrying') do nothing
  returning id`

/**
 * Runs a retrying or dead job again now. A dead job is replayed as a new job with a fresh round
 * budget (attempts 0); a job already waiting for the same entity (queued since this one died) is
 * run now instead of a new one. Asked again, a replayed job answers `not_failed` naming the newest
 * job of its entity: a second request never queues the work twice.
 */
export async function retryJob(
  db: Database,
  jobId: string,
  onDeadReplayed?: DeadJobReplayed
): Promise<RetryOutcome> {
  if (!/^\d{1,18}$/.test(jobId)) return { kind: 'not_found' }
  return db.transaction(async (tx) => {
    // The row lock orders this against another retry of the same job and against retry-dead.
    const [job] = await rows<{ state: JobState; type: string; entity_id: string }>(
      tx,
      sql`select state, type, entity_id from jobs where id = ${jobId}::bigint for update`
    )
    if (!job) return { kind: 'not_found' }
    if (job.state === 'replayed') {
      const [latest] = await rows<{ id: string; state: JobState }>(
        tx,
        sql`select id::text as id, state from jobs where type = ${job.type} and entity_id = ${job.entity_id}
            order by id desc limit 1`
      )
      return { kind: 'not_failed', state: job.state, latest }
    }
    if (job.state !== 'retrying' && job.state !== 'dead') return { kind: 'not_failed', state: job.state }
    await tx.execute(sql`update jobs set run_at = now(), updated_at = now()
      where type = ${job.type} and entity_id = ${job.entity_id} and state in ('pending', 'retrying')`)
    if (job.state === 'dead') {
      await onDeadReplayed?.(tx, { type: job.type, entityId: job.entity_id })
      await tx.execute(replay(sql`id = ${jobId}::bigint`))
    }
    return { kind: 'queued' }
  })
}

/** Every dead sync job (the latest of its entity) is replayed; returns how many new jobs were queued. */
export async function retryDeadJobs(db: Database): Promise<number> {
  return (await rows<{ id: string }>(db, replay(sql`${SYNC_JOB} and ${LATEST}`))).length
}
