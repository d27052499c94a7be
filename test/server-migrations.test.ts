import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createDatabase, HARNESS_OPERATOR_KEY, startServiceProcess } from '../harness/service-process.js'
import { sendEvent } from '../harness/signed-client.js'
import { contactEvent, testSandbox } from './helper.js'

type TapTest = { name: string; teardown(fn: () => unknown): void }

const CAUSE = 'database migrations not applied: run npm run migrate'

/**
 * An empty database for one service process: a fresh PostgreSQL database when DATABASE_URL is set
 * (dropped at the end), else a fresh PGlite data directory.
 */
async function emptyDatabaseEnv(t: TapTest): Promise<Record<string, string>> {
  const adminUrl = process.env.DATABASE_URL
  if (adminUrl) {
    const database = await createDatabase(adminUrl)
    t.teardown(database.drop)
    return { DATABASE_URL: database.url }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'pipedrive-sync-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  return { DATA_DIR: dataDir }
}

async function startProduction(t: TapTest, env: Record<string, string>) {
  const sandbox = await testSandbox(t)
  const service = await startServiceProcess({
    NODE_ENV: 'production',
    PIPEDRIVE_API_TOKEN: sandbox.token,
    PIPEDRIVE_BASE_URL: sandbox.url,
    ...(await emptyDatabaseEnv(t)),
    ...env
  })
  // Registered after the sandbox's teardown, so it runs first: the service stops before the sandbox.
  t.teardown(() => service.stop())
  return service
}

const operatorHeaders = { authorization: `Bearer ${HARNESS_OPERATOR_KEY}` }

t.test('a fresh production start on an empty database migrates and accepts a signed event', async (t) => {
  const service = await startProduction(t, {})
  t.equal((await fetch(`${service.url}/health/ready`)).status, 200, 'ready: migrated at start')
  const event = contactEvent()
  const accepted = await sendEvent(service.url, event)
  t.equal(accepted.status, 202, accepted.body)
  const status = await fetch(`${service.url}/api/contacts/${event.data.id}/sync-status`, {
    headers: operatorHeaders
  })
  t.equal(status.status, 200, 'the operator API reads it')
  t.equal(await service.stop(), 0, 'exit 0 on SIGTERM')
})

t.test('MIGRATE_ON_START=false on an empty database: 503 naming the cause, liveness 200', async (t) => {
  const service = await startProduction(t, { MIGRATE_ON_START: 'false' })
  t.match(service.process.output(), /MIGRATE_ON_START=false and migrations are missing/)

  const webhook = await sendEvent(service.url, contactEvent())
  t.equal(webhook.status, 503, 'a signed, valid event')
  t.match(JSON.parse(webhook.body), { message: CAUSE })

  const operator = await fetch(`${service.url}/api/sync/failures`, { headers: operatorHeaders })
  t.equal(operator.status, 503, 'an operator route')
  t.same(await operator.json(), { success: false, error: CAUSE })

  const ready = await fetch(`${service.url}/health/ready`)
  t.equal(ready.status, 503)
  t.match(await ready.json(), { reason: CAUSE })
  t.equal((await fetch(`${service.url}/health`)).status, 200)
  t.notMatch(service.process.output(), /"level":50/, 'no error logged for any of these')
})
