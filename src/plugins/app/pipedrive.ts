import fp from 'fastify-plugin'
import { NamedLeases } from '../../db/named-leases.js'
import { createPipedriveConnection, type PipedriveConnection } from '../../pipedrive/connection.js'
import { PipedriveReachability } from '../../pipedrive/reachability.js'
import { MAX_INLINE_PAUSE_MS } from '../../rate-budget/budget.js'
import { SharedRateBudget } from '../../rate-budget/shared.js'

declare module 'fastify' {
  interface FastifyInstance {
    pipedrive: PipedriveConnection
    pipedriveReachability: PipedriveReachability
  }
}

/**
 * One connection (socket pool, per-token caches) for the whole process. The rate budget lives in
 * the database so every instance on it draws from the same per-token budget (docs/sync.md).
 */
export default fp(
  async (app) => {
    const { config } = app
    const logger = app.log.child({ component: 'pipedrive' })
    const budget = new SharedRateBudget(app.database.bookkeeping, {
      general: { limit: config.PIPEDRIVE_RATE_LIMIT, windowMs: config.PIPEDRIVE_RATE_WINDOW_MS },
      search: { limit: config.PIPEDRIVE_SEARCH_RATE_LIMIT, windowMs: config.PIPEDRIVE_SEARCH_RATE_WINDOW_MS },
      maxPauseWaitMs: MAX_INLINE_PAUSE_MS,
      logger
    })
    const reachability = new PipedriveReachability()
    const connection = createPipedriveConnection(config, {
      logger,
      budget,
      // A label is the company's: every token and instance creates a missing one under one lease.
      coordinator: new NamedLeases(app.db),
      onAttempt: (attempt) => {
        app.metrics.pipedriveAttempt(attempt)
        reachability.observe(attempt)
      }
    })
    app.decorate('pipedrive', connection)
    app.decorate('pipedriveReachability', reachability)
    app.addHook('onClose', () => connection.close())
  },
  { name: 'pipedrive', dependencies: ['config', 'database', 'metrics'] }
)
