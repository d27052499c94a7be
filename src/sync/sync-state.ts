import { sql } from 'drizzle-orm'
import { type Executor, rows } from '../db/database.js'
import { JOB_TYPES } from '../jobs/job-types.js'

export type ContactState = 'not_warm' | 'pending' | 'retrying' | 'synced' | 'dead' | 'skipped'
export type ActivityState = 'pending' | 'waiting_for_person' | 'retrying' | 'synced' | 'dead' | 'skipped'

export interface ContactStatus {
  isWarmLead: boolean
  state: ContactState
  pipedrivePersonId: number | null
  pipedriveOrgId: number | null
  attempts: number
  lastAttempt: Date | null
  lastError: string | null
  warning: string | null
}

export interface ActivityStatus {
  synced: boolean
  state: ActivityState
  pipedriveActivityId: number | null
  syncAttempts: number
  lastAttempt: Date | null
  lastError: string | null
  warning: string | null
}

const toDate = (value: string | Date | null) => (value === null ? null : new Date(value))

/**
 * A contact's state is read from its row and its latest job: `retrying` and `dead` are the queue's
 * word, `synced`, `not_warm` and `skipped` the handler's (docs/interface.md).
 */
export async function contactStatus(
  db: Executor,
  contactId: string,
  threshold: number
): Promise<ContactStatus | undefined> {
  const [row] = await rows<{
    warmness_score: number
    pipedrive_person_id: number | null
    pipedrive_org_id: number | null
    sync_state: string
    last_error: string | null
    warning: string | null
    job_state: string | null
    attempts: number | null
    started_at: string | null
    job_error: string | null
  }>(
    db,
    sql`select c.warmness_score, c.pipedrive_person_id, c.pipedrive_org_id, c.sync_state, c.last_error, c.warning,
               j.state as job_state, j.attempts, j.started_at, j.last_error as job_error
        from contacts c
        left join lateral (
          select state, attempts, started_at, last_error from jobs
          where type = ${JOB_TYPES.contactSync} and entity_id = c.id
          order by id desc limit 1
        ) j on true
        where c.id = ${contactId}`
  )
  if (!row) return undefined
  const isWarmLead = row.warmness_score >= threshold
  let state: ContactState
  if (row.pipedrive_person_id !== null) state = 'synced'
  else if (!isWarmLead) state = 'not_warm'
  else if (row.job_state === 'dead' || row.job_state === 'retrying') state = row.job_state
  else if (row.sync_state === 'skipped') state = 'skipped'
  else state = 'pending'
  return {
    isWarmLead,
    state,
    pipedrivePersonId: row.pipedrive_person_id,
    pipedriveOrgId: row.pipedrive_org_id,
    attempts: row.attempts ?? 0,
    lastAttempt: toDate(row.started_at),
    lastError: state === 'synced' ? null : (row.job_error ?? row.last_error),
    warning: row.warning
  }
}

export async function activityStatus(db: Executor, activityId: string): Promise<ActivityStatus | undefined> {
  const [row] = await rows<{
    pipedrive_activity_id: number | null
    replicated_to_pipedrive: boolean
    pipedrive_sync_attempts: number
    last_pipedrive_sync_attempt: string | null
    state: string
    last_error: string | null
    warning: string | null
    job_state: string | null
    job_error: string | null
  }>(
    db,
    sql`select a.pipedrive_activity_id, a.replicated_to_pipedrive, a.pipedrive_sync_attempts,
               a.last_pipedrive_sync_attempt, a.state, a.last_error, a.warning,
               j.state as job_state, j.last_error as job_error
        from activities a
        left join lateral (
          select state, last_error from jobs
          where type = ${JOB_TYPES.activityReplicate} and entity_id = a.id
          order by id desc limit 1
        ) j on true
        where a.id = ${activityId}`
  )
  if (!row) return undefined
  let state: ActivityState
  if (row.replicated_to_pipedrive) state = 'synced'
  else if (row.job_state === 'dead' || row.job_state === 'retrying') state = row.job_state
  else if (row.state === 'waiting_for_person' || row.state === 'skipped') state = row.state
  else state = 'pending'
  return {
    synced: row.replicated_to_pipedrive,
    state,
    pipedriveActivityId: row.pipedrive_activity_id,
    syncAttempts: row.pipedrive_sync_attempts,
    lastAttempt: toDate(row.last_pipedrive_sync_attempt),
    lastError: state === 'synced' ? null : (row.job_error ?? row.last_error),
    warning: row.warning
  }
}
