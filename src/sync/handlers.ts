import { JOB_TYPES } from '../jobs/job-types.js'
import { DeferJobError, type JobHandler, PermanentJobError } from '../jobs/worker.js'
import {
  PipedriveAmbiguousCreateError,
  PipedriveError,
  PipedriveRatePausedError
} from '../pipedrive/errors.js'
import { deleteActivityReplica, pushActivityUpdate } from './activity-changes.js'
import { replicateActivity } from './activity-replication.js'
import type { JobRun, SyncDeps } from './deps.js'
import { syncWarmLead } from './warm-lead.js'

/**
 * A 4xx other than 429 cannot be fixed by retrying, and a create whose outcome cannot be checked
 * must not be sent again blindly: both end the job at once (dead, visible, retryable by an
 * operator). A token paused for long gives the job back until the pause ends (not a failure).
 * Everything else is left to the queue's backoff.
 */
export function toJobError(error: unknown): unknown {
  if (error instanceof PipedriveRatePausedError) return new DeferJobError(error.message, error.waitMs)
  if (error instanceof PipedriveError && !error.retryable) return new PermanentJobError(error.message)
  if (error instanceof PipedriveAmbiguousCreateError) return new PermanentJobError(error.message)
  return error
}

function handler(
  run: (deps: SyncDeps, entityId: string, job: JobRun) => Promise<unknown>,
  deps: SyncDeps
): JobHandler {
  return async (job, signal, lease) => {
    try {
      await run(deps, job.entityId, { signal, lease })
    } catch (error) {
      throw toJobError(error)
    }
  }
}

/** The service's job handlers, by job type. */
export function syncHandlers(deps: SyncDeps): Record<string, JobHandler> {
  return {
    [JOB_TYPES.contactSync]: handler(syncWarmLead, deps),
    [JOB_TYPES.activityReplicate]: handler(replicateActivity, deps),
    [JOB_TYPES.activityUpdate]: handler(pushActivityUpdate, deps),
    [JOB_TYPES.activityDelete]: handler(deleteActivityReplica, deps)
  }
}
