import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ContactIdMismatchError, ContactNotFoundError } from '../../http-errors.js'
import {
  ApiFailure,
  CheckWarmLeadBody,
  CheckWarmLeadResult,
  ContactParams
} from '../../schemas/operator-api.js'
import { CHECK_WAIT_MS, queueContactSyncNow, waitForContactSync } from '../../sync/check-warm-lead.js'
import { contactStatus } from '../../sync/sync-state.js'
import { checkWarmLeadAnswer } from './status-answers.js'

const checkWarmLeadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/contacts/:id/check-warm-lead',
    {
      schema: {
        summary: 'Evaluate a contact now; a warm contact not yet in Pipedrive is synced (waits at most 5 s)',
        security: [{ operatorKey: [] }],
        params: ContactParams,
        body: CheckWarmLeadBody,
        response: { 200: CheckWarmLeadResult, 400: ApiFailure, 404: ApiFailure }
      }
    },
    async (request) => {
      const { id } = request.params
      const bodyId = request.body?.contactId
      if (bodyId !== undefined && bodyId !== id) throw new ContactIdMismatchError(bodyId, id)
      const threshold = app.config.WARM_LEAD_THRESHOLD
      const before = await contactStatus(app.db, id, threshold)
      if (!before) throw new ContactNotFoundError(id)
      // A deleted contact is never synced again.
      if (!before.isWarmLead || before.state === 'synced' || before.state === 'deleted') {
        return checkWarmLeadAnswer(before)
      }

      await queueContactSyncNow(app.db, id)
      app.jobs.notify()
      // While Pipedrive looks down the answer is `queued` at once, not after 5 s (docs/interface.md).
      await waitForContactSync(app.db, id, CHECK_WAIT_MS, () => app.pipedriveReachability.looksDown())
      return checkWarmLeadAnswer((await contactStatus(app.db, id, threshold)) ?? before)
    }
  )
}

export default checkWarmLeadRoutes
