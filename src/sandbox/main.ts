/**
 * `npm run sandbox`: the fake Pipedrive as its own process, for black-box tests and demos.
 * SANDBOX_PORT (default 4010) picks the port; it listens on 127.0.0.1 only. Rate limits follow
 * PIPEDRIVE_RATE_LIMIT & co.
 */
import { loadConfig } from '../config.js'
import { assertSandboxAllowed, startSandbox } from './server.js'

const DEFAULT_PORT = 4010

assertSandboxAllowed()
const port = Number(process.env.SANDBOX_PORT ?? DEFAULT_PORT)
// The same budgets the service uses, so a too-eager client meets 429s here first.
const config = loadConfig(process.env)
const sandbox = await startSandbox({
  port,
  rateLimit: {
    general: { limit: config.PIPEDRIVE_RATE_LIMIT, windowMs: config.PIPEDRIVE_RATE_WINDOW_MS },
    search: { limit: config.PIPEDRIVE_SEARCH_RATE_LIMIT, windowMs: config.PIPEDRIVE_SEARCH_RATE_WINDOW_MS }
  }
})
process.stdout.write(
  `Pipedrive sandbox listening on ${sandbox.url} (admin token: ${sandbox.token}; control API: ${sandbox.url}/__sandbox/state)\n`
)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0))
  })
}
