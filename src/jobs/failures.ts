import type { Static } from '@sinclair/typebox'
import type { Database, Executor } from '../db/database.js'
import type { JobState } from '../db/schema.js'
import type { FailuresPage } from '../schemas/operator-api.js'
import {
  type FailuresPageStart,
  failedJobsPage,
  latestJobOf,
  lockJob,
  replayDeadJob,
  replayDeadSyncJobs,
  runWaitingJobNow
} from '../store/job-failures.js'
import type { JobId } from '../store/jobs.js'

export type FailureItem = Static<typeof FailuresPage>['items'][number]

/** Opaque cursor: the (failed_at, id) of the last item of a page. */
function encodeCursor({ failedAtMicros, id }: FailuresPageStart): string {
  return Buffer.from(`${failedAtMicros}:${id}`).toString('base64url')
}

export class BadCursorError extends Error {
  override name = 'BadCursorError'
}

// Both parts are compared as int8 in SQL: a larger number would fail there (a 500), not here.
const MAX_INT8 = 2n ** 63n - 1n

function decodeCursor(cursor: string): FailuresPageStart {
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
  // One more than a page: whether it comes back says whether there is a next page.
  const page = await failedJobsPage(db, { limit: limit + 1, after })
  const items = page
    .slice(0, limit)
    .map(({ failedAtMicros: _, jobId, ...item }) => ({ ...item, jobId: String(jobId) }))
  const last = page.length > limit ? page[limit - 1] : undefined
  return {
    items,
    nextCursor: last ? encodeCursor({ failedAtMicros: last.failedAtMicros, id: String(last.jobId) }) : null
  }
}

export type RetryOutcome =
  | { kind: 'queued' }
  | { kind: 'not_found' }
  /** `latest`: for a replayed job, the newest job of its entity (its replay, or what came after). */
  | { kind: 'not_failed'; state: JobState; latest?: { id: JobId; state: JobState } | undefined }

/** Runs in the transaction of an operator's replay of one dead job (not of `retryDeadJobs`). */
export type DeadJobReplayed = (tx: Executor, job: { type: string; entityId: string }) => Promise<void>

/** A job id as the operator API takes it (decimal text); undefined when no job can have it. */
function parseJobId(jobId: string): JobId | undefined {
  if (!/^\d{1,18}$/.test(jobId)) return undefined
  const id = Number(jobId)
  return Number.isSafeInteger(id) ? id : undefined
}

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
  const id = parseJobId(jobId)
  if (id === undefined) return { kind: 'not_found' }
  return db.transaction(async (tx) => {
    // The row lock orders this against another retry of the same job and against retry-dead.
    const job = await lockJob(tx, id)
    if (!job) return { kind: 'not_found' }
    if (job.state === 'replayed')
      return { kind: 'not_failed', state: job.state, latest: await latestJobOf(tx, job) }
    if (job.state !== 'retrying' && job.state !== 'dead') return { kind: 'not_failed', state: job.state }
    await runWaitingJobNow(tx, job)
    if (job.state === 'dead') {
      await onDeadReplayed?.(tx, { type: job.type, entityId: job.entityId })
      await replayDeadJob(tx, id)
    }
    return { kind: 'queued' }
  })
}

/** Every dead sync job (the latest of its entity) is replayed; returns how many new jobs were queued. */
export function retryDeadJobs(db: Database): Promise<number> {
  return replayDeadSyncJobs(db)
}
