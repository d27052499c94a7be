import type { FastifyPluginAsync } from 'fastify'
import { operatorAuth } from './operator-auth.js'
import syncStatusRoutes from './sync-status.js'

/** The operator API (CONTRACT §3): every route here needs the operator key and shares its budget. */
const operatorApi: FastifyPluginAsync = async (app) => {
  await operatorAuth(app)
  await app.register(syncStatusRoutes)
}

export default operatorApi
