import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { MigrationsMissingError } from '../../http-errors.js'
import { ping } from '../../store/ping.js'

const Health = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) })

/** Liveness never touches a dependency; readiness needs the database with every migration applied. */
const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health', { schema: { summary: 'Liveness', response: { 200: Health } } }, async () => ({
    status: 'ok'
  }))

  app.get(
    '/health/ready',
    { schema: { summary: 'Readiness', response: { 200: Health, 503: Health } } },
    async (request, reply) => {
      let migrated: boolean
      try {
        await ping(app.db)
        migrated = await app.database.migrationsApplied()
      } catch (error) {
        request.log.warn({ err: error }, 'readiness: database unreachable')
        return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' })
      }
      if (!migrated) {
        return reply.code(503).send({ status: 'unavailable', reason: new MigrationsMissingError().message })
      }
      return { status: 'ready' }
    }
  )
}

export default healthRoutes
