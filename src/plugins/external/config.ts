import fp from 'fastify-plugin'
import type { Config } from '../../config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    /** Current time in ms; replaced in tests that replay signed vectors with fixed timestamps. */
    now: () => number
  }
}

export default fp<{ config: Config; now: () => number }>(
  async (app, { config, now }) => {
    app.decorate('config', config)
    app.decorate('now', now)
  },
  { name: 'config' }
)
