import { randomUUID } from 'node:crypto'
import type { Config } from '../config.js'
import type { Executor } from '../db/database.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import type { FailureReport } from '../jobs/queue.js'
import type { ClaimedJob } from '../store/jobs.js'
import { insertCallback } from '../store/outbox.js'

/** docs/interface.md: CRM ids are strings, Pipedrive ids integers. */
export type CallbackEvent =
  | {
      type: 'pipedrive.person.synced'
      data: { contactId: string; pipedrivePersonId: number; pipedriveOrgId: number | null }
    }
  | { type: 'pipedrive.activity.synced'; data: { activityId: string; pipedriveActivityId: number } }
  | { type: 'pipedrive.person.deleted'; data: { contactId: string; pipedrivePersonId: number } }
  | {
      type: 'pipedrive.activity.updated'
      data: { activityId: string; pipedriveActivityId: number; fields: string[] }
    }
  | {
      type: 'pipedrive.activity.deleted'
      data: { activityId: string; pipedriveActivityId: number | null }
    }
  | {
      type: 'pipedrive.sync.failed'
      data: {
        entity: 'contact' | 'activity'
        id: string
        attempts: number
        error: string
        nextAttemptAt: string | null
        dead: boolean
      }
    }

/**
 * Adds a callback in the caller's transaction, so it exists exactly when the state change it
 * reports does. Without CRM_CALLBACK_URL nothing is written (the outbox must not grow unread).
 */
export async function addCallback(
  tx: Executor,
  config: Pick<Config, 'CRM_CALLBACK_URL'>,
  event: CallbackEvent
): Promise<void> {
  if (!config.CRM_CALLBACK_URL) return
  const envelope = { type: event.type, timestamp: new Date().toISOString(), data: event.data }
  await insertCallback(tx, { webhookId: `msg_${randomUUID()}`, type: event.type, payload: envelope })
}

const ENTITY_BY_JOB_TYPE: Record<string, 'contact' | 'activity'> = {
  [JOB_TYPES.contactSync]: 'contact',
  [JOB_TYPES.activityReplicate]: 'activity',
  [JOB_TYPES.activityUpdate]: 'activity',
  [JOB_TYPES.activityDelete]: 'activity',
  [JOB_TYPES.personDelete]: 'contact'
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
