import type { FastifyPluginAsync } from 'fastify'
import { sendOperatorError } from '../../errors.js'
import checkWarmLeadRoutes from './check-warm-lead.js'
import { operatorAuth } from './operator-auth.js'
import setupUserRoutes from './setup-user.js'
import syncJobRoutes from './sync-jobs.js'
import syncStatusRoutes from './sync-status.js'

/** The operator API (docs/interface.md): every route here needs the operator key and shares its budget. */
const operatorApi: FastifyPluginAsync = async (app) => {
  app.setErrorHandler(sendOperatorError)
  await operatorAuth(app)
  await app.register(syncStatusRoutes)
  await app.register(checkWarmLeadRoutes)
  await app.register(setupUserRoutes)
  await app.register(syncJobRoutes)
}

export default operatorApi
