import { ConfigError, loadConfig } from '../config.js'
import { openDatabase } from './database.js'

/** `npm run migrate`: applies pending migrations and exits non-zero on failure (deploy release step). */
try {
  const config = loadConfig({ ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' })
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    maxConnections: 1
  })
  try {
    await database.migrate()
    process.stdout.write(`migrations applied (${database.kind})\n`)
  } finally {
    await database.close()
  }
} catch (error) {
  const message =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error)
  process.stderr.write(`migration failed: ${message}\n`)
  process.exit(1)
}
