import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { callbackDelay } from '../../src/callbacks/delivery.js'
import { decodeWebhookSecret } from '../../src/config.js'
import { rows } from '../../src/db/database.js'
import { verifyWebhook } from '../../src/webhooks/verify.js'
import {
  activityEvent,
  build,
  contactEvent,
  eventually,
  postWebhook,
  ROTATED_SECRET,
  sandboxConfig,
  testDatabase,
  testSandbox,
  uid
} from '../helper.js'

interface Received {
  headers: IncomingHttpHeaders
  body: string
  json: { type: string; timestamp: string; data: Record<string, unknown> }
}

/** A fake CRM: verifies every callback's signature and records it; can refuse the next N. */
async function fakeCrm(t: { teardown(fn: () => unknown): void }) {
  const received: Received[] = []
  const state = { refuseNext: 0 }
  const key = decodeWebhookSecret(ROTATED_SECRET) as Buffer
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      verifyWebhook({
        headers: request.headers,
        body,
        keys: [key],
        nowSeconds: Math.floor(Date.now() / 1000)
      })
      received.push({ headers: request.headers, body: body.toString(), json: JSON.parse(body.toString()) })
      if (state.refuseNext > 0) {
        state.refuseNext--
        response.writeHead(500).end()
      } else response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`, received, state }
}

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const crm = await fakeCrm(t)
const app = await build(t, database, {
  config: sandboxConfig(sandbox, {
    CRM_CALLBACK_URL: crm.url,
    CRM_CALLBACK_SECRET: ROTATED_SECRET,
    SYNC_BACKOFF_BASE_MS: '20',
    SYNC_BACKOFF_MAX_MS: '40',
    SYNC_MAX_ATTEMPTS: '2'
  }),
  pollIntervalMs: 20
})
const callbacksFor = (type: string, key: string, value: string) =>
  crm.received.filter((r) => r.json.type === type && r.json.data[key] === value)

t.test('delays double from the base, are capped, and add up to 20 % jitter', async (t) => {
  t.same(
    [1, 2, 3, 4].map((n) => callbackDelay(n, 100, 500, () => 0)),
    [100, 200, 400, 500]
  )
  t.equal(
    callbackDelay(1, 100, 500, () => 1),
    120
  )
})

t.test('a synced warm lead is announced, signed, with ids as documented', async (t) => {
  const event = contactEvent({ email: `${uid('cb')}@example.com` })
  await postWebhook(app, event)
  const [callback] = await eventually(async () => {
    const found = callbacksFor('pipedrive.person.synced', 'contactId', event.data.id)
    return found.length > 0 ? found : undefined
  })
  t.match(callback?.json, {
    type: 'pipedrive.person.synced',
    timestamp: String,
    data: { contactId: event.data.id, pipedrivePersonId: Number, pipedriveOrgId: Number }
  })
  t.match(callback?.headers['webhook-id'], /^msg_/)
})

t.test('a replicated activity is announced with its Pipedrive id', async (t) => {
  const contact = contactEvent({ email: `${uid('act')}@example.com`, organization: null })
  const activity = activityEvent({ contactId: contact.data.id })
  await postWebhook(app, contact)
  await postWebhook(app, activity)
  const [callback] = await eventually(async () => {
    const found = callbacksFor('pipedrive.activity.synced', 'activityId', activity.data.id)
    return found.length > 0 ? found : undefined
  })
  t.match(callback?.json.data, { activityId: activity.data.id, pipedriveActivityId: Number })
  const replica = sandbox.store.activities.find((a) => a.id === callback?.json.data.pipedriveActivityId)
  t.equal(replica?.subject, activity.data.subject)
})

t.test('failed rounds are announced with nextAttemptAt, the last one as dead', async (t) => {
  sandbox.faults.set({ failNext: { count: 100, status: 503, method: 'POST', path: '/api/v2/persons' } })
  t.teardown(() => sandbox.faults.clear())
  const event = contactEvent({ email: `${uid('fail')}@example.com`, organization: null })
  await postWebhook(app, event)
  const failures = await eventually(async () => {
    const found = callbacksFor('pipedrive.sync.failed', 'id', event.data.id)
    return found.length >= 2 ? found : undefined
  }, 20_000)
  t.match(failures[0]?.json.data, {
    entity: 'contact',
    attempts: 1,
    dead: false,
    nextAttemptAt: String,
    error: /503/
  })
  t.match(failures[1]?.json.data, { entity: 'contact', attempts: 2, dead: true, nextAttemptAt: null })
})

t.test('a refused delivery is retried with the same webhook-id', async (t) => {
  crm.state.refuseNext = 1
  const event = contactEvent({ email: `${uid('retry')}@example.com`, organization: null })
  await postWebhook(app, event)
  const deliveries = await eventually(async () => {
    const found = callbacksFor('pipedrive.person.synced', 'contactId', event.data.id)
    return found.length >= 2 ? found : undefined
  })
  t.equal(deliveries[0]?.headers['webhook-id'], deliveries[1]?.headers['webhook-id'], 'same webhook-id')
  t.equal(deliveries[0]?.body, deliveries[1]?.body, 'same body')
  // The CRM has the second delivery before the service has read its answer and recorded it.
  const row = await eventually(async () => {
    const [found] = await rows<{ attempts: number; delivered: boolean }>(
      app.db,
      sql`select attempts, delivered_at is not null as delivered from callback_outbox
          where webhook_id = ${String(deliveries[0]?.headers['webhook-id'])}`
    )
    return found?.delivered ? found : undefined
  })
  t.same(row, { attempts: 2, delivered: true })
})

t.test('without CRM_CALLBACK_URL nothing is written to the outbox', async (t) => {
  const quiet = await build(t, database, {
    config: sandboxConfig(sandbox),
    pollIntervalMs: 20,
    startWorker: false
  })
  const [before] = await rows<{ n: number }>(quiet.db, sql`select count(*)::int as n from callback_outbox`)
  const event = contactEvent({ email: `${uid('quiet')}@example.com` })
  await postWebhook(quiet, event)
  await app.jobs.stop(5_000)
  await quiet.jobs.start()
  await eventually(async () => {
    const [job] = await rows<{ state: string }>(
      quiet.db,
      sql`select state from jobs where entity_id = ${event.data.id}`
    )
    return job?.state === 'done'
  })
  const [after] = await rows<{ n: number }>(quiet.db, sql`select count(*)::int as n from callback_outbox`)
  t.equal(after?.n, before?.n)
})
