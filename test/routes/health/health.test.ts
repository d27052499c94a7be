import { createHash, randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { openDatabase } from '../../../src/db/database.js'
import { build, testDatabase } from '../../helper.js'

const database = await testDatabase(t)

t.test('GET /health answers without touching dependencies', async (t) => {
  const app = await build(t, database, { startWorker: false })
  const response = await app.inject('/health')
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok' })
})

t.test('GET /health/ready is 200 with the database migrated', async (t) => {
  const app = await build(t, database, { startWorker: false })
  const response = await app.inject('/health/ready')
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ready' })
})

t.test('GET /health/ready is 503 while migrations are missing', async (t) => {
  const url = process.env.DATABASE_URL
  const schemaName = url
    ? `t_${createHash('sha256').update('ready').digest('hex').slice(0, 6)}_${randomUUID().slice(0, 8)}`
    : undefined
  const empty = await openDatabase({ url, schemaName })
  if (schemaName) await empty.db.execute(sql`create schema ${sql.identifier(schemaName)}`)
  t.teardown(async () => {
    if (schemaName) await empty.db.execute(sql`drop schema ${sql.identifier(schemaName)} cascade`)
    await empty.close()
  })
  const app = await build(t, empty, { startWorker: false })
  const response = await app.inject('/health/ready')
  t.equal(response.statusCode, 503)
  t.same(response.json(), {
    status: 'unavailable',
    reason: 'database migrations not applied: run npm run migrate'
  })
  t.equal((await app.inject('/health')).statusCode, 200, 'liveness is unaffected')
})

t.test('GET /health/ready is 503 when the database is unreachable', async (t) => {
  const unreachable = process.env.DATABASE_URL
    ? await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' })
    : await openDatabase({})
  if (!process.env.DATABASE_URL) await unreachable.close()
  t.teardown(() => unreachable.close().catch(() => {}))
  const app = await build(t, unreachable, { startWorker: false })
  const response = await app.inject('/health/ready')
  t.equal(response.statusCode, 503)
  t.same(response.json(), { status: 'unavailable', reason: 'database unreachable' })
})

t.test('unknown routes get a JSON 404', async (t) => {
  const app = await build(t, database, { startWorker: false })
  const response = await app.inject('/nope')
  t.equal(response.statusCode, 404)
  t.match(response.json(), { statusCode: 404, error: 'Not Found' })
})
