import fp from 'fastify-plugin'
import { prune } from '../../jobs/pruner.js'

const PRUNE_INTERVAL_MS = 60 * 60 * 1000

/** Prunes old rows once at start and then hourly (several instances doing it at once is harmless). */
export default fp<{ start: boolean }>(
  async (app, { start }) => {
    let timer: NodeJS.Timeout | undefined
    const run = () =>
      prune(app.db, app.config.RETENTION_DAYS)
        .then((counts) => app.log.info({ pruned: counts }, 'old rows pruned'))
        .catch((error: unknown) => app.log.warn({ err: error }, 'pruning failed; will try again'))
    if (start) {
      app.addHook('onReady', () =>
        app.migrationGate.whenApplied(() => {
          void run()
          timer = setInterval(run, PRUNE_INTERVAL_MS)
          timer.unref()
        })
      )
    }
    app.addHook('preClose', async () => clearInterval(timer))
  },
  { name: 'pruner', dependencies: ['database', 'config'] }
)
