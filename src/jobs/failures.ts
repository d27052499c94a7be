import { sql } from 'drizzle-orm'
import { type Database, type Executor, rows } from '../db/database.js'
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

function decodeCursor(cursor: string): { failedAtMicros: string; id: string } {
  const match = /^(\d{1,20}):(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString())
  if (!match?.[1] || !match[2]) throw new BadCursorError('cursor is not one this service handed out')
  return { failedAtMicros: match[1], id: match[2] }
}

/** Retrying and dead sync jobs, newest failure first (CONTRACT §3 `GET /api/sync/failures`). */
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
        where state in ('retrying', 'dead') and type in (${JOB_TYPES.contactSync}, ${JOB_TYPES.activityReplicate})
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

export type RetryOutcome = 'queued' | 'not_found' | 'not_failed'

/** Runs in the transaction of an operator's replay of one dead job (not of `retryDeadJobs`). */
export type DeadJobReplayed = (tx: Executor, job: { type: string; entityId: string }) => Promise<void>

/**
 * Runs a retrying or dead job again now. A dead job gets a fresh round budget (attempts 0); if a
 * newer job already waits for the same entity, that one is run now instead (one waiting job per entity).
 */
export async function retryJob(
  db: Database,
  jobId: string,
  onDeadReplayed?: DeadJobReplayed
): Promise<RetryOutcome> {
  if (!/^\d{1,18}$/.test(jobId)) return 'not_found'
  return db.transaction(async (tx) => {
    const [job] = await rows<{ state: string; type: string; entity_id: string }>(
      tx,
      sql`select state, type, entity_id from jobs where id = ${jobId}::bigint for update`
    )
    if (!job) return 'not_found'
    if (job.state !== 'retrying' && job.state !== 'dead') return 'not_failed'
    if (job.state === 'dead') await onDeadReplayed?.(tx, { type: job.type, entityId: job.entity_id })
    const waiting = await rows<{ id: string }>(
      tx,
      sql`update jobs set run_at = now(), updated_at = now()
          where type = ${job.type} and entity_id = ${job.entity_id} and state in ('pending', 'retrying')
          returning id`
    )
    if (waiting.length === 0) {
      await tx.execute(sql`update jobs set state = 'pending', attempts = 0, run_at = now(), updated_at = now()
        where id = ${jobId}::bigint`)
    }
    return 'queued'
  })
}

/** Every dead sync job (the latest of its entity) runs again; returns how many were queued. */
export async function retryDeadJobs(db: Database): Promise<number> {
  const revived = await rows<{ id: string }>(
    db,
    sql`update jobs set state = 'pending', attempts = 0, run_at = now(), updated_at = now()
        where state = 'dead' and ${LATEST}
          and not exists (select 1 from jobs waiting where waiting.type = jobs.type
            and waiting.entity_id = jobs.entity_id and waiting.state in ('pending', 'retrying'))
        returning id`
  )
  return revived.length
}
