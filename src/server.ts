import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildApp } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { DataDirInUseError } from './db/data-dir-lock.js'
import { openDatabase } from './db/database.js'
import { loggerOptions } from './logger.js'
import { SHUTDOWN_LIMIT_MS } from './plugins/app/shutdown.js'
import { maybeStartSandbox } from './sandbox/guard.js'

/** Errors that only need saying: the process exits with the message, without a stack. */
function cannotStart(error: unknown): never {
  if (error instanceof ConfigError || error instanceof DataDirInUseError) {
    process.stderr.write(`pipedrive-sync cannot start: ${error.message}\n`)
    process.exit(1)
  }
  throw error
}

function readConfig(): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    return cannotStart(error)
  }
}

const configured = readConfig()
const log = pino(loggerOptions(configured.LOG_LEVEL))
if (configured.developmentDefaults.length > 0) {
  log.warn(
    Object.fromEntries(configured.developmentDefaults.map(({ name, value }) => [name, value])),
    'development values in use (never in production): set these variables to choose your own'
  )
}

// Outside production and without PIPEDRIVE_API_TOKEN: the built-in sandbox, said in one log line.
const sandbox = await maybeStartSandbox(configured, log)
const { config } = sandbox

const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR }).catch(cannotStart)
// Every environment migrates at start: an advisory lock serialises instances starting together,
// and a release step that migrated already leaves nothing to do.
if (config.MIGRATE_ON_START) await database.migrate()
else if (!(await database.migrationsApplied())) {
  log.warn(
    'MIGRATE_ON_START=false and migrations are missing: database routes answer 503 until `npm run migrate`'
  )
}
log.info(
  { database: database.kind === 'postgres' ? 'postgresql' : `pglite in ${config.DATA_DIR}` },
  'database ready'
)

const app = await buildApp({ config, database, loggerInstance: log })

closeWithGrace({ delay: SHUTDOWN_LIMIT_MS, logger: log }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'shutting down after an unexpected error')
  else log.info({ signal }, 'shutting down: finishing in-flight work')
  await app.close()
  await sandbox.close()
})

await app.listen({ port: config.PORT, host: config.HOST })
