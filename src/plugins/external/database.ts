import fp from 'fastify-plugin'
import type { Database, DatabaseHandle } from '../../db/database.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle
    db: Database
  }
}

export interface DatabasePluginOptions {
  database: DatabaseHandle
  /** Close the connection with the app (false when a test shares one database across apps). */
  ownsDatabase: boolean
}

export default fp<DatabasePluginOptions>(
  async (app, { database, ownsDatabase }) => {
    app.decorate('database', database)
    app.decorate('db', database.db)
    if (ownsDatabase) app.addHook('onClose', () => database.close())
  },
  { name: 'database' }
)
