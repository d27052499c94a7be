import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  ActivityParams,
  ActivitySyncStatus,
  type ActivitySyncStatusT,
  ApiFailure,
  ContactParams,
  ContactSyncStatus,
  type ContactSyncStatusT
} from '../../schemas/operator-api.js'
import {
  type ActivityStatus,
  activityStatus,
  type ContactStatus,
  contactStatus
} from '../../sync/sync-state.js'

/** Optional fields are left out rather than sent as null; Pipedrive ids become strings. */
function present<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V }
}

export function contactStatusBody(status: ContactStatus): ContactSyncStatusT {
  return {
    success: true,
    isWarmLead: status.isWarmLead,
    state: status.state,
    ...present(
      'pipedrivePersonId',
      status.pipedrivePersonId === null ? null : String(status.pipedrivePersonId)
    ),
    ...present('pipedriveOrgId', status.pipedriveOrgId === null ? null : String(status.pipedriveOrgId)),
    attempts: status.attempts,
    ...present('lastAttempt', status.lastAttempt?.toISOString() ?? null),
    ...present('lastError', status.lastError),
    ...present('warning', status.warning)
  }
}

function activityStatusBody(status: ActivityStatus): ActivitySyncStatusT {
  return {
    success: true,
    synced: status.synced,
    ...present(
      'pipedriveActivityId',
      status.pipedriveActivityId === null ? null : String(status.pipedriveActivityId)
    ),
    syncAttempts: status.syncAttempts,
    ...present('lastAttempt', status.lastAttempt?.toISOString() ?? null),
    state: status.state,
    ...present('lastError', status.lastError),
    ...present('warning', status.warning)
  }
}

const syncStatusRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/contacts/:id/sync-status',
    {
      schema: {
        summary: "A contact's sync state, without side effects",
        security: [{ operatorKey: [] }],
        params: ContactParams,
        response: { 200: ContactSyncStatus, 404: ApiFailure }
      }
    },
    async (request, reply) => {
      const status = await contactStatus(app.db, request.params.id, app.config.WARM_LEAD_THRESHOLD)
      if (!status)
        return reply.code(404).send({ success: false, error: `unknown contact ${request.params.id}` })
      return contactStatusBody(status)
    }
  )

  app.get(
    '/api/activities/:id/sync-status',
    {
      schema: {
        summary: "An activity's replication state",
        security: [{ operatorKey: [] }],
        params: ActivityParams,
        response: { 200: ActivitySyncStatus, 404: ApiFailure }
      }
    },
    async (request, reply) => {
      const status = await activityStatus(app.db, request.params.id)
      if (!status)
        return reply.code(404).send({ success: false, error: `unknown activity ${request.params.id}` })
      return activityStatusBody(status)
    }
  )
}

export default syncStatusRoutes
