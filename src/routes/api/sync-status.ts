import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ActivityNotFoundError, ContactNotFoundError } from '../../http-errors.js'
import {
  ActivityParams,
  ActivitySyncStatus,
  ApiFailure,
  ContactParams,
  ContactSyncStatus
} from '../../schemas/operator-api.js'
import { activityStatus, contactStatus } from '../../sync/sync-state.js'
import { activityStatusAnswer, contactStatusAnswer } from './status-answers.js'

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
    async (request) => {
      const status = await contactStatus(app.db, request.params.id, app.config.WARM_LEAD_THRESHOLD)
      if (!status) throw new ContactNotFoundError(request.params.id)
      return contactStatusAnswer(status)
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
    async (request) => {
      const status = await activityStatus(app.db, request.params.id)
      if (!status) throw new ActivityNotFoundError(request.params.id)
      return activityStatusAnswer(status)
    }
  )
}

export default syncStatusRoutes
