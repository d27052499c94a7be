import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/db/database.js'
import { loggerOptions } from '../../src/logger.js'

/** The real service (same app, same intake) on its own PostgreSQL schema, so benches never touch real data. */
const config = loadConfig({ ...process.env, PORT: process.env.PORT ?? '0', HOST: '127.0.0.1' })
const schemaName = `bench_${randomUUID().slice(0, 8)}`
const database = await openDatabase({ url: config.DATABASE_URL, schemaName })
await database.migrate()
const app = await buildApp({
  config,
  database,
  loggerInstance: pino(loggerOptions(config.LOG_LEVEL)),
  startWorker: false
})
const close = async () => {
  await app.close()
  const cleanup = await openDatabase({ url: config.DATABASE_URL })
  await cleanup.db.execute(sql`drop schema if exists ${sql.identifier(schemaName)} cascade`)
  await cleanup.close()
  process.exit(0)
}
process.on('SIGTERM', close)
const address = await app.listen({ port: config.PORT, host: config.HOST })
process.stdout.write(`READY ${address}\n`)
