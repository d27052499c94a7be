import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  ApiFailure,
  CheckWarmLeadBody,
  CheckWarmLeadResult,
  type CheckWarmLeadResultT,
  ContactParams
} from '../../schemas/operator-api.js'
import { CHECK_WAIT_MS, queueContactSyncNow, waitForContactSync } from '../../sync/check-warm-lead.js'
import { type ContactStatus, contactStatus } from '../../sync/sync-state.js'

function answer(status: ContactStatus): CheckWarmLeadResultT {
  return {
    success: true,
    isWarmLead: status.isWarmLead,
    ...(status.pipedrivePersonId !== null ? { pipedrivePersonId: String(status.pipedrivePersonId) } : {}),
    ...(status.pipedriveOrgId !== null ? { pipedriveOrgId: String(status.pipedriveOrgId) } : {}),
    ...(status.state === 'pending' || status.state === 'retrying' ? { queued: true } : {}),
    state: status.state,
    ...(status.warning !== null ? { warning: status.warning } : {})
  }
}

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
    async (request, reply) => {
      const { id } = request.params
      const bodyId = request.body?.contactId
      if (bodyId !== undefined && bodyId !== id) {
        return reply
          .code(400)
          .send({ success: false, error: `contactId ${bodyId} does not match the path (${id})` })
      }
      const threshold = app.config.WARM_LEAD_THRESHOLD
      const before = await contactStatus(app.db, id, threshold)
      if (!before) return reply.code(404).send({ success: false, error: `unknown contact ${id}` })
      if (!before.isWarmLead || before.state === 'synced') return answer(before)

      await queueContactSyncNow(app.db, id)
      app.jobs.notify()
      // While Pipedrive looks down the answer is `queued` at once, not after 5 s (docs/interface.md).
      await waitForContactSync(app.db, id, CHECK_WAIT_MS, () => app.pipedriveReachability.looksDown())
      return answer((await contactStatus(app.db, id, threshold)) ?? before)
    }
  )
}

export default checkWarmLeadRoutes
