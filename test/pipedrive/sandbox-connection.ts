import nock from 'nock'
import type { Test } from 'tap'
import { createPipedriveConnection, type PipedriveConnection } from '../../src/pipedrive/connection.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js'

/**
 * The real client and connection pool against a built-in sandbox on loopback, for one test file:
 * nothing else may reach the network, each test starts from a reset sandbox whose own rate limits
 * never get in the way, and both are closed at the end.
 */
export async function sandboxConnection(
  t: Test
): Promise<{ sandbox: Sandbox; connection: PipedriveConnection }> {
  nock.disableNetConnect()
  nock.enableNetConnect('127.0.0.1')
  const sandbox = await startSandbox()
  const connection = createPipedriveConnection({
    PIPEDRIVE_BASE_URL: sandbox.url,
    PIPEDRIVE_RATE_LIMIT: 100,
    PIPEDRIVE_RATE_WINDOW_MS: 10_000,
    PIPEDRIVE_SEARCH_RATE_LIMIT: 10,
    PIPEDRIVE_SEARCH_RATE_WINDOW_MS: 2_000,
    SYNC_RETRY_BASE_MS: 5
  })
  t.beforeEach(() =>
    sandbox.reset({
      rateLimit: { general: { limit: 1000, windowMs: 1000 }, search: { limit: 1000, windowMs: 1000 } }
    })
  )
  t.teardown(async () => {
    await connection.close()
    await sandbox.close()
  })
  return { sandbox, connection }
}
