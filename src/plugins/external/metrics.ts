import fp from 'fastify-plugin'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { ServiceMetrics } from '../../metrics/service-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServiceMetrics
    metricsRegistry: Registry
  }
}

/**
 * A Prometheus registry of this app instance's own (prom-client's global one would be shared by
 * every app a test file builds, and registering a metric twice there throws).
 */
export default fp(
  async (app) => {
    const registry = new Registry()
    // Process metrics (CPU, memory, event-loop lag, GC) alongside the service's own.
    collectDefaultMetrics({ register: registry })
    app.decorate('metricsRegistry', registry)
    app.decorate('metrics', new ServiceMetrics(registry))
  },
  { name: 'metrics' }
)
