import fp from 'fastify-plugin'
import type { Database, DatabaseHandle } from '../../db/database.js'
import { MigrationGate } from '../../db/migration-gate.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle
    db: Database
    /** Routes that need the database check it first (503 while migrations are missing). */
    migrationGate: MigrationGate
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
    const migrationGate = new MigrationGate(() => database.migrationsApplied())
    app.decorate('migrationGate', migrationGate)
    app.addHook('preClose', async () => migrationGate.close())
    if (ownsDatabase) app.addHook('onClose', () => database.close())
  },
  { name: 'database' }
)
