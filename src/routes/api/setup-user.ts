import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  DatabaseUnavailableError,
  PipedriveUnreachableError,
  PipedriveUserNotFoundError,
  TokenKeyMissingError,
  TokenRejectedError
} from '../../http-errors.js'
import { ApiFailure, SetupUserBody, SetupUserResult } from '../../schemas/operator-api.js'
import { setupUser } from '../../sync/setup-user.js'

const FAILURE = {
  no_key: TokenKeyMissingError,
  token_rejected: TokenRejectedError,
  not_found: PipedriveUserNotFoundError,
  unreachable: PipedriveUnreachableError,
  database: DatabaseUnavailableError
} as const

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
    async (request) => {
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
      throw new FAILURE[outcome.kind](outcome.error)
    }
  )
}

export default setupUserRoutes
