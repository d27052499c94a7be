import { sql } from 'drizzle-orm'
import t from 'tap'
import { startFakeCrm } from '../../harness/fake-crm.js'
import { callbackDelay } from '../../src/callbacks/delivery.js'
import { rows } from '../../src/db/database.js'
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

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const crm = await startFakeCrm(ROTATED_SECRET)
t.teardown(() => crm.close())
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
  crm.deliveries.filter((r) => r.type === type && r.data[key] === value)

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
  t.match(callback, {
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
  t.match(callback?.data, { activityId: activity.data.id, pipedriveActivityId: Number })
  const replica = sandbox.store.activities.find((a) => a.id === callback?.data.pipedriveActivityId)
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
  t.match(failures[0]?.data, {
    entity: 'contact',
    attempts: 1,
    dead: false,
    nextAttemptAt: String,
    error: /503/
  })
  t.match(failures[1]?.data, { entity: 'contact', attempts: 2, dead: true, nextAttemptAt: null })
})

t.test('a refused delivery is retried with the same webhook-id', async (t) => {
  crm.refuseNext(1)
  const event = contactEvent({ email: `${uid('retry')}@example.com`, organization: null })
  await postWebhook(app, event)
  const deliveries = await eventually(async () => {
    const found = callbacksFor('pipedrive.person.synced', 'contactId', event.data.id)
    return found.length >= 2 ? found : undefined
  })
  t.equal(deliveries[0]?.headers['webhook-id'], deliveries[1]?.headers['webhook-id'], 'same webhook-id')
  t.equal(deliveries[0]?.body, deliveries[1]?.body, 'same body')
  t.same(
    deliveries.map((delivery) => delivery.status),
    [500, 204],
    'refused, then accepted'
  )
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

t.test('a slow answer is waited for: one delivery, one attempt', async (t) => {
  crm.delayMs = 500
  t.teardown(() => {
    crm.delayMs = 0
  })
  const event = contactEvent({ email: `${uid('slow')}@example.com`, organization: null })
  await postWebhook(app, event)
  const [delivery] = await eventually(async () => {
    const found = callbacksFor('pipedrive.person.synced', 'contactId', event.data.id)
    return found.length > 0 ? found : undefined
  })
  const row = await eventually(async () => {
    const [found] = await rows<{ attempts: number; delivered: boolean }>(
      app.db,
      sql`select attempts, delivered_at is not null as delivered from callback_outbox
          where webhook_id = ${String(delivery?.webhookId)}`
    )
    return found?.delivered ? found : undefined
  })
  t.same(row, { attempts: 1, delivered: true })
  t.equal(callbacksFor('pipedrive.person.synced', 'contactId', event.data.id).length, 1)
})

t.test('without CRM_CALLBACK_URL nothing is written to the outbox', async (t) => {
  const quiet = await build(t, database, {
    config: sandboxConfig(sandbox),
    pollIntervalMs: 20,
    startWorker: false
  })
  const [before] = await rows<{ n: number }>(quiet.db, sql`select count(*)::int as n from callback_outbox`)
  // The other app's worker (which has a callback URL) must not take this job.
  await app.jobs.stop(5_000)
  const event = contactEvent({ email: `${uid('quiet')}@example.com` })
  await postWebhook(quiet, event)
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

t.test('every callback carried a valid signature', async (t) => {
  t.ok(crm.deliveries.length > 0)
  t.equal(crm.unverified, 0)
})
