import type {
  ActivitySyncStatusT,
  CheckWarmLeadResultT,
  ContactSyncStatusT
} from '../../schemas/operator-api.js'
import type { ActivityStatus, ContactStatus } from '../../sync/sync-state.js'

/** Optional fields are left out rather than sent as null. */
function present<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V }
}

/** Pipedrive ids are strings in operator answers. */
const idString = (id: number | null) => (id === null ? null : String(id))

/** What every answer about a contact says: `GET …/sync-status` and `POST …/check-warm-lead`. */
function contactAnswer(status: ContactStatus) {
  return {
    success: true as const,
    isWarmLead: status.isWarmLead,
    state: status.state,
    ...present('pipedrivePersonId', idString(status.pipedrivePersonId)),
    ...present('pipedriveOrgId', idString(status.pipedriveOrgId)),
    ...present('warning', status.warning)
  }
}

export function contactStatusAnswer(status: ContactStatus): ContactSyncStatusT {
  return {
    ...contactAnswer(status),
    attempts: status.attempts,
    ...present('lastAttempt', status.lastAttempt?.toISOString() ?? null),
    ...present('lastError', status.lastError),
    ...present('erased', status.erased)
  }
}

/** `queued` while the contact's job is still to run (docs/interface.md, check-warm-lead). */
export function checkWarmLeadAnswer(status: ContactStatus): CheckWarmLeadResultT {
  const queued = status.state === 'pending' || status.state === 'retrying'
  return { ...contactAnswer(status), ...(queued ? { queued: true } : {}) }
}

export function activityStatusAnswer(status: ActivityStatus): ActivitySyncStatusT {
  return {
    success: true,
    synced: status.synced,
    ...present('pipedriveActivityId', idString(status.pipedriveActivityId)),
    syncAttempts: status.syncAttempts,
    ...present('lastAttempt', status.lastAttempt?.toISOString() ?? null),
    state: status.state,
    ...present('lastError', status.lastError),
    ...present('warning', status.warning),
    ...present('fields', status.fields)
  }
}
