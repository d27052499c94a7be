import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { QUEUE_STATS_MAX_AGE_MS, QueueStatsCache, queueSnapshot } from '../../jobs/queue-stats.js'

/**
 * `GET /metrics` (docs/interface.md), Prometheus text format. Not authenticated, as docs/interface.md lists
 * it: keep it on a private network or behind the proxy (it reveals volumes, not data).
 */
const metricsRoutes: FastifyPluginAsync = async (app) => {
  // Read from the table, not from this process: every instance reports the same queue.
  const queue = new QueueStatsCache(() => queueSnapshot(app.db), {
    maxAgeMs: QUEUE_STATS_MAX_AGE_MS,
    now: () => app.now()
  })
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
      app.metrics.setQueue(await queue.snapshot())
      const body = await app.metricsRegistry.metrics()
      return reply.type(app.metricsRegistry.contentType).send(body)
    }
  )
}

export default metricsRoutes
