import { createHash, randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { build, contactEvent, postWebhook, TEST_OPERATOR_KEY } from '../helper.js'

const CAUSE = 'database migrations not applied: run npm run migrate'
type TapTest = { name: string; teardown(fn: () => unknown): void }

/** A database with nothing migrated: its own empty PostgreSQL schema, or a fresh in-memory PGlite. */
async function emptyDatabase(t: TapTest) {
  const url = process.env.DATABASE_URL
  const schemaName = url
    ? `t_${createHash('sha256').update(t.name).digest('hex').slice(0, 6)}_${randomUUID().slice(0, 8)}`
    : undefined
  const empty = await openDatabase({ url, schemaName })
  if (schemaName) await empty.db.execute(sql`create schema ${sql.identifier(schemaName)}`)
  t.teardown(async () => {
    if (schemaName) await empty.db.execute(sql`drop schema ${sql.identifier(schemaName)} cascade`)
    await empty.close()
  })
  return empty
}

t.test('while migrations are missing, database routes answer 503 naming the cause; never 500', async (t) => {
  const empty = await emptyDatabase(t)
  const app = await build(t, empty, { startWorker: false })

  const webhook = await postWebhook(app, contactEvent())
  t.equal(webhook.statusCode, 503, 'a signed, valid event')
  t.same(webhook.json(), { statusCode: 503, error: 'Service Unavailable', message: CAUSE })

  const headers = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
  for (const [method, url] of [
    ['GET', '/api/contacts/c_1/sync-status'],
    ['GET', '/api/sync/failures'],
    ['POST', '/api/sync/retry-dead']
  ] as const) {
    const response = await app.inject({ method, url, headers })
    t.equal(response.statusCode, 503, `${method} ${url}`)
    t.same(response.json(), { success: false, error: CAUSE })
  }
  const setupUser = await app.inject({
    method: 'POST',
    url: '/api/pipedrive/setup-user',
    headers,
    payload: { email: 'owner@crm.example' }
  })
  t.equal(setupUser.statusCode, 503, 'a route whose 503 has its own schema')
  t.same(setupUser.json(), { success: false, error: CAUSE })

  t.equal((await app.inject({ url: '/api/sync/failures' })).statusCode, 401, 'no key: still 401 first')
  t.equal((await app.inject('/metrics')).statusCode, 503, '/metrics reads the queue')

  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), { status: 'unavailable', reason: CAUSE })
  t.equal((await app.inject('/health')).statusCode, 200, 'liveness is unaffected')

  await empty.migrate()
  t.equal((await postWebhook(app, contactEvent())).statusCode, 202, 'migrated meanwhile: accepted')
  t.equal((await app.inject('/health/ready')).statusCode, 200)
})
