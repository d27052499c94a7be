import fp from 'fastify-plugin'
import { reportSyncFailure } from '../../callbacks/outbox.js'
import type { JobHandler } from '../../jobs/worker.js'
import { Worker } from '../../jobs/worker.js'
import { syncHandlers } from '../../sync/handlers.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Worker
  }
}

export interface JobsPluginOptions {
  /** Handlers by job type; by default the service's own, built from the app's services. */
  handlers?: Record<string, JobHandler> | undefined
  /** Tests that drive the queue themselves leave the worker stopped. */
  startWorker: boolean
  pollIntervalMs?: number | undefined
}

export default fp<JobsPluginOptions>(
  async (app, { handlers, startWorker, pollIntervalMs }) => {
    const { config } = app
    const worker: Worker = new Worker({
      db: app.db,
      handlers:
        handlers ??
        syncHandlers({
          db: app.db,
          config,
          pipedrive: app.pipedrive,
          log: app.log.child({ component: 'sync' }),
          notify: () => worker.notify()
        }),
      log: app.log.child({ component: 'worker' }),
      leaseMs: config.JOB_LEASE_MS,
      maxAttempts: config.SYNC_MAX_ATTEMPTS,
      backoffBaseMs: config.SYNC_BACKOFF_BASE_MS,
      backoffMaxMs: config.SYNC_BACKOFF_MAX_MS,
      reportFailure: (tx, job, failure) => reportSyncFailure(tx, config, job, failure),
      onSettled: () => app.callbacks.notify(),
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs })
    })
    app.decorate('jobs', worker)
    // Started once the database is migrated; stopped by the shutdown plugin, with the callbacks.
    if (startWorker) app.addHook('onReady', () => app.migrationGate.whenApplied(() => worker.start()))
  },
  { name: 'jobs', dependencies: ['database', 'config', 'pipedrive', 'callbacks'] }
)
