import { sql } from 'drizzle-orm'
import t from 'tap'
import {
  activityEvent,
  build,
  contactEvent,
  postWebhook,
  TEST_OPERATOR_KEY,
  testConfig,
  testDatabase
} from '../../helper.js'

const database = await testDatabase(t)
const app = await build(t, database, {
  startWorker: false,
  config: testConfig({ OPERATOR_RATE_LIMIT: '1000' })
})
const headers = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
const contactStatus = async (id: string) => app.inject({ url: `/api/contacts/${id}/sync-status`, headers })
const activityStatus = async (id: string) => app.inject({ url: `/api/activities/${id}/sync-status`, headers })

t.test('unknown ids: 404 { success: false, error }', async (t) => {
  const contact = await contactStatus('nobody')
  t.equal(contact.statusCode, 404)
  t.same(contact.json(), { success: false, error: 'unknown contact nobody' })
  const activity = await activityStatus('nothing')
  t.equal(activity.statusCode, 404)
  t.same(activity.json(), { success: false, error: 'unknown activity nothing' })
})

t.test('contact states: not_warm, pending, retrying, dead, synced', async (t) => {
  const cold = contactEvent({ warmnessScore: 3.9 })
  await postWebhook(app, cold)
  t.same((await contactStatus(cold.data.id)).json(), {
    success: true,
    isWarmLead: false,
    state: 'not_warm',
    attempts: 0
  })

  const warm = contactEvent({ warmnessScore: 4 })
  await postWebhook(app, warm)
  t.same((await contactStatus(warm.data.id)).json(), {
    success: true,
    isWarmLead: true,
    state: 'pending',
    attempts: 0
  })

  await app.db.execute(sql`update jobs set state = 'retrying', attempts = 2, started_at = '2026-11-24T10:00:00Z',
    last_error = 'Pipedrive answered 503' where entity_id = ${warm.data.id}`)
  t.same((await contactStatus(warm.data.id)).json(), {
    success: true,
    isWarmLead: true,
    state: 'retrying',
    attempts: 2,
    lastAttempt: '2026-11-24T10:00:00.000Z',
    lastError: 'Pipedrive answered 503'
  })
  await app.db.execute(sql`update jobs set state = 'dead', attempts = 10 where entity_id = ${warm.data.id}`)
  t.match((await contactStatus(warm.data.id)).json(), { state: 'dead', attempts: 10 })

  const known = contactEvent({ pipedrivePersonId: 321 })
  await postWebhook(app, known)
  t.match((await contactStatus(known.data.id)).json(), { state: 'synced', pipedrivePersonId: '321' })
})

t.test('activity states: pending, waiting_for_person, retrying, dead, synced', async (t) => {
  const event = activityEvent()
  const id = event.data.id
  await postWebhook(app, event)
  t.same((await activityStatus(id)).json(), {
    success: true,
    synced: false,
    syncAttempts: 0,
    state: 'pending'
  })

  await app.db.execute(sql`update activities set state = 'waiting_for_person' where id = ${id}`)
  await app.db.execute(sql`update jobs set state = 'done' where entity_id = ${id}`)
  t.match((await activityStatus(id)).json(), { state: 'waiting_for_person', synced: false })

  await app.db.execute(
    sql`update jobs set state = 'retrying', last_error = 'timeout' where entity_id = ${id}`
  )
  await app.db.execute(sql`update activities set pipedrive_sync_attempts = 4,
    last_pipedrive_sync_attempt = '2026-11-24T10:00:00+02:00' where id = ${id}`)
  t.same((await activityStatus(id)).json(), {
    success: true,
    synced: false,
    syncAttempts: 4,
    lastAttempt: '2026-11-24T08:00:00.000Z',
    state: 'retrying',
    lastError: 'timeout'
  })
  await app.db.execute(sql`update jobs set state = 'dead' where entity_id = ${id}`)
  t.match((await activityStatus(id)).json(), { state: 'dead' })

  await app.db.execute(sql`update activities set replicated_to_pipedrive = true, pipedrive_activity_id = 9001,
    warning = 'activity type linkedin not in the account: used task' where id = ${id}`)
  t.same((await activityStatus(id)).json(), {
    success: true,
    synced: true,
    pipedriveActivityId: '9001',
    syncAttempts: 4,
    lastAttempt: '2026-11-24T08:00:00.000Z',
    state: 'synced',
    warning: 'activity type linkedin not in the account: used task'
  })
})
