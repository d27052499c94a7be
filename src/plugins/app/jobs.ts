import fp from 'fastify-plugin'
import type { JobHandler } from '../../jobs/worker.js'
import { Worker } from '../../jobs/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Worker
  }
}

export interface JobsPluginOptions {
  handlers: Record<string, JobHandler>
  /** Tests that drive the queue themselves leave the worker stopped. */
  startWorker: boolean
  pollIntervalMs?: number | undefined
}

/** Graceful shutdown gives in-flight jobs this long (CONTRACT §7). */
export const SHUTDOWN_GRACE_MS = 10_000

export default fp<JobsPluginOptions>(
  async (app, { handlers, startWorker, pollIntervalMs }) => {
    const { config } = app
    const worker = new Worker({
      db: app.db,
      handlers,
      log: app.log.child({ component: 'worker' }),
      leaseMs: config.JOB_LEASE_MS,
      maxAttempts: config.SYNC_MAX_ATTEMPTS,
      backoffBaseMs: config.SYNC_BACKOFF_BASE_MS,
      backoffMaxMs: config.SYNC_BACKOFF_MAX_MS,
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs })
    })
    app.decorate('jobs', worker)
    if (startWorker) app.addHook('onReady', async () => worker.start())
    // preClose: stop claiming and finish in-flight work before the database closes.
    app.addHook('preClose', async () => worker.stop(SHUTDOWN_GRACE_MS))
  },
  { name: 'jobs', dependencies: ['database', 'config'] }
)
