import type { Executor } from '../db/database.js'
import type { ActivityState, ContactState } from '../schemas/operator-api.js'
import { activityWithLatestJob } from '../store/activities.js'
import { contactWithLatestJob } from '../store/contacts.js'

export type { ActivityState, ContactState }

export interface ContactStatus {
  isWarmLead: boolean
  state: ContactState
  pipedrivePersonId: number | null
  pipedriveOrgId: number | null
  attempts: number
  lastAttempt: Date | null
  lastError: string | null
  warning: string | null
  /** Null unless the contact is deleted. */
  erased: boolean | null
}

export interface ActivityStatus {
  synced: boolean
  state: ActivityState
  pipedriveActivityId: number | null
  syncAttempts: number
  lastAttempt: Date | null
  lastError: string | null
  warning: string | null
  /** The fields the last update carried to Pipedrive (null: none pushed yet). */
  fields: string[] | null
}

/**
 * A contact's state is read from its row and its latest job: `retrying` and `dead` are the queue's
 * word, `synced`, `not_warm` and `skipped` the handler's, `deleted` the CRM's — it is final (docs/interface.md).
 */
export async function contactStatus(
  db: Executor,
  contactId: string,
  threshold: number
): Promise<ContactStatus | undefined> {
  const row = await contactWithLatestJob(db, contactId)
  if (!row) return undefined
  const { contact, job } = row
  const isWarmLead = contact.warmnessScore >= threshold
  let state: ContactState
  if (contact.deleted) state = 'deleted'
  else if (contact.pipedrivePersonId !== null) state = 'synced'
  else if (!isWarmLead) state = 'not_warm'
  else if (job?.state === 'dead' || job?.state === 'retrying') state = job.state
  else if (contact.syncState === 'skipped') state = 'skipped'
  else state = 'pending'
  return {
    isWarmLead,
    state,
    pipedrivePersonId: contact.pipedrivePersonId,
    pipedriveOrgId: contact.pipedriveOrgId,
    attempts: job?.attempts ?? 0,
    lastAttempt: job?.startedAt ?? null,
    lastError: state === 'synced' || state === 'deleted' ? null : (job?.lastError ?? contact.lastError),
    warning: contact.warning,
    erased: contact.deleted ? contact.erased : null
  }
}

export async function activityStatus(db: Executor, activityId: string): Promise<ActivityStatus | undefined> {
  const row = await activityWithLatestJob(db, activityId)
  if (!row) return undefined
  const { activity, job } = row
  let state: ActivityState
  // Set by the delete job once done in Pipedrive (or nothing was there), or at once for the
  // activities of a deleted contact.
  if (activity.state === 'deleted') state = 'deleted'
  else if (activity.replicatedToPipedrive) state = 'synced'
  else if (job?.state === 'dead' || job?.state === 'retrying') state = job.state
  else if (activity.state === 'waiting_for_person' || activity.state === 'skipped') state = activity.state
  else state = 'pending'
  return {
    synced: activity.replicatedToPipedrive,
    state,
    pipedriveActivityId: activity.pipedriveActivityId,
    syncAttempts: activity.pipedriveSyncAttempts,
    lastAttempt: activity.lastPipedriveSyncAttempt,
    lastError: state === 'synced' || state === 'deleted' ? null : (job?.lastError ?? activity.lastError),
    warning: activity.warning,
    fields: activity.pushedFields
  }
}
