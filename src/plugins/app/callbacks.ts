import fp from 'fastify-plugin'
import { CallbackDelivery } from '../../callbacks/delivery.js'

declare module 'fastify' {
  interface FastifyInstance {
    callbacks: CallbackDelivery
  }
}

export interface CallbacksPluginOptions {
  /** Tests that deliver by hand leave the loop stopped. */
  start: boolean
  pollIntervalMs?: number | undefined
}

/** Delivers the callback outbox to CRM_CALLBACK_URL (nothing runs when it is unset). */
export default fp<CallbacksPluginOptions>(
  async (app, { start, pollIntervalMs }) => {
    const delivery = new CallbackDelivery({
      db: app.db,
      config: app.config,
      log: app.log.child({ component: 'callbacks' }),
      onDelivery: (type, outcome) => app.metrics.callbackDelivery(type, outcome),
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs })
    })
    app.decorate('callbacks', delivery)
    // Started once the database is migrated; stopped by the shutdown plugin, with the job worker.
    if (start) app.addHook('onReady', () => app.migrationGate.whenApplied(() => delivery.start()))
  },
  { name: 'callbacks', dependencies: ['database', 'config', 'metrics'] }
)
