import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { CursorInvalidError, JobNotFailedError, JobNotFoundError } from '../../http-errors.js'
import {
  BadCursorError,
  listFailures,
  type RetryOutcome,
  retryDeadJobs,
  retryJob
} from '../../jobs/failures.js'
import { ApiFailure, FailuresPage, FailuresQuery, JobParams, Queued } from '../../schemas/operator-api.js'
import { acceptUnknownPersonCreate } from '../../sync/person-create.js'

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
    async (request) => {
      try {
        return { success: true as const, ...(await listFailures(app.db, request.query)) }
      } catch (error) {
        if (error instanceof BadCursorError) throw new CursorInvalidError(error.message)
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
      if (outcome.kind === 'not_found') throw new JobNotFoundError(jobId)
      if (outcome.kind === 'not_failed') throw new JobNotFailedError(notFailedMessage(jobId, outcome))
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
