import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { queueSnapshot } from '../../jobs/queue-stats.js'

/**
 * `GET /metrics` (CONTRACT §4), Prometheus text format. Not authenticated, as the contract lists
 * it: keep it on a private network or behind the proxy (it reveals volumes, not data).
 */
const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        description:
          'Webhooks by type and outcome, jobs by state, age of the oldest runnable job, Pipedrive calls ' +
          'by endpoint and status with latencies, rate-limit waits, callback deliveries, process metrics.',
        produces: ['text/plain'],
        response: { 200: { content: { 'text/plain': { schema: Type.String() } } } }
      }
    },
    async (_request, reply) => {
      // Read at scrape time: the table is the truth, whichever instance changed it.
      app.metrics.setQueue(await queueSnapshot(app.db))
      const body = await app.metricsRegistry.metrics()
      return reply.type(app.metricsRegistry.contentType).send(body)
    }
  )
}

export default metricsRoutes
