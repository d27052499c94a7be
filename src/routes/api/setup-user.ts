import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ApiFailure, SetupUserBody, SetupUserResult } from '../../schemas/operator-api.js'
import { setupUser } from '../../sync/setup-user.js'

const STATUS = { no_key: 400, token_rejected: 422, not_found: 404, unreachable: 503, database: 503 } as const

const setupUserRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/pipedrive/setup-user',
    {
      schema: {
        summary: "Store a CRM user's Pipedrive user id (and, optionally, their own API token, encrypted)",
        security: [{ operatorKey: [] }],
        body: SetupUserBody,
        response: { 200: SetupUserResult, 400: ApiFailure, 404: ApiFailure, 422: ApiFailure, 503: ApiFailure }
      }
    },
    async (request, reply) => {
      const outcome = await setupUser(
        {
          db: app.db,
          config: app.config,
          pipedrive: app.pipedrive,
          log: request.log,
          notify: () => app.jobs.notify()
        },
        request.body.email,
        request.body.apiToken
      )
      if (outcome.kind === 'ok') return { success: true as const, pipedriveUserId: outcome.pipedriveUserId }
      return reply.code(STATUS[outcome.kind]).send({ success: false, error: outcome.error })
    }
  )
}

export default setupUserRoutes
