import { setTimeout as sleep } from 'node:timers/promises'
import fp from 'fastify-plugin'

/**
 * The process exits this long after SIGTERM at the latest (close-with-grace's hard stop, exit 1):
 * the steps below fit well inside it, so a normal shutdown exits 0 within 10 s.
 */
export const SHUTDOWN_LIMIT_MS = 9_500
/** In-flight jobs get this long to finish; then they are aborted (another round takes them up). */
export const JOB_DRAIN_MS = 7_000
/** After the abort, a handler that does not stop at once is no longer waited for. */
const ABORT_SETTLE_MS = 1_000

/**
 * One preClose hook for every background loop, so that they all stop claiming at the same moment:
 * hooks run one after the other, and a loop still claiming while another drains takes up work it
 * cannot finish. Callback requests in flight are aborted and left to be sent again after the
 * restart (delivery is at least once); jobs get JOB_DRAIN_MS. The database closes after this.
 */
export default fp(
  async (app) => {
    app.addHook('preClose', async () => {
      await Promise.all([
        Promise.race([
          app.jobs.stop(JOB_DRAIN_MS),
          sleep(JOB_DRAIN_MS + ABORT_SETTLE_MS, undefined, { ref: false })
        ]),
        app.callbacks.stop()
      ])
    })
  },
  { name: 'shutdown', dependencies: ['jobs', 'callbacks'] }
)
