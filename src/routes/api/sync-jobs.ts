import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  BadCursorError,
  listFailures,
  type RetryOutcome,
  retryDeadJobs,
  retryJob
} from '../../jobs/failures.js'
import { ApiFailure, FailuresPage, FailuresQuery, JobParams, Queued } from '../../schemas/operator-api.js'
import { acceptUnknownPersonCreate } from '../../sync/person-create-marker.js'

/** Failed work an operator can see and replay (docs/interface.md, operator API). */
const syncJobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/sync/failures',
    {
      schema: {
        summary: 'Retrying and dead jobs, newest failure first (paged)',
        security: [{ operatorKey: [] }],
        querystring: FailuresQuery,
        response: { 200: FailuresPage, 400: ApiFailure }
      }
    },
    async (request, reply) => {
      try {
        return { success: true as const, ...(await listFailures(app.db, request.query)) }
      } catch (error) {
        if (error instanceof BadCursorError)
          return reply.code(400).send({ success: false, error: error.message })
        throw error
      }
    }
  )

  app.post(
    '/api/sync/jobs/:jobId/retry',
    {
      schema: {
        summary: 'Run a dead or retrying job again now',
        security: [{ operatorKey: [] }],
        params: JobParams,
        response: { 202: Queued, 404: ApiFailure, 409: ApiFailure }
      }
    },
    async (request, reply) => {
      const { jobId } = request.params
      const outcome = await retryJob(app.db, jobId, acceptUnknownPersonCreate)
      if (outcome.kind === 'not_found')
        return reply.code(404).send({ success: false, error: `unknown job ${jobId}` })
      if (outcome.kind === 'not_failed') {
        return reply.code(409).send({ success: false, error: notFailedMessage(jobId, outcome) })
      }
      app.jobs.notify()
      return reply.code(202).send({ success: true, queued: 1 })
    }
  )

  app.post(
    '/api/sync/retry-dead',
    {
      schema: {
        summary: 'Run every dead job again',
        security: [{ operatorKey: [] }],
        response: { 202: Queued }
      }
    },
    async (_request, reply) => {
      const queued = await retryDeadJobs(app.db)
      app.jobs.notify()
      return reply.code(202).send({ success: true, queued })
    }
  )
}

function notFailedMessage(jobId: string, outcome: Extract<RetryOutcome, { kind: 'not_failed' }>): string {
  const { latest } = outcome
  if (outcome.state !== 'replayed') return `job ${jobId} is neither dead nor retrying (${outcome.state})`
  if (!latest || String(latest.id) === jobId) return `job ${jobId} was replayed already`
  return `job ${jobId} was replayed as job ${latest.id}, which is ${latest.state}`
}

export default syncJobRoutes
