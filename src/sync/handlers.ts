import { JOB_TYPES } from '../jobs/job-types.js'
import type { JobHandler } from '../jobs/worker.js'
import { replicateActivity } from './activity-replication.js'
import type { JobRun, SyncDeps } from './deps.js'
import { toJobError } from './job-errors.js'
import { syncWarmLead } from './warm-lead.js'

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
    [JOB_TYPES.activityReplicate]: handler(replicateActivity, deps)
  }
}
