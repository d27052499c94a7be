import fp from 'fastify-plugin'
import { createPipedriveConnection, type PipedriveConnection } from '../../pipedrive/connection.js'

declare module 'fastify' {
  interface FastifyInstance {
    pipedrive: PipedriveConnection
  }
}

/** One connection (socket pool, per-token budgets and caches) for the whole process. */
export default fp(
  async (app) => {
    const connection = createPipedriveConnection(app.config, {
      logger: app.log.child({ component: 'pipedrive' }),
      onAttempt: app.metrics.pipedriveAttempt
    })
    app.decorate('pipedrive', connection)
    app.addHook('onClose', () => connection.close())
  },
  { name: 'pipedrive', dependencies: ['config', 'metrics'] }
)
