import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import t from 'tap'
import { CallbackDelivery } from '../../src/callbacks/delivery.js'
import { addCallback } from '../../src/callbacks/outbox.js'
import { rows } from '../../src/db/database.js'
import { build, eventually, ROTATED_SECRET, testConfig, testDatabase, uid } from '../helper.js'

type TapTest = { teardown(fn: () => unknown): void }

/** A CRM endpoint driven by `answer`; every request it sees is recorded with its path. */
async function crm(t: TapTest, answer: (request: IncomingMessage, response: ServerResponse) => void) {
  const requests: Array<{ path: string; webhookId: string }> = []
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      requests.push({ path: request.url ?? '', webhookId: String(request.headers['webhook-id']) })
      answer(request, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(resolve)
      })
  )
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

/** A CRM that takes the request and never answers. */
const neverAnswers = () => {}
const answers204 = (_request: IncomingMessage, response: ServerResponse) => response.writeHead(204).end()

const database = await testDatabase(t)
const { db } = database
const log = pino({ level: 'silent' })

function callbackConfig(url: string) {
  // Production-sized backoff: a failed attempt would push the row 30 s away.
  return testConfig({ CRM_CALLBACK_URL: url, CRM_CALLBACK_SECRET: ROTATED_SECRET })
}

async function queueCallback(url: string): Promise<string> {
  const contactId = uid('c')
  await addCallback(db, callbackConfig(url), {
    type: 'pipedrive.person.synced',
    data: { contactId, pipedrivePersonId: 1, pipedriveOrgId: null }
  })
  const [row] = await rows<{ webhook_id: string }>(
    db,
    sql`select webhook_id from callback_outbox where payload->'data'->>'contactId' = ${contactId}`
  )
  return row?.webhook_id as string
}

interface OutboxState {
  attempts: number
  delivered: boolean
  locked: boolean
  due: boolean
}
async function outboxRow(webhookId: string): Promise<OutboxState | undefined> {
  const [row] = await rows<OutboxState>(
    db,
    sql`select attempts, delivered_at is not null as delivered,
          coalesce(locked_until > now(), false) as locked, next_attempt_at <= now() as due
        from callback_outbox where webhook_id = ${webhookId}`
  )
  return row
}

async function clearOutbox() {
  await db.execute(sql`delete from callback_outbox`)
}

t.test('stop() aborts a request the CRM never answers; the row stays due and is sent later', async (t) => {
  await clearOutbox()
  const silent = await crm(t, neverAnswers)
  const url = `${silent.base}/callbacks`
  const webhookId = await queueCallback(url)
  const delivery = new CallbackDelivery({ db, config: callbackConfig(url), log, pollIntervalMs: 20 })
  delivery.start()
  await eventually(async () => silent.requests.length > 0)

  const start = performance.now()
  await delivery.stop()
  const stopMs = performance.now() - start
  t.ok(stopMs < 1_000, `stopped in ${Math.round(stopMs)} ms, not after the 10 s request timeout`)
  t.same(
    await outboxRow(webhookId),
    { attempts: 0, delivered: false, locked: false, due: true },
    'neither delivered nor failed: no attempt counted, no backoff, no lease left'
  )

  // The next process (the CRM answering now) sends it at once, under the same webhook-id.
  const answering = await crm(t, answers204)
  const next = new CallbackDelivery({ db, config: callbackConfig(`${answering.base}/callbacks`), log })
  t.equal(await next.deliverDue(), 1)
  t.same(
    answering.requests.map((request) => request.webhookId),
    [webhookId]
  )
  t.match(await outboxRow(webhookId), { delivered: true, attempts: 1 })
})

t.test('a redirect is a failed delivery, retried later; its target never gets the callback', async (t) => {
  await clearOutbox()
  const redirecting = await crm(t, (request, response) => {
    if (request.url === '/callbacks') response.writeHead(307, { location: '/elsewhere' }).end()
    else response.writeHead(204).end()
  })
  const url = `${redirecting.base}/callbacks`
  const webhookId = await queueCallback(url)
  const delivery = new CallbackDelivery({ db, config: callbackConfig(url), log })
  t.equal(await delivery.deliverDue(), 1)
  t.same(
    redirecting.requests.map((request) => request.path),
    ['/callbacks'],
    'the Location is not followed'
  )
  t.match(await outboxRow(webhookId), { attempts: 1, delivered: false, due: false })
  const [row] = await rows<{ last_error: string }>(
    db,
    sql`select last_error from callback_outbox where webhook_id = ${webhookId}`
  )
  t.equal(row?.last_error, 'the CRM answered 307 (redirects are not followed)')
})

t.test('on close, the worker stops claiming at once, even while a callback hangs', async (t) => {
  await clearOutbox()
  const silent = await crm(t, neverAnswers)
  const url = `${silent.base}/callbacks`
  const ran: string[] = []
  const type = uid('probe')
  const app = await build(t, database, {
    config: callbackConfig(url),
    pollIntervalMs: 20,
    jobHandlers: {
      [type]: async (job) => {
        ran.push(job.entityId)
      }
    }
  })
  await queueCallback(url)
  app.callbacks.notify()
  await eventually(async () => silent.requests.length > 0)
  // Runnable a moment after the close begins: a worker still claiming then would run it.
  const entityId = uid('late')
  await db.execute(sql`insert into jobs (type, entity_id, serial_key, run_at)
    values (${type}, ${entityId}, ${entityId}, now() + interval '300 milliseconds')`)

  const start = performance.now()
  await app.close()
  const closeMs = performance.now() - start
  t.ok(closeMs < 2_000, `closed in ${Math.round(closeMs)} ms`)
  t.same(ran, [], 'no job was claimed after the close began')
  const [job] = await rows<{ state: string }>(db, sql`select state from jobs where entity_id = ${entityId}`)
  t.equal(job?.state, 'pending', 'left for the next process')
})
