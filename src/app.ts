import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Config } from './config.js'
import type { DatabaseHandle } from './db/database.js'
import { sendHttpError } from './errors.js'
import { RouteNotFoundError } from './http-errors.js'
import type { JobHandler } from './jobs/worker.js'
import { lazyChildLogger } from './lazy-child-logger.js'
import callbacksPlugin from './plugins/app/callbacks.js'
import jobsPlugin from './plugins/app/jobs.js'
import pipedrivePlugin from './plugins/app/pipedrive.js'
import prunerPlugin from './plugins/app/pruner.js'
import shutdownPlugin from './plugins/app/shutdown.js'
import configPlugin from './plugins/external/config.js'
import databasePlugin from './plugins/external/database.js'
import metricsPlugin from './plugins/external/metrics.js'
import swaggerPlugin from './plugins/external/swagger.js'
import operatorApi from './routes/api/index.js'
import healthRoutes from './routes/health/index.js'
import metricsRoutes from './routes/metrics/index.js'
import crmWebhookRoutes from './routes/webhooks/crm.js'

export interface BuildAppOptions {
  config: Config
  database: DatabaseHandle
  ownsDatabase?: boolean
  loggerInstance?: FastifyBaseLogger
  jobHandlers?: Record<string, JobHandler>
  startWorker?: boolean
  pollIntervalMs?: number
  now?: () => number
}

// A stalled client must not hold a connection (and its body buffer) forever.
const REQUEST_TIMEOUT_MS = 30_000
const MAX_HEADER_BYTES = 16 * 1024

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: false }),
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID()
    },
    requestTimeout: REQUEST_TIMEOUT_MS,
    routerOptions: { maxParamLength: 256 },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    // One log line per request costs intake throughput; non-2xx answers are logged below instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger
  }).withTypeProvider<TypeBoxTypeProvider>()

  await app.register(configPlugin, { config: options.config, now: options.now ?? Date.now })
  await app.register(databasePlugin, {
    database: options.database,
    ownsDatabase: options.ownsDatabase ?? true
  })
  // Observability: the OpenAPI collector must see every route; metrics are fed by the plugins below.
  await app.register(swaggerPlugin)
  await app.register(metricsPlugin)
  await app.register(pipedrivePlugin)
  await app.register(callbacksPlugin, {
    start: options.startWorker ?? true,
    pollIntervalMs: options.pollIntervalMs
  })
  await app.register(jobsPlugin, {
    handlers: options.jobHandlers,
    startWorker: options.startWorker ?? true,
    pollIntervalMs: options.pollIntervalMs
  })

  await app.register(prunerPlugin, { start: options.startWorker ?? true })
  await app.register(shutdownPlugin)

  app.setErrorHandler(sendHttpError)
  app.setNotFoundHandler((request, reply) =>
    sendHttpError(new RouteNotFoundError(request.method, request.url), request, reply)
  )
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 400) {
      request.log.info(
        { method: request.method, url: request.url, statusCode: reply.statusCode },
        'request answered'
      )
    }
  })

  await app.register(healthRoutes)
  await app.register(async (needsDatabase) => {
    // preValidation: after authentication and the operator limit (onRequest), before any work.
    needsDatabase.addHook('preValidation', (_request, _reply, done) => {
      if (app.migrationGate.applied) return done()
      app.migrationGate.check().then(() => done(), done)
    })
    await needsDatabase.register(crmWebhookRoutes)
    await needsDatabase.register(operatorApi)
    await needsDatabase.register(metricsRoutes)
  })
  return app
}
