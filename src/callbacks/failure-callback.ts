import type { Config } from '../config.js'
import type { Executor } from '../db/database.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import type { ClaimedJob, FailureReport } from '../jobs/queue.js'
import { addCallback } from './outbox.js'

const ENTITY_BY_JOB_TYPE: Record<string, 'contact' | 'activity'> = {
  [JOB_TYPES.contactSync]: 'contact',
  [JOB_TYPES.activityReplicate]: 'activity'
}

/** `pipedrive.sync.failed` for every failed round of a sync job, in the round's own transaction. */
export async function reportSyncFailure(
  tx: Executor,
  config: Pick<Config, 'CRM_CALLBACK_URL'>,
  job: ClaimedJob,
  failure: FailureReport
): Promise<void> {
  const entity = ENTITY_BY_JOB_TYPE[job.type]
  if (!entity) return
  await addCallback(tx, config, {
    type: 'pipedrive.sync.failed',
    data: {
      entity,
      id: job.entityId,
      attempts: job.attempts,
      error: failure.error,
      nextAttemptAt: failure.nextAttemptAt,
      dead: failure.dead
    }
  })
}
