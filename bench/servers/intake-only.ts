import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/db/database.js'
import { loggerOptions } from '../../src/logger.js'

/**
 * The real app with its worker off, on the database it is given (migrated, kept afterwards): it
 * queues a backlog through the real intake that a service started later then drains.
 */
const config = loadConfig({ ...process.env, PORT: process.env.PORT ?? '0', HOST: '127.0.0.1' })
const database = await openDatabase({ url: config.DATABASE_URL })
await database.migrate()
const app = await buildApp({
  config,
  database,
  loggerInstance: pino(loggerOptions(config.LOG_LEVEL)),
  startWorker: false
})
process.on('SIGTERM', async () => {
  await app.close()
  process.exit(0)
})
const address = await app.listen({ port: config.PORT, host: config.HOST })
process.stdout.write(`READY ${address}\n`)
