import type { Config } from '../config.js'
import type { Logger } from '../logger-interface.js'
import { type Sandbox, startSandbox } from './server.js'

export interface SandboxWiring {
  /** The configuration to run with: pointed at the sandbox when it started, else unchanged. */
  config: Config
  /** The running sandbox, if any. */
  sandbox: Sandbox | undefined
  close(): Promise<void>
}

/**
 * For src/server.ts: outside production and with no PIPEDRIVE_API_TOKEN, start the built-in
 * sandbox in this process and point the configuration at it, saying so in one log line. In
 * production it never starts (config validation requires a token there anyway; this is the
 * second lock, and startSandbox itself refuses NODE_ENV=production as the third).
 */
export async function maybeStartSandbox(config: Config, log: Pick<Logger, 'info'>): Promise<SandboxWiring> {
  if (config.production || config.PIPEDRIVE_API_TOKEN !== undefined) {
    return { config, sandbox: undefined, close: async () => {} }
  }
  const sandbox = await startSandbox({
    production: config.production,
    rateLimit: {
      general: { limit: config.PIPEDRIVE_RATE_LIMIT, windowMs: config.PIPEDRIVE_RATE_WINDOW_MS },
      search: { limit: config.PIPEDRIVE_SEARCH_RATE_LIMIT, windowMs: config.PIPEDRIVE_SEARCH_RATE_WINDOW_MS }
    }
  })
  log.info(
    { pipedriveSandbox: sandbox.url },
    `PIPEDRIVE_API_TOKEN is not set: using the built-in Pipedrive sandbox at ${sandbox.url} (a local fake, nothing reaches Pipedrive)`
  )
  return {
    config: { ...config, PIPEDRIVE_BASE_URL: sandbox.url, PIPEDRIVE_API_TOKEN: sandbox.token },
    sandbox,
    close: () => sandbox.close()
  }
}
